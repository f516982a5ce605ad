"""`/_sandbox/` admin endpoints: steer a running server (faults, config, churn, stats) from another process."""

from __future__ import annotations

import asyncio
import hmac
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .churn import churn as run_churn
from .responses import json_obj
from .timeutil import wire

if TYPE_CHECKING:
    from .app import SandboxApi


ADMIN_HEADER = "X-Sandbox-Admin-Token"


def admin_routes(api: SandboxApi) -> list[Route]:
    """Routes under /_sandbox/: they need the server's admin token (header X-Sandbox-Admin-Token); no rate
    limit; not counted in stats. Without the token they answer a bare 404, like any unknown route."""

    def guarded(handler):  # noqa: ANN001, ANN202
        async def check(request: Request) -> Response:
            given = request.headers.get(ADMIN_HEADER, "")
            wanted = api.config.admin_token or ""
            if not wanted or not hmac.compare_digest(given.encode(), wanted.encode()):
                return Response(status_code=404)
            return await handler(request)

        return check

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                api.faults.update(orjson.loads(await request.body() or b"{}"))
            except (ValueError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError) as exc:
                return json_obj({"error": str(exc)}, 400)
        return json_obj(api.faults.to_dict())

    async def config(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = orjson.loads(await request.body() or b"{}")
                api.config.update(changes)
            except (ValueError, TypeError, AttributeError, orjson.JSONDecodeError) as exc:
                return json_obj({"error": str(exc)}, 400)
            if "fault_seed" in changes:
                api.faults.reseed(api.config.fault_seed)
        return json_obj(api.config.to_dict())

    async def churn(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body() or b"{}")
            changes, deletes = int(body.get("changes", 0)), int(body.get("deletes", 0))
            seed = body.get("seed")
        except (ValueError, TypeError, AttributeError, orjson.JSONDecodeError) as exc:
            return json_obj({"error": str(exc)}, 400)
        result = await asyncio.get_running_loop().run_in_executor(
            None, lambda: run_churn(api.store, changes, deletes, None if seed is None else int(seed)))
        return json_obj(result.to_dict())

    async def stats(request: Request) -> Response:
        if request.method == "POST":  # POST resets
            api.stats.reset()
        return json_obj(api.stats.to_dict())

    async def state(request: Request) -> Response:
        return json_obj({
            "units": api.store.units, "seed": api.store.seed, "path": str(api.store.path),
            "as_of": api.store.as_of.isoformat() if api.store.as_of else None,
            "counts": {c: api.store.count(c) for c in api.store.collections()},
            "live_tokens": api.tokens.live_count(), "now": wire(api.store.now()),
        })

    async def reset_limits(request: Request) -> Response:
        api.limiter.reset()
        return Response(status_code=204)

    return [
        Route("/_sandbox/faults", guarded(faults), methods=["GET", "POST"]),
        Route("/_sandbox/config", guarded(config), methods=["GET", "POST"]),
        Route("/_sandbox/churn", guarded(churn), methods=["POST"]),
        Route("/_sandbox/stats", guarded(stats), methods=["GET", "POST"]),
        Route("/_sandbox/state", guarded(state), methods=["GET"]),
        Route("/_sandbox/ratelimit/reset", guarded(reset_limits), methods=["POST"]),
    ]
