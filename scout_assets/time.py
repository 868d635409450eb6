"""Manila time: every timestamp the warehouse stores is naive Asia/Manila local time."""

from datetime import datetime
from zoneinfo import ZoneInfo

MANILA = ZoneInfo("Asia/Manila")


def manila_now() -> datetime:
    """Now, as naive Manila local time (how the warehouse stores times)."""
    return datetime.now(MANILA).replace(tzinfo=None)


def manila_text(moment: datetime) -> str:
    """A warehouse time (naive Manila) as people read it, saying which clock: every Manila
    time shown to someone carries the label, since Dagster's own times are the browser's."""
    return f"{moment:%Y-%m-%d %H:%M} Manila"


def manila_from_timestamp(timestamp: float) -> datetime:
    """A POSIX timestamp (Dagster's event and tick times) as naive Manila local time."""
    return datetime.fromtimestamp(timestamp, MANILA).replace(tzinfo=None)
