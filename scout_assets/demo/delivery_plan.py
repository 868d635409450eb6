"""How each sale reaches the Drive (its route, in the mixed layout) and the payload-level noise:
sales delivered twice with different content, bad values, interactions that never arrive."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scout_assets.demo.inputs import stream_rng
from scout_assets.demo.sales import TS_EMPTY, Transactions, Window

# How a sale reached the Drive: its device's folder, a documented NDJSON batch, a JSON-array
# export, or a zipped (device, month) folder.
ROUTE_DEVICE_FILE, ROUTE_DOCUMENTED, ROUTE_ARRAY, ROUTE_ZIP = 0, 1, 2, 3
_DOCUMENTED_SHARE = 0.04  # sent through the documented API as NDJSON batches
_ARRAY_SHARE = 0.03  # exported by field staff as JSON arrays
_ZIPPED_GROUP_SHARE = 0.06  # (device, month) folders that were zipped before upload
RESEND_SHARE = 0.01
NO_INTERACTION_SHARE = 0.005  # of empty-timestamp payloads

# Deliberately bad payloads: kind -> how many (capped by the drive's size). Only
# "string_total" is still a good transaction (the amount must be coerced from text).
BAD_PAYLOAD_KINDS = {
    "string_total": 3,  # totalAmount "12.50"
    "negative_total": 2,
    "non_numeric_total": 2,  # totalAmount "abc"
    "missing_transaction_id": 2,
    "unknown_store": 2,  # storeId "999"
}


def mixed_routes(tx: Transactions, n_stores: int, window: Window, seed: int) -> np.ndarray:
    """How each sale reached the Drive: a ROUTE_* per sale."""
    rng = stream_rng(seed, "routes")
    months = len(window.months)
    group = tx.store * months + window.month_index(tx.ts)
    zipped = rng.random(n_stores * months) < _ZIPPED_GROUP_SHARE
    route = np.where(zipped[group], ROUTE_ZIP, ROUTE_DEVICE_FILE)
    u = rng.random(len(tx.ts))
    route[u < _DOCUMENTED_SHARE] = ROUTE_DOCUMENTED
    route[(u >= _DOCUMENTED_SHARE) & (u < _DOCUMENTED_SHARE + _ARRAY_SHARE)] = ROUTE_ARRAY
    return route


def device_dialect(routes: np.ndarray | None, n: int) -> np.ndarray:
    """Per sale: delivered in the device format (benchmark layouts: always)."""
    return np.ones(n, bool) if routes is None else routes != ROUTE_DOCUMENTED


@dataclass
class NoisePlan:
    resend: np.ndarray  # sales delivered a second time with different content, sorted
    resend_change: dict[int, str]  # sale -> "dropped_item" | "corrected_price"
    bad: dict[int, str]  # sale -> BAD_PAYLOAD_KINDS key
    lost_interaction: np.ndarray  # bool per sale: its interaction never arrived

    @classmethod
    def none(cls, n: int) -> NoisePlan:
        return cls(np.array([], np.int64), {}, {}, np.zeros(n, bool))


def plan_noise(tx: Transactions, routes: np.ndarray | None, seed: int) -> NoisePlan:
    """Pick the sales that arrive twice, carry bad values, or lose their interaction."""
    rng = stream_rng(seed, "noise")
    n = len(tx.ts)
    device = device_dialect(routes, n)
    candidates = np.flatnonzero(device)
    size = min(int(round(n * RESEND_SHARE)), len(candidates))
    resend = np.sort(rng.choice(candidates, size=size, replace=False))
    drop = (rng.random(len(resend)) < 0.5) & (tx.n_items[resend] > 1)
    resend_change = {
        t: "dropped_item" if d else "corrected_price"
        for t, d in zip(resend.tolist(), drop.tolist())
    }
    rest = np.setdiff1d(candidates, resend)
    wanted = sum(BAD_PAYLOAD_KINDS.values())
    picked = rng.choice(rest, size=min(wanted, len(rest) // 20), replace=False).tolist()
    kinds = [k for k, count in BAD_PAYLOAD_KINDS.items() for _ in range(count)]
    bad = dict(zip(picked, kinds))
    lost = device & (tx.ts_style == TS_EMPTY) & (rng.random(n) < NO_INTERACTION_SHARE)
    return NoisePlan(resend, resend_change, bad, lost)
