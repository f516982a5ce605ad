"""Shared pieces of the specialised products' report builders: stored rows recorded as evidence, letter dates
and the lookups every statement makes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from .evidence import Evidence
from .specialty_sources import Row, SpecialtySources

META = ("org_id", "as_of", "run_id")
NAMES = ("owner_name", "resident_name", "tenant_name", "member", "name_a", "name_b")


def record(ev: Evidence, sources: SpecialtySources, table: str, row: Row, *key: str, names: bool = False) -> int:
    """A stored `specialties.<table>` row as evidence, keyed by the evaluation and the row's own key columns.
    People's names stay out of the evidence (embedded in the PDF) unless the document is addressed to them
    (`names=True`): a report that lists accounts by lot carries no owner name, printed or attached."""
    k = {"org_id": sources.org_id, "as_of": sources.evaluation.as_of, **{c: row.get(c) for c in key}}
    return ev.row(f"specialties.{table}", k, {c: v for c, v in row.items()
                                              if c not in META and (names or c not in NAMES)})


def record_nested(ev: Evidence, sources: SpecialtySources, table: str, column: str, parent: dict[str, Any],
                  item: dict[str, Any]) -> int:
    """One element of a stored JSON column (a CAM cap year, …) as evidence of its own, keyed by its parent row."""
    k = {"org_id": sources.org_id, "as_of": sources.evaluation.as_of, **parent}
    return ev.row(f"specialties.{table}.{column}", k, item)


def loads(value: Any, default: Any) -> Any:
    if value in (None, ""):
        return default
    return json.loads(value) if isinstance(value, str) else value


def long_date(d: date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


def rm_id(entity_id: str | None) -> str:
    """The Rent Manager id part of a specialties id (``1:42`` → ``42``)."""
    return str(entity_id or "").partition(":")[2] or str(entity_id or "")
