"""Lineage from the SQL itself: which warehouse tables a model reads, hence its asset deps.

Each model's SQL (and the SQL its step runs for it, ``Model.also_reads``) is parsed with
sqlglot; a view or table macro of the DDL (``dbo.v_interaction_times``,
``dbo.payload_versions(...)``) stands for the tables it reads. Tables a step writes itself
(its temp tables, the brand-match cache) are not dependencies.
"""

from __future__ import annotations

from functools import cache

import dagster as dg
import sqlglot
from sqlglot import exp

from scout_assets.models import AUDIT, BY_TABLE, Model
from scout_assets.sql_files import ddl_text, sql_text

# Read by a model but written by its own step: not an upstream asset.
OWN_STATE = {
    "month_versions": "temp table silver.transactions stages (sql/silver/month_versions.sql)",
    "ref.brand_match_cache": "silver.transaction_items fills it before it reads it",
}


def _name(table: exp.Table) -> str:
    name = table.this.name if isinstance(table.this, exp.Anonymous) else table.name
    return f"{table.db}.{name}" if table.db else name


def _written(statement: exp.Expr) -> set[str]:
    """The table a create/insert/update/delete statement writes."""
    if isinstance(statement, (exp.Create, exp.Insert, exp.Update, exp.Delete)):
        target = statement.this
        if isinstance(target, (exp.Schema, exp.UserDefinedFunction)):
            target = target.this
        if isinstance(target, exp.Table):
            return {_name(target)}
    return set()


@cache
def tables_read(sql: str) -> frozenset[str]:
    """Every table ``sql`` reads, views and table macros replaced by what they read."""
    read: set[str] = set()
    for statement in sqlglot.parse(sql, read="duckdb"):
        if statement is None:
            continue
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        tables = {_name(t) for t in statement.find_all(exp.Table)} - ctes - _written(statement)
        for table in tables:
            definition = _definition(table)
            read |= tables_read(definition) if definition else {table}
    return frozenset(read)


@cache
def _definition(table: str) -> str | None:
    """The DDL of ``table`` when it is a view or a table macro (None for a table)."""
    text = ddl_text(table)
    if text is None:
        return None
    statements = [s for s in sqlglot.parse(text, read="duckdb") if s is not None]
    kinds = {s.args.get("kind") for s in statements if isinstance(s, exp.Create)}
    return text if kinds & {"VIEW", "MACRO"} else None


def model_reads(model: Model) -> frozenset[str]:
    """The warehouse tables ``model``'s step reads for it."""
    reads: set[str] = set()
    for path in (model.sql, *model.also_reads):
        if path:
            reads |= tables_read(sql_text(path))
    return frozenset((reads | set(model.hook_reads)) - {model.table})


def model_deps(model: Model) -> list[dg.AssetKey]:
    """The assets ``model`` reads, from its SQL (sorted, for a stable definition)."""
    keys = {BY_TABLE[t].key for t in model_reads(model)
            if t in BY_TABLE and BY_TABLE[t].layer != AUDIT}  # fmt: skip
    return sorted(keys - {model.key}, key=lambda key: key.to_user_string())


def unknown_reads(model: Model) -> set[str]:
    """Tables ``model`` reads that are neither declared models nor its own state."""
    return {t for t in model_reads(model) if t not in BY_TABLE and t not in OWN_STATE}
