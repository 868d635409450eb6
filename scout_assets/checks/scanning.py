"""Checks that scan the warehouse after the fact (``@asset_check``), as opposed to silver's,
which are judged inside the transaction that writes a month.

- bronze, per ingestion batch: exact re-uploads among its files (informational: about half of
  all files are re-uploads), its quarantine rate, and transactions whose time is still unknown;
- every served object: its columns and types in the warehouse equal its DDL in ``sql/ddl`` (an
  existing warehouse file keeps old columns when the DDL changes: ``create table if not
  exists`` does not alter). A broken schema is an ERROR.

Gold and platinum reconciliation is ``scout_assets/gold/checks.py``.
"""


import dagster as dg

from scout_assets.checks import names
from scout_assets.checks.verdicts import (
    ERROR,
    INFO,
    OK,
    Verdict,
    above,
    asset_label,
    check_result,
    percent,
    record_verdicts,
)
from scout_assets.constants import BRONZE, WAREHOUSE_POOL
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.serving.objects import SERVED_OBJECTS, duckdb_models
from scout_assets.sql_files import sql_text

FILE_MANIFEST_KEY = dg.AssetKey([BRONZE, "file_manifest"])
QUARANTINE_KEY = dg.AssetKey([BRONZE, "quarantine"])
PAYLOADS_KEY = dg.AssetKey([BRONZE, "payload_transactions"])

BATCH_SPECS = [
    dg.AssetCheckSpec(
        names.EXACT_DUPLICATE_FILES, asset=FILE_MANIFEST_KEY,
        description="Share of the latest batch's files that are exact re-uploads of known "
        "content. Informational: about half of all files being re-uploads is normal.",
    ),
    dg.AssetCheckSpec(
        names.QUARANTINE_RATE, asset=QUARANTINE_KEY,
        description="Records of the latest batch quarantined, per 100 records read: WARN "
        "above 2%, ERROR above 5% (batches under 100 records are only reported).",
    ),
    dg.AssetCheckSpec(
        names.UNPLACED_TRANSACTIONS, asset=PAYLOADS_KEY,
        description="Transactions whose time is still unknown (no month yet), per 100 "
        "transactions: WARN above 1%, ERROR above 5%.",
    ),
]  # fmt: skip


def judge_batch(con, batch_id: str | None) -> list[Verdict]:
    """The bronze verdicts for ``batch_id`` (None: nothing ingested yet)."""
    files_asset, quarantine_asset = asset_label(FILE_MANIFEST_KEY), asset_label(QUARANTINE_KEY)
    if batch_id is None:
        none = "no transaction or interaction file ingested yet"
        verdicts = [Verdict(names.EXACT_DUPLICATE_FILES, files_asset, "batch", INFO, none),
                    Verdict(names.QUARANTINE_RATE, quarantine_asset, "batch", OK, none)]
    else:
        figures = con.execute(sql_text("checks/batch_figures.sql"), {"batch_id": batch_id})
        batch = figures.to_arrow_table().to_pylist()[0]
        duplicate_rate = percent(batch["duplicate_files"], batch["files"])
        read = batch["payloads"] + batch["interactions"] + batch["quarantined_records"]
        quarantine_rate = percent(batch["quarantined_records"], read)
        verdicts = [
            Verdict(names.EXACT_DUPLICATE_FILES, files_asset, "batch", INFO,
                    f"{duplicate_rate or 0:.1f}% of batch {batch_id}'s {batch['files']} files "
                    "are exact re-uploads (informational)",
                    {"batch_id": batch_id, "rate_percent": duplicate_rate, **batch}),
            Verdict(names.QUARANTINE_RATE, quarantine_asset, "batch",
                    above(quarantine_rate, names.QUARANTINE_WARN, names.QUARANTINE_ERROR)
                    if read >= names.QUARANTINE_MIN_RECORDS else INFO,
                    f"{quarantine_rate or 0:.2f}% of batch {batch_id}'s {read} records "
                    f"quarantined ({batch['quarantined_files']} whole files)",
                    {"batch_id": batch_id, "rate_percent": quarantine_rate, **batch}),
        ]  # fmt: skip
    unplaced = con.execute(sql_text("checks/unplaced.sql")).to_arrow_table().to_pylist()[0]
    rate = percent(unplaced["unplaced"], unplaced["transactions"])
    verdicts.append(Verdict(
        names.UNPLACED_TRANSACTIONS, asset_label(PAYLOADS_KEY), "all",
        above(rate, names.UNPLACED_WARN, names.UNPLACED_ERROR)
        if unplaced["transactions"] >= names.RATE_MIN_SAMPLE else INFO,
        f"{unplaced['unplaced']} of {unplaced['transactions']} transactions have no time yet"
        + (f" (e.g. {unplaced['examples']})" if unplaced["examples"] else ""),
        {"unplaced": unplaced["unplaced"], "transactions": unplaced["transactions"],
         "rate_percent": rate},
    ))  # fmt: skip
    return verdicts


