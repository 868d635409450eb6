"""Every declared key held once: the warehouse's uniqueness, proven instead of enforced.

The warehouse holds no primary keys or unique constraints (a DuckLake has none, and DuckDB's
month rewrites are much faster without them). Each model that declares a ``unique_key``
(``scout_assets/models.py``) gets the blocking check ``unique_<key>``, judged in the
transaction (or the step) that writes it: per month for a monthly table, else on the whole
table. A repeat is an ERROR that stops the models after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from scout_assets.checks import names
from scout_assets.checks.verdicts import ERROR, OK, Verdict, month_verdict
from scout_assets.constants import MONTH_COLUMN
from scout_assets.models import Model
from scout_assets.sql_files import sql_text


def judge_keys(con, model: Model, months: Sequence[date] = ()) -> list[Verdict]:
    """``model``'s key repeats: one verdict per month of ``months`` (a monthly model), else
    one for the table."""
    check = names.unique_key_check(model.unique_key)
    sql = sql_text("checks/key_repeats.sql").format(
        table=model.table,
        key=", ".join(f'"{column}"' for column in model.unique_key),
        scope=MONTH_COLUMN if model.monthly else "null::date",
    )
    rows = con.execute(sql, {"months": list(months)}).to_arrow_table().to_pylist()
    found = {row["month"]: row for row in rows}
    key = ", ".join(model.unique_key)
    if not model.monthly:
        return [_verdict(check, model, found.get(None), key)]
    return [_verdict(check, model, found.get(month), key, month) for month in months]


def _verdict(check: str, model: Model, repeats: dict | None, key: str,
             month: date | None = None) -> Verdict:  # fmt: skip
    figures = {
        "repeated_keys": repeats["repeated_keys"] if repeats else 0,
        "rows_involved": repeats["rows_involved"] if repeats else 0,
    }
    if repeats:
        severity = ERROR
        description = (f"{repeats['repeated_keys']} {key} value(s) held by more than one row of "
                       f"{model.table} (e.g. {repeats['examples']})")  # fmt: skip
    else:
        severity, description = OK, f"every {key} of {model.table} held once"
    if month is None:
        return Verdict(check, model.label, model.table, severity, description, figures)
    return month_verdict(check, model.label, month, severity, description, **figures)
