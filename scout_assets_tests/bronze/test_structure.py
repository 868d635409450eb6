"""Bronze's structural judgement: readable JSON, an object of a known dialect, a transaction
id; nothing that depends on reference data or on other payloads."""

import pytest

from scout_assets.bronze.structure import (
    DEVICE,
    DOCUMENTED,
    INTERACTION,
    INTERACTIONS,
    TRANSACTIONS,
    judge_payload,
)


@pytest.mark.parametrize(
    "raw, dialect, canonical",
    [
        (
            b'{"transactionId": "AB-12", "storeId": 999999}',
            DEVICE,
            "ab12",
        ),  # unknown store: silver's
        (b'{"transactionId": 12345, "totals": {"totalAmount": -5}}', DEVICE, "12345"),
        (b'{"transaction_id": "X-1", "canonical_tx_id": ""}', DOCUMENTED, "x1"),
        (b'{"canonical_tx_id": "abc", "transaction_id": null}', DOCUMENTED, "abc"),
        (b'\xef\xbb\xbf{"transactionId": "bom"}', DEVICE, "bom"),
        (b'{"transactionId": "nan-total", "totals": {"totalAmount": NaN}}', DEVICE, "nantotal"),
    ],
)
def test_sound_transactions(raw, dialect, canonical):
    verdict = judge_payload(TRANSACTIONS, raw)

    assert verdict.sound, verdict.problem
    assert (verdict.dialect, verdict.canonical_tx_id) == (dialect, canonical)


@pytest.mark.parametrize(
    "raw, field, reason",
    [
        (b'{"transactionId": "abc", ', None, "malformed JSON: "),
        (b"", None, "malformed JSON: "),
        (b'[{"transactionId": "abc"}]', None, "JSON array is not a payload object"),
        (b'"abc"', None, "JSON string is not a payload object"),
        (b'{"deviceId": "SCOUTPI-0004"}', "transactionId", "no transaction id"),
        (b'{"transactionId": " - "}', "transactionId", 'transactionId is " - "'),
        (b'{"transactionId": true}', "transactionId", "transactionId is true"),
        (b'{"transactionId": {"id": 1}}', "transactionId", "no transaction id"),
        (
            b'{"transaction_id": "", "canonical_tx_id": null}',
            "canonical_tx_id",
            'canonical_tx_id or transaction_id is null, ""',
        ),
    ],
)
def test_unsound_transactions_name_the_field(raw, field, reason):
    verdict = judge_payload(TRANSACTIONS, raw)

    assert not verdict.sound
    assert verdict.field == field
    assert reason in verdict.problem


def test_the_device_a_payload_names_is_reported_upper_case():
    device = judge_payload(TRANSACTIONS, b'{"transactionId": "a", "deviceId": " scoutpi-0004 "}')
    documented = judge_payload(TRANSACTIONS, b'{"transaction_id": "a", "device_id": "scoutpi-7"}')
    unnamed = judge_payload(TRANSACTIONS, b'{"transactionId": "a"}')

    assert (device.device_id, documented.device_id, unnamed.device_id) == (
        "SCOUTPI-0004",
        "SCOUTPI-7",
        None,
    )


@pytest.mark.parametrize(
    "raw, canonical",
    [
        (b'{"InteractionID": "T-1", "DeviceID": "scoutpi-0004"}', "t1"),
        (b'{"interaction_id": "", "canonical_tx_id": "T-2"}', "t2"),
        (b'{"Interaction ID": "T-3"}', "t3"),
    ],
)
def test_interactions_take_their_id_from_any_spelling(raw, canonical):
    verdict = judge_payload(INTERACTIONS, raw)

    assert verdict.sound and verdict.dialect == INTERACTION
    assert verdict.canonical_tx_id == canonical


def test_an_interaction_without_an_id_names_the_field():
    verdict = judge_payload(INTERACTIONS, b'{"Gender": "F", "InteractionID": " "}')

    assert verdict.field == "InteractionID" and "no transaction id" in verdict.problem
