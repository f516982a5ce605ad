"""A local, Rent Manager–compatible HTTP server for the demo, tests and benchmarks.

    from rm_pipelines.sandbox import SandboxStore, SandboxServer, SandboxConfig
    store = SandboxStore.open(path, units=500, seed=7)       # generates the portfolio on first use
    with SandboxServer(store, SandboxConfig(rate_limit_per_minute=None)) as srv:
        ...  # srv.url, srv.faults, srv.stats, srv.config

Steering a server from another process (no auth; not rate limited, not counted in stats):
    GET|POST /_sandbox/faults   {"status_429_next": 5, "error_5xx_rate": 0.1, "latency_seconds": 0.2,
                                 "drop_next": 1, "drop_rate": 0.0, "malformed_page": ["Charges", 3],
                                 "malformed_times": null, "expire_tokens": true, "reset": true}
    GET|POST /_sandbox/config   any SandboxConfig field, e.g. {"rate_limit_per_minute": 100}
    POST     /_sandbox/churn    {"changes": 100, "deletes": 10, "seed": 1}  -> ChurnResult as JSON
    GET|POST /_sandbox/stats    counters (POST resets them);  GET /_sandbox/state: sizes, path, live tokens
    POST     /_sandbox/ratelimit/reset

It shares no code with `rm_pipelines.rentmanager` (the client). Names are imported lazily so that importing the
package stays cheap (no Starlette/uvicorn/generator until used).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs; at run time names resolve lazily below
    from .asgi import create_app  # noqa: F401
    from .churn import ChurnResult  # noqa: F401
    from .config import SandboxConfig, Stats  # noqa: F401
    from .faults import Faults  # noqa: F401
    from .server import SandboxServer  # noqa: F401
    from .store import SandboxStore  # noqa: F401

_EXPORTS = {
    "SandboxStore": ".store",
    "SandboxConfig": ".config",
    "Stats": ".config",
    "Faults": ".faults",
    "SandboxServer": ".server",
    "ChurnResult": ".churn",
    "create_app": ".asgi",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
