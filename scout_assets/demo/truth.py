"""The ground truth of a demo Drive: one Parquet row per real sale, what a perfect pipeline
ends up with."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scout_assets.demo.delivery_plan import device_dialect
from scout_assets.demo.interactions import Meetings
from scout_assets.demo.rendering import Renderer
from scout_assets.demo.sales import PAYMENT_METHODS, TS_EMPTY


def write_truth(path: Path, render: Renderer, routes: np.ndarray | None, meet: Meetings) -> None:
    """One Parquet row per real sale: what a perfect pipeline ends up with."""
    tx, plan = render.tx, render.plan
    n = len(tx.ts)
    device = device_dialect(routes, n)
    empty = (tx.ts_style == TS_EMPTY) & device
    source = np.where(~empty, "payload", np.where(meet.has, "interaction", "consent"))
    # A consent fallback is a few seconds early: that is the time a pipeline can know.
    consent = tx.ts - tx.consent_lag.astype("timedelta64[s]")
    known_ts = np.where(source == "consent", consent, tx.ts)
    noise = [plan.bad.get(t) or plan.resend_change.get(t, "") for t in range(n)]
    cents = pa.array(tx.total_cents, pa.int64()).cast(pa.decimal128(19, 0))
    amount = pc.multiply(cents, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2)))
    table = pa.table(
        {
            "canonical_tx_id": [i.replace("-", "") for i in tx.ids],
            "transaction_id": tx.ids,
            "store_id": pa.array(
                [render.stores[s].store_id for s in tx.store.tolist()], pa.int32()
            ),
            "device_id": [render.stores[s].device_id for s in tx.store.tolist()],
            "txn_ts": pa.array(tx.ts.astype("datetime64[us]")),
            "resolved_ts": pa.array(known_ts.astype("datetime64[us]")),
            "timestamp_source": source.tolist(),
            "txn_month": np.datetime_as_string(tx.ts, unit="M").tolist(),
            "total_amount": amount.cast(pa.decimal128(12, 2)),
            "item_count": pa.array(tx.n_items, pa.int32()),
            "units": pa.array(
                np.add.reduceat(render.items.quantity, tx.item_start[:-1]), pa.int32()
            ),
            "payment_method": [PAYMENT_METHODS[p] for p in tx.payment.tolist()],
            "dialect": np.where(device, "device", "documented").tolist(),
            "has_interaction": meet.has,
            "noise": noise,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
