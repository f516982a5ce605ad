"""EstateCore rows → the specialised rules' inputs (pure: rows in, dataclasses out; no database).

`tables` maps an EstateCore table name to its live rows of one org (dicts, sensitive values decrypted), as
`rm_pipelines.flows.specialties` reads them. What Rent Manager has no field for comes from user-defined fields,
by the names in :data:`UDF_NAMES` (the documented defaults; per-org names can be passed in). Ids are
"<location>:<Rent Manager id>". Problems in the data (a pool that does not parse, a lease without a unit …)
become :class:`Issue` rows and leave the figure undetermined; nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from . import asset_management as AM
from .commercial import CATEGORIES, AreaPeriod, CamLease, Cap, ExpenseLine, ExpensePool, occupied_rsf_days
from .hoa import PACKS, OpenItem, RulePack
from .hoa_governance import Violation, parse_meeting_schedule
from .money import opt_cents
from .percentage_rent import PercentageLease, SalesReport
from .roommates import Applicant, parse_preferences
from .student_housing import BedLease, academic_year_of
from .tenant_improvements import TiAllowance

UDF_NAMES: dict[str, str] = {
    "cam_pool": "CAM Expense Pool", "allocation": "Assessment Allocation", "hoa_budget": "HOA Budget",
    "rule_pack": "HOA Rule Pack", "meetings": "Board Meeting Schedule", "cure_days": "Violation Cure Days",
    "fines": "Fine Schedule", "gender_policy": "Roommate Gender Policy", "lease_type": "CAM Lease Type",
    "base_year": "CAM Base Year", "stop": "CAM Expense Stop", "gross_up": "CAM Gross-Up Percent",
    "denominator": "CAM Denominator", "floor": "CAM Denominator Floor Percent", "cap_type": "CAM Cap Type",
    "cap_base_year": "CAM Cap Base Year", "pct_rate": "Percentage Rent Rate",
    "pct_breakpoint": "Percentage Rent Breakpoint", "ti": "TI Allowance", "ti_drawn": "TI Drawn",
    "ti_months": "TI Amortization Months", "ti_rate": "TI Amortization Rate", "university": "University",
    "gender": "Housing Gender", "request": "Roommate Request", "budget": "Installment Budget",
    "prepaid": "Term Prepaid", "pct_interest": "Percentage Interest",
}
TABLES_READ = ("properties", "units", "unit_types", "residents", "household_members", "leases", "lease_terms",
               "charge_types", "charges", "payments", "payment_allocations", "credits", "recurring_charges",
               "market_rents", "work_orders", "owners", "ownerships", "hoa_violations", "hoa_boards",
               "hoa_board_members", "cam_setups", "retail_sales", "udf_values")
LEASE_TYPES = {"nnn": "nnn", "base year": "base_year", "expense stop": "expense_stop"}
CAP_TYPES = {"none": "none", "non-cumulative": "non_cumulative", "cumulative compounding": "cumulative_compounding",
             "cumulative simple": "cumulative_simple"}
ALLOCATIONS = {"equal": "equal", "percentage": "percentage", "square footage": "square_footage"}
COMMERCIAL_UNIT_TYPES = ("Office", "Retail")


@dataclass(frozen=True)
class Issue:
    domain: str
    entity: str
    entity_id: str
    message: str


def rid(row: Mapping[str, Any], col: str = "rm_id") -> str | None:
    v = row[col] if col in row else None
    return None if v is None else f"{row['location_id']}:{v}"


def _d(v: Any) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v)[:10])


def _dec(v: Any) -> Decimal | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        return Decimal(str(v).replace(",", "").replace("%", "").strip())
    except InvalidOperation:
        raise ValueError(f"{v!r} is not a number") from None


def _int(v: Any) -> int | None:
    d = _dec(v)
    return None if d is None else int(d)


def parse_pool(text: str) -> dict[int, dict[str, int]]:
    """"2025:CAM=100000.00,TAX=44000.00;2024:…" → {2025: {"CAM": 10000000, …}}; unknown categories refused."""
    out: dict[int, dict[str, int]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = re.fullmatch(r"(\d{4})\s*:\s*(.+)", part)
        if not m:
            raise ValueError(f"{part!r} is not 'YEAR:CATEGORY=AMOUNT,…'")
        lines: dict[str, int] = {}
        for item in m.group(2).split(","):
            cat, _, amount = item.partition("=")
            cat = cat.strip().upper()
            if cat not in CATEGORIES:
                raise ValueError(f"unknown expense category {cat!r} (known: {', '.join(CATEGORIES)})")
            lines[cat] = opt_cents(amount) or 0
        out[int(m.group(1))] = lines
    return out


def parse_amounts(text: str, sep: str = ",") -> dict[str, int]:
    """"TRASH=50.00,LAWN=75.00" → {"TRASH": 5000, …} (also "2026=27000.00;…" with sep=";")."""
    out = {}
    for item in filter(None, (p.strip() for p in text.split(sep))):
        key, _, amount = item.partition("=")
        if not _:
            raise ValueError(f"{item!r} is not 'KEY=AMOUNT'")
        out[key.strip().upper()] = opt_cents(amount) or 0
    return out


@dataclass
class Base:
    """Indexes shared by every domain."""

    tables: Mapping[str, Sequence[Mapping[str, Any]]]
    as_of: date
    names: Mapping[str, str]
    violation_codes: Mapping[str, str] = field(default_factory=dict)  # "<loc>:<ViolationCodeID>" → code
    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        t = self.tables
        self.props = {rid(p): p for p in t.get("properties", ())}
        self.units = {rid(u): u for u in t.get("units", ())}
        self.unit_types = {rid(u): u.get("name") or "" for u in t.get("unit_types", ())}
        self.residents = {rid(r): r for r in t.get("residents", ())}
        self.codes = {rid(c): (c.get("code") or "").upper() for c in t.get("charge_types", ())}
        self.cam_codes = {rid(c) for c in t.get("charge_types", ()) if c.get("is_cam")}
        self.udf: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        for v in t.get("udf_values", ()):
            key = f"{v.get('location_id')}:{int(v['parent_rm_id'])}"
            self.udf[(v.get("parent_type"), key)][v.get("name")] = v.get("value") or ""
        self.leases = list(t.get("leases", ()))
        self.lease_of: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self.leases_in: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for ls in self.leases:
            self.lease_of[rid(ls, "resident_rm_id")].append(ls)
            self.leases_in[rid(ls, "property_rm_id")].append(ls)
        self.terms: dict[str, list[tuple[date, date, date | None]]] = defaultdict(list)
        for lt in t.get("lease_terms", ()):
            s, e = _d(lt.get("start_date")), _d(lt.get("end_date"))
            if s and e:
                self.terms[rid(lt, "lease_rm_id")].append((s, e, _d(lt.get("sign_date"))))
        for v in self.terms.values():
            v.sort()
        self.rcs: dict[str, list[Mapping[str, Any]]] = defaultdict(list)  # by resident
        self.unit_rcs: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        self.prop_rcs: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for rc in t.get("recurring_charges", ()):
            kind = rc.get("entity_type")
            key = f"{rc.get('location_id')}:{int(rc['entity_key_rm_id'])}"
            (self.rcs if kind == "Tenant" else self.unit_rcs if kind == "Unit" else self.prop_rcs)[key].append(rc)
        self.charges_of: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for c in t.get("charges", ()):
            self.charges_of[rid(c, "resident_rm_id")].append(c)
        self.allocs: dict[str, list[tuple[date, int]]] = defaultdict(list)
        for a in t.get("payment_allocations", ()):
            if a.get("charge_rm_id") is not None:
                self.allocs[rid(a, "charge_rm_id")].append((_d(a.get("transaction_date")), opt_cents(a["amount"])))

    def u(self, parent_type: str, key: str | None, attr: str) -> str:
        return (self.udf.get((parent_type, key or ""), {}).get(self.names[attr]) or "").strip()

    def kind(self, pid: str | None) -> str:
        p = self.props.get(pid or "")
        return (p.get("property_kind") or "").lower() if p else ""

    def code(self, row: Mapping[str, Any]) -> str:
        return self.codes.get(rid(row, "charge_type_rm_id") or "", "")

    def issue(self, domain: str, entity: str, key: str | None, message: str) -> None:
        self.issues.append(Issue(domain, entity, key or "", message))

    def rc_amount(self, rows: Sequence[Mapping[str, Any]], codes: set[str], day: date) -> int | None:
        hit = [opt_cents(r["amount"]) for r in rows if self.code(r) in codes and _d(r.get("from_date")) is not None
               and _d(r["from_date"]) <= day and (_d(r.get("to_date")) is None or _d(r["to_date"]) >= day)]
        return sum(hit) if hit else None

    def rent_items(self, resident: str, codes: set[str] = frozenset({"RENT", "HAP"})) -> tuple:
        out = []
        for r in self.rcs.get(resident, ()):
            if self.code(r) in codes and _d(r.get("from_date")):
                out.append((_d(r["from_date"]), _d(r.get("to_date")), opt_cents(r["amount"])))
        return tuple(sorted(out, key=lambda x: (x[0], x[1] or date.max, x[2])))

    def current_lease(self, resident: str) -> Mapping[str, Any] | None:
        ls = self.lease_of.get(resident)
        return ls[-1] if ls else None


# -- commercial ---------------------------------------------------------------------------------------------


@dataclass
class CommercialInputs:
    pools: dict[str, dict[int, ExpensePool]]
    leases: list[tuple[CamLease, dict[int, int]]]  # with the estimates billed per year
    percentage: list[tuple[PercentageLease, date, date, list[SalesReport], int]]
    ti: list[TiAllowance]
    property_names: dict[str, str]
    no_denominator: list[str]  # properties whose CAM pool has no rentable area


def _months_in_force(rc: Mapping[str, Any], year: int, lease_in: date, lease_out: date | None) -> int:
    f, t = _d(rc.get("from_date")), _d(rc.get("to_date"))
    n = 0
    for m in range(1, 13):
        first = date(year, m, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        lo, hi = max(f or first, lease_in), min(t or last, lease_out or last)
        if lo <= last and hi >= first and lo <= hi:
            n += 1
    return n


def commercial_inputs(b: Base, years: Sequence[int]) -> CommercialInputs:
    comm_units: dict[str, list[str]] = defaultdict(list)
    for uid, u in b.units.items():
        tname = b.unit_types.get(rid(u, "unit_type_rm_id") or "", "")
        if any(x in tname for x in COMMERCIAL_UNIT_TYPES):
            comm_units[rid(u, "property_rm_id")].append(uid)
    comm_leases = [ls for ls in b.leases if ls.get("is_commercial")]
    for ls in comm_leases:
        pid, uid = rid(ls, "property_rm_id"), rid(ls, "unit_rm_id")
        if uid not in comm_units[pid]:
            comm_units[pid].append(uid)
    spans: dict[str, list[tuple[date, date | None, int]]] = defaultdict(list)
    for ls in comm_leases:
        u = b.units.get(rid(ls, "unit_rm_id"))
        if u and _d(ls.get("move_in_date")):
            spans[rid(ls, "property_rm_id")].append((_d(ls["move_in_date"]), _d(ls.get("move_out_date")),
                                                      int(u.get("square_footage") or 0)))
    pools: dict[str, dict[int, ExpensePool]] = {}
    no_denominator = []
    for pid, uids in comm_units.items():
        text = b.u("Property", pid, "cam_pool")
        if not text:
            continue
        try:
            parsed = parse_pool(text)
        except ValueError as exc:
            b.issue("commercial", "property", pid, f"{b.names['cam_pool']}: {exc}")
            continue
        rsf = sum(int(b.units[x].get("square_footage") or 0) for x in uids)
        if rsf <= 0:
            no_denominator.append(pid)
        pools[pid] = {y: ExpensePool(pid, y, tuple(ExpenseLine(k, v) for k, v in lines.items()), rsf,
                                     occupied_rsf_days(spans[pid], y)) for y, lines in parsed.items()}
    leases, pct, ti = [], [], []
    setups_of: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for c in b.tables.get("cam_setups", ()):
        setups_of[rid(c, "lease_rm_id")].append(c)
    sales_of: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for s in b.tables.get("retail_sales", ()):
        sales_of[rid(s, "lease_rm_id")].append(s)
    for ls in comm_leases:
        res = rid(ls, "resident_rm_id")
        r = b.residents.get(res, {})
        name = r.get("name") or res
        pid = rid(ls, "property_rm_id")
        unit = b.units.get(rid(ls, "unit_rm_id"), {})
        move_in, move_out = _d(ls.get("move_in_date")), _d(ls.get("move_out_date"))
        if move_in is None:
            b.issue("commercial", "lease", rid(ls), "commercial lease without a move-in date")
            continue
        setups = setups_of.get(rid(ls), ())
        cam = next((c for c in setups if b.code(c) == "CAM"), None)
        try:
            lt = b.u("Tenant", res, "lease_type").lower()
            if lt and pid in pools:
                cap_type = CAP_TYPES.get(b.u("Tenant", res, "cap_type").lower() or "none")
                cap_pct = _dec(cam.get("cap_percent")) if cam else None
                if cap_type is None:
                    raise ValueError(f"unknown cap type {b.u('Tenant', res, 'cap_type')!r}")
                cap = Cap(cap_type, cap_pct or Decimal(0), _int(b.u("Tenant", res, "cap_base_year")))
                lease = CamLease(
                    res, name, pid, LEASE_TYPES.get(lt, lt),
                    (AreaPeriod(move_in, move_out, int(unit.get("square_footage") or 0)),),
                    denominator="leased" if b.u("Tenant", res, "denominator").lower() == "leased" else "building",
                    denominator_floor_pct=_dec(b.u("Tenant", res, "floor")),
                    gross_up_pct=_dec(b.u("Tenant", res, "gross_up")), base_year=_int(b.u("Tenant", res, "base_year")),
                    expense_stop_cents=opt_cents(b.u("Tenant", res, "stop")), cap=cap,
                    admin_fee_pct=(_dec(cam.get("admin_fee_percent")) or Decimal(0))
                    if cam and cam.get("has_admin_fee") else Decimal(0))
                estimates = {y: sum((opt_cents(rc["amount"]) or 0) * _months_in_force(rc, y, move_in, move_out)
                                    for rc in b.rcs.get(res, ()) if rid(rc, "charge_type_rm_id") in b.cam_codes)
                             for y in years}
                leases.append((lease, estimates))
            rate = _dec(b.u("Tenant", res, "pct_rate"))
            if rate:
                # lease years: 12 calendar months from the commencement, or from the 1st of the month after it
                first = move_in if move_in.day == 1 else (move_in.replace(day=28) + timedelta(days=4)).replace(day=1)
                anniv = first.replace(year=b.as_of.year)
                if anniv > b.as_of:
                    anniv = anniv.replace(year=anniv.year - 1)
                start = anniv.replace(year=anniv.year - 1)
                end = anniv - timedelta(days=1)
                if start >= move_in and (move_out is None or move_out >= start):
                    base_rent = b.rc_amount(b.rcs.get(res, ()), {"RENT"}, end) or 0
                    reports = [SalesReport(_d(s["sales_month"]), opt_cents(s["gross_sales"]) or 0,
                                           opt_cents(s.get("excluded_sales")) or 0)
                               for s in sales_of.get(rid(ls), ())]
                    billed = sum(opt_cents(c["amount"]) or 0 for c in b.charges_of.get(res, ()) if b.code(c) == "PCT"
                                 and start <= (_d(c["transaction_date"]).replace(day=1) - timedelta(days=1)) <= end)
                    pct.append((PercentageLease(res, name, pid, rate, base_rent * 12,
                                                opt_cents(b.u("Tenant", res, "pct_breakpoint")), move_in, move_out),
                                start, end, reports, billed))
            granted = opt_cents(b.u("Tenant", res, "ti"))
            if granted is not None:
                ti.append(TiAllowance(res, name, pid, granted, opt_cents(b.u("Tenant", res, "ti_drawn")) or 0, move_in,
                                      _int(b.u("Tenant", res, "ti_months")),
                                      _dec(b.u("Tenant", res, "ti_rate")) or Decimal(0)))
        except ValueError as exc:
            b.issue("commercial", "resident", res, str(exc))
    names = {pid: (b.props[pid].get("name") or pid) for pid in pools if pid in b.props}
    return CommercialInputs(pools, leases, pct, ti, names, no_denominator)


# -- HOA --------------------------------------------------------------------------------------------------


@dataclass
class HoaProperty:
    property_id: str
    name: str
    pack: RulePack | None
    allocation: str | None
    budgets: dict[int, int]
    lots: list[tuple[str, str, int | None, Decimal | None]]  # (unit id, lot name, sqft, % interest)
    monthly: dict[str, int | None]  # lot → regular monthly assessment in force
    accounts: list[tuple[str, str, str, list[OpenItem], list[tuple[date, int]]]]  # (resident, name, lot, items, lates)
    special_by_year: dict[int, int]
    violations: list[Violation]
    cure_days: int | None
    schedule: tuple[int, int] | None
    fines: dict[str, int]
    boards: list[tuple[str, list[tuple[str, str, date | None, date | None]]]]


def _items(b: Base, resident: str, as_of: date) -> tuple[list[OpenItem], list[tuple[date, int]]]:
    items, lates = [], []
    for c in b.charges_of.get(resident, ()):
        day = _d(c["transaction_date"])
        if day is None or day > as_of:
            continue
        cents = opt_cents(c["amount"]) or 0
        code = b.code(c)
        if code == "LATE":
            lates.append((day, cents))
        paid, paid_on = 0, None
        for d, x in sorted(b.allocs.get(rid(c), ())):
            if d is not None and d <= as_of:
                paid += x
                if paid >= cents:
                    paid_on = d
                    break
        items.append(OpenItem(rid(c), code, day, cents if paid_on else cents - paid, paid_on, cents))
    return items, lates


def hoa_inputs(b: Base) -> list[HoaProperty]:
    out = []
    by_prop: dict[str, list[str]] = defaultdict(list)
    for uid, u in b.units.items():
        by_prop[rid(u, "property_rm_id")].append(uid)
    boards_by_prop: dict[str, list] = defaultdict(list)
    members: dict[str, list] = defaultdict(list)
    for m in b.tables.get("hoa_board_members", ()):
        r = b.residents.get(rid(m, "resident_rm_id") or "", {})
        members[rid(m, "board_rm_id")].append((r.get("name") or "", m.get("position") or "",
                                               _d(m.get("start_date")), _d(m.get("end_date"))))
    for bd in b.tables.get("hoa_boards", ()):
        boards_by_prop[rid(bd, "property_rm_id")].append((bd.get("name") or "", members.get(rid(bd), [])))
    viols: dict[str, list] = defaultdict(list)
    for v in b.tables.get("hoa_violations", ()):
        viols[rid(v, "property_rm_id")].append(v)
    for pid, p in b.props.items():
        if b.kind(pid) != "hoa":
            continue
        pack_code = b.u("Property", pid, "rule_pack").upper() or (p.get("state") or "").upper()
        pack = PACKS.get(pack_code)
        alloc_text = b.u("Property", pid, "allocation").lower()
        allocation = ALLOCATIONS.get(alloc_text) if alloc_text else None
        if alloc_text and allocation is None:
            b.issue("hoa", "property", pid, f"unknown assessment allocation {alloc_text!r}")
        budgets, fines, schedule = {}, {}, None
        try:
            budgets = {int(k): v for k, v in parse_amounts(b.u("Property", pid, "hoa_budget"), ";").items()}
        except ValueError as exc:
            b.issue("hoa", "property", pid, f"{b.names['hoa_budget']}: {exc}")
        try:
            fines = parse_amounts(b.u("Property", pid, "fines"))
        except ValueError as exc:
            b.issue("hoa", "property", pid, f"{b.names['fines']}: {exc}")
        if b.u("Property", pid, "meetings"):
            try:
                schedule = parse_meeting_schedule(b.u("Property", pid, "meetings"))
            except ValueError as exc:
                b.issue("hoa", "property", pid, str(exc))
        lots, monthly, accounts, lot_name = [], {}, [], {}
        for uid in sorted(by_prop.get(pid, ()), key=lambda x: int(x.split(":")[1])):
            u = b.units[uid]
            lot_name[uid] = u.get("name") or uid
            lots.append((uid, lot_name[uid], u.get("square_footage"), _dec(b.u("Unit", uid, "pct_interest"))))
            monthly[uid] = (b.rc_amount(b.unit_rcs.get(uid, ()), {"HOA"}, b.as_of)
                            or b.rc_amount(b.prop_rcs.get(pid, ()), {"HOA"}, b.as_of))
        special: dict[int, int] = defaultdict(int)
        for ls in b.leases_in.get(pid, ()):
            res = rid(ls, "resident_rm_id")
            items, lates = _items(b, res, b.as_of)
            for c in b.charges_of.get(res, ()):
                if b.code(c) == "SPEC":
                    special[_d(c["transaction_date"]).year] += opt_cents(c["amount"]) or 0
            current = _d(ls.get("move_in_date")) and _d(ls["move_in_date"]) <= b.as_of and \
                (_d(ls.get("move_out_date")) is None or _d(ls["move_out_date"]) >= b.as_of)
            if current or any(it.paid_on is None and it.open_cents > 0 for it in items):
                accounts.append((res, b.residents.get(res, {}).get("name") or res,
                                 lot_name.get(rid(ls, "unit_rm_id"), ""), items, lates))
        violations = []
        for v in viols.get(pid, ()):
            res = rid(v, "resident_rm_id")
            code = b.violation_codes.get(rid(v, "violation_code_rm_id") or "", "")
            noticed = _d(v.get("violation_date"))
            if noticed is None:
                b.issue("hoa", "violation", rid(v), "violation without a date")
                continue
            fine_rows = [(_d(c["transaction_date"]), opt_cents(c["amount"]) or 0) for c in b.charges_of.get(res, ())
                         if b.code(c) == "FINE" and _d(c["transaction_date"]) >= noticed
                         and (not code or (c.get("comment") or "").upper().endswith(code))]
            violations.append(Violation(rid(v), pid, lot_name.get(rid(v, "unit_rm_id") or "", ""),
                                        b.residents.get(res or "", {}).get("name") or "", code or "?", noticed,
                                        _d(v.get("close_date")) if v.get("is_closed") else None, tuple(fine_rows)))
        out.append(HoaProperty(pid, p.get("name") or pid, pack, allocation, budgets, lots, monthly, accounts,
                               dict(special), violations, _int(b.u("Property", pid, "cure_days")), schedule, fines,
                               boards_by_prop.get(pid, [])))
    return out


# -- student housing ----------------------------------------------------------------------------------------


@dataclass
class StudentInputs:
    units: list[tuple[str, str, str, int]]  # (property, unit id, unit name, beds)
    beds_by_property: dict[str, int]
    leases: list[BedLease]
    guarantors: dict[str, list[int | None]]
    prepaid: set[str]
    applicants: list[Applicant]
    policies: dict[str, str | None]
    property_names: dict[str, str]
    unit_types: dict[str, str]  # resident → unit type
    contracts: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict)  # (resident, term start) →
    # (contract rent, installments): the monthly RENT recurring charges in force during the term, added up


def student_inputs(b: Base, normalize_university: Callable[[str], str] = lambda s: s) -> StudentInputs:
    student_props = {pid for pid in b.props if b.kind(pid) == "student"}
    units, beds = [], defaultdict(int)
    for uid, u in b.units.items():
        pid = rid(u, "property_rm_id")
        if pid in student_props:
            n = int(u.get("bedrooms") or 0)
            units.append((pid, uid, u.get("name") or uid, n))
            beds[pid] += n
    balance: dict[str, int] = defaultdict(int)
    for c in b.tables.get("charges", ()):
        if rid(c, "property_rm_id") in student_props:
            balance[rid(c, "resident_rm_id")] += opt_cents(c["amount"]) or 0
    for table in ("payments", "credits"):
        for p in b.tables.get(table, ()):
            balance[rid(p, "resident_rm_id")] -= opt_cents(p["amount"]) or 0
    guarantors: dict[str, list[int | None]] = defaultdict(list)
    for m in b.tables.get("household_members", ()):
        if (m.get("applicant_type") or "") == "Guarantor" and m.get("is_active", True) is not False:
            inc = m.get("annual_income")
            guarantors[rid(m, "resident_rm_id")].append(None if inc is None else opt_cents(inc))
    leases, prepaid, applicants, unit_types = [], set(), [], {}
    contracts: dict[tuple[str, date], tuple[int, int]] = {}
    by_display = {str(r.get("display_id")): res for res, r in b.residents.items() if r.get("display_id") is not None}
    next_year = academic_year_of(b.as_of) + 1
    for res, r in b.residents.items():
        pid = rid(r, "property_rm_id")
        if pid not in student_props:
            continue
        ls = b.current_lease(res)
        if ls is None:
            b.issue("student_housing", "resident", res, "student resident without a lease")
            continue
        uid = rid(ls, "unit_rm_id")
        unit = b.units.get(uid, {})
        terms = tuple(b.terms.get(rid(ls), ()))
        rents = [x for x in b.rent_items(res, {"RENT"})]
        inst = b.rc_amount(b.rcs.get(res, ()), {"RENT"}, b.as_of)
        if inst is None and rents:
            inst = min(rents)[2]
        for start, end, _sg in terms:
            months = [date(y, m, 1) for y, m in _month_keys(start, end)]
            amounts = [b.rc_amount(b.rcs.get(res, ()), {"RENT"}, max(m, start)) for m in months]
            if all(a is not None for a in amounts):
                contracts[(res, start)] = (sum(amounts), len(amounts))
        univ = b.u("Tenant", res, "university")
        lease = BedLease(res, r.get("name") or res, pid, uid, unit.get("name") or "", (r.get("bed_space") or None),
                         r.get("status") or "", _d(ls.get("move_in_date")), _d(ls.get("move_out_date")), terms, inst,
                         balance.get(res, 0), normalize_university(univ) if univ else None)
        leases.append(lease)
        unit_types[res] = b.unit_types.get(rid(unit, "unit_type_rm_id") or "", "") if unit else ""
        if b.u("Tenant", res, "prepaid").lower() in ("yes", "true", "1"):
            prepaid.add(res)
        starts_next = any(academic_year_of(s) == next_year and s.year == next_year for s, _e, _sg in terms)
        if r.get("status") == "Future" and starts_next:
            prefs = parse_preferences(r.get("roommate_preferences"))
            gender = b.u("Tenant", res, "gender") or None
            request = by_display.get(b.u("Tenant", res, "request"))
            applicants.append(Applicant(
                res, r.get("name") or res, pid, unit_types[res], inst or 0, opt_cents(b.u("Tenant", res, "budget")),
                min(s for s, _e, _sg in terms if s.year == next_year), prefs.pop("smoking", None), gender,
                tuple(sorted(prefs.items())), request))
    policies = {pid: ("same-gender" if b.u("Property", pid, "gender_policy") == "same-gender" else None)
                for pid in student_props}
    names = {pid: b.props[pid].get("name") or pid for pid in student_props}
    return StudentInputs(units, dict(beds), leases, dict(guarantors), prepaid, applicants, policies, names, unit_types,
                         contracts)


def _month_keys(start: date, end: date) -> list[tuple[int, int]]:
    """(year, month) of every calendar month a term touches."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# -- asset management ---------------------------------------------------------------------------------------


