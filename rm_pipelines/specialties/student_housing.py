"""Student housing (compliance-rules.md §10): academic terms, by-the-bed occupancy and ledgers, the installment
schedule, pre-lease pace and guarantor coverage. Roommate matching is in :mod:`roommates`.

By-the-bed: every resident leases one bed (Rent Manager tenant UDF "Bed Space") and has a ledger of their own;
a roommate's default never moves to the others. The LIHTC full-time-student rule is decided by the compliance
engine only; the student views show its findings and never re-decide them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from .money import HALF_UP, round_fraction

TERM_START_MONTH_DAY = (8, 15)  # the academic year the portfolio leases: Aug 15 - Jul 31


def classify_term(start: date, end: date) -> str:
    """The kind of a lease term by its dates: "academic year" (10.5 months or more, starting Jul-Sep),
    "academic year (9-10 months)" (8-10.5 months starting Jul-Sep), "semester" (3-6 months starting
    Aug-Sep or Dec-Feb), "summer" (up to 4 months starting May-Jun), otherwise "other"."""
    days = (end - start).days + 1
    if start.month in (7, 8, 9):
        if days >= 320:
            return "academic year"
        if days >= 240:
            return "academic year (9-10 months)"
    if start.month in (5, 6) and days <= 125:
        return "summer"
    if start.month in (8, 9, 12, 1, 2) and 90 <= days <= 185:
        return "semester"
    return "other"


def academic_year_of(day: date) -> int:
    """The academic year (by its starting calendar year) a day falls in: Aug 15, Y … Aug 14, Y+1 → Y."""
    m, d = TERM_START_MONTH_DAY
    return day.year if (day.month, day.day) >= (m, d) else day.year - 1


def installment_schedule(contract_cents: int, count: int, first_due: date) -> list[tuple[date, int]]:
    """The term's contract rent split into `count` equal installments due on the 1st of consecutive months from
    `first_due` — "not monthly rent and not prorated". Rounding: each installment is the contract rent ÷ count
    rounded down to the cent; the cents left over are added to the first installment, so the schedule always
    adds up to the contract rent."""
    if count <= 0:
        raise ValueError("an installment schedule needs at least one installment")
    each = contract_cents // count
    out = []
    y, m = first_due.year, first_due.month
    for i in range(count):
        out.append((date(y, m, first_due.day if i == 0 else 1), each + (contract_cents - each * count if i == 0 else 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class BedLease:
    """One resident's lease of one bed (the facts by-the-bed views need)."""

    resident_id: str
    resident_name: str
    property_id: str
    unit_id: str
    unit_name: str
    bed: str | None  # "A".."D"; None = not assigned
    status: str  # Current | Future | Past …
    move_in: date | None
    move_out: date | None
    terms: tuple[tuple[date, date, date | None], ...]  # (start, end, signed)
    installment_cents: int | None  # the current monthly installment (RENT recurring charge)
    balance_cents: int  # charges − payments − credits on the resident's own ledger
    university: str | None = None


@dataclass(frozen=True)
class BedStatus:
    property_id: str
    unit_id: str
    unit_name: str
    bed: str
    resident_id: str | None
    resident_name: str | None
    term: str | None  # kind of the term covering the day
    term_start: date | None
    term_end: date | None
    installment_cents: int | None
    balance_cents: int | None
    status: str  # occupied | vacant | occupied without a lease term


def bed_occupancy(units: list[tuple[str, str, str, int]], leases: list[BedLease], as_of: date) -> list[BedStatus]:
    """Every bed of every student unit on `as_of` (units = property, unit id, unit name, beds): who occupies
    it (moved in, not moved out), under which term, the installment and the bed's own ledger balance. A
    resident in a bed without a lease term covering the day is flagged, not dropped."""
    by_bed: dict[tuple[str, str], BedLease] = {}
    for ls in leases:
        if ls.bed is None or ls.move_in is None or ls.move_in > as_of or (ls.move_out and ls.move_out < as_of):
            continue
        by_bed[(ls.unit_id, ls.bed)] = ls
    out = []
    for prop, uid, uname, beds in units:
        for i in range(beds):
            bed = "ABCDEFGH"[i]
            ls = by_bed.get((uid, bed))
            if ls is None:
                out.append(BedStatus(prop, uid, uname, bed, None, None, None, None, None, None, None, "vacant"))
                continue
            term = next(((s, e) for s, e, _sg in ls.terms if s <= as_of <= e), None)
            out.append(BedStatus(prop, uid, uname, bed, ls.resident_id, ls.resident_name,
                                 classify_term(*term) if term else None, term[0] if term else None,
                                 term[1] if term else None, ls.installment_cents, ls.balance_cents,
                                 "occupied" if term else "occupied without a lease term"))
    return out


