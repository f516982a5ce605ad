"""The sandbox's data: every record in memory, persisted write-through to a SQLite state file (persist.py).

Per collection the store keeps:
- the serialized bytes of every record (a plain page GET is a join of these; no per-request serialization),
- the PKs in ascending order,
- parsed dicts, only once something needs them (embeds, `fields`, writes to many records, the Python API),
- *columns*: one field's normalized values aligned with the sorted PKs, built on demand (from the bytes, without
  parsing whole records) and kept up to date by every write, so filters stay cheap after churn,
- a version counter bumped on every write; derived values (indexes, query results) check it.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from . import catalog
from .blobs import dumps, extract, no_gc
from .catalog import AUDIT_FIELDS, LEDGER_TYPES, Collection
from .persist import FORMAT_VERSION, StateFile
from .timeutil import (
    WIRE_DATETIME,
    dt_key,
    key_add_tick,
    key_to_wire,
    local_now,
    now_key,
    parse_to_key,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "America/New_York"
DERIVED_LIMIT = 64  # cached indexes + query results (a broad query over a million charges holds ~8 MB)

Generator = Callable[[int, int, datetime], dict[str, list[dict]]]
Normalizer = Callable[[Any], Any]


class StoreError(Exception):
    """A write the store refuses; `kind` picks the HTTP answer."""

    kind = "invalid"


class NotFound(StoreError):
    kind = "not_found"


class Conflict(StoreError):
    kind = "conflict"


@dataclass(frozen=True)
class Change:
    """One record added, edited or deleted (what webhooks are made from)."""

    collection: str
    op: str  # "Add" | "Edit" | "Delete"
    record: dict


Listener = Callable[[list[Change]], None]


def _default_generator(units: int, seed: int, now: datetime) -> dict[str, list[dict]]:
    # Imported lazily: the generator is big and only needed when a state file has to be (re)built.
    from .portfolio import generate_portfolio

    return generate_portfolio(units, seed, now)


def _type_of(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "datetime" if WIRE_DATETIME.match(v) else "str"
    return "object"


def _identity(v: Any) -> Any:
    return v


class _Column:
    __slots__ = ("field", "norm", "values")

    def __init__(self, field: str, norm: Normalizer, values: list[Any]) -> None:
        self.field, self.norm, self.values = field, norm, values


class SandboxStore:
    """In-memory Rent Manager data with write-through SQLite persistence. Thread-safe (one re-entrant lock)."""

    def __init__(self, path: Path | None, units: int, seed: int, timezone: str = DEFAULT_TIMEZONE,
                 as_of: date | None = None) -> None:
        self.path = path
        self.units = units
        self.seed = seed
        self.as_of = as_of  # the day the portfolio was generated for (its history ends then)
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.lock = threading.RLock()
        self.load_seconds = 0.0
        self.generate_seconds = 0.0
        self._file: StateFile | None = None
        self._blobs: dict[str, dict[int, bytes]] = {}
        self._sorted: dict[str, list[int]] = {}
        self._dicts: dict[str, dict[int, dict]] = {}
        self._columns: dict[str, dict[tuple[str, str], _Column]] = {}
        self._versions: dict[str, int] = {}
        self._next_id: dict[str, int] = {}
        self._fields: dict[str, dict[str, None]] = {}
        self._types: dict[str, dict[str, str]] = {}
        self._max_update = "0001-01-01T00:00:00.0000000"
        self._derived: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
        self._listeners: list[Listener] = []

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, path: Path | str, units: int, seed: int, *, timezone: str = DEFAULT_TIMEZONE,
             as_of: date | None = None, generator: Generator | None = None) -> SandboxStore:
        """Load the state file, or (re)generate it when missing or made for other (units, seed, as_of) or format.

        ``as_of`` is the day the portfolio's history runs up to (generated at noon, location time): the same
        (units, seed, as_of) always gives the same records, whatever day it is. Without it an existing state file
        is kept whatever day it was made for, and a new one is generated at this moment.
        """
        store = cls(Path(path), units, seed, timezone, as_of)
        meta = StateFile.read_meta(store.path)  # type: ignore[arg-type]
        wanted = {"format": str(FORMAT_VERSION), "units": str(units), "seed": str(seed)}
        if as_of is not None:
            wanted["as_of"] = as_of.isoformat()
        if meta is not None and all(meta.get(k) == v for k, v in wanted.items()):
            if meta.get("as_of"):
                store.as_of = date.fromisoformat(meta["as_of"])
            store._load(meta)
        else:
            if meta is not None or store.path.exists():  # type: ignore[union-attr]
                log.info("sandbox state %s was made for other settings; regenerating", path)
            store._generate(generator or _default_generator)
        return store

    @classmethod
    def in_memory(cls, data: dict[str, list[dict]], *, units: int = 0, seed: int = 0,
                  timezone: str = DEFAULT_TIMEZONE) -> SandboxStore:
        """A store without a file (throwaway fixtures)."""
        store = cls(None, units, seed, timezone)
        store._install(data)
        return store

    def _load(self, meta: dict[str, str]) -> None:
        started = time.perf_counter()
        assert self.path is not None
        self._file = StateFile.open(self.path)
        with no_gc():
            blobs = self._file.load()
        state = orjson.loads(meta.get("state", "{}"))
        for name in blobs:
            self._ensure_spec(name, orjson.loads(next(iter(blobs[name].values()))) if blobs[name] else None)
        for name in catalog.COLLECTIONS:
            blobs.setdefault(name, {})
        self._blobs = blobs
        next_ids = state.get("next_id", {})
        for name, recs in blobs.items():
            self._sorted[name] = list(recs)
            self._next_id[name] = max(int(next_ids.get(name, 1)), (self._sorted[name][-1] + 1) if recs else 1)
            self._versions[name] = 1
            self._fields[name] = dict.fromkeys(catalog.COLLECTIONS[name].fields)
            ids = self._sorted[name]
            step = max(1, len(ids) // 200)  # learn the field set from a spread of records, not all of them
            for rid in ids[::step] + ids[-3:]:
                self._fields[name].update(dict.fromkeys(orjson.loads(recs[rid])))
        self._max_update = state.get("max_update", self._max_update)
        self.load_seconds = time.perf_counter() - started

    def _generate(self, generator: Generator) -> None:
        assert self.path is not None
        started = time.perf_counter()
        # a pinned day is generated at noon; otherwise at this moment, so nothing is stamped after now
        moment = self.now() if self.as_of is None else datetime.combine(self.as_of, dtime(12, 0))
        self.as_of = moment.date()
        with no_gc():
            data = generator(self.units, self.seed, moment)
            self.generate_seconds = time.perf_counter() - started
            self._install(data)
            del data
            meta = {"format": str(FORMAT_VERSION), "units": str(self.units), "seed": str(self.seed),
                    "as_of": self.as_of.isoformat(), "generated_at": key_to_wire(now_key(self.timezone)),
                    "state": self._state_json()}
            if self._file is not None:
                self._file.close()
            self._file = StateFile.create(self.path, self._blobs, meta)
        self.load_seconds = time.perf_counter() - started - self.generate_seconds

    def _install(self, data: dict[str, list[dict]]) -> None:
        """Take generated records: drop calculated fields, index by PK, serialize once."""
        data = dict(data)
        if not data.get("Locations"):
            data["Locations"] = [{"LocationID": 1, "Name": "Default", "FriendlyName": "Default",
                                  "IsMainLocation": True}]
        max_update = self._max_update
        for name, records in data.items():
            spec = self._ensure_spec(name, records[0] if records else None)
            if spec.calculated:
                records = [{k: v for k, v in rec.items() if k not in spec.calculated} for rec in records]
            dicts = {int(rec[spec.pk]): rec for rec in records}
            if any(a >= b for a, b in zip(dicts, list(dicts)[1:], strict=False)):
                dicts = dict(sorted(dicts.items()))
            fields = dict.fromkeys(spec.fields)
            step = max(1, len(records) // 500)
            for rec in records[::step] + records[-3:]:
                fields.update(dict.fromkeys(rec))
            for rec in records:
                upd = rec.get("UpdateDate")
                # cheap pre-check on the raw string; exact comparison on the key only when it may be newer
                if isinstance(upd, str) and upd > max_update[:len(upd)]:
                    key = dt_key(upd)
                    if key and key > max_update:
                        max_update = key
            self._dicts[name] = dicts
            self._blobs[name] = {rid: dumps(rec) for rid, rec in dicts.items()}
            self._sorted[name] = list(dicts)
            self._fields[name] = fields
            self._versions[name] = 1
            self._next_id[name] = (self._sorted[name][-1] + 1) if dicts else 1
        for name, spec in catalog.COLLECTIONS.items():
            if name not in self._blobs:
                self._blobs[name], self._dicts[name], self._sorted[name] = {}, {}, []
                self._fields[name] = dict.fromkeys(spec.fields)
                self._versions[name], self._next_id[name] = 1, 1
        self._max_update = max_update

    def _state_json(self) -> str:
        return orjson.dumps({"next_id": self._next_id, "max_update": self._max_update}).decode()

    def close(self) -> None:
        with self.lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    @staticmethod
    def _ensure_spec(name: str, sample: dict | None) -> Collection:
        spec = catalog.COLLECTIONS.get(name)
        if spec is None:
            spec = catalog.guess_spec(name, sample)
            catalog.register(spec)
        return spec

    # ------------------------------------------------------------------ reading
    def now(self) -> datetime:
        """The location's wall clock (naive)."""
        return local_now(self.timezone)

    def set_timezone(self, timezone: str) -> None:
        self.timezone, self.tz = timezone, ZoneInfo(timezone)

    def collections(self) -> list[str]:
        return sorted(self._blobs)

    def spec(self, collection: str) -> Collection:
        """The catalog entry of a collection this store holds (name matched case-insensitively); else KeyError."""
        spec = catalog.COLLECTIONS.get(collection) or catalog.lookup(collection)
        if spec is None or spec.name not in self._blobs:
            raise KeyError(collection)
        return spec

    def count(self, collection: str) -> int:
        return len(self._blobs[self.spec(collection).name])

    def get(self, collection: str, id: int) -> dict | None:
        """A copy of one record, or None."""
        name = self.spec(collection).name
        rec = self.record(name, int(id))
        return dict(rec) if rec is not None else None

    def records(self, collection: str) -> list[dict]:
        """All records of a collection in PK order (the live dicts: treat them as read-only)."""
        name = self.spec(collection).name
        with self.lock:
            d = self.dicts(name)
            return [d[i] for i in self._sorted[name]]

    def record(self, collection: str, rid: int) -> dict | None:
        """One record (live dict when parsed, else parsed from its bytes); None when missing."""
        d = self._dicts.get(collection)
        if d is not None:
            return d.get(rid)
        blob = self._blobs[collection].get(rid)
        return orjson.loads(blob) if blob is not None else None

    def blob(self, collection: str, rid: int) -> bytes | None:
        return self._blobs[collection].get(rid)

    def blobs(self, collection: str) -> dict[int, bytes]:
        return self._blobs[collection]

    def sorted_ids(self, collection: str) -> list[int]:
        """PKs ascending (the live list: do not modify)."""
        return self._sorted[collection]

    def dicts(self, collection: str) -> dict[int, dict]:
        """PK -> record dict, parsing the collection's bytes on first use."""
        d = self._dicts.get(collection)
        if d is None:
            with self.lock:
                d = self._dicts.get(collection)
                if d is None:
                    loads = orjson.loads
                    with no_gc():
                        d = {rid: loads(b) for rid, b in self._blobs[collection].items()}
                    self._dicts[collection] = d
        return d

    def fields(self, collection: str) -> dict[str, None]:
        """Known field names (catalog + everything seen), in first-seen order."""
        return self._fields[collection]

    def column(self, collection: str, field: str, kind: str = "raw",
               norm: Normalizer | None = None) -> tuple[list[int], list[Any]]:
        """(sorted PKs, norm(value of `field`) for each, in the same order). Built once, then kept current by writes.

        `kind` names the normalization (one column per field and kind).
        """
        cols = self._columns.setdefault(collection, {})
        col = cols.get((field, kind))
        if col is None:
            with self.lock:
                col = cols.get((field, kind))
                if col is None:
                    fn = norm or _identity
                    ids = self._sorted[collection]
                    d = self._dicts.get(collection)
                    if d is not None:
                        raw = [d[i].get(field) for i in ids]
                    else:  # straight from the bytes: no need to parse a million records for one field
                        blobs, needle = self._blobs[collection], orjson.dumps(field) + b":"
                        raw = [extract(blobs[i], needle, field) for i in ids]
                    col = _Column(field, fn, raw if fn is _identity else [fn(v) for v in raw])
                    cols[(field, kind)] = col
        return self._sorted[collection], col.values

    def derived(self, key: tuple, depends: Iterable[str], build: Callable[[], Any]) -> Any:
        """A value computed from collections, cached until any of them changes (indexes, query results).

        Least-recently-used entries go first once DERIVED_LIMIT is reached (query results can be big).
        """
        depends = tuple(depends)
        stamp = tuple(self._versions.get(c, 0) for c in depends)
        hit = self._derived.get(key)
        if hit is not None and hit[0] == stamp:
            try:
                self._derived.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile; the value is still good
                pass
            return hit[1]
        with self.lock:
            stamp = tuple(self._versions.get(c, 0) for c in depends)
            value = build()
            self._derived[key] = (stamp, value)
            self._derived.move_to_end(key)
            while len(self._derived) > DERIVED_LIMIT:
                self._derived.popitem(last=False)
            return value

    def index(self, collection: str, field: str, where: tuple[tuple[str, str], ...] = ()) -> dict[Any, list[int]]:
        """field value -> PKs (ascending) of the records matching the `where` constants."""
        def build() -> dict[Any, list[int]]:
            ids, values = self.column(collection, field)
            out: dict[Any, list[int]] = {}
            if not where:
                for rid, v in zip(ids, values, strict=True):
                    out.setdefault(v, []).append(rid)
                return out
            positions: list[int] | None = None
            for f, want in where:  # narrow down condition by condition, each a tight comprehension
                col = self.column(collection, f)[1]
                if positions is None:
                    positions = [p for p, v in enumerate(col) if v == want]
                else:
                    positions = [p for p in positions if col[p] == want]
            for p in positions or ():
                out.setdefault(values[p], []).append(ids[p])
            return out

        return self.derived(("index", collection, field, where), (collection,), build)

    def field_types(self, collection: str) -> dict[str, str]:
        """Field -> "number" | "bool" | "datetime" | "str" | "unknown", inferred once from a spread of records.

        Writes only fill in fields still "unknown" (types do not drift, and re-sampling after every write
        would make the first query after each churn slow).
        """
        types = self._types.get(collection)
        if types is not None:
            return types
        with self.lock:
            spec = catalog.COLLECTIONS[collection]
            ids = self._sorted[collection]
            step = max(1, len(ids) // 5000)
            seen: dict[str, set[str]] = {f: set() for f in self._fields[collection]}
            for rid in ids[::step] + ids[-20:]:
                for k, v in (self.record(collection, rid) or {}).items():
                    if v is not None:
                        seen.setdefault(k, set()).add(_type_of(v))
            types = {}
            for f, ts in seen.items():
                if f in spec.string_fields or len(ts) > 1:
                    types[f] = "str"
                else:
                    types[f] = next(iter(ts)) if ts else "unknown"
            self._types[collection] = types
            return types

    def max_update_key(self) -> str:
        return self._max_update

    # ------------------------------------------------------------------ listeners
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, changes: list[Change]) -> None:
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:  # a listener must never break a write
                log.exception("sandbox change listener failed")

    # ------------------------------------------------------------------ low-level mutation (lock held)
    def _set(self, name: str, rec: dict, rows: list[tuple[str, int, bytes]]) -> None:
        """Insert or replace one record everywhere: bytes, sorted PKs, dicts, columns; queue it for the file."""
        rid = int(rec[catalog.COLLECTIONS[name].pk])
        blob = dumps(rec)
        blobs = self._blobs[name]
        ids = self._sorted[name]
        cols = self._columns.get(name, {}).values()
        if rid in blobs:
            pos = bisect.bisect_left(ids, rid)
            for col in cols:
                col.values[pos] = col.norm(rec.get(col.field))
        elif not ids or rid > ids[-1]:
            ids.append(rid)
            for col in cols:
                col.values.append(col.norm(rec.get(col.field)))
        else:
            pos = bisect.bisect_left(ids, rid)
            ids.insert(pos, rid)
            for col in cols:
                col.values.insert(pos, col.norm(rec.get(col.field)))
        blobs[rid] = blob
        d = self._dicts.get(name)
        if d is not None:
            d[rid] = rec
        fields = self._fields[name]
        types = self._types.get(name)
        for k, v in rec.items():
            if k not in fields:
                fields[k] = None
            if types is not None and v is not None and types.get(k, "unknown") == "unknown":
                types[k] = _type_of(v)
        self._versions[name] = self._versions.get(name, 0) + 1
        rows.append((name, rid, blob))

    def _remove(self, name: str, rid: int) -> dict:
        rec = self.record(name, rid)
        assert rec is not None
        ids = self._sorted[name]
        pos = bisect.bisect_left(ids, rid)
        del ids[pos]
        for col in self._columns.get(name, {}).values():
            del col.values[pos]
        del self._blobs[name][rid]
        d = self._dicts.get(name)
        if d is not None:
            del d[rid]
        self._versions[name] = self._versions.get(name, 0) + 1
        return rec

    def _persist(self, rows: list[tuple[str, int, bytes]], deletes: list[tuple[str, int]]) -> None:
        if self._file is not None and (rows or deletes):
            self._file.write(rows, deletes, self._state_json())

    # ------------------------------------------------------------------ writing
    def next_stamp(self) -> str:
        """A new UpdateDate: the location's clock, but strictly after every UpdateDate handed out so far."""
        with self.lock:
            key = now_key(self.timezone)
            if key <= self._max_update:
                key = key_add_tick(self._max_update)
            self._max_update = key
            return key_to_wire(key)

    def upsert(self, collection: str, records: Iterable[dict], *, user_id: int = 1) -> list[dict]:
        """Create or update records (no concurrency check; unknown fields are kept). Bumps UpdateDate, fires webhooks.

        A record whose PK is present and exists is overlaid; a present PK that does not exist is created with that
        ID; a missing/zero PK gets the next ID.
        """
        return self.save(collection, list(records), user_id=user_id, check_concurrency=False, strict=False,
                         create_missing=True)

    def save(self, collection: str, items: list[dict], *, user_id: int = 1, check_concurrency: bool = True,
             strict: bool = True, create_missing: bool = False) -> list[dict]:
        """POST semantics: validate every item first (all-or-nothing), then apply and persist.

        strict: drop fields the collection does not have (the real API ignores unknown JSON properties).
        """
        name = self.spec(collection).name
        spec = catalog.COLLECTIONS[name]
        with self.lock:
            plan: list[tuple[dict | None, dict]] = []
            for item in items:
                if not isinstance(item, dict):
                    raise StoreError(f"Each item posted to {name} must be an object.")
                clean = self._canonical(name, item, strict)
                pk = clean.get(spec.pk)
                if pk in (None, 0, "0", ""):
                    clean.pop(spec.pk, None)
                    plan.append((None, clean))
                    continue
                try:
                    pk = int(pk)
                except (TypeError, ValueError):
                    raise StoreError(f"{spec.pk} must be an integer.") from None
                current = self.record(name, pk)
                if current is None:
                    if not create_missing:
                        raise NotFound(f"{name} with {spec.pk} {pk} does not exist.")
                    plan.append((None, {**clean, spec.pk: pk}))
                    continue
                if check_concurrency:
                    self._check_concurrency(spec, current, clean)
                plan.append((current, clean))
            saved: list[dict] = []
            changes: list[Change] = []
            rows: list[tuple[str, int, bytes]] = []
            for current, clean in plan:
                if current is None:
                    rec = self._create(spec, clean, user_id, rows, changes)
                else:
                    rec = self._update(spec, current, clean, user_id, rows)
                    changes.append(Change(name, "Edit", rec))
                saved.append(rec)
            self._persist(rows, [])
        self._notify(changes)
        return [dict(r) for r in saved]

    def _canonical(self, name: str, item: dict, strict: bool) -> dict:
        """Keys in their canonical spelling (JSON binding ignores case); embeds kept by name; unknown keys dropped."""
        lower = {f.lower(): f for f in self._fields[name]}
        spec = catalog.COLLECTIONS[name]
        out: dict = {}
        for k, v in item.items():
            canon = lower.get(k.lower()) if isinstance(k, str) else None
            if canon is not None:
                out[canon] = v
                continue
            emb = spec.embed(k) if isinstance(k, str) else None
            if emb is not None:
                out[emb.name] = v  # linked data; only owned embeds are used (on create)
            elif not strict:
                out[k] = v
        return out

    def _check_concurrency(self, spec: Collection, current: dict, item: dict) -> None:
        if "UpdateDate" in current:
            sent, cur = item.get("UpdateDate"), current.get("UpdateDate")
            try:
                sent_key = parse_to_key(str(sent), self.tz) if sent else None
            except ValueError:
                sent_key = None
            if sent_key is None or sent_key != dt_key(str(cur)):
                raise Conflict(
                    f"{spec.name} {spec.pk} {current[spec.pk]} was changed by another user (concurrency check on "
                    f"UpdateDate: sent {sent!r}, current {cur!r}). Reload it and try again.")
        if spec.concurrency and "ConcurrencyID" in current:
            sent_cid = item.get("ConcurrencyID")
            if sent_cid is None or str(sent_cid) != str(current.get("ConcurrencyID")):
                raise Conflict(
                    f"{spec.name} {spec.pk} {current[spec.pk]}: concurrency check failed on ConcurrencyID "
                    f"(sent {sent_cid!r}, current {current.get('ConcurrencyID')!r}).")

    @staticmethod
    def _read_only(spec: Collection) -> set[str]:
        ro = set(AUDIT_FIELDS) | {"ConcurrencyID"} | set(spec.calculated)
        if spec.name in LEDGER_TYPES:
            ro |= {"ID", "TransactionType"}
        return ro

    def _update(self, spec: Collection, current: dict, item: dict, user_id: int,
                rows: list[tuple[str, int, bytes]]) -> dict:
        ro = self._read_only(spec)
        embed_names = {e.name for e in spec.embeds}
        rec = dict(current)
        for k, v in item.items():
            if k != spec.pk and k not in ro and k not in embed_names:
                rec[k] = v
        self._touch(spec, rec, user_id, create=False)
        self._set(spec.name, rec, rows)
        return rec

    def _create(self, spec: Collection, item: dict, user_id: int, rows: list[tuple[str, int, bytes]],
                changes: list[Change]) -> dict:
        ro = self._read_only(spec)
        types = self.field_types(spec.name) if self._sorted[spec.name] else {}
        fixed_pk = item.get(spec.pk)
        rid = int(fixed_pk) if fixed_pk else self._next_id.get(spec.name, 1)
        self._next_id[spec.name] = max(self._next_id.get(spec.name, 1), rid + 1)
        # every known field present, like a .NET model: null, or false for booleans
        rec: dict = {f: (False if types.get(f) == "bool" else None) for f in self._fields[spec.name]}
        rec[spec.pk] = rid
        for k, v in item.items():
            if k not in ro and spec.embed(k) is None:
                rec[k] = v
        if spec.name in LEDGER_TYPES:
            rec["ID"] = rid
            rec["TransactionType"] = LEDGER_TYPES[spec.name]
            rec["AccountType"] = rec.get("AccountType") or "Customer"
            if "AmountAllocated" in rec and rec["AmountAllocated"] is None:
                rec["AmountAllocated"] = 0.0
        if spec.concurrency:
            rec["ConcurrencyID"] = 1
        self._touch(spec, rec, user_id, create=True)
        self._set(spec.name, rec, rows)
        changes.append(Change(spec.name, "Add", rec))
        # "Atomic create" of owned linked rows (Payment.Allocations, ServiceManagerIssue.LinkedUnits, ...).
        for emb in spec.embeds:
            children = item.get(emb.name)
            if not (emb.owned and emb.kind == "many" and isinstance(children, list)):
                continue
            child_spec = catalog.COLLECTIONS[emb.target]
            for child in children:
                if not isinstance(child, dict):
                    raise StoreError(f"{emb.name} items must be objects.")
                c = self._canonical(emb.target, child, strict=True)
                c.pop(child_spec.pk, None)
                c[emb.remote] = rec[emb.local or spec.pk]
                c.update(dict(emb.where))
                self._create(child_spec, c, user_id, rows, changes)
        return rec

    def _touch(self, spec: Collection, rec: dict, user_id: int, *, create: bool) -> None:
        if spec.audit or "UpdateDate" in rec:
            stamp = self.next_stamp()
            rec["UpdateDate"] = stamp
            rec["UpdateUserID"] = user_id
            if spec.audit and create:
                rec["CreateDate"] = stamp
                rec["CreateUserID"] = user_id
        if spec.concurrency and not create:
            rec["ConcurrencyID"] = int(rec.get("ConcurrencyID") or 0) + 1

    def touch(self, collection: str, ids: Iterable[int], edit: Callable[[dict], None] | None = None,
              *, user_id: int = 1) -> list[dict]:
        """Edit records (callback on a copy) and bump their UpdateDate; used by churn. Fires webhooks."""
        name = self.spec(collection).name
        spec = catalog.COLLECTIONS[name]
        with self.lock:
            rows: list[tuple[str, int, bytes]] = []
            out = []
            for rid in ids:
                current = self.record(name, rid)
                if current is None:
                    raise NotFound(f"{name} with {spec.pk} {rid} does not exist.")
                rec = dict(current)
                if edit is not None:
                    edit(rec)
                self._touch(spec, rec, user_id, create=False)
                self._set(name, rec, rows)
                out.append(rec)
            self._persist(rows, [])
        self._notify([Change(name, "Edit", r) for r in out])
        return out

    def delete(self, collection: str, ids: Iterable[int], *, missing_ok: bool = False) -> dict[str, list[int]]:
        """Hard-delete records and the rows they own (UDF values, addresses, allocations, linked rows ...).

        Returns the deleted PKs per collection. Raises NotFound (deleting nothing) when an ID is missing,
        unless missing_ok.
        """
        name = self.spec(collection).name
        with self.lock:
            ids = [int(i) for i in ids]
            blobs = self._blobs[name]
            missing = [i for i in ids if i not in blobs]
            if missing and not missing_ok:
                raise NotFound(f"{name} with {catalog.COLLECTIONS[name].pk} {missing[0]} does not exist.")
            # Collect the whole cascade first (indexes stay valid while reading), then remove.
            doomed: dict[str, dict[int, None]] = {}
            self._collect(name, [i for i in ids if i in blobs], doomed)
            deleted: dict[str, list[int]] = {}
            changes: list[Change] = []
            for coll, rids in doomed.items():
                for rid in rids:
                    changes.append(Change(coll, "Delete", self._remove(coll, rid)))
                if rids:
                    deleted[coll] = sorted(rids)
            self._persist([], [(c, i) for c, lst in deleted.items() for i in lst])
        self._notify(changes)
        return deleted

    def _collect(self, name: str, ids: Iterable[int], doomed: dict[str, dict[int, None]]) -> None:
        spec = catalog.COLLECTIONS[name]
        acc = doomed.setdefault(name, {})
        owned = [e for e in spec.embeds if e.owned and e.kind == "many"]
        for rid in ids:
            if rid in acc:
                continue
            rec = self.record(name, rid)
            if rec is None:
                continue
            acc[rid] = None
            for emb in owned:
                child_ids = self.index(emb.target, emb.remote, emb.where).get(rec.get(emb.local or spec.pk))
                if child_ids:
                    self._collect(emb.target, child_ids, doomed)
