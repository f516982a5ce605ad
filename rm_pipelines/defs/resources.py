"""Resources: Rent Manager access per org, and the EstateCore warehouse."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from collections.abc import Iterator

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy import Engine

from ..orgs import Org, Registry, load_registry
from ..rentmanager.client import RentManagerClient
from ..settings import get_settings
from ..warehouse.db import create_warehouse_engine, redact_url
from ..warehouse.raw import ensure_schema

# The embedded sandbox's built-in demo user; only used for orgs whose base_url is `embedded-sandbox`
# when the org's credential variables are not set. It guards nothing but local generated data.
SANDBOX_DEMO_USER = ("demo", "demo-password")

_embedded_lock = threading.Lock()
_embedded_server = None


def embedded_sandbox_url() -> str:
    """Start (once per process) the embedded Rent Manager sandbox on a free port; return its URL."""
    global _embedded_server
    with _embedded_lock:
        if _embedded_server is None:
            from ..sandbox import SandboxServer, SandboxStore

            settings = get_settings()
            store = SandboxStore.open(settings.sandbox_state_file, units=settings.sandbox_units, seed=settings.sandbox_seed,
                                      as_of=settings.sandbox_as_of)
            server = SandboxServer(store, host="127.0.0.1", port=0)
            server.start()
            _embedded_server = server
        return _embedded_server.url


class RentManagerResource(dg.ConfigurableResource):
    """Opens authenticated Rent Manager clients for the orgs of the registry.

    Credentials come from the environment variables the registry names; nothing secret is configured here.
    """

    orgs_file: str | None = None  # default: settings (RM_PIPELINES_ORGS or the bundled demo registry)
    requests_per_minute_override: int | None = None

    def registry(self) -> Registry:
        return load_registry(self.orgs_file)

    def org(self, org_id: str) -> Org:
        return self.registry().get(org_id)

    def open_client(self, org: Org, location_id: int, timezone: str) -> RentManagerClient:
        rm = org.rentmanager
        if rm.is_embedded_sandbox:
            base_url = embedded_sandbox_url()
            try:
                credentials = org.credentials()
            except ValueError:
                credentials = {"username": SANDBOX_DEMO_USER[0], "password": SANDBOX_DEMO_USER[1]}
        else:
            base_url, credentials = rm.url, org.credentials()
        return RentManagerClient(
            base_url,
            location_id=location_id,
            timezone=timezone,
            requests_per_minute=self.requests_per_minute_override or rm.requests_per_minute,
            timeout=rm.timeout_seconds,
            max_attempts=rm.max_attempts,
            **credentials,
        )


class WarehouseResource(dg.ConfigurableResource):
    """The EstateCore database. The URL comes from ESTATECORE_DATABASE_URL (default: a SQLite file in the
    data dir) so credentials never enter run config; `database_url` overrides it in tests."""

    database_url: str | None = None
    _engine: Engine | None = PrivateAttr(default=None)

    @property
    def url(self) -> str:
        return self.database_url or get_settings().database_url

    @property
    def display_url(self) -> str:
        return redact_url(self.url)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_warehouse_engine(self.url)
            ensure_schema(self._engine)
        return self._engine

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def connect(self) -> Iterator:
        with self.engine.connect() as conn:
            yield conn


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"rentmanager": RentManagerResource(), "warehouse": WarehouseResource()})
