"""Sales as the documents the Drive receives: device payloads (camelCase), the documented
snake_case dialect, and interaction records in the production column names."""

from __future__ import annotations

import numpy as np

from scout_assets.demo.catalogue import Catalogue
from scout_assets.demo.delivery_plan import NoisePlan
from scout_assets.demo.interactions import EMOTIONS, FACES_PER_STORE, GENDER_SPELLINGS, Meetings
from scout_assets.demo.sales import (
    PAYMENT_METHODS,
    TS_EMPTY,
    TS_NAIVE,
    TS_UTC,
    Items,
    Transactions,
)
from scout_assets.demo.stores import Store

_MANILA_OFFSET = np.timedelta64(8, "h")


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated aranges start[i]:start[i]+count[i], without a Python loop."""
    ends = np.cumsum(counts)
    return np.repeat(starts - ends + counts, counts) + np.arange(ends[-1] if len(ends) else 0)


def _cents(value: float) -> int:
    return int(round(value * 100))


class Renderer:
    """Turns sales (by number) into device, documented and interaction documents."""

    def __init__(
        self,
        tx: Transactions,
        items: Items,
        catalogue: Catalogue,
        stores: list[Store],
        plan: NoisePlan,
    ) -> None:
        self.tx, self.items, self.cat, self.stores, self.plan = tx, items, catalogue, stores, plan

    # Device dialect -------------------------------------------------------------------------

    def device_payloads(self, txs: np.ndarray) -> list[dict]:
        """Device-format payloads for these sales, noise (bad values) applied."""
        tx, bad, ids, transcripts = self.tx, self.plan.bad, self.tx.ids, self.tx.transcripts
        lines = self._device_items(_ranges(tx.item_start[txs], tx.n_items[txs]))
        local, utc, consent = self._times(txs)
        columns = zip(
            txs.tolist(),
            tx.n_items[txs].tolist(),
            tx.store[txs].tolist(),
            tx.ts_style[txs].tolist(),
            tx.store_missing[txs].tolist(),
            (tx.total_cents[txs] / 100).tolist(),
            tx.payment[txs].tolist(),
            tx.duration[txs].tolist(),
            local,
            utc,
            consent,
        )
        store_ids = [str(s.store_id) for s in self.stores]
        devices = [s.device_id for s in self.stores]
        out, pos = [], 0
        for t, n, s, style, missing, amount, pay, duration, loc, u, cons in columns:
            payload = {
                "storeId": store_ids[s],
                "deviceId": devices[s],
                "timestamp": (
                    ""
                    if style == TS_EMPTY
                    else u + "Z"
                    if style == TS_UTC
                    else loc
                    if style == TS_NAIVE
                    else loc + "+08:00"
                ),
                "transactionId": ids[t],
                "items": lines[pos : pos + n],
                # totalItems counts item lines (as bronze/parsing.py checks), not units sold.
                "totals": {"totalAmount": amount, "totalItems": n, "currency": "PHP"},
                "transactionContext": {
                    "paymentMethod": PAYMENT_METHODS[pay],
                    "duration": duration,
                    "audioTranscript": transcripts[t],
                },
                "privacy": {"consentTimestamp": cons, "audioStored": False},
            }
            pos += n
            if missing:
                del payload["storeId"]
            if t in bad:
                _spoil(payload, bad[t])
            out.append(payload)
        return out

    def resend_payload(self, t: int) -> dict:
        """The second, different version of a sale: one line fewer or a corrected price."""
        payload = self.device_payloads(np.array([t]))[0]
        items = payload["items"]
        if self.plan.resend_change[t] == "dropped_item":
            items.pop()
        else:
            line = items[0]
            unit = _cents(line["unitPrice"]) + 100 * (1 + t % 5)
            line["unitPrice"] = unit / 100
            line["totalPrice"] = unit * line["quantity"] / 100
        payload["totals"]["totalAmount"] = sum(_cents(i["totalPrice"]) for i in items) / 100
        payload["totals"]["totalItems"] = len(items)
        return payload

    def _device_items(self, idx: np.ndarray) -> list[dict]:
        it, cat = self.items, self.cat
        products = it.product[idx]
        columns = zip(
            idx.tolist(),
            products.tolist(),
            it.quantity[idx].tolist(),
            (it.unit_cents[idx] / 100).tolist(),
            (it.total_cents[idx] / 100).tolist(),
            it.confidence[idx].tolist(),
            it.blank_brand[idx].tolist(),
            # An optional field is written only when the product has a value for it.
            (it.show_subcategory[idx] & cat.has_subcategory[products]).tolist(),
            it.show_pack[idx].tolist(),
            (it.show_barcode[idx] & cat.has_barcode[products]).tolist(),
        )
        brand_of, name_of, sku, category = cat.brand, cat.name, cat.sku, cat.category
        brand_override, name_override = it.brand_override, it.name_override
        substitution = it.substitution
        lines = []
        for i, p, quantity, unit, total, confidence, blank, sub, pack, code in columns:
            brand = brand_override.get(i) or brand_of[p]
            line = {
                "brandName": brand,
                "productName": name_override.get(i) or name_of[p],
                "sku": sku[p],
                "quantity": quantity,
                "unitPrice": unit,
                "totalPrice": total,
                "category": category[p],
                "confidence": confidence,
            }
            if not (brand or blank):  # unbranded goods: brandName "" or no key at all
                del line["brandName"]
            if sub:
                line["subcategory"] = cat.subcategory[p]
            if pack:
                line["packSize"] = cat.pack[p]
            if code:
                line["barcode"] = cat.barcode[p]
            if i in substitution:
                requested, reason = substitution[i]
                line["isSubstitution"] = True
                line["originalBrandRequested"] = requested
                line["substitutionReason"] = reason
            lines.append(line)
        return lines

    def _times(self, txs: np.ndarray) -> tuple[list[str], list[str], list[str]]:
        ts = self.tx.ts[txs]
        utc = ts - _MANILA_OFFSET
        consent = utc - self.tx.consent_lag[txs].astype("timedelta64[s]")
        return (
            np.datetime_as_string(ts, unit="s").tolist(),
            np.datetime_as_string(utc, unit="s").tolist(),
            [s + "Z" for s in np.datetime_as_string(consent, unit="s").tolist()],
        )

    # Documented dialect ---------------------------------------------------------------------

    def documented_payloads(self, txs: np.ndarray) -> list[dict]:
        """The documented snake_case format: flat, no brand or category, always timed."""
        tx, it, cat = self.tx, self.items, self.cat
        local, utc, _ = self._times(txs)
        out = []
        for j, t in enumerate(txs.tolist()):
            lines = []
            for i in range(tx.item_start[t], tx.item_start[t + 1]):
                p = int(it.product[i])
                lines.append(
                    {
                        "product_name": it.name_override.get(i, cat.name[p]),
                        "sku": cat.sku[p],
                        "barcode": cat.barcode[p] or None,
                        "pack_size": cat.pack[p],
                        "unit_price": int(it.unit_cents[i]) / 100,
                        "quantity": int(it.quantity[i]),
                        "total_price": int(it.total_cents[i]) / 100,
                        "confidence": float(it.confidence[i]),
                    }
                )
            tx_id = tx.ids[t]
            out.append(
                {
                    "transaction_id": tx_id,
                    "interaction_id": tx_id,
                    "canonical_tx_id": tx_id.replace("-", ""),
                    "timestamp": utc[j] + "Z" if tx.ts_style[t] == TS_UTC else local[j] + "+08:00",
                    "total_amount": int(tx.total_cents[t]) / 100,
                    "total_items": len(lines),
                    "payment_method": PAYMENT_METHODS[tx.payment[t]],
                    "store_id": self.stores[tx.store[t]].store_id,
                    "items": lines,
                }
            )
        return out

    # Interactions ---------------------------------------------------------------------------

    def interaction_rows(self, meet: Meetings, rows: np.ndarray) -> list[dict]:
        """Interaction records (rows index ``meet.txs``), in the production column names."""
        tx = self.tx
        txs = meet.txs[rows]
        columns = zip(
            txs.tolist(),
            tx.store[txs].tolist(),
            np.datetime_as_string(tx.ts[txs], unit="s").tolist(),
            meet.face[rows].tolist(),
            meet.id_style[rows].tolist(),
            meet.gender_spelling[rows].tolist(),
            meet.emotion[rows].tolist(),
            meet.with_canonical[rows].tolist(),
            meet.enriched[rows].tolist(),
            meet.accepted[rows].tolist(),
        )
        out = []
        for t, s, when, face, id_style, spelling, emotion, canonical, enriched, ok in columns:
            store = self.stores[s]
            tx_id = tx.ids[t]
            row = {
                "InteractionID": (tx_id, tx_id.upper(), tx_id.replace("-", ""))[id_style],
                "StoreID": store.store_id,
                "DeviceID": store.device_id,
                "TransactionDate": when,
                "FacialID": meet.face_hex[face],
                "Gender": GENDER_SPELLINGS[spelling][meet.face_gender[face]],
                "Age": meet.face_age[face],
                "EmotionalState": EMOTIONS[emotion],
                "TranscriptionText": tx.transcripts[t],
                "Barangay": store.barangay,
            }
            if canonical:
                row["canonical_tx_id"] = tx_id.replace("-", "")
            if enriched:
                self._enrich(row, t, face % FACES_PER_STORE, ok)
            out.append(row)
        return out

    def _enrich(self, row: dict, t: int, rank: int, accepted: bool) -> None:
        row["customer_type"] = "Suki" if rank < 15 else "Regular" if rank < 70 else "New"
        first = int(self.tx.item_start[t])
        subs = [
            self.items.substitution[i]
            for i in range(first, first + int(self.tx.n_items[t]))
            if i in self.items.substitution
        ]
        row["substitution_event"] = bool(subs)
        if subs:
            row["substitution_reason"] = subs[0][1]
            row["suggestion_accepted"] = accepted


def _spoil(payload: dict, kind: str) -> None:
    """Apply one deliberately bad value (BAD_PAYLOAD_KINDS) to a device payload."""
    totals = payload["totals"]
    if kind == "string_total":
        totals["totalAmount"] = f"{totals['totalAmount']:.2f}"
    elif kind == "negative_total":
        totals["totalAmount"] = -totals["totalAmount"]
    elif kind == "non_numeric_total":
        totals["totalAmount"] = "abc"
    elif kind == "missing_transaction_id":
        del payload["transactionId"]
    elif kind == "unknown_store":
        payload["storeId"] = "999"
