"""Roll back an ingestion batch: as if the warehouse had never seen the batch's deliveries.

In one transaction (a crash or SIGKILL at any point leaves the warehouse as it was):

1. the derived rows of every transaction the batch touched, in reverse dependency order
   (platinum, gold, silver: the monthly tables of the asset graph, by ``canonical_tx_id``;
   aggregate tables without one lose the affected months);
2. content the batch delivered that a later batch delivered again (recorded there as a
   duplicate file) passes to that later copy, as if it had loaded it;
3. the batch's other bronze rows marked: payloads and interaction deliveries
   ``processing_status = 'rollback'`` with the reason, files ``status = 'rollback'`` (the same
   listing entries are not read again, but their content delivered again loads); items no
   live payload has left are removed;
4. the touched interactions derived again from their remaining deliveries, the touched
   transactions' times resolved again, brand answers only the batch needed forgotten;
5. the affected months (where the transactions were, and where they fall now) queued in
   ``audit.PendingMonths`` (reason 'rollback'), the rollback in ``audit.Rollbacks`` and its
   ``audit.ETLProcessingLog`` row.

Then the months are rebuilt: by `scout rollback` right away, by the month-rebuild sensor after
the Dagster job. Supplement workbooks are reference data, rebuilt from the Drive: remove the
workbook instead.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import dagster as dg

from scout_assets.checks.verdicts import month_label
from scout_assets.constants import GOLD, MONTH_COLUMN, PLATINUM, SILVER, WAREHOUSE_POOL
from scout_assets.error_classes import OPERATOR, OperatorError
from scout_assets.errors import ERROR_CLASS_KEY
from scout_assets.models import MODELS
from scout_assets.month_queue import queue_months
from scout_assets.operations.journal import record_new_entries
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse, bind
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_now, manila_text

DERIVED_GROUPS = (SILVER, GOLD, PLATINUM)
REASON = "rollback"


class RollbackError(OperatorError, ValueError):
    """A rollback that cannot be done (unknown batch, already rolled back, no reason): the
    operator's to correct, never an alert."""


@dataclass
class RollbackOutcome:
    batch_id: str
    reason: str
    payloads: int = 0
    interactions: int = 0
    files: int = 0
    transactions: int = 0
    months: list[date] = field(default_factory=list)
    rows_removed: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        months = ", ".join(month_label(m) for m in self.months) or "none"
        return (
            f"batch {self.batch_id} rolled back ({self.reason}): {self.payloads} payloads, "
            f"{self.interactions} interactions, {self.files} files, {self.transactions} "
            f"transactions touched; {sum(self.rows_removed.values())} derived rows removed; "
            f"months to rebuild: {months}"
        )


def derived_tables() -> list[str]:
    """The monthly silver/gold/platinum tables, in dependency (= declaration) order."""
    return [m.table for m in MODELS if m.layer in DERIVED_GROUPS and m.monthly]


def _has_column(con, table: str, column: str) -> bool:
    schema, _, name = table.partition(".")
    return bool(con.execute(
        "select count(*) from information_schema.columns "
        "where table_schema = ? and table_name = ? and column_name = ?", [schema, name, column],
    ).fetchone()[0])  # fmt: skip


def _months(con, model: str) -> set[date]:
    return {row[0] for row in con.execute(sql_text(model)).fetchall()}


def rollback_batch(
    warehouse: DuckDBWarehouse,
    batch_id: str,
    reason: str | None,
    tables: Sequence[str],
    rollback_id: str,
    log=None,
    now: datetime | None = None,
) -> RollbackOutcome:
    """Take batch ``batch_id`` out of the warehouse in one transaction; ``tables`` are the
    derived monthly tables in dependency order (``derived_tables``). A replay (`scout
    restore`) passes the ``now`` the rollback first ran with."""
    reason = (reason or "").strip()
    if not reason:
        raise RollbackError("a rollback needs a reason (--reason)")
    outcome = RollbackOutcome(batch_id, reason)
    audit = AuditEntry("operations.rollback", rollback_id, partition_key=batch_id)
    with warehouse.session():
        # The time is taken holding the warehouse's lock, so rollbacks and batches are timed
        # in the order they commit (the journal replays them in that order).
        params = {"batch_id": batch_id, "reason": reason, "now": now or manila_now()}
        # Checked before the write transaction too: a refused rollback leaves no trace at all.
        with warehouse.connection() as con:
            _check_batch(con, outcome, params)
        with warehouse.transaction(audit) as tx:
            _take_out(tx, outcome, params, tables)
        record_new_entries(warehouse)  # still holding the lock, like every journal write
    if log:
        log.info(outcome.summary())
    return outcome


