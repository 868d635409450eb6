"""Serving assets: the served objects as they stand on Azure SQL / SQL Server or PostgreSQL.

Only part of the definitions when a publish target is configured (``serving_assets(target)``).
They read the DuckDB file, so they share the warehouse pool with every writer of it. Publishing
runs itself: ``published_months`` belongs to the ``build_months`` job, so every run that
rebuilds months (the rebuild sensor's, a backfill's, `scout run`'s) publishes them; and
``published_tables`` to ``refresh_monitors``, which follows every rebuild.
"""

import time
from typing import Any

import dagster as dg

from scout_assets.constants import OWNER_TAGS, OWNERS, SERVING, WAREHOUSE_POOL
from scout_assets.layers import MONITOR_TAGS
from scout_assets.partitions import context_months, monthly_partitions
from scout_assets.resources.odbc_warehouse import (
    OdbcWarehouse,
    ServingError,
    WarehouseUnreachable,
)
from scout_assets.resources.warehouse import DuckDBWarehouse, elapsed_since
from scout_assets.serving.objects import SERVED_OBJECTS
from scout_assets.serving.publish import Outcome, Publisher, summary

# The resource key the assets' ``serving_warehouse`` parameter names.
SERVING_RESOURCE = "serving_warehouse"
KINDS = {"mssql": {"azure", "sqlserver"}, "postgres": {"postgres"}}

# Unreachable servers and transient errors: the adapter retries within the step, Dagster
# retries the step, then the run fails and the failure alert goes out. A refused login or
# drift raises Failure(allow_retries=False): retrying cannot fix them.
RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL)


def _deps(monthly: bool) -> list[dg.AssetKey]:
    return [dg.AssetKey(list(s.asset)) for s in SERVED_OBJECTS if s.monthly == monthly and s.asset]


def _metadata(outcomes: list[Outcome], started: float) -> dict:
    published = sum(o.rows for o in outcomes)
    table = summary(outcomes)
    return {
        "rows_published": published,
        "units_published": sum(o.status != "unchanged" for o in outcomes),
        "units_unchanged": sum(o.status == "unchanged" for o in outcomes),
        "per_object": dg.MetadataValue.md(
            table.to_pandas().to_markdown(index=False) if table.num_rows else "_nothing_"
        ),
        "seconds": elapsed_since(started),
    }


def _run(publisher: Publisher, action) -> list[Outcome]:
    """Prepare the target and publish; errors become Dagster failures with their message."""
    try:
        publisher.prepare()
        return action(publisher)
    except WarehouseUnreachable as error:  # retried by RETRY_POLICY, then the run fails
        raise dg.Failure(description=str(error)) from error
    except ServingError as error:  # refused login, drift, a value that does not fit
        raise dg.Failure(description=str(error), allow_retries=False) from error


def serving_assets(target: str | None) -> list:
    """The serving assets for ``target`` ("mssql" or "postgres"); none when it is not set.

    They need the ``serving_warehouse`` resource: ``odbc_warehouse_from_env(target, env)``.
    """
    if not target:
        return []
    common: dict[str, Any] = dict(
        group_name=SERVING,
        pool=WAREHOUSE_POOL,
        kinds=KINDS[target] | {"duckdb"},
        tags=OWNER_TAGS,
        owners=OWNERS,
        retry_policy=RETRY_POLICY,
        metadata={"target": target},
    )

    @dg.asset(
        key=[SERVING, "published_months"],
        deps=_deps(monthly=True),
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        **common,
    )
    def published_months(
        context: dg.AssetExecutionContext,
        warehouse: DuckDBWarehouse,
        serving_warehouse: OdbcWarehouse,
    ) -> dg.MaterializeResult:
        """Silver, gold and platinum months as the consumers read them on the serving warehouse.

        Each changed month of each monthly object is replaced in one transaction on the target,
        with its PublishLog and ETLProcessingLog rows; unchanged months are skipped.
        """
        started = time.perf_counter()
        months = context_months(context)
        publisher = Publisher(
            warehouse, serving_warehouse, context.run.run_id, log=context.log.info
        )
        outcomes = _run(publisher, lambda p: p.publish_months(months[0], months[-1]))
        return dg.MaterializeResult(metadata=_metadata(outcomes, started))

    # With the monitors (scope: monitor): refreshed and published by the same run.
    @dg.asset(
        key=[SERVING, "published_tables"],
        deps=_deps(monthly=False),
        **{**common, "tags": MONITOR_TAGS},
    )
    def published_tables(
        context: dg.AssetExecutionContext,
        warehouse: DuckDBWarehouse,
        serving_warehouse: OdbcWarehouse,
    ) -> dg.MaterializeResult:
        """Reference tables, platinum monitors and the ETL log on the serving warehouse.

        A table is replaced whole when its content fingerprint changed; the log only receives
        rows it has not received before.
        """
        started = time.perf_counter()
        publisher = Publisher(
            warehouse, serving_warehouse, context.run.run_id, log=context.log.info
        )
        outcomes = _run(publisher, lambda p: p.publish_tables())
        return dg.MaterializeResult(metadata=_metadata(outcomes, started))

    return [published_months, published_tables]
