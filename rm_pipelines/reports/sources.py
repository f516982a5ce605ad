"""What a report is built from: the stored rows of one compliance evaluation of one org, and the EstateCore
rows that name things (properties, buildings, units, residents, household members, owners). Plain data: the
render flow reads it from the warehouse; builders only look things up here.

Ids follow the compliance engine: property ``{org}:{location}:P{rm_id}``, unit ``…:U{rm_id}``, household
(a lease) ``…:L{rm_id}``, building ``…:B{bin}``. Household members carry their age on the evaluation date,
never a birth date, and only the last four digits of a tax id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Evaluation:
    """The stored evaluation a report is rendered from (`compliance.evaluations`)."""

    id: int
    org_id: str
    as_of: date
    run_id: str
    evaluated_at: datetime
    last_sync: datetime | None = None
    source: str = "compliance"
    """What was evaluated: `compliance`, or a specialised product (`commercial`, `hoa`, …) whose
    `specialties.runs` row this is."""


def split_id(entity_id: str | None, tag: str) -> tuple[int, int] | None:
    """(location, rm_id) of an engine id such as ``acme:1:P3`` (tag ``P``)."""
    if not entity_id:
        return None
    head, sep, rm = entity_id.rpartition(f":{tag}")
    if not sep:
        return None
    try:
        return int(head.rsplit(":", 1)[1]), int(rm)
    except (ValueError, IndexError):
        return None


def program_status_text(row: Row) -> str:
    """A program test's status as a word: compliant / not compliant / undetermined (a stored `status` column
    wins when the store has one)."""
    status = row.get("status")
    if isinstance(status, str) and status:
        return status
    value = row.get("compliant")
    if value is None or row.get("test_met", True) is None:
        return "undetermined"
    return "compliant" if value else "not compliant"


class PropertyNames:
    """How a report names a property, for sources that can look one up by its EstateCore id."""

    def property(self, property_id: str) -> Row | None:
        raise NotImplementedError

    def property_label(self, property_id: str) -> str:
        p = self.property(property_id)
        return (p.get("short_name") or p.get("name") or property_id) if p else property_id

    def property_name(self, property_id: str) -> str:
        p = self.property(property_id)
        return (p.get("name") or property_id) if p else property_id


@dataclass
class Sources(PropertyNames):
    org_id: str
    org_name: str
    evaluation: Evaluation
    snapshots: dict[str, list[Row]]
    findings: list[Row]
    evaluations: list[Row] = field(default_factory=list)
    estatecore: dict[str, list[Row]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ec = self.estatecore
        self._by_rm: dict[str, dict[tuple[int, int], Row]] = {
            name: {(r["location_id"], r["rm_id"]): r for r in ec.get(name, []) if r.get("rm_id") is not None}
            for name in ("properties", "units", "residents", "leases", "owners")}
        self._members: dict[tuple[int, int], list[Row]] = defaultdict(list)
        for m in ec.get("household_members", []):
            self._members[(m["location_id"], m["resident_rm_id"])].append(m)
        for ms in self._members.values():
            ms.sort(key=lambda m: (not m.get("is_primary"), m.get("rm_id") or 0))
        self._owners: dict[tuple[int, int], list[Row]] = defaultdict(list)
        for o in ec.get("ownerships", []):
            self._owners[(o["location_id"], o["property_rm_id"])].append(o)

    # -- snapshots --------------------------------------------------------------------------------------
    def snapshot(self, table: str) -> list[Row]:
        return self.snapshots.get(table, [])

    def units_of(self, property_id: str) -> list[Row]:
        return sorted((u for u in self.snapshot("unit_status") if u["property_id"] == property_id),
                      key=lambda u: (u.get("bin") or "", _natural(u["unit_number"]), u["unit_id"]))

    def program_rows(self, property_id: str | None = None, program: str | None = None) -> list[Row]:
        return [p for p in self.snapshot("program_status")
                if (property_id is None or p["property_id"] == property_id)
                and (program is None or p["program"] == program)]

    def property_ids(self, program: str | None = None) -> list[str]:
        """Evaluated properties (optionally those carrying a program), in name order."""
        ids = {u["property_id"] for u in self.snapshot("unit_status")
               if program is None or program in (u.get("programs") or "").split("+")}
        ids |= {p["property_id"] for p in self.snapshot("program_status") if program is None or p["program"] == program}
        return sorted(ids, key=lambda pid: (self.property_label(pid), pid))

    # -- EstateCore ---------------------------------------------------------------------------------------
    def property(self, property_id: str) -> Row | None:
        key = split_id(property_id, "P")
        return self._by_rm["properties"].get(key) if key else None

    def unit(self, unit_id: str) -> Row | None:
        key = split_id(unit_id, "U")
        return self._by_rm["units"].get(key) if key else None

    def lease(self, household_id: str | None) -> Row | None:
        key = split_id(household_id, "L")
        return self._by_rm["leases"].get(key) if key else None

    def resident(self, household_id: str | None) -> Row | None:
        lease = self.lease(household_id)
        if lease is None:
            return None
        return self._by_rm["residents"].get((lease["location_id"], lease["resident_rm_id"]))

    def members(self, household_id: str | None) -> list[Row]:
        res = self.resident(household_id)
        if res is None:
            return []
        return [m for m in self._members.get((res["location_id"], res["rm_id"]), [])
                if (m.get("applicant_type") or "").lower() not in ("guarantor", "cosigner")]

    def owners(self, property_id: str) -> list[Row]:
        key = split_id(property_id, "P")
        out = []
        for o in self._owners.get(key, []) if key else []:
            owner = self._by_rm["owners"].get((o["location_id"], o["owner_rm_id"]))
            if owner is not None:
                out.append(owner)
        return out

    def household_name(self, household_id: str | None) -> str | None:
        res = self.resident(household_id)
        return res.get("name") if res else None


def _natural(text: str) -> tuple:
    import re

    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text or ""))
