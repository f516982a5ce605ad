"""The four products' views as typed models (dataclasses) — what the assets store, the CLI prints and a report
renders: :class:`StudentHousingView`, :class:`CommercialView`, :class:`HoaView`, :class:`AssetManagementView`.
`evaluate_*` run the rules over :mod:`inputs`. Pure: no database, no Dagster."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from .asset_management import Expiration, MonthMetrics, performance
from .commercial import CamReconciliation, reconcile
from .hoa import AccountDelinquency, BudgetCheck, account_delinquency, allocate, budget_check
from .hoa_governance import BoardSeat, ViolationStep, board_roster, violation_step
from .inputs import AssetInputs, CommercialInputs, HoaProperty, Issue, StudentInputs
from .percentage_rent import PercentageRent, percentage_rent
from .roommates import Match, match_roommates
from .student_housing import (
    BedStatus,
    GuarantorCoverage,
    PreleasePace,
    academic_year_of,
    bed_occupancy,
    classify_term,
    guarantor_coverage,
    installment_schedule,
    prelease_pace,
)
from .tenant_improvements import TiStatus, ti_status

ALLOCATION_TOLERANCE_CENTS = 12  # a year of monthly installments may differ from the annual share by 1 ¢ a month


@dataclass(frozen=True)
class StudentApplication:
    resident_id: str
    resident_name: str
    property_id: str
    university: str | None
    term: str | None
    term_start: date | None
    signed_on: date | None
    unit_type: str
    status: str


@dataclass(frozen=True)
class Installment:
    """One installment of a resident's term: the term's contract rent split into equal installments."""

    resident_id: str
    resident_name: str
    property_id: str
    term_start: date
    term_end: date
    contract_cents: int
    number: int
    due: date
    amount_cents: int


@dataclass(frozen=True)
class LihtcStudentFinding:
    """A compliance finding (all-full-time-student household in a LIHTC unit), shown, never re-decided."""

    finding_id: str
    property: str
    unit: str
    status: str
    detected_on: date | None
    detail: str


@dataclass
class StudentHousingView:
    as_of: date
    beds: list[BedStatus]
    pace: list[PreleasePace]
    guarantors: list[GuarantorCoverage]
    matches: list[Match]
    applications: list[StudentApplication]
    universities: dict[str, int]
    lihtc_findings: list[LihtcStudentFinding] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    property_names: dict[str, str] = field(default_factory=dict)
    installments: list[Installment] = field(default_factory=list)

    @property
    def beds_without_term(self) -> list[BedStatus]:
        return [b for b in self.beds if b.status == "occupied without a lease term"]


def evaluate_student_housing(inp: StudentInputs, as_of: date, lihtc_findings: list[LihtcStudentFinding] = (),
                             issues: list[Issue] = ()) -> StudentHousingView:
    beds = bed_occupancy(inp.units, inp.leases, as_of)
    pace = [prelease_pace(pid, n, [ls for ls in inp.leases if ls.property_id == pid], as_of)
            for pid, n in sorted(inp.beds_by_property.items())]
    live = [ls for ls in inp.leases if ls.status in ("Current", "Future", "Notice")]
    guar = [guarantor_coverage(ls, inp.guarantors.get(ls.resident_id, []), ls.resident_id in inp.prepaid)
            for ls in live]
    matches = match_roommates(inp.applicants, inp.policies)
    nxt = academic_year_of(as_of) + 1
    apps = []
    for ls in live:
        term = next(((s, e, sg) for s, e, sg in ls.terms if academic_year_of(s) == nxt), None) or \
            (ls.terms[-1] if ls.terms else None)
        apps.append(StudentApplication(ls.resident_id, ls.resident_name, ls.property_id, ls.university,
                                       classify_term(term[0], term[1]) if term else None, term[0] if term else None,
                                       term[2] if term else None, inp.unit_types.get(ls.resident_id, ""), ls.status))
    unis = Counter(a.university or "(not recorded)" for a in apps)
    schedule = []
    for ls in live:
        for start, end, _signed in ls.terms:
            if end < as_of:
                continue  # past terms: their ledger tells what was billed
            contract = inp.contracts.get((ls.resident_id, start))
            if not contract:
                continue
            cents, count = contract
            for k, (due, amount) in enumerate(installment_schedule(cents, count, start.replace(day=1)), start=1):
                schedule.append(Installment(ls.resident_id, ls.resident_name, ls.property_id, start, end, cents, k,
                                            due, amount))
    return StudentHousingView(as_of, beds, pace, guar, matches, apps, dict(unis.most_common()),
                              list(lihtc_findings), list(issues), inp.property_names, schedule)


@dataclass
class CommercialView:
    as_of: date
    year: int  # the CAM reconciliation year
    cam: list[CamReconciliation]
    percentage_rent: list[PercentageRent]
    ti: list[TiStatus]
    property_names: dict[str, str]
    no_denominator: list[str]
    issues: list[Issue] = field(default_factory=list)

    def cam_for(self, property_id: str) -> list[CamReconciliation]:
        """The origin document's "CAM charges for a property and year" view."""
        return [r for r in self.cam if r.property_id == property_id]


