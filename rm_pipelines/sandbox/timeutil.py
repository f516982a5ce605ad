"""Date/time handling the way Rent Manager does it: naive local wall-clock strings with 0-7 fractional digits.

Internally every date/time value is compared through a *key*: the canonical 27-character string
"YYYY-MM-DDTHH:MM:SS.fffffff" (7 digits, like .NET ticks). Keys of the same shape sort chronologically as
plain strings, which keeps filtering and ordering of 400k rows cheap.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from .. import clock

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7})\d*)?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$")
# What a stored wire value looks like (used to infer that a field holds date/times).
WIRE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$")


def dt_key(value: str) -> str | None:
    """Canonical comparison key of a stored naive date/time string; None when it is not a date."""
    n = len(value)
    if n == 19 and value[10] == "T":
        return value + ".0000000"
    if 21 <= n <= 27 and value[19] == "." and value[10] == "T":
        return value + "0" * (27 - n)
    if n == 10 and value[4] == "-":
        return value + "T00:00:00.0000000"
    try:
        return parse_to_key(value, None)
    except ValueError:
        return None


def parse_to_key(text: str, tz: ZoneInfo | None) -> str:
    """Parse a date given by a client (filters, concurrency values) into a key in the location's local time.

    Accepts 2018-06-06, 01/01/2022, ISO-8601 with optional fraction (up to 7 digits) and optional Z/offset.
    A value with Z or an offset is converted to the location's local wall clock before comparing.
    """
    s = text.strip()
    m = _ISO.match(s)
    if m:
        y, mo, d, hh, mi, ss, frac, off = m.groups()
        frac7 = (frac or "").ljust(7, "0")
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
        if off:
            aware = dt.replace(tzinfo=_offset(off))
            local_tz = tz or ZoneInfo("America/New_York")
            dt = aware.astimezone(local_tz).replace(tzinfo=None)
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac7
    m = _US.match(s)
    if m:
        mo, d, y, hh, mi, ss, ampm = m.groups()
        hour = int(hh or 0)
        if ampm:
            hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
        dt = datetime(int(y), int(mo), int(d), hour, int(mi or 0), int(ss or 0))
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".0000000"
    raise ValueError(f"not a date: {text!r}")


def _offset(off: str) -> timezone:
    if off.upper() == "Z":
        return UTC
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def key_to_wire(key: str) -> str:
    """A key back to the .NET wire form: trailing zero fraction digits trimmed ("FFFFFFF")."""
    head, _, frac = key.partition(".")
    frac = frac.rstrip("0")
    return f"{head}.{frac}" if frac else head


def key_add_tick(key: str) -> str:
    """The key 100 ns later."""
    head, _, frac = key.partition(".")
    ticks = int(frac or 0) + 1
    if ticks < 10_000_000:
        return f"{head}.{ticks:07d}"
    dt = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S") + timedelta(seconds=1)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".0000000"


def local_now(tz_name: str) -> datetime:
    """Naive wall clock of the location's time zone."""
    return clock.now(tz_name).replace(tzinfo=None)


def now_key(tz_name: str) -> str:
    now = local_now(tz_name)
    return now.strftime("%Y-%m-%dT%H:%M:%S") + f".{now.microsecond:06d}0"


def wire(dt: datetime) -> str:
    """A naive datetime in wire form (fraction only when non-zero)."""
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        return base + f".{dt.microsecond:06d}".rstrip("0")
    return base
