"""Compliance over a portfolio: certifications, unit status, program tests, findings, overall status.

One pure function, :func:`evaluate_portfolio`, evaluates a portfolio on one date (the month containing it
for rents) from the plain inputs of :mod:`rm_pipelines.compliance.model`, HUD tables from a
:class:`~rm_pipelines.compliance.limits.LimitsProvider`, and the previous finding list; it returns
:class:`PortfolioResult`, whose tables are lists of dataclasses with ``as_row()`` dicts (the later Dagster
assets write them to the warehouse). Rules and their sections of compliance-rules.md:

- certifications (§1.5, §8): income per member and household under the agency's ruleset; move-in
  qualification; 140 %/170 % at recertification; next recertification and reminder buckets; the 100 %
  low-income exemption as an agency setting;
- unit status (§1.3, §1.4, §1.6, §3, §6 "most restrictive"): every program layered on the unit is
  tested; the unit shows the most restrictive income limit and maximum gross rent;
- program status (§1.1, §1.8, §3, §5, §2.3, §4): set-aside (ceil), income averaging, applicable fraction
  (lesser of unit and floor-space, 4 decimals), Low HOME 20 %, bond Form 8703 figures, Section 8
  TTP/HAP and RD 515 contributions per assisted household;
- findings (§7.6): Form 8823 categories via :mod:`violations`; the list is reconciled with the previous
  one (nothing deleted; corrections dated);
- status per program and overall: ``not compliant`` on an open finding, else ``undetermined`` when missing
  reference data or inputs kept any determination of the program from being made (each one is also a data
  issue), else ``compliant``.

Missing data is never a finding and never "compliant": a determination that needs a missing, stale or
incomplete table (:class:`~rm_pipelines.compliance.limits.LimitUnavailable`) or the month's rent facts is
undetermined — tests are met on proof, not met on proof, otherwise undetermined — and a finding that an
evaluation cannot decide is not marked corrected.

Conservative readings taken where compliance-rules.md leaves a choice are stated where they are applied
(search "conservative").
"""

from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any, Iterable, Mapping

from . import certifications as certs_mod
from . import home as home_rules
from . import income as income_rules
from . import income_averaging, lihtc, section8, usda515
from .answer import compliance_answer
from .bond import BOND_ELECTIONS, form_8703_figures
from .limits import (
    IncomeLimitTable,
    LimitContext,
    LimitsProvider,
    LimitUnavailable,
    RentFloorUnavailable,
    limit_context,
)
from .model import (
    Building,
    Certification,
    ComplianceSettings,
    Household,
    ProgramElection,
    Property,
    RentFacts,
    Unit,
    UnitProgram,
)
from .rounding import ceil_places
from .rulesets import (
    MEDICAL_PHASE_IN_PCT,
    Ruleset,
    hotma_start,
    medical_threshold_pct,
    ruleset_for,
)
from .students import lihtc_student_status
from .violations import FORM_8823_LINES, Finding, Observation, reconcile

ZERO = Decimal(0)
TAX_PROGRAMS = ("lihtc", "bond")
RENT_PROGRAMS = ("lihtc", "state", "home")
"""Layers with a maximum rent (§1.3, §3, §6)."""
ASSISTANCE_PROGRAMS = {"section8": "section8", "usda-ra": "usda515"}
"""A household's rental assistance → the program it belongs to, whatever the unit's layers."""
RECERT_KINDS = frozenset({"annual", "interim"})
MOVE_IN_KINDS = frozenset({"move-in", "initial"})
_MISSING = object()


# ==========================================================================================================
# Output rows
# ==========================================================================================================


class _Row:
    __slots__ = ()
    _names_cache: dict = {}

    def as_row(self) -> dict[str, Any]:
        """The row as a plain dict (field name → value), ready for a warehouse table."""
        cls = type(self)
        names = _Row._names_cache.get(cls)
        if names is None:
            names = _Row._names_cache[cls] = tuple(f.name for f in fields(cls))
        return {name: getattr(self, name) for name in names}


@dataclass(slots=True)
class DataIssue(_Row):
    """An input problem that prevented (part of) an evaluation; not a compliance finding."""

    entity: str
    entity_id: str
    property_id: str | None
    message: str
    property_name: str | None = None
    """The property's name as Rent Manager shows it."""
    unit_number: str | None = None
    """The unit's number (Rent Manager unit name), for issues of a unit or of its household."""


@dataclass(slots=True)
class CertificationStatus(_Row):
    """One certification with its computed income and limit tests (§1.5, §7.2, §8)."""

    org_id: str
    property_id: str
    unit_id: str
    household_id: str
    certification_id: str
    kind: str
    effective_date: date
    signed_date: date | None
    household_size: int
    annual_income: Decimal
    annual_income_whole: int
    employment_income: Decimal | None
    benefit_income: Decimal | None
    public_assistance_income: Decimal | None
    other_income: Decimal | None
    asset_income: Decimal | None
    net_family_assets: Decimal | None
    imputed_asset_income: Decimal | None
    ruleset: str
    program: str | None
    income_limit_pct: int | None
    income_limit: Decimal | None
    qualifies: bool | None
    over_income_threshold: Decimal | None
    over_income: bool | None


@dataclass(slots=True)
class HouseholdStatus(_Row):
    """A current household: its certification schedule (§1.5, §2.5)."""

    org_id: str
    property_id: str
    unit_id: str
    household_id: str
    move_in_date: date
    household_size: int | None
    annual_income: Decimal | None
    last_certification_id: str | None
    last_certification_kind: str | None
    last_certification_date: date | None
    last_full_certification_date: date | None
    next_recert_due: date
    days_until_due: int
    due_bucket: str
    recert_required: bool
    recert_program: str | None
    recert_reason: str
    student_status: str
    over_income: bool


@dataclass(slots=True)
class UnitStatus(_Row):
    """One unit in the evaluated month (§1.3, §1.4, §1.6, §7.3 rent-roll columns)."""

    org_id: str
    property_id: str
    building_id: str
    bin: str | None
    unit_id: str
    unit_number: str
    month: date
    bedrooms: int
    square_feet: Decimal
    programs: str
    designation_pct: int | None
    employee_unit: bool
    occupied: bool
    household_id: str | None
    household_size: int | None
    annual_income: Decimal | None
    pct_ami: Decimal | None
    income_limit: Decimal | None
    income_limit_pct: int | None
    income_limit_program: str | None
    qualified_at_move_in: bool | None
    max_gross_rent: Decimal | None
    rent_limit_program: str | None
    tenant_rent: Decimal | None
    utility_allowance: Decimal
    mandatory_fees: Decimal | None
    subsidy: Decimal | None
    gross_rent: Decimal | None
    rent_compliant: bool | None
    over_income: bool
    over_income_threshold: Decimal | None
    next_available_unit_hold: bool
    student_status: str | None
    low_income_unit: bool | None
    """True/False; None when undetermined because reference data or rent facts are missing."""
    limits_source: str


@dataclass(slots=True)
class ProgramStatus(_Row):
    """One program test per property (``building_id`` None) or per building (§1.1, §1.8, §3, §5)."""

    org_id: str
    property_id: str
    building_id: str | None
    bin: str | None
    program: str
    election: str | None
    residential_units: int
    program_units: int
    qualifying_units: int
    required_units: int | None
    test_met: bool | None
    ia_average: Decimal | None = None
    ia_invalid_designations: str | None = None
    ia_qualified_group_units: int | None = None
    ia_qualified_group_average: Decimal | None = None
    unit_fraction: Decimal | None = None
    floor_space_fraction: Decimal | None = None
    applicable_fraction: Decimal | None = None
    committed_applicable_fraction: Decimal | None = None
    low_home_required: int | None = None
    form_8703_line4_no_new_over_income: bool | None = None
    form_8703_line6: int | None = None
    form_8703_line7: int | None = None
    form_8703_line8: int | None = None
    form_8703_line9_pct: Decimal | None = None
    compliant: bool = True


@dataclass(slots=True)
class AssistedHouseholdStatus(_Row):
    """Rent figures of one assisted household: Section 8 TTP/HAP (§2.3) or RD 515 contribution (§4)."""

    org_id: str
    property_id: str
    unit_id: str
    household_id: str
    program: str
    kind: str
    annual_income: Decimal
    adjusted_income: Decimal | None
    """None when a deduction cannot be determined (the HOTMA medical phase-in of the family is unknown)."""
    ruleset: str
    utility_allowance: Decimal
    ttp: int | None = None
    payment_standard: Decimal | None = None
    payment_standard_source: str | None = None
    gross_rent: Decimal | None = None
    hap: Decimal | None = None
    family_share: Decimal | None = None
    tenant_rent: Decimal | None = None
    utility_reimbursement: Decimal | None = None
    basic_rent: Decimal | None = None
    note_rent: Decimal | None = None
    gross_tenant_contribution: int | None = None
    net_tenant_contribution: Decimal | None = None
    overage: Decimal | None = None
    rental_assistance: Decimal | None = None
    contribution_basis: str | None = None


@dataclass(slots=True)
class OverallStatus(_Row):
    """Per org and program (``all`` = every program): the status, counts, worst open findings.

    ``status``: ``not compliant`` (an open finding), ``undetermined`` (no open finding, but missing data
    left ``undetermined_properties`` properties / ``undetermined_units`` units of the program undecided),
    or ``compliant``. ``compliant`` is True only for ``compliant`` (kept for readers of the boolean)."""

    org_id: str
    program: str
    compliant: bool
    status: str
    undetermined_properties: int
    undetermined_units: int
    properties: int
    units: int
    low_income_units: int
    households: int
    open_findings: int
    past_due_findings: int
    corrected_findings: int
    open_by_8823_line: str
    worst_findings: str

    @property
    def answer(self) -> str:
        return compliance_answer(self.open_findings, self.open_by_8823_line,
                                 undetermined_properties=self.undetermined_properties,
                                 undetermined_units=self.undetermined_units)


