"""Fault injection: 429 storms, 5xx, latency, dropped connections, malformed pages, expired tokens, a key twice
in one page.

Counters ("next N requests") are exact; rates draw from a private RNG seeded with `SandboxConfig.fault_seed`, so a
given sequence of requests meets the same faults on every run.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    status_429_next: int = 0  # storm: the next N requests get 429
    error_5xx_next: int = 0  # the next N requests get a 5xx
    error_5xx_rate: float = 0.0  # probability of a 5xx per request
    latency_seconds: float = 0.0  # added before every answer
    drop_next: int = 0  # the next N requests see the connection closed mid-response
    drop_rate: float = 0.0
    malformed_page: tuple[str, int] | None = None  # (resource, pageNumber) answered 200 with truncated JSON
    malformed_times: int | None = None  # how many times malformed_page fires (None = until cleared)
    # A lying server: (resource, pageNumber, n) answers that page with its last n rows left out (the headers still
    # describe the full page); (resource, pageNumber) answers 404 for that page; (resource, pageNumber, n) deletes
    # the n lowest keys of the collection just before serving that page (another user deleting mid-paging).
    short_page: tuple[str, int, int] | None = None
    not_found_page: tuple[str, int] | None = None
    delete_before_page: tuple[str, int, int] | None = None
    # (resource, pageNumber) whose last record is replaced by a later edit of its first: one key twice in one
    # page with different contents, as a server paging through a record being edited can answer
    duplicate_row: tuple[str, int] | None = None
    page_fault_times: int = 1  # how many times each of the page faults fires before clearing itself
    seed: int = 0
    token_generation: int = field(default=0)  # bumped by expire_all_tokens(); tokens of older generations are dead

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._page_fault_fired: dict[str, int] = {}

    def reseed(self, seed: int) -> None:
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def expire_all_tokens(self) -> None:
        """Every API token issued so far becomes invalid (next use: 401)."""
        with self._lock:
            self.token_generation += 1

    def reset(self) -> None:
        with self._lock:
            self.status_429_next = self.error_5xx_next = self.drop_next = 0
            self.error_5xx_rate = self.drop_rate = self.latency_seconds = 0.0
            self.malformed_page = None
            self.malformed_times = None
            self.short_page = self.not_found_page = self.delete_before_page = self.duplicate_row = None
            self.page_fault_times = 1
            self._page_fault_fired: dict[str, int] = {}

    # -- decisions, one call per request (in this order)
    def take_429(self) -> bool:
        with self._lock:
            if self.status_429_next > 0:
                self.status_429_next -= 1
                return True
            return False

    def take_5xx(self) -> int | None:
        with self._lock:
            if self.error_5xx_next > 0:
                self.error_5xx_next -= 1
                return self._rng.choice((500, 502, 503))
            if self.error_5xx_rate > 0 and self._rng.random() < self.error_5xx_rate:
                return self._rng.choice((500, 502, 503))
            return None

    def take_drop(self) -> bool:
        with self._lock:
            if self.drop_next > 0:
                self.drop_next -= 1
                return True
            return self.drop_rate > 0 and self._rng.random() < self.drop_rate

    def take_malformed(self, resource: str, page_number: int) -> bool:
        with self._lock:
            mp = self.malformed_page
            if mp is None or mp[0].lower() != resource.lower() or int(mp[1]) != page_number:
                return False
            if self.malformed_times is not None:
                self.malformed_times -= 1
                if self.malformed_times <= 0:
                    self.malformed_page, self.malformed_times = None, None
            return True

    def take_page_fault(self, kind: str, resource: str, page_number: int) -> tuple | None:
        """The page fault `kind` (short_page | not_found_page | delete_before_page | duplicate_row) when it targets
        this page."""
        with self._lock:
            fault = getattr(self, kind)
            if fault is None or fault[0].lower() != resource.lower() or int(fault[1]) != page_number:
                return None
            fired = self._page_fault_fired.get(kind, 0) + 1
            self._page_fault_fired[kind] = fired
            if fired >= self.page_fault_times:
                setattr(self, kind, None)
                self._page_fault_fired[kind] = 0
            return fault

    # -- admin endpoint
    def to_dict(self) -> dict[str, Any]:
        return {
            "status_429_next": self.status_429_next,
            "error_5xx_next": self.error_5xx_next,
            "error_5xx_rate": self.error_5xx_rate,
            "latency_seconds": self.latency_seconds,
            "drop_next": self.drop_next,
            "drop_rate": self.drop_rate,
            "malformed_page": list(self.malformed_page) if self.malformed_page else None,
            "malformed_times": self.malformed_times,
            "short_page": list(self.short_page) if self.short_page else None,
            "not_found_page": list(self.not_found_page) if self.not_found_page else None,
            "delete_before_page": list(self.delete_before_page) if self.delete_before_page else None,
            "page_fault_times": self.page_fault_times,
            "duplicate_row": list(self.duplicate_row) if self.duplicate_row else None,
            "token_generation": self.token_generation,
        }

    def update(self, changes: dict[str, Any]) -> None:
        """Partial update. Extra verbs: {"expire_tokens": true}, {"reset": true}."""
        unknown = set(changes) - (set(self.to_dict()) - {"token_generation"}) - {"reset", "expire_tokens"}
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        if changes.get("reset"):
            self.reset()
        if changes.get("expire_tokens"):
            self.expire_all_tokens()
        for key in ("status_429_next", "error_5xx_next", "drop_next"):
            if key in changes:
                setattr(self, key, max(0, int(changes[key])))
        for key in ("error_5xx_rate", "drop_rate", "latency_seconds"):
            if key in changes:
                value = float(changes[key])
                if value < 0 or (key.endswith("rate") and value > 1):
                    raise ValueError(f"{key} out of range: {value}")
                setattr(self, key, value)
        if "malformed_page" in changes:
            mp = changes["malformed_page"]
            if mp is None:
                self.malformed_page = None
            else:
                if isinstance(mp, str):
                    resource, _, page = mp.partition(":")
                    mp = (resource, page)
                self.malformed_page = (str(mp[0]), int(mp[1]))
        for key, size in (("short_page", 3), ("not_found_page", 2), ("delete_before_page", 3),
                          ("duplicate_row", 2)):
            if key in changes:
                value = changes[key]
                if value is None:
                    setattr(self, key, None)
                    continue
                if isinstance(value, str):
                    value = value.split(":")
                if len(value) != size:
                    raise ValueError(f"{key} takes {size} values: resource, page{', count' if size == 3 else ''}")
                setattr(self, key, (str(value[0]), *(int(v) for v in value[1:])))
        if "page_fault_times" in changes:
            self.page_fault_times = max(1, int(changes["page_fault_times"]))
        if "malformed_times" in changes:
            t = changes["malformed_times"]
            self.malformed_times = None if t is None else int(t)
