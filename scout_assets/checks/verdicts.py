"""Verdicts: one check's judgement of one subject (a month, the latest batch, a table).

A check judges every month of its run (``checks/catalog.py`` declares them) and reports twice:

- one ``audit.CheckResults`` row per verdict, written in the transaction that wrote the month:
  the record that ``scout doctor`` and the alert sensor read;
- one Dagster event per verdict: a monthly check's verdict is an evaluation on the month's
  partition (a partitioned asset check), so a month that failed stays failed in the UI until
  a rebuild of that month passes; a check of one subject per run is an ``AssetCheckResult``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import dagster as dg

# Partitioned asset checks are a preview in Dagster 1.13: an evaluation names the
# materialization it judged through this record, which dagster does not export yet.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from scout_assets.partitions import partition_key
from scout_assets.row_ids import next_row_id
from scout_assets.time import manila_now

OK, INFO, WARN, ERROR = "OK", "INFO", "WARN", "ERROR"
SEVERITY_RANK = {OK: 0, INFO: 1, WARN: 2, ERROR: 3}
PERSISTED_KEY = "scout/persisted"  # check metadata: already in audit.CheckResults


@dataclass(frozen=True)
class Verdict:
    """One check's judgement of one subject, with the figures behind it."""

    check_name: str
    asset: str  # asset key as layer/name
    subject: str  # YYYY-MM, 'latest', 'batch', a table name
    severity: str  # OK / INFO / WARN / ERROR
    description: str
    figures: dict = field(default_factory=dict)
    month: date | None = None

    @property
    def passed(self) -> bool:
        return self.severity in (OK, INFO)


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def month_verdict(check_name, asset, month: date, severity, description, **figures) -> Verdict:
    """A verdict about one month."""
    return Verdict(check_name, asset, month_label(month), severity, description, figures, month)


def asset_label(key: dg.AssetKey | Sequence[str]) -> str:
    path = key.path if isinstance(key, dg.AssetKey) else list(key)
    return "/".join(path)


# -- severities (pure) -------------------------------------------------------------------------


def above(value: float | None, warn: float, error: float) -> str:
    """ERROR above ``error``, WARN above ``warn``, else OK (no value: OK)."""
    if value is None:
        return OK
    return ERROR if value > error else WARN if value > warn else OK


def below(value: float | None, warn: float, error: float) -> str:
    """ERROR below ``error``, WARN below ``warn``, else OK (no value: OK)."""
    if value is None:
        return OK
    return ERROR if value < error else WARN if value < warn else OK


def quality_severity(tier: str) -> str:
    """The quality tiers (scout_assets/tiers.py): Needs Improvement warns, Critical Issues is an error."""
    return {"Needs Improvement": WARN, "Critical Issues": ERROR}.get(tier, OK)


def freshness_severity(tier: str) -> str:
    """The freshness tiers (scout_assets/tiers.py): Stale warns, Very Stale is an error."""
    return {"Stale": WARN, "Very Stale": ERROR, "No Data": WARN}.get(tier, OK)


def percent(part: float, whole: float) -> float | None:
    """``part`` of ``whole`` in percent, 2 decimals (None when ``whole`` is 0)."""
    return round(float(part) * 100.0 / float(whole), 2) if whole else None


def worst(severities: Iterable[str]) -> str:
    return max(severities, key=SEVERITY_RANK.__getitem__, default=OK)


# -- persistence -------------------------------------------------------------------------------

_INSERT = """
insert into audit.CheckResults (result_id, check_name, asset, subject, txn_month, severity,
                                passed, description, figures_json, run_id, evaluated_at)
values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def figures_json(figures: dict) -> str:
    return json.dumps({k: _plain(v) for k, v in figures.items()}, sort_keys=True)


def record_verdicts(con, verdicts: Sequence[Verdict], run_id: str | None) -> None:
    """Append ``verdicts`` to audit.CheckResults on ``con`` (a DuckDB connection or cursor,
    typically inside the transaction that wrote what they judge)."""
    if not verdicts:
        return
    now = manila_now()
    con.executemany(
        _INSERT,
        [
            [next_row_id(), v.check_name, v.asset, v.subject, v.month, v.severity, v.passed,
             v.description, figures_json(v.figures), run_id, now]
            for v in verdicts
        ],
    )  # fmt: skip


# -- Dagster events ----------------------------------------------------------------------------


def _metadata(verdict: Verdict) -> dict:
    return {PERSISTED_KEY: True, "subject": verdict.subject,
            **{k: _plain(v) for k, v in verdict.figures.items() if v is not None}}  # fmt: skip


def _severity(verdict: Verdict) -> dg.AssetCheckSeverity:
    return dg.AssetCheckSeverity.ERROR if verdict.severity == ERROR else dg.AssetCheckSeverity.WARN


def month_evaluation(key: dg.AssetKey, verdict: Verdict, blocking: bool,
                     target: AssetCheckEvaluationTargetMaterializationData | None):  # fmt: skip
    """A monthly check's verdict on its month's partition (a partitioned asset check),
    targeting that partition's materialization, so the UI keeps each month's own status."""
    if verdict.month is None:
        raise ValueError(f"{verdict.check_name} judged {verdict.subject}, not a month")
    return dg.AssetCheckEvaluation(
        asset_key=key,
        check_name=verdict.check_name,
        passed=verdict.passed,
        metadata=_metadata(verdict),
        target_materialization_data=target,
        severity=_severity(verdict),
        description=f"{verdict.severity}: {verdict.description}"[:2000],
        blocking=blocking,
        partition=partition_key(verdict.month),
    )


def run_result(key: dg.AssetKey, verdict: Verdict) -> dg.AssetCheckResult:
    """A check that judges one subject per run (the latest batch, the newest data, a table)."""
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=verdict.check_name,
        passed=verdict.passed,
        severity=_severity(verdict),
        description=f"{verdict.severity}: {verdict.description}"[:2000],
        metadata=_metadata(verdict),
    )
