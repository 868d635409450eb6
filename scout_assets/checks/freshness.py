"""Freshness: a Dagster FreshnessPolicy on every warehouse asset, in the freshness tiers of
``tiers.py``.

Fresh (<= 2 h) and Recent (<= 24 h) pass, Stale (<= 7 days) warns, Very Stale fails. The
policy judges the last materialization (is the pipeline running?); the ``data_freshness``
check of silver.transactions judges the newest transaction (is data arriving?). Dagster's
freshness daemon evaluates the policies; the alert sensor turns WARN/FAIL states into alerts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import dagster as dg

from scout_assets.constants import BRONZE, GOLD, PLATINUM, SILVER

FRESHNESS_POLICY = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=7), warn_window=timedelta(hours=24)
)
WAREHOUSE_GROUPS = (BRONZE, SILVER, GOLD, PLATINUM)


def with_freshness_policy(assets: Iterable) -> list:
    """``assets`` with the policy on every spec of a warehouse layer (serving is published on
    its own schedule and keeps whatever its module sets)."""

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.group_name not in WAREHOUSE_GROUPS or spec.freshness_policy is not None:
            return spec
        return spec.replace_attributes(freshness_policy=FRESHNESS_POLICY)

    return list(dg.map_asset_specs(apply, list(assets)))
