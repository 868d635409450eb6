"""`scout doctor`: the original system's health procedures, against the warehouse.

- failed processes: a process whose latest attempt in the last 2 hours failed;
- stale tables: the newest record of each watched table in the freshness tiers (Stale warns,
  Very Stale errs), derived tables lagging behind their upstream, months queued for rebuilding
  for over 2 hours;
- quality degradation: each month's average data_quality_score in the quality tiers, and a
  drop of more than 5 points against the trailing months;
- taxonomy integrity: every mapped brand has a category and a department, no orphan
  categories, no brand mapped twice (under brand detection's name normalisation);
- open check problems: the current failing verdicts of every other check (audit.CheckResults).

Each finding is a ``Verdict`` (asset ``doctor``); the scheduled job records them in
audit.CheckResults, where the alert sensor picks them up. Exit status: 0 clean, 1 warnings,
2 errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from tabulate import tabulate

from scout_assets.checks import names
from scout_assets.checks.verdicts import (
    ERROR,
    INFO,
    OK,
    SEVERITY_RANK,
    WARN,
    Verdict,
    freshness_severity,
    month_label,
    quality_severity,
    worst,
)
from scout_assets.silver.brands import normalise_names
from scout_assets.sql_files import sql_text
from scout_assets.tiers import freshness_tier, quality_tier
from scout_assets.time import manila_now

ASSET = "doctor"
FAILED_PROCESSES = names.DOCTOR_PREFIX + "failed_processes"
STALE_TABLES = names.DOCTOR_PREFIX + "stale_tables"
QUALITY = names.DOCTOR_PREFIX + "quality_degradation"
TAXONOMY = names.DOCTOR_PREFIX + "taxonomy_integrity"
OPEN_PROBLEMS = "open check problems"  # shown, never recorded (the checks record themselves)

FAILED_WINDOW = timedelta(hours=2)
PENDING_GRACE = timedelta(hours=2)
LAG_GRACE_HOURS = 2.0
QUALITY_DROP_POINTS = 5.0
EXAMPLES = 5


def _rows(con, model: str, params: dict | None = None) -> list[dict]:
    return con.execute(sql_text(model), params or {}).to_arrow_table().to_pylist()


def _examples(items: Sequence[str]) -> str:
    shown = ", ".join(items[:EXAMPLES])
    return shown + (f" and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else "")


def failed_processes(con, now) -> list[Verdict]:
    failed = _rows(con, "operations/doctor_failed_processes.sql", {"since": now - FAILED_WINDOW})
    labels = [
        f"{row['process_name']}" + (f" [{row['partition_key']}]" if row["partition_key"] else "")
        + f" at {row['start_time']:%H:%M} Manila "
        + f"({(row['error_message'] or '').splitlines()[0][:120]})"
        for row in failed
    ]  # fmt: skip
    return [Verdict(
        FAILED_PROCESSES, ASSET, "last 2 h", ERROR if failed else OK,
        f"{len(failed)} process(es) failed: {_examples(labels)}" if failed
        else "no process failed in the last 2 hours",
        {"failed": len(failed), "processes": [r["process_name"] for r in failed]},
    )]  # fmt: skip


def stale_tables(con, now) -> list[Verdict]:
    verdicts = []
    for row in _rows(con, "operations/doctor_table_ages.sql"):
        table, latest, upstream = row["table_name"], row["latest"], row["upstream_latest"]
        hours = None if latest is None else round((now - latest).total_seconds() / 3600, 2)
        tier = freshness_tier(hours)
        severity, detail = freshness_severity(tier), f"newest record {hours} h old -> {tier}"
        if latest is None:
            detail = "empty -> No Data"
        lag = None
        if upstream is not None and latest is not None:
            lag = round((upstream - latest).total_seconds() / 3600, 2)
            if lag > LAG_GRACE_HOURS:
                severity = worst([severity, WARN])
                detail += f"; {lag} h behind its upstream (not rebuilt?)"
        verdicts.append(Verdict(STALE_TABLES, ASSET, table, severity, detail,
                                {"latest": latest, "age_hours": hours, "tier": tier,
                                 "behind_upstream_hours": lag}))  # fmt: skip
    pending = _rows(con, "operations/doctor_pending_months.sql", {"since": now - PENDING_GRACE})
    verdicts.append(Verdict(
        STALE_TABLES, ASSET, "audit.PendingMonths", WARN if pending else OK,
        f"{len(pending)} month(s) queued for rebuilding for over 2 h: " + _examples(
            [f"{month_label(r['txn_month'])} ({r['reasons']})" for r in pending]
        ) if pending else "no month waiting to be rebuilt",
        {"months": [month_label(r["txn_month"]) for r in pending]},
    ))  # fmt: skip
    return verdicts


def quality_degradation(con) -> list[Verdict]:
    verdicts = []
    for row in _rows(con, "operations/doctor_quality_by_month.sql"):
        quality, trailing = row["quality_percent"], row["trailing_percent"]
        tier = quality_tier(quality)
        severity = quality_severity(tier)
        detail = f"average quality {quality:.2f}% -> {tier}"
        if trailing is not None and trailing - quality > QUALITY_DROP_POINTS:
            severity = worst([severity, WARN])
            detail += f"; down {trailing - quality:.1f} points from the trailing {trailing:.2f}%"
        verdicts.append(Verdict(
            QUALITY, ASSET, month_label(row["txn_month"]), severity, detail,
            {"quality_percent": quality, "trailing_percent": trailing, "tier": tier,
             "transactions": row["transactions"]}, row["txn_month"],
        ))  # fmt: skip
    return verdicts


def _mapped_twice(con) -> list[str]:
    """Brands whose names normalise to the same matching key, per table."""
    offenders = []
    for table in ("ref.nielsen_brand_map", "dbo.BrandCategoryMapping"):
        brands = [row[0] for row in con.execute(f"select brand_name from {table}").fetchall()]
        by_key: dict[str, list[str]] = {}
        for brand, key in zip(brands, normalise_names(brands)):
            by_key.setdefault(key, []).append(brand)
        offenders += [f"{table}: {' / '.join(sorted(group))}"
                      for group in by_key.values() if len(group) > 1]  # fmt: skip
    return sorted(offenders)


def taxonomy_integrity(con) -> list[Verdict]:
    found = {row["rule"]: row["offenders"] for row in _rows(con, "operations/doctor_taxonomy.sql")}
    found["no_brand_mapped_twice"] = _mapped_twice(con)
    unmapped = con.execute(sql_text("operations/doctor_unmapped_brands.sql")).fetchone()[0]
    verdicts = []
    for rule, offenders in found.items():
        detail = f"{len(offenders)}: {_examples(offenders)}" if offenders else "none"
        if rule == "mapped_brands_have_category":
            detail += f" ({unmapped} brand(s) unmapped by design: no Nielsen category fits)"
        verdicts.append(Verdict(TAXONOMY, ASSET, rule, ERROR if offenders else OK, detail,
                                {"offenders": offenders}))  # fmt: skip
    return verdicts


def open_check_problems(con) -> list[Verdict]:
    """The failing current verdicts of every check other than the doctor's."""
    rows = _rows(con, "checks/current_verdicts.sql")
    return [
        Verdict(row["check_name"], row["asset"], row["subject"], row["severity"],
                row["description"] or "", {}, row["txn_month"])
        for row in rows
        if not row["passed"] and row["asset"] != ASSET
    ]  # fmt: skip


