"""After a change to the stores, the regions or the plausibility limits: queue exactly the
months whose rows it changes (audit.PendingMonths, reason 'reference change').

Called by ``write_reference_tables`` inside the transaction that replaces the reference tables,
so the new reference rows and the queued months commit together (the brand map and the
taxonomy have their own, finer rules: ``taxonomy.py``). What each change can alter:

- ``dbo.Stores``: a store added, removed or edited changes every transaction of that store
  (its name and region in gold) and decides whether silver keeps or rejects a transaction
  that names it; a device moved to another store changes the transactions placed by device.
  Their months are found in bronze, where the rejected transactions are too.
- ``dbo.Region``: the region names gold shows for the stores in a changed region.
- ``ref.plausibility_limits``: which transactions are flagged; every month holding a
  transaction or an item line above the lower of the old and new limit.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from scout_assets.month_queue import queue_months
from scout_assets.sql_files import sql_text

STORES = "dbo.Stores"
REGIONS = "dbo.Region"
LIMITS = "ref.plausibility_limits"
WATCHED = (STORES, REGIONS, LIMITS)
REASON = "reference change"


def reference_before_change(con, changed_tables) -> dict[str, pd.DataFrame]:
    """The watched tables about to be replaced, as they stand (call before writing them)."""
    return {t: con.execute(f"select * from {t}").df() for t in changed_tables if t in WATCHED}


def _changed_rows(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Rows in one frame and not the other (added, removed, or either side of an edit)."""
    columns = [c for c in new.columns if c != "source"]  # where a row came from is no change

    def rows(frame: pd.DataFrame) -> set[tuple]:
        picked = frame[columns].astype(object)
        return set(map(tuple, picked.where(picked.notna(), None).itertuples(index=False)))

    return pd.DataFrame(sorted(rows(old) ^ rows(new), key=str), columns=columns)


def queue_reference_changes(con, previous: dict[str, pd.DataFrame], batch_id: str,
                            now) -> list[date]:  # fmt: skip
    """Queue the months the changed watched tables alter; returns them."""
    if not previous:
        return []
    stores = con.execute(f"select * from {STORES}").df()
    changed_stores = _changed_rows(previous.get(STORES, stores), stores)
    store_ids = set(changed_stores.StoreID.dropna().astype(int))
    devices = {str(d).upper() for d in changed_stores.DeviceID.dropna()}
    if REGIONS in previous:
        regions = con.execute(f"select * from {REGIONS}").df()
        codes = set(_changed_rows(previous[REGIONS], regions).region_code)
        store_ids |= set(stores[stores.Region.isin(codes)].StoreID.astype(int))
    limits = con.execute(f"select * from {LIMITS}").df()
    changed_limits = _changed_rows(previous.get(LIMITS, limits), limits)
    lowest = changed_limits.groupby("limit_name")["pesos"].min().to_dict()

    relations = {
        "changed_stores": pd.DataFrame({"store_id": sorted(store_ids)}, dtype="Int64"),
        "changed_devices": pd.DataFrame({"device_id": sorted(devices)}, dtype=object),
    }
    for name, frame in relations.items():
        con.register(name, frame)
    try:
        months = {row[0] for row in con.execute(
            sql_text("operations/reference_affected_months.sql"),
            {"total_floor": lowest.get("transaction_total"),
             "line_floor": lowest.get("item_line")},
        ).fetchall()}  # fmt: skip
    finally:
        for name in relations:
            con.unregister(name)
    queue_months(con, months, REASON, batch_id, now)
    return sorted(months)
