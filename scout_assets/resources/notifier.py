"""Where alerts go: always ``audit.AlertLog``, the log and the ``monitoring/open_problems``
asset in the UI; optionally a Slack or Teams (Workflows, Adaptive Card) webhook and SMTP
email, each enabled by its environment variables.

Delivery is an outbox: an alert is first written to ``audit.AlertLog`` with one
``audit.AlertDeliveries`` row per channel, and only then sent. A channel that times out,
answers an error or refuses is retried on later ticks with backoff, forever: an alert is never
lost, and a channel already delivered is never sent twice. Nothing here runs inside a pipeline
step, so a dead webhook never blocks the pipeline.

Alerts due in the same tick for the same check and state go out as one message listing their
assets and subjects (months), so a failure over a year of months is one message, not twelve.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

import dagster as dg

from scout_assets.time import manila_now

LOG, WEBHOOK, EMAIL = "log", "webhook", "email"
PROBLEM, RECOVERED = "problem", "recovered"

# Environment variables: a channel is on when its variables are set (secrets via dg.EnvVar).
ENV_WEBHOOK_URL = "SCOUT_ALERT_WEBHOOK_URL"
ENV_WEBHOOK_FORMAT = "SCOUT_ALERT_WEBHOOK_FORMAT"  # slack (default) / teams (a Workflows URL)
ENV_SMTP_HOST = "SCOUT_SMTP_HOST"
ENV_SMTP_PORT = "SCOUT_SMTP_PORT"
ENV_SMTP_USER = "SCOUT_SMTP_USER"
ENV_SMTP_PASSWORD = "SCOUT_SMTP_PASSWORD"
ENV_SMTP_SECURITY = "SCOUT_SMTP_SECURITY"  # none (default) / starttls / ssl
ENV_EMAIL_FROM = "SCOUT_ALERT_EMAIL_FROM"
ENV_EMAIL_TO = "SCOUT_ALERT_EMAIL_TO"  # comma-separated


class DeliveryError(RuntimeError):
    """A channel did not take the message (timeout, HTTP error, SMTP refusal)."""


@dataclass(frozen=True)
class Alert:
    """A problem that started (or escalated), or one that recovered."""

    problem_key: str  # check|asset|subject
    state: str  # problem / recovered
    severity: str  # WARN / ERROR (INFO for recoveries)
    check_name: str
    asset: str
    subject: str
    description: str

    @property
    def title(self) -> str:
        label = "RECOVERED" if self.state == RECOVERED else self.severity
        return f"[{label}] {self.asset} {self.check_name} {self.subject}"


@dataclass(frozen=True)
class Message:
    """What one channel is sent: one or more alerts of the same check and state."""

    alert_ids: tuple[int, ...]
    state: str
    severity: str
    title: str
    text: str


def compose(alerts: Sequence[tuple[int, Alert]]) -> list[Message]:
    """One message per check, state and severity: a storm (a check failing for a year of
    months, twenty assets going stale at once) is one message listing its subjects."""
    groups: dict[tuple, list[tuple[int, Alert]]] = {}
    for alert_id, alert in alerts:
        groups.setdefault((alert.check_name, alert.state, alert.severity), []).append(
            (alert_id, alert)
        )
    messages = []
    for (check_name, state, severity), members in groups.items():
        if len(members) == 1:
            title = members[0][1].title
        else:
            label = "RECOVERED" if state == RECOVERED else severity
            where = ", ".join(f"{a.asset} {a.subject}" for _, a in members)
            title = f"[{label}] {check_name}: {len(members)} x ({where})"
        lines = [f"- {alert.asset} {alert.subject}: {alert.description}" for _, alert in members]
        messages.append(
            Message(
                alert_ids=tuple(alert_id for alert_id, _ in members),
                state=state,
                severity=severity,
                title=title[:240],
                text="\n".join(lines)[:6000],
            )
        )
    return messages


# Adaptive Card text colours: the severity at a glance.
_CARD_COLOURS = {"ERROR": "Attention", "WARN": "Warning", "INFO": "Good"}


def teams_card(message: Message) -> dict:
    """The message as a Teams Workflows webhook expects it ("Post to a channel when a webhook
    request is received"): one Adaptive Card. Office 365 connector cards (MessageCard) are
    retired with the connectors."""
    colour = _CARD_COLOURS["INFO" if message.state == RECOVERED else message.severity]
    body = [
        {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium",
         "color": colour, "wrap": True},
        *({"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"}
          for line in message.text.splitlines()),
    ]  # fmt: skip
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "msteams": {"width": "Full"},
                    "body": body,
                },
            }
        ],
    }


class Notifier(dg.ConfigurableResource):
    """The alert channels. Build it with ``notifier_from_env``; every field is optional."""

    webhook_url: str | None = None
    webhook_format: str = "slack"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"
    email_from: str = "scout-alerts@localhost"
    email_to: str | None = None
    timeout_seconds: float = 5.0
    # First retry after this many seconds, doubling per attempt, at most an hour apart.
    retry_base_seconds: float = 30.0

    def channels(self) -> list[str]:
        """The channels alerts are delivered to: the log always, the others when configured."""
        return (
            [LOG]
            + ([WEBHOOK] if self.webhook_url else [])
            + ([EMAIL] if self.smtp_host and self.email_to else [])
        )

    def describe(self) -> str:
        return ", ".join(self.channels())

    def next_attempt(self, attempts: int, now=None):
        """When an undelivered channel is tried again after ``attempts`` failed attempts."""
        delay = min(self.retry_base_seconds * 2 ** max(attempts - 1, 0), 3600.0)
        return (now or manila_now()) + timedelta(seconds=delay)

    def send(self, channel: str, message: Message, log) -> None:
        """Deliver ``message`` on ``channel``; raises ``DeliveryError`` when it does not go."""
        if channel == LOG:
            emit = (
                log.error
                if message.state != RECOVERED and message.severity == "ERROR"
                else (log.warning if message.state != RECOVERED else log.info)
            )
            emit(f"{message.title}\n{message.text}")
        elif channel == WEBHOOK:
            self._post(message)
        elif channel == EMAIL:
            self._mail(message)
        else:
            raise DeliveryError(f"unknown channel {channel}")

    def _payload(self, message: Message) -> dict:
        if self.webhook_format == "teams":
            return teams_card(message)
        return {"text": f"*{message.title}*\n{message.text}"}

    def _post(self, message: Message) -> None:
        if not self.webhook_url:
            raise DeliveryError(f"no webhook: {ENV_WEBHOOK_URL} is not set")
        body = json.dumps(self._payload(message)).encode()
        request = urllib.request.Request(
            self.webhook_url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"webhook answered HTTP {error.code}") from error
        except (urllib.error.URLError, OSError) as error:  # refused, DNS, timeout
            reason = getattr(error, "reason", error)
            raise DeliveryError(f"webhook unreachable: {reason}") from error

    def _mail(self, message: Message) -> None:
        if not (self.smtp_host and self.email_to):
            raise DeliveryError(f"no mail server or recipient: {ENV_SMTP_HOST}, {ENV_EMAIL_TO}")
        email = EmailMessage()
        email["Subject"] = f"Scout: {message.title}"
        email["From"] = self.email_from
        email["To"] = self.email_to
        email.set_content(message.text)
        smtp_class = smtplib.SMTP_SSL if self.smtp_security == "ssl" else smtplib.SMTP
        try:
            with smtp_class(self.smtp_host, self.smtp_port, timeout=self.timeout_seconds) as smtp:
                if self.smtp_security == "starttls":
                    smtp.starttls()
                if self.smtp_user:
                    smtp.login(self.smtp_user, self.smtp_password or "")
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP {self.smtp_host}:{self.smtp_port}: {error}") from error


def notifier_from_env(env: Mapping[str, str]) -> Notifier:
    """The notifier for an environment: a channel per set of variables present, each value
    passed as ``dg.EnvVar`` so secrets are read by Dagster, never copied into config.

    A half-configured channel is a clear error naming the missing variable."""
    fields: dict = {}
    if env.get(ENV_WEBHOOK_URL):
        fields["webhook_url"] = dg.EnvVar(ENV_WEBHOOK_URL)
        if env.get(ENV_WEBHOOK_FORMAT):
            if env[ENV_WEBHOOK_FORMAT] not in ("slack", "teams"):
                raise ValueError(f"{ENV_WEBHOOK_FORMAT} must be slack or teams")
            fields["webhook_format"] = dg.EnvVar(ENV_WEBHOOK_FORMAT)
    if env.get(ENV_SMTP_HOST):
        if not env.get(ENV_EMAIL_TO):
            raise ValueError(f"{ENV_SMTP_HOST} is set but {ENV_EMAIL_TO} is not: who gets mail?")
        if env.get(ENV_SMTP_USER) and not env.get(ENV_SMTP_PASSWORD):
            raise ValueError(f"{ENV_SMTP_USER} is set but {ENV_SMTP_PASSWORD} is not")
        fields["smtp_host"] = dg.EnvVar(ENV_SMTP_HOST)
        fields["email_to"] = dg.EnvVar(ENV_EMAIL_TO)
        optional = {ENV_SMTP_USER: "smtp_user", ENV_SMTP_PASSWORD: "smtp_password",
                    ENV_SMTP_SECURITY: "smtp_security", ENV_EMAIL_FROM: "email_from"}  # fmt: skip
        fields.update({field: dg.EnvVar(var) for var, field in optional.items() if env.get(var)})
        if env.get(ENV_SMTP_PORT):
            fields["smtp_port"] = dg.EnvVar.int(ENV_SMTP_PORT)
    return Notifier(**fields)
