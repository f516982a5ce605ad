"""Webhook deliveries, the Rent Manager way: thin JSON events POSTed to the configured URL.

Events are queued by the write path (never blocking a request) and sent by one background thread, one POST
per changed item, in order. A failed delivery is retried a few times with exponential backoff, then logged.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import httpx

from . import catalog
from .config import SandboxConfig, Stats
from .store import Change, SandboxStore

log = logging.getLogger(__name__)


def payloads_for(changes: list[Change], config: SandboxConfig,
                 lookup: Callable[[str, int], dict | None] | None = None) -> list[dict]:
    """Webhook bodies for a batch of changes (in order, one per item with an event family)."""
    out = []
    for ch in changes:
        ev = catalog.webhook_event(ch.collection, ch.record, lookup)
        if ev is None:
            continue
        family, item_id, parent_id = ev
        op = ch.op if ch.collection != "UserDefinedValues" else "Edit"  # a UDF change edits its parent
        out.append({
            "EventType": f"{family}_{op}",
            "IDParentIDDict": {str(item_id): parent_id},
            "CorporateID": config.corporate_id,
            "LocationID": 1,
            "LocationName": "Default",
        })
    return out


class WebhookDispatcher:
    """Listens to store changes and delivers them from a daemon thread: to `SandboxConfig.webhook_url`, and to
    the URL registered for the event type through `POST /WebhookDetails` (one URL per event type)."""

    def __init__(self, config: SandboxConfig, stats: Stats, store: SandboxStore | None = None, *, retries: int = 3,
                 backoff_seconds: float = 0.5, timeout_seconds: float = 5.0,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.config = config
        self.stats = stats
        self.store = store
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self._queue: queue.Queue[tuple[str, dict] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._idle = threading.Condition()
        self._pending = 0

    def _registered(self) -> dict[str, str]:
        """Event type → URL of the WebhookDetails registered in the store."""
        if self.store is None or not self.store.count("WebhookDetails"):
            return {}
        return {str(r.get("WebhookEventType")): str(r.get("URL")) for r in self.store.records("WebhookDetails")
                if r.get("URL")}

    def _lookup(self, collection: str, rid: int) -> dict | None:
        return self.store.record(collection, rid) if self.store is not None else None

    def __call__(self, changes: list[Change]) -> None:
        """Store listener: enqueue and return at once."""
        registered = self._registered()
        if not self.config.webhook_url and not registered:
            return
        deliveries = []
        for body in payloads_for(changes, self.config, self._lookup):
            family = body["EventType"].rsplit("_", 1)[0]
            urls = {u for u in (self.config.webhook_url, registered.get(family)) if u}
            deliveries.extend((url, body) for url in sorted(urls))
        if not deliveries:
            return
        self._ensure_thread()
        with self._idle:
            self._pending += len(deliveries)
        for item in deliveries:
            self._queue.put(item)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_seconds) as client:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                url, body = item
                try:
                    self._deliver(client, url, body)
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, url: str, body: dict) -> None:
        delay = self.backoff_seconds
        for attempt in range(1, self.retries + 2):
            try:
                resp = client.post(url, json=body)
                if resp.status_code < 300:
                    self.stats.count("webhooks_sent")
                    return
                problem = f"HTTP {resp.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt > self.retries or self._stop.is_set():
                break
            self._sleep(delay)
            delay *= 2
        self.stats.count("webhooks_failed")
        log.warning("sandbox webhook %s to %s failed after %d attempts (%s)", body["EventType"], url,
                    self.retries + 1, problem)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery has been attempted (tests)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)
        self._thread = None
