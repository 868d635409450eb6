"""Jobs: the units an operator (or `scout run`) launches."""

import dagster as dg

from scout_assets.constants import BRONZE, GOLD, PLATINUM, SERVING, SILVER

# Bronze: reference data and every new Drive file.
ingest_job = dg.define_asset_job(
    name="ingest_drive",
    selection=dg.AssetSelection.groups(BRONZE),
    description="Load reference data and every new Drive file into bronze.",
)

# Silver -> gold -> platinum for a range of months (one run per range: single-run backfills),
# then, when a publish target is configured, the same months on the serving warehouse.
monthly_job = dg.define_asset_job(
    name="build_months",
    selection=dg.AssetSelection.groups(SILVER, GOLD, PLATINUM, SERVING)
    - dg.AssetSelection.tag("scope", "monitor"),
    description="Rebuild silver, gold and platinum for the chosen months (and publish them).",
)

# The unpartitioned monitors, refreshed after every run (then published, with a target).
monitors_job = dg.define_asset_job(
    name="refresh_monitors",
    selection=dg.AssetSelection.tag("scope", "monitor"),
    description="Refresh the data-quality and pipeline monitors.",
)

jobs = [ingest_job, monthly_job, monitors_job]
