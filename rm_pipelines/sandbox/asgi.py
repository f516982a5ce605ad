"""The sandbox's ASGI app: the Rent Manager API, the `/_sandbox/` admin routes and request counting."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .admin import admin_routes
from .app import SandboxApi
from .config import SandboxConfig, Stats
from .faults import Faults
from .store import SandboxStore


class StatsMiddleware:
    """Counts every API response by status and by path (IDs folded to {id}); admin calls are not counted."""

    def __init__(self, app: ASGIApp, stats: Stats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        key = "/" + "/".join("{id}" if s.isdigit() else s for s in path.split("/") if s)
        recorded = False

        async def wrapped(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                self.stats.record(key, int(message["status"]))
            await send(message)

        await self.app(scope, receive, wrapped)


def create_app(store: SandboxStore, config: SandboxConfig | None = None, faults: Faults | None = None,
               stats: Stats | None = None) -> Starlette:
    """The ASGI app. `config`, `faults` and `stats` are live objects: changing them changes behaviour at once."""
    config = config or SandboxConfig()
    faults = faults or Faults(seed=config.fault_seed)
    stats = stats or Stats()
    api = SandboxApi(store, config, faults, stats)
    methods = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]
    routes = admin_routes(api) + [Route("/{path:path}", api.handle, methods=methods)]
    app = Starlette(routes=routes)
    app.state.api = api
    app.add_middleware(StatsMiddleware, stats=stats)
    return app
