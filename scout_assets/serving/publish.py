"""Publishing: copy every served object from DuckDB to the serving warehouse, atomically.

Monthly objects move as units of changed months: all the changed months of an object in one
target transaction, up to ``UNIT_ROWS`` rows a unit (bounded memory on a long backfill).
Reference tables and platinum monitors move whole; ``audit.ETLProcessingLog`` only sends rows
it has not sent before. Each unit is one target transaction holding the rows, the unit's
``audit.PublishLog`` rows (one per month) and its ``audit.ETLProcessingLog`` rows (one per
month), so a kill at any point leaves the previous good state and the next publish completes
the work.

A month is skipped when its DuckDB content fingerprint equals the one recorded in
``audit.PublishLog`` and the target still holds the recorded number of rows: re-publishing an
unchanged month moves no rows. What the target holds (its columns, its PublishLog) is read
once per publish, not once per month.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from scout_assets.constants import MONTH_COLUMN
from scout_assets.partitions import month_of_key, partition_key
from scout_assets.resources.odbc_warehouse import (
    OdbcWarehouse,
    ProgressCallback,
    SchemaDrift,
    TargetColumn,
    UnitWrite,
    WriteMode,
)
from scout_assets.resources.warehouse import AuditEntry, DuckDBWarehouse
from scout_assets.row_ids import MAX_ROW_ID, row_id_at
from scout_assets.serving import ddl, migrations
from scout_assets.serving.objects import (
    PUBLISH_LOG,
    PUBLISHER_TABLES,
    SERVED_BY_TABLE,
    SERVED_OBJECTS,
    WHOLE_TABLE,
    ServedObject,
    TableModel,
    duckdb_models,
)
from scout_assets.time import manila_now

# How long a lake worker's log row may take from its number to its commit (a commit retried
# after a conflict numbers its row again).
SETTLED_SECONDS = 60

Log = Callable[[str], None]

# Rows of one publishing unit at most: a unit's rows are held in memory as Arrow.
UNIT_ROWS = 500_000


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


# Content fingerprint of rows: order-independent, from DuckDB's 64-bit hash of each whole row
# (NULL is not the text 'NULL'; decimals and timestamps hash exactly): the sum and the xor of
# the row hashes. A tenth of the cost of hashing each row's JSON text with md5; a DuckDB
# upgrade that changed hash() would only republish everything once.
_FINGERPRINT = """
select {group} count(*) as row_count,
       coalesce(sum(row_hash)::varchar || '-' || bit_xor(row_hash)::varchar, '') as fingerprint