def diagnose(con, now=None) -> list[Verdict]:
    """Every health finding (recordable ones), worst first within each procedure."""
    now = now or manila_now()
    return [
        *failed_processes(con, now),
        *stale_tables(con, now),
        *quality_degradation(con),
        *taxonomy_integrity(con),
    ]


def exit_status(verdicts: Sequence[Verdict]) -> int:
    return {OK: 0, INFO: 0, WARN: 1, ERROR: 2}[worst(v.severity for v in verdicts)]


def report(findings: Sequence[Verdict], open_problems: Sequence[Verdict]) -> str:
    """The table `scout doctor` prints."""
    rows = [
        (v.check_name.removeprefix(names.DOCTOR_PREFIX), v.subject, v.severity,
         v.description[:110])
        for v in findings
    ] + [
        (OPEN_PROBLEMS, f"{v.asset} {v.check_name} {v.subject}", v.severity,
         v.description[:110])
        for v in sorted(open_problems, key=lambda v: -SEVERITY_RANK[v.severity])
    ]  # fmt: skip
    table = tabulate(rows, headers=["check", "subject", "status", "detail"], tablefmt="simple")
    everything = [*findings, *open_problems]
    problems = sum(not v.passed for v in everything)
    worst_severity = worst(v.severity for v in everything)
    verdict = f"{problems} problem(s), worst {worst_severity}" if problems else "healthy"
    return f"{table}\n\nScout doctor: {verdict}."