def evaluate_commercial(inp: CommercialInputs, as_of: date, year: int | None = None,
                        issues: list[Issue] = ()) -> CommercialView:
    year = year or as_of.year - 1  # the last complete calendar year
    cam = [reconcile(lease, inp.pools.get(lease.property_id, {}), year, est.get(year, 0))
           for lease, est in inp.leases if lease.areas[0].start <= date(year, 12, 31)
           and (lease.areas[0].end is None or lease.areas[0].end >= date(year, 1, 1))]
    pct = [percentage_rent(lease, start, end, reports, billed) for lease, start, end, reports, billed in inp.percentage]
    ti = [ti_status(t, as_of) for t in inp.ti]
    return CommercialView(as_of, year, sorted(cam, key=lambda r: (r.property_id, r.tenant_name)), pct, ti,
                          inp.property_names, inp.no_denominator, list(issues))


@dataclass(frozen=True)
class LotAssessment:
    """The origin document's "HOA assessments" view: one lot's assessments, the declaration's share of the budget
    and where the account stands."""

    property_id: str
    lot: str
    owner: str
    allocation: str | None
    monthly_regular_cents: int | None
    annual_share_cents: int | None  # the lot's share of the fiscal year's budget per the declaration
    allocation_difference_cents: int | None  # 12 × monthly − annual share (None: undetermined)
    special_this_year_cents: int
    balance_cents: int
    bucket: str


@dataclass
class HoaView:
    as_of: date
    assessments: list[LotAssessment]
    delinquency: list[AccountDelinquency]
    violations: list[ViolationStep]
    board: list[BoardSeat]
    budgets: list[BudgetCheck]
    property_names: dict[str, str]
    packs: dict[str, str | None]
    issues: list[Issue] = field(default_factory=list)


def evaluate_hoa(props: list[HoaProperty], as_of: date, issues: list[Issue] = ()) -> HoaView:
    issues = list(issues)
    assessments, delinquency, steps, board, budgets = [], [], [], [], []
    fy = as_of.year
    for p in props:
        owner_of = {lot: name for _r, name, lot, _i, _l in p.accounts}
        shares: dict[str, int] | None = None
        if p.allocation and fy in p.budgets:
            try:
                shares = allocate(p.budgets[fy], [(lot, sqft, pct) for _u, lot, sqft, pct in p.lots], p.allocation)
            except ValueError as exc:
                issues.append(Issue("hoa", "property", p.property_id, f"assessment allocation: {exc}"))
        accounts, specials = {}, {}
        for res, name, lot, items, lates in p.accounts:
            d = account_delinquency(res, name, p.property_id, lot, items, lates, as_of, p.pack)
            delinquency.append(d)
            accounts[lot] = d
            specials[lot] = sum(it.amount_cents for it in items if it.code == "SPEC" and it.due.year == fy)
        for uid, lot, _sqft, _pct in p.lots:
            monthly = p.monthly.get(uid)
            share = shares.get(lot) if shares else None
            diff = None if share is None or monthly is None else 12 * monthly - share
            d = accounts.get(lot)
            special = specials.get(lot, 0)
            assessments.append(LotAssessment(
                p.property_id, lot, owner_of.get(lot, ""), p.allocation, monthly, share, diff, special,
                d.balance_cents if d else 0,
                max((b for b, v in d.buckets.items() if v), key=_bucket_order, default="current") if d else "current"))
        if p.violations and p.cure_days is None:
            issues.append(Issue("hoa", "property", p.property_id, "no cure period in the policy (Violation Cure "
                                                                  "Days): cure deadlines fall on the notice date"))
        if p.pack is not None:
            for v in p.violations:
                steps.append(violation_step(v, as_of, p.pack, p.cure_days or 0, p.schedule, p.fines.get(v.code)))
        for body, members in p.boards:
            board.extend(board_roster(p.property_id, body, members, as_of))
        for year in (fy, fy + 1):
            if year in p.budgets:
                budgets.append(budget_check(p.property_id, year, p.budgets.get(year), p.budgets.get(year - 1),
                                            p.budgets.get(year), p.special_by_year.get(year, 0), p.pack))
    return HoaView(as_of, assessments, delinquency, steps, board, budgets, {p.property_id: p.name for p in props},
                   {p.property_id: p.pack.state if p.pack else None for p in props}, issues)


def _bucket_order(b: str) -> int:
    from .hoa import BUCKETS

    return BUCKETS.index(b)


@dataclass
class AssetManagementView:
    as_of: date
    months: list[MonthMetrics]
    expirations: list[Expiration]
    issues: list[Issue] = field(default_factory=list)

    def latest(self, group: str = "portfolio") -> MonthMetrics | None:
        rows = [m for m in self.months if m.group == group]
        return rows[-1] if rows else None


def evaluate_asset_management(inp: AssetInputs, as_of: date, months: int = 12,
                              issues: list[Issue] = ()) -> AssetManagementView:
    rows, exp = performance(inp.properties, inp.spaces, inp.tenancies, inp.charges, inp.allocations, inp.credits,
                            inp.work_orders, as_of, months)
    return AssetManagementView(as_of, rows, exp, list(issues))