from (select {group} hash(_row) as row_hash from {table} as _row {where})
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
        self._columns: dict[str, dict[str, TargetColumn]] = {}

    # -- before any data moves ------------------------------------------------------------

    def prepare(self) -> None:
        """Migrate the target's schema, create what is missing (idempotent DDL from
        ``sql/<dialect>``), then stop with every difference listed if a target table drifted
        from the model. The target's columns are kept for the units. The DuckDB file takes
        its current shape too (an older warehouse is migrated on first open)."""
        with self.source.connection():
            pass
        ran = migrations.apply(self.target)
        for migration in ran:
            self.log(f"{self.target.describe()}: schema migration {migration.version} "
                     f"({migration.name}) applied")  # fmt: skip
        self.target.run_script(ddl.committed_batches(self.target.dialect))
        self.target.schema_changed()
        problems = []
        with self.target.connection() as con:
            cursor = con.cursor()
            for model in [*self.models.values(), *PUBLISHER_TABLES]:
                columns = self.target.target_columns(model.table, cursor)
                self._columns[model.table] = columns
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

    def _published(self) -> dict[str, dict[str, tuple[str, int]]]:
        """``audit.PublishLog`` by object, then partition key: (fingerprint, rows)."""
        log = self.sql.table(PUBLISH_LOG.table)
        rows = self.target.fetch(
            f"select object_name, partition_key, fingerprint, row_count from {log}"
        )
        published: dict[str, dict[str, tuple[str, int]]] = {}
        for table, key, fingerprint, count in rows:
            published.setdefault(table, {})[key] = (fingerprint, int(count))
        return published

    def _target_counts(self, table: str, keys: Sequence[str]) -> dict[str, int]:
        """Rows the target holds for ``keys`` (months, or the whole table)."""
        if not keys:
            return {}
        name = self.sql.table(table)
        if keys == [WHOLE_TABLE]:
            return {WHOLE_TABLE: int(self.target.fetch(f"select count(*) from {name}")[0][0])}
        month = self.sql.ident(MONTH_COLUMN)
        marks = ", ".join("?" * len(keys))
        rows = self.target.fetch(
            f"select {month}, count(*) from {name} where {month} in ({marks}) group by {month}",
            [month_of_key(key) for key in keys],
        )
        return {partition_key(month): int(count) for month, count in rows}

    def _changed(
        self, table: str, states: dict[str, SourceState], published: dict[str, tuple[str, int]]
    ) -> list[str]:
        """Keys whose content differs from what was published (or whose target rows went)."""
        same = [key for key, state in states.items()
                if published.get(key) == (state.fingerprint, state.rows)]  # fmt: skip
        counts = self._target_counts(table, same)
        return sorted(
            key for key, state in states.items()
            if key not in same or counts.get(key, 0) != state.rows
        )  # fmt: skip

    def _columns_of(self, table: str) -> dict[str, TargetColumn]:
        if table not in self._columns:  # prepare() was not called: read them now
            self._columns[table] = self.target.target_columns(table)
        return self._columns[table]

    # -- publishing ---------------------------------------------------------------------------

    def publish_months(
        self,
        first: date | None = None,
        last: date | None = None,
        tables: Sequence[str] | None = None,
    ) -> list[Outcome]:
        """Every changed month of every monthly object in ``[first, last]``."""
        with self.source.session():  # one open of the DuckDB file for every read
            return self._publish_months(first, last, tables)

    def _publish_months(
        self, first: date | None, last: date | None, tables: Sequence[str] | None
    ) -> list[Outcome]:
        outcomes = []
        published = self._published()
        for served, model in self.served(monthly=True):
            if tables and served.table not in tables:
                continue
            states = _source_states(self.source, served.table, True, first, last)
            done = published.get(served.table, {})
            # A month that emptied in DuckDB but was published before is published empty.
            for key, (_fp, rows) in done.items():
                if key != WHOLE_TABLE and key not in states and rows and _within(key, first, last):
                    states[key] = SourceState(0, "")
            changed = self._changed(served.table, states, done)
            by_key = {key: Outcome(served.table, key, "unchanged", 0, 0.0) for key in states}
            for keys in _units(changed, states):
                for outcome in self._months_unit(served, model, keys, states):
                    by_key[outcome.partition_key] = outcome
            outcomes += [by_key[key] for key in sorted(by_key)]
        return outcomes

    def publish_tables(self, tables: Sequence[str] | None = None) -> list[Outcome]:
        """Every whole table whose content changed, and the new rows of append-only logs."""
        with self.source.session():
            return self._publish_tables(tables)

    def _publish_tables(self, tables: Sequence[str] | None) -> list[Outcome]:
        outcomes = []
        published = self._published()
        for served, model in self.served(monthly=False):
            if tables and served.table not in tables:
                continue
            done = published.get(served.table, {})
            if served.append_only:
                outcomes.append(self._append_new(served, model, done))
                continue
            states = _source_states(self.source, served.table, False, None, None)
            if not self._changed(served.table, states, done):
                outcomes.append(Outcome(served.table, WHOLE_TABLE, "unchanged", 0, 0.0))
                continue
            started = time.perf_counter()
            columns = ", ".join(f'"{c}"' for c in model.published_columns)
            rows = self.source.query(f"select {columns} from {served.table}")
            state = states[WHOLE_TABLE]
            self._write(served, model, "all", rows, {WHOLE_TABLE: SourceState(rows.num_rows,
                        state.fingerprint)})  # fmt: skip
            seconds = round(time.perf_counter() - started, 3)
            self.log(f"{served.table}: {rows.num_rows:,} rows published in {seconds:.1f} s")
            outcomes.append(Outcome(served.table, WHOLE_TABLE, "published", rows.num_rows, seconds))
        return outcomes

    def _months_unit(
        self,
        served: ServedObject,
        model: TableModel,
        keys: list[str],
        states: dict[str, SourceState],
    ) -> list[Outcome]:
        """Publish ``keys`` (changed months) of ``served`` in one unit."""
        started = time.perf_counter()
        months = [month_of_key(key) for key in keys]
        self.target.prepare_months(months)
        columns = ", ".join(f'"{c}"' for c in model.published_columns)
        marks = ", ".join("?" * len(months))
        rows = self.source.query(
            f"select {columns} from {served.table} where {MONTH_COLUMN} in ({marks})", months
        )
        # Count what was read (DuckDB may have moved on since the fingerprint: the next
        # publish then sees a new fingerprint and sends the month again).
        counts = _rows_per_month(rows)
        written = {key: SourceState(counts.get(key, 0), states[key].fingerprint) for key in keys}
        self._write(served, model, "months", rows, written, tuple(months))
        seconds = time.perf_counter() - started
        span = keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]} ({len(keys)} months)"
        self.log(f"{served.table} {span}: {rows.num_rows:,} rows published in {seconds:.1f} s")
        total = max(rows.num_rows, 1)
        return [
            Outcome(served.table, key, "published", written[key].rows,
                    round(seconds * max(written[key].rows, 1) / total, 3))
            for key in keys
        ]  # fmt: skip

    def _append_new(
        self, served: ServedObject, model: TableModel, done: dict[str, tuple[str, int]]
    ) -> Outcome:
        """Send the log rows written since the last publish (the warehouse's log_id is the
        watermark). From a lake, only rows numbered SETTLED_SECONDS ago or earlier: a worker
        numbers its row just before its commit, so a smaller id may still be committing
        while a larger one is visible, and a watermark past it would skip it for ever."""
        started = time.perf_counter()
        identity = next(c.name for c in model.columns if c.identity)
        fingerprint, previous_rows = done.get(WHOLE_TABLE, ("0", 0))
        watermark = int(fingerprint or 0)
        columns = ", ".join(f'"{c}"' for c in [identity, *model.published_columns])
        rows = self.source.query(
            f"select {columns} from {served.table} where {identity} > ? and {identity} < ? "
            f"order by {identity}",
            [watermark, row_id_at(SETTLED_SECONDS) if self.source.lake else MAX_ROW_ID],
        )
        if rows.num_rows == 0:
            return Outcome(served.table, WHOLE_TABLE, "unchanged", 0, 0.0)
        last = max(rows.column(identity).to_pylist())
        new_rows = rows.drop_columns([identity])
        state = SourceState(previous_rows + rows.num_rows, str(last))
        self._write(served, model, "append", new_rows, {WHOLE_TABLE: state})
        self.log(f"{served.table}: {new_rows.num_rows:,} new log rows published")
        return Outcome(served.table, WHOLE_TABLE, "appended", new_rows.num_rows,
                       round(time.perf_counter() - started, 3))  # fmt: skip

    def _write(
        self,
        served: ServedObject,
        model: TableModel,
        mode: WriteMode,
        rows: pa.Table,
        states: dict[str, SourceState],
        months: tuple[date, ...] = (),
    ) -> int:
        """One unit on the target, retried from the start when it fails transiently: the
        rows, a PublishLog row and an ETLProcessingLog row per key."""
        attempts = 0

        def unit() -> int:
            nonlocal attempts
            now = manila_now()
            audits = []
            for key, state in states.items():
                audit = AuditEntry(
                    process_name=f"serving.publish {served.table}",
                    batch_id=self.batch_id,
                    partition_key=None if key == WHOLE_TABLE else key,
                    retry_count=attempts,
                )
                audit.count(rows.num_rows if mode == "append" else state.rows)
                audits.append(audit)
            attempts += 1
            write = UnitWrite(
                table=served.table,
                mode=mode,
                rows=rows,
                months=months,
                publish_log=[
                    {
                        "object_name": served.table,
                        "partition_key": key,
                        "fingerprint": state.fingerprint,
                        "row_count": state.rows,
                        "batch_id": self.batch_id,
                        "published_at": now,
                    }
                    for key, state in states.items()
                ],  # fmt: skip
                audits=audits,
                key_columns=model.primary_key,
            )
            return self.target.write_unit(write, self._columns_of(served.table), self.on_progress)

        keys = list(states)
        span = keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"
        return self.target.run_with_retries(f"publish {served.table} {span} to", unit)


def _units(keys: list[str], states: dict[str, SourceState]) -> Iterator[list[str]]:
    """Changed months, in order, grouped into units of at most ``UNIT_ROWS`` rows (a month
    larger than that is a unit of its own)."""
    unit: list[str] = []
    rows = 0
    for key in keys:
        if unit and rows + states[key].rows > UNIT_ROWS:
            yield unit
            unit, rows = [], 0
        unit.append(key)
        rows += states[key].rows
    if unit:
        yield unit


def _rows_per_month(rows: pa.Table) -> dict[str, int]:
    if rows.num_rows == 0:
        return {}
    counts = pc.value_counts(rows.column(MONTH_COLUMN))
    return {partition_key(item["values"]): item["counts"] for item in counts.to_pylist()}


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
