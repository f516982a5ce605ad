"""Query-string building for collection GETs: filters, fields, embeds, ordering, paging.

Filters use Rent Manager's RQL: `Field,op,value` terms joined by `;` (AND). Lists for `bt`, `in`, `ni` are
written `(a,b,c)`. Operators are spelled exactly as Rent Manager accepts them (`ge`, never `gte`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .dates import format_rm_datetime

OPERATORS: frozenset[str] = frozenset(
    {"eq", "ne", "lt", "le", "gt", "ge", "ltn", "len", "gtn", "gen", "bt", "in", "ni", "ct", "sw", "ew", "hv"}
)
LIST_OPERATORS = frozenset({"in", "ni"})
MAX_PAGE_SIZE = 1000

Filter = tuple[str, str, Any]

# Characters that carry meaning in RQL and cannot be escaped inside a value.
_RESERVED = set(",;()")


def format_value(value: Any, tz: ZoneInfo) -> str:
    """Render one filter value the way Rent Manager reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return format_rm_datetime(value, tz)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        if _RESERVED & set(value):
            raise ValueError(f"filter value {value!r} contains one of , ; ( ) which RQL cannot express")
        return value
    raise TypeError(f"unsupported filter value type {type(value).__name__}: {value!r}")


def format_filter(field: str, op: str, value: Any, tz: ZoneInfo) -> str:
    """One `Field,op,value` term. `bt` takes a (low, high) pair, `in`/`ni` any non-empty sequence."""
    if op not in OPERATORS:
        raise ValueError(f"unknown filter operator {op!r} on {field}; use one of {', '.join(sorted(OPERATORS))}")
    if not field or _RESERVED & set(field.replace("(", "").replace(")", "").replace(",", "")):
        raise ValueError(f"bad filter field {field!r}")
    if op == "bt":
        if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
            raise ValueError(f"filter {field},bt needs a (low, high) pair, got {value!r}")
        rendered = f"({format_value(value[0], tz)},{format_value(value[1], tz)})"
    elif op in LIST_OPERATORS:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValueError(f"filter {field},{op} needs a list of values, got {value!r}")
        items = [format_value(v, tz) for v in value]
        if not items:
            raise ValueError(f"filter {field},{op} needs at least one value")
        rendered = "(" + ",".join(items) + ")"
    elif op == "hv":
        rendered = format_value(True if value is None else value, tz)
    else:
        rendered = format_value(value, tz)
    return f"{field},{op},{rendered}"


def build_params(
    *,
    tz: ZoneInfo,
    filters: Iterable[Filter] | None = None,
    fields: Iterable[str] | None = None,
    embeds: Iterable[str] | None = None,
    ordering: Iterable[str] | None = None,
    page_size: int | None = None,
    page_number: int | None = None,
) -> dict[str, str]:
    """Query parameters for a collection GET (names as the Help documents them)."""
    params: dict[str, str] = {}
    terms = [format_filter(f, op, v, tz) for f, op, v in (filters or ())]
    if terms:
        params["filters"] = ";".join(terms)
    if fields:
        params["fields"] = ",".join(fields)
    if embeds:
        params["embeds"] = ",".join(embeds)
    if ordering:
        params["orderingOptions"] = ",".join(ordering)
    if page_size is not None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
        params["pageSize"] = str(page_size)
    if page_number is not None:
        params["pageNumber"] = str(page_number)
    return params
