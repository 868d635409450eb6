"""`scout backup` every night: a consistent copy of the warehouse, then retention.

Stopped by default (a laptop's demo warehouse needs no nightly copy); SCOUT_BACKUP_SCHEDULE=on
starts it running, as the production configuration does (deploy/production/scout.env). The
op is in the ``warehouse`` pool: queued runs that write the warehouse wait for it, and
`scout run`, outside the queue, waits on the file's lock.
"""

import dagster as dg

from scout_assets.constants import MANILA_TZ, WAREHOUSE_POOL
from scout_assets.operations.backup import KEEP_DAILY, KEEP_WEEKLY, back_up
from scout_assets.resources.warehouse import DuckDBWarehouse

JOB_NAME = "scout_backup"
SCHEDULE_NAME = "scout_nightly_backup"
CRON = "30 2 * * *"  # 02:30 Manila: after the evening uploads, before the morning's


class BackupConfig(dg.Config):
    """Retention: the newest backup of each of the last N days and of the last M weeks."""

    keep_daily: int = KEEP_DAILY
    keep_weekly: int = KEEP_WEEKLY


@dg.op(pool=WAREHOUSE_POOL, description="Back up the warehouse, then apply retention.")
def backup_op(context: dg.OpExecutionContext, config: BackupConfig,
              warehouse: DuckDBWarehouse) -> None:  # fmt: skip
    """A copy taken under the warehouse's lock with its manifest (scout_assets/operations/
    backup.py); older backups beyond retention are removed."""
    if warehouse.lake is not None:
        raise dg.Failure("a lake is backed up by its catalog database's and data path's own "
                         "services, not by this job (docs/SCALING.md, 'Backups and time "
                         "travel')", allow_retries=False)  # fmt: skip
    if not warehouse.backup_dir:
        raise dg.Failure("the warehouse resource has no backup_dir", allow_retries=False)
    backup, removed = back_up(warehouse.path, warehouse.backup_dir, None, config.keep_daily,
                              config.keep_weekly, log=context.log.info)  # fmt: skip
    context.log.info(f"backup {backup.describe()}; removed {len(removed)} older backup(s)")
    context.add_output_metadata(
        {
            "path": dg.MetadataValue.path(str(backup.path)),
            "bytes": backup.size,
            "sha256": backup.sha256,
            "schema_version": backup.schema_version,
            "last_batch_id": backup.last_batch_id or "none",
            "seconds": backup.seconds,
            "removed": [str(b.path) for b in removed],
        }
    )


@dg.job(name=JOB_NAME, description="scout backup: a consistent copy of the warehouse, with "
        "its manifest, then retention.")  # fmt: skip
def backup_job():
    backup_op()


def build_backup_schedule(running: bool) -> dg.ScheduleDefinition:
    """Nightly; running by default only when the configuration says so."""
    return dg.ScheduleDefinition(
        name=SCHEDULE_NAME,
        job=backup_job,
        cron_schedule=CRON,
        execution_timezone=MANILA_TZ,
        default_status=dg.DefaultScheduleStatus.RUNNING
        if running
        else dg.DefaultScheduleStatus.STOPPED,
        description="Backs up the warehouse every night at 02:30 Manila (docs/OPERATIONS.md, "
        "'Backups and recovery').",
    )
