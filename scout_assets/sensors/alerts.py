"""The alert sensor: every new problem is sent once, and its recovery once.

Where problems come from, on each tick:

- ``audit.CheckResults``: the verdicts of Scout's own checks (written with the months they
  judge) and of ``scout doctor``'s scheduled runs;
- other asset checks' evaluations in the Dagster event log (gold's reconciliation checks): each
  is split into one verdict per month it names (``months_judged`` / ``months_disagreeing``
  metadata) and recorded in ``audit.CheckResults`` as well;
- run failures and successes in the event log: a failed run is a problem of its job for each
  month it covered (or ``all``), a later successful run of those months is its recovery. Runs
  that will be retried are skipped, and so are runs that failed only because a blocking check
  failed (that check's own verdict is the alert);
- Dagster's freshness states (FreshnessPolicy, evaluated by the freshness daemon);
- the recent ticks of the code location's other sensors and schedules (``ticks.py``): ticks
  that keep failing are a problem.

A problem is identified by ``check|asset|subject`` (subject: the month, ``latest``, a table).
``audit.AlertLog`` holds the last alert per problem, so the sensor sends "problem" when the
current verdict fails and the last alert is not a problem (or the severity rose from WARN to
ERROR), and "recovered" when it passes and the last alert was a problem. However often a
month fails, that is one alert. Delivery goes through the ``Notifier``'s outbox. The problems
still open are listed on the ``monitoring/open_problems`` asset (``open_problems.py``),
recorded again whenever the list changes.
"""

import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date

import dagster as dg
import duckdb

from scout_assets.checks import names
from scout_assets.checks.catalog import CHECKS
from scout_assets.checks.verdicts import (
    ERROR,
    INFO,
    OK,
    PERSISTED_KEY,
    SEVERITY_RANK,
    WARN,
    Verdict,
    asset_label,
    month_label,
    record_verdicts,
)
from scout_assets.error_classes import OPERATOR
from scout_assets.errors import ERROR_CLASS_KEY
from scout_assets.layers import BLOCKING_CHECK_KEY
from scout_assets.partitions import month_of_key, months_in_range
from scout_assets.resources.duckdb_files import WarehouseLocked
from scout_assets.resources.notifier import (
    PROBLEM,
    RECOVERED,
    Alert,
    DeliveryError,
    Notifier,
    compose,
)
from scout_assets.resources.warehouse import DuckDBWarehouse
from scout_assets.row_ids import next_row_id
from scout_assets.sensors.open_problems import digest, open_problems, open_problems_event
from scout_assets.sensors.ticks import tick_verdicts
from scout_assets.sql_files import sql_text
from scout_assets.time import manila_from_timestamp, manila_now, manila_text

SENSOR_NAME = "scout_alerts"
INTERVAL_SECONDS = 30
EVENTS_PER_TICK = 200
DELIVERIES_PER_TICK = 500
WAREHOUSE_WAIT_SECONDS = 10.0
WILL_RETRY_TAG = "dagster/will_retry"
_MONTH = re.compile(r"\b(\d{4})-(\d{2})(?:-01)?\b")