def _check_batch(con, outcome: RollbackOutcome, params: dict) -> None:
    """Refuse a batch that was rolled back already or that the warehouse does not know."""
    batch_id = outcome.batch_id
    done = con.execute(
        "select rolled_back_at from audit.Rollbacks where batch_id = ?", [batch_id]
    ).fetchone()
    if done:
        raise RollbackError(f"batch {batch_id} was already rolled back at {manila_text(done[0])}")
    found_sql = sql_text("operations/rollback_batch.sql")
    found = con.execute(found_sql, bind(found_sql, params)).fetchone()
    outcome.payloads, outcome.interactions, outcome.files, supplements = found
    if not (outcome.payloads or outcome.interactions or outcome.files):
        detail = (
            f" (it only loaded {supplements} supplement workbook(s): reference data is "
            "rebuilt from the Drive, remove the workbook instead)"
            if supplements
            else ""
        )
        raise RollbackError(f"unknown batch {batch_id}: no file, payload or interaction of the "
                            f"warehouse has that batch id{detail}")  # fmt: skip


def _take_out(tx, outcome: RollbackOutcome, params: dict, tables: Sequence[str]) -> None:
    """Steps 1-5 of the module docstring, inside ``tx``."""
    con = tx.con
    _check_batch(con, outcome, params)
    # Registered Arrow, not temp tables: DuckDB 1.5 lost big inserts into a table created in
    # the same transaction.
    touched = _select(con, "operations/rollback_touched.sql", params)
    con.register("touched_transactions", touched)
    con.register(
        "touched_interactions", _select(con, "operations/rollback_touched_interactions.sql", params)
    )
    con.register("promotions", _select(con, "operations/rollback_promotions.sql", params))
    try:
        outcome.transactions = touched.num_rows
        months = _months(con, "operations/rollback_built_months.sql")
        months |= _months(con, "bronze/touched_months.sql")
        for table in reversed(tables):
            if _has_column(con, table, "canonical_tx_id"):
                sql = (f"delete from {table} where canonical_tx_id in "
                       "(select canonical_tx_id from touched_transactions)")  # fmt: skip
                removed = tx.rowcount(sql)
            else:
                removed = tx.rowcount(
                    f"delete from {table} where {MONTH_COLUMN} = any($months)",
                    {"months": sorted(months)},
                )
            outcome.rows_removed[table] = removed

        tx.execute(sql_text("operations/rollback_promote.sql"))
        for model in ("rollback_payloads", "rollback_interactions", "rollback_files",
                      "rollback_items"):  # fmt: skip
            tx.execute(sql_text(f"operations/{model}.sql"), params)
        tx.execute(sql_text("bronze/current_interactions.sql"))
        tx.execute(sql_text("bronze/resolve_late_timestamps.sql"))
        tx.execute(sql_text("operations/rollback_brand_cache.sql"))
        months |= _months(con, "bronze/touched_months.sql")
    finally:
        for name in ("touched_transactions", "touched_interactions", "promotions"):
            con.unregister(name)
    outcome.months = sorted(months)

    queue_months(con, outcome.months, REASON, outcome.batch_id, params["now"])
    con.execute(
        "insert into audit.Rollbacks values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [outcome.batch_id, outcome.reason, params["now"], tx.audit.batch_id,
         ", ".join(month_label(m) for m in outcome.months), outcome.payloads,
         outcome.interactions, outcome.files, outcome.transactions],
    )  # fmt: skip
    tx.audit.count(outcome.payloads + outcome.interactions)


def _select(con, model: str, params: dict):
    sql = sql_text(model)
    return con.execute(sql, bind(sql, params)).to_arrow_table()


class RollbackConfig(dg.Config):
    """Which batch (the Dagster run id of its ingestion) and why."""

    batch_id: str
    reason: str


@dg.op(pool=WAREHOUSE_POOL, description="Roll back one ingestion batch (see scout rollback).")
def rollback_batch_op(context: dg.OpExecutionContext, config: RollbackConfig,
                      warehouse: DuckDBWarehouse) -> None:  # fmt: skip
    """Takes the batch out in one transaction and queues its months; the month-rebuild
    sensor rebuilds them."""
    try:
        outcome = rollback_batch(
            warehouse, config.batch_id, config.reason,
            derived_tables(), context.run.run_id, context.log,
        )  # fmt: skip
    except RollbackError as error:
        # A mistyped batch id or a missing reason: the run fails saying so, classed as the
        # operator's error so that the alert sensor does not page anyone for it.
        raise dg.Failure(
            description=f"operator error, nothing was changed: {error}",
            metadata={ERROR_CLASS_KEY: OPERATOR},
            allow_retries=False,
        ) from error
    context.add_output_metadata(
        {
            "payloads": outcome.payloads,
            "interactions": outcome.interactions,
            "files": outcome.files,
            "transactions": outcome.transactions,
            "months": ", ".join(month_label(m) for m in outcome.months) or "none",
            "rows_removed": dg.MetadataValue.json(outcome.rows_removed),
        }
    )


@dg.job(
    name="rollback_batch",
    description="Remove everything derived from an ingestion batch, mark its bronze rows "
    "rolled back with the reason, and queue its months for rebuilding.",
)
def rollback_job():
    rollback_batch_op()
