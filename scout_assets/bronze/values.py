"""Reading one delivered value: text, money, whole numbers, flags and Manila timestamps.

The readers share one contract: value in, typed value out; None when the value is absent or
blank; a bad value gives None and appends "name: why" to ``problems``, which the caller
decides to treat as fatal (quarantine) or not. The common well-typed case returns before any
exception handling or Decimal work. These are the rules; the DuckDB stage of bronze
(``sql/bronze/typed_*.sql``) only takes the values these rules would read the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import orjson

MAX_CENTS = 10**12  # decimal128(12, 2) holds up to 9,999,999,999.99
FUTURE_TOLERANCE = timedelta(days=1)  # device clocks drift; a day ahead is a broken clock
EARLIEST_SALE = datetime(2000, 1, 1)  # before the devices existed: a reset clock, not a sale
INT32_MAX = 2**31 - 1
# Manila has kept UTC+8 without daylight saving since 1990; a fixed offset needs no tz database.
MANILA = timezone(timedelta(hours=8), "Asia/Manila")
_CENT = Decimal("0.01")


class BadValue(ValueError):
    """A value of the wrong kind; the message reads after the field name."""


def show(value: Any) -> str:
    """A value as it should appear in a reason: quoted text, bare numbers, truncated."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, (dict, list)):
        shown = orjson.dumps(value, default=str).decode()
        return shown if len(shown) <= 60 else shown[:57] + "..."
    return str(value)


def text(value: Any) -> str | None:
    """Free text, trimmed; blank -> None. Numbers keep their digits (barcodes as numbers)."""
    if type(value) is str:
        value = value.strip()
        return value or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return orjson.dumps(value, default=str).decode()


def cents(value: Any, name: str, problems: list[str]) -> int | None:
    """Money as integer centavos, rounded half-up to the centavo."""
    if type(value) is float and math.isfinite(value):
        scaled = value * 100.0
        rounded = round(scaled)
        # Amounts written with at most 2 decimals land within float noise of a whole
        # centavo; anything else is rounded exactly from its decimal spelling.
        if -1e-6 < scaled - rounded < 1e-6 and -MAX_CENTS < rounded < MAX_CENTS:
            return rounded
    elif type(value) is int and -MAX_CENTS < value * 100 < MAX_CENTS:
        return value * 100
    elif blank(value):
        return None
    return recorded(_exact_cents, value, name, problems)


def whole(value: Any, name: str, problems: list[str]) -> int | None:
    """A whole number that fits the warehouse's 32-bit columns; "2" and 2.0 are accepted."""
    if type(value) is int and -INT32_MAX <= value <= INT32_MAX:
        return value
    # Store ids arrive as text ("121"); plain ASCII digits need no Decimal to be exact.
    if type(value) is str and len(value) < 10 and value.isdigit() and value.isascii():
        return int(value)
    if blank(value):
        return None
    return recorded(_exact_whole, value, name, problems)


def number(value: Any, name: str, problems: list[str]) -> float | None:
    """A finite float; numeric text accepted."""
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int:
        return float(value)
    if blank(value):
        return None
    return recorded(lambda v: float(_decimal(v)), value, name, problems)


_TRUE = frozenset({"true", "t", "yes", "y", "1", "oo"})  # "oo": Filipino yes
_FALSE = frozenset({"false", "f", "no", "n", "0", "hindi"})


def flag(value: Any, name: str, problems: list[str]) -> bool | None:
    """Yes/no as devices, spreadsheets and people write it: true/yes/y/1, false/no/n/0."""
    if value is None or type(value) is bool:
        return value
    if blank(value):
        return None
    return recorded(_exact_flag, value, name, problems)


def blank(value: Any) -> bool:
    return value is None or (type(value) is str and not value.strip())


def recorded(read: Callable[[Any], Any], value: Any, name: str, problems: list[str]) -> Any:
    """``read(value)``, or None with "name: why" appended to ``problems``."""
    try:
        return read(value)
    except BadValue as exc:
        problems.append(f"{name}: {exc}")
        return None


def _decimal(value: Any) -> Decimal:
    """The exact decimal a number or numeric text stands for; NaN and Infinity are refused."""
    kind = type(value)
    if kind not in (int, float, str):  # bool is not a number here
        raise BadValue(f"{show(value)} is not a number")
    try:
        # repr() is the shortest text that round-trips: the amount as the device wrote it.
        number = Decimal(repr(value) if kind is float else value.strip() if kind is str else value)
    except InvalidOperation:
        raise BadValue(f"{show(value)} is not a number") from None
    if not number.is_finite():
        raise BadValue(f"{show(value)} is not a number")
    return number


