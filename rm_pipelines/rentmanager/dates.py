"""Rent Manager timestamps: naive local wall-clock strings <-> aware datetimes.

Rent Manager sends `2017-10-02T11:30:52` or `2026-11-20T14:03:22.1234567` (0-7 fractional digits, .NET style)
in the location's time zone, without an offset. We turn them into aware datetimes with the location's zone
and render outgoing filter values back in that local time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_rm_datetime(value: str | None, tz: ZoneInfo) -> datetime | None:
    """Parse a Rent Manager timestamp; naive values are read in `tz`, explicit offsets are honoured.

    Fractions beyond microseconds (.NET's 7th digit) are truncated, never rounded up.
    """
    if value is None or value == "":
        return None
    m = _TIMESTAMP.match(value.strip())
    if not m:
        raise ValueError(f"not a Rent Manager timestamp: {value!r}")
    year, month, day, hh, mm, ss, frac, offset = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    naive = datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro)
    if offset is None:
        return naive.replace(tzinfo=tz)
    if offset == "Z":
        return naive.replace(tzinfo=timezone.utc)
    sign = 1 if offset[0] == "+" else -1
    digits = offset[1:].replace(":", "")
    from datetime import timedelta

    return naive.replace(tzinfo=timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))))


def format_rm_datetime(value: datetime | date, tz: ZoneInfo) -> str:
    """Render a value the way Rent Manager expects it in a filter: local wall-clock time, no offset."""
    if isinstance(value, datetime):
        local = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
        text = local.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{text}.{local.microsecond:06d}" if local.microsecond else text
    return value.strftime("%Y-%m-%d")


def to_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value is not None else None
