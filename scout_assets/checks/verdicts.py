"""Verdicts: one check's judgement of one subject (a month, the latest batch, a table).

Partitioned asset checks are a preview feature in Dagster 1.13, and a run of the monthly job
covers a range of months with one check evaluation. So a check judges every month of its run
and reports three ways:

- one ``AssetCheckResult`` per check and run: failed when any month fails, at the worst
  month's severity, with the months judged, the months failing and a per-month table of the
  figures as metadata (a single-month run also gets the figures as numbers, which the UI plots);
- one ``AssetObservation`` per month, on that month's partition: every check's verdict for the
  month, so the partition's page in the UI shows its own results;
- one ``audit.CheckResults`` row per month, written in the transaction that wrote the month:
  the record that ``scout doctor`` and the alert sensor read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import dagster as dg
import pandas as pd

from scout_assets.partitions import partition_key
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
    """DESIGN.md's quality tiers: Needs Improvement warns, Critical Issues is an error."""
    return {"Needs Improvement": WARN, "Critical Issues": ERROR}.get(tier, OK)


def freshness_severity(tier: str) -> str:
    """DESIGN.md's freshness tiers: Stale warns, Very Stale is an error."""
    return {"Stale": WARN, "Very Stale": ERROR, "No Data": WARN}.get(tier, OK)


def percent(part: float, whole: float) -> float | None:
    """``part`` of ``whole`` in percent, 2 decimals (None when ``whole`` is 0)."""
    return round(float(part) * 100.0 / float(whole), 2) if whole else None


def worst(severities: Iterable[str]) -> str:
    return max(severities, key=SEVERITY_RANK.__getitem__, default=OK)


# -- persistence -------------------------------------------------------------------------------

_INSERT = """
insert into audit.CheckResults (check_name, asset, subject, txn_month, severity, passed,
                                description, figures_json, run_id, evaluated_at)
values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
            [v.check_name, v.asset, v.subject, v.month, v.severity, v.passed, v.description,
             figures_json(v.figures), run_id, now]
            for v in verdicts
        ],
    )  # fmt: skip


# -- Dagster results ---------------------------------------------------------------------------


def _figures_table(verdicts: Sequence[Verdict]) -> dg.MetadataValue:
    rows = [
        {"subject": v.subject, "verdict": v.severity,
         **{name: _plain(value) for name, value in v.figures.items()}}
        for v in verdicts
    ]
    return dg.MetadataValue.md(pd.DataFrame(rows).to_markdown(index=False) if rows else "_none_")


def check_result(
    check_name: str, verdicts: Sequence[Verdict], asset_key: dg.AssetKey | None = None
) -> dg.AssetCheckResult:
    """One Dagster result for one check's verdicts over the run's subjects."""
    failing = [v for v in verdicts if not v.passed]
    severity = worst(v.severity for v in verdicts)
    if failing:
        description = "; ".join(f"{v.subject}: {v.severity} {v.description}" for v in failing)
    elif verdicts:
        description = "; ".join(f"{v.subject}: {v.description}" for v in verdicts[:6])
    else:
        description = "nothing to judge"
    metadata: dict = {
        "judged": ", ".join(v.subject for v in verdicts) or "none",
        "failing": ", ".join(v.subject for v in failing) or "none",
        "figures": _figures_table(verdicts),
        PERSISTED_KEY: True,
    }
    months = [v.month for v in verdicts if v.month is not None]
    if months:
        metadata["months_judged"] = ", ".join(month_label(m) for m in months)
    if len(verdicts) == 1:
        metadata.update(
            {k: _plain(v) for k, v in verdicts[0].figures.items() if v is not None}
        )
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR if severity == ERROR else dg.AssetCheckSeverity.WARN,
        description=description[:2000],
        metadata=metadata,
    )


def check_results(
    verdicts: Sequence[Verdict], selected: Iterable[str] | None = None,
    asset_key: dg.AssetKey | None = None,
) -> list[dg.AssetCheckResult]:
    """One result per check name (in first-seen order), only for ``selected`` names."""
    by_check: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        by_check.setdefault(verdict.check_name, []).append(verdict)
    wanted = None if selected is None else set(selected)
    return [
        check_result(name, group, asset_key)
        for name, group in by_check.items()
        if wanted is None or name in wanted
    ]


def month_observations(asset_key: dg.AssetKey, verdicts: Sequence[Verdict]):
    """One observation per month on that month's partition: every check's verdict for it
    (verdicts about something else, like the newest data, stay on the check result)."""
    by_month: dict[date, list[Verdict]] = {}
    for verdict in verdicts:
        if verdict.month is not None and verdict.subject == month_label(verdict.month):
            by_month.setdefault(verdict.month, []).append(verdict)
    for month, group in sorted(by_month.items()):
        yield dg.AssetObservation(
            asset_key=asset_key,
            partition=partition_key(month),
            description="quality checks of this month",
            metadata={
                "checks_failing": sum(not v.passed for v in group),
                **{v.check_name: f"{v.severity}: {v.description}" for v in group},
                "figures": _figures_table(group),
            },
        )
