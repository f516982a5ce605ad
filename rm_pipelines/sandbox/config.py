"""Runtime settings and counters of a sandbox server. Both are plain mutable objects: tests and the
`/_sandbox/config` endpoint change them while the server runs."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class SandboxConfig:
    users: dict[str, str] = field(default_factory=lambda: {"demo": "demo-password"})
    partner_tokens: list[str] = field(default_factory=lambda: ["sandbox-partner-token"])
    location_timezone: str = "America/New_York"
    token_idle_seconds: float = 900
    token_absolute_seconds: float = 86400
    max_tokens_per_user: int = 10
    rate_limit_per_minute: int | None = 500  # None = unlimited
    empty_status: int = 204  # 204 | 200 (body "[]") | 404, for a collection GET with no rows
    partial_content_206: bool = True  # answer 206 while more pages remain
    total_results_header: bool = True  # send X-Total-Results (and Link) on collection pages
    webhook_url: str | None = None
    corporate_id: str = "sandbox"
    fault_seed: int = 0
    admin_token: str | None = None  # required by /_sandbox/ routes; the server makes one up when none is given
    hard_close_date: str | None = None  # YYYY-MM-DD: saves dated on or before it need saveOptions=IgnoreHardClose

    def to_dict(self) -> dict[str, Any]:
        """The settings, without secrets (users' passwords, partner tokens, the admin token)."""
        out = asdict(self)
        out["users"] = {name: "****" for name in self.users}
        out["partner_tokens"] = ["****" for _ in self.partner_tokens]
        out["admin_token"] = "****" if self.admin_token else None
        return out

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update (from the admin endpoint); unknown or badly typed keys raise ValueError."""
        known = {f.name for f in fields(self)}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown config field {key!r}")
            if key == "admin_token":
                raise ValueError("admin_token is set when the server starts, not over the admin API")
            if key == "empty_status" and value not in (200, 204, 404):
                raise ValueError("empty_status must be 200, 204 or 404")
            if key == "rate_limit_per_minute" and value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError("rate_limit_per_minute must be a non-negative integer or null")
            if key == "users" and not isinstance(value, dict):
                raise ValueError("users must be an object of username -> password")
            if key == "partner_tokens" and not isinstance(value, list):
                raise ValueError("partner_tokens must be a list")
            setattr(self, key, value)


class Stats:
    """Request counters (thread-safe enough for counters: updated from the server's event loop only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.by_status: dict[int, int] = {}
            self.by_path: dict[str, int] = {}
            self.rate_limited = 0  # 429s sent (real budget exhaustion and storms)
            self.dropped = 0
            self.malformed = 0
            self.duplicated = 0  # pages answered with one key twice (fault duplicate_row)
            self.webhooks_sent = 0
            self.webhooks_failed = 0

    def record(self, path: str, status: int) -> None:
        with self._lock:
            self.requests += 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            self.by_path[path] = self.by_path.get(path, 0) + 1
            if status == 429:
                self.rate_limited += 1

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
                "by_path": dict(sorted(self.by_path.items())),
                "rate_limited": self.rate_limited,
                "dropped": self.dropped,
                "malformed": self.malformed,
                "duplicated": self.duplicated,
                "webhooks_sent": self.webhooks_sent,
                "webhooks_failed": self.webhooks_failed,
            }
