"""Target DDL, generated from the DuckDB models: ``sql/mssql/*.sql`` and ``sql/postgres/*.sql``.

One object per file, like ``sql/ddl``. Regenerate with ``scout ddl`` whenever a DuckDB DDL file
of a served object changes; a test fails while the committed files differ from this output, so
drift shows up in review.

Type mapping (DuckDB -> SQL Server / PostgreSQL): money stays decimal(p,s); timestamps become
datetime2(6) / timestamp (microseconds, like DuckDB); text becomes nvarchar(n) / varchar(n) where
a length is known and nvarchar(max) / text otherwise. Lengths are known for identifiers and
codes (``TEXT_LENGTHS``); key and index columns get ``KEY_TEXT_LENGTH`` because SQL Server cannot
index nvarchar(max); unbounded text in columnstore tables gets ``COLUMNSTORE_TEXT_LENGTH`` so it
stays in the compressed segments instead of off-row LOB storage. PostgreSQL gets the same
lengths, so a value that would not fit SQL Server is caught on PostgreSQL too.

Hand-written parts for SQL Server live in the templates below: the monthly partition function
and scheme, the seed's indexes, and clustered columnstore on gold and platinum tables.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from scout_assets.constants import MONTH_COLUMN
from scout_assets.partitions import DEFAULT_PARTITION_START, months_in_range
from scout_assets.resources.odbc_warehouse import DIALECTS, TargetColumn
from scout_assets.serving.objects import (
    PUBLISHER_TABLES,
    SERVED_BY_TABLE,
    ServedObject,
    TableModel,
    duckdb_models,
)
from scout_assets.sql_files import sql_folder

DIALECT_NAMES = ("mssql", "postgres")

KEY_TEXT_LENGTH = 200
COLUMNSTORE_TEXT_LENGTH = 4000
TEXT_LENGTHS = {
    "canonical_tx_id": 64,
    "transaction_id": 100,
    "interaction_id": 100,
    "device_id": 64,
    "deviceid": 64,
    "payload_hash": 64,
    "file_hash": 64,
    "etl_batch_id": 64,
    "processing_batch_id": 64,
    "batch_id": 64,
    "partition_key": 32,
    "process_name": 200,
    "status": 32,
    "object_name": 128,
    "fingerprint": 64,
    "daypart": 16,
    "weekday_weekend": 16,
    "ts_source": 16,
    "processing_status": 16,
    "basket_size": 16,
    "brand_match_method": 32,
    "region_code": 32,
    "region": 100,
    "currency": 8,
    "payment_method": 50,
}

# The seed's indexes (the production T-SQL's IX_* on these tables), by object.
INDEXES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "dbo.Transactions": [
        ("IX_Tx_Canonical", ("canonical_tx_id",)),
        ("IX_Tx_Store_Ts", ("store_id", "txn_ts")),
    ],
    "dbo.TransactionItems": [
        ("IX_TxItems_Canonical", ("canonical_tx_id",)),
        ("IX_TxItems_Brand", ("brand_detected",)),
        ("IX_TxItems_Category", ("nielsen_category",)),
    ],
    "dbo.BrandSubstitutions": [
        ("IX_BrandSub_Transaction", ("canonical_tx_id",)),
        ("IX_BrandSub_Brands", ("original_brand", "substitute_brand")),
    ],
    "dbo.TransactionBaskets": [
        ("IX_Basket_Value", ("basket_value",)),
        ("IX_Basket_Size", ("item_count",)),
    ],
    "dbo.Stores": [("IX_Stores_Device", ("DeviceID",))],
    "audit.ETLProcessingLog": [
        ("IX_ETL_Process", ("process_name",)),
        ("IX_ETL_Timestamp", ("start_time",)),
        ("IX_ETL_Status", ("status",)),
    ],
}

PARTITION_FUNCTION = "pf_scout_month"
PARTITION_SCHEME = "ps_scout_month"
PARTITION_LAST = "2030-12-01"  # later months get their boundary when first published


class DdlError(ValueError):
    """A DuckDB column the target dialects cannot hold as modelled."""


@dataclass(frozen=True)
class TargetType:
    """A column type on the target, comparable with ``information_schema.columns``."""

    name: str  # as information_schema names it
    length: int | None = None  # text: characters, -1 = unbounded
    precision: int | None = None
    scale: int | None = None

    def sql(self, dialect: str) -> str:
        if self.length is not None:
            if dialect == "mssql":
                return f"nvarchar({'max' if self.length == -1 else self.length})"
            return "text" if self.length == -1 else f"varchar({self.length})"
        if self.name in ("decimal", "numeric"):
            return f"{self.name}({self.precision}, {self.scale})"
        return {
            "datetime2": "datetime2(6)",
            "timestamp without time zone": "timestamp",
            "timestamp with time zone": "timestamptz",
        }.get(self.name, self.name)

    def matches(self, column: TargetColumn) -> bool:
        if self.length is not None:
            if self.length == -1:  # PostgreSQL reports text as unbounded, SQL Server max as -1
                return column.data_type in ("nvarchar", "text") and column.max_length in (-1, None)
            expected = "nvarchar" if column.data_type == "nvarchar" else "character varying"
            return column.data_type == expected and column.max_length == self.length
        if self.name in ("decimal", "numeric"):
            return (column.data_type, column.precision, column.scale) == (
                self.name,
                self.precision,
                self.scale,
            )
        return column.data_type == self.name


SIMPLE_TYPES = {
    #  DuckDB          SQL Server        PostgreSQL (information_schema names)
    "INTEGER": ("int", "integer"),
    "BIGINT": ("bigint", "bigint"),
    "SMALLINT": ("smallint", "smallint"),
    "TINYINT": ("smallint", "smallint"),  # DuckDB's is signed; SQL Server's tinyint is not
    "DOUBLE": ("float", "double precision"),
    "FLOAT": ("real", "real"),
    "BOOLEAN": ("bit", "boolean"),
    "DATE": ("date", "date"),
    "TIMESTAMP": ("datetime2", "timestamp without time zone"),
    "TIMESTAMP WITH TIME ZONE": ("datetimeoffset", "timestamp with time zone"),
}


def index_columns(model: TableModel) -> set[str]:
    """Columns that appear in an index key (they cannot be unbounded text on SQL Server)."""
    names = set(model.primary_key)
    for _name, columns in INDEXES.get(model.table, []):
        names.update(columns)
    if SERVED_BY_TABLE.get(model.table, None) and SERVED_BY_TABLE[model.table].monthly:
        names.add(MONTH_COLUMN)
    return {n.lower() for n in names}


def target_type(
    model: TableModel, served: ServedObject | None, name: str, dialect: str
) -> TargetType:
    column = model.column(name)
    duck = column.duck_type.upper()
    if duck == "VARCHAR":
        length = TEXT_LENGTHS.get(name.lower())
        if length is None and name.lower() in index_columns(model):
            length = KEY_TEXT_LENGTH
        if length is None and served is not None and served.columnstore:
            length = COLUMNSTORE_TEXT_LENGTH
        return TargetType(
            "nvarchar" if dialect == "mssql" else "character varying",
            length=length if length is not None else -1,
        )
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck)
    if decimal:
        precision, scale = int(decimal.group(1)), int(decimal.group(2))
        return TargetType("decimal" if dialect == "mssql" else "numeric", None, precision, scale)
    if duck == "HUGEINT":
        return TargetType("decimal" if dialect == "mssql" else "numeric", None, 38, 0)
    if duck in SIMPLE_TYPES:
        return TargetType(SIMPLE_TYPES[duck][DIALECT_NAMES.index(dialect)])
    raise DdlError(
        f"{model.table}.{name}: DuckDB type {column.duck_type} has no mapping to {dialect} "
        "(add one in scout_assets/serving/ddl.py)"
    )


def target_key(model: TableModel, served: ServedObject | None) -> tuple[str, ...]:
    """The primary key on the target: monthly tables lead with the month, so one month can be
    replaced (and, on SQL Server, partitioned) independently of the others."""
    if not model.primary_key:
        return ()
    if served is not None and served.monthly and MONTH_COLUMN not in model.primary_key:
        return (MONTH_COLUMN, *model.primary_key)
    return model.primary_key


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _header(model: TableModel, dialect: str) -> str:
    lines = [model.description] if model.description else []
    lines.append(
        f"-- Generated by `scout ddl --dialect {dialect}` from {model.source}: do not edit;"
        " change the source and regenerate."
    )
    return "\n".join(lines) + "\n"


def _column_lines(
    model: TableModel, served: ServedObject | None, dialect: str
) -> list[tuple[str, str]]:
    sql = DIALECTS[dialect]
    lines = []
    for column in model.columns:
        kind = target_type(model, served, column.name, dialect).sql(dialect)
        if column.identity:
            kind += " identity(1, 1)" if dialect == "mssql" else " generated by default as identity"
        lines.append((sql.ident(column.name), kind + ("" if column.nullable else " not null")))
    return lines


def _aligned(lines: list[tuple[str, str]], indent: str) -> list[str]:
    width = max(len(name) for name, _ in lines)
    return [f"{indent}{name.ljust(width)}  {kind}" for name, kind in lines]


def render_mssql(model: TableModel, served: ServedObject | None, table: str | None = None) -> str:
    """The T-SQL DDL of ``model``, as ``table`` when given (a publishing stage)."""
    sql = DIALECTS["mssql"]
    header = _header(model, "mssql") if table is None else ""
    table = table or model.table
    short = table.split(".")[1]
    monthly = served is not None and served.monthly
    columnstore = served is not None and served.columnstore
    on_scheme = f" on {PARTITION_SCHEME} ([{MONTH_COLUMN}])" if monthly else ""
    body = _aligned(_column_lines(model, served, "mssql"), "        ")
    key = target_key(model, served)
    if key:
        kind = "nonclustered" if columnstore else "clustered"
        body.append(f"        constraint PK_{short} primary key {kind} ({sql.column_list(key)})")
    parts = [
        header,
        f"if object_id(N'{table}', N'U') is null\nbegin\n"
        f"    create table {table} (\n" + ",\n".join(body) + f"\n    ){on_scheme};\nend\ngo\n",
    ]
    indexes = list(INDEXES.get(model.table, []))
    if columnstore:
        parts.append(
            _mssql_index(
                table,
                f"CCI_{short}",
                f"create clustered columnstore index CCI_{short} on {table}{on_scheme}",
            )
        )
    elif monthly and not key:
        parts.append(
            _mssql_index(
                table,
                f"CIX_{short}",
                f"create clustered index CIX_{short} on {table} ([{MONTH_COLUMN}]){on_scheme}",
            )
        )
    for name, columns in indexes:
        _check_index(model, name, columns)
        parts.append(
            _mssql_index(
                table,
                name,
                f"create index {name} on {table} ({sql.column_list(columns)}){on_scheme}",
            )
        )
    return "".join(parts)


def mssql_stage_batches(table: str, stage: str, column_order: Sequence[str]) -> list[str]:
    """DDL of a publishing stage that SQL Server can SWITCH partitions with ``table``: the
    model's columns in the order the target holds them (a migrated table may have added some
    at its end), the same partitioning and the same indexes."""
    model = duckdb_models()[table]
    position = {name.lower(): index for index, name in enumerate(column_order)}
    ordered = sorted(model.columns, key=lambda c: position.get(c.name.lower(), len(position)))
    staged = replace(model, columns=tuple(ordered))
    return batches("mssql", render_mssql(staged, SERVED_BY_TABLE[table], stage))


def _mssql_index(table: str, name: str, statement: str) -> str:
    return (
        f"if not exists (select 1 from sys.indexes where name = N'{name}'"
        f" and object_id = object_id(N'{table}'))\nbegin\n    {statement};\nend\ngo\n"
    )


def _check_index(model: TableModel, name: str, columns: tuple[str, ...]) -> None:
    known = {c.name.lower() for c in model.columns}
    missing = [c for c in columns if c.lower() not in known]
    if missing:
        raise DdlError(f"index {name} on {model.table} names missing column(s) {missing}")


def render_postgres(model: TableModel, served: ServedObject | None) -> str:
    sql = DIALECTS["postgres"]
    table = sql.table(model.table)
    body = _aligned(_column_lines(model, served, "postgres"), "    ")
    key = target_key(model, served)
    if key:
        body.append(f"    primary key ({sql.column_list(key)})")
    parts = [
        _header(model, "postgres"),
        f"create table if not exists {table} (\n" + ",\n".join(body) + "\n);\n",
    ]
    indexes = list(INDEXES.get(model.table, []))
    if served is not None and served.monthly and (not key or key[0] != MONTH_COLUMN):
        indexes.insert(0, (f"IX_{model.table.split('.')[1]}_month", (MONTH_COLUMN,)))
    for name, columns in indexes:
        _check_index(model, name, columns)
        parts.append(
            f"create index if not exists {sql.ident(name)} on {table}"
            f" ({sql.column_list(columns)});\n"
        )
    return "".join(parts)


def render_schemas(dialect: str) -> str:
    header = (
        "-- The consumers' schemas: dbo (served objects), ref (reference maps), audit (logs).\n"
    )
    if dialect == "postgres":
        return header + "".join(
            f"create schema if not exists {s};\n" for s in ("dbo", "ref", "audit")
        )
    return (
        header
        + "-- scout_stage holds the publisher's bulk-copy stages while a unit runs.\n"
        + "".join(
            f"if schema_id(N'{s}') is null\nbegin\n"
            f"    exec sp_executesql N'create schema {s}';\nend\ngo\n"
            for s in ("ref", "audit", "scout_stage")
        )
    )


def partition_boundaries() -> list[date]:
    return months_in_range(DEFAULT_PARTITION_START, PARTITION_LAST)


def render_partitioning() -> str:
    values = [f"'{month.isoformat()}'" for month in partition_boundaries()]
    rows = [", ".join(values[i : i + 6]) for i in range(0, len(values), 6)]
    joined = ",\n        ".join(rows)
    return (
        "-- One partition per month (range right on the month's first day), shared by every\n"
        "-- monthly table; publishing a month past the last boundary splits a new one first.\n"
        "if not exists (select 1 from sys.partition_functions"
        f" where name = N'{PARTITION_FUNCTION}')\nbegin\n"
        f"    create partition function {PARTITION_FUNCTION} (date)"
        " as range right for values (\n"
        f"        {joined}\n    );\nend\ngo\n"
        f"if not exists (select 1 from sys.partition_schemes where name = N'{PARTITION_SCHEME}')\n"
        f"begin\n    create partition scheme {PARTITION_SCHEME} as partition {PARTITION_FUNCTION}"
        " all to ([primary]);\nend\ngo\n"
    )


def render(dialect: str, models: dict[str, TableModel] | None = None) -> dict[str, str]:
    """Every DDL file of ``dialect``: file name -> text (run in name order)."""
    if dialect not in DIALECT_NAMES:
        raise ValueError(f"unknown dialect {dialect!r}: choose from {', '.join(DIALECT_NAMES)}")
    models = duckdb_models() if models is None else models
    files = {"000_schemas.sql": render_schemas(dialect)}
    if dialect == "mssql":
        files["001_partitioning.sql"] = render_partitioning()
    renderer = render_mssql if dialect == "mssql" else render_postgres
    for table, model in {**models, **{m.table: m for m in PUBLISHER_TABLES}}.items():
        files[f"{table}.sql"] = renderer(model, SERVED_BY_TABLE.get(table))
    return files


def ddl_dir(dialect: str) -> Path:
    return sql_folder(dialect)


def in_a_checkout() -> bool:
    """Whether the package is the source tree of a checkout (not an installed copy, which
    `write` must not change)."""
    return (ddl_dir("mssql").parents[2] / "pyproject.toml").is_file()


def write(dialect: str) -> list[Path]:
    """Regenerate ``sql/<dialect>/``: write every file, remove files no longer generated."""
    folder = ddl_dir(dialect)
    folder.mkdir(parents=True, exist_ok=True)
    files = render(dialect)
    for stale in folder.glob("*.sql"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def differences(dialect: str) -> list[str]:
    """How the committed ``sql/<dialect>/`` differs from the generator's output (empty: same)."""
    folder = ddl_dir(dialect)
    files = render(dialect)
    committed = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.sql")}
    problems = [f"sql/{dialect}/{n} is missing" for n in files if n not in committed]
    problems += [
        f"sql/{dialect}/{n} is not generated any more" for n in committed if n not in files
    ]
    problems += [
        f"sql/{dialect}/{n} differs from the generator's output"
        for n, text in files.items()
        if n in committed and committed[n] != text
    ]
    return problems


