"""Quality gates on every layer: check definitions, severities and the persisted verdicts.

``names`` holds check names and thresholds; ``verdicts`` the shared shape (a verdict per check
and subject, its Dagster result, its ``audit.CheckResults`` row); ``silver`` the checks judged
inside the monthly transactions; ``scanning`` the ``@asset_check``s (bronze batch, schema of
served objects); ``freshness`` the freshness policy that ``definitions.py`` applies.
"""
