"""Bulk load into Azure SQL / SQL Server: mssql-python's bulk copy, then a partition SWITCH.

The bulk-copy API of ``mssql-python`` streams Arrow buffers into TDS bulk-load packets from
its own session, so it can only fill a *committed* staging table; the swap is then one short
transaction. One unit, on one pyodbc session:

1. take the object's application lock, owned by the session (held through staging and swap;
   released when the session ends, also by a kill), and drop stages a killed publish left;
2. create the stage in schema ``scout_stage`` and commit it. Where the target is partitioned on
   ``ps_scout_month``: ``<stage>_new`` and ``<stage>_old``, built from the target's own DDL
   (same columns in the target's order, same partitioning, same indexes), as SWITCH requires;
   else a heap with the target's columns;
3. bulk copy the rows into the stage (mssql-python, batches of ``chunk_rows``, table lock);
4. one transaction: per month ``SWITCH`` the target's partition out to ``<stage>_old`` and the
   staged partition in (metadata only: no row is copied or logged twice), or delete and
   ``insert ... select`` from the stage; the ``audit.PublishLog`` and
   ``audit.ETLProcessingLog`` rows; commit;
5. drop the stages and release the lock.

A kill before the commit leaves the target as it was (the server rolls the transaction back)
and stages that the next unit of the object drops.

No SQL Server engine runs where this project is developed: these statements are unit-tested
as recorded and parsed T-SQL, never executed on a server (docs/PUBLISHING.md).
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import TYPE_CHECKING

from scout_assets.constants import MONTH_COLUMN

if TYPE_CHECKING:
    from scout_assets.resources.odbc_warehouse import (
        OdbcWarehouse,
        ProgressCallback,
        TargetColumn,
        UnitWrite,
    )

STAGE_SCHEMA = "scout_stage"
PARTITION_FUNCTION = "pf_scout_month"
PARTITION_SCHEME = "ps_scout_month"

IS_PARTITIONED = (
    "select count(*) from sys.indexes as i"
    " join sys.partition_schemes as s on s.data_space_id = i.data_space_id"
    f" where i.object_id = object_id(?) and i.index_id in (0, 1) and s.name = N'{PARTITION_SCHEME}'"
)
LEFTOVER_STAGES = (
    "select t.name from sys.tables as t"
    f" where t.schema_id = schema_id(N'{STAGE_SCHEMA}') and t.name like ?"
)


def stage_prefix(table: str) -> str:
    return table.replace(".", "_") + "__"


def stage_name(table: str) -> str:
    return f"{stage_prefix(table)}{uuid.uuid4().hex[:12]}"


def switch_month(table: str, new: str, old: str) -> str:
    """Swap one month (``?``): the target's partition out to ``old``, ``new``'s in."""
    return (
        f"declare @p int = $partition.{PARTITION_FUNCTION}(?);\n"
        f"alter table {table} switch partition @p to {old} partition @p;\n"
        f"alter table {new} switch partition @p to {table} partition @p;"
    )


def write_unit(
    warehouse: OdbcWarehouse,
    unit: UnitWrite,
    columns: dict[str, TargetColumn],
    on_progress: ProgressCallback | None = None,
) -> int:
    """Write ``unit`` by bulk copy and swap (see the module docstring); rows written."""
    from scout_assets.resources.odbc_warehouse import MSSQL

    total = unit.rows.num_rows
    with warehouse.connection() as con:
        cursor = con.cursor()
        try:
            new, old = _stage(con, warehouse, unit, columns)
        except BaseException as error:  # nothing swapped yet: log the months failed
            with suppress(Exception):
                con.rollback()
            warehouse.log_failure(con, unit.audits, error)
            raise
        if on_progress is not None:
            on_progress("staged", total, total)
        with warehouse.transaction(unit.audits, con) as tx:
            if old is not None:
                for month in unit.months:
                    tx.execute(switch_month(unit.table, new, old), [month])
            else:
                _replace_from_stage(tx, warehouse, unit, new)
            _record(tx, warehouse, unit)
            if on_progress is not None:
                on_progress("swapped", total, total)
        for stage in (new, old):
            if stage is not None:
                cursor.execute(f"drop table if exists {stage}")
        con.commit()
        cursor.execute(MSSQL.unlock(), unit.lock_name)
        con.commit()
    return total


def _stage(
    con, warehouse: OdbcWarehouse, unit: UnitWrite, columns: dict[str, TargetColumn]
) -> tuple[str, str | None]:
    """Lock the object, drop leftover stages, create this unit's and bulk copy the rows into
    it: (stage, retired partitions' table or None when the target is not partitioned)."""
    from scout_assets.resources.odbc_warehouse import MSSQL
    from scout_assets.serving import ddl

    cursor = con.cursor()
    cursor.execute(MSSQL.lock(), unit.lock_name)
    _drop_stages(cursor, unit.table)
    con.commit()
    cursor.execute(IS_PARTITIONED, unit.table)
    partitioned = unit.mode == "months" and int(cursor.fetchall()[0][0]) > 0
    name = f"{STAGE_SCHEMA}.{stage_name(unit.table)}"
    new, old = f"{name}_new", f"{name}_old" if partitioned else None
    if old is not None:
        order = [column.name for column in columns.values()]
        for stage in (new, old):
            for batch in ddl.mssql_stage_batches(unit.table, stage, order):
                cursor.execute(batch)
    else:
        names = warehouse.sql.column_list(unit.rows.column_names)
        cursor.execute(f"select top 0 {names} into {new} from {unit.table}")
    con.commit()
    bulk_copy(warehouse, new, unit)
    return new, old


def _drop_stages(cursor, table: str) -> None:
    """Drop stages of ``table`` left by a killed publish (the caller holds its lock)."""
    prefix = stage_prefix(table).replace("_", "[_]")
    cursor.execute(LEFTOVER_STAGES, f"{prefix}%")
    for (name,) in cursor.fetchall():
        cursor.execute(f"drop table if exists {STAGE_SCHEMA}.[{name.replace(']', ']]')}]")


def _replace_from_stage(tx, warehouse: OdbcWarehouse, unit: UnitWrite, stage: str) -> None:
    """Where the target is not partitioned (whole tables, logs, a DBA's own table)."""
    sql = warehouse.sql
    if unit.mode == "months" and unit.months:
        marks = ", ".join("?" * len(unit.months))
        tx.execute(
            f"delete from {unit.table} where {sql.ident(MONTH_COLUMN)} in ({marks})",
            list(unit.months),
        )
    elif unit.mode == "all":
        tx.execute(f"delete from {unit.table}")
    names = sql.column_list(unit.rows.column_names)
    tx.execute(f"insert into {unit.table} ({names}) select {names} from {stage}")


def _record(tx, warehouse: OdbcWarehouse, unit: UnitWrite) -> None:
    """The unit's audit.PublishLog rows replace the ones it supersedes."""
    if not unit.publish_log:
        return
    names = list(unit.publish_log[0])
    insert = (
        f"insert into audit.PublishLog ({warehouse.sql.column_list(names)})"
        f" values ({', '.join('?' * len(names))})"
    )
    for row in unit.publish_log:
        tx.execute(
            "delete from audit.PublishLog where object_name = ? and partition_key = ?",
            [row["object_name"], row["partition_key"]],
        )
        tx.execute(insert, [row[name] for name in names])


def bulk_connection_string(warehouse: OdbcWarehouse) -> str:
    """mssql-python's connection string (it picks its bundled driver itself)."""
    from scout_assets.resources.odbc_warehouse import _odbc_value

    host = warehouse.host
    if "," not in host:
        host = f"tcp:{host},{warehouse.port or 1433}"
    parts = {
        "Server": host,
        "Database": warehouse.database,
        "UID": warehouse.user,
        "PWD": warehouse.password,
        "Encrypt": "yes" if warehouse.encrypt else "no",
        "TrustServerCertificate": "yes" if warehouse.trust_server_certificate else "no",
    }
    text = ";".join(f"{key}={_odbc_value(value)}" for key, value in parts.items())
    return f"{text};{warehouse.odbc_extra}" if warehouse.odbc_extra else text


def bulk_copy(warehouse: OdbcWarehouse, stage: str, unit: UnitWrite) -> None:
    """Stream the unit's Arrow rows into the committed ``stage`` (columns mapped by name)."""
    import mssql_python

    con = mssql_python.connect(
        bulk_connection_string(warehouse), timeout=warehouse.connect_timeout_seconds
    )
    try:
        cursor = con.cursor()
        cursor.bulkcopy_arrow(
            stage,
            unit.rows,
            batch_size=warehouse.chunk_rows,
            timeout=0,  # a big month may take longer than any fixed limit
            column_mappings=list(unit.rows.column_names),
            table_lock=True,  # the stage is this unit's alone
            keep_nulls=True,
        )
    finally:
        con.close()
