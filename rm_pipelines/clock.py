"""The product's notion of "now", in one place.

Everything that stamps, compares or defaults a date reads it here, so the whole product (and the sandbox) can
be moved forward in time together: ``RM_PIPELINES_CLOCK_OFFSET_DAYS=365`` runs it a year ahead. The test suite
does that with ``pytest --clock-offset-days 365`` to prove that no test depends on the calendar.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

OFFSET_ENV = "RM_PIPELINES_CLOCK_OFFSET_DAYS"


def offset() -> timedelta:
    """The configured shift of the clock (zero unless ``RM_PIPELINES_CLOCK_OFFSET_DAYS`` is set)."""
    raw = os.environ.get(OFFSET_ENV, "").strip()
    if not raw:
        return timedelta(0)
    try:
        return timedelta(days=int(raw))
    except ValueError:
        raise ValueError(f"{OFFSET_ENV} must be a whole number of days, got {raw!r}") from None


def utcnow() -> datetime:
    """Now, timezone-aware in UTC."""
    return datetime.now(UTC) + offset()


def now(tz: str | ZoneInfo) -> datetime:
    """Now, timezone-aware in ``tz`` (an IANA name or a ZoneInfo)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return utcnow().astimezone(zone)


def today(tz: str | ZoneInfo | None = None) -> date:
    """Today's date in ``tz``; in UTC when no zone is given."""
    return (utcnow() if tz is None else now(tz)).date()


def periods_ahead() -> tuple[int, int]:
    """How many calendar months and years the product's today is ahead of the wall clock's (0, 0 unshifted).

    Dagster's time-window partitions end at the wall clock's now; a shifted clock extends them by this much so
    the period of today's evaluation has a partition."""
    real, shifted = datetime.now(UTC).date(), today()
    months = (shifted.year - real.year) * 12 + shifted.month - real.month
    return max(0, months), max(0, shifted.year - real.year)
