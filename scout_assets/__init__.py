"""Scout pipelines: the Dagster code location (``definitions.py``) and the ``scout`` CLI."""

import re
import warnings

# Dagster beta APIs the project uses on purpose. Each warns once per code load, and every run
# process loads the code: about 220 lines in `dagster dev` for no news. Silenced by their exact
# messages (no Dagster import here: `scout run` answers "nothing new" before importing it), so
# any other beta API, or any other warning, still shows.
BETA_APIS_IN_USE = (
    # Single-run backfills: a range of months is one run (monthly.py, serving/assets.py).
    "Parameter `backfill_policy` of function `asset`",
    # Typed, validated reference workbooks (bronze/reference.py).
    "Class `PandasColumn`",
    "Function `create_dagster_pandas_dataframe_type`",
)
for _api in BETA_APIS_IN_USE:
    warnings.filterwarnings("ignore", message=re.escape(_api) + " is currently in beta")
