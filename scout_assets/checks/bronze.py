"""Bronze's checks, judged per ingestion batch in the step that ingests: exact re-uploads
among its files (informational: about half of all files are re-uploads), its quarantine rate,
the uniqueness of the keys it wrote (blocking: bronze has no key constraints), and
transactions whose time is still unknown."""

from __future__ import annotations

from scout_assets.checks import names
from scout_assets.checks.verdicts import ERROR, INFO, OK, Verdict, above, percent
from scout_assets.sql_files import sql_text

ITEMS = "bronze/payload_items"
FILES = "bronze/file_manifest"
QUARANTINE = "bronze/quarantine"
PAYLOADS = "bronze/payload_transactions"


def judge_batch(con, batch_id: str | None) -> list[Verdict]:
    """The bronze verdicts for ``batch_id`` (None: nothing ingested yet)."""
    if batch_id is None:
        none = "no transaction or interaction file ingested yet"
        verdicts = [
            Verdict(names.EXACT_DUPLICATE_FILES, FILES, "batch", INFO, none),
            Verdict(names.QUARANTINE_RATE, QUARANTINE, "batch", OK, none),
            Verdict(names.BRONZE_KEYS_UNIQUE, ITEMS, "batch", OK, none),
        ]
    else:
        figures = con.execute(sql_text("checks/batch_figures.sql"), {"batch_id": batch_id})
        batch = figures.to_arrow_table().to_pylist()[0]
        duplicate_rate = percent(batch["duplicate_files"], batch["files"])
        read = batch["payloads"] + batch["interactions"] + batch["quarantined_records"]
        quarantine_rate = percent(batch["quarantined_records"], read)
        verdicts = [
            Verdict(names.EXACT_DUPLICATE_FILES, FILES, "batch", INFO,
                    f"{duplicate_rate or 0:.1f}% of batch {batch_id}'s {batch['files']} files "
                    "are exact re-uploads (informational)",
                    {"batch_id": batch_id, "rate_percent": duplicate_rate, **batch}),
            Verdict(names.QUARANTINE_RATE, QUARANTINE, "batch",
                    above(quarantine_rate, names.QUARANTINE_WARN, names.QUARANTINE_ERROR)
                    if read >= names.QUARANTINE_MIN_RECORDS else INFO,
                    f"{quarantine_rate or 0:.2f}% of batch {batch_id}'s {read} records "
                    f"quarantined ({batch['quarantined_files']} whole files)",
                    {"batch_id": batch_id, "rate_percent": quarantine_rate, **batch}),
            _keys_unique(con, batch_id),
        ]  # fmt: skip
    unplaced = con.execute(sql_text("checks/unplaced.sql")).to_arrow_table().to_pylist()[0]
    rate = percent(unplaced["unplaced"], unplaced["transactions"])
    verdicts.append(Verdict(
        names.UNPLACED_TRANSACTIONS, PAYLOADS, "all",
        above(rate, names.UNPLACED_WARN, names.UNPLACED_ERROR)
        if unplaced["transactions"] >= names.RATE_MIN_SAMPLE else INFO,
        f"{unplaced['unplaced']} of {unplaced['transactions']} transactions have no time yet"
        + (f" (e.g. {unplaced['examples']})" if unplaced["examples"] else ""),
        {"unplaced": unplaced["unplaced"], "transactions": unplaced["transactions"],
         "rate_percent": rate},
    ))  # fmt: skip
    return verdicts


def _keys_unique(con, batch_id: str) -> Verdict:
    """The keys batch ``batch_id`` wrote are each held once (bronze_keys.sql)."""
    sql = sql_text("checks/bronze_keys.sql")
    repeats = con.execute(sql, {"batch_id": batch_id}).to_arrow_table().to_pylist()[0]
    found = {name: count for name, count in repeats.items() if count}
    described = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in found.items())
    return Verdict(
        names.BRONZE_KEYS_UNIQUE, ITEMS, "batch", ERROR if found else OK,
        f"batch {batch_id}: {described}" if found
        else f"batch {batch_id}: every manifest entry, delivery and item is held once",
        {"batch_id": batch_id, **repeats},
    )  # fmt: skip


def judged_batch(con, run_id: str) -> str | None:
    """This run's batch when it ingested files, else the latest batch that did."""
    own = con.execute(
        "select count(*) from audit.FileManifest where batch_id = ? "
        "and file_path not like 'supplements/%'", [run_id]
    ).fetchone()[0]  # fmt: skip
    if own:
        return run_id
    row = con.execute(sql_text("checks/latest_batch.sql")).fetchone()
    return row[0] if row else None
