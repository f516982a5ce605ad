"""The webhook receiver: a Starlette app that commits every Rent Manager delivery to `ops.webhook_inbox` before
it answers.

    POST /rentmanager/{org_id}/{token}   a delivery (JSON); 200 once it is committed
    GET  /healthz                        200 when the inbox database answers, 503 otherwise

Rent Manager signs nothing, so the unguessable URL is the credential: an unknown org or a wrong token gets a
bare 404, the same answer as any unknown path, after a constant-time comparison. The token never reaches a log
line: every log names the org only. A body over the limit gets 413, a body that is not JSON 415 (wrong
Content-Type) or 400, a JSON body that is not a Rent Manager event 422 — each kept as a `rejected` row with its
reason. Event types rm_pipelines does not sync are kept as `ignored`.

Commits are grouped: one writer thread commits whatever deliveries are waiting in one transaction, then answers
each of them, so a delivery is answered only once it is durable and throughput does not pay one disk flush per
delivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, text
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..warehouse import inbox
from .events import Delivery, DeliveryError, check_org, classify, parse_delivery

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 64 * 1024
KEPT_BODY_CHARS = 4096
MAX_BATCH = 500
SUMMARY_SECONDS = 60.0
_DUMMY_TOKEN = "x" * 43  # compared against when the org is unknown, so both answers take the same path


@dataclass(frozen=True)
class ReceiverOrg:
    """An org the receiver accepts deliveries for."""

    org_id: str
    token: str
    corporate_id: str | None
    location_ids: frozenset[int]


class InboxWriter:
    """Commits deliveries in groups from one thread; `submit` returns once the delivery's group committed."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], asyncio.AbstractEventLoop, asyncio.Future] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="webhook-inbox-writer", daemon=True)
        self.commits = self.stored = 0
        self._logged = (time.monotonic(), 0, 0)  # when the last summary was logged, and the counts then
        self._thread.start()

    async def submit(self, row: dict[str, Any]) -> inbox.Recorded:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._queue.put((row, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            try:
                with self.engine.begin() as conn:
                    results: list[Any] = inbox.record(conn, [row for row, _, _ in batch])
            except Exception as exc:  # noqa: BLE001 — every waiting delivery learns it was not stored
                log.error("webhook inbox commit of %d deliveries failed: %s", len(batch), exc)
                results = [exc] * len(batch)
            else:
                self.commits += 1
                self.stored += len(batch)
                self._summary()
            for (_, loop, future), result in zip(batch, results, strict=True):
                try:
                    loop.call_soon_threadsafe(_settle, future, result)
                except RuntimeError:  # the server's loop is gone (shutting down): nobody waits for this answer
                    pass

    def _summary(self, every: float = SUMMARY_SECONDS) -> None:
        """One log line a minute at most, however many deliveries arrive (each is a DEBUG line)."""
        at, stored, commits = self._logged
        now = time.monotonic()
        if now - at >= every and self.stored > stored:
            log.info("webhook inbox: %d deliveries committed in %d transaction(s) over the last %.0fs",
                     self.stored - stored, self.commits - commits, now - at)
            self._logged = (now, self.stored, self.commits)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        self._summary(every=0)


def _settle(future: asyncio.Future, result: Any) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _digest(org_id: str, body: bytes) -> str:
    return hashlib.sha256(org_id.encode() + b"\0" + body).hexdigest()


def _json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _answer(recorded: inbox.Recorded, status: str) -> Response:
    return JSONResponse({"id": recorded.id, "status": status, "duplicate": recorded.duplicate})


class Receiver:
    """The route handlers over a set of orgs and an inbox writer."""

    def __init__(self, orgs: Iterable[ReceiverOrg], writer: InboxWriter, max_body_bytes: int) -> None:
        self.orgs = {o.org_id: o for o in orgs}
        self.writer = writer
        self.max_body_bytes = max_body_bytes

    def _authorised(self, org_id: str, token: str) -> ReceiverOrg | None:
        org = self.orgs.get(org_id)
        ok = hmac.compare_digest(token.encode(), (org.token if org else _DUMMY_TOKEN).encode())
        return org if ok and org is not None else None

    async def _body(self, request: Request) -> bytes | None:
        """The body, or None once it grows past the limit (the rest is not read)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _reject(self, org: ReceiverOrg, status: int, reason: str, body: bytes | None) -> Response:
        row = {"org_id": org.org_id, "status": "rejected", "reason": reason,
               "digest": _digest(org.org_id, body if body is not None else f"oversize:{reason}".encode()),
               "body": None if body is None else body[:KEPT_BODY_CHARS].decode("utf-8", "replace")}
        try:
            recorded = await self.writer.submit(row)
        except Exception:  # noqa: BLE001
            return JSONResponse({"status": "unavailable"}, status_code=503)
        log.warning("webhook for org %r rejected (%d, inbox #%d): %s", org.org_id, status, recorded.id, reason)
        return JSONResponse({"id": recorded.id, "status": "rejected", "reason": reason}, status_code=status)

    async def deliver(self, request: Request) -> Response:
        org = self._authorised(request.path_params["org_id"], request.path_params["token"])
        if org is None:
            return Response(status_code=404)
        try:
            body = await self._body(request)
        except ClientDisconnect:
            return Response(status_code=400)
        if body is None:
            return await self._reject(org, 413, f"body larger than {self.max_body_bytes} bytes", None)
        if not _json_type(request.headers.get("content-type", "")):
            return await self._reject(org, 415, "Content-Type must be application/json, got "
                                                f"{request.headers.get('content-type', '(none)')[:60]!r}", body)
        try:
            delivery = parse_delivery(body)
            check_org(delivery, corporate_id=org.corporate_id, location_ids=org.location_ids)
        except DeliveryError as exc:
            return await self._reject(org, exc.status, exc.reason, body)
        verdict = classify(delivery)
        try:
            recorded = await self.writer.submit(_pending_row(org, delivery, verdict, _digest(org.org_id, body)))
        except Exception:  # noqa: BLE001 — not stored: Rent Manager must deliver it again
            return JSONResponse({"status": "unavailable"}, status_code=503)
        log.debug("webhook %s for org %r: %d id(s) → inbox #%d (%s%s)", delivery.event_type, org.org_id,
                  len(delivery.ids), recorded.id, verdict.status, ", repeat" if recorded.duplicate else "")
        return _answer(recorded, verdict.status)

    async def healthz(self, request: Request) -> Response:
        def ping() -> None:
            with self.writer.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await asyncio.get_running_loop().run_in_executor(None, ping)
        except Exception as exc:  # noqa: BLE001 — a load balancer only needs to know
            log.error("webhook receiver health check: inbox database unreachable: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok", "orgs": len(self.orgs)})


def _pending_row(org: ReceiverOrg, delivery: Delivery, verdict: Any, digest: str) -> dict[str, Any]:
    return {"org_id": org.org_id, "location_id": delivery.location_id, "corporate_id": delivery.corporate_id,
            "event_type": delivery.event_type, "entity": verdict.entity, "operation": delivery.operation,
            "ids": delivery.ids_json, "digest": digest, "status": verdict.status, "reason": verdict.reason}


async def _not_found(request: Request, exc: Exception) -> Response:
    return Response(status_code=404)


def create_app(engine: Engine, orgs: Iterable[ReceiverOrg], *,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Starlette:
    """The receiver app over an EstateCore engine (its inbox must exist: `rm-pipelines db upgrade`)."""
    writer = InboxWriter(engine)
    receiver = Receiver(orgs, writer, max_body_bytes)
    app = Starlette(
        routes=[Route("/rentmanager/{org_id}/{token}", receiver.deliver, methods=["POST"]),
                Route("/healthz", receiver.healthz, methods=["GET"])],
        exception_handlers={404: _not_found},
    )
    app.state.receiver = receiver
    return app


def close_app(app: Starlette) -> None:
    """Stop the app's inbox writer (after the server stopped taking requests)."""
    app.state.receiver.writer.close()


def durable(engine: Engine) -> Engine:
    """On SQLite, make every commit of this engine reach the disk (synchronous=FULL) before it returns: the
    receiver answers Rent Manager only after its commit."""
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _full_sync(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA ops.synchronous=FULL")
            cur.close()
    return engine
