"""Names shared across the code location: layers, pools, warehouse objects, check names.

Kept in one place so a rename shows up in review as one diff.
"""

from pathlib import Path

MANILA_TZ = "Asia/Manila"

# The real system's reference data shipped with the code (see its PROVENANCE.md).
REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"

# The embedded local setup (README's `make run`).
DEFAULT_WAREHOUSE = ".scout/warehouse.duckdb"
DEFAULT_DRIVE_DIR = ".scout/drive"
# `scout generate` notes the demo's first month here, inside the Drive folder (hidden: never
# listed); `make run` / `make ui` start the monthly partitions there (SCOUT_PARTITIONS_START).
DEMO_PARTITIONS_START_FILE = ".partitions-start"

# Layer = asset key prefix = group name.
BRONZE = "bronze"
SILVER = "silver"
GOLD = "gold"
PLATINUM = "platinum"
SERVING = "serving"

# Who launched a run, as a run tag the UI filters on (*Runs*, tag scout/trigger=cli): the
# sensors tag theirs with their names, the `scout` commands with "cli".
TRIGGER_TAG = "scout/trigger"
CLI_RUN_TAGS = {TRIGGER_TAG: "cli"}

# DuckDB allows one writing process: every asset that writes the warehouse shares this pool
# (limit 1 in dagster.yaml), so concurrent runs and backfills queue instead of failing.
WAREHOUSE_POOL = "warehouse"

# The partition column every monthly table carries: the first day of the transaction's
# Manila-local month. Deletes, inserts and publishes are keyed on it.
MONTH_COLUMN = "txn_month"

UNKNOWN_BRAND = "Unknown Brand"
UNSPECIFIED_CATEGORY = "Unspecified"
GENERAL_DEPARTMENT = "General Merchandise"

OWNER_TAGS = {"domain": "retail-analytics"}
OWNERS = ["team:scout-data"]
WAREHOUSE_KINDS = {"duckdb", "sql"}
