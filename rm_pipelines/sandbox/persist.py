"""The sandbox state file (SQLite).

One table per collection, `"rec_<Collection>"(id INTEGER PRIMARY KEY, data BLOB)`, one orjson blob per record
(rowid tables with 16 KiB pages: the fastest layout to bulk-write and to scan back) — records whose ID does not
fit SQLite's 64-bit integers (a test of keys the warehouse cannot store) go to `"big_<Collection>"(id TEXT …)` —
and `meta(key, value)` with
the (units, seed, format) the file was generated for plus the ID high-water marks and the newest UpdateDate.
A new file is written under a temporary name and renamed into place, so an interrupted generation never leaves
a half file behind. Later writes go through in one transaction per API call (WAL mode).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

FORMAT_VERSION = 3


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=10000")
    return db


def _create_table(db: sqlite3.Connection, name: str) -> None:
    db.execute(f'CREATE TABLE IF NOT EXISTS "rec_{name}" (id INTEGER PRIMARY KEY, data BLOB NOT NULL)')


def _fits(rid: int) -> bool:
    return -(2**63) <= rid < 2**63


def _write_big(db: sqlite3.Connection, name: str, items: list[tuple[int, bytes]]) -> None:
    db.execute(f'CREATE TABLE IF NOT EXISTS "big_{name}" (id TEXT PRIMARY KEY, data BLOB NOT NULL)')
    db.executemany(f'INSERT OR REPLACE INTO "big_{name}" (id, data) VALUES (?, ?)', [(str(i), d) for i, d in items])


def _siblings(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


class StateFile:
    """An open state file."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self.db = db

    @staticmethod
    def read_meta(path: Path) -> dict[str, str] | None:
        """The meta table, or None when the file is missing or not a state file."""
        if not path.exists():
            return None
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                return dict(db.execute("SELECT key, value FROM meta").fetchall())
            finally:
                db.close()
        except sqlite3.DatabaseError:
            return None

    @classmethod
    def open(cls, path: Path) -> StateFile:
        return cls(path, _connect(path))

    def load(self) -> dict[str, dict[int, bytes]]:
        """Every collection's blobs by PK (ascending)."""
        tables = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rec!_%' ESCAPE '!'")]
        out = {t[4:]: dict(self.db.execute(f'SELECT id, data FROM "{t}" ORDER BY id')) for t in tables}
        for (t,) in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'big!_%' ESCAPE '!'").fetchall():
            blobs = out.setdefault(t[4:], {})
            blobs.update((int(i), d) for i, d in self.db.execute(f'SELECT id, data FROM "{t}"'))
            out[t[4:]] = dict(sorted(blobs.items()))
        return out

    @classmethod
    def create(cls, path: Path, blobs: dict[str, dict[int, bytes]], meta: dict[str, str]) -> StateFile:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # unique: two processes may generate at once
        for p in _siblings(tmp):
            p.unlink(missing_ok=True)
        db = sqlite3.connect(str(tmp), isolation_level=None)
        db.execute("PRAGMA page_size=16384")
        db.execute("PRAGMA journal_mode=OFF")  # a fresh file: nothing to protect until it is renamed into place
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("BEGIN")
        for name in sorted(blobs):
            _create_table(db, name)
            db.executemany(f'INSERT INTO "rec_{name}" (id, data) VALUES (?, ?)',
                           [(i, d) for i, d in blobs[name].items() if _fits(i)])
            if any(not _fits(i) for i in blobs[name]):
                _write_big(db, name, [(i, d) for i, d in blobs[name].items() if not _fits(i)])
        db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
        db.execute("COMMIT")
        db.close()
        for p in _siblings(path):
            p.unlink(missing_ok=True)
        os.replace(tmp, path)
        return cls.open(path)

    def write(self, rows: Iterable[tuple[str, int, bytes]], deletes: Iterable[tuple[str, int]], state: str) -> None:
        """Upserts and deletes of one operation, plus the meta state, in one transaction."""
        by_coll: dict[str, list[tuple[int, bytes]]] = {}
        for coll, rid, blob in rows:
            by_coll.setdefault(coll, []).append((rid, blob))
        gone: dict[str, list[tuple[int]]] = {}
        for coll, rid in deletes:
            gone.setdefault(coll, []).append((rid,))
        db = self.db
        db.execute("BEGIN")
        try:
            for coll, items in by_coll.items():
                _create_table(db, coll)
                db.executemany(f'INSERT OR REPLACE INTO "rec_{coll}" (id, data) VALUES (?, ?)',
                               [(i, d) for i, d in items if _fits(i)])
                if any(not _fits(i) for i, _ in items):
                    _write_big(db, coll, [(i, d) for i, d in items if not _fits(i)])
            for coll, ids in gone.items():
                db.executemany(f'DELETE FROM "rec_{coll}" WHERE id = ?', [i for i in ids if _fits(i[0])])
                big = [(str(i[0]),) for i in ids if not _fits(i[0])]
                if big:
                    db.executemany(f'DELETE FROM "big_{coll}" WHERE id = ?', big)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('state', ?)", (state,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()
