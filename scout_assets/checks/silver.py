"""Silver's quality gates, judged per month inside the transaction that writes the month
(``layers.py``; declared in ``checks/catalog.py``).

silver.transactions: duplicate-version rates, the quality tier, counts and revenue against
bronze's winning versions, stores known, a row-count anomaly against the trailing months, and
how fresh the newest data is (no transaction twice: the key check, checks/keys.py).
silver.transaction_items: brand detection (with the share of items per match method) and
categorisation rates, categories and departments known to the taxonomy.

Blocking (an ERROR stops the models after it in the run): a Critical quality tier and a month
that does not reconcile with bronze (silver would then be wrong, and gold with it).
Rates are judged only on months of at least ``RATE_MIN_SAMPLE`` transactions (items).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from scout_assets.checks import names
from scout_assets.checks.verdicts import (
    ERROR,
    INFO,
    OK,
    Verdict,
    above,
    below,
    freshness_severity,
    month_label,
    month_verdict,
    percent,
    quality_severity,
)
from scout_assets.partitions import month_start
from scout_assets.silver.brands import METHOD_NONE, METHODS
from scout_assets.sql_files import sql_text
from scout_assets.tiers import freshness_tier, quality_tier
from scout_assets.time import manila_now

TRANSACTIONS = "silver/transactions"
ITEMS = "silver/transaction_items"


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _rate_severity(rate, sample: int, judge) -> str:
    """``judge(rate)``, or INFO when the month is too small for its rate to mean much."""
    return judge(rate) if sample >= names.RATE_MIN_SAMPLE else INFO


def _rows(con, model: str, params: dict) -> list[dict]:
    return con.execute(sql_text(model), params).to_arrow_table().to_pylist()


def judge_transactions(con, months: Sequence[date], now=None) -> list[Verdict]:
    """Every silver.transactions verdict for ``months`` (figures read on ``con``)."""
    now = now or manila_now()
    asset = TRANSACTIONS
    verdicts: list[Verdict] = []
    counts = {
        row["month"]: row["transactions"]
        for row in _rows(con, "checks/transaction_counts.sql", {
            "first": _shift(min(months), -names.ANOMALY_TRAILING_MONTHS), "last": max(months)})
    } if months else {}  # fmt: skip
    for row in _month_rows(con, months):
        month, kept = row["month"], row["transactions"]

        def add(check, severity, description, month=month, **figures):
            verdicts.append(month_verdict(check, asset, month, severity, description, **figures))

        business = percent(row["business_duplicates"], kept)
        add(
            names.BUSINESS_DUPLICATES,
            _rate_severity(
                business, kept, lambda r: above(r, names.DUPLICATE_WARN, names.DUPLICATE_ERROR)
            ),
            f"{business or 0:.2f}% business duplicates ({row['business_duplicates']} of {kept})",
            rate_percent=business,
            business_duplicates=row["business_duplicates"],
            exact_duplicate_payloads=row["exact_duplicates"],
            transactions=kept,
        )

        conflicting = percent(row["conflicting_versions"], kept)
        add(
            names.CONFLICTING_VERSIONS,
            _rate_severity(
                conflicting, kept, lambda r: above(r, names.DUPLICATE_WARN, names.DUPLICATE_ERROR)
            ),
            f"{conflicting or 0:.2f}% conflicting versions ({row['conflicting_versions']} of "
            f"{kept})",
            rate_percent=conflicting,
            conflicting_versions=row["conflicting_versions"],
            transactions=kept,
        )

        quality = row["quality_percent"]
        tier = quality_tier(quality)
        add(
            names.QUALITY_TIER,
            quality_severity(tier),
            f"average data_quality_score {quality or 0:.2f}% -> {tier}",
            quality_percent=quality,
            tier=tier,
            transactions=kept,
        )

        count_gap = kept - row["bronze_transactions"]
        revenue_gap = float(row["revenue"] - row["bronze_revenue"])
        reconciled = count_gap == 0 and abs(revenue_gap) <= 0.005
        add(
            names.RECONCILES_WITH_BRONZE,
            OK if reconciled else ERROR,
            "count and revenue equal bronze's winning versions"
            if reconciled
            else f"count {count_gap:+d}, revenue {revenue_gap:+.2f} against bronze",
            transactions=kept,
            bronze_transactions=row["bronze_transactions"],
            revenue=row["revenue"],
            bronze_revenue=row["bronze_revenue"],
        )

        unknown = percent(row["unknown_stores"], kept)
        add(
            names.KNOWN_STORES,
            _rate_severity(
                unknown,
                kept,
                lambda r: above(r, names.UNKNOWN_STORE_WARN, names.UNKNOWN_STORE_ERROR),
            ),
            f"{row['unknown_stores']} transaction(s) rejected: store missing from dbo.Stores",
            unknown_stores=row["unknown_stores"],
            unknown_percent=unknown,
            transactions=kept,
        )

        verdicts.append(_anomaly(asset, month, kept, counts, now))
    if months:
        verdicts.append(_freshness(con, asset, now))
    return verdicts


def _month_rows(con, months: Sequence[date]) -> list[dict]:
    """checks/transactions_by_month.sql's rows. It reads the dedupe verdicts from the
    month_versions temp table, which silver.transactions' run has already staged on ``con``;
    called on its own (tests, operations), the months' verdicts are staged here."""
    staged = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = 'month_versions'"
    ).fetchone()[0]
    if not staged:
        con.execute(sql_text("silver/month_versions.sql"), {"months": list(months)})
    try:
        return _rows(con, "checks/transactions_by_month.sql", {"months": list(months)})
    finally:
        if not staged:
            con.execute("drop table month_versions")


