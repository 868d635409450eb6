"""Publishing: copy every served object from DuckDB to the serving warehouse, atomically.

Monthly objects move one (object, month) at a time; reference tables and platinum monitors move
whole; ``audit.ETLProcessingLog`` only sends rows it has not sent before. Each unit is one target
transaction holding the rows, the unit's ``audit.PublishLog`` row and its
``audit.ETLProcessingLog`` row, so a kill at any point leaves the previous good state and the
next publish completes the work.

A unit is skipped when its DuckDB content fingerprint equals the one recorded in
``audit.PublishLog`` and the target still holds the recorded number of rows: re-publishing an
unchanged month moves no rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from scout_assets.constants import MONTH_COLUMN
from scout_assets.partitions import partition_key
from scout_assets.resources.odbc_warehouse import (
    OdbcTransaction,
    OdbcWarehouse,
    ProgressCallback,
    SchemaDrift,
)
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.serving import ddl
from scout_assets.serving.objects import (
    PUBLISH_LOG,
    SERVED_BY_TABLE,
    SERVED_OBJECTS,
    WHOLE_TABLE,
    ServedObject,
    TableModel,
    duckdb_models,
)
from scout_assets.time import manila_now

Log = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """What happened to one (object, month) or one whole table."""

    table: str
    partition_key: str  # YYYY-MM-DD, or 'all'
    status: str  # published / unchanged / appended
    rows: int
    seconds: float


@dataclass(frozen=True)
class SourceState:
    rows: int
    fingerprint: str


# Content fingerprint of rows: order-independent (hash per row, sorted, hashed again). to_json
# tells NULL from the text 'NULL' and keeps decimals and timestamps exact.
_FINGERPRINT = """
select {group} count(*) as row_count,
       coalesce(md5(string_agg(row_hash, '' order by row_hash)), '') as fingerprint