@dataclass(frozen=True)
class PortfolioResult:
    """Everything :func:`evaluate_portfolio` computed."""

    as_of: date
    certifications: list[CertificationStatus]
    households: list[HouseholdStatus]
    units: list[UnitStatus]
    programs: list[ProgramStatus]
    assisted: list[AssistedHouseholdStatus]
    findings: list[Finding]
    overall: list[OverallStatus]
    data_issues: list[DataIssue]

    def open_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.status != "corrected"]

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every output as row dicts, keyed by table name."""
        return {
            "household_certifications": [r.as_row() for r in self.certifications],
            "household_status": [r.as_row() for r in self.households],
            "unit_status": [r.as_row() for r in self.units],
            "program_status": [r.as_row() for r in self.programs],
            "assisted_households": [r.as_row() for r in self.assisted],
            "violations": [r.as_row() for r in self.findings],
            "overall_status": [r.as_row() for r in self.overall],
            "data_issues": [r.as_row() for r in self.data_issues],
        }


# ==========================================================================================================
# Evaluation
# ==========================================================================================================


def evaluate_portfolio(
    properties: Iterable[Property],
    units: Iterable[Unit],
    households: Iterable[Household],
    as_of: date,
    limits_provider: LimitsProvider,
    settings: ComplianceSettings | None = None,
    *,
    rent_facts: Iterable[RentFacts] = (),
    previous_findings: Iterable[Finding] = (),
    incomplete: Mapping[str, str] | None = None,
) -> PortfolioResult:
    """Evaluate compliance of a portfolio on ``as_of`` (§1-§5, §7.6, §8; see the module docstring for the
    rules and their sections; rounding as in §8.6).

    ``rent_facts``: the latest facts on or before ``as_of``'s month are used per unit. ``previous_findings``:
    the finding list returned by the previous evaluation (findings are reconciled, never deleted).
    ``incomplete``: property id → why its data is incomplete (rows of it wait in quarantine): such a property is
    a data issue and undetermined in its programs (never compliant), and its open findings are not corrected
    by the data it lacks.

    Performance: every lookup that repeats across units is cached (limit tables per building context and
    date, thresholds, certification incomes). The cyclic garbage collector is paused while evaluating (the
    evaluation creates no reference cycles; with a large live input heap, collector passes were half the
    run time) and restored afterwards.
    """
    with _gc_paused():
        return _Evaluator(
            list(properties), list(units), list(households), as_of, limits_provider,
            settings or ComplianceSettings(), list(rent_facts), list(previous_findings), dict(incomplete or {}),
        ).run()


@contextmanager
def _gc_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _CertFacts:
    """What the evaluation needs of one certification, computed once."""

    __slots__ = ("cert", "income", "whole", "detail", "ruleset", "size", "over", "threshold")

    def __init__(self, cert, income, detail, ruleset, size) -> None:
        self.cert = cert
        self.income = income
        self.whole = int(income.to_integral_value(ROUND_CEILING))  # compared with limits: rounded up (§8.6)
        self.detail = detail
        self.ruleset = ruleset
        self.size = size
        self.over: bool | None = None
        self.threshold: Decimal | None = None


@dataclass(slots=True)
class _HouseholdView:
    household: Household
    certs: list[Certification]  # effective on or before as_of, by date
    move_in_cert: Certification | None
    latest: Certification | None
    facts: "list[_CertFacts] | None" = None  # parallel to certs, filled by _Evaluator._analyse


@dataclass(slots=True)
class _UnitWork:
    """Per-unit facts shared between steps."""

    unit: Unit
    prop: Property
    building: Building | None
    current: _HouseholdView | None
    previous: _HouseholdView | None
    tax: ProgramElection | None = None  # the property's LIHTC (else bond) election
    tax_ctx: LimitContext | None = None  # set when the unit carries that program (140 % rule applies)
    tax_layer: UnitProgram | None = None
    designation: int | None = None
    layers: dict = None  # program -> UnitProgram
    program_names: tuple = ()
    area_ctx: LimitContext | None = None  # the building's MTSP context for the property's tax program
    qualified_set_aside: bool | None = False  # LIHTC/bond set-aside qualification at move-in (None: no limits)
    low_income: bool | None = False  # None: undetermined (reference data or rent facts missing)
    lost_status: bool = False
    status: UnitStatus | None = None


class _Evaluator:
    def __init__(
        self,
        properties: list[Property],
        units: list[Unit],
        households: list[Household],
        as_of: date,
        provider: LimitsProvider,
        settings: ComplianceSettings,
        rent_facts: list[RentFacts],
        previous: list[Finding],
        incomplete: dict[str, str] | None = None,
    ) -> None:
        self.as_of = as_of
        self.incomplete = incomplete or {}
        self.month = as_of.replace(day=1)
        self.provider = provider
        self.settings = settings
        self.previous = previous
        self.properties = properties
        self.props = {p.property_id: p for p in properties}
        self.buildings: dict[str, Building] = {b.building_id: b for p in properties for b in p.buildings}
        self.units = units
        self.issues: dict[tuple[str, str, str], DataIssue] = {}
        self.observations: list[Observation] = []
        self.units_by_property: dict[str, list[Unit]] = defaultdict(list)
        for u in units:
            self.units_by_property[u.property_id].append(u)
        self.households_by_unit: dict[str, list[Household]] = defaultdict(list)
        for h in households:
            self.households_by_unit[h.unit_id].append(h)
        for hs in self.households_by_unit.values():
            hs.sort(key=lambda h: (h.move_in_date, h.household_id))
        self.rent: dict[str, RentFacts] = {}
        for rf in rent_facts:
            if rf.month > self.month:
                continue
            best = self.rent.get(rf.unit_id)
            if best is None or rf.month > best.month:
                self.rent[rf.unit_id] = rf
        self._limit_cache: dict = {}
        self._mtsp_cache: dict[int, dict[date, IncomeLimitTable | None]] = {}
        self._layer_spec_cache: dict = {}
        self._spec_intern: dict = {}
        self._limit_value_cache: dict = {}
        self._requirement_cache: dict = {}
        self._label_cache: dict = {}
        buckets = tuple(sorted(settings.recert_buckets))
        self._buckets = certs_mod.DEFAULT_BUCKETS_SORTED if buckets == certs_mod.DEFAULT_BUCKETS_SORTED else buckets
        self._threshold_cache: dict = {}
        self._ctx_cache: dict = {}
        self._ctx_intern: dict[LimitContext, LimitContext] = {}
        self._agency_cache: dict = {}
        self._ruleset_cache: dict = {}
        self._views: dict[str, _HouseholdView] = {}
        self.work: dict[str, _UnitWork] = {}
        self.cert_rows: list[CertificationStatus] = []
        self.household_rows: list[HouseholdStatus] = []
        self.program_rows: list[ProgramStatus] = []
        self.assisted_rows: list[AssistedHouseholdStatus] = []
        self.hold_units: set[str] = set()
        # program → property → units (None: the property itself) whose determination missing data prevented
        self.undetermined: dict[str, dict[str, set[str | None]]] = defaultdict(lambda: defaultdict(set))
        self._unit_numbers = {u.unit_id: u.unit_number for u in units}
        self._household_units = {h.household_id: h.unit_id for h in households}

    # ------------------------------------------------------------------------------------------------
    def run(self) -> PortfolioResult:
        # Every step depends only on the property's own units and households, so a property is evaluated
        # start to finish before the next one (its data stays in the CPU caches).
        for prop in self.properties:
            self._prepare_units(prop)
            self._next_available_unit_rule(prop)
            for unit in self.units_by_property.get(prop.property_id, ()):
                self._evaluate_unit(self.work[unit.unit_id])
            self._program_tests(prop)
        for unit in self.units:
            if unit.property_id not in self.props:
                self._issue("unit", unit.unit_id, unit.property_id, "unit's property is not in the portfolio")
        self._mark_incomplete()
        findings = reconcile(self.previous, self.observations, self.as_of, self.settings.correction_days,
                             undecided=self._undecided)
        units = [w.status for w in self.work.values() if w.status is not None]
        return PortfolioResult(
            as_of=self.as_of,
            certifications=self.cert_rows,
            households=self.household_rows,
            units=units,
            programs=self.program_rows,
            assisted=self.assisted_rows,
            findings=findings,
            overall=self._absent_incomplete(self._overall(findings, units)),
            data_issues=list(self.issues.values()),
        )

    # -- properties whose data is incomplete (rows in quarantine) -------------------------------------------
    def _mark_incomplete(self) -> None:
        """Each incomplete property is a data issue, undetermined in every program it counts in, down to each
        unit and to every unit a previous finding rests on (so no finding of it is corrected by missing data)."""
        for pid, why in sorted(self.incomplete.items()):
            self._issue("property", pid, pid, why)
            if pid not in self.props:
                continue
            units = [u.unit_id for u in self.units_by_property.get(pid, ())]
            programs = {e.program for e in self.props[pid].programs} | {
                p for uid in units if self.work.get(uid) and self.work[uid].status
                for p in self._programs_of(self.work[uid].status)}
            for program in programs:
                self._undetermined(program, pid)
                for uid in units:
                    self._undetermined(program, pid, uid)
            for f in self.previous:
                if f.property_id == pid:
                    self._undetermined(f.program, pid, f.unit_id)

    def _absent_incomplete(self, rows: list[OverallStatus]) -> list[OverallStatus]:
        """Properties missing from the portfolio because their own rows wait in quarantine count as undetermined
        in the org's "all" row (their programs are not known)."""
        absent = [pid for pid in self.incomplete if pid not in self.props]
        if not absent:
            return rows
        return [replace(r, undetermined_properties=r.undetermined_properties + len(absent), compliant=False,
                        status="not compliant" if r.open_findings else "undetermined")
                if r.program == "all" else r for r in rows]

    # -- helpers ---------------------------------------------------------------------------------------
    def _issue(self, entity: str, entity_id: str, property_id: str | None, message: str) -> None:
        key = (entity, entity_id, message)
        if key not in self.issues:
            prop = self.props.get(property_id) if property_id else None
            unit_id = entity_id if entity == "unit" else self._household_units.get(entity_id) if entity == "household" else None
            self.issues[key] = DataIssue(entity, entity_id, property_id, message, prop.name if prop else None,
                                         self._unit_numbers.get(unit_id) if unit_id else None)

    def _undetermined(self, program: str, property_id: str, unit_id: str | None = None) -> None:
        """Missing data kept a determination of ``program`` for this unit (or property) from being made."""
        self.undetermined[program][property_id].add(unit_id)

    def _undecided(self, f: Finding) -> bool:
        """The finding cannot be decided by this evaluation: what it rests on (its unit, or its property) is
        undetermined in its program. Such a finding is not corrected (:func:`violations.reconcile`)."""
        decided_by = f.type.decided_by
        if decided_by is None:
            return False
        by_property = self.undetermined.get(f.program, {}).get(f.property_id)
        if not by_property:
            return False
        return decided_by == "property" or f.unit_id is None or f.unit_id in by_property

    def _observe(self, code: str, program: str, prop: Property, *, unit: Unit | None = None,
                 building: Building | None = None, household_id: str | None = None,
                 occurred_on: date | None = None, detail: str = "", discriminator: str = "") -> None:
        if unit is not None and building is None:
            building = self.buildings.get(unit.building_id)
        self.observations.append(Observation(
            code=code, program=program, org_id=prop.org_id, property_id=prop.property_id,
            building_id=building.building_id if building else (unit.building_id if unit else None),
            bin=building.bin if building else None, unit_id=unit.unit_id if unit else None,
            household_id=household_id, occurred_on=occurred_on, detail=detail, discriminator=discriminator,
        ))

    def _agency(self, prop: Property, program: str | None = None):
        key = (prop.property_id, program)
        agency = self._agency_cache.get(key)
        if agency is None:
            agency = self._agency_cache[key] = self._resolve_agency(prop, program)
        return agency

    def _resolve_agency(self, prop: Property, program: str | None):
        election = prop.program(program) if program else None
        if election is None and program == "section8":
            return self.settings.section8_agency  # tenant-based voucher: the PHA's rules (PIH 2026-15 date)
        if election is None:
            election = prop.program("lihtc") or prop.program("bond") or (prop.programs[0] if prop.programs else None)
        return self.settings.agency(election)

    def _ruleset(self, agency, on: date) -> Ruleset:
        by_date = self._ruleset_cache.get(id(agency))
        if by_date is None:
            by_date = self._ruleset_cache[id(agency)] = {}
        rs = by_date.get(on)
        if rs is None:
            rs = by_date[on] = ruleset_for(on, agency.hotma_adoption_date)
        return rs

    def _ctx(self, prop: Property, building: Building | None, program: str) -> LimitContext:
        key = (prop.property_id, building.building_id if building else None, program)
        ctx = self._ctx_cache.get(key)
        if ctx is None:
            ctx = limit_context(prop, building, program)
            # equal contexts share one object, so identity-keyed limit caches are shared across buildings
            ctx = self._ctx_cache[key] = self._ctx_intern.setdefault(ctx, ctx)
        return ctx

    # Table lookups come in two forms: the plain one (a table or None, for displayed figures) and the one
    # a determination uses (``_for``), which also records why a table is missing or unusable.
    @staticmethod
    def _lookup(find, *args):
        """A provider lookup's table, None (no table) or the LimitUnavailable saying why it cannot be used."""
        try:
            return find(*args)
        except LimitUnavailable as exc:
            return exc

    def _usable(self, value, w: _UnitWork, missing: str, on: date):
        """``value`` if it is a table; else record a data issue (no table: per unit; an unusable table, e.g.
        stale or without its rural floor: per property, in the words of the reason) and return None."""
        if value is None:
            self._issue("unit", w.unit.unit_id, w.prop.property_id, f"no {missing} limits for area {w.prop.area} on {on}")
            return None
        if isinstance(value, LimitUnavailable):
            self._issue("property", w.prop.property_id, w.prop.property_id, str(value))
            return None
        return value

    def _mtsp_value(self, ctx: LimitContext, on: date):
        # contexts are cached by _ctx, so their identity is a cheap, stable key
        by_date = self._mtsp_cache.get(id(ctx))
        if by_date is None:
            by_date = self._mtsp_cache[id(ctx)] = {}
        try:
            return by_date[on]
        except KeyError:
            value = by_date[on] = self._lookup(self.provider.lihtc_income_limits, ctx, on)
            return value

    def _mtsp(self, ctx: LimitContext, on: date) -> IncomeLimitTable | None:
        value = self._mtsp_value(ctx, on)
        return None if isinstance(value, LimitUnavailable) else value

    def _mtsp_for(self, ctx: LimitContext, on: date, w: _UnitWork) -> IncomeLimitTable | None:
        value = self._mtsp_value(ctx, on)
        if value is None or isinstance(value, LimitUnavailable):
            return self._usable(value, w, "MTSP", on)
        return value

    def _mtsp_rent_value(self, ctx: LimitContext):
        key = ("rent", id(ctx))
        if key not in self._limit_cache:
            self._limit_cache[key] = self._lookup(self.provider.lihtc_rent_limits, ctx, self.as_of)
        return self._limit_cache[key]

    def _mtsp_rent(self, ctx: LimitContext) -> IncomeLimitTable | None:
        value = self._mtsp_rent_value(ctx)
        if isinstance(value, RentFloorUnavailable):
            return value.lower_bound
        return None if isinstance(value, LimitUnavailable) else value

    def _rent_limit_from_below(self, w: _UnitWork, program: str) -> bool:
        """The layer's maximum rent is only a lower bound: its gross rent floor's table is not loaded."""
        if program not in ("lihtc", "state"):
            return False
        return isinstance(self._mtsp_rent_value(self._ctx(w.prop, w.building, program)), RentFloorUnavailable)

    def _s8_value(self, area: str, on: date):
        key = ("s8", area, on)
        if key not in self._limit_cache:
            self._limit_cache[key] = self._lookup(self.provider.section8_income_limits, area, on)
        return self._limit_cache[key]

    def _s8(self, area: str, on: date) -> IncomeLimitTable | None:
        value = self._s8_value(area, on)
        return None if isinstance(value, LimitUnavailable) else value

    def _view(self, h: Household) -> _HouseholdView:
        view = self._views.get(h.household_id)
        if view is None:
            as_of = self.as_of
            certs = [c for c in h.certifications if c.effective_date <= as_of]
            previous = None
            for c in certs:  # usually already in date order: sort only when not strictly increasing
                if previous is not None and c.effective_date <= previous:
                    certs.sort(key=lambda c: (c.effective_date, c.certification_id))
                    break
                previous = c.effective_date
            move_in = next((c for c in certs if c.kind in MOVE_IN_KINDS), None)
            view = self._views[h.household_id] = _HouseholdView(h, certs, move_in, certs[-1] if certs else None)
        return view

    @staticmethod
    def _size(cert: Certification) -> int:
        """Household size for limits: members except live-in aides (§8.5); the TIC's stated size when the
        certification carries no members."""
        if cert.members:
            return max(1, income_rules.household_size(cert.members))
        return cert.household_size or 1

    def _new_facts(self, agency, cert: Certification) -> "_CertFacts":
        """Income from members when they carry income or asset detail, else the certification's reported
        total; the ruleset is the agency's on the certification's effective date (§8.4)."""
        on = cert.effective_date
        rs = self._ruleset(agency, on)
        if cert.reported_income is None or any(m.incomes or m.assets for m in cert.members):
            d = income_rules.household_totals(cert.members, on, rs)
            # (L) = (E) + (K): TIC columns A-D plus counted asset income
            return _CertFacts(cert, d[0] + d[1] + d[2] + d[3] + d[7], d, rs, d[9] or cert.household_size or 1)
        return _CertFacts(cert, Decimal(cert.reported_income), None, rs, self._size(cert))

    def _analyse(self, w: _UnitWork, view: _HouseholdView) -> "list[_CertFacts]":
        """Facts of every certification of a household (computed once, in date order)."""
        facts = view.facts
        if facts is None:
            agency = self._agency(w.prop)
            totals = income_rules.household_totals_tuple
            rulesets = self._ruleset_cache.get(id(agency)) or {}
            facts = []
            for cert in view.certs:
                on = cert.effective_date
                rs = rulesets.get(on) or self._ruleset(agency, on)
                if cert.reported_income is None:
                    d = totals(cert.members, on, rs)
                    facts.append(_CertFacts(cert, d[0] + d[1] + d[2] + d[3] + d[7], d, rs, d[9] or cert.household_size or 1))
                else:
                    facts.append(self._new_facts(agency, cert))
            view.facts = facts
        return facts

    def _move_in_facts(self, w: _UnitWork, view: _HouseholdView) -> "_CertFacts | None":
        """Facts of the household's move-in certification (None without one)."""
        if view.move_in_cert is None:
            return None
        facts = self._analyse(w, view)
        for f in facts:
            if f.cert is view.move_in_cert:
                return f
        return None

    # -- program layers ------------------------------------------------------------------------------------
    def _tax_pct(self, prop: Property, unit: Unit, layer: UnitProgram, for_set_aside: bool) -> int | None:
        """Income % for a LIHTC/bond layer: the unit's tier (or, for set-aside counting, the election's)."""
        election = prop.program(layer.program)
        set_aside = election.set_aside if election else None
        if set_aside == "income-averaging":
            return layer.income_pct
        if set_aside is None:
            return layer.income_pct
        base = lihtc.set_aside_income_pct(set_aside)
        if for_set_aside or layer.income_pct is None:
            return base
        return layer.income_pct

    def _layer_income_limit(self, w: _UnitWork, layer: UnitProgram, size: int, on: date,
                            for_set_aside: bool = False) -> tuple[int, Decimal, str] | None:
        """(income %, limit, program) of one program layer for a household size on a date (§1.2, §3):
        LIHTC/bond/state layers read the building's applicable MTSP limits; HOME (80 %, Low HOME 50 %)
        and project-based Section 8 (50 %) read HUD's Section 8 table."""
        key = (id(w), id(layer), for_set_aside)
        spec = self._layer_spec_cache.get(key)
        if spec is None:
            spec = self._layer_spec(w, layer, for_set_aside)
            # equal specs share one tuple, so the (spec, size, date) cache below is shared across units
            spec = self._layer_spec_cache[key] = self._spec_intern.setdefault(spec, spec) if spec else spec
        if not spec:
            return None
        shared_key = (id(spec), size, on)
        value = self._limit_value_cache.get(shared_key, _MISSING)
        if value is not _MISSING:
            return value
        pct, source, program, uses_mtsp = spec
        table = self._mtsp_value(source, on) if uses_mtsp else self._s8_value(source, on)
        if table is None or isinstance(table, LimitUnavailable):
            return self._usable(table, w, "MTSP" if uses_mtsp else "Section 8/HOME income", on)
        try:
            value = self._limit_value_cache[shared_key] = (pct, table.limit(pct, size), program)
            return value
        except LimitUnavailable as exc:
            self._issue("unit", w.unit.unit_id, w.prop.property_id, str(exc))
            return None

    def _layer_spec(self, w: _UnitWork, layer: UnitProgram, for_set_aside: bool):
        prop, unit = w.prop, w.unit
        program = layer.program
        if program in TAX_PROGRAMS or program == "state":
            pct = self._tax_pct(prop, unit, layer, for_set_aside) if program in TAX_PROGRAMS else layer.income_pct
            if pct is None:
                self._issue("unit", unit.unit_id, prop.property_id, f"{program} layer has no income % (designation)")
                return False
            return pct, self._ctx(prop, w.building, program), program, True
        if program == "home":
            pct = home_rules.LOW_HOME_INCOME_PCT if layer.home_rent == "low" else home_rules.HOME_INCOME_PCT
            return pct, prop.area, program, False
        if program == "section8":
            return 50, prop.area, program, False
        return False

    def _layer_max_rent(self, w: _UnitWork, layer: UnitProgram) -> Decimal | None:
        prop, unit = w.prop, w.unit
        key = ("maxrent", prop.property_id, unit.building_id, layer.program, layer.income_pct, layer.rent_pct,
               layer.home_rent, layer.household_size_rule, unit.bedrooms)
        if key in self._limit_cache:
            return self._limit_cache[key]
        value = None
        try:
            if layer.program in ("lihtc", "state"):
                pct = layer.rent_pct or (self._tax_pct(prop, unit, layer, False) if layer.program == "lihtc" else layer.income_pct)
                table = self._mtsp_rent_value(self._ctx(prop, w.building, layer.program))
                if isinstance(table, RentFloorUnavailable):  # a lower bound: see _rent_checks
                    self._issue("property", prop.property_id, prop.property_id, str(table))
                    table = table.lower_bound
                elif table is None or isinstance(table, LimitUnavailable):
                    table = self._usable(table, w, "MTSP", self.as_of)
                if pct is not None and table is not None:
                    value = Decimal(lihtc.max_gross_rent(table, pct, unit.bedrooms, layer.household_size_rule))
            elif layer.program == "home":
                table = self.provider.home_rents(prop.area, self.as_of)
                if table is None:
                    self._issue("unit", unit.unit_id, prop.property_id, f"no HOME rent limits for area {prop.area}")
                else:
                    election = prop.program("home")
                    commitment = None
                    if election and election.commitment_date:
                        commitment = self.provider.home_rents(prop.area, election.commitment_date)
                    limits = home_rules.rent_limits(table, unit.bedrooms, commitment_table=commitment)
                    value = home_rules.max_gross_rent(limits, layer.home_rent or "high")
        except LimitUnavailable as exc:
            self._issue("unit", unit.unit_id, prop.property_id, str(exc))
        self._limit_cache[key] = value
        return value

    # -- step 1: who lives where, set-aside qualification at move-in ------------------------------------
    def _prepare_units(self, prop: Property) -> None:
        tax = self._tax_program(prop)
        as_of = self.as_of
        households_by_unit = self.households_by_unit
        for unit in self.units_by_property.get(prop.property_id, ()):
            current = previous = None
            for h in households_by_unit.get(unit.unit_id, ()):
                if h.move_in_date > as_of:
                    continue
                out = h.move_out_date
                if out is None or out > as_of:
                    current = self._view(h)
                else:
                    previous = self._view(h)
            building = self.buildings.get(unit.building_id)
            if building is None:
                self._issue("unit", unit.unit_id, prop.property_id, f"building {unit.building_id!r} not found")
            w = _UnitWork(unit, prop, building, current, previous)
            layers = w.layers = {layer.program: layer for layer in reversed(unit.programs)}
            w.program_names = tuple(layer.program for layer in unit.programs)
            w.tax = tax
            lihtc_layer = layers.get("lihtc")
            w.designation = lihtc_layer.income_pct if lihtc_layer is not None else None
            if tax is not None:
                w.area_ctx = self._ctx(prop, building, tax.program)
                w.tax_layer = layers.get(tax.program)
                if w.tax_layer is not None:
                    w.tax_ctx = w.area_ctx
            tax_layer = lihtc_layer or layers.get("bond")
            occupant = current or previous
            if tax_layer is not None and occupant is not None and occupant.move_in_cert is not None:
                w.qualified_set_aside = self._qualifies(w, tax_layer, occupant, for_set_aside=True)
            self.work[unit.unit_id] = w

    def _qualifies(self, w: _UnitWork, layer: UnitProgram, view: _HouseholdView, for_set_aside: bool = False) -> bool | None:
        """Move-in income within the layer's limit on the certification date (None: no limits)."""
        facts = self._move_in_facts(w, view)
        if facts is None:
            return False
        limit = self._layer_income_limit(w, layer, facts.size, facts.cert.effective_date, for_set_aside)
        if limit is None:
            return None
        return facts.whole <= limit[1]

    # -- step 2: 140 % rule and next available unit rule -------------------------------------------------
    def _tax_program(self, prop: Property) -> ProgramElection | None:
        return prop.program("lihtc") or prop.program("bond")

    def _over(self, w: _UnitWork, facts: "_CertFacts") -> bool:
        """140 %/170 % test of a recertification (§1.4), cached on the certification's facts."""
        over = facts.over
        if over is not None:
            return over
        threshold = None
        ctx = w.tax_ctx
        if ctx is not None and facts.cert.kind in RECERT_KINDS and w.tax.set_aside is not None:
            table = self._mtsp_for(ctx, facts.cert.effective_date, w)
            if table is None:  # the 140 % test (and the next available unit rule) cannot be made
                self._undetermined(w.tax.program, w.prop.property_id, w.unit.unit_id)
            else:
                election = w.tax
                key = (id(table), facts.size, election.set_aside, w.designation, election.deep_rent_skewed)
                threshold = self._threshold_cache.get(key, _MISSING)
                if threshold is _MISSING:
                    try:
                        threshold = lihtc.over_income_threshold(
                            table, facts.size, election.set_aside, w.designation, election.deep_rent_skewed)
                    except (LimitUnavailable, ValueError):
                        threshold = None
                    self._threshold_cache[key] = threshold
        facts.threshold = threshold
        over = facts.over = threshold is not None and facts.whole > threshold  # strictly greater (§1.4)
        return over

    def _scope(self, prop: Property, unit: Unit) -> str:
        # LIHTC: per building; bond-only: per project (§1.4 scope).
        return unit.building_id if prop.program("lihtc") else prop.property_id

    def _next_available_unit_rule(self, prop: Property) -> None:
        election = self._tax_program(prop)
        if election is None or election.set_aside is None:
            return
        tax = election.program
        holds: list[lihtc.OverIncomeHold] = []
        for unit in self.units_by_property.get(prop.property_id, ()):
            w = self.work[unit.unit_id]
            if tax not in w.layers:
                continue
            for h in self.households_by_unit.get(unit.unit_id, ()):
                if h.move_in_date > self.as_of:
                    continue
                holds.extend(self._holds_of(w, self._view(h), election))
        if not holds:
            return
        earliest = min(h.starts for h in holds)
        lease_ups = []
        for unit in self.units_by_property.get(prop.property_id, ()):
            w = self.work[unit.unit_id]
            for h in self.households_by_unit.get(unit.unit_id, ()):
                if earliest < h.move_in_date <= self.as_of:
                    lease = self._lease_up(w, self._view(h), election)
                    if lease is not None:
                        lease_ups.append(lease)
        for outcome in lihtc.apply_next_available_unit_rule(holds, lease_ups, self.as_of):
            hold = outcome.hold
            if outcome.status == "violated":
                lease = outcome.resolved_by
                w = self.work[hold.unit_id]
                still_there = w.current is not None and w.current.household.household_id == hold.household_id
                if still_there:
                    w.lost_status = True
                self._observe(
                    "NEXT_AVAILABLE_UNIT_VIOLATION", tax, prop, unit=w.unit, household_id=hold.household_id,
                    occurred_on=lease.move_in, discriminator=hold.starts.isoformat(),
                    detail=(f"unit {self._unit_name(hold.unit_id)} over income since {hold.starts}; comparable or "
                            f"smaller unit {self._unit_name(lease.unit_id)} rented on {lease.move_in} to a household "
                            "above its next-available-unit limit"),
                )
            elif outcome.status == "open":
                for unit in self.units_by_property.get(prop.property_id, ()):
                    if unit.unit_id == hold.unit_id or self._scope(prop, unit) != hold.scope:
                        continue
                    covered = (tax in self.work[unit.unit_id].layers) if hold.deep_rent_skewed else unit.bedrooms <= hold.bedrooms
                    if covered:
                        self.hold_units.add(unit.unit_id)

    def _holds_of(self, w: _UnitWork, view: _HouseholdView, election: ProgramElection) -> list[lihtc.OverIncomeHold]:
        holds = []
        start = None
        for f in self._analyse(w, view):
            cert = f.cert
            if cert.kind not in RECERT_KINDS:
                continue
            over = f.over
            if over is None:
                over = self._over(w, f)
            if over and start is None:
                start = cert.effective_date
            elif not over and start is not None:
                holds.append(self._hold(w, view, election, start, cert.effective_date))
                start = None
        if start is not None:
            out = view.household.move_out_date
            holds.append(self._hold(w, view, election, start, out if out and out <= self.as_of else None))
        return holds

    def _hold(self, w, view, election, start, end) -> lihtc.OverIncomeHold:
        return lihtc.OverIncomeHold(
            unit_id=w.unit.unit_id, household_id=view.household.household_id, scope=self._scope(w.prop, w.unit),
            bedrooms=w.unit.bedrooms, starts=start, ends=end, deep_rent_skewed=election.deep_rent_skewed,
        )

    def _lease_up(self, w: _UnitWork, view: _HouseholdView, election: ProgramElection) -> lihtc.LeaseUp | None:
        layer = w.layers.get(election.program)
        pct = lihtc.next_unit_income_pct(
            election.set_aside, election.deep_rent_skewed,
            unit_designation=w.designation, unit_was_low_income=layer is not None,
        )
        qualified = False  # conservative: a new resident without a move-in certification is not qualified
        cert = view.move_in_cert
        if cert is not None:
            table = self._mtsp_value(self._ctx(w.prop, w.building, election.program), cert.effective_date)
            if table is None or isinstance(table, LimitUnavailable):
                if table is None:
                    self._issue("household", view.household.household_id, w.prop.property_id,
                                f"no MTSP limits on {cert.effective_date}: lease-up left out of the next available unit rule")
                else:
                    self._usable(table, w, "MTSP", cert.effective_date)
                self._undetermined(election.program, w.prop.property_id)  # the rule is incomplete
                return None
            facts = self._move_in_facts(w, view)
            qualified = facts.whole <= table.limit(pct, facts.size)
        return lihtc.LeaseUp(
            unit_id=w.unit.unit_id, household_id=view.household.household_id, scope=self._scope(w.prop, w.unit),
            bedrooms=w.unit.bedrooms, move_in=view.household.move_in_date, qualified=qualified,
            low_income_unit=layer is not None,
        )

    # -- step 3: unit status ---------------------------------------------------------------------------------
    def _evaluate_unit(self, w: _UnitWork) -> None:
        prop, unit, view = w.prop, w.unit, w.current
        tax, tax_layer = w.tax, w.tax_layer
        if unit.utility_allowance_history:
            ua = lihtc.applicable_utility_allowance(unit.utility_allowance, unit.utility_allowance_history, self.month)
        else:
            ua = unit.utility_allowance

        # rent limits of every layer (as of the month); the most restrictive wins (§0 principle 3)
        max_rents = []
        max_rent = rent_program = lihtc_max = None
        unknown_rent_limits = ()
        for layer in unit.programs:
            value = self._layer_max_rent(w, layer)
            if value is not None:
                max_rents.append((value, layer.program))
                if max_rent is None or value < max_rent:
                    max_rent, rent_program = value, layer.program
                if layer.program == "lihtc":
                    lihtc_max = value
            elif layer.program in RENT_PROGRAMS:
                unknown_rent_limits += (layer.program,)

        size = income = pct_ami = None
        income_limit = limit_pct = limit_program = None
        qualified_mi = threshold = student = None
        over = False
        tenant_rent = fees = subsidy = gross = rent_ok = lihtc_rent_ok = None

        if view is not None:
            hh = view.household
            latest = view.latest
            facts = self._analyse(w, view)
            if latest is not None:
                latest_facts = facts[-1]
                size, income = latest_facts.size, latest_facts.income
                as_of = self.as_of
                for layer in unit.programs:
                    lim = self._layer_income_limit(w, layer, size, as_of)
                    if lim is not None and (income_limit is None or lim[1] < income_limit):
                        limit_pct, income_limit, limit_program = lim
                pct_ami = self._pct_ami(w, latest_facts.whole, size)
                st = lihtc_student_status(latest.members, latest.student_exception)
                student = st.code
                if st.disqualified and tax_layer is not None:
                    self._observe("FULL_TIME_STUDENT_HOUSEHOLD", self._finding_program(unit, tax.program), prop,
                                  unit=unit, household_id=hh.household_id, occurred_on=latest.effective_date,
                                  detail="all members full-time students; no §42(i)(3)(D) exception",
                                  discriminator=hh.household_id)
                if tax_layer is not None:
                    for f in reversed(facts):
                        if f.cert.kind in RECERT_KINDS:
                            over, threshold = self._over(w, f), f.threshold
                            break
            qualified_mi = self._move_in_checks(w, view)
            tenant_rent, fees, subsidy, gross, rent_ok = self._rent_checks(w, view, ua, max_rents)
            for program in unknown_rent_limits:  # an occupied unit whose rent limit is unknown
                self._undetermined(program, prop.property_id, unit.unit_id)
            if gross is not None and lihtc_max is not None:
                lihtc_rent_ok = gross <= lihtc_max
                if not lihtc_rent_ok and self._rent_limit_from_below(w, "lihtc"):
                    lihtc_rent_ok = None
            self._household_row(w, view, size, income, student, over)
            self._assisted(w, view, ua)

        w.low_income = low_income = self._low_income(w, tax_layer, lihtc_rent_ok, student)
        if low_income is None:
            self._undetermined(tax.program, prop.property_id, unit.unit_id)
        building = w.building
        w.status = UnitStatus(
            prop.org_id, prop.property_id, unit.building_id, building.bin if building else None, unit.unit_id,
            unit.unit_number, self.month, unit.bedrooms, unit.square_feet, self._programs_label(w),
            w.designation, unit.employee_unit, view is not None, view.household.household_id if view else None,
            size, income, pct_ami, income_limit, limit_pct, limit_program, qualified_mi, max_rent, rent_program,
            tenant_rent, ua, fees, subsidy, gross, rent_ok, over, threshold, unit.unit_id in self.hold_units,
            student, low_income, self._limits_source(w),
        )

    def _unit_name(self, unit_id: str) -> str:
        w = self.work.get(unit_id)
        return (w.unit.unit_number or unit_id) if w is not None else unit_id

    def _programs_label(self, w: _UnitWork) -> str:
        label = self._label_cache.get(w.program_names)
        if label is None:
            label = self._label_cache[w.program_names] = "+".join(w.program_names)
        return label

    def _finding_program(self, unit: Unit, default: str) -> str:
        return "lihtc" if "lihtc" in self.work[unit.unit_id].layers else default

    def _pct_ami(self, w: _UnitWork, income: int, size: int) -> Decimal | None:
        """Household income as % of AMI: income (whole dollars, rounded up) ÷ the 50 % limit × 50, rounded
        up to 2 decimals (never understates)."""
        table = self._mtsp(w.area_ctx, self.as_of) if w.area_ctx is not None else None
        if table is None:
            table = self._s8(w.prop.area, self.as_of)
        if table is None:
            return None
        return ceil_places(Decimal(income) * 50 / table.limit(50, size), 2)

    def _limits_source(self, w: _UnitWork) -> str:
        if w.area_ctx is None:
            return ""
        table = self._mtsp_rent(w.area_ctx)
        if table is None:
            return ""
        key = ("source", id(table))
        text = self._limit_cache.get(key)
        if text is None:
            text = self._limit_cache[key] = "; ".join(table.provenance)
        return text

    def _move_in_checks(self, w: _UnitWork, view: _HouseholdView) -> bool | None:
        """Move-in certification present, done before move-in, income within every layer's limit (§1.5)."""
        prop, unit, hh = w.prop, w.unit, view.household
        programs = [layer for layer in unit.programs if layer.program in ("lihtc", "bond", "home", "state")]
        if not programs:
            return None
        has_lihtc = "lihtc" in w.layers
        has_bond = "bond" in w.layers
        cert = view.move_in_cert
        if cert is None:
            if has_lihtc or has_bond:
                self._observe("MOVE_IN_CERT_MISSING", self._finding_program(unit, "bond"), prop, unit=unit,
                              household_id=hh.household_id, occurred_on=hh.move_in_date,
                              detail=f"moved in {hh.move_in_date} without a move-in certification",
                              discriminator=hh.household_id)
            return False
        if (cert.signed_date and cert.signed_date > hh.move_in_date) or cert.effective_date > hh.move_in_date:
            if has_lihtc or has_bond:
                self._observe("MOVE_IN_CERT_LATE", self._finding_program(unit, "bond"), prop, unit=unit,
                              household_id=hh.household_id, occurred_on=hh.move_in_date,
                              detail=f"certification {cert.certification_id} completed "
                                     f"{cert.signed_date or cert.effective_date}, after move-in {hh.move_in_date}",
                              discriminator=hh.household_id)
        facts = self._move_in_facts(w, view)
        all_ok = True
        for layer in programs:
            if layer.program == "bond" and has_lihtc:
                continue  # a 4 % + bond unit: the LIHTC test (same MTSP limits) reports it
            limit = self._layer_income_limit(w, layer, facts.size, cert.effective_date)
            if limit is None:
                self._undetermined(layer.program, prop.property_id, unit.unit_id)
                continue
            pct, value, program = limit
            if facts.whole <= value:
                continue
            all_ok = False
            code = "INCOME_OVER_LIMIT_AT_MOVE_IN" if program == "lihtc" else "PROGRAM_INCOME_OVER_LIMIT_AT_MOVE_IN"
            self._observe(code, program, prop, unit=unit, household_id=hh.household_id, occurred_on=hh.move_in_date,
                          detail=f"income {facts.whole} > {pct} % limit {value} "
                                 f"(size {facts.size}, certified {cert.effective_date})",
                          discriminator=hh.household_id)
        return all_ok

    def _rent_checks(self, w: _UnitWork, view: _HouseholdView, ua: Decimal, max_rents):
        prop, unit, hh = w.prop, w.unit, view.household
        rf = self.rent.get(unit.unit_id)
        if rf is not None and rf.household_id is not None and rf.household_id != hh.household_id:
            rf = None
        if rf is None:
            if max_rents:
                self._issue("unit", unit.unit_id, prop.property_id, f"no rent facts for {self.month} (rent test skipped)")
                for _, program in max_rents:
                    self._undetermined(program, prop.property_id, unit.unit_id)
            return None, None, None, None, None
        # gross rent = tenant rent + UA + mandatory fees − RD overage; subsidy never counts (§1.3)
        gross = rf.tenant_rent + ua + rf.mandatory_fees
        if rf.usda_overage:
            gross -= rf.usda_overage
        if not max_rents:
            return rf.tenant_rent, rf.mandatory_fees, rf.assistance_payment, gross, None
        rent_ok: bool | None = True
        for limit, program in max_rents:
            if gross <= limit:
                continue
            if self._rent_limit_from_below(w, program):  # over the unfloored limit: the floor might allow it
                self._undetermined(program, prop.property_id, unit.unit_id)
                rent_ok = None if rent_ok is True else rent_ok
                continue
            rent_ok = False
            code = {"lihtc": "GROSS_RENT_OVER_LIMIT", "home": "HOME_RENT_OVER_LIMIT"}.get(program, "PROGRAM_RENT_OVER_LIMIT")
            self._observe(code, program, prop, unit=unit, household_id=hh.household_id, occurred_on=rf.month,
                          detail=f"gross rent {gross} (rent {rf.tenant_rent} + UA {ua} + fees {rf.mandatory_fees}) "
                                 f"> maximum {limit} for {self.month}",
                          discriminator=hh.household_id)
        return rf.tenant_rent, rf.mandatory_fees, rf.assistance_payment, gross, rent_ok

    def _low_income(self, w: _UnitWork, tax_layer: UnitProgram | None, lihtc_rent_ok: bool | None, student: str | None) -> bool | None:
        """Whether the unit counts as a low-income unit for the set-aside and applicable fraction (§1.1, §1.4,
        §1.6). Occupied: qualified at move-in at the set-aside limit (a household without a move-in
        certification does not qualify), rent-restricted under §42(g)(2) (the LIHTC limit; a stricter HOME
        or state limit is that program's own finding), not an all-student household without
        exception, and not lost under the next available unit rule. Vacant: counts when its last household
        qualified (vacant unit rule); a never-occupied unit does not count. ``None`` (undetermined) when a
        needed limit table or the month's rent facts are missing: findings are raised only on proof, and the
        gap is reported as a data issue."""
        if tax_layer is None or w.unit.employee_unit:
            return False
        if w.current is None:
            return w.qualified_set_aside if w.previous is not None else False
        if w.lost_status or student == "all-students-no-exception":
            return False
        qualified = w.qualified_set_aside
        rent = lihtc_rent_ok if w.tax.program == "lihtc" else True
        if qualified is False or rent is False:
            return False
        if qualified is None or rent is None:
            return None
        return True

    # -- certifications and schedule ----------------------------------------------------------------------
    def _household_row(self, w: _UnitWork, view: _HouseholdView, size, income, student, over) -> None:
        prop, unit, hh = w.prop, w.unit, view.household
        tax = w.tax
        self._cert_rows(w, view)
        has_annual = False
        last_full = None  # latest move-in/annual certification: interims do not move the anniversary
        for c in view.certs:
            if c.kind != "interim":
                last_full = c
                if c.kind == "annual":
                    has_annual = True
        all_li = self._all_low_income(prop)
        agency = self._agency(prop)
        req_key = (w.program_names, all_li, has_annual, id(agency))
        req = self._requirement_cache.get(req_key)
        if req is None:
            req = self._requirement_cache[req_key] = certs_mod.recertification_requirement(
                list(w.program_names), agency, all_li, has_annual)
        due = certs_mod.add_years(last_full.effective_date if last_full else hh.move_in_date)
        bucket = certs_mod.due_bucket(due, self.as_of, self._buckets)
        if req.required and bucket == "overdue":
            program = req.program or (tax.program if tax else "lihtc")
            self._observe("RECERT_OVERDUE", program, prop, unit=unit, household_id=hh.household_id,
                          occurred_on=due + timedelta(days=1),
                          detail=f"annual recertification due {due}; none effective by {self.as_of}",
                          discriminator=due.isoformat())
        latest = view.latest
        self.household_rows.append(HouseholdStatus(
            prop.org_id, prop.property_id, unit.unit_id, hh.household_id, hh.move_in_date, size, income,
            latest.certification_id if latest else None, latest.kind if latest else None,
            latest.effective_date if latest else None, last_full.effective_date if last_full else None,
            due, (due - self.as_of).days, bucket, req.required, req.program, req.reason, student or "", over,
        ))

    def _all_low_income(self, prop: Property) -> bool:
        """Every residential unit of the project carries a LIHTC or bond layer (100 % low-income project)."""
        key = ("all-li", prop.property_id)
        if key not in self._limit_cache:
            residential = [u for u in self.units_by_property[prop.property_id] if not u.employee_unit]
            self._limit_cache[key] = bool(residential) and all(
                u.layer("lihtc") is not None or u.layer("bond") is not None for u in residential
            )
        return self._limit_cache[key]

    def _cert_rows(self, w: _UnitWork, view: _HouseholdView) -> None:
        """One row per certification of the current household: income by TIC column, the primary program's
        limit at the certification date, qualification, and the 140 % test for recertifications."""
        prop, unit = w.prop, w.unit
        layer = w.tax_layer or (unit.programs[0] if unit.programs else None)
        check_over = w.tax_ctx is not None
        org_id, property_id, unit_id = prop.org_id, prop.property_id, unit.unit_id
        household_id = view.household.household_id
        limit_of, over_of, append = self._layer_income_limit, self._over, self.cert_rows.append
        spec = self._layer_spec_cache.get((id(w), id(layer), False)) if layer is not None else None
        shared = self._limit_value_cache
        for f in self._analyse(w, view):
            cert = f.cert
            if layer is None:
                limit = None
            else:
                limit = shared.get((id(spec), f.size, cert.effective_date), _MISSING) if spec else _MISSING
                if limit is _MISSING:
                    limit = limit_of(w, layer, f.size, cert.effective_date)
                    spec = self._layer_spec_cache.get((id(w), id(layer), False))
            if check_over and cert.kind in RECERT_KINDS:
                over = f.over
                if over is None:
                    over = over_of(w, f)
                threshold = f.threshold
            else:
                over = threshold = None
            d = f.detail  # HouseholdTotals: (A, B, C, D, net assets, actual, imputed, counted asset income, …)
            if d is not None:
                employment, benefits, assistance, other, nfa, _, imputed, asset, _, _ = d
            else:
                employment = benefits = assistance = other = nfa = imputed = asset = None
            append(CertificationStatus(
                org_id, property_id, unit_id, household_id, cert.certification_id, cert.kind,
                cert.effective_date, cert.signed_date, f.size, f.income, f.whole,
                employment, benefits, assistance, other, asset, nfa, imputed, f.ruleset.key,
                limit[2] if limit else None, limit[0] if limit else None, limit[1] if limit else None,
                f.whole <= limit[1] if limit else None, threshold, over,
            ))

    # -- assisted households ----------------------------------------------------------------------------------
    def _assisted(self, w: _UnitWork, view: _HouseholdView, ua: Decimal) -> None:
        prop, unit, hh = w.prop, w.unit, view.household
        cert = view.latest
        if cert is None:
            return
        s8_layer = w.layers.get("section8")
        if s8_layer is not None or hh.rental_assistance == "section8":
            self._section8(w, view, cert, ua)
        if "usda515" in w.layers:
            self._usda(w, view, cert, ua)

    def _adjusted(self, w: _UnitWork, view: _HouseholdView, program: str) -> tuple[Decimal, Decimal | None, Ruleset]:
        """Annual and HUD adjusted income of the latest certification (§2.4, §8.4) under the ruleset of the
        program's agency — for a voucher the PHA's, which may not have adopted HOTMA when the tax-credit
        agency has. Adjusted income is None (and a data issue) when the family's HOTMA medical phase-in
        matters but cannot be told from its certifications."""
        prop, cert, hh = w.prop, view.latest, view.household
        agency = self._agency(prop, program)
        facts = self._analyse(w, view)[-1] if agency is self._agency(prop) else self._new_facts(agency, cert)
        income, rs = facts.income, facts.ruleset
        family = section8.family_facts(cert.members, cert.effective_date)
        expenses = dict(elderly_or_disabled_family=family.elderly_or_disabled_family,
                        medical_expenses=cert.medical_expenses,
                        disability_assistance_expenses=cert.disability_assistance_expenses,
                        disability_enabled_earnings=cert.disability_enabled_earnings)
        threshold = None
        if rs.hotma and section8.allowable_medical_expenses(**expenses) > 0:
            start, known = self._medical_phase_in(w, view, agency)
            if not known and section8.medical_deduction(income, MEDICAL_PHASE_IN_PCT[0], **expenses) > 0:
                self._issue("household", hh.household_id, prop.property_id,
                            f"{program}: HOTMA medical-expense phase-in unknown — no certification before the agency's "
                            f"HOTMA date ({hotma_start(agency.hotma_adoption_date)}) on record to show whether the family "
                            "was receiving the medical deduction then; adjusted income not computed")
                self._undetermined(program, prop.property_id, w.unit.unit_id)
                return income, None, rs
            threshold = medical_threshold_pct(rs, cert.effective_date, start)
        adjusted = section8.adjusted_income(
            income, ruleset=rs, dependents=family.dependents, child_care_expenses=cert.child_care_expenses,
            child_care_enabled_earnings=cert.child_care_enabled_earnings, medical_threshold_pct=threshold, **expenses)
        return income, adjusted, rs

    def _medical_phase_in(self, w: _UnitWork, view: _HouseholdView, agency) -> tuple[date | None, bool]:
        """(start of the family's HOTMA medical phase-in or None, whether that is known) (§2.4, [I]).

        A family that was receiving the medical deduction on its last certification before its agency moved
        to HOTMA gets phased relief from its first certification under HOTMA. Known from the household's
        certifications: its last pre-HOTMA one shows whether it received the deduction (under that
        certification's own ruleset); a household that moved in under HOTMA never had it. Unknown when the
        household moved in earlier but no pre-HOTMA certification is on record."""
        start = hotma_start(agency.hotma_adoption_date)
        before = [c for c in view.certs if c.effective_date < start]
        if not before:
            return None, view.household.move_in_date >= start
        last = before[-1]
        facts = self._new_facts(agency, last)
        family = section8.family_facts(last.members, last.effective_date)
        received = section8.medical_deduction(
            facts.income, facts.ruleset.medical_threshold_pct, elderly_or_disabled_family=family.elderly_or_disabled_family,
            medical_expenses=last.medical_expenses, disability_assistance_expenses=last.disability_assistance_expenses,
            disability_enabled_earnings=last.disability_enabled_earnings) > 0
        if not received:
            return None, True
        return next(c.effective_date for c in view.certs if c.effective_date >= start), True

    def _section8(self, w: _UnitWork, view: _HouseholdView, cert: Certification, ua: Decimal) -> None:
        prop, unit, hh = w.prop, w.unit, view.household
        election = prop.program("section8")
        kind = election.section8_kind if (election and "section8" in w.layers) else "hcv"
        income, adjusted, rs = self._adjusted(w, view, "section8")
        minimum = election.minimum_rent if election else ZERO
        common = dict(org_id=prop.org_id, property_id=prop.property_id, unit_id=unit.unit_id,
                      household_id=hh.household_id, program="section8", kind=kind, annual_income=income,
                      adjusted_income=adjusted, ruleset=rs.key, utility_allowance=ua)
        if adjusted is None:
            self.assisted_rows.append(AssistedHouseholdStatus(**common))
            return
        ttp = common["ttp"] = section8.total_tenant_payment(income, adjusted, minimum, cert.welfare_rent)
        rf = self.rent.get(unit.unit_id)
        contract = None
        if rf is not None:
            contract = rf.contract_rent if rf.contract_rent is not None else rf.tenant_rent + rf.assistance_payment
        if contract is None:
            self._issue("household", hh.household_id, prop.property_id, "Section 8: no contract rent for the month")
            self._undetermined("section8", prop.property_id, unit.unit_id)
            self.assisted_rows.append(AssistedHouseholdStatus(**common))
            return
        gross = contract + ua
        if kind in ("pbra", "pbv"):
            pb = section8.project_based_rent(contract, ua, ttp)
            self.assisted_rows.append(AssistedHouseholdStatus(
                **common, gross_rent=gross, hap=pb.assistance_payment, family_share=Decimal(ttp),
                tenant_rent=pb.tenant_rent, utility_reimbursement=pb.utility_reimbursement))
            return
        ps, source = (rf.payment_standard, "pha") if rf.payment_standard is not None else (None, None)
        if ps is None:
            fmr = self._lookup(self.provider.fair_market_rents, prop.area, self.as_of, prop.zip_code, prop.small_area_fmr)
            if isinstance(fmr, LimitUnavailable):
                self._issue("property", prop.property_id, prop.property_id, str(fmr))
            elif fmr is not None:
                try:
                    ps, source = fmr.rent(unit.bedrooms), f"{fmr.kind}-100%"
                except LimitUnavailable:
                    ps = None
        if ps is None:
            self._issue("household", hh.household_id, prop.property_id, "Section 8: no payment standard or FMR")
            self._undetermined("section8", prop.property_id, unit.unit_id)
            self.assisted_rows.append(AssistedHouseholdStatus(**common, gross_rent=gross))
            return
        assistance = section8.hap(ps, gross, ttp)
        share = section8.family_share(gross, assistance)
        tr = section8.tenant_rent_to_owner(share, ua)
        self.assisted_rows.append(AssistedHouseholdStatus(
            **common, payment_standard=ps, payment_standard_source=source, gross_rent=gross, hap=assistance,
            family_share=share, tenant_rent=tr.tenant_rent, utility_reimbursement=tr.utility_reimbursement))

    def _usda(self, w: _UnitWork, view: _HouseholdView, cert: Certification, ua: Decimal) -> None:
        prop, unit, hh = w.prop, w.unit, view.household
        rf = self.rent.get(unit.unit_id)
        income, adjusted, rs = self._adjusted(w, view, "usda515")
        common = dict(org_id=prop.org_id, property_id=prop.property_id, unit_id=unit.unit_id,
                      household_id=hh.household_id, program="usda515", kind="ra" if hh.rental_assistance == "usda-ra" else "no-ra",
                      annual_income=income, adjusted_income=adjusted, ruleset=rs.key, utility_allowance=ua)
        if adjusted is None:
            self.assisted_rows.append(AssistedHouseholdStatus(**common))
            return
        if rf is None or rf.basic_rent is None or rf.note_rent is None:
            self._issue("household", hh.household_id, prop.property_id, "RD 515: no basic/note rent for the month")
            self._undetermined("usda515", prop.property_id, unit.unit_id)
            self.assisted_rows.append(AssistedHouseholdStatus(**common))
            return
        tc = usda515.tenant_contribution(adjusted, income, rf.basic_rent, rf.note_rent, ua,
                                         hh.rental_assistance == "usda-ra")
        self.assisted_rows.append(AssistedHouseholdStatus(
            **common, basic_rent=rf.basic_rent, note_rent=rf.note_rent,
            gross_tenant_contribution=tc.gross_tenant_contribution, net_tenant_contribution=tc.net_tenant_contribution,
            utility_reimbursement=tc.utility_reimbursement, overage=tc.overage, rental_assistance=tc.rental_assistance,
            contribution_basis=tc.basis))

    # -- step 4: program tests -----------------------------------------------------------------------------
    def _program_tests(self, prop: Property) -> None:
        units = self.units_by_property.get(prop.property_id, [])
        residential = [u for u in units if not u.employee_unit]
        if prop.program("lihtc"):
            self._lihtc_tests(prop, residential)
        bond = prop.program("bond")
        if bond and bond.set_aside in BOND_ELECTIONS:
            self._bond_test(prop, bond, residential)
        if prop.program("home") or any("home" in self.work[u.unit_id].layers for u in residential):
            self._home_test(prop, residential)

    def _lihtc_tests(self, prop: Property, residential: list[Unit]) -> None:
        election = prop.program("lihtc")
        set_aside = election.set_aside
        program_units = [u for u in residential if "lihtc" in self.work[u.unit_id].layers]
        qualifying = [u for u in program_units if self.work[u.unit_id].low_income is True]
        undetermined = [u for u in program_units if self.work[u.unit_id].low_income is None]
        row: dict[str, Any] = {}
        counted = {u.unit_id for u in qualifying}
        possible = counted | {u.unit_id for u in undetermined}
        if set_aside is None:
            self._issue("property", prop.property_id, prop.property_id, "LIHTC program without a set-aside election")
            required = met = None
        elif set_aside == "income-averaging":
            designation_of = {u.unit_id: self.work[u.unit_id].designation for u in program_units}
            designations = [(uid, d) for uid, d in designation_of.items() if d is not None]
            test = income_averaging.average_test(d for _, d in designations)
            for uid, d in designations:
                if d not in income_averaging.VALID_DESIGNATIONS:
                    self._observe("IA_INVALID_DESIGNATION", "lihtc", prop, unit=self.work[uid].unit,
                                  detail=f"designation {d} % is not one of 20-80 % in 10-point steps", discriminator=str(d))
            valid = [d for _, d in designations if d in income_averaging.VALID_DESIGNATIONS]
            if valid and sum(valid) > income_averaging.MAX_AVERAGE * len(valid):
                avg = income_averaging.average_test(valid).average
                self._observe("IA_AVERAGE_ABOVE_60", "lihtc", prop,
                              detail=f"{len(valid)} designated units average {avg} % (> 60 %)")
            group = income_averaging.qualified_group(
                (u.unit_id, designation_of[u.unit_id]) for u in qualifying if designation_of[u.unit_id] is not None
            )
            group_possible = income_averaging.qualified_group(
                (u.unit_id, designation_of[u.unit_id]) for u in qualifying + undetermined
                if designation_of[u.unit_id] is not None
            )
            counted, possible = set(group.unit_ids), set(group_possible.unit_ids)
            required = lihtc.set_aside_required_units(len(residential), set_aside, election.nyc)
            met = self._tri(len(counted), len(possible), required)
            row.update(ia_average=test.average, ia_invalid_designations=",".join(map(str, test.invalid_designations)) or None,
                       ia_qualified_group_units=len(group.unit_ids), ia_qualified_group_average=group.average)
        else:
            required = lihtc.set_aside_required_units(len(residential), set_aside, election.nyc)
            met = self._tri(len(counted), len(possible), required)
        if met is None:
            self._undetermined("lihtc", prop.property_id)
            self._issue("property", prop.property_id, prop.property_id,
                        f"LIHTC set-aside undetermined: {len(counted)} units qualify, {len(possible) - len(counted)} "
                        f"undetermined (missing limits or rent facts), {required} required")
        if met is False:
            note = f" ({len(possible) - len(counted)} undetermined)" if len(possible) > len(counted) else ""
            self._observe("SET_ASIDE_NOT_MET", "lihtc", prop,
                          detail=f"{len(counted)} of {len(residential)} residential units qualify{note}; "
                                 f"{required} required ({set_aside})")
        building_ok = self._applicable_fractions(prop, residential, counted, possible)
        ia_ok = not row.get("ia_invalid_designations") and (row.get("ia_average") is None or row["ia_average"] <= 60)
        self.program_rows.append(ProgramStatus(
            org_id=prop.org_id, property_id=prop.property_id, building_id=None, bin=None, program="lihtc",
            election=set_aside, residential_units=len(residential), program_units=len(program_units),
            qualifying_units=len(counted), required_units=required, test_met=met,
            compliant=met is True and ia_ok and building_ok, **row,
        ))

    @staticmethod
    def _tri(known: int, possible: int, required: int) -> bool | None:
        """Met on proof, not met on proof, otherwise undetermined."""
        if known >= required:
            return True
        if possible < required:
            return False
        return None

    def _applicable_fractions(self, prop: Property, residential: list[Unit], counted: set[str], possible: set[str]) -> bool:
        """Each building's applicable fraction against its commitment (§1.8): below on proof is an 11e
        finding; below only if undetermined units fail is undetermined. True when every building is
        determined and not below."""
        by_building: dict[str, list[Unit]] = defaultdict(list)
        for u in residential:
            by_building[u.building_id].append(u)
        ok = True
        for building_id in sorted(by_building):
            units = by_building[building_id]
            building = self.buildings.get(building_id)
            li = [u for u in units if u.unit_id in counted]
            af = lihtc.applicable_fraction(
                len(li), len(units), sum((u.square_feet for u in li), ZERO), sum((u.square_feet for u in units), ZERO)
            )
            committed = building.committed_applicable_fraction if building else None
            below = committed is not None and af.applicable_fraction < committed
            determined = True
            if below and len(possible) > len(counted):
                pos = [u for u in units if u.unit_id in possible]
                upper = lihtc.applicable_fraction(len(pos), len(units), sum((u.square_feet for u in pos), ZERO),
                                                  sum((u.square_feet for u in units), ZERO))
                below = upper.applicable_fraction < committed  # only on proof
                determined = below
            if not determined:
                ok = False
                self._undetermined("lihtc", prop.property_id)
            if below:
                ok = False
                self._observe("APPLICABLE_FRACTION_BELOW_COMMITMENT", "lihtc", prop, building=building,
                              detail=f"applicable fraction {af.applicable_fraction} < {committed} "
                                     f"(units {af.unit_fraction}, floor space {af.floor_space_fraction})")
            self.program_rows.append(ProgramStatus(
                org_id=prop.org_id, property_id=prop.property_id, building_id=building_id,
                bin=building.bin if building else None, program="lihtc", election=prop.program("lihtc").set_aside,
                residential_units=len(units), program_units=sum(1 for u in units if "lihtc" in self.work[u.unit_id].layers),
                qualifying_units=len(li), required_units=None, test_met=None, unit_fraction=af.unit_fraction,
                floor_space_fraction=af.floor_space_fraction, applicable_fraction=af.applicable_fraction,
                committed_applicable_fraction=committed, compliant=determined and not below,
            ))
        return ok

    def _bond_test(self, prop: Property, election: ProgramElection, residential: list[Unit]) -> None:
        """The bond income-occupancy test and Form 8703 figures (§5, §7.7). An occupied unit whose move-in or
        current qualification needs limits that are missing is undetermined: it counts neither as
        qualifying nor as failing, and the test is met on proof, not met on proof, or undetermined."""
        qualified_now = continuing = new_over = new_unknown = 0
        undetermined = 0
        pct = lihtc.set_aside_income_pct(election.set_aside)
        for u in residential:
            w = self.work[u.unit_id]
            view = w.current
            if view is None or view.latest is None:
                continue
            hh = view.household
            ctx = self._ctx(prop, w.building, "bond")
            mi = view.move_in_cert
            qualified_mi: bool | None = False  # without a move-in certification: not qualified (on proof)
            if mi is not None:
                table = self._mtsp_for(ctx, mi.effective_date, w)
                if table is None:
                    qualified_mi = None
                else:
                    mf = self._move_in_facts(w, view)
                    qualified_mi = mf.whole <= table.limit(pct, mf.size)
            if hh.move_in_date.year == self.as_of.year:
                if qualified_mi is False:
                    new_over += 1
                elif qualified_mi is None:
                    new_unknown += 1
            if qualified_mi is False:
                continue
            table = self._mtsp_for(ctx, view.latest.effective_date, w)
            if qualified_mi is None or table is None:
                undetermined += 1
                self._undetermined("bond", prop.property_id, u.unit_id)
                continue
            lf = self._analyse(w, view)[-1]
            if lf.whole <= table.limit(pct, lf.size):
                qualified_now += 1
            elif not w.lost_status:
                continuing += 1
        figures = form_8703_figures(election.set_aside, len(residential), qualified_now, continuing, new_over,
                                    undetermined_units=undetermined, undetermined_new_residents=new_unknown)
        if figures.test_met is False:
            note = f" ({undetermined} undetermined)" if undetermined else ""
            self._observe("BOND_SET_ASIDE_NOT_MET", "bond", prop,
                          detail=f"{figures.line8_low_income_units} of {len(residential)} units qualify{note}; "
                                 f"{figures.required_units} required ({election.set_aside})")
        elif figures.test_met is None:
            self._undetermined("bond", prop.property_id)
            self._issue("property", prop.property_id, prop.property_id,
                        f"Bond set-aside undetermined: {figures.line8_low_income_units} units qualify, {undetermined} "
                        f"undetermined (missing limits), {figures.required_units} required ({election.set_aside})")
        self.program_rows.append(ProgramStatus(
            org_id=prop.org_id, property_id=prop.property_id, building_id=None, bin=None, program="bond",
            election=election.set_aside, residential_units=len(residential),
            program_units=sum(1 for u in residential if "bond" in self.work[u.unit_id].layers),
            qualifying_units=figures.line8_low_income_units,
            required_units=figures.required_units, test_met=figures.test_met,
            form_8703_line4_no_new_over_income=figures.line4_no_new_over_income_residents,
            form_8703_line6=figures.line6_income_qualified_units,
            form_8703_line7=figures.line7_continuing_residents_treated_qualified,
            form_8703_line8=figures.line8_low_income_units, form_8703_line9_pct=figures.line9_low_income_percentage,
            compliant=figures.test_met is True,
        ))

    def _home_test(self, prop: Property, residential: list[Unit]) -> None:
        """Low HOME occupancy (§3): ceil(20 %) of HOME units are Low HOME units occupied by very-low-income
        households. A Low HOME household whose move-in limits are missing is undetermined; the test is met on
        proof, not met on proof, or undetermined."""
        home_units = [u for u in residential if "home" in self.work[u.unit_id].layers]
        required = home_rules.low_home_units_required(len(home_units))
        low_ok = unknown = 0
        for u in home_units:
            layer = self.work[u.unit_id].layers["home"]
            w = self.work[u.unit_id]
            if layer.home_rent != "low" or w.current is None or w.current.move_in_cert is None:
                continue
            qualifies = self._qualifies(w, layer, w.current)
            if qualifies is True:
                low_ok += 1
            elif qualifies is None:
                unknown += 1
                self._undetermined("home", prop.property_id, u.unit_id)
        met = self._tri(low_ok, low_ok + unknown, required)
        if met is False:
            note = f" ({unknown} undetermined)" if unknown else ""
            self._observe("HOME_LOW_HOME_SHORTFALL", "home", prop,
                          detail=f"{low_ok} Low HOME units occupied by very-low-income households{note}; "
                                 f"{required} required of {len(home_units)} HOME units")
        elif met is None:
            self._undetermined("home", prop.property_id)
            self._issue("property", prop.property_id, prop.property_id,
                        f"Low HOME test undetermined: {low_ok} Low HOME units qualify, {unknown} undetermined "
                        f"(missing limits), {required} required of {len(home_units)} HOME units")
        self.program_rows.append(ProgramStatus(
            org_id=prop.org_id, property_id=prop.property_id, building_id=None, bin=None, program="home",
            election=None, residential_units=len(residential), program_units=len(home_units), qualifying_units=low_ok,
            required_units=required, test_met=met, low_home_required=required, compliant=met is True,
        ))

    # -- step 5: overall -----------------------------------------------------------------------------------
    def _overall(self, findings: list[Finding], units: list[UnitStatus]) -> list[OverallStatus]:
        orgs: dict[str, list[Property]] = defaultdict(list)
        for p in self.properties:
            orgs[p.org_id].append(p)
        rows = []
        for org_id in sorted(orgs):
            props = orgs[org_id]
            org_units = [u for u in units if u.org_id == org_id]
            org_findings = [f for f in findings if f.org_id == org_id]
            memberships = {u.unit_id: self._programs_of(u) for u in org_units}
            programs = sorted({e.program for p in props for e in p.programs} | set().union(*memberships.values()))
            for program in ["all", *programs]:
                rows.append(self._overall_row(org_id, program, props, org_units, org_findings, memberships))
        return rows

    def _programs_of(self, u: UnitStatus) -> set[str]:
        """The programs a unit counts in: its layers, and the program of its household's rental assistance
        (a voucher household in a tax-credit unit is a Section 8 household)."""
        programs = set(u.programs.split("+")) if u.programs else set()
        w = self.work.get(u.unit_id)
        if w is not None and w.current is not None:
            assistance = ASSISTANCE_PROGRAMS.get(w.current.household.rental_assistance or "")
            if assistance:
                programs.add(assistance)
        return programs

    def _overall_row(self, org_id, program, props, units, findings, memberships) -> OverallStatus:
        if program == "all":
            p_units, p_findings, p_props = units, findings, props
            undetermined: dict[str, set] = defaultdict(set)
            for by_property in self.undetermined.values():
                for pid, ids in by_property.items():
                    undetermined[pid] |= ids
        else:
            p_units = [u for u in units if program in memberships[u.unit_id]]
            p_findings = [f for f in findings if f.program == program]
            ids = {u.property_id for u in p_units} | {p.property_id for p in props if p.program(program)}
            p_props = [p for p in props if p.property_id in ids]
            undetermined = self.undetermined.get(program, {})
        open_f = [f for f in p_findings if f.status != "corrected"]
        by_line: dict[str, int] = defaultdict(int)
        for f in open_f:
            by_line[f.form_8823_line or f.code] += 1
        worst = sorted(open_f, key=lambda f: (f.severity, f.occurred_on or f.detected_on, f.key))[:5]
        und_props = [p.property_id for p in p_props if undetermined.get(p.property_id)]
        und_units = {uid for pid in und_props for uid in undetermined[pid] if uid is not None}
        status = "not compliant" if open_f else "undetermined" if und_props else "compliant"
        return OverallStatus(
            org_id=org_id, program=program, compliant=status == "compliant", status=status,
            undetermined_properties=len(und_props), undetermined_units=len(und_units), properties=len(p_props),
            units=len(p_units), low_income_units=sum(1 for u in p_units if u.low_income_unit is True),
            households=sum(1 for u in p_units if u.occupied),
            open_findings=len(open_f), past_due_findings=sum(1 for f in open_f if f.status == "past-due"),
            corrected_findings=sum(1 for f in p_findings if f.status == "corrected"),
            open_by_8823_line=", ".join(f"{k}: {v}" for k, v in sorted(by_line.items())),
            worst_findings="; ".join(f"{f.form_8823_line or f.program} {f.code} {self._finding_subject(f)}" for f in worst),
        )

    def _finding_subject(self, f: Finding) -> str:
        """Where a finding is, as Rent Manager names it: property name, and unit number or BIN."""
        prop = self.props.get(f.property_id)
        name = prop.name if prop is not None else f.property_id
        if f.unit_id:
            return f"{name} unit {self._unit_numbers.get(f.unit_id) or f.unit_id}"
        if f.building_id:
            return f"{name} building {f.bin or f.building_id}"
        return name


__all__ = [
    "AssistedHouseholdStatus",
    "CertificationStatus",
    "DataIssue",
    "HouseholdStatus",
    "OverallStatus",
    "PortfolioResult",
    "ProgramStatus",
    "UnitStatus",
    "compliance_answer",
    "evaluate_portfolio",
    "FORM_8823_LINES",
]