# Every check records its own verdicts in audit.CheckResults (layers.py).
OWN_CHECK_KEYS = frozenset(
    dg.AssetCheckKey(dg.AssetKey(check.model.split("/")), check.name) for check in CHECKS
)


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB file: try again on the next tick."""


@dataclass
class AlertCursor:
    """How far the sensor has read the event log."""

    runs: int = 0  # storage id of the last run status event processed
    checks: int = 0  # id of the last asset check execution processed
    shown: str = ""  # digest of the open problems the UI shows (open_problems.py)

    @classmethod
    def parse(cls, text: str | None) -> "AlertCursor":
        return cls(**json.loads(text)) if text else cls()

    def dump(self) -> str:
        return json.dumps(asdict(self))


@dataclass
class TickSummary:
    verdicts_recorded: int = 0
    alerts_queued: int = 0
    messages_sent: int = 0
    deliveries_failed: int = 0
    open_problems: int = 0
    # The open problems for the UI, when they changed since the UI last showed them.
    shown: dg.AssetMaterialization | None = None

    def __str__(self) -> str:
        return (f"{self.verdicts_recorded} verdicts recorded, {self.alerts_queued} alerts queued, "
                f"{self.messages_sent} messages sent, {self.deliveries_failed} failed; "
                f"{self.open_problems} open problem(s)")  # fmt: skip


def problem_key(verdict: Verdict) -> str:
    return f"{verdict.check_name}|{verdict.asset}|{verdict.subject}"


# -- what changed (pure) -----------------------------------------------------------------------


def transitions(verdicts: Iterable[Verdict], states: dict[str, tuple[str, str]]) -> list[Alert]:
    """Alerts for the verdicts whose problem state differs from the last alert sent."""
    alerts = []
    for verdict in verdicts:
        key = problem_key(verdict)
        last_state, last_severity = states.get(key, (RECOVERED, OK))
        if not verdict.passed and (
            last_state != PROBLEM or SEVERITY_RANK[verdict.severity] > SEVERITY_RANK[last_severity]
        ):
            state, severity = PROBLEM, verdict.severity
        elif verdict.passed and last_state == PROBLEM:
            state, severity = RECOVERED, INFO
        else:
            continue
        alerts.append(Alert(key, state, severity, verdict.check_name, verdict.asset,
                            verdict.subject, verdict.description))  # fmt: skip
    return alerts


def parse_months(text) -> list[date]:
    """Months named in a metadata string ("2025-03, 2025-04"), in order, without repeats."""
    found = [date(int(y), int(m), 1) for y, m in _MONTH.findall(str(text or ""))]
    return list(dict.fromkeys(found))


# -- problems from the Dagster event log ---------------------------------------------------------


def run_subjects(tags: Mapping[str, str]) -> list[tuple[str, date | None]]:
    """The months a run covered, from its partition tags; ``all`` when it is unpartitioned."""
    start = tags.get("dagster/asset_partition_range_start")
    end = tags.get("dagster/asset_partition_range_end")
    if start and end:
        months = months_in_range(start, end)
    elif tags.get("dagster/partition"):
        months = [month_of_key(tags["dagster/partition"])]
    else:
        return [("all", None)]
    return [(month_label(m), m) for m in months]


def _step_failures(instance: dg.DagsterInstance, run_id: str) -> list:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    return [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event]


def _failure_description(run: dg.DagsterRun, failures: list) -> str:
    if not failures:
        return f"run {run.run_id[:8]} of {run.job_name} failed before any step failed"
    parts = []
    for event in failures[:3]:
        data = event.step_failure_data
        error = data.error
        metadata = data.user_failure_data.metadata if data.user_failure_data else {}
        if ERROR_CLASS_KEY in metadata:  # classified by scout_assets/errors.py
            label, text = f"{metadata[ERROR_CLASS_KEY].value} error", error.message if error else ""
        else:
            while error is not None and error.cause is not None:
                error = error.cause  # the user's own exception, under Dagster's wrappers
            label, text = (error.cls_name, error.message) if error else ("error", "")
        lines = [line for line in text.strip().splitlines() if line.strip()]
        last = lines[-1] if lines else ""
        parts.append(f"{event.step_key}: {label}: {last.removeprefix(label + ': ')}"[:300])
    return f"run {run.run_id[:8]} of {run.job_name} failed; " + "; ".join(parts)


def _alerts_elsewhere(failure) -> bool:
    """A step failure that is no alert of its run: a blocking check's (the check alerts on its
    own) or an operator's error (a mistyped rollback: the run tells whoever launched it)."""
    data = failure.step_failure_data
    metadata = data.user_failure_data.metadata if data.user_failure_data else {}
    if BLOCKING_CHECK_KEY in metadata:  # layers.blocking_failure
        return True
    return getattr(metadata.get(ERROR_CLASS_KEY), "value", None) == OPERATOR


def run_verdicts(instance: dg.DagsterInstance, record) -> list[Verdict]:
    """A run's outcome as a verdict per month it covered (none for runs to be retried or
    stopped only by failures that alert elsewhere)."""
    entry = record.event_log_entry
    run = instance.get_run_by_id(entry.run_id)
    if run is None:
        return []
    asset = f"job:{run.job_name}"
    if entry.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS:
        return [Verdict(names.RUN_FAILURE, asset, subject, OK, f"run {run.run_id[:8]} succeeded",
                        {"run_id": run.run_id}, month)
                for subject, month in run_subjects(run.tags)]  # fmt: skip
    if str(run.tags.get(WILL_RETRY_TAG, "")).lower() == "true":
        return []
    failures = _step_failures(instance, run.run_id)
    if failures and all(_alerts_elsewhere(f) for f in failures):
        return []
    description = _failure_description(run, failures)
    return [Verdict(names.RUN_FAILURE, asset, subject, ERROR, description,
                    {"run_id": run.run_id}, month)
            for subject, month in run_subjects(run.tags)]  # fmt: skip


