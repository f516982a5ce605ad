"""The `filters` query parameter (Rent Manager's RQL): parsing, typing and evaluation.

    Field,op,value;Field2,op,value            AND-ed clauses
    TenantID,in,(4,5,6)   TenantID,bt,(2,10)  value lists
    UserDefinedValues(Name,eq,X).Value,eq,Y   nested: some embedded row passes both tests

Values are typed by the field (numbers, true/false, dates in several spellings; a Z/offset date is converted to
the location's local time). Strings compare case-insensitively (SQL Server collation). Operators are spelled
exactly as Rent Manager does; anything else (gte, lte, cn ...) is a 400.

A simple clause becomes a test on one *column* (the field's normalized values, aligned with the collection's
sorted PKs and cached until the collection changes), so a new UpdateDate watermark over 400k charges costs one
pass over a list, not 400k dict lookups and date parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from . import catalog
from .store import SandboxStore
from .timeutil import dt_key, parse_to_key

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "ltn", "len", "gtn", "gen", "bt", "in", "ni", "ct", "sw", "ew", "hv")

Test = Callable[[Any], bool]
Predicate = Callable[[dict], bool]


class QueryError(Exception):
    """A bad query parameter: answered 400 {"Message": ..., "ModelState": {param: [message]}}."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


def resolve_field(store: SandboxStore, coll: str, name: str) -> str | None:
    """Canonical spelling of a field name (names are case-insensitive), or None."""
    fields = store.fields(coll)
    if name in fields:
        return name
    low = name.lower()
    return next((f for f in fields if f.lower() == low), None)


# -------------------------------------------------------------------------------------- accessors and columns
def _to_key(v: Any) -> Any:
    return dt_key(v) if isinstance(v, str) else None


def _to_fold(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v).casefold()


def _to_raw(v: Any) -> Any:
    return v


NORMALIZERS: dict[str, Callable[[Any], Any]] = {"key": _to_key, "fold": _to_fold, "raw": _to_raw}


def accessor_kind(ftype: str) -> str:
    """How a field's values are normalized for comparisons: date keys, case-folded text, or as stored."""
    if ftype == "datetime":
        return "key"
    if ftype in ("number", "bool"):
        return "raw"
    return "fold"


def column(store: SandboxStore, coll: str, fname: str, kind: str) -> tuple[list[int], list[Any]]:
    """(sorted PKs, normalized values of `fname` in the same order); maintained by the store across writes."""
    return store.column(coll, fname, kind, NORMALIZERS[kind])


# -------------------------------------------------------------------------------------- compiled filters
@dataclass(frozen=True)
class Filter:
    key: tuple  # canonical form, part of the query cache key
    pred: Predicate  # record-level test (always available)
    field: str | None = None  # simple clause: the column it reads ...
    kind: str = ""  # ... normalized this way ...
    test: Test | None = None  # ... and the value-level test
    depends: tuple[str, ...] = ()  # other collections read (nested filters)


def _split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside parentheses."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _split_clause(clause: str) -> tuple[str, str, str | None]:
    """'Field,op,value' (the value may itself contain commas) or 'Coll(sub).Field,op,value'."""
    parts = _split_top(clause, ",")
    if len(parts) < 2:
        raise QueryError("filters", f"The filter '{clause}' is not in the form Field,operator,value.")
    path, op = parts[0].strip(), parts[1].strip()
    value = ",".join(parts[2:]) if len(parts) > 2 else None
    return path, op, value


_NESTED = re.compile(r"^\s*(\w+)\((.*)\)\.(\w+)\s*$", re.S)
_INT = re.compile(r"[+-]?\d+")


def _typed(raw: str, ftype: str, fname: str, tz: ZoneInfo) -> Any:
    s = raw.strip()
    if s.lower() == "null":
        return None
    try:
        if ftype == "number":
            return int(s) if _INT.fullmatch(s) else float(s)
        if ftype == "bool":
            if s.lower() in ("true", "false"):
                return s.lower() == "true"
            raise ValueError(s)
        if ftype == "datetime":
            return parse_to_key(s, tz)
    except ValueError:
        raise QueryError("filters", f"The value '{raw}' is not valid for {fname}.") from None
    return s.casefold()


def _guess_type(raw: str) -> str:
    s = _values_list(raw)[0].strip() if _values_list(raw) else ""
    if s.lower() in ("true", "false"):
        return "bool"
    if re.fullmatch(r"[+-]?\d+(\.\d+)?", s):
        return "number"
    try:
        parse_to_key(s, None)
        return "datetime"
    except ValueError:
        return "unknown"


def _values_list(raw: str) -> list[str]:
    s = raw.strip()
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1]
    return s.split(",") if s else []


