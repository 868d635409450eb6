"""`scout doctor` on a schedule: its findings go to audit.CheckResults, where the alert sensor
turns a new problem into one alert (and its end into one recovery)."""

import dagster as dg

from scout_assets.checks.verdicts import ERROR, WARN, record_verdicts
from scout_assets.constants import MANILA_TZ, WAREHOUSE_POOL
from scout_assets.operations.doctor import diagnose, exit_status, report
from scout_assets.resources.warehouse import DuckDBWarehouse

JOB_NAME = "scout_doctor"
SCHEDULE_NAME = "scout_health"
CRON = "*/30 * * * *"  # twice an hour: the failed-process window is 2 hours


@dg.op(pool=WAREHOUSE_POOL, description="Run the health procedures and record the findings.")
def doctor_op(context: dg.OpExecutionContext, warehouse: DuckDBWarehouse) -> None:
    """The original's health procedures: failed processes, stale tables, quality degradation,
    taxonomy integrity."""
    with warehouse.connection() as con:
        findings = diagnose(con)
        record_verdicts(con, findings, context.run.run_id)
    context.log.info(report(findings, []))
    context.add_output_metadata(
        {
            "findings": len(findings),
            "warnings": sum(f.severity == WARN for f in findings),
            "errors": sum(f.severity == ERROR for f in findings),
            "exit_status": exit_status(findings),
        }
    )


@dg.job(name=JOB_NAME, description="scout doctor: health procedures, findings recorded.")
def doctor_job():
    doctor_op()


health_schedule = dg.ScheduleDefinition(
    name=SCHEDULE_NAME,
    job=doctor_job,
    cron_schedule=CRON,
    execution_timezone=MANILA_TZ,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs scout doctor twice an hour; the alert sensor reports what it finds.",
)
