"""Plain, frozen inputs of the compliance evaluation (built later from EstateCore tables).

Nothing here computes; the rule modules do. Money is ``Decimal`` (monthly for rents and allowances, annual
or per-payment for incomes as stated on each field). Codes used across the engine:

- programs (:data:`PROGRAMS`): ``lihtc``, ``bond``, ``home``, ``section8``, ``usda515``, ``state``;
- set-aside elections: ``20-50``, ``40-60``, ``25-60`` (NYC), ``income-averaging`` (§1.1, §5);
- relationships (TIC Part II, §7.2): ``H`` head, ``S`` spouse, ``A`` adult co-tenant (co-head), ``O`` other
  family member, ``C`` child, ``F`` foster child/adult, ``L`` live-in caretaker, ``N`` none;
- certification kinds: ``move-in`` (also ``initial``), ``annual``, ``interim`` (§1.5);
- student exceptions (§1.6, TIC Part VII): ``tanf``, ``foster-care``, ``job-training``, ``single-parent``,
  ``married-joint-return``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Mapping

PROGRAMS = ("lihtc", "bond", "home", "section8", "usda515", "state")
SET_ASIDES = ("20-50", "40-60", "25-60", "income-averaging")
RELATIONSHIPS = ("H", "S", "A", "O", "C", "F", "L", "N")
CERT_KINDS = ("move-in", "initial", "annual", "interim")
STUDENT_EXCEPTIONS = ("tanf", "foster-care", "job-training", "single-parent", "married-joint-return")

ZERO = Decimal(0)


# -- property side ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgramElection:
    """One program on a property, with its elections (Form 8609 line 10c/10d, bond agreement, HOME
    written agreement, HAP contract, RD loan).

    - ``set_aside``: ``lihtc`` and ``bond`` only (§1.1, §5). ``nyc`` switches income averaging to 25 %.
    - ``deep_rent_skewed``: the 15-40 overlay; the over-income threshold becomes 170 % (§1.4).
    - ``agency``: key into :class:`ComplianceSettings.agencies` (state agency, PJ or PHA rules).
    - ``commitment_date``: HOME project commitment (HOME rent hold harmless, §3).
    - ``section8_kind``: ``hcv`` (tenant-based voucher), ``pbv`` or ``pbra`` (project-based).
    - ``minimum_rent``: PHA/owner minimum rent for the TTP, $0-$50 (§2.3).
    """

    program: str
    set_aside: str | None = None
    deep_rent_skewed: bool = False
    nyc: bool = False
    agency: str | None = None
    commitment_date: date | None = None
    section8_kind: str = "hcv"
    minimum_rent: Decimal = ZERO

    def __post_init__(self) -> None:
        if self.program not in PROGRAMS:
            raise ValueError(f"unknown program {self.program!r}; expected one of {PROGRAMS}")
        if self.set_aside is not None and self.set_aside not in SET_ASIDES:
            raise ValueError(f"unknown set-aside {self.set_aside!r}; expected one of {SET_ASIDES}")


@dataclass(frozen=True, slots=True)
class Building:
    """A building (one BIN for LIHTC).

    - ``placed_in_service``: starts MTSP hold harmless; HERA Special eligibility (≤ 2008-12-31).
    - ``allocation_date`` + ``gross_rent_floor_election`` (``allocation`` default or
      ``placed-in-service``): fix the gross rent floor (Rev. Proc. 94-57, §1.3). For bond deals pass the
      reservation/determination date as ``allocation_date``.
    - ``bond_financed``: tax-exempt-bond financed (no rural national non-metro floor, §1.2). ``None`` (the
      data says nothing): bond-financed whenever the property has a bond election
      (:func:`~rm_pipelines.compliance.limits.limit_context`).
    - ``committed_applicable_fraction``: the fraction the credit was claimed on (8609/8609-A); a lower
      computed fraction is reported as an 11e finding. ``None`` → no comparison.
    """

    building_id: str
    property_id: str
    bin: str | None = None
    placed_in_service: date | None = None
    allocation_date: date | None = None
    gross_rent_floor_election: str = "allocation"
    bond_financed: bool | None = None
    committed_applicable_fraction: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Property:
    """A project/property with its programs and buildings.

    ``area`` is the HUD area code (``hud_area_code``) or the 10-digit FIPS used to look up limits;
    ``zip_code`` + ``small_area_fmr`` select SAFMRs for vouchers (§2.2); ``rural`` = a Housing Act §520
    rural area (national non-metro floor, §1.2).
    """

    org_id: str
    property_id: str
    name: str
    area: str
    programs: tuple[ProgramElection, ...] = ()
    buildings: tuple[Building, ...] = ()
    rural: bool = False
    zip_code: str | None = None
    small_area_fmr: bool = False
    placed_in_service: date | None = None

    def program(self, name: str) -> ProgramElection | None:
        for p in self.programs:
            if p.program == name:
                return p
        return None


@dataclass(frozen=True, slots=True)
class UnitProgram:
    """One program layered on a unit.

    - ``income_pct``: the unit's income tier / designation (LIHTC: 50 or 60 under 20-50/40-60, the
      designated 20..80 under income averaging; state programs: any tier). Default: the set-aside's.
    - ``rent_pct``: rent tier when it differs from ``income_pct``.
    - ``home_rent``: ``high`` or ``low`` for HOME units; ``home_fixed`` fixed vs floating designation.
    - ``household_size_rule``: ``1.5-per-bedroom`` (§42(g)(2)) or ``bedrooms-plus-one`` (some state
      programs, §6) for the imputed size behind rent limits.
    """

    program: str
    income_pct: int | None = None
    rent_pct: int | None = None
    home_rent: str | None = None
    home_fixed: bool = True
    household_size_rule: str = "1.5-per-bedroom"

    def __post_init__(self) -> None:
        if self.program not in PROGRAMS:
            raise ValueError(f"unknown program {self.program!r}; expected one of {PROGRAMS}")
        if self.home_rent not in (None, "high", "low"):
            raise ValueError(f"home_rent must be 'high' or 'low', got {self.home_rent!r}")


@dataclass(frozen=True, slots=True)
class Unit:
    """A residential unit with its program layers.

    ``utility_allowance`` is the monthly UA for tenant-paid utilities; ``utility_allowance_history`` holds
    dated changes ``(change_date, amount)`` — a changed UA applies to rents due 90 days after the change
    (§1.3). ``employee_unit`` (manager/employee) units are excluded from residential counts (§1.8).
    """

    unit_id: str
    property_id: str
    building_id: str
    bedrooms: int
    square_feet: Decimal = ZERO
    programs: tuple[UnitProgram, ...] = ()
    utility_allowance: Decimal = ZERO
    utility_allowance_history: tuple[tuple[date, Decimal], ...] = ()
    employee_unit: bool = False
    unit_number: str = ""

    def layer(self, program: str) -> UnitProgram | None:
        for p in self.programs:
            if p.program == program:
                return p
        return None

    @property
    def designation(self) -> int | None:
        """The LIHTC income designation (% of AMI), if the unit has a LIHTC layer with one."""
        layer = self.layer("lihtc")
        return layer.income_pct if layer else None


# -- household side -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncomeSource:
    """One income source of a member, as stated (§8.1).

    ``kind``: earned — ``wages``, ``self-employment`` (net); unearned — ``social-security``, ``pension``,
    ``retirement-distribution``, ``public-assistance``, ``unemployment``, ``child-support``, ``alimony``,
    ``other``; excluded by §5.609(b) — ``foster-care``, ``kinship-care``, ``insurance-settlement``,
    ``nonrecurring``; partly excluded — ``adoption-assistance`` (above the dependent deduction).
    ``frequency``: ``weekly`` ×52, ``biweekly`` ×26, ``semimonthly`` ×24, ``monthly`` ×12, ``annual``,
    ``hourly`` (× ``hours_per_week`` × 52).
    """

    kind: str
    amount: Decimal
    frequency: str = "annual"
    hours_per_week: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """One asset (§8.3). ``annual_income`` is its actual annual return, ``None`` when it cannot be
    calculated (e.g. non-rental real estate, collectibles: HOTMA imputes only on these). ``kind`` values
    excluded from net family assets: ``retirement``, ``necessary-personal-property``,
    ``unsellable-real-property``, ``fss-escrow``, ``irrevocable-trust``, ``tax-refund``."""

    kind: str
    cash_value: Decimal
    annual_income: Decimal | None = ZERO


@dataclass(frozen=True, slots=True)
class Member:
    """A household member as certified (TIC Part II, §7.2)."""

    member_id: str
    relationship: str
    birth_date: date | None = None
    disabled: bool = False
    full_time_student: bool = False
    student_exception: str | None = None
    incomes: tuple[IncomeSource, ...] = ()
    assets: tuple[Asset, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class Certification:
    """A tenant income certification (move-in, annual or interim; §1.5, §7.2).

    Income is computed from ``members`` (§8). ``reported_income`` is the TIC's total when members carry no
    income detail. ``signed_date`` > move-in date means the TIC was not completed before move-in (11a).
    ``medical_expenses``, ``child_care_expenses``, ``disability_assistance_expenses`` (annual) feed the
    HUD adjusted income (§2.4); ``welfare_rent`` (monthly) the TTP in as-paid states;
    ``student_exception`` is the household-level answer to TIC Part VII.
    """

    certification_id: str
    kind: str
    effective_date: date
    members: tuple[Member, ...] = ()
    signed_date: date | None = None
    reported_income: Decimal | None = None
    medical_expenses: Decimal = ZERO
    child_care_expenses: Decimal = ZERO
    child_care_enabled_earnings: Decimal | None = None
    disability_assistance_expenses: Decimal = ZERO
    disability_enabled_earnings: Decimal | None = None
    welfare_rent: Decimal | None = None
    student_exception: str | None = None
    household_size: int | None = None
    """Size stated on the TIC; used only when ``members`` is empty."""

    def __post_init__(self) -> None:
        if self.kind not in CERT_KINDS:
            raise ValueError(f"unknown certification kind {self.kind!r}; expected one of {CERT_KINDS}")

    @property
    def is_move_in(self) -> bool:
        return self.kind in ("move-in", "initial")


@dataclass(frozen=True, slots=True)
class Household:
    """A tenancy of one unit: move-in/out dates and its certifications (any order).

    ``rental_assistance``: ``section8`` (voucher or project-based), ``usda-ra`` (RD Rental Assistance) or
    ``None``.
    """

    household_id: str
    unit_id: str
    property_id: str
    move_in_date: date
    move_out_date: date | None = None
    certifications: tuple[Certification, ...] = ()
    rental_assistance: str | None = None

    def occupies(self, on: date) -> bool:
        return self.move_in_date <= on and (self.move_out_date is None or self.move_out_date > on)


@dataclass(frozen=True, slots=True)
class RentFacts:
    """What a unit's household is charged for one month (first of month).

    - ``tenant_rent``: rent paid by the tenant (excluding any subsidy);
    - ``mandatory_fees``: non-optional charges (count in gross rent, §1.3);
    - ``assistance_payment``: HAP/RA paid for the household (never in gross rent);
    - ``contract_rent``: rent to owner under a HAP contract/voucher lease (Section 8);
    - ``payment_standard``: the PHA payment standard for the family (else FMR/SAFMR at 100 %);
    - ``basic_rent``, ``note_rent``: RD Section 515 shelter rents;
    - ``usda_overage``: overage remitted to RD (excluded from LIHTC gross rent, §1.3).
    """

    unit_id: str
    month: date
    tenant_rent: Decimal
    mandatory_fees: Decimal = ZERO
    assistance_payment: Decimal = ZERO
    household_id: str | None = None
    contract_rent: Decimal | None = None
    payment_standard: Decimal | None = None
    basic_rent: Decimal | None = None
    note_rent: Decimal | None = None
    usda_overage: Decimal | None = None


# -- settings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgencySettings:
    """Per-agency rules (state agency, participating jurisdiction or PHA), §1.5, §8.3, §8.4, §14 item 7.

    - ``hotma_adoption_date``: from this date the agency uses HOTMA amounts (§8.4); ``None`` → pre-HOTMA.
    - ``waive_recert_for_100pct``: apply the HERA 2008 exemption (no annual income recertification in
      projects whose every building is 100 % low-income, §1.5). Default ``False``: the conservative reading,
      since agencies commonly still require recertifications.
    - ``first_year_recert_required``: even with the waiver, the first annual recertification is required
      (common agency overlay, §1.5).
    - ``asset_self_cert_threshold``: assets at or below may be self-certified (Rev. Proc. 94-65 $5,000, or
      HOTMA-indexed amounts by agency choice, §8.3).
    """

    agency: str
    hotma_adoption_date: date | None = None
    waive_recert_for_100pct: bool = False
    first_year_recert_required: bool = True
    asset_self_cert_threshold: Decimal = Decimal(5000)


@dataclass(frozen=True)
class ComplianceSettings:
    """Org-level settings of the evaluation.

    ``agencies`` maps agency keys (``ProgramElection.agency``) to :class:`AgencySettings`; programs without
    an agency use ``default_agency``. Section 8 programs without an agency use ``section8_agency`` (HOTMA
    from 2027-01-01 per Notice PIH 2026-15). ``correction_days`` is the 8823 correction period (90 days,
    §7.6); ``recert_buckets`` the reminder windows (§2.5).
    """

    agencies: Mapping[str, AgencySettings] = field(default_factory=dict)
    default_agency: AgencySettings = AgencySettings(agency="default")
    section8_agency: AgencySettings = AgencySettings(agency="pha-default", hotma_adoption_date=date(2027, 1, 1))
    correction_days: int = 90
    recert_buckets: tuple[int, ...] = (120, 90, 60, 30)

    def agency(self, program: ProgramElection | None) -> AgencySettings:
        if program is not None and program.agency and program.agency in self.agencies:
            return self.agencies[program.agency]
        if program is not None and program.program == "section8":
            return self.section8_agency
        return self.default_agency