def _value_test(op: str, raw: str, ftype: str, fname: str, tz: ZoneInfo) -> Test:
    if op in ("ct", "sw", "ew"):
        needle = raw.strip().casefold()
        if op == "ct":
            return lambda v: v is not None and needle in v
        if op == "sw":
            return lambda v: v is not None and v.startswith(needle)
        return lambda v: v is not None and v.endswith(needle)
    if op == "hv":
        want = raw.strip().lower() not in ("false", "0")
        return lambda v: (v is not None) == want
    if op in ("bt", "in", "ni"):
        values = [_typed(v, ftype, fname, tz) for v in _values_list(raw)]
        if op == "bt":
            if len(values) != 2 or None in values:
                raise QueryError("filters", f"The bt operator needs exactly two values, e.g. {fname},bt,(1,10).")
            lo, hi = values
            return lambda v: v is not None and lo <= v <= hi
        members = frozenset(values)
        if op == "in":
            return lambda v: v in members
        return lambda v: v not in members
    x = _typed(raw, ftype, fname, tz)
    if op == "eq":
        return lambda v: v == x
    if op == "ne":
        return lambda v: v != x
    if x is None:
        raise QueryError("filters", f"The {op} operator needs a value for {fname}.")
    return {
        "lt": lambda v: v is not None and v < x,
        "le": lambda v: v is not None and v <= x,
        "gt": lambda v: v is not None and v > x,
        "ge": lambda v: v is not None and v >= x,
        "ltn": lambda v: v is None or v < x,
        "len": lambda v: v is None or v <= x,
        "gtn": lambda v: v is None or v > x,
        "gen": lambda v: v is None or v >= x,
    }[op]


def safe(test: Test) -> Test:
    """A value of an odd type (text in a numeric column) is simply not a match."""
    def run(v: Any) -> bool:
        try:
            return test(v)
        except TypeError:
            return False

    return run


def _compile_one(store: SandboxStore, coll: str, clause: str, tz: ZoneInfo) -> Filter:
    path, op, value = _split_clause(clause)
    if op not in OPERATORS:  # strict spelling, like the real API (gte, lte, cn ... are rejected)
        raise QueryError("filters", f"'{op}' is not a valid filter operator. Valid operators: {', '.join(OPERATORS)}.")
    nested = _NESTED.match(path)
    if nested:
        return _compile_nested(store, coll, nested, op, value, tz)
    fname = resolve_field(store, coll, path)
    if fname is None:
        raise QueryError("filters", f"'{path}' is not a valid filter field for {coll}.")
    if value is None and op != "hv":
        raise QueryError("filters", f"The filter '{clause}' has no value.")
    ftype = store.field_types(coll).get(fname, "unknown")
    if ftype == "unknown":  # never seen a value (all null so far): type the clause by its value
        ftype = _guess_type(value or "")
    kind = "raw" if op == "hv" else "fold" if op in ("ct", "sw", "ew") else accessor_kind(ftype)
    test = _value_test(op, value or "", ftype, fname, tz)
    norm = NORMALIZERS[kind]
    checked = safe(test)
    return Filter((fname, op, (value or "").strip()), lambda r: checked(norm(r.get(fname))), fname, kind, test)


def _compile_nested(store: SandboxStore, coll: str, m: re.Match, op: str, value: str | None, tz: ZoneInfo) -> Filter:
    emb_name, inner, sub_field = m.group(1), m.group(2), m.group(3)
    spec = catalog.COLLECTIONS[coll]
    emb = spec.embed(emb_name)
    if emb is None or emb.kind != "many":
        raise QueryError("filters", f"'{emb_name}' is not a filterable collection of {coll}.")
    tests = [_compile_one(store, emb.target, c, tz) for c in _split_top(inner, ";") if c.strip()]
    tests.append(_compile_one(store, emb.target, f"{sub_field},{op},{value or ''}", tz))
    index = store.index(emb.target, emb.remote, emb.where)
    record = store.record
    local = emb.local or spec.pk
    preds = [t.pred for t in tests]

    def pred(rec: dict) -> bool:
        for cid in index.get(rec.get(local), ()):
            child = record(emb.target, cid)
            if child is not None and all(p(child) for p in preds):
                return True
        return False

    return Filter((emb.name, tuple(t.key for t in tests)), pred, depends=(emb.target,))


def compile_filters(store: SandboxStore, coll: str, text: str | None, tz: ZoneInfo) -> list[Filter]:
    if not text or not text.strip():
        return []
    return [_compile_one(store, coll, c, tz) for c in _split_top(text, ";") if c.strip()]


def apply(store: SandboxStore, coll: str, filters: list[Filter], base: list[int] | None) -> list[int]:
    """PKs (ascending) passing every filter. Whole-collection scans go column-wise."""
    if not filters:
        return list(base) if base is not None else store.sorted_ids(coll)
    simple = [f for f in filters if f.test is not None and f.field is not None]
    other = [f for f in filters if f.test is None or f.field is None]
    if base is None and simple:
        ids: list[int] = store.sorted_ids(coll)
        positions: list[int] | None = None
        for f in simple:
            assert f.test is not None and f.field is not None
            ids, col = column(store, coll, f.field, f.kind)
            for t in (f.test, safe(f.test)):  # the unguarded test first: it is the fast path
                try:
                    if positions is None:
                        positions = [p for p, v in enumerate(col) if t(v)]
                    else:
                        positions = [p for p in positions if t(col[p])]
                    break
                except TypeError:
                    continue
        result = [ids[p] for p in positions or ()]
    else:
        result = list(base) if base is not None else store.sorted_ids(coll)
        other = filters
    if other:
        record = store.record
        preds = [f.pred for f in other]
        result = [i for i in result if (r := record(coll, i)) is not None and all(p(r) for p in preds)]
    return result
