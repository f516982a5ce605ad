"""One writer per org at a time, whatever starts it: a Dagster run, the CLI's in-process path, another machine.

PostgreSQL: a session-level advisory lock held on a dedicated connection; the server releases it when that
connection ends, so a killed process never leaves it behind. SQLite: an exclusive `flock` on a file beside the
database; the kernel releases it when the process dies. Either way a second run of the same org waits up to
`wait_seconds` and then refuses with a message naming the org (and the run holding it, when known).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine

from .db import is_sqlite

POLL_SECONDS = 0.25


class OrgBusyError(RuntimeError):
    """Another run holds the org's lock."""


def _advisory_key(org_id: str) -> int:
    digest = hashlib.blake2b(f"rm_pipelines:org:{org_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_file(engine: Engine, org_id: str) -> Path:
    main = Path(engine.url.database or "").resolve()
    return main.with_name(f"{main.stem}.org-{org_id}.lock")


@contextlib.contextmanager
def org_lock(engine: Engine, org_id: str, *, holder: str = "", wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the org's lock for the block; raise OrgBusyError when another run keeps it past `wait_seconds`."""
    deadline = time.monotonic() + max(0.0, wait_seconds)
    if is_sqlite(engine):
        path = _lock_file(engine, org_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        other = os.pread(fd, 200, 0).decode(errors="replace").strip()
                        raise _busy(org_id, other) from None
                    time.sleep(POLL_SECONDS)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{holder} (pid {os.getpid()})".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return
    key = _advisory_key(org_id)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        while not conn.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (key,)).scalar_one():
            if time.monotonic() >= deadline:
                raise _busy(org_id, "")
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))


def _busy(org_id: str, holder: str) -> OrgBusyError:
    by = f" ({holder})" if holder else ""
    return OrgBusyError(f"org {org_id!r} is being written by another run{by}; one run per org at a time — "
                        "wait for it to finish (or for its process to end) and start again")