def collect_runs(instance: dg.DagsterInstance, after: int) -> tuple[list[Verdict], int]:
    """Verdicts of the run failures and successes after storage id ``after``, in order."""
    results = [
        instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after or None),
            limit=EVENTS_PER_TICK, ascending=True,
        )
        for event_type in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.RUN_SUCCESS)
    ]  # fmt: skip
    # Where one stream was cut off, later events of the other wait for the next tick.
    boundary = min(
        (r.records[-1].storage_id for r in results if r.has_more and r.records),
        default=float("inf"),
    )
    records = sorted(
        (rec for r in results for rec in r.records if rec.storage_id <= boundary),
        key=lambda rec: rec.storage_id,
    )
    verdicts = [v for rec in records for v in run_verdicts(instance, rec)]
    return verdicts, max((rec.storage_id for rec in records), default=after)


def evaluation_verdicts(key: dg.AssetCheckKey, evaluation) -> list[Verdict]:
    """One verdict per month a check evaluation judged (``latest`` when it names none)."""
    metadata = {name: getattr(value, "value", value) for name, value in evaluation.metadata.items()}
    if metadata.get(PERSISTED_KEY):
        return []
    asset = asset_label(key.asset_key)
    failed = WARN if evaluation.severity == dg.AssetCheckSeverity.WARN else ERROR
    description = evaluation.description or ""
    judged = parse_months(metadata.get("months_judged"))
    if not judged:
        return [Verdict(key.name, asset, "latest", OK if evaluation.passed else failed,
                        description, {})]  # fmt: skip
    named = next((metadata[k] for k in ("months_failing", "months_disagreeing", "failing")
                  if k in metadata), None)  # fmt: skip
    failing = set(parse_months(named))
    if not evaluation.passed and not failing:
        failing = set(judged)
    return [
        Verdict(key.name, asset, month_label(month), failed if month in failing else OK,
                description if month in failing else "passed", {}, month)
        for month in judged
    ]  # fmt: skip


def collect_checks(
    instance: dg.DagsterInstance, check_keys: Iterable[dg.AssetCheckKey], after: int
) -> tuple[list[Verdict], int]:
    """Verdicts of other checks' evaluations recorded after execution id ``after``."""
    records = []
    for key in check_keys:
        if key in OWN_CHECK_KEYS:
            continue
        history = instance.event_log_storage.get_asset_check_execution_history(
            key, limit=EVENTS_PER_TICK
        )
        records += [
            (record.id, key, event.dagster_event.event_specific_data) for record in history
            if record.id > after and (event := record.event) is not None
            and event.dagster_event is not None
            and event.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]  # fmt: skip
    records.sort(key=lambda found: found[0])
    verdicts = [v for _, key, evaluation in records for v in evaluation_verdicts(key, evaluation)]
    return verdicts, max((storage_id for storage_id, _, _ in records), default=after)


_FRESHNESS_SEVERITY = {"PASS": OK, "WARN": WARN, "FAIL": ERROR}


def freshness_verdicts(instance: dg.DagsterInstance, asset_keys: Sequence[dg.AssetKey]):
    """The current freshness state of every asset with a FreshnessPolicy."""
    verdicts = []
    for key, record in instance.get_freshness_state_records(list(asset_keys)).items():
        state = record.freshness_state.value
        if state in _FRESHNESS_SEVERITY:
            since = manila_text(manila_from_timestamp(record.updated_at.timestamp()))
            verdicts.append(Verdict(
                names.FRESHNESS_POLICY, asset_label(key), "latest", _FRESHNESS_SEVERITY[state],
                f"freshness policy {state} since {since}", {},
            ))  # fmt: skip
    return verdicts


# -- the warehouse side: verdict log, alert log, outbox --------------------------------------------