@dataclass
class AssetInputs:
    properties: list[AM.PropertyInfo]
    spaces: list[AM.Space]
    tenancies: list[AM.Tenancy]
    charges: list[AM.Charge]
    allocations: dict[str, list[tuple[date, int]]]
    credits: list[AM.Credit]
    work_orders: list[AM.WorkOrder]


def asset_inputs(b: Base, pools: Mapping[str, Mapping[int, ExpensePool]]) -> AssetInputs:
    rental = {pid for pid in b.props if b.kind(pid) != "hoa"}
    owners = {rid(o): o.get("name") or "" for o in b.tables.get("owners", ())}
    shares: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for s in b.tables.get("ownerships", ()):
        if _d(s.get("end_date")) is None or _d(s["end_date"]) >= b.as_of:
            shares[rid(s, "property_rm_id")].append((owners.get(rid(s, "owner_rm_id"), "?"),
                                                      _dec(s.get("percentage")) or Decimal(100)))
    props = [AM.PropertyInfo(pid, b.props[pid].get("name") or pid, b.kind(pid) or "unknown", tuple(shares.get(pid, ())),
                             {y: p.total_cents for y, p in pools.get(pid, {}).items()}) for pid in sorted(rental)]
    market: dict[str, list] = defaultdict(list)
    for m in b.tables.get("market_rents", ()):
        market[rid(m, "unit_rm_id")].append((_d(m.get("from_date")) or date.min, _d(m.get("to_date")),
                                            opt_cents(m["amount"]) or 0))
    spaces = []
    student = {pid for pid in rental if b.kind(pid) == "student"}
    for uid, u in b.units.items():
        pid = rid(u, "property_rm_id")
        if pid not in rental:
            continue
        items = tuple(market.get(uid, ()))
        if pid in student:
            for i in range(int(u.get("bedrooms") or 0)):
                spaces.append(AM.Space(f"{uid}:{'ABCDEFGH'[i]}", pid, uid, items))
        else:
            spaces.append(AM.Space(uid, pid, uid, items))
    tenancies = []
    for ls in b.leases:
        pid = rid(ls, "property_rm_id")
        if pid not in rental or _d(ls.get("move_in_date")) is None:
            continue
        res = rid(ls, "resident_rm_id")
        uid = rid(ls, "unit_rm_id")
        space = uid
        if pid in student:
            bed = (b.residents.get(res, {}).get("bed_space") or "")
            if not bed:
                continue
            space = f"{uid}:{bed}"
        terms = b.terms.get(rid(ls), [])
        tenancies.append(AM.Tenancy(space, pid, res, _d(ls["move_in_date"]), _d(ls.get("move_out_date")),
                                    b.rent_items(res), tuple(s for s, _e, _sg in terms[1:]),
                                    tuple(e for _s, e, _sg in terms)))
    charges = [AM.Charge(rid(c), rid(c, "property_rm_id"), _d(c["transaction_date"]), opt_cents(c["amount"]) or 0)
               for c in b.tables.get("charges", ()) if rid(c, "property_rm_id") in rental]
    credits = [AM.Credit(rid(c, "property_rm_id"), _d(c["transaction_date"]), opt_cents(c["amount"]) or 0,
                         b.code(c) == "RENT" and "prorat" not in (c.get("comment") or "").lower())
               for c in b.tables.get("credits", ()) if rid(c, "property_rm_id") in rental]
    wos = []
    for w in b.tables.get("work_orders", ()):
        pid = rid(w, "property_rm_id")
        opened = _d(w.get("assigned_open_date")) or _d(w.get("rm_created_at"))
        if pid in rental and opened:
            wos.append(AM.WorkOrder(pid, opened, _d(w.get("close_date")) if w.get("is_closed") else None))
    return AssetInputs(props, spaces, tenancies, charges, dict(b.allocs), credits, wos)
