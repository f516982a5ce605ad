"""Collection queries: ordering, the cached filtered/ordered PK list, `embeds` and `fields` parsing, paging.

Filtering and ordering produce a PK list cached per (collection, filters, ordering[, sub-route]) until one of the
involved collections changes, so walking 400 pages of Charges evaluates the filter once and then only slices.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from . import catalog
from .catalog import Collection, Embed
from .filters import NORMALIZERS, QueryError, accessor_kind, apply, compile_filters, resolve_field
from .store import SandboxStore

MAX_PAGE_SIZE = 1000

__all__ = ["MAX_PAGE_SIZE", "QueryError", "EmbedTree", "FieldSel", "parse_embeds", "parse_fields",
           "parse_ordering", "select_ids", "page_size_number"]


# ---------------------------------------------------------------------------------------------- ordering
def parse_ordering(store: SandboxStore, coll: str, text: str | None) -> tuple[tuple[str, bool], ...]:
    """`orderingOptions` / `orderby`: "Field", "Field desc", "A,B desc". Default: PK ascending."""
    if not text or not text.strip():
        return ()
    out = []
    for part in text.split(","):
        bits = part.split()
        if not bits:
            continue
        desc = len(bits) > 1 and bits[-1].lower() == "desc"
        if len(bits) > 2 or (len(bits) == 2 and bits[1].lower() not in ("asc", "desc")):
            raise QueryError("orderingOptions", f"'{part.strip()}' is not a valid ordering option for {coll}.")
        fname = resolve_field(store, coll, bits[0])
        if fname is None:
            raise QueryError("orderingOptions", f"'{bits[0]}' is not a valid ordering option for {coll}.")
        out.append((fname, desc))
    return tuple(out)


def _sort(store: SandboxStore, coll: str, ids: list[int], ordering: tuple[tuple[str, bool], ...]) -> list[int]:
    types = store.field_types(coll)
    all_ids = store.sorted_ids(coll)
    whole = len(ids) == len(all_ids)
    pos = None if whole else {rid: p for p, rid in enumerate(all_ids)} if len(ids) > 5000 else None
    order = list(range(len(ids)))  # positions into `ids` (PK ascending: stable sorts keep it as the tie-breaker)
    for fname, desc in reversed(ordering):
        kind = accessor_kind(types.get(fname, "unknown"))
        _, col = store.column(coll, fname, kind, NORMALIZERS[kind])
        if whole:
            vals = col
        elif pos is not None:
            vals = [col[pos[i]] for i in ids]
        else:
            vals = [col[bisect.bisect_left(all_ids, i)] for i in ids]

        def key(p: int, _v: list[Any] = vals) -> tuple:
            v = _v[p]
            return (0, 0) if v is None else (1, v)  # NULLs first, like SQL Server

        try:
            order.sort(key=key, reverse=desc)
        except TypeError:  # mixed types in one column: fall back to text order
            def text_key(p: int, _v: list[Any] = vals) -> tuple:
                return (_v[p] is not None, str(_v[p]))

            order.sort(key=text_key, reverse=desc)
    return [ids[p] for p in order]


def select_ids(store: SandboxStore, coll: str, filters: str | None, ordering: str | None, tz: ZoneInfo,
               base: Callable[[], list[int]] | None = None, base_key: tuple = (),
               base_deps: tuple[str, ...] = ()) -> list[int]:
    """PKs matching the filters, in order. Cached until an involved collection changes.

    base: the candidate PKs (ascending) when not the whole collection, e.g. one tenant's contacts for the
    sub-route /Tenants/{id}/Contacts; base_key identifies it in the cache and base_deps lists what it reads.
    """
    compiled = compile_filters(store, coll, filters, tz)
    order = parse_ordering(store, coll, ordering)
    if not compiled and not order and base is None:
        return store.sorted_ids(coll)

    def build() -> list[int]:
        ids = apply(store, coll, compiled, base() if base is not None else None)
        return _sort(store, coll, ids, order) if order else ids

    deps = (coll,) + tuple(d for f in compiled for d in f.depends) + base_deps
    key = ("query", coll, tuple(f.key for f in compiled), order, base_key, str(tz))
    return store.derived(key, deps, build)


# ---------------------------------------------------------------------------------------------- embeds
@dataclass
class EmbedTree:
    """Requested embeds: name -> (spec, sub-tree)."""

    items: dict[str, tuple[Embed, EmbedTree]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.items)


def parse_embeds(coll: str, text: str | None) -> EmbedTree:
    tree = EmbedTree()
    if not text or not text.strip():
        return tree
    bad = []
    for path in text.split(","):
        path = path.strip()
        if not path:
            continue
        node: EmbedTree = tree
        spec: Collection | None = catalog.COLLECTIONS[coll]
        for seg in path.split("."):
            emb = spec.embed(seg) if spec is not None else None
            if emb is None:
                bad.append(f"'{path}' is not a valid embed option for {coll}.")
                break
            if emb.name not in node.items:
                node.items[emb.name] = (emb, EmbedTree())
            node = node.items[emb.name][1]
            spec = catalog.COLLECTIONS.get(emb.target) if emb.kind != "calc" else None
    if bad:
        raise QueryError("embeds", " ".join(bad))
    return tree


# ---------------------------------------------------------------------------------------------- fields
@dataclass
class FieldSel:
    names: set[str]
    sub: dict[str, FieldSel]


def parse_fields(store: SandboxStore, coll: str, text: str | None) -> FieldSel | None:
    if text is None or not text.strip():
        return None
    sel = FieldSel(set(), {})
    for raw in text.split(","):
        raw = raw.strip()
        if raw:
            _add_field(store, coll, sel, raw.split("."), raw)
    return sel


def _add_field(store: SandboxStore, coll: str, sel: FieldSel, segs: list[str], raw: str) -> None:
    spec = catalog.COLLECTIONS[coll]
    head = segs[0]
    emb = spec.embed(head)
    if len(segs) == 1:
        name = resolve_field(store, coll, head)
        if name is None:
            name = next((c for c in spec.calculated if c.lower() == head.lower()), None)
        if name is None and emb is not None:
            name = emb.name
        if name is None:
            raise QueryError("fields", f"'{raw}' is not a valid field for {coll}.")
        sel.names.add(name)
        return
    if emb is None or emb.kind == "calc":
        raise QueryError("fields", f"'{raw}' is not a valid field for {coll}.")
    sel.names.add(emb.name)
    sub = sel.sub.setdefault(emb.name, FieldSel(set(), {}))
    _add_field(store, emb.target, sub, segs[1:], raw)


def page_size_number(params: dict[str, str]) -> tuple[int, int]:
    def num(name: str, default: int) -> int:
        raw = params.get(name.lower())
        if raw is None or raw.strip() == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise QueryError(name, f"The value '{raw}' is not valid for {name}.") from None

    size = num("pageSize", MAX_PAGE_SIZE)
    number = num("pageNumber", 1)
    if size < 1:
        raise QueryError("pageSize", "pageSize must be at least 1.")
    if number < 1:
        raise QueryError("pageNumber", "pageNumber must be at least 1.")
    return min(size, MAX_PAGE_SIZE), number