def batches(dialect: str, text: str) -> list[str]:
    """The statements of a DDL file as the server must receive them (T-SQL: split on ``go``)."""
    if dialect == "mssql":
        parts = re.split(r"^\s*go\s*$", text, flags=re.IGNORECASE | re.MULTILINE)
    else:
        parts = [text]
    return [part.strip() for part in parts if _has_code(part)]


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


def committed_batches(dialect: str) -> list[str]:
    """Every batch of the committed ``sql/<dialect>/`` files, in the order they run."""
    return [
        batch
        for path in sorted(ddl_dir(dialect).glob("*.sql"))
        for batch in batches(dialect, path.read_text(encoding="utf-8"))
    ]


def drift(
    model: TableModel, served: ServedObject | None, dialect: str, columns: dict[str, TargetColumn]
) -> list[str]:
    """How a target table's columns differ from the model (empty: they match)."""
    if not columns:
        return [f"{model.table}: missing on the target"]
    problems = []
    expected = {c.name.lower(): c for c in model.columns}
    for name, column in expected.items():
        found = columns.get(name)
        wanted = target_type(model, served, column.name, dialect)
        if found is None:
            problems.append(
                f"{model.table}.{column.name}: missing on the target (model: {wanted.sql(dialect)})"
            )
        elif not wanted.matches(found):
            problems.append(
                f"{model.table}.{column.name}: target has {found.describe()}, "
                f"model has {wanted.sql(dialect)}"
            )
        elif not column.identity and found.nullable != column.nullable:
            problems.append(
                f"{model.table}.{column.name}: target is "
                f"{'NULL' if found.nullable else 'NOT NULL'}, model is "
                f"{'NULL' if column.nullable else 'NOT NULL'}"
            )
    for name, found in columns.items():
        if name not in expected:
            problems.append(
                f"{model.table}.{found.name}: on the target but not in the model "
                "(never dropped automatically)"
            )
    return problems
