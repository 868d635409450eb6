"""Every served object's columns and types in the warehouse against its DDL in ``sql/ddl``.

An existing warehouse file keeps old columns when the DDL changes (``create table if not
exists`` does not alter; migrations do): a drift is an ERROR, judged in the step that writes
the object.
"""

from __future__ import annotations

from scout_assets.checks import names
from scout_assets.checks.verdicts import ERROR, INFO, OK, Verdict
from scout_assets.serving.objects import duckdb_models


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