@contextmanager
def brief_connection(
    warehouse: DuckDBWarehouse, wait_seconds: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A warehouse connection if the file frees up within ``wait_seconds`` (default
    ``WAREHOUSE_WAIT_SECONDS``), else ``WarehouseBusy``: a sensor tick must not sit behind a
    long pipeline step."""
    wait = WAREHOUSE_WAIT_SECONDS if wait_seconds is None else wait_seconds
    if warehouse.lake is None and warehouse.exists():  # a lake has no lock to wait for
        try:
            warehouse.open(wait_seconds=wait).close()
        except WarehouseLocked as error:
            raise WarehouseBusy(f"{warehouse.describe()} is busy") from error
    with warehouse.connection() as con:
        yield con


def current_verdicts(con) -> list[Verdict]:
    rows = con.execute(sql_text("checks/current_verdicts.sql")).to_arrow_table().to_pylist()
    return [Verdict(r["check_name"], r["asset"], r["subject"], r["severity"],
                    r["description"] or "", {}, r["txn_month"]) for r in rows]  # fmt: skip


def alert_states(con) -> dict[str, tuple[str, str]]:
    rows = con.execute(sql_text("checks/alert_states.sql")).fetchall()
    return {key: (state, severity) for key, state, severity in rows}


def enqueue(con, alerts: Sequence[Alert], channels: Sequence[str], now) -> None:
    """Write the alerts to audit.AlertLog and one undelivered outbox row per channel."""
    for alert in alerts:
        alert_id = next_row_id()
        con.execute(
            """
            insert into audit.AlertLog (alert_id, problem_key, state, severity, title, details,
                                        channels, delivered, attempts, created_at)
            values (?, ?, ?, ?, ?, ?, ?, false, 0, ?)
            """,
            [alert_id, alert.problem_key, alert.state, alert.severity, alert.title,
             alert.description, ",".join(channels), now],
        )  # fmt: skip
        con.executemany(
            "insert into audit.AlertDeliveries (alert_id, channel, delivered, attempts) "
            "values (?, ?, false, 0)",
            [[alert_id, channel] for channel in channels],
        )


def due_deliveries(con, now) -> list[tuple[int, str, Alert]]:
    rows = con.execute(
        """
        select d.alert_id, d.channel, a.problem_key, a.state, a.severity, a.details
        from audit.AlertDeliveries as d
        join audit.AlertLog as a using (alert_id)
        where not d.delivered and (d.next_attempt_at is null or d.next_attempt_at <= ?)
        order by d.alert_id
        limit ?
        """,
        [now, DELIVERIES_PER_TICK],
    ).fetchall()
    due = []
    for alert_id, channel, key, state, severity, details in rows:
        check_name, asset, subject = key.split("|", 2)
        due.append(
            (
                alert_id,
                channel,
                Alert(key, state, severity, check_name, asset, subject, details or ""),
            )
        )
    return due


@dataclass(frozen=True)
class Outcome:
    alert_id: int
    channel: str
    delivered: bool
    error: str | None = None


def deliver(notifier: Notifier, due: Sequence[tuple[int, str, Alert]], log) -> list[Outcome]:
    """Send what is due, one message per group of alerts and channel. A channel that fails
    is not tried again in this tick (its other messages wait for the next one)."""
    outcomes: list[Outcome] = []
    configured = set(notifier.channels())
    by_channel: dict[str, list[tuple[int, Alert]]] = {}
    for alert_id, channel, alert in due:
        by_channel.setdefault(channel, []).append((alert_id, alert))
    for channel, alerts in by_channel.items():
        if channel not in configured:
            continue  # the channel was switched off: kept undelivered, never dropped
        for message in compose(alerts):
            try:
                notifier.send(channel, message, log)
            except DeliveryError as error:
                log.warning(f"alert delivery on {channel} failed, retried later: {error}")
                outcomes += [Outcome(i, channel, False, str(error)) for i in message.alert_ids]
                break
            outcomes += [Outcome(i, channel, True) for i in message.alert_ids]
    return outcomes


def mark(con, outcomes: Sequence[Outcome], notifier: Notifier, now) -> None:
    """Record delivery attempts; an alert is delivered when every channel is."""
    for outcome in outcomes:
        key = [outcome.alert_id, outcome.channel]
        con.execute(
            "update audit.AlertDeliveries set attempts = attempts + 1, delivered = ?, "
            "last_error = ?, last_attempt_at = ?, delivered_at = case when ? then ? end "
            "where alert_id = ? and channel = ?",
            [outcome.delivered, outcome.error, now, outcome.delivered, now, *key],
        )  # fmt: skip
        if not outcome.delivered:
            attempts = con.execute(
                "select attempts from audit.AlertDeliveries where alert_id = ? and channel = ?",
                key,
            ).fetchone()[0]
            con.execute(
                "update audit.AlertDeliveries set next_attempt_at = ? "
                "where alert_id = ? and channel = ?",
                [notifier.next_attempt(attempts, now), *key],
            )
    alert_ids = sorted({o.alert_id for o in outcomes})
    if alert_ids:
        con.execute(
            """
            update audit.AlertLog as a
            set delivered = d.all_delivered, attempts = d.attempts
            from (
                select alert_id, bool_and(delivered) as all_delivered, max(attempts) as attempts
                from audit.AlertDeliveries
                where alert_id = any(?)
                group by alert_id
            ) as d
            where a.alert_id = d.alert_id
            """,
            [alert_ids],
        )


def evaluate_alerts(
    instance: dg.DagsterInstance,
    warehouse: DuckDBWarehouse,
    notifier: Notifier,
    cursor: AlertCursor,
    log,
    check_keys: Iterable[dg.AssetCheckKey] = (),
    freshness_keys: Sequence[dg.AssetKey] = (),
    instigator_names: Collection[str] = (),
    now=None,
) -> tuple[AlertCursor, TickSummary]:
    """One tick: read what happened, record it, queue alerts for what changed, deliver, and
    show the open problems in the UI when they changed."""
    now = now or manila_now()
    summary = TickSummary()
    run_found, runs_at = collect_runs(instance, cursor.runs)
    check_found, checks_at = collect_checks(instance, check_keys, cursor.checks)
    # Current states, judged afresh each tick (not recorded in audit.CheckResults).
    fresh = freshness_verdicts(instance, freshness_keys) if freshness_keys else []
    fresh += tick_verdicts(instance, instigator_names) if instigator_names else []
    with brief_connection(warehouse) as con:
        con.execute("begin transaction")
        try:
            record_verdicts(con, [*run_found, *check_found], None)
            alerts = transitions([*current_verdicts(con), *fresh], alert_states(con))
            enqueue(con, alerts, notifier.channels(), now)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        due = due_deliveries(con, now)
        problems = open_problems(con)
    summary.verdicts_recorded = len(run_found) + len(check_found)
    summary.alerts_queued = len(alerts)
    outcomes = deliver(notifier, due, log)
    summary.messages_sent = len({(o.channel, o.alert_id) for o in outcomes if o.delivered})
    summary.deliveries_failed = sum(not o.delivered for o in outcomes)
    if outcomes:
        # Delivered already: worth waiting longer than a tick would for the file, so a
        # delivered message is not sent twice.
        with brief_connection(warehouse, wait_seconds=60.0) as con:
            mark(con, outcomes, notifier, now)
    summary.open_problems = len(problems)
    shown = digest(problems)
    if shown != cursor.shown:
        summary.shown = open_problems_event(problems, now)
    return AlertCursor(runs=runs_at, checks=checks_at, shown=shown), summary


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every 30 s: sends each new problem (failed or warning check, stale asset, "
    "failed run, sensor or schedule whose ticks keep failing, doctor finding) once, and its "
    "recovery once, through the notifier; lists the open ones on monitoring/open_problems.",
)
def alert_sensor(context: dg.SensorEvaluationContext, warehouse: DuckDBWarehouse,
                 notifier: Notifier):  # fmt: skip
    """Watches check verdicts, freshness states, run failures and other sensors' and
    schedules' ticks; alerts on changes."""
    repository = context.repository_def
    graph = repository.asset_graph if repository else None
    check_keys = list(graph.asset_check_keys) if graph else []
    freshness_keys = [
        node.key for node in graph.asset_nodes if node.freshness_policy_or_from_metadata
    ] if graph else []  # fmt: skip
    instigators = (
        ({d.name for d in repository.sensor_defs} | {d.name for d in repository.schedule_defs})
        - {SENSOR_NAME}
        if repository
        else set()
    )
    try:
        cursor, summary = evaluate_alerts(
            context.instance, warehouse, notifier, AlertCursor.parse(context.cursor),
            context.log, check_keys, freshness_keys, instigators,
        )  # fmt: skip
    except WarehouseBusy as busy:
        return dg.SkipReason(f"{busy}; trying again on the next tick")
    return dg.SensorResult(cursor=cursor.dump(), skip_reason=str(summary),
                           asset_events=[summary.shown] if summary.shown else [])  # fmt: skip