def _judged_batch(con, run_id: str) -> str | None:
    """This run's batch when it ingested files, else the latest batch that did."""
    own = con.execute(
        "select count(*) from audit.FileManifest where batch_id = ? "
        "and file_path not like 'supplements/%'", [run_id]
    ).fetchone()[0]  # fmt: skip
    if own:
        return run_id
    row = con.execute(sql_text("checks/latest_batch.sql")).fetchone()
    return row[0] if row else None


def _results(context, verdicts: list[Verdict]):
    selected = {key.name for key in context.selected_asset_check_keys}
    for verdict in verdicts:
        if verdict.check_name in selected:
            yield check_result(verdict.check_name, [verdict], dg.AssetKey(verdict.asset.split("/")))


@dg.multi_asset_check(
    specs=BATCH_SPECS, can_subset=True, pool=WAREHOUSE_POOL, name="bronze_batch"
)
def bronze_batch_checks(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
    """The latest ingestion batch: re-uploads, quarantine rate; and unplaced transactions."""
    with warehouse.connection() as con:
        verdicts = judge_batch(con, _judged_batch(con, context.run.run_id))
        record_verdicts(con, verdicts, context.run.run_id)
    yield from _results(context, verdicts)


# -- schema of every served object -------------------------------------------------------------

SCHEMA_SPECS = [
    dg.AssetCheckSpec(
        names.SCHEMA, asset=dg.AssetKey(list(served.asset)),
        description=f"{served.table} has the columns and types of sql/ddl/{served.table}.sql "
        "(ERROR: a broken schema is critical).",
        metadata={"warehouse_table": served.table},
    )
    for served in SERVED_OBJECTS
    if served.asset is not None
]
_TABLE_BY_ASSET = {asset_label(spec.asset_key): spec.metadata["warehouse_table"]
                   for spec in SCHEMA_SPECS}  # fmt: skip


def judge_schema(con, table: str, asset: str) -> Verdict:
    """The warehouse's columns of ``table`` against its DDL: missing, extra, retyped."""
    model = duckdb_models().get(table)
    schema, _, name = table.partition(".")
    actual = dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, name],
    ).fetchall())  # fmt: skip
    if model is None:
        return Verdict(names.SCHEMA, asset, table, INFO, "no DDL file yet", {"table": table})
    expected = {c.name: c.duck_type for c in model.columns}
    missing = sorted(expected.keys() - actual.keys())
    extra = sorted(actual.keys() - expected.keys())
    retyped = sorted(
        f"{c} {actual[c]} (DDL {expected[c]})"
        for c in expected.keys() & actual.keys() if actual[c] != expected[c]
    )  # fmt: skip
    problems = [f"missing {', '.join(missing)}"] if missing else []
    problems += [f"not in the DDL {', '.join(extra)}"] if extra else []
    problems += [f"retyped {', '.join(retyped)}"] if retyped else []
    if not actual:
        problems = ["table missing"]
    return Verdict(
        names.SCHEMA, asset, table, ERROR if problems else OK,
        "; ".join(problems) or f"{len(expected)} columns as in the DDL",
        {"table": table, "columns": len(actual), "missing": len(missing), "extra": len(extra),
         "retyped": len(retyped)},
    )  # fmt: skip


@dg.multi_asset_check(
    specs=SCHEMA_SPECS, can_subset=True, pool=WAREHOUSE_POOL, name="served_schemas"
)
def served_schemas(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse):
    """Columns and types of every served object (of this run) against sql/ddl."""
    with warehouse.connection() as con:
        verdicts = [
            judge_schema(con, _TABLE_BY_ASSET[asset_label(key.asset_key)],
                         asset_label(key.asset_key))
            for key in sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key)
        ]  # fmt: skip
        record_verdicts(con, verdicts, context.run.run_id)
    for verdict in verdicts:
        yield check_result(verdict.check_name, [verdict], dg.AssetKey(verdict.asset.split("/")))


checks = [bronze_batch_checks, served_schemas]
