"""Per-credential request budget in fixed one-minute windows (aligned to the wall-clock minute)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int | None
    remaining: int
    reset: int  # Unix epoch seconds when the current window ends

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.limit is None:
            return []
        return [(b"x-ratelimit-limit", str(self.limit).encode()),
                (b"x-ratelimit-remaining", str(self.remaining).encode()),
                (b"x-ratelimit-reset", str(self.reset).encode())]


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}  # credential -> (window start, requests used)
        self._lock = threading.Lock()

    def hit(self, credential: str, limit: int | None, now: float | None = None) -> Verdict:
        """Count one request for `credential` and say whether it is within the budget."""
        now = time.time() if now is None else now
        start = int(now // 60) * 60
        reset = start + 60
        if limit is None:
            return Verdict(True, None, 0, reset)
        with self._lock:
            w_start, used = self._windows.get(credential, (start, 0))
            if w_start != start:
                used = 0
            used += 1
            self._windows[credential] = (start, used)
        if used > limit:
            return Verdict(False, limit, 0, reset)
        return Verdict(True, limit, limit - used, reset)

    def exhausted(self, limit: int | None, now: float | None = None) -> Verdict:
        """Headers for a 429 that does not consume budget (fault storms)."""
        now = time.time() if now is None else now
        return Verdict(False, limit, 0, int(now // 60) * 60 + 60)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
