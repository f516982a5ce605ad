"""Rent Manager timestamps: naive local wall-clock strings <-> aware datetimes.

Rent Manager sends `2017-10-02T11:30:52` or `2026-11-20T14:03:22.1234567` (0-7 fractional digits, .NET style)
in the location's time zone, without an offset. We turn them into aware datetimes with the location's zone
and render outgoing filter values back in that local time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
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
    try:
        parsed = datetime.fromisoformat(value)
    except (ValueError, TypeError):
        if not isinstance(value, str) or not _TIMESTAMP.match(value.strip()):
            raise ValueError(f"not a Rent Manager timestamp: {value!r}") from None
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


class UtcConverter:
    """Fast local-naive → UTC conversion for bulk rows: the zone's offset is looked up once per local hour."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[tuple[int, int, int, int], timedelta] = {}

    def naive_utc(self, value: str | None) -> datetime | None:
        """UTC wall time (naive) of a Rent Manager timestamp, or None when blank."""
        if value is None or value == "":
            return None
        try:
            naive = datetime.fromisoformat(value)
        except (ValueError, TypeError):
            naive = parse_rm_datetime(value, self.tz)
        if naive.tzinfo is not None:
            return naive.astimezone(timezone.utc).replace(tzinfo=None)
        hour = (naive.year, naive.month, naive.day, naive.hour)
        offset = self._offsets.get(hour)
        if offset is None:
            offset = self._offsets[hour] = self.tz.utcoffset(naive) or timedelta(0)
        return naive - offset


def format_rm_datetime(value: datetime | date, tz: ZoneInfo) -> str:
    """Render a value the way Rent Manager expects it in a filter: local wall-clock time, no offset."""
    if isinstance(value, datetime):
        local = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
        text = local.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{text}.{local.microsecond:06d}" if local.microsecond else text
    return value.strftime("%Y-%m-%d")


