"""Scout pipelines: the Dagster code location (``definitions.py``) and the ``scout`` CLI."""

import logging
import re
import warnings

# Dagster beta APIs the project uses on purpose. Each warns once per code load, and every run
# process loads the code: about 220 lines in `dagster dev` for no news. Silenced by their exact
# messages (no Dagster import here: `scout run` answers "nothing new" before importing it), so
# any other beta API, or any other warning, still shows.
BETA_APIS_IN_USE = (
    # Single-run backfills: a range of months is one run (layers.py, serving/assets.py).
    "Parameter `backfill_policy` of function `asset`",
    # Typed, validated reference workbooks (bronze/reference.py).
    "Class `PandasColumn`",
    "Function `create_dagster_pandas_dataframe_type`",
)
for _api in BETA_APIS_IN_USE:
    warnings.filterwarnings("ignore", message=re.escape(_api) + " is currently in beta")


class _NotAGate(logging.Filter):
    """Dagster notes, for every run, that our blocking checks 'emitted no result' in their
    step: each month's verdict is a partitioned check evaluation, not a step output, and a
    blocking ERROR gates by failing the step (layers.py), so the note is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step" not in record.getMessage()


logging.getLogger("dagster._core.execution.plan.active").addFilter(_NotAGate())