def _anomaly(asset: str, month: date, kept: int, counts: dict, now) -> Verdict:
    """The month's count against the mean of its trailing months that have data."""
    trailing = [
        counts[m] for k in range(1, names.ANOMALY_TRAILING_MONTHS + 1)
        if (m := _shift(month, -k)) in counts
    ]  # fmt: skip
    if month >= month_start(now):
        return month_verdict(names.ROW_COUNT_ANOMALY, asset, month, INFO,
                             f"{kept} transactions; the month is still running, not judged",
                             transactions=kept)  # fmt: skip
    if len(trailing) < names.ANOMALY_MIN_TRAILING:
        return month_verdict(names.ROW_COUNT_ANOMALY, asset, month, INFO,
                             f"{kept} transactions; fewer than {names.ANOMALY_MIN_TRAILING} "
                             "trailing months to compare with", transactions=kept)  # fmt: skip
    baseline = sum(trailing) / len(trailing)
    ratio = kept / baseline
    spread = max(ratio, 1 / ratio) if ratio else float("inf")
    severity = above(spread, names.ANOMALY_WARN_RATIO, names.ANOMALY_ERROR_RATIO)
    return month_verdict(
        names.ROW_COUNT_ANOMALY, asset, month, severity,
        f"{kept} transactions = {ratio:.2f}x the trailing mean {baseline:.0f}",
        transactions=kept, trailing_mean=round(baseline, 1), ratio=round(ratio, 3),
        trailing_months=len(trailing),
    )  # fmt: skip


def _freshness(con, asset: str, now) -> Verdict:
    latest = con.execute(sql_text("checks/latest_transaction.sql")).fetchone()[0]
    hours = None if latest is None else round((now - latest).total_seconds() / 3600, 2)
    tier = freshness_tier(hours)
    return Verdict(
        names.DATA_FRESHNESS,
        asset,
        "latest",
        freshness_severity(tier),
        f"newest transaction {latest:%Y-%m-%d %H:%M} is {hours:.1f} h old -> {tier}"
        if latest
        else "no transactions",
        {
            "latest_transaction": latest,
            "age_hours": hours,
            "tier": tier,
            "latest_month": month_label(latest) if latest else None,
        },
        month_start(latest) if latest else None,
    )


def judge_items(con, months: Sequence[date]) -> list[Verdict]:
    """Every silver.transaction_items verdict for ``months``."""
    asset = ITEMS
    verdicts: list[Verdict] = []
    for row in _rows(con, "checks/items_by_month.sql", {"months": list(months)}):
        month, items = row["month"], row["items"]
        detected = percent(row["branded"], items)
        shares = method_shares(row["methods"], items)
        found_by = ", ".join(f"{m} {p:.2f}%" for m, p in shares.items() if p and m != METHOD_NONE)
        verdicts.append(
            month_verdict(
                names.BRAND_DETECTION,
                asset,
                month,
                _rate_severity(
                    detected,
                    items,
                    lambda r: below(r, names.BRAND_DETECTION_WARN, names.BRAND_DETECTION_ERROR),
                ),
                f"{detected or 0:.2f}% of {items} items have a brand"
                + (f" ({found_by})" if found_by else ""),
                rate_percent=detected,
                branded=row["branded"],
                items=items,
                **{f"{m.replace(' ', '_')}_percent": p for m, p in shares.items()},
            )
        )
        categorised = percent(row["categorised"], items)
        verdicts.append(
            month_verdict(
                names.CATEGORIZATION,
                asset,
                month,
                _rate_severity(
                    categorised,
                    items,
                    lambda r: below(r, names.CATEGORIZATION_WARN, names.CATEGORIZATION_ERROR),
                ),
                f"{categorised or 0:.2f}% of {items} items have a Nielsen category",
                rate_percent=categorised,
                categorised=row["categorised"],
                items=items,
            )
        )
        orphans = row["unknown_categories"] + row["unknown_departments"]
        verdicts.append(month_verdict(
            names.KNOWN_CATEGORIES, asset, month, ERROR if orphans else OK,
            f"{row['unknown_categories']} item(s) with a category and "
            f"{row['unknown_departments']} with a department missing from the taxonomy",
            unknown_categories=row["unknown_categories"],
            unknown_departments=row["unknown_departments"], items=items))  # fmt: skip
    return verdicts


def method_shares(counts, items: int) -> dict[str, float | None]:
    """Percent of ``items`` per brand_match_method, every method named (0 when unused).
    ``counts`` is DuckDB's histogram as Arrow hands it over: (method, count) pairs."""
    found = dict(counts or [])
    return {method: percent(found.get(method, 0), items) for method in METHODS}
