"""The alert sensor against a real warehouse, a real Dagster instance and real local webhook
and SMTP servers: each problem once, its recovery once, storms collapsed, failed deliveries
retried until they go, never lost and never repeated."""

import logging
import subprocess
import sys
import time
from datetime import date

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

from scout_assets.checks.verdicts import ERROR, OK, WARN, Verdict, record_verdicts
from scout_assets.resources.notifier import (
    ENV_EMAIL_TO,
    ENV_SMTP_HOST,
    ENV_SMTP_PORT,
    ENV_WEBHOOK_URL,
    Alert,
    Notifier,
    compose,
    notifier_from_env,
)
from scout_assets.sensors import alerts
from scout_assets.sensors.alerts import (
    AlertCursor,
    alert_sensor,
    evaluate_alerts,
    evaluation_verdicts,
    parse_months,
    transitions,
)
from scout_assets_tests.sensors.servers import Smtp, Webhook

LOG = logging.getLogger("scout.alerts.test")
ASSET = "silver/transactions"


@pytest.fixture
def webhook():
    server = Webhook()
    yield server
    server.close()


@pytest.fixture
def smtp():
    server = Smtp()
    yield server
    server.close()


@pytest.fixture
def notifier(webhook) -> Notifier:
    return Notifier(webhook_url=webhook.url, timeout_seconds=0.5, retry_base_seconds=0)


class Ticker:
    """Runs sensor ticks one after the other, carrying the cursor like the daemon does."""

    def __init__(self, instance, warehouse, notifier):
        self.instance, self.warehouse, self.notifier = instance, warehouse, notifier
        self.cursor = AlertCursor()

    def __call__(self, **kwargs):
        self.cursor, summary = evaluate_alerts(
            self.instance, self.warehouse, self.notifier, self.cursor, LOG, **kwargs
        )
        return summary


def judge(warehouse, *verdicts: Verdict) -> None:
    with warehouse.connection() as con:
        record_verdicts(con, verdicts, "test-run")


def conflicting(severity: str, month=date(2025, 4, 1), rate=9.5) -> Verdict:
    return Verdict(
        "conflicting_version_rate",
        ASSET,
        f"{month:%Y-%m}",
        severity,
        f"{rate}% conflicting versions",
        {"rate_percent": rate},
        month,
    )


def alert_log(warehouse) -> list[dict]:
    return warehouse.query(
        "select problem_key, state, severity, delivered, attempts from audit.AlertLog "
        "order by alert_id"
    ).to_pylist()


def test_a_problem_is_sent_once_and_its_recovery_once_however_often_it_repeats(
    instance, warehouse, notifier, webhook
):
    tick = Ticker(instance, warehouse, notifier)
    judge(warehouse, conflicting(ERROR))
    tick()
    assert webhook.texts() == [
        "*[ERROR] silver/transactions conflicting_version_rate 2025-04*\n"
        "- silver/transactions 2025-04: 9.5% conflicting versions"
    ]

    for _ in range(3):  # the same month failing run after run: a storm of verdicts
        judge(warehouse, *[conflicting(ERROR, rate=9.5 + n / 10) for n in range(50)])
        tick()
    assert len(webhook.posts) == 1

    judge(warehouse, conflicting(OK, rate=0.8))
    tick()
    tick()
    assert len(webhook.posts) == 2
    assert webhook.texts()[1].startswith("*[RECOVERED] silver/transactions conflicting")
    assert [(a["state"], a["delivered"]) for a in alert_log(warehouse)] == [
        ("problem", True), ("recovered", True)
    ]  # fmt: skip


def test_a_warning_that_becomes_an_error_is_a_new_alert_the_reverse_is_not(
    instance, warehouse, notifier, webhook
):
    tick = Ticker(instance, warehouse, notifier)
    judge(warehouse, conflicting(WARN, rate=3.0))
    tick()
    judge(warehouse, conflicting(ERROR))
    tick()
    judge(warehouse, conflicting(WARN, rate=4.0))
    tick()
    assert [text.split("]")[0] for text in webhook.texts()] == ["*[WARN", "*[ERROR"]


def test_problems_found_in_one_tick_go_out_as_one_message_per_check(
    instance, warehouse, notifier, webhook
):
    tick = Ticker(instance, warehouse, notifier)
    judge(warehouse, *[conflicting(ERROR, month=date(2025, m, 1)) for m in range(1, 13)])
    tick()
    assert len(webhook.posts) == 1
    assert "12 x" in webhook.texts()[0] and "2025-12" in webhook.texts()[0]
    assert len(alert_log(warehouse)) == 12  # one problem per month, in one message


def _run_job(instance, fail: bool, month: str, tags=None):
    @dg.op
    def step():
        if fail:
            raise RuntimeError("disk on fire")

    @dg.job(name="build_months")
    def job():
        step()

    return job.execute_in_process(
        instance=instance, raise_on_error=False,
        tags={"dagster/partition": month, **(tags or {})},
    )  # fmt: skip


