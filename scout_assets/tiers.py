"""The production system's tiers: data quality and freshness, with the thresholds of the served
monitor (``sql/platinum/data_quality_monitor.sql``; docs/SERVED_OBJECTS.md), so that the
checks, ``scout doctor`` and the run summary grade as dashboards do."""

from __future__ import annotations


def quality_tier(percent: float | None) -> str:
    """>=95 Excellent, >=90 Good, >=80 Acceptable, >=70 Needs Improvement, else Critical."""
    if percent is None:
        return "No Data"
    for floor, tier in (
        (95, "Excellent"),
        (90, "Good"),
        (80, "Acceptable"),
        (70, "Needs Improvement"),
    ):
        if percent >= floor:
            return tier
    return "Critical Issues"


def freshness_tier(age_hours: float | None) -> str:
    """<=2 h Fresh, <=24 h Recent, <=7 d Stale, else Very Stale."""
    if age_hours is None:
        return "No Data"
    if age_hours <= 2:
        return "Fresh"
    if age_hours <= 24:
        return "Recent"
    if age_hours <= 24 * 7:
        return "Stale"
    return "Very Stale"
