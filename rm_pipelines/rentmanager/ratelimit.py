"""One request budget per credential set, shared by every stream that uses those credentials.

Rent Manager allows about 500 requests per minute per credential set and answers 429 beyond it. The budget
paces requests evenly at a little under the limit (so a fixed one-minute server window never overflows),
and it listens to the server: `x-ratelimit-remaining` of 0 or a 429 pauses every stream until
`x-ratelimit-reset` / `x-ratelimit-resettime` (Unix seconds) or, without that header, for a back-off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DEFAULT_REQUESTS_PER_MINUTE = 500
# Pace at 97 % of the limit: close to the budget while absorbing clock skew between our window and theirs.
PACING_SHARE = 0.97


@dataclass
class BudgetStats:
    requests: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    started_at: float = field(default_factory=time.monotonic)

    def utilisation(self, per_minute: int | None) -> float | None:
        """Share of the per-minute budget used since the first request."""
        if not per_minute or self.requests == 0:
            return None
        minutes = max(time.monotonic() - self.started_at, 1e-9) / 60
        return self.requests / (per_minute * minutes)


class RequestBudget:
    """Thread-safe pacing + server-driven pauses. `per_minute=None` means unlimited (still obeys 429)."""

    def __init__(
        self,
        per_minute: int | None = DEFAULT_REQUESTS_PER_MINUTE,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute is not None and per_minute <= 0:
            raise ValueError(f"requests per minute must be positive or None, got {per_minute}")
        self.per_minute = per_minute
        self._interval = 60.0 / (per_minute * PACING_SHARE) if per_minute else 0.0
        self._clock, self._wall, self._sleep = clock, wall_clock, sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._paused_until = 0.0
        self.stats = BudgetStats(started_at=clock())

    def acquire(self) -> None:
        """Block until this request may be sent."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot, self._paused_until)
            self._next_slot = slot + self._interval
            self.stats.requests += 1
        wait = slot - now
        if wait > 0:
            self.stats.waited_seconds += wait
            self._sleep(wait)

    def observe(self, status: int, headers: Mapping[str, str]) -> float | None:
        """Learn from a response. Returns the pause (seconds) imposed on every stream, if any."""
        remaining = _int_header(headers, "x-ratelimit-remaining")
        reset_epoch = _int_header(headers, "x-ratelimit-reset") or _int_header(headers, "x-ratelimit-resettime")
        if status == 429:
            self.stats.throttled += 1
        if status != 429 and (remaining is None or remaining > 0):
            return None
        if reset_epoch is not None:
            pause = min(max(reset_epoch - self._wall(), 0.0) + 0.05, 120.0)
        else:
            retry_after = _int_header(headers, "retry-after")
            pause = float(retry_after) if retry_after is not None else (5.0 if status == 429 else 0.0)
        if pause <= 0:
            return None
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + pause)
        return pause


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(float(raw))
    except ValueError:
        return None


_BUDGETS: dict[tuple[str, str], RequestBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def budget_for(base_url: str, credential: str, per_minute: int | None) -> RequestBudget:
    """The process-wide budget of one credential set (same base URL + user or partner token)."""
    key = (base_url.rstrip("/").lower(), credential)
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get(key)
        if budget is None or budget.per_minute != per_minute:
            budget = _BUDGETS[key] = RequestBudget(per_minute)
        return budget
