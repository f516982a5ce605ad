"""The gate of UDF values that feed typed compliance attributes (a tenant's "Certified Annual Income", a unit's
"AMI Designation" …).

A UDF value is text typed by a person in Rent Manager. Before it replaces the stored value, it must convert to
its attribute's kind (the mapping's transform, then the column kind) and be plausible: inside the column's
`plausible` bounds (dates: 1900–2199 unless the column says otherwise), no longer than its `max_length`. A value
that fails is quarantined with the reason, and the attribute keeps the last value that passed — a typo never
turns a certified income into "unknown".

`udf_value_problems(rules, columns, names, values)` works on whole pages, grouped by UDF name (vectorised
transforms); values of sensitive attributes never appear in the reasons.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

from ..warehouse import tables as T
from ..warehouse import transforms as TR
from ..warehouse.crypto import MASK
from ..warehouse.mapping import UdfRule


def udf_value_problems(rules: Mapping[str, UdfRule], columns: Mapping[str, T.Column], names: Sequence[Any],
                       values: Sequence[Any], ctx: TR.Ctx | None = None) -> dict[int, str]:
    """Position → reason for each value that cannot become its typed attribute.

    `rules`: UDF name → rule of one parent type; `columns`: attribute name → its column in the parent's table.
    Values of names without a rule, and blank values (a cleared UDF), are not looked at."""
    ctx = ctx or TR.Ctx()
    by_name: dict[str, list[int]] = defaultdict(list)
    for p, (name, value) in enumerate(zip(names, values)):
        if name in rules and value is not None and not (isinstance(value, str) and not value.strip()):
            by_name[name].append(p)
    out: dict[int, str] = {}
    for name, positions in by_name.items():
        rule = rules[name]
        column = columns[rule.target]
        raw = pd.Series([values[p] for p in positions], dtype=object)
        converted, failed = TR.REGISTRY[rule.transform].fn(raw, ctx)
        canon, failed2 = TR.coerce_to_kind(converted, rule.kind, ctx)
        bad = (failed | failed2).to_numpy()
        typed = canon.astype(object).where(canon.notna(), None).tolist()
        for p, value, is_bad, original in zip(positions, typed, bad, raw.tolist()):
            shown = MASK if rule.sensitive else _shown(original)
            where = f"UDF '{name}' → {rule.target}"
            if is_bad:
                out[p] = f"{where}: not a {_kind_name(rule.kind)} (got {shown})"
                continue
            problem = _implausible(rule.kind, column, value)
            if problem:
                out[p] = f"{where}: implausible, {problem} (got {shown})"
    return out


def _implausible(kind: str, column: T.Column, value: Any) -> str | None:
    if value is None:
        return None
    if kind == "text":
        if column.max_length is not None and len(value) > column.max_length:
            return f"longer than {column.max_length} characters"
        return None
    bounds = column.plausible or (T.UDF_DATES if kind == "date" else None)
    if bounds is None:
        return None
    if kind in TR.SCALE:  # canonical money / decimal values are scaled integers
        value = Decimal(int(value)).scaleb(-TR.SCALE[kind])
    low, high = bounds
    if value < low:
        return f"below {_bound(low)}"
    if value > high:
        return f"above {_bound(high)}"
    return None


def _bound(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _kind_name(kind: str) -> str:
    return {"money": "money amount", "decimal": "number", "int": "whole number", "bigint": "whole number",
            "date": "date", "datetime": "date and time", "bool": "yes/no value"}.get(kind, f"{kind} value")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
