"""Gold: the per-transaction analytics that dashboards and the analysts' export read.

The models are declared in ``scout_assets/models.py``; each month they reconcile, to the
centavo, with the layer below (``checks/reconciliation.py``)."""

from scout_assets.checks.reconciliation import judge_flat, judge_nielsen
from scout_assets.constants import GOLD
from scout_assets.layers import ModelSteps, layer_asset

STEPS = {
    "transactions_flat_production": ModelSteps(judge=judge_flat),
    "nielsen_complete_analytics": ModelSteps(judge=judge_nielsen),
}

assets = [layer_asset(GOLD, STEPS)]
