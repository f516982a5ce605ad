"""SQLite: a large load's writes applied by a writer process while the loading process prepares the next chunk.

SQLite runs inside the process that calls it, and Python's sqlite3 holds the interpreter lock while it binds each
row's parameters, so in one process writing a chunk and validating/mapping the next take turns however many
threads do them. A loader records a chunk's statements instead (`Statements`, which stands in for the connection
of one transaction and only collects) and hands them to `WriterProcess`: a child Python process with its own
connection, set up as the engine's are, that runs each submitted transaction in order on another core.

Nothing changes in what is written: the same statements, one transaction per chunk, in the order submitted. A
transaction that fails is rolled back, and every later one is refused unapplied, so the first error is the one
the loader reports (`WriterProcessError`) and no chunk is applied after a failed one. The statements travel over
a pipe, never through a file; encrypted columns are encrypted before they are recorded.

    python -m rm_pipelines.warehouse.sqlite_writer <main database file>   # the child; speaks on stdin/stdout
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

_FRAME = struct.Struct("!Q")  # length prefix of each message
_STOP = b""


class WriterProcessError(RuntimeError):
    """The writer process could not apply a transaction (or is gone); the message says why."""


class Statements:
    """The statements of one transaction, recorded for a writer process: `exec_driver_sql` as on a SQLAlchemy
    connection (a list of parameter tuples runs as executemany). Writes only — there is no result to read."""

    class _Dialect:
        name = "sqlite"

    dialect = _Dialect()

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []

    def exec_driver_sql(self, sql: str, params: Any = ()) -> None:
        if sql.lstrip()[:6].upper().startswith(("SELECT", "WITH")):
            raise TypeError("a transaction recorded for the writer process cannot read: " + sql[:60])
        self.items.append((sql, params))


class WriterProcess:
    """A child process that applies recorded transactions to the SQLite warehouse at `main`, in order.

    `submit` returns once the transaction is handed over; at most `depth` are in flight (not yet acknowledged).
    `flush` waits until all are applied and raises the first error; `close` flushes and ends the child."""

    def __init__(self, main: Path, depth: int = 2) -> None:
        self.depth = depth
        self._pending = 0
        self._error: str | None = None
        self.peak_rss_mb: float | None = None  # the child's, reported when it stops
        # the child runs this very package, wherever the loading process imported it from
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", __name__, str(main)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        # the child reads a transaction only when the previous one is applied: a thread feeds the pipe, so the
        # loader does not wait on a full pipe (the write releases the interpreter lock)
        self._outgoing: queue.Queue[bytes | None] = queue.Queue()
        self._send_error: BaseException | None = None
        self._sender = threading.Thread(target=self._feed, name="estatecore-writer-feed", daemon=True)
        self._sender.start()

    def _feed(self) -> None:
        while True:
            payload = self._outgoing.get()
            if payload is None:
                return
            try:
                _send(self._proc.stdin, payload)
            except (BrokenPipeError, OSError) as exc:  # the child is gone: `_acknowledge` reports it
                self._send_error = exc
                return

    def submit(self, statements: Statements) -> None:
        if self._error is not None:
            raise WriterProcessError(self._error)
        while self._pending >= self.depth:
            self._acknowledge()
        self._outgoing.put(pickle.dumps(statements.items, protocol=pickle.HIGHEST_PROTOCOL))
        self._pending += 1

    def flush(self) -> None:
        if self._error is not None:
            raise WriterProcessError(self._error)
        while self._pending:
            self._acknowledge()

    def close(self) -> None:
        """Flush, then stop the child; a first error not raised yet is raised once the child has stopped."""
        try:
            if self._error is None:
                self.flush()
        finally:
            self._outgoing.put(_STOP)
            self._outgoing.put(None)
            self._sender.join(timeout=30)
            try:
                self._proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            if self._error is None:
                reply = _receive(self._proc.stdout)
                kind, detail = pickle.loads(reply) if reply else (None, None)
                if kind == "stopped" and detail is not None:
                    self.peak_rss_mb = round(detail / 1024, 1)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc.stdout.close()

    def _acknowledge(self) -> None:
        reply = _receive(self._proc.stdout)
        if reply is None:
            self._error = (f"the writer process exited (exit code {self._proc.wait()}) before it applied every "
                           "transaction" + (f" ({self._send_error})" if self._send_error else ""))
            raise WriterProcessError(self._error)
        self._pending -= 1
        kind, detail = pickle.loads(reply)
        if kind != "ok":
            self._error = f"the writer process could not apply a transaction: {detail}"
            raise WriterProcessError(self._error)


def _send(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_FRAME.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _receive(stream: BinaryIO) -> bytes | None:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return body


def _peak_rss_kib() -> int | None:
    """This process's peak RSS since it started its program (VmHWM; `ru_maxrss` would count the memory of the
    process it was forked from)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def serve(main: Path, inbox: BinaryIO, outbox: BinaryIO) -> None:
    """The child's loop: apply each transaction read from `inbox`, answer on `outbox`, until told to stop."""
    from .sqlite_files import connect_sqlite

    conn = connect_sqlite(main)
    failed: str | None = None
    try:
        while True:
            message = _receive(inbox)
            if message is None:  # the loader is gone
                break
            if message == _STOP:
                _send(outbox, pickle.dumps(("stopped", _peak_rss_kib())))
                break
            if failed is not None:
                _send(outbox, pickle.dumps(("error", f"not applied: an earlier transaction failed ({failed})")))
                continue
            try:
                conn.execute("BEGIN IMMEDIATE")
                for sql, params in pickle.loads(message):
                    if isinstance(params, list):
                        conn.executemany(sql, params)
                    else:
                        conn.execute(sql, params)
                conn.execute("COMMIT")
            except Exception as exc:  # noqa: BLE001 — reported to the loader, which fails the load
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                # the driver's message names tables and constraints, never the values of the rows
                failed = f"{type(exc).__name__}: {exc}"
                _send(outbox, pickle.dumps(("error", failed)))
                continue
            _send(outbox, pickle.dumps(("ok", None)))
    finally:
        conn.close()


if __name__ == "__main__":
    # the protocol owns stdout: anything printed goes to stderr
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(Path(sys.argv[1]), sys.stdin.buffer, channel)