def _exact_cents(value: Any) -> int:
    number = _decimal(value)
    try:
        result = int(number.quantize(_CENT, rounding=ROUND_HALF_UP).scaleb(2))
    except InvalidOperation:  # beyond Decimal's 28 digits
        result = MAX_CENTS
    if not -MAX_CENTS < result < MAX_CENTS:
        raise BadValue(f"{show(value)} is out of range")
    return result


def _exact_whole(value: Any) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise BadValue(f"{show(value)} is not a whole number")
    if abs(number) > INT32_MAX:
        raise BadValue(f"{show(value)} is out of range")
    return int(number)


def _exact_flag(value: Any) -> bool:
    if type(value) in (int, float) and value in (0, 1):
        return bool(value)
    if type(value) is str:
        token = value.strip().lower()
        if token in _TRUE:
            return True
        if token in _FALSE:
            return False
    raise BadValue(f"{show(value)} is not a yes/no value")


def identifier(value: Any) -> str | None:
    """An id as text: a string or a number (trimmed; blank -> None). true, null, objects and
    arrays are not ids."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return text(value)


def canonical_tx_id(value: str | None) -> str | None:
    """The join key between payloads and interactions: lower case, no hyphens, no blanks."""
    if value is None:
        return None
    key = str(value).strip().lower().replace("-", "")
    return key or None


def parse_manila_timestamp(value: Any) -> datetime | None:
    """A timestamp as naive Asia/Manila local time; None when blank.

    Text with an offset ("2025-03-31T20:00:00Z") is converted to Manila time; text without
    one is already Manila local. ISO 8601 in its usual spellings is read, and US-style
    "03/31/2025 8:00 PM" from spreadsheet exports. Numbers are Unix epoch seconds (or
    milliseconds). Raises ValueError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return None
        parsed = _timestamp_from_text(stripped)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parsed = _timestamp_from_epoch(value)
    else:
        raise ValueError(f"{show(value)} is not a timestamp")
    if parsed.tzinfo is None:
        return parsed
    try:
        return to_manila(parsed)
    except OverflowError:  # year 1 or 9999 with an offset: no Manila time exists
        raise ValueError(f"{show(value)} is out of range") from None


def _timestamp_from_text(spelled: str) -> datetime:
    try:
        return datetime.fromisoformat(spelled)
    except ValueError:
        pass
    for pattern in _US_FORMATS:
        try:
            return datetime.strptime(spelled, pattern)
        except ValueError:
            continue
    raise ValueError(f"{show(spelled)} is not a timestamp")


# Spreadsheet and SQL Server exports in the Philippines write month first.
_US_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)


def _timestamp_from_epoch(value: float) -> datetime:
    # Below 1e9 (2001) a number is more likely a spreadsheet serial or a duration.
    if not math.isfinite(value) or value < 1e9:
        raise ValueError(f"{show(value)} is not a timestamp")
    seconds = value / 1000 if value > 1e11 else value
    try:
        return datetime.fromtimestamp(seconds, MANILA)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{show(value)} is not a timestamp") from None


def to_manila(moment: datetime) -> datetime:
    return moment.astimezone(MANILA).replace(tzinfo=None)


def pesos(amount_cents: int) -> str:
    """Centavos as the peso amount a reason shows ("40.08")."""
    return str(Decimal(amount_cents).scaleb(-2))


def dating_problem(name: str, moment: datetime, now: datetime) -> str | None:
    """Why ``moment`` cannot be when a sale happened (None when it can): a day or more after
    ``now`` (the run's Manila time) or before EARLIEST_SALE. Such a time would queue a month
    that no partition holds."""
    if moment > now + FUTURE_TOLERANCE:
        return (
            f"{name} {moment.isoformat(sep=' ')} is more than a day in the future "
            f"(run time {now.isoformat(sep=' ', timespec='seconds')} Manila)"
        )
    if moment < EARLIEST_SALE:
        return f"{name} {moment.isoformat(sep=' ')} is before {EARLIEST_SALE:%Y-%m-%d}: not a sale"
    return None
