"""Sales interactions: the in-store camera/mic session that goes with a sale, which sales have
one and where its record is delivered."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scout_assets.demo.delivery_plan import NoisePlan, device_dialect
from scout_assets.demo.inputs import stream_rng
from scout_assets.demo.sales import TS_EMPTY, Transactions

# Where an interaction's record is delivered: its device's monthly NDJSON, the CSV export, the
# JSON-array export, or a late batch.
PLACED_JSONL, PLACED_CSV, PLACED_JSON_ARRAY, PLACED_LATE = 0, 1, 2, 3
_PLACEMENT_P = (0.78, 0.10, 0.10, 0.02)
_WITH_INTERACTION_SHARE = 0.80  # of sales whose payload already carries its time
FACES_PER_STORE = 150
EMOTIONS = ("Happy", "Neutral", "Satisfied", "Curious", "Confused", "Frustrated", "Surprised")
_EMOTION_P = (0.28, 0.34, 0.16, 0.08, 0.06, 0.04, 0.04)
GENDER_SPELLINGS = (("Male", "Female"), ("M", "F"), ("male", "female"))
_GENDER_SPELLING_P = (0.7, 0.2, 0.1)


@dataclass
class Meetings:
    """Interactions: which sales have one and what the session recorded."""

    has: np.ndarray  # bool per sale
    txs: np.ndarray  # sales with an interaction, time order
    placement: np.ndarray  # PLACED_*, per interaction
    id_style: np.ndarray  # 0 as sent, 1 upper case, 2 without hyphens
    face: np.ndarray  # global face number (store * FACES_PER_STORE + rank)
    face_hex: list[str]
    face_gender: list[int]  # per face: 0 male, 1 female
    face_age: list[int]
    gender_spelling: np.ndarray
    emotion: np.ndarray
    with_canonical: np.ndarray  # bool: canonical_tx_id column filled
    enriched: np.ndarray  # bool: customer_type / substitution columns filled
    accepted: np.ndarray  # bool: suggestion_accepted


def plan_interactions(
    tx: Transactions, routes: np.ndarray | None, plan: NoisePlan, n_stores: int, seed: int
) -> Meetings:
    """Every empty-timestamp device payload gets an interaction (that is how its time is
    known) unless noise lost it; most other sales get one too."""
    rng = stream_rng(seed, "interactions")
    n = len(tx.ts)
    needs = device_dialect(routes, n) & (tx.ts_style == TS_EMPTY)
    has = np.where(needs, ~plan.lost_interaction, rng.random(n) < _WITH_INTERACTION_SHARE)
    txs = np.flatnonzero(has)
    m = len(txs)
    faces = n_stores * FACES_PER_STORE
    rank_p = 1 / np.arange(1, FACES_PER_STORE + 1) ** 0.9  # regulars come back often
    rank = rng.choice(FACES_PER_STORE, size=m, p=rank_p / rank_p.sum())
    return Meetings(
        has=has,
        txs=txs,
        placement=rng.choice(4, size=m, p=_PLACEMENT_P),
        id_style=rng.choice(3, size=m, p=(0.8, 0.1, 0.1)),
        face=tx.store[txs] * FACES_PER_STORE + rank,
        face_hex=[f"{v:016x}" for v in rng.integers(0, 1 << 62, faces).tolist()],
        face_gender=(rng.random(faces) < 0.58).astype(int).tolist(),  # more women shop
        face_age=np.clip(np.rint(rng.normal(38, 13, faces)), 15, 80).astype(int).tolist(),
        gender_spelling=rng.choice(3, size=m, p=_GENDER_SPELLING_P),
        emotion=rng.choice(len(EMOTIONS), size=m, p=_EMOTION_P),
        with_canonical=rng.random(m) < 0.3,
        enriched=rng.random(m) < 0.6,
        accepted=rng.random(m) < 0.8,
    )
