"""What a specialised product's report is built from: the stored rows of one evaluation of the product
(`specialties.<table>` of one org and date) and the EstateCore rows that name things (properties and their
addresses, the UDF values a statement prints beside the figures, such as a property's recoverable expenses by
category). Plain data: the render flow reads it; builders only look things up here and never recompute a rule.

Ids follow the specialties reader: a property, unit or resident is ``{location}:{rm_id}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .sources import Evaluation, PropertyNames

Row = dict[str, Any]
PROPERTY_COLUMNS = ("name", "short_name", "street", "city", "state", "postal_code", "property_kind")


def split(entity_id: str | None) -> tuple[int, int] | None:
    """(location, rm_id) of a specialties id such as ``1:42``."""
    if not entity_id:
        return None
    loc, sep, rm = str(entity_id).partition(":")
    try:
        return (int(loc), int(rm)) if sep else None
    except ValueError:
        return None


@dataclass
class SpecialtySources(PropertyNames):
    org_id: str
    org_name: str
    evaluation: Evaluation
    product: str
    tables: dict[str, list[Row]]
    properties: list[Row] = field(default_factory=list)
    udfs: list[Row] = field(default_factory=list)
    """UDF values (parent_type, parent_rm_id, location_id, name, value) the reports print."""
    estatecore: dict[str, list[Row]] = field(default_factory=dict)
    """Other EstateCore rows the kind prints (the catalog's `estatecore` tables and columns)."""

    def __post_init__(self) -> None:
        self._props = {(p["location_id"], p["rm_id"]): p for p in self.properties}
        self._udf = {(u["parent_type"], u["location_id"], u["parent_rm_id"], u["name"]): u.get("value")
                     for u in self.udfs}

    def rows(self, table: str) -> list[Row]:
        return self.tables.get(table, [])

    def property(self, property_id: str) -> Row | None:
        key = split(property_id)
        return self._props.get(key) if key else None

    def property_ids(self, table: str) -> list[str]:
        ids = {r["property_id"] for r in self.rows(table) if r.get("property_id")}
        return sorted(ids, key=lambda pid: (self.property_label(pid), pid))

    def udf(self, parent_type: str, entity_id: str, name: str) -> str | None:
        key = split(entity_id)
        return self._udf.get((parent_type, key[0], key[1], name)) if key else None
