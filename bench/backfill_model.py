"""What N machines would do for a backfill one machine cannot: a model with its inputs, not a
measurement.

The lake section (bench/lake.py) measures the rates on this machine; the backfill's size is
assumed (stores, years, sales per store and day). The model follows what `scout run` does on
a lake (scout_assets/runner.py): one process lists the Drive and ingests every new file (one
writer), then the months are built by the machines at once, each month's units committing to
the one catalog. So

    wall(N) = listing + ingestion + max(month builds / min(N, months), catalog commits)

- the Drive's listing scales with its files, ingestion with the transactions; neither
  shrinks with N (one writer);
- month builds: one worker's seconds per transaction (silver, gold, platinum and their checks,
  Dagster included) times the transactions, shared by at most one machine per month; with
  more than one machine, the units retried after a commit conflict compute again;
- catalog commits are serial at the catalog: every unit's commit (and every retry's) goes
  through it at the rate measured with several committers at once.

A term that scales with the data is linear in it here: fixed costs per run (start-up, Dagster)
are folded into the per-transaction rates, which overstates them at the backfill's size.
"""

from __future__ import annotations

from dataclasses import dataclass

DAYS_PER_MONTH = 365.25 / 12
MACHINES = (1, 2, 4, 8, 16, 32)
# Doubling the machines gains less than this share of the wall time: adding more stops helping.
WORTHWHILE_GAIN = 0.10


@dataclass(frozen=True)
class BackfillInputs:
    """Measured on this machine (the first six) and assumed (the last four)."""

    listing_seconds_per_file: float  # the Drive's listing, per file it holds
    ingestion_seconds_per_transaction: float  # one writer: read, parse, load into bronze
    build_seconds_per_transaction: float  # one worker's month builds, per transaction
    catalog_commits_per_second: float  # small commits through the catalog, committers at once
    commits_per_month: float  # units a month's build commits (each its own transaction)
    retry_share: float  # units retried for a commit conflict, per unit committed, N > 1
    transactions_per_store_per_day: float
    transactions_per_file: float  # how devices or exports pack the Drive
    stores: int = 3000  # the retailer
    months: int = 120  # ten years

    @property
    def transactions(self) -> float:
        return self.stores * self.transactions_per_store_per_day * DAYS_PER_MONTH * self.months


@dataclass(frozen=True)
class BackfillEstimate:
    """Seconds per term, and the wall time, for one number of machines."""

    machines: int
    listing: float
    ingestion: float
    month_builds: float
    catalog_commits: float

    @property
    def wall(self) -> float:
        return self.listing + self.ingestion + max(self.month_builds, self.catalog_commits)

    @property
    def dominant(self) -> str:
        terms = {
            "Drive listing": self.listing,
            "one-writer ingestion": self.ingestion,
            "month builds": self.month_builds,
            "catalog commits": self.catalog_commits,
        }
        return max(terms, key=terms.__getitem__)


def estimate(inputs: BackfillInputs, machines: int) -> BackfillEstimate:
    """The backfill on ``machines`` machines (a month is one machine's unit of work)."""
    if machines < 1:
        raise ValueError("machines must be at least 1")
    retried = inputs.retry_share if machines > 1 else 0.0
    builders = min(machines, inputs.months)
    total = inputs.transactions
    return BackfillEstimate(
        machines=machines,
        listing=total / inputs.transactions_per_file * inputs.listing_seconds_per_file,
        ingestion=total * inputs.ingestion_seconds_per_transaction,
        month_builds=total * inputs.build_seconds_per_transaction * (1 + retried) / builders,
        catalog_commits=inputs.months * inputs.commits_per_month * (1 + retried)
        / inputs.catalog_commits_per_second,
    )  # fmt: skip


def saturation(inputs: BackfillInputs) -> int:
    """The number of machines beyond which adding more stops helping: the first N whose
    doubling would cut the wall time by less than ``WORTHWHILE_GAIN``."""
    for machines in range(1, inputs.months + 1):
        doubled = estimate(inputs, min(2 * machines, inputs.months)).wall
        if doubled > (1 - WORTHWHILE_GAIN) * estimate(inputs, machines).wall:
            return machines
    return inputs.months
