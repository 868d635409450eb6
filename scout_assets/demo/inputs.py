"""What every demo Drive is drawn from: the real reference data and one seeded stream per concern."""

from __future__ import annotations

import csv
import zlib

import numpy as np

from scout_assets.constants import REFERENCE_DIR


def read_reference_csv(name: str) -> list[dict[str, str]]:
    """The rows of one of the package's real reference files (``reference_data/``)."""
    with open(REFERENCE_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def stream_rng(seed: int, stream: str) -> np.random.Generator:
    """One independent generator per concern, so that e.g. switching noise off or changing
    the layout leaves the sales themselves identical."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])