@dataclass(frozen=True)
class PreleasePace:
    property_id: str
    term_year: int  # the academic year being leased (its starting calendar year)
    beds: int
    leased: int  # beds leased for that term, signed by the day
    prior_year_leased: int  # beds leased for the year before, signed by the same day a year earlier
    pct_leased: float
    prior_pct_leased: float
    change_beds: int


def prelease_pace(property_id: str, beds: int, leases: list[BedLease], as_of: date) -> PreleasePace:
    """Pre-lease pace for the next academic year against the prior year at the same date.

    Rule: leased = residents with a term starting in the next academic year signed on or before `as_of`;
    prior = terms starting in the year before, signed on or before the same day a year earlier (Feb 29 → Feb
    28). Percentages of the property's beds, rounded half up to 0.1 %."""
    nxt = academic_year_of(as_of) + 1
    try:
        last_year_day = as_of.replace(year=as_of.year - 1)
    except ValueError:
        last_year_day = as_of.replace(year=as_of.year - 1, day=28)

    def count(year: int, by: date) -> int:
        return sum(1 for ls in leases if any(academic_year_of(s) == year and s.year == year and sg is not None
                                             and sg <= by for s, _e, sg in ls.terms))

    now_n, prior_n = count(nxt, as_of), count(nxt - 1, last_year_day)

    def pct(n: int) -> float:
        return round_fraction(Fraction(n * 1000, beds), HALF_UP) / 10 if beds else 0.0

    return PreleasePace(property_id, nxt, beds, now_n, prior_n, pct(now_n), pct(prior_n), now_n - prior_n)


@dataclass(frozen=True)
class GuarantorCoverage:
    resident_id: str
    resident_name: str
    property_id: str
    unit_name: str
    bed: str | None
    installment_cents: int | None
    required_monthly_income_cents: int | None
    guarantors: int
    status: str  # covered | prepaid | insufficient | missing | undetermined
    reason: str


INCOME_MULTIPLE = 3


def guarantor_coverage(lease: BedLease, guarantor_incomes: list[int | None], prepaid: bool) -> GuarantorCoverage:
    """Whether a resident's lease is secured (§10).

    Rule: covered when a guarantor's gross monthly income (annual ÷ 12, exact) is at least 3 × the monthly
    installment — each guarantor is liable for the whole lease, so one must qualify alone; or when the term is
    prepaid (the alternative for international students). Insufficient when every guarantor's income is known
    and below; missing when there is none; undetermined when an income or the installment is unknown."""
    base = dict(resident_id=lease.resident_id, resident_name=lease.resident_name, property_id=lease.property_id,
                unit_name=lease.unit_name, bed=lease.bed, installment_cents=lease.installment_cents,
                guarantors=len(guarantor_incomes))
    if prepaid:
        return GuarantorCoverage(**base, required_monthly_income_cents=None, status="prepaid", reason="term prepaid")
    if lease.installment_cents is None:
        return GuarantorCoverage(**base, required_monthly_income_cents=None, status="undetermined",
                                 reason="no installment on record")
    need = INCOME_MULTIPLE * lease.installment_cents
    if not guarantor_incomes:
        return GuarantorCoverage(**base, required_monthly_income_cents=need, status="missing", reason="no guarantor")
    if any(Fraction(i, 12) >= need for i in guarantor_incomes if i is not None):
        return GuarantorCoverage(**base, required_monthly_income_cents=need, status="covered", reason="")
    if any(i is None for i in guarantor_incomes):
        return GuarantorCoverage(**base, required_monthly_income_cents=need, status="undetermined",
                                 reason="a guarantor's income is not on record")
    return GuarantorCoverage(**base, required_monthly_income_cents=need, status="insufficient",
                             reason=f"no guarantor earns {INCOME_MULTIPLE} × the installment a month")
