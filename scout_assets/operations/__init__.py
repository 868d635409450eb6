"""Operator commands: rollback, doctor, backfill (also as Dagster jobs and schedules)."""