def test_a_storm_of_run_failures_in_one_month_sends_one_alert(
    instance, warehouse, notifier, webhook
):
    tick = Ticker(instance, warehouse, notifier)
    for _ in range(6):
        _run_job(instance, fail=True, month="2025-03-01")
        tick()
    # A run that will be retried is not a problem yet.
    _run_job(instance, fail=True, month="2025-05-01", tags={"dagster/will_retry": "true"})
    tick()
    assert len(webhook.posts) == 1
    assert webhook.texts()[0].startswith("*[ERROR] job:build_months run_failure 2025-03*")
    assert "step: RuntimeError: disk on fire" in webhook.texts()[0]

    _run_job(instance, fail=False, month="2025-03-01")
    tick()
    assert len(webhook.posts) == 2
    assert webhook.texts()[1].startswith("*[RECOVERED] job:build_months run_failure 2025-03")


def test_a_webhook_answering_500_is_retried_until_it_takes_the_alert(
    instance, warehouse, notifier, webhook
):
    tick = Ticker(instance, warehouse, notifier)
    webhook.mode = "error"
    judge(warehouse, conflicting(ERROR))
    first = tick()
    tick()
    assert first.deliveries_failed == 1 and webhook.attempts == 2 and webhook.posts == []
    [alert] = alert_log(warehouse)
    assert not alert["delivered"] and alert["attempts"] == 2

    webhook.mode = "ok"
    tick()
    tick()
    assert len(webhook.posts) == 1  # delivered once, not lost, not repeated
    deliveries = warehouse.query(
        "select channel, delivered, attempts from audit.AlertDeliveries order by channel"
    ).to_pylist()
    # The log channel went out on the first tick and was never repeated.
    assert deliveries == [
        {"channel": "log", "delivered": True, "attempts": 1},
        {"channel": "webhook", "delivered": True, "attempts": 3},
    ]


def test_a_webhook_that_times_out_does_not_hold_the_tick(instance, warehouse, notifier, webhook):
    tick = Ticker(instance, warehouse, notifier)
    webhook.mode, webhook.delay = "slow", 3.0
    judge(warehouse, conflicting(ERROR), conflicting(WARN, month=date(2025, 5, 1), rate=3.0))
    started = time.perf_counter()
    summary = tick()
    # Two messages due; the channel gave up after one timeout (0.5 s), the other waits.
    assert time.perf_counter() - started < 2.5
    assert summary.deliveries_failed == 1
    webhook.mode = "ok"
    tick()
    assert sorted(t.split("]")[0] for t in webhook.texts()) == ["*[ERROR", "*[WARN"]


def test_email_goes_out_and_a_refusing_smtp_server_is_retried_alone(
    instance, warehouse, webhook, smtp
):
    notifier = Notifier(
        webhook_url=webhook.url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        email_to="ops@example.ph",
        timeout_seconds=2,
        retry_base_seconds=0,
    )
    tick = Ticker(instance, warehouse, notifier)
    smtp.refuse = True
    judge(warehouse, conflicting(ERROR))
    tick()
    assert len(webhook.posts) == 1 and smtp.messages == []
    smtp.refuse = False
    tick()
    assert len(webhook.posts) == 1  # the webhook is not sent again
    [mail] = smtp.messages
    assert "Subject: Scout: [ERROR] silver/transactions conflicting_version_rate 2025-04" in mail
    assert "ops@example.ph" in mail
    assert alert_log(warehouse)[0]["delivered"]


def test_other_checks_evaluations_become_one_verdict_per_month(
    instance, warehouse, notifier, webhook
):
    key = dg.AssetCheckKey(dg.AssetKey(["gold", "nielsen_complete_analytics"]), "reconciles")
    evaluation = dg.AssetCheckEvaluation(
        asset_key=key.asset_key, check_name=key.name, passed=False,
        severity=dg.AssetCheckSeverity.ERROR, description="1 month(s) disagree: 2025-03",
        metadata={"months_judged": "2025-03, 2025-04", "months_disagreeing": "2025-03"},
    )  # fmt: skip
    verdicts = evaluation_verdicts(key, evaluation)
    assert [(v.subject, v.severity) for v in verdicts] == [("2025-03", ERROR), ("2025-04", OK)]

    instance.report_runless_asset_event(evaluation)
    tick = Ticker(instance, warehouse, notifier)
    tick(check_keys=[key])
    tick(check_keys=[key])
    assert webhook.texts() == [
        "*[ERROR] gold/nielsen_complete_analytics reconciles 2025-03*\n"
        "- gold/nielsen_complete_analytics 2025-03: 1 month(s) disagree: 2025-03"
    ]


def test_a_failing_freshness_policy_is_a_problem_until_it_passes(
    instance, warehouse, notifier, webhook
):
    key = dg.AssetKey(["silver", "transactions"])
    tick = Ticker(instance, warehouse, notifier)
    for state in ("WARN", "FAIL", "FAIL", "PASS"):
        instance.report_runless_asset_event(FreshnessStateChange(
            key=key, new_state=FreshnessState(state), previous_state=FreshnessState.UNKNOWN,
            state_change_timestamp=time.time(),
        ))  # fmt: skip
        tick(freshness_keys=[key])
    assert [t.split("]")[0] for t in webhook.texts()] == ["*[WARN", "*[ERROR", "*[RECOVERED"]


