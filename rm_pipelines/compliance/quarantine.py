"""Which properties' compliance data is incomplete because rows of it wait in quarantine.

A row that fails the load gate (a property without a name, a unit whose property is missing, a tenant's income
typed as "lots") is kept out of EstateCore until Rent Manager is fixed. The evaluation still runs for the whole
org; the properties such rows belong to are evaluated as far as their data goes but reported *incomplete* — a
data issue, never compliant, their open findings not corrected — so no answer rests on data that did not load.

`incomplete_properties(quarantined, tables, pid)` places each open quarantine row of a compliance input table
on its property: through the Rent Manager fields of the row as received (PropertyID, UnitID, TenantID, the UDF
parent …), the EstateCore tables that did load, and the other quarantined rows (a unit whose property row is in
quarantine names it). Pure code over plain values.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Rows = Iterable[Mapping[str, Any]]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


class _Places:
    """Where rows live, per (org, location): unit → property, resident → property, member → resident …"""

    def __init__(self, quarantined: list[Mapping[str, Any]], tables: Mapping[str, Rows]) -> None:
        self.unit: dict[tuple, int] = {}
        self.resident: dict[tuple, int] = {}
        self.member: dict[tuple, int] = {}
        self.lease: dict[tuple, int] = {}
        self.charge_type: dict[tuple, set[int]] = defaultdict(set)
        for r in tables.get("units", ()):
            self._put(self.unit, r, r.get("rm_id"), r.get("property_rm_id"))
        for r in tables.get("residents", ()):
            self._put(self.resident, r, r.get("rm_id"), r.get("property_rm_id"))
        for r in tables.get("household_members", ()):
            self._put(self.member, r, r.get("rm_id"), r.get("resident_rm_id"))
        for r in tables.get("leases", ()):  # a resident without a property on file lives where they lease
            where = (r.get("org_id"), r.get("location_id"))
            prop = _int(r.get("property_rm_id")) or self.unit.get((*where, _int(r.get("unit_rm_id"))))
            if prop is not None:
                self.resident.setdefault((*where, _int(r.get("resident_rm_id"))), prop)
                self._put(self.lease, r, r.get("rm_id"), prop)
        # rows in quarantine name their parents too (a unit whose property row is the one that failed)
        for q in quarantined:
            raw = q.get("raw") if isinstance(q.get("raw"), dict) else {}
            if q.get("entity") == "units":
                self._put(self.unit, q, q.get("rm_key"), raw.get("PropertyID"))
            elif q.get("entity") == "tenants":
                self._put(self.resident, q, q.get("rm_key"), raw.get("PropertyID"))
            elif q.get("entity") == "contacts":
                self._put(self.member, q, q.get("rm_key"), raw.get("ParentID"))
        for r in tables.get("recurring_charges", ()):
            prop = self.of_row(r.get("org_id"), r.get("location_id"), r.get("property_rm_id"), r.get("unit_rm_id"),
                               r.get("resident_rm_id"))
            if prop is not None:
                self.charge_type[(r.get("org_id"), r.get("location_id"), _int(r.get("charge_type_rm_id")))].add(prop)

    @staticmethod
    def _put(index: dict, row: Mapping[str, Any], key: Any, value: Any) -> None:
        key, value = _int(key), _int(value)
        if key is not None and value is not None:
            index.setdefault((row.get("org_id"), row.get("location_id"), key), value)

    def of_row(self, org: str, loc: int, prop: Any = None, unit: Any = None, resident: Any = None) -> int | None:
        """The property of a row that names a property, a unit or a resident (the first it can tell)."""
        if _int(prop) is not None:
            return _int(prop)
        if _int(unit) is not None and (org, loc, _int(unit)) in self.unit:
            return self.unit[(org, loc, _int(unit))]
        if _int(resident) is not None:
            return self.resident.get((org, loc, _int(resident)))
        return None

    def properties_of(self, q: Mapping[str, Any]) -> set[int]:
        """The property the row names as received, and the one its stored version is on (a unit moving to
        another property touches both)."""
        org, loc = q.get("org_id"), q.get("location_id")
        stored = {"units": self.unit, "tenants": self.resident, "leases": self.lease}.get(q.get("entity"))
        found = self._as_received(q)
        if stored is not None and (org, loc, _int(q.get("rm_key"))) in stored:
            found.add(stored[(org, loc, _int(q.get("rm_key")))])
        return found

    def _as_received(self, q: Mapping[str, Any]) -> set[int]:
        org, loc, entity = q.get("org_id"), q.get("location_id"), q.get("entity")
        raw = q.get("raw") if isinstance(q.get("raw"), dict) else {}
        key = _int(q.get("rm_key"))
        parent = _int(raw.get("ParentID"))
        found: int | None = None
        if entity == "properties":
            found = key
        elif entity in ("units", "tenants", "leases", "recurring_charges"):
            found = self.of_row(org, loc, raw.get("PropertyID"), raw.get("UnitID"), raw.get("TenantID"))
            if found is None and entity == "tenants":
                found = self.resident.get((org, loc, key))
        elif entity == "contacts":
            found = self.resident.get((org, loc, parent))
        elif entity == "subsidy_tenants":
            found = self.resident.get((org, loc, _int(raw.get("TenantID"))))
        elif entity == "charge_types":  # a rent or fee type: every property whose recurring charges use it
            return set(self.charge_type.get((org, loc, key), ()))
        elif entity == "property_udfs":
            found = parent or _int(raw.get("PropertyID"))
        elif entity == "unit_udfs":
            found = self.unit.get((org, loc, parent or _int(raw.get("UnitID"))))
        elif entity == "tenant_udfs":
            found = self.resident.get((org, loc, parent or _int(raw.get("TenantID"))))
        elif entity == "contact_udfs":
            resident = self.member.get((org, loc, parent or _int(raw.get("ContactID"))))
            found = self.resident.get((org, loc, resident)) if resident is not None else None
        return {found} if found is not None else set()


def incomplete_properties(quarantined: Iterable[Mapping[str, Any]], tables: Mapping[str, Rows],
                          pid: Callable[[str, int, int], str]) -> tuple[dict[str, str], list[Mapping[str, Any]]]:
    """(property id → why its data is incomplete, the quarantined rows that name no property we can tell).

    `quarantined`: open ops.quarantine rows of compliance input tables (org_id, location_id, entity, rm_key,
    reasons, raw as received); `tables`: the EstateCore rows the evaluation reads; `pid`: the property id of
    (org, location, Rent Manager PropertyID)."""
    rows = list(quarantined)
    places = _Places(rows, tables)
    by_property: dict[str, Counter] = defaultdict(Counter)
    first_reason: dict[tuple[str, str], str] = {}
    unplaced = []
    for q in rows:
        props = places.properties_of(q)
        if not props:
            unplaced.append(q)
            continue
        table = q.get("table_name") or q.get("entity") or "?"
        for prop in props:
            p = pid(q.get("org_id"), q.get("location_id"), prop)
            by_property[p][table] += 1
            reasons = q.get("reasons") or ["?"]
            first_reason.setdefault((p, table), str(reasons[0]).split(" (got ", 1)[0])
    out = {}
    for p, counts in by_property.items():
        parts = [f"{n} {table} row{'s' if n != 1 else ''} ({first_reason[(p, table)]})"
                 for table, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        out[p] = ("data incomplete, compliance undetermined: Rent Manager rows of this property wait in quarantine — "
                  + "; ".join(parts) + ". Fix them in Rent Manager; the next sync loads them and re-evaluates")
    return out, unplaced
