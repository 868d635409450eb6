"""Open problems in the UI: the ``monitoring/open_problems`` asset.

Alerts reach the log, ``audit.AlertLog`` and the configured channels; an operator who opens
the Dagster UI instead finds the problems still open on this asset's page. Whenever the set of
open problems changes (a new problem, an escalation, a recovery), the alert sensor records a
materialization of the asset whose metadata lists them: severity, check, asset, month, when
it was alerted (Manila) and what the check said. The asset is external: only the sensor
records it, no run builds it, and no job selects it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import dagster as dg

from scout_assets.checks.verdicts import ERROR, WARN
from scout_assets.constants import OWNER_TAGS, OWNERS
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_text

OPEN_PROBLEMS_KEY = dg.AssetKey(["monitoring", "open_problems"])

open_problems_asset = dg.AssetSpec(
    key=OPEN_PROBLEMS_KEY,
    group_name="monitoring",
    description="The problems alerted and not recovered yet (failed or warning checks per "
    "month, failed runs, stale assets, sensors whose ticks keep failing, doctor findings). "
    "Recorded by the scout_alerts sensor whenever the list changes; the latest "
    "materialization's metadata is the list. Empty means nothing needs an operator.",
    tags=OWNER_TAGS,
    owners=OWNERS,
    kinds={"duckdb"},
    metadata={"source": "audit.AlertLog (sql/checks/open_problems.sql)"},
)


@dataclass(frozen=True)
class OpenProblem:
    """A problem whose last alert is a problem, not a recovery."""

    check_name: str
    asset: str
    subject: str  # the month, latest, a table
    severity: str
    description: str
    alerted_at: datetime  # naive Manila


def open_problems(con) -> list[OpenProblem]:
    """Every open problem, errors first, then the oldest."""
    problems = []
    for key, severity, details, created_at in con.execute(
        sql_text("checks/open_problems.sql")
    ).fetchall():
        check_name, asset, subject = key.split("|", 2)
        problems.append(
            OpenProblem(check_name, asset, subject, severity, details or "", created_at)
        )
    return problems


def digest(problems: Sequence[OpenProblem]) -> str:
    """What identifies the list: the sensor records the asset again only when it changes."""
    text = "\n".join(
        f"{p.check_name}|{p.asset}|{p.subject}|{p.severity}|{p.alerted_at}" for p in problems
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def problems_list(problems: Sequence[OpenProblem]) -> str:
    """The list as Markdown (the UI renders it on the asset's page), one line per problem:
    severity, check, asset, subject, when it was alerted, what the check said."""
    if not problems:
        return "No open problems."
    return "\n".join(
        f"- **{p.severity}** · {p.check_name} · `{p.asset}` · **{p.subject}** · alerted "
        f"{manila_text(p.alerted_at)}: {' '.join(p.description.split())[:400]}"
        for p in problems
    )


def summary_line(problems: Sequence[OpenProblem]) -> str:
    errors = sum(p.severity == ERROR for p in problems)
    warnings = sum(p.severity == WARN for p in problems)
    if not problems:
        return "No open problems"
    return f"{len(problems)} open problem(s): {errors} ERROR, {warnings} WARN"


def open_problems_event(problems: Sequence[OpenProblem], now: datetime) -> dg.AssetMaterialization:
    """The materialization that shows ``problems`` on the asset's page."""
    return dg.AssetMaterialization(
        asset_key=OPEN_PROBLEMS_KEY,
        description=summary_line(problems),
        metadata={
            "open_problems": dg.MetadataValue.int(len(problems)),
            "errors": dg.MetadataValue.int(sum(p.severity == ERROR for p in problems)),
            "warnings": dg.MetadataValue.int(sum(p.severity == WARN for p in problems)),
            "problems": dg.MetadataValue.md(problems_list(problems)),
            "as_of": dg.MetadataValue.text(manila_text(now)),
            "what_to_do": dg.MetadataValue.md(
                "Open the asset (or job, sensor) named in the row: its check, run or tick says "
                "why. docs/OPERATIONS.md, *When something needs an operator*, says what to do "
                "for each kind of problem. A row leaves this list when its check passes again "
                "(the recovery is alerted too)."
            ),
        },
    )
