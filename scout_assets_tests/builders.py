"""Small builders for hand-written Drive files in tests (device and documented dialects)."""

from __future__ import annotations

import json
from pathlib import Path


def item(
    product: str, price: float, quantity: int = 1, brand: str = "", category: str = "", **extra
) -> dict:
    """One device-format item; totalPrice = unitPrice * quantity."""
    return {
        "brandName": brand,
        "productName": product,
        "sku": product.upper().replace(" ", "-"),
        "quantity": quantity,
        "unitPrice": price,
        "totalPrice": round(price * quantity, 2),
        "category": category,
        "confidence": 0.9,
        **extra,
    }


def device_payload(
    tx_id: str,
    items: list[dict],
    store: str | None = "104",
    device: str = "SCOUTPI-0004",
    timestamp: str = "",
    consent: str = "2025-09-13T00:41:13Z",
    total: float | None = None,
    payment: str = "cash",
) -> dict:
    """A Scout device payload as the stores' devices write it."""
    amount = round(sum(i["totalPrice"] for i in items), 2) if total is None else total
    payload = {
        "deviceId": device,
        "timestamp": timestamp,
        "transactionId": tx_id,
        "items": items,
        "totals": {"totalAmount": amount, "totalItems": len(items), "currency": "PHP"},
        "transactionContext": {
            "paymentMethod": payment,
            "duration": 6.0,
            "audioTranscript": "pabili po",
        },
        "privacy": {"consentTimestamp": consent, "audioStored": False},
    }
    if store is not None:
        payload["storeId"] = store
    return payload


def documented_payload(
    tx_id: str,
    items: list[tuple[str, float, int]],
    store: int = 102,
    timestamp: str = "2025-03-31T20:00:00Z",
) -> dict:
    """A payload in the documented snake_case dialect."""
    rows = [
        {
            "product_name": name,
            "sku": name.upper(),
            "barcode": "",
            "pack_size": "",
            "unit_price": price,
            "quantity": qty,
            "total_price": round(price * qty, 2),
            "confidence": 0.95,
        }
        for name, price, qty in items
    ]
    return {
        "transaction_id": tx_id,
        "interaction_id": tx_id,
        "canonical_tx_id": tx_id.replace("-", "").lower(),
        "timestamp": timestamp,
        "total_amount": round(sum(r["total_price"] for r in rows), 2),
        "total_items": len(rows),
        "payment_method": "gcash",
        "store_id": store,
        "items": rows,
    }


def write_json(path: Path, payload) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def interaction(
    tx_id: str, when: str, store: int = 104, gender: str = "F", age: int = 31, **extra
) -> dict:
    return {
        "InteractionID": tx_id,
        "StoreID": store,
        "DeviceID": "SCOUTPI-0004",
        "TransactionDate": when,
        "Gender": gender,
        "Age": age,
        "EmotionalState": "happy",
        **extra,
    }
