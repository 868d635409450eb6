"""Manila time: every timestamp the warehouse stores is naive Asia/Manila local time."""

from datetime import datetime
from zoneinfo import ZoneInfo

MANILA = ZoneInfo("Asia/Manila")


def manila_now() -> datetime:
    """Now, as naive Manila local time (how the warehouse stores times)."""
    return datetime.now(MANILA).replace(tzinfo=None)