def test_the_sensor_skips_a_tick_while_a_pipeline_holds_the_warehouse(
    instance, warehouse, notifier, monkeypatch, settings
):
    from scout_assets.definitions import build_definitions

    judge(warehouse, conflicting(ERROR))
    from scout_assets.resources.warehouse import close_all_connections

    close_all_connections()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({warehouse.path!r}); print('ok', flush=True); "
         "time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ok"
        monkeypatch.setattr(alerts, "WAREHOUSE_WAIT_SECONDS", 0.3)
        context = dg.build_sensor_context(
            instance=instance, definitions=build_definitions(settings),
            resources={"warehouse": warehouse, "notifier": notifier},
        )  # fmt: skip
        result = alert_sensor(context)
        assert isinstance(result, dg.SkipReason) and "busy" in result.skip_message
    finally:
        holder.kill()
        holder.wait()
    context = dg.build_sensor_context(
        instance=instance, definitions=build_definitions(settings),
        resources={"warehouse": warehouse, "notifier": notifier},
    )  # fmt: skip
    result = alert_sensor(context)
    assert "1 alerts queued" in result.skip_reason.skip_message
    assert AlertCursor.parse(result.cursor).runs == 0


def test_transitions_and_months_are_pure():
    failing = Verdict("c", "a", "2025-01", ERROR, "bad")
    passing = Verdict("c", "a", "2025-01", OK, "good")
    assert [a.state for a in transitions([failing], {})] == ["problem"]
    assert transitions([failing], {"c|a|2025-01": ("problem", ERROR)}) == []
    assert [a.state for a in transitions([passing], {"c|a|2025-01": ("problem", WARN)})] == [
        "recovered"
    ]
    assert transitions([passing], {}) == []
    assert parse_months("2025-03, 2025-04-01 and 2025-03") == [date(2025, 3, 1), date(2025, 4, 1)]
    assert parse_months("none") == []
    alert = Alert("c|a|s", "problem", ERROR, "c", "a", "s", "d")
    assert [m.alert_ids for m in compose([(1, alert), (2, alert)])] == [(1, 2)]


def test_channels_come_from_environment_variables(monkeypatch):
    assert Notifier().channels() == ["log"]
    env = {ENV_WEBHOOK_URL: "http://127.0.0.1:9/hook", ENV_SMTP_HOST: "smtp.example.ph",
           ENV_EMAIL_TO: "ops@example.ph", ENV_SMTP_PORT: "2525"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    configured = notifier_from_env(env)
    assert configured.webhook_url == dg.EnvVar(ENV_WEBHOOK_URL)  # the name, never the value
    with dg.build_resources({"notifier": configured}) as resources:
        notifier = resources.notifier
        assert (notifier.webhook_url, notifier.smtp_host, notifier.smtp_port) == (
            "http://127.0.0.1:9/hook",
            "smtp.example.ph",
            2525,
        )
        assert notifier.channels() == ["log", "webhook", "email"]
    with pytest.raises(ValueError, match=ENV_EMAIL_TO):
        notifier_from_env({ENV_SMTP_HOST: "smtp.example.ph"})


def test_teams_gets_an_adaptive_card_as_workflows_webhooks_expect(instance, warehouse, webhook):
    notifier = Notifier(webhook_url=webhook.url, webhook_format="teams", timeout_seconds=0.5,
                        retry_base_seconds=0)  # fmt: skip
    tick = Ticker(instance, warehouse, notifier)
    judge(warehouse, conflicting(ERROR))
    tick()
    judge(warehouse, conflicting(OK, rate=0.8))
    tick()
    problem, recovery = webhook.posts
    assert problem["type"] == "message" and "@type" not in problem  # no connector MessageCard
    [attachment] = problem["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert [(b["text"], b.get("color")) for b in card["body"]] == [
        ("[ERROR] silver/transactions conflicting_version_rate 2025-04", "Attention"),
        ("- silver/transactions 2025-04: 9.5% conflicting versions", None),
    ]
    title = recovery["attachments"][0]["content"]["body"][0]
    assert title["color"] == "Good" and title["text"].startswith("[RECOVERED]")


def test_a_stale_asset_alert_says_when_in_manila_time(instance, warehouse, notifier, webhook):
    key = dg.AssetKey(["silver", "transactions"])
    instance.report_runless_asset_event(FreshnessStateChange(
        key=key, new_state=FreshnessState.FAIL, previous_state=FreshnessState.PASS,
        state_change_timestamp=time.time(),
    ))  # fmt: skip
    Ticker(instance, warehouse, notifier)(freshness_keys=[key])
    [text] = webhook.texts()
    assert text.startswith("*[ERROR] silver/transactions freshness_policy latest*")
    assert text.endswith(" Manila") and " UTC" not in text
