"""Asset management: monthly performance per property, rolled up by owner, property type and portfolio.

Per property and month (figures at month end unless said): physical and economic occupancy, gross potential
rent, loss to lease, vacancy loss, concessions, delinquency and its aging, collections rate, NOI where expenses
are in the data, rent growth on new leases and renewals, work-order volume and time to close; and lease
expirations by month for the next 12 months. Money in integer cents; rates exact until published (half up).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from .hoa import BUCKETS, bucket
from .money import HALF_UP, frac, round_fraction


@dataclass(frozen=True)
class Space:
    """A rentable space: a unit, or a bed in by-the-bed student housing."""

    space_id: str
    property_id: str
    unit_id: str
    market: tuple[tuple[date, date | None, int], ...]  # (from, to, monthly cents) per space


@dataclass(frozen=True)
class Tenancy:
    space_id: str
    property_id: str
    resident_id: str
    move_in: date
    move_out: date | None
    rents: tuple[tuple[date, date | None, int], ...]  # contract rent items (rent, HAP) in force
    term_starts: tuple[date, ...] = ()  # starts of renewal terms after the first
    term_ends: tuple[date, ...] = ()


@dataclass(frozen=True)
class Charge:
    charge_id: str
    property_id: str
    day: date
    cents: int


@dataclass(frozen=True)
class PropertyInfo:
    property_id: str
    name: str
    kind: str
    owners: tuple[tuple[str, Decimal], ...] = ()  # (owner name, percentage)
    annual_expenses: dict[int, int] = field(default_factory=dict)  # year → operating expenses, where recorded


@dataclass(frozen=True)
class WorkOrder:
    property_id: str
    opened: date
    closed: date | None


@dataclass(frozen=True)
class Credit:
    property_id: str
    day: date
    cents: int
    concession: bool


@dataclass(frozen=True)
class MonthMetrics:
    group: str  # property id, or "owner:…", "type:…", "portfolio"
    label: str
    month: date
    spaces: int
    occupied: int
    physical_occupancy: Decimal | None
    gross_potential_rent_cents: int
    vacancy_loss_cents: int
    loss_to_lease_cents: int
    concessions_cents: int
    economic_occupancy: Decimal | None
    billed_cents: int
    collected_cents: int
    collections_rate: Decimal | None
    delinquent_cents: int
    delinquency_buckets: dict[str, int]
    expenses_cents: int | None
    noi_cents: int | None
    new_leases: int
    new_lease_rent_change: Decimal | None
    renewals: int
    renewal_rent_change: Decimal | None
    work_orders_opened: int
    work_orders_closed: int
    avg_days_to_close: Decimal | None


@dataclass(frozen=True)
class Expiration:
    property_id: str
    month: date
    leases: int
    monthly_rent_cents: int


def month_end(m: date) -> date:
    return (m.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def months_back(as_of: date, n: int) -> list[date]:
    first = as_of.replace(day=1)
    out = []
    y, m = first.year, first.month
    for _ in range(n):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _in_force(items: tuple[tuple[date, date | None, int], ...], day: date) -> int | None:
    hit = [c for f, t, c in items if f <= day and (t is None or t >= day)]
    return sum(hit) if hit else None


def _rate(num: int | Fraction, den: int) -> Decimal | None:
    """A ratio as a Decimal with 4 places (0.9512 = 95.12 %), half up; None without a denominator."""
    if not den:
        return None
    return Decimal(round_fraction(Fraction(num) * 10000 / den, HALF_UP)).scaleb(-4)


@dataclass
class _Acc:
    spaces: int = 0
    occupied: int = 0
    gpr: int = 0
    vacancy: int = 0
    ltl: int = 0
    concessions: int = 0
    billed: int = 0
    collected: int = 0
    delinquent: int = 0
    buckets: dict = field(default_factory=lambda: {b: 0 for b in BUCKETS})
    expenses: int | None = None
    has_expenses: bool = True
    new: int = 0
    new_before: int = 0
    new_after: int = 0
    ren: int = 0
    ren_before: int = 0
    ren_after: int = 0
    wo_open: int = 0
    wo_closed: int = 0
    close_days: int = 0

    def add(self, o: "_Acc", weight: Fraction = Fraction(1)) -> None:
        def w(x: int) -> int:
            return round_fraction(x * weight, HALF_UP)

        self.spaces += o.spaces
        self.occupied += o.occupied
        for k in ("gpr", "vacancy", "ltl", "concessions", "billed", "collected", "delinquent"):
            setattr(self, k, getattr(self, k) + w(getattr(o, k)))
        for b in BUCKETS:
            self.buckets[b] += w(o.buckets[b])
        if o.expenses is None:
            self.has_expenses = False
        elif self.has_expenses:
            self.expenses = (self.expenses or 0) + w(o.expenses)
        for k in ("new", "new_before", "new_after", "ren", "ren_before", "ren_after", "wo_open", "wo_closed",
                  "close_days"):
            setattr(self, k, getattr(self, k) + getattr(o, k))

    def metrics(self, group: str, label: str, month: date) -> MonthMetrics:
        expenses = self.expenses if self.has_expenses else None
        scheduled = self.gpr - self.vacancy - self.ltl - self.concessions
        noi = None if expenses is None else self.billed - expenses
        return MonthMetrics(
            group, label, month, self.spaces, self.occupied, _rate(self.occupied, self.spaces), self.gpr,
            self.vacancy, self.ltl, self.concessions, _rate(scheduled, self.gpr), self.billed, self.collected,
            _rate(self.collected, self.billed), self.delinquent, dict(self.buckets), expenses, noi, self.new,
            _rate(self.new_after - self.new_before, self.new_before), self.ren,
            _rate(self.ren_after - self.ren_before, self.ren_before), self.wo_open, self.wo_closed,
            None if not self.wo_closed else Decimal(round_fraction(Fraction(self.close_days * 10, self.wo_closed),
                                                                   HALF_UP)).scaleb(-1))


def performance(properties: list[PropertyInfo], spaces: list[Space], tenancies: list[Tenancy], charges: list[Charge],
                allocations: dict[str, list[tuple[date, int]]], credits: list[Credit], work_orders: list[WorkOrder],
                as_of: date, months: int = 12) -> tuple[list[MonthMetrics], list[Expiration]]:
    """Monthly metrics for the `months` months up to `as_of`'s month, per property and rolled up.

    Rules (per month, at month end): physical occupancy = occupied spaces ÷ spaces; gross potential rent =
    Σ market rent of every space; vacancy loss = market rent of vacant spaces; loss to lease = Σ (market −
    contract rent) of occupied spaces (negative = gain to lease); concessions = rent credits of the month other
    than move-out proration; economic occupancy = (GPR − vacancy loss − loss to lease − concessions) ÷ GPR;
    collections rate = the month's charges paid by month end ÷ the month's charges; delinquency = charges open
    at month end, aged by days past their date; NOI = charges billed − operating expenses (the year's recorded
    expenses ÷ 12, half up) where expenses are recorded, else none; rent change of new leases = their first
    contract rent vs the previous resident's last, of renewals = the new term's rent vs the rent the day
    before; work orders opened and closed in the month and the mean days to close. Owner roll-ups weight
    money by the ownership percentage (half up); counts are not weighted; rates are recomputed from the sums."""
    month_list = months_back(as_of, months)
    ends = [min(month_end(m), as_of) for m in month_list]
    idx = {(m.year, m.month): i for i, m in enumerate(month_list)}
    info = {p.property_id: p for p in properties}
    acc: dict[tuple[str, int], _Acc] = defaultdict(_Acc)
    by_space: dict[str, list[Tenancy]] = defaultdict(list)
    for t in tenancies:
        by_space[t.space_id].append(t)
    for ts in by_space.values():
        ts.sort(key=lambda t: t.move_in)
    for s in spaces:
        ts = by_space.get(s.space_id, [])
        for i, end in enumerate(ends):
            a = acc[(s.property_id, i)]
            a.spaces += 1
            market = _in_force(s.market, end) or 0
            a.gpr += market
            occ = next((t for t in ts if t.move_in <= end and (t.move_out is None or t.move_out >= end)), None)
            if occ is None:
                a.vacancy += market
                continue
            a.occupied += 1
            rent = _in_force(occ.rents, end)
            if rent is not None:
                a.ltl += market - rent
        for k, t in enumerate(ts):  # rent growth of new leases (vs the previous resident) and renewals
            i = idx.get((t.move_in.year, t.move_in.month))
            first = _in_force(t.rents, t.move_in)
            if i is not None and k and first is not None:
                prev = ts[k - 1]
                last = _in_force(prev.rents, prev.move_out or t.move_in - timedelta(days=1))
                if last:
                    a = acc[(s.property_id, i)]
                    a.new += 1
                    a.new_before += last
                    a.new_after += first
            for start in t.term_starts:
                i = idx.get((start.year, start.month))
                before, after = _in_force(t.rents, start - timedelta(days=1)), _in_force(t.rents, start)
                if i is not None and before and after:
                    a = acc[(s.property_id, i)]
                    a.ren += 1
                    a.ren_before += before
                    a.ren_after += after
    for c in charges:
        i = idx.get((c.day.year, c.day.month))
        allocs = allocations.get(c.charge_id, ())
        if i is not None:
            a = acc[(c.property_id, i)]
            a.billed += c.cents
            a.collected += sum(x for d, x in allocs if d <= ends[i])
        first = bisect.bisect_left(ends, c.day)
        for j in range(first, len(ends)):
            open_ = c.cents - sum(x for d, x in allocs if d <= ends[j])
            if open_ <= 0:
                break
            a = acc[(c.property_id, j)]
            a.delinquent += open_
            a.buckets[bucket((ends[j] - c.day).days)] += open_
    for cr in credits:
        i = idx.get((cr.day.year, cr.day.month))
        if i is not None and cr.concession:
            acc[(cr.property_id, i)].concessions += cr.cents
    for w in work_orders:
        i = idx.get((w.opened.year, w.opened.month))
        if i is not None:
            acc[(w.property_id, i)].wo_open += 1
        if w.closed is not None:
            j = idx.get((w.closed.year, w.closed.month))
            if j is not None:
                a = acc[(w.property_id, j)]
                a.wo_closed += 1
                a.close_days += max(0, (w.closed - w.opened).days)
    for (pid, i), a in acc.items():
        exp = info[pid].annual_expenses.get(month_list[i].year) if pid in info else None
        a.expenses = None if exp is None else round_fraction(Fraction(exp, 12), HALF_UP)
        a.has_expenses = exp is not None
    out: list[MonthMetrics] = []
    rollups: dict[tuple[str, str, int], _Acc] = defaultdict(lambda: _Acc(expenses=None))
    for (pid, i), a in sorted(acc.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        p = info.get(pid)
        out.append(a.metrics(pid, p.name if p else pid, month_list[i]))
        groups = [("portfolio", "Portfolio", Fraction(1)), (f"type:{p.kind if p else 'unknown'}",
                                                            p.kind if p else "unknown", Fraction(1))]
        for owner, pct in (p.owners if p else ()):
            groups.append((f"owner:{owner}", owner, frac(pct) / 100))
        for g, label, weight in groups:
            r = rollups[(g, label, i)]
            r.add(a, weight)
    for (g, label, i), r in sorted(rollups.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        out.append(r.metrics(g, label, month_list[i]))
    return out, lease_expirations(tenancies, as_of)


def lease_expirations(tenancies: list[Tenancy], as_of: date) -> list[Expiration]:
    """Current leases by the month their term ends, for 12 months from `as_of`'s month, per property: count and
    monthly contract rent. A resident with a notice to move out counts at its move-out."""
    start = as_of.replace(day=1)
    horizon = [start]
    for _ in range(11):
        horizon.append((horizon[-1].replace(day=28) + timedelta(days=4)).replace(day=1))
    idx = {(m.year, m.month): m for m in horizon}
    counts: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for t in tenancies:
        if t.move_in > as_of or (t.move_out is not None and t.move_out < as_of):
            continue
        ends = [e for e in t.term_ends if e >= as_of]
        end = t.move_out or (min(ends) if ends else None)
        if end is None:
            continue
        m = idx.get((end.year, end.month))
        if m is None:
            continue
        c = counts[(t.property_id, m)]
        c[0] += 1
        c[1] += _in_force(t.rents, as_of) or 0
    return [Expiration(pid, m, n, rent) for (pid, m), (n, rent) in sorted(counts.items())]
