"""Compliance inputs from EstateCore tables: the bridge between the warehouse and :func:`evaluate_portfolio`.

Rent Manager has no certification resources (design §8): customers keep compliance data in household-member
Contacts, User Defined Fields, Subsidies and recurring charges. The warehouse (``rm_pipelines.warehouse``)
loads them into typed EstateCore tables; :func:`build_inputs` turns those rows into the frozen inputs of
:mod:`rm_pipelines.compliance.model`. Pure: no database, no Dagster, no decryption.

Input rows
    ``tables`` maps EstateCore table names to sequences of rows: plain mappings keyed by EstateCore column
    name, as ``rm_pipelines.flows.load`` writes them (``read_frame(...).to_dict("records")`` gives them;
    Python values or their text forms are both accepted — ``Decimal``/``float``/``"41250.00"``,
    ``date``/``datetime``/``"2025-07-01"``; ``None``/NaN/NaT are missing). Every row carries the standard
    columns ``org_id`` and ``location_id`` (and ``rm_id``, except ``buildings``); rows with ``deleted_at``
    set are ignored. **Sensitive values are encrypted at rest** (birth dates, incomes, asset values, the
    certified income — and ``udf_values.value`` where ``is_encrypted``): the caller decrypts them with the
    warehouse's keyring first (``read_frame(engine, table, org, decrypt=True)`` for the columns,
    ``get_keyring().decrypt_many`` for encrypted UDF values). An ``enc:…`` token reaching this module raises
    ``ValueError`` rather than being read as data.

Tables read (others in ``tables`` are ignored): properties, buildings, units, residents, household_members,
leases, recurring_charges, charge_types, resident_subsidies, udf_values (lease_terms and subsidies are not
needed: lease dates come from leases, the monthly HAP from resident_subsidies and HAP recurring charges).

Mapping (compliance input ← EstateCore column)

=====================================  ==========================================================================
Property.property_id / org_id          ``"{org}:{location}:P{properties.rm_id}"`` / ``properties.org_id``
Property.name                          properties.name (labels: properties.short_name)
Property.area                          properties.hud_limit_area (UDF "HUD Limit Area") resolved to a HUD area code:
                                       a code (``METRO…``, ``NCNTY…``) or 10-digit FIPS in the text is used as is,
                                       a HUD area *name* through ``area_codes`` (default: the names of the bundled
                                       HUD tables, :func:`area_codes_from_limits`)
Property.programs                      properties.affordable_programs ("LIHTC", "Tax-Exempt Bond", "HOME",
                                       "USDA RD 515", "Section 8") with set-asides from properties.lihtc_election /
                                       bond_election and agency = properties.compliance_agency (the key of
                                       ``ComplianceSettings.agencies``); programs found only on units are added
Property.placed_in_service / zip_code  properties.placed_in_service / properties.postal_code
Building                               buildings (bin, property_rm_id, placed_in_service) and every units.bin;
                                       id ``"{org}:{location}:B{bin}"``; units without a BIN share one building
                                       ``"{property_id}:B-"``; ``bond_financed`` when the property has a bond program
Unit.unit_id / unit_number             ``"{org}:{location}:U{units.rm_id}"`` / units.name
Unit.bedrooms / square_feet            units.bedrooms / units.square_footage
Unit.utility_allowance                 units.utility_allowance (UDF "Utility Allowance")
Unit.programs                          units.unit_programs (UDF "Unit Program": LIHTC, Bond, HOME-Low, HOME-High,
                                       USDA RD 515, Section 8, Market) with income % = units.ami_designation
                                       (UDF "AMI Designation") on the LIHTC and bond layers
Household                              one per lease: ``"{org}:{location}:L{leases.rm_id}"``, unit = leases.unit_rm_id,
                                       move-in/out = leases.move_in_date / move_out_date; rental_assistance
                                       ``section8`` when resident_subsidies or a HAP recurring charge is active
Certification (current)                residents.certification_type / certification_effective_date /
                                       certified_annual_income (reported income) / certified_household_size /
                                       student_exception, members = the resident's household_members
Certification (move-in)                when the current one is not the move-in certification: the resident's UDF
                                       values "Move-In Certification Date" (else the lease's move-in date),
                                       "Move-In Certified Income", "Move-In Household Size" (udf_values, Tenant;
                                       residents.move_in_certification_date / move_in_certified_income /
                                       move_in_household_size win when the warehouse maps them)
Member                                 household_members (guarantors excluded): relationship (Head H, Spouse S,
                                       Co-Head A, Child C, Other Adult O, Live-in Aide L, Foster F), date_of_birth,
                                       student_status ("Full-time" → full-time student); incomes: employment_income
                                       (wages), benefit_income (social security/pensions), other_income (other) —
                                       or annual_income as "other" when none of the three is recorded; asset:
                                       asset_cash_value with its asset_annual_income
RentFacts (month of ``as_of``)         recurring_charges in effect on ``as_of`` of the household's resident (and of
                                       its unit): charge_types.code RENT → tenant_rent, HAP → assistance_payment
                                       (else resident_subsidies.amount), every other code → mandatory_fees unless
                                       listed as optional (``optional_charge_codes``: parking, pets, insurance …);
                                       payment_standard = residents.voucher_payment_standard
=====================================  ==========================================================================

Scope: properties with at least one affordable program (property or unit level); market, student,
commercial and HOA properties are left out (``include_all_properties=True`` keeps them). Units are the
residential ones: in a commercial/mixed-use property a unit without any compliance attribute (Unit Program,
BIN, AMI Designation) is a commercial suite, and a unit with a commercial lease is never residential.

Conservative readings: an unrecognised charge code counts as a mandatory fee; a member without a
recorded relationship counts as another adult family member; a household whose current certification is a
recertification and which has no move-in certification on record gets none (the engine reports 11a).
Input problems that are not compliance findings are returned in :attr:`ComplianceInputs.issues`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Sequence

from .limits_store import bundled_library
from .model import (
    Asset,
    Building,
    Certification,
    ComplianceSettings,
    Household,
    IncomeSource,
    Member,
    ProgramElection,
    Property,
    RentFacts,
    Unit,
    UnitProgram,
)

__all__ = [
    "ComplianceInputs",
    "InputIssue",
    "MOVE_IN_UDFS",
    "OPTIONAL_CHARGE_CODES",
    "TABLES_READ",
    "area_codes_from_limits",
    "build_inputs",
    "property_id",
    "resolve_area",
]

TABLES_READ: tuple[str, ...] = (
    "properties", "buildings", "units", "residents", "household_members", "leases", "recurring_charges",
    "charge_types", "resident_subsidies", "udf_values",
)

MOVE_IN_UDFS: Mapping[str, str] = {
    "date": "Move-In Certification Date",
    "income": "Move-In Certified Income",
    "size": "Move-In Household Size",
}
"""Tenant UDF names of the move-in (initial) certification kept beside the current one (sandbox defaults)."""

RENT_CHARGE_CODES: tuple[str, ...] = ("RENT",)
ASSISTANCE_CHARGE_CODES: tuple[str, ...] = ("HAP",)
OPTIONAL_CHARGE_CODES: tuple[str, ...] = (
    "PARK", "GAR", "GARAGE", "PET", "INS", "STOR", "STORAGE", "LATE", "NSF", "FINE", "SPEC", "DEP", "MTM",
)
"""Charge codes that are optional or one-off (not part of gross rent). Anything else recurring counts as a
mandatory fee (§1.3: mandatory, non-optional charges are in gross rent)."""

_PROPERTY_PROGRAMS = {
    "lihtc": "lihtc", "tax credit": "lihtc", "housing tax credit": "lihtc",
    "tax-exempt bond": "bond", "tax exempt bond": "bond", "bond": "bond", "bonds": "bond",
    "home": "home", "usda rd 515": "usda515", "rd 515": "usda515", "usda 515": "usda515", "usda": "usda515",
    "section 8": "section8", "section8": "section8", "hcv": "section8", "state": "state",
}
_UNIT_PROGRAMS = {
    "lihtc": ("lihtc", None), "tax credit": ("lihtc", None), "bond": ("bond", None),
    "home-low": ("home", "low"), "low home": ("home", "low"), "home low": ("home", "low"),
    "home-high": ("home", "high"), "high home": ("home", "high"), "home high": ("home", "high"),
    "home": ("home", "high"),
    "usda rd 515": ("usda515", None), "rd 515": ("usda515", None), "usda": ("usda515", None),
    "section 8": ("section8", None), "pbv": ("section8", None), "pbra": ("section8", None),
    "state": ("state", None),
}
_SET_ASIDES = {
    "20-50": "20-50", "20/50": "20-50", "40-60": "40-60", "40/60": "40-60", "25-60": "25-60", "25/60": "25-60",
    "income-averaging": "income-averaging", "income averaging": "income-averaging", "ia": "income-averaging",
    "average income": "income-averaging",
}
_RELATIONSHIPS = {
    "head": "H", "head of household": "H", "spouse": "S", "co-head": "A", "cohead": "A", "co head": "A",
    "child": "C", "dependent": "C", "other adult": "O", "other": "O", "other family member": "O",
    "live-in aide": "L", "live in aide": "L", "live-in caretaker": "L", "caretaker": "L",
    "foster": "F", "foster child": "F", "foster adult": "F", "none": "N",
}
_NOT_MEMBERS = frozenset({"guarantor", "cosigner", "co-signer", "business", "emergency contact"})
_CERT_KINDS = {
    "move-in": "move-in", "move in": "move-in", "movein": "move-in", "initial": "move-in",
    "annual": "annual", "recertification": "annual", "annual recertification": "annual", "recert": "annual",
    "interim": "interim",
}
_STUDENT_EXCEPTIONS = {
    "tanf": "tanf", "title iv": "tanf", "job training": "job-training", "job-training": "job-training",
    "single parent": "single-parent", "single-parent": "single-parent", "joint return": "married-joint-return",
    "married filing jointly": "married-joint-return", "married-joint-return": "married-joint-return",
    "foster care": "foster-care", "foster-care": "foster-care",
}
_FULL_TIME = frozenset({"full-time", "full time", "fulltime", "ft", "yes", "true"})
_AREA_CODE = re.compile(r"\b((?:METRO|NCNTY)[0-9A-Z]+|\d{10})\b")


# -------------------------------------------------------------------------------------------------------
# Result
# -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InputIssue:
    """An input problem that is not a compliance finding (unknown program name, missing date …)."""

    table: str
    key: str
    message: str


@dataclass(frozen=True)
class ComplianceInputs:
    """Everything :func:`evaluate_portfolio` needs, plus display labels for the ids it reports.

    ``property_labels``: property_id → (ShortName, Name); ``unit_labels``: unit_id → unit Name;
    ``household_labels``: household_id → the resident's name ("Last, First").
    """

    as_of: date
    properties: tuple[Property, ...]
    units: tuple[Unit, ...]
    households: tuple[Household, ...]
    rent_facts: tuple[RentFacts, ...]
    property_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    unit_labels: Mapping[str, str] = field(default_factory=dict)
    household_labels: Mapping[str, str] = field(default_factory=dict)
    issues: tuple[InputIssue, ...] = ()

    def evaluate(self, limits_provider, settings: ComplianceSettings | None = None, previous_findings=(),
                 incomplete=None):
        """:func:`rm_pipelines.compliance.portfolio.evaluate_portfolio` on these inputs and ``as_of``."""
        from .portfolio import evaluate_portfolio

        return evaluate_portfolio(self.properties, self.units, self.households, self.as_of, limits_provider,
                                  settings, rent_facts=self.rent_facts, previous_findings=previous_findings,
                                  incomplete=incomplete)

    def describe(self, finding) -> dict[str, Any]:
        """A finding with readable names: code, Form 8823 line and category, program, property ShortName and
        name, unit name, tenant name, status and detail."""
        row = finding.as_row()
        short, name = self.property_labels.get(finding.property_id, (finding.property_id, finding.property_id))
        return {
            "code": row["code"],
            "form_8823_line": row["form_8823_line"],
            "form_8823_category": row["form_8823_category"],
            "program": row["program"],
            "property": short,
            "property_name": name,
            "unit": self.unit_labels.get(finding.unit_id) if finding.unit_id else None,
            "tenant": self.household_labels.get(finding.household_id) if finding.household_id else None,
            "status": row["status"],
            "detail": row["detail"],
        }


# -------------------------------------------------------------------------------------------------------
# Value helpers (tolerant of Python values, their text forms and pandas' missing markers)
# -------------------------------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if type(v).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(v, float) and v != v:
        return True
    return isinstance(v, str) and not v.strip()


def _check_plain(v: Any, what: str) -> None:
    if isinstance(v, str) and v.startswith("enc:gAAAAA"):  # a warehouse encryption token
        raise ValueError(f"{what} is encrypted: decrypt the rows with the warehouse keyring before build_inputs")


def _text(v: Any) -> str | None:
    if _missing(v):
        return None
    return str(v).strip()


def _dec(v: Any, what: str = "value") -> Decimal | None:
    if _missing(v):
        return None
    _check_plain(v, what)
    if isinstance(v, Decimal):
        return v
    if isinstance(v, bool):
        return Decimal(int(v))
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))
    try:
        return Decimal(str(v).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise ValueError(f"{what}: {v!r} is not a number") from None


def _int(v: Any, what: str = "value") -> int | None:
    d = _dec(v, what)
    return None if d is None else int(d)


def _date(v: Any, what: str = "value") -> date | None:
    if _missing(v):
        return None
    _check_plain(v, what)
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v).strip()[:10])
    except ValueError:
        raise ValueError(f"{what}: {v!r} is not a date") from None


def _bool(v: Any) -> bool | None:
    if _missing(v):
        return None
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "t")
    return bool(v)


def _live(rows: Iterable[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    return [r for r in (rows or ()) if _missing(r.get("deleted_at"))]


def _csv(v: Any) -> list[str]:
    text = _text(v)
    if not text:
        return []
    return [p.strip() for p in re.split(r"[,;|]", text) if p.strip()]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


# -------------------------------------------------------------------------------------------------------
# HUD areas
# -------------------------------------------------------------------------------------------------------


def area_codes_from_limits(provider: Any) -> dict[str, str]:
    """HUD area name → area code from the tables of a :class:`~rm_pipelines.compliance.limits.LimitsLibrary`
    (its ``tables()``), e.g. "Boston-Cambridge-Quincy, MA-NH HMFA" → "METRO14460MM1120"."""
    out: dict[str, str] = {}
    tables = provider.tables() if hasattr(provider, "tables") else ()
    for t in tables:
        name = getattr(t, "area_name", "") or ""
        code = getattr(t, "hud_area_code", None) or getattr(t, "area", None)
        if getattr(t, "kind", "") == "safmr":  # keyed by ZIP code
            code = getattr(t, "hud_area_code", None)
        if name and code and not _norm(name).startswith("national"):
            out.setdefault(_norm(name), code)
    return out


_default_area_codes: dict[str, str] | None = None


def _bundled_area_codes() -> dict[str, str]:
    global _default_area_codes
    if _default_area_codes is None:

        _default_area_codes = area_codes_from_limits(bundled_library())
    return _default_area_codes


def resolve_area(text: str | None, area_codes: Mapping[str, str] | None = None) -> str | None:
    """The HUD area key of a "HUD Limit Area" value: a HUD area code (``METRO…``/``NCNTY…``) or 10-digit
    FIPS found in the text; else the code of a known HUD area name (case and spacing ignored); else the
    text itself (the evaluation then reports missing limits as a data issue)."""
    if not text:
        return None
    m = _AREA_CODE.search(text.upper())
    if m:
        return m.group(1)
    codes = area_codes if area_codes is not None else _bundled_area_codes()
    normalized = {_norm(k): v for k, v in codes.items()}
    return normalized.get(_norm(text), text.strip())


# -------------------------------------------------------------------------------------------------------
# Builder
# -------------------------------------------------------------------------------------------------------


def build_inputs(
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    as_of: date,
    area_codes: Mapping[str, str] | None = None,
    optional_charge_codes: Iterable[str] = OPTIONAL_CHARGE_CODES,
    rent_charge_codes: Iterable[str] = RENT_CHARGE_CODES,
    assistance_charge_codes: Iterable[str] = ASSISTANCE_CHARGE_CODES,
    move_in_udfs: Mapping[str, str] = MOVE_IN_UDFS,
    include_all_properties: bool = False,
) -> ComplianceInputs:
    """Build the compliance inputs from decrypted EstateCore rows (see the module docstring for the column
    mapping). ``as_of``: the evaluation date; rent facts are those of its month, in effect on ``as_of``.

    ``area_codes``: HUD area name → code (default: the bundled HUD tables' names; pass
    ``area_codes_from_limits(library)`` when imported HUD files are used). Charge-code sets are compared
    case-insensitively with ``charge_types.code``.
    """
    return _Builder(tables, as_of, area_codes, optional_charge_codes, rent_charge_codes, assistance_charge_codes,
                    move_in_udfs, include_all_properties).build()


def _key(row: Mapping[str, Any], table: str) -> tuple[str, int]:
    org = _text(row.get("org_id"))
    loc = _int(row.get("location_id"))
    if org is None or loc is None:
        raise ValueError(f"{table}: rows need org_id and location_id (got {dict(row)!r:.200})")
    return org, loc


def property_id(org_id: str, location_id: int, rm_id: int) -> str:
    """The compliance id of a Rent Manager property (org, location, PropertyID)."""
    return f"{org_id}:{location_id}:P{rm_id}"


class _Builder:
    def __init__(self, tables, as_of, area_codes, optional, rent, assistance, move_in_udfs, include_all) -> None:
        self.t = {name: _live(tables.get(name)) for name in TABLES_READ}
        self.as_of = as_of
        self.month = as_of.replace(day=1)
        self.area_codes = area_codes
        self.optional = {c.upper() for c in optional}
        self.rent_codes = {c.upper() for c in rent}
        self.assist_codes = {c.upper() for c in assistance}
        self.move_in_udfs = move_in_udfs
        self.include_all = include_all
        self.issues: list[InputIssue] = []

    def issue(self, table: str, key: str, message: str) -> None:
        self.issues.append(InputIssue(table, key, message))

    # -- ids ---------------------------------------------------------------------------------------------
    @staticmethod
    def pid(org: str, loc: int, rm: int) -> str:
        return property_id(org, loc, rm)

    @staticmethod
    def uid(org: str, loc: int, rm: int) -> str:
        return f"{org}:{loc}:U{rm}"

    @staticmethod
    def bid(org: str, loc: int, bin_: str) -> str:
        return f"{org}:{loc}:B{bin_}"

    # -- build -------------------------------------------------------------------------------------------
    def build(self) -> ComplianceInputs:
        t = self.t
        codes = {(*_key(r, "charge_types"), _int(r.get("rm_id"))): (_text(r.get("code")) or "").upper()
                 for r in t["charge_types"]}
        self.charge_codes = codes
        tenant_udfs: dict[tuple[str, int, int], dict[str, Any]] = defaultdict(dict)
        for r in t["udf_values"]:
            if (_text(r.get("parent_type")) or "") != "Tenant":
                continue
            name = _text(r.get("name"))
            if name in self.move_in_udfs.values():
                tenant_udfs[(*_key(r, "udf_values"), _int(r.get("parent_rm_id")))][name] = r.get("value")
        self.tenant_udfs = tenant_udfs

        units_by_prop: dict[tuple[str, int, int], list[Mapping]] = defaultdict(list)
        for r in t["units"]:
            units_by_prop[(*_key(r, "units"), _int(r.get("property_rm_id")))].append(r)
        leases_by_unit: dict[tuple[str, int, int], list[Mapping]] = defaultdict(list)
        for r in t["leases"]:
            leases_by_unit[(*_key(r, "leases"), _int(r.get("unit_rm_id")))].append(r)
        buildings_by_prop: dict[tuple[str, int, int], list[Mapping]] = defaultdict(list)
        for r in t["buildings"]:
            buildings_by_prop[(*_key(r, "buildings"), _int(r.get("property_rm_id")))].append(r)

        properties, units, households, rents = [], [], [], []
        prop_labels, unit_labels, hh_labels = {}, {}, {}
        self._index_households()
        for prow in sorted(t["properties"], key=lambda r: (_key(r, "properties"), _int(r.get("rm_id")))):
            org, loc = _key(prow, "properties")
            prm = _int(prow.get("rm_id"))
            pid = self.pid(org, loc, prm)
            unit_rows = sorted(units_by_prop.get((org, loc, prm), []), key=lambda r: _int(r.get("rm_id")))
            commercial_prop = bool(_bool(prow.get("is_commercial")))
            residential = []
            for urow in unit_rows:
                urm = _int(urow.get("rm_id"))
                compliance_attr = any(_text(urow.get(c)) for c in ("unit_programs", "bin")) or \
                    _int(urow.get("ami_designation"), "units.ami_designation") is not None
                commercial_lease = any(_bool(lr.get("is_commercial")) for lr in leases_by_unit.get((org, loc, urm), []))
                if commercial_lease or (commercial_prop and not compliance_attr):
                    continue
                residential.append(urow)
            designation_of = {}
            layers_of = {}
            for urow in residential:
                urm = _int(urow.get("rm_id"))
                designation_of[urm] = _int(urow.get("ami_designation"), "units.ami_designation")
                layers_of[urm] = self._unit_layers(urow, designation_of[urm], pid)
            programs = self._property_programs(prow, pid, {layer.program for ls in layers_of.values() for layer in ls})
            if not programs and not self.include_all:
                continue
            area_text = _text(prow.get("hud_limit_area"))
            area = resolve_area(area_text, self.area_codes) if area_text else None
            if area is None:
                self.issue("properties", pid, "no HUD Limit Area: limits cannot be looked up")
                area = ""
            pis = _date(prow.get("placed_in_service"), "properties.placed_in_service")
            bond = any(p.program == "bond" for p in programs)
            bins: dict[str, date | None] = {}
            for brow in buildings_by_prop.get((org, loc, prm), []):
                b = _text(brow.get("bin"))
                if b:
                    bins[b.upper()] = _date(brow.get("placed_in_service")) or pis
            unit_objs = []
            no_bin = False
            for urow in residential:
                urm = _int(urow.get("rm_id"))
                b = (_text(urow.get("bin")) or "").upper() or None
                if b:
                    bins.setdefault(b, pis)
                    building_id = self.bid(org, loc, b)
                else:
                    no_bin = True
                    building_id = f"{pid}:B-"
                u = Unit(
                    unit_id=self.uid(org, loc, urm), property_id=pid, building_id=building_id,
                    bedrooms=_int(urow.get("bedrooms"), "units.bedrooms") or 0,
                    square_feet=_dec(urow.get("square_footage"), "units.square_footage") or Decimal(0),
                    programs=tuple(layers_of[urm]),
                    utility_allowance=_dec(urow.get("utility_allowance"), "units.utility_allowance") or Decimal(0),
                    unit_number=_text(urow.get("name")) or str(urm),
                )
                unit_objs.append(u)
                unit_labels[u.unit_id] = u.unit_number
            buildings = [Building(self.bid(org, loc, b), pid, bin=b, placed_in_service=bpis, bond_financed=bond)
                         for b, bpis in sorted(bins.items())]
            if no_bin:
                buildings.append(Building(f"{pid}:B-", pid, bin=None, placed_in_service=pis, bond_financed=bond))
            properties.append(Property(
                org_id=org, property_id=pid, name=_text(prow.get("name")) or pid, area=area,
                programs=tuple(programs), buildings=tuple(buildings), zip_code=_text(prow.get("postal_code")),
                placed_in_service=pis,
            ))
            prop_labels[pid] = (_text(prow.get("short_name")) or pid, _text(prow.get("name")) or pid)
            units.extend(unit_objs)
            for u, urow in zip(unit_objs, residential):
                urm = _int(urow.get("rm_id"))
                for lrow in sorted(leases_by_unit.get((org, loc, urm), []),
                                   key=lambda r: (_date(r.get("move_in_date")) or date.min, _int(r.get("rm_id")))):
                    made = self._household(lrow, u, org, loc)
                    if made is None:
                        continue
                    hh, rent, label = made
                    households.append(hh)
                    hh_labels[hh.household_id] = label
                    if rent is not None:
                        rents.append(rent)
        return ComplianceInputs(
            as_of=self.as_of, properties=tuple(properties), units=tuple(units), households=tuple(households),
            rent_facts=tuple(rents), property_labels=prop_labels, unit_labels=unit_labels,
            household_labels=hh_labels, issues=tuple(self.issues),
        )

    # -- programs ----------------------------------------------------------------------------------------
    def _unit_layers(self, urow: Mapping, designation: int | None, pid: str) -> list[UnitProgram]:
        layers: dict[str, UnitProgram] = {}
        names = _csv(urow.get("unit_programs"))
        key = f"{pid}/U{_int(urow.get('rm_id'))}"
        for name in names:
            n = _norm(name)
            if n == "market":
                continue
            spec = _UNIT_PROGRAMS.get(n)
            if spec is None:
                self.issue("units", key, f"unknown Unit Program {name!r} (ignored)")
                continue
            program, home_rent = spec
            if program in layers:
                continue
            pct = designation if program in ("lihtc", "bond", "state") else None
            layers[program] = UnitProgram(program, income_pct=pct, home_rent=home_rent)
        if not names and designation is not None:
            layers["lihtc"] = UnitProgram("lihtc", income_pct=designation)
            self.issue("units", key, f"AMI Designation {designation} without a Unit Program: taken as LIHTC")
        return list(layers.values())

    def _property_programs(self, prow: Mapping, pid: str, unit_programs: set[str]) -> list[ProgramElection]:
        agency = _text(prow.get("compliance_agency"))
        found: dict[str, ProgramElection] = {}
        for name in _csv(prow.get("affordable_programs")):
            program = _PROPERTY_PROGRAMS.get(_norm(name))
            if program is None:
                self.issue("properties", pid, f"unknown Affordable Programs entry {name!r} (ignored)")
                continue
            if program not in found:
                found[program] = self._election(program, prow, pid, agency)
        for program in sorted(unit_programs - set(found)):
            self.issue("properties", pid, f"units carry {program} but the property's Affordable Programs do not")
            found[program] = self._election(program, prow, pid, agency)
        order = ("lihtc", "bond", "home", "usda515", "section8", "state")
        return [found[p] for p in order if p in found]

    def _election(self, program: str, prow: Mapping, pid: str, agency: str | None) -> ProgramElection:
        set_aside = None
        if program in ("lihtc", "bond"):
            column = "lihtc_election" if program == "lihtc" else "bond_election"
            raw = _text(prow.get(column))
            if raw:
                set_aside = _SET_ASIDES.get(_norm(raw))
                if set_aside is None:
                    self.issue("properties", pid, f"unknown {column} {raw!r}")
            else:
                self.issue("properties", pid, f"{program} without {column}")
            if program == "bond" and set_aside == "income-averaging":
                self.issue("properties", pid, "bond election cannot be income averaging")
                set_aside = None
        if program == "section8":
            return ProgramElection("section8", section8_kind="hcv", agency=None)
        return ProgramElection(program, set_aside=set_aside, agency=agency)

    # -- households --------------------------------------------------------------------------------------
    def _index_households(self) -> None:
        t = self.t
        self.residents = {(*_key(r, "residents"), _int(r.get("rm_id"))): r for r in t["residents"]}
        self.members: dict[tuple[str, int, int], list[Mapping]] = defaultdict(list)
        for r in t["household_members"]:
            self.members[(*_key(r, "household_members"), _int(r.get("resident_rm_id")))].append(r)
        self.charges_by_resident: dict[tuple[str, int, int], list[Mapping]] = defaultdict(list)
        self.charges_by_unit: dict[tuple[str, int, int], list[Mapping]] = defaultdict(list)
        for r in t["recurring_charges"]:
            org, loc = _key(r, "recurring_charges")
            entity = _norm(_text(r.get("entity_type")) or "")
            if entity == "tenant" or (entity == "" and not _missing(r.get("resident_rm_id"))):
                res = _int(r.get("resident_rm_id"))
                if res is None:
                    res = _int(r.get("entity_key_rm_id"))
                self.charges_by_resident[(org, loc, res)].append(r)
            elif entity == "unit":
                unit = _int(r.get("entity_key_rm_id"))
                if unit is None:
                    unit = _int(r.get("unit_rm_id"))
                self.charges_by_unit[(org, loc, unit)].append(r)
        self.subsidies: dict[tuple[str, int, int], list[Mapping]] = defaultdict(list)
        for r in t["resident_subsidies"]:
            self.subsidies[(*_key(r, "resident_subsidies"), _int(r.get("resident_rm_id")))].append(r)
        # a resident's certifications go with its latest lease
        latest: dict[tuple[str, int, int], tuple[date, int]] = {}
        for r in t["leases"]:
            k = (*_key(r, "leases"), _int(r.get("resident_rm_id")))
            v = (_date(r.get("move_in_date")) or date.min, _int(r.get("rm_id")))
            if k not in latest or v > latest[k]:
                latest[k] = v
        self.latest_lease = {k: v[1] for k, v in latest.items()}

    def _in_effect(self, row: Mapping, on: date) -> bool:
        start = _date(row.get("from_date", row.get("start_date")))
        end = _date(row.get("to_date", row.get("end_date")))
        return (start is None or start <= on) and (end is None or end >= on)

    def _household(self, lrow: Mapping, unit: Unit, org: str, loc: int):
        lrm = _int(lrow.get("rm_id"))
        hid = f"{org}:{loc}:L{lrm}"
        move_in = _date(lrow.get("move_in_date"), "leases.move_in_date")
        if move_in is None:
            self.issue("leases", hid, "lease without a move-in date (left out)")
            return None
        move_out = _date(lrow.get("move_out_date"), "leases.move_out_date")
        res_rm = _int(lrow.get("resident_rm_id"))
        rkey = (org, loc, res_rm)
        resident = self.residents.get(rkey, {})
        label = _text(resident.get("name")) or f"resident {res_rm}"
        certs: tuple[Certification, ...] = ()
        if self.latest_lease.get(rkey) == lrm:
            certs = self._certifications(hid, resident, rkey, move_in)
        subsidies = [s for s in self.subsidies.get(rkey, ()) if self._in_effect(s, self.as_of)]
        charges = [c for c in self.charges_by_resident.get(rkey, ())
                   if self._in_effect(c, self.as_of)]
        hap_charges = [c for c in charges if self._code(c) in self.assist_codes]
        assisted = "section8" if (subsidies or hap_charges) else None
        hh = Household(hid, unit.unit_id, unit.property_id, move_in, move_out, certs, assisted)
        rent = None
        if hh.occupies(self.as_of) and unit.programs:
            rent = self._rent_facts(hh, unit, charges, hap_charges, subsidies, resident, org, loc)
        return hh, rent, label

    def _code(self, charge: Mapping) -> str:
        org, loc = _key(charge, "recurring_charges")
        return self.charge_codes.get((org, loc, _int(charge.get("charge_type_rm_id"))), "")

    def _rent_facts(self, hh: Household, unit: Unit, charges, hap_charges, subsidies, resident, org, loc):
        tenant_rent = fees = Decimal(0)
        unit_rm = int(unit.unit_id.rsplit(":U", 1)[1])
        unit_charges = [c for c in self.charges_by_unit.get((org, loc, unit_rm), ()) if self._in_effect(c, self.as_of)]
        for c in charges + unit_charges:
            code = self._code(c)
            if code in self.assist_codes:
                continue
            freq = _int(c.get("frequency"))
            if freq not in (None, 1):
                self.issue("recurring_charges", f"{org}:{loc}:R{_int(c.get('rm_id'))}",
                           f"frequency {freq} is not monthly (left out of the rent facts)")
                continue
            amount = _dec(c.get("amount"), "recurring_charges.amount") or Decimal(0)
            if code in self.rent_codes:
                tenant_rent += amount
            elif code not in self.optional:
                fees += amount
        assistance = sum((_dec(c.get("amount")) or Decimal(0) for c in hap_charges), Decimal(0))
        if not hap_charges:
            assistance = sum((_dec(s.get("amount")) or Decimal(0) for s in subsidies), Decimal(0))
        return RentFacts(
            unit_id=unit.unit_id, month=self.month, tenant_rent=tenant_rent, mandatory_fees=fees,
            assistance_payment=assistance, household_id=hh.household_id,
            payment_standard=_dec(resident.get("voucher_payment_standard"), "residents.voucher_payment_standard"),
        )

    def _members(self, rkey, hid: str) -> tuple[Member, ...]:
        out = []
        rows = sorted(self.members.get(rkey, ()), key=lambda r: (not _bool(r.get("is_primary")), _int(r.get("rm_id"))))
        for r in rows:
            if _bool(r.get("is_active")) is False:
                continue
            rel_text = _norm(_text(r.get("relationship")) or "")
            applicant = _norm(_text(r.get("applicant_type")) or "")
            if rel_text in _NOT_MEMBERS or applicant in _NOT_MEMBERS:
                continue
            rel = _RELATIONSHIPS.get(rel_text)
            if rel is None:
                if rel_text:
                    self.issue("household_members", f"{hid}/C{_int(r.get('rm_id'))}",
                               f"unknown Relationship {r.get('relationship')!r}: counted as another adult member")
                rel = "H" if _bool(r.get("is_primary")) else ("A" if applicant == "coapplicant" else "O")
            what = "household_members"
            incomes = []
            for column, kind in (("employment_income", "wages"), ("benefit_income", "social-security"),
                                 ("other_income", "other")):
                amount = _dec(r.get(column), f"{what}.{column}")
                if amount:
                    incomes.append(IncomeSource(kind, amount))
            if all(_missing(r.get(c)) for c in ("employment_income", "benefit_income", "other_income")):
                amount = _dec(r.get("annual_income"), f"{what}.annual_income")
                if amount:
                    incomes.append(IncomeSource("other", amount))
            cash = _dec(r.get("asset_cash_value"), f"{what}.asset_cash_value")
            returns = _dec(r.get("asset_annual_income"), f"{what}.asset_annual_income")
            assets = (Asset("cash", cash or Decimal(0), returns or Decimal(0)),) if (cash or returns) else ()
            name = ", ".join(x for x in (_text(r.get("last_name")), _text(r.get("first_name"))) if x)
            out.append(Member(
                member_id=f"{hid}/C{_int(r.get('rm_id'))}", relationship=rel,
                birth_date=_date(r.get("date_of_birth"), f"{what}.date_of_birth"),
                full_time_student=_norm(_text(r.get("student_status")) or "") in _FULL_TIME,
                incomes=tuple(incomes), assets=assets, name=name,
            ))
        return tuple(out)

    def _certifications(self, hid: str, resident: Mapping, rkey, move_in: date) -> tuple[Certification, ...]:
        certs: list[Certification] = []
        ctype = _text(resident.get("certification_type"))
        eff = _date(resident.get("certification_effective_date"), "residents.certification_effective_date")
        kind = _CERT_KINDS.get(_norm(ctype)) if ctype else None
        exception_text = _text(resident.get("student_exception"))
        exception = _STUDENT_EXCEPTIONS.get(_norm(exception_text)) if exception_text else None
        if exception_text and exception is None:
            self.issue("residents", hid, f"unknown Student Exception {exception_text!r} (no exception)")
        if ctype and kind is None:
            self.issue("residents", hid, f"unknown Certification Type {ctype!r} (certification left out)")
        elif ctype and eff is None:
            self.issue("residents", hid, "certification without an effective date (left out)")
        current = None
        if kind is not None and eff is not None:
            current = Certification(
                certification_id=f"{hid}:{kind}:{eff.isoformat()}", kind=kind, effective_date=eff,
                members=self._members(rkey, hid),
                reported_income=_dec(resident.get("certified_annual_income"), "residents.certified_annual_income"),
                student_exception=exception,
                household_size=_int(resident.get("certified_household_size"), "residents.certified_household_size"),
            )
        if current is None or current.kind != "move-in":
            udfs = self.tenant_udfs.get(rkey, {})

            def pick(column: str, part: str):  # a typed residents column when the warehouse has one, else the UDF
                value = resident.get(column)
                return value if not _missing(value) else udfs.get(self.move_in_udfs[part])

            income = _dec(pick("move_in_certified_income", "income"), "move-in certified income")
            if income is not None:
                mi_date = _date(pick("move_in_certification_date", "date"), "move-in certification date") or move_in
                size = _int(pick("move_in_household_size", "size"), "move-in household size")
                certs.append(Certification(
                    certification_id=f"{hid}:move-in:{mi_date.isoformat()}", kind="move-in",
                    effective_date=mi_date, reported_income=income, household_size=size,
                ))
        if current is not None:
            certs.append(current)
        return tuple(certs)