from (select {group} md5(to_json(_row)::varchar) as row_hash from {table} as _row {where})
{group_by}
"""


def _source_states(
    source: DuckDBWarehouse, table: str, monthly: bool, first: date | None, last: date | None
) -> dict[str, SourceState]:
    where, params = "", []
    if monthly and (first or last):
        where = f"where {MONTH_COLUMN} between ? and ?"
        params = [first or date.min, last or date.max]
    group = f"{MONTH_COLUMN}," if monthly else ""
    sql = _FINGERPRINT.format(
        group=group,
        table=table,
        where=where,
        group_by=f"group by {MONTH_COLUMN}" if monthly else "",
    )
    rows = source.query(sql, params).to_pylist()
    if not monthly:
        row = rows[0]
        return {WHOLE_TABLE: SourceState(row["row_count"], row["fingerprint"])}
    return {
        partition_key(row[MONTH_COLUMN]): SourceState(row["row_count"], row["fingerprint"])
        for row in rows
    }


class Publisher:
    """Copies served objects from ``source`` (DuckDB) to ``target`` (SQL Server / PostgreSQL)."""

    def __init__(
        self,
        source: DuckDBWarehouse,
        target: OdbcWarehouse,
        batch_id: str,
        log: Log = lambda message: None,
        on_progress: ProgressCallback | None = None,
        models: dict[str, TableModel] | None = None,
    ):
        self.source = source
        self.target = target
        self.sql = target.sql
        self.batch_id = batch_id
        self.log = log
        self.on_progress = on_progress
        self.models = duckdb_models() if models is None else models

    # -- before any data moves ------------------------------------------------------------

    def prepare(self) -> None:
        """Create what is missing on the target (idempotent DDL from ``sql/<dialect>``), then
        stop with every difference listed if a target table drifted from the model."""
        self.target.run_script(ddl.committed_batches(self.target.dialect))
        problems = []
        with self.target.connection() as con:
            cursor = con.cursor()
            for model in [*self.models.values(), PUBLISH_LOG]:
                columns = self.target.target_columns(model.table, cursor)
                served = SERVED_BY_TABLE.get(model.table)
                problems += ddl.drift(model, served, self.target.dialect, columns)
        if problems:
            raise SchemaDrift(
                f"{len(problems)} difference(s) between the model and {self.target.describe()}; "
                "nothing was published. Fix the target (or regenerate and apply the DDL):\n  - "
                + "\n  - ".join(problems)
            )

    def served(self, monthly: bool) -> list[tuple[ServedObject, TableModel]]:
        """Served objects the DuckDB DDL defines, monthly or not."""
        missing = [s.table for s in SERVED_OBJECTS if s.table not in self.models]
        if missing:
            self.log(f"not in the DuckDB DDL yet, not published: {', '.join(missing)}")
        return [
            (s, self.models[s.table])
            for s in SERVED_OBJECTS
            if s.monthly == monthly and s.table in self.models
        ]

    # -- what the target holds --------------------------------------------------------------

    def _published(self, table: str) -> dict[str, tuple[str, int]]:
        log = self.sql.table(PUBLISH_LOG.table)
        rows = self.target.fetch(
            f"select partition_key, fingerprint, row_count from {log} where object_name = ?",
            [table],
        )
        return {key: (fingerprint, int(count)) for key, fingerprint, count in rows}

    def _target_counts(self, table: str, monthly: bool) -> dict[str, int]:
        name = self.sql.table(table)
        if not monthly:
            return {WHOLE_TABLE: int(self.target.fetch(f"select count(*) from {name}")[0][0])}
        month = self.sql.ident(MONTH_COLUMN)
        rows = self.target.fetch(f"select {month}, count(*) from {name} group by {month}")
        return {partition_key(month): int(count) for month, count in rows}

    # -- publishing ---------------------------------------------------------------------------

    def publish_months(
        self,
        first: date | None = None,
        last: date | None = None,
        tables: Sequence[str] | None = None,
    ) -> list[Outcome]:
        """Every changed month of every monthly object in ``[first, last]``."""
        outcomes = []
        for served, model in self.served(monthly=True):
            if tables and served.table not in tables:
                continue
            states = _source_states(self.source, served.table, True, first, last)
            published = self._published(served.table)
            counts = self._target_counts(served.table, True)
            # A month that emptied in DuckDB but was published before is published empty.
            for key, (_fp, rows) in published.items():
                if key != WHOLE_TABLE and key not in states and rows and _within(key, first, last):
                    states[key] = SourceState(0, "")
            for key in sorted(states):
                outcomes.append(self._unit(served, model, key, states[key], published, counts))
        return outcomes

    def publish_tables(self, tables: Sequence[str] | None = None) -> list[Outcome]:
        """Every whole table whose content changed, and the new rows of append-only logs."""
        outcomes = []
        for served, model in self.served(monthly=False):
            if tables and served.table not in tables:
                continue
            if served.append_only:
                outcomes.append(self._append_new(served, model))
                continue
            state = _source_states(self.source, served.table, False, None, None)[WHOLE_TABLE]
            published = self._published(served.table)
            counts = self._target_counts(served.table, False)
            outcomes.append(self._unit(served, model, WHOLE_TABLE, state, published, counts))
        return outcomes

    def _unit(
        self,
        served: ServedObject,
        model: TableModel,
        key: str,
        state: SourceState,
        published: dict,
        counts: dict,
    ) -> Outcome:
        started = time.perf_counter()
        if (
            published.get(key) == (state.fingerprint, state.rows)
            and counts.get(key, 0) == state.rows
        ):
            return Outcome(served.table, key, "unchanged", 0, 0.0)
        columns = ", ".join(f'"{c}"' for c in model.published_columns)
        if served.monthly:
            month = date.fromisoformat(key)
            self.target.prepare_month(month)
            rows = self.source.query(
                f"select {columns} from {served.table} where {MONTH_COLUMN} = ?", [month]
            )

            def write(tx: OdbcTransaction) -> int:
                return tx.replace_months(
                    served.table, [month], rows, MONTH_COLUMN, keys=model.primary_key
                )
        else:
            rows = self.source.query(f"select {columns} from {served.table}")

            def write(tx: OdbcTransaction) -> int:
                return tx.replace_all(served.table, rows, keys=model.primary_key)

        written = self._commit(served.table, key, state.fingerprint, state.rows, write)
        outcome = Outcome(
            served.table, key, "published", written, round(time.perf_counter() - started, 3)
        )
        self.log(f"{served.table} {key}: {written:,} rows published in {outcome.seconds:.1f} s")
        return outcome

    def _append_new(self, served: ServedObject, model: TableModel) -> Outcome:
        """Send the log rows written since the last publish (DuckDB's log_id is the watermark)."""
        started = time.perf_counter()
        identity = next(c.name for c in model.columns if c.identity)
        fingerprint, previous_rows = self._published(served.table).get(WHOLE_TABLE, ("0", 0))
        watermark = int(fingerprint)
        columns = ", ".join(f'"{c}"' for c in [identity, *model.published_columns])
        rows = self.source.query(
            f"select {columns} from {served.table} where {identity} > ? order by {identity}",
            [watermark],
        )
        if rows.num_rows == 0:
            return Outcome(served.table, WHOLE_TABLE, "unchanged", 0, 0.0)
        last = max(rows.column(identity).to_pylist())
        new_rows = rows.drop_columns([identity])

        def write(tx: OdbcTransaction) -> int:
            return tx.append(served.table, new_rows, keys=())

        written = self._commit(
            served.table, WHOLE_TABLE, str(last), previous_rows + rows.num_rows, write
        )
        self.log(f"{served.table}: {written:,} new log rows published")
        return Outcome(
            served.table, WHOLE_TABLE, "appended", written, round(time.perf_counter() - started, 3)
        )

    def _commit(
        self,
        table: str,
        key: str,
        fingerprint: str,
        row_count: int,
        write: Callable[[OdbcTransaction], int],
    ) -> int:
        """One target transaction: the rows, the PublishLog row and the ETLProcessingLog row.
        Retried from the start when it fails transiently."""
        attempts = []

        def unit() -> int:
            audit = AuditEntry(
                process_name=f"serving.publish {table}",
                batch_id=self.batch_id,
                partition_key=None if key == WHOLE_TABLE else key,
                retry_count=len(attempts),
            )
            attempts.append(audit)
            with self.target.transaction(audit, self.on_progress) as tx:
                tx.lock(f"scout.publish {table}")
                written = write(tx)
                self._record(tx, table, key, fingerprint, row_count)
                audit.count(written)
            return written

        return self.target.run_with_retries(f"publish {table} {key} to", unit)

    def _record(
        self, tx: OdbcTransaction, table: str, key: str, fingerprint: str, rows: int
    ) -> None:
        log = self.sql.table(PUBLISH_LOG.table)
        tx.execute(f"delete from {log} where object_name = ? and partition_key = ?", [table, key])
        columns = self.sql.column_list([c.name for c in PUBLISH_LOG.columns])
        tx.execute(
            f"insert into {log} ({columns}) values (?, ?, ?, ?, ?, ?)",
            [table, key, fingerprint, rows, self.batch_id, manila_now()],
        )


def _within(key: str, first: date | None, last: date | None) -> bool:
    month = date.fromisoformat(key)
    return (first is None or month >= first) and (last is None or month <= last)


def publish(
    source: DuckDBWarehouse,
    target: OdbcWarehouse,
    batch_id: str,
    first: date | None = None,
    last: date | None = None,
    months: bool = True,
    tables: bool = True,
    log: Log = lambda message: None,
    on_progress: ProgressCallback | None = None,
) -> list[Outcome]:
    """Prepare the target, then publish changed months (in ``[first, last]``) and tables."""
    publisher = Publisher(source, target, batch_id, log, on_progress)
    publisher.prepare()
    outcomes = publisher.publish_months(first, last) if months else []
    return outcomes + (publisher.publish_tables() if tables else [])


def summary(outcomes: Sequence[Outcome]) -> pa.Table:
    """Rows published per object (for metadata and the CLI)."""
    by_table: dict[str, dict] = {}
    for o in outcomes:
        entry = by_table.setdefault(
            o.table,
            {
                "object": o.table,
                "units_published": 0,
                "units_unchanged": 0,
                "rows": 0,
                "seconds": 0.0,
            },
        )
        entry["units_unchanged" if o.status == "unchanged" else "units_published"] += 1
        entry["rows"] += o.rows
        entry["seconds"] = round(entry["seconds"] + o.seconds, 3)
    return pa.Table.from_pylist(list(by_table.values()))
