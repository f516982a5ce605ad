"""The sandbox portfolio's data for the specialised products (student housing, commercial, HOA, asset management).

Called by the portfolio generator after everything else, it only appends: new UserDefinedFields (IDs after the
compliance ones), their values, and — from ``PLANTED_MIN_UNITS`` units on — two planted properties with their
units, tenants, leases, recurring charges, ledger (after the generated ledger, in calendar order among
themselves), violations and board, plus planted next-term students in the first student property. It draws
from a ``random.Random`` of its own (seeded from the portfolio seed), so every record the generator made before
stays byte-identical. The planted cases and their answers are in docs/specialties-planted.md.

UDF values are Rent Manager text: money "12345.00", percentages "95" or "5.50", years "2025".
"""

from __future__ import annotations

import datetime as _dt
import random
from typing import Any

# (Name, FieldType, ParentType, ComboList): appended to the generator's UDF definitions.
SPECIALTY_UDF_SPECS: tuple[tuple[str, str, str, str], ...] = (
    ("CAM Expense Pool", "Text", "Property", ""),
    ("Assessment Allocation", "Dropdown List", "Property", "equal,percentage,square footage"),
    ("HOA Budget", "Text", "Property", ""),
    ("HOA Rule Pack", "Dropdown List", "Property", "CA"),
    ("Board Meeting Schedule", "Text", "Property", ""),
    ("Violation Cure Days", "Numeric", "Property", ""),
    ("Fine Schedule", "Text", "Property", ""),
    ("Roommate Gender Policy", "Dropdown List", "Property", "same-gender,none"),
    ("CAM Lease Type", "Dropdown List", "Tenant", "NNN,Base Year,Expense Stop"),
    ("CAM Base Year", "Numeric", "Tenant", ""),
    ("CAM Expense Stop", "Numeric", "Tenant", ""),
    ("CAM Gross-Up Percent", "Numeric", "Tenant", ""),
    ("CAM Denominator", "Dropdown List", "Tenant", "building,leased"),
    ("CAM Denominator Floor Percent", "Numeric", "Tenant", ""),
    ("CAM Cap Type", "Dropdown List", "Tenant", "none,non-cumulative,cumulative compounding,cumulative simple"),
    ("CAM Cap Base Year", "Numeric", "Tenant", ""),
    ("Percentage Rent Rate", "Numeric", "Tenant", ""),
    ("Percentage Rent Breakpoint", "Numeric", "Tenant", ""),
    ("TI Allowance", "Numeric", "Tenant", ""),
    ("TI Drawn", "Numeric", "Tenant", ""),
    ("TI Amortization Months", "Numeric", "Tenant", ""),
    ("TI Amortization Rate", "Numeric", "Tenant", ""),
    ("University", "Text", "Tenant", ""),
    ("Housing Gender", "Dropdown List", "Tenant", "Female,Male"),
    ("Roommate Request", "Text", "Tenant", ""),
    ("Installment Budget", "Numeric", "Tenant", ""),
    ("Term Prepaid", "Yes/No", "Tenant", ""),
)

_UNIVERSITIES = ("Wichita State University", "WICHITA ST. UNIV.", "University of Kansas", "UNIV. OF KANSAS",
                 "Kansas State University", "the university of kansas", "Washburn University", "Newman University",
                 "Butler CC", "Boston University", "u. of massachusetts boston")
_CATEGORY_PSF = (("CAM", 4.0, 7.0), ("UTILITIES", 0.8, 1.6), ("SNOW", 0.1, 0.4), ("TAX", 2.0, 4.0),
                 ("INSURANCE", 0.4, 0.9))

# Planted commercial centre "Cedar Point Plaza" (CEDARPT): suites (name, RSF, tenant, years since move-in or
# None = moved in on Jul 1 of last year). Recoverable expenses per year (years before this one).
PLANTED_CAM_POOL = {  # years back → category → dollars
    4: {"CAM": 80000, "UTILITIES": 20000, "SNOW": 5000, "TAX": 40000, "INSURANCE": 10000},
    3: {"CAM": 84000, "UTILITIES": 21000, "SNOW": 6000, "TAX": 41000, "INSURANCE": 10500},
    2: {"CAM": 90000, "UTILITIES": 22000, "SNOW": 4000, "TAX": 42000, "INSURANCE": 11000},
    1: {"CAM": 140000, "UTILITIES": 30000, "SNOW": 9000, "TAX": 46000, "INSURANCE": 12500},
}
PLANTED_SUITES = (("Suite 100", 2000, "Blue Heron Books"), ("Suite 102", 3000, "Lakeside Grill"),
                  ("Suite 104", 5000, "Harbor Fitness"))
PLANTED_LOTS = ((1200, "Alvarez", "Teresa"), (1500, "Brooks", "Nathan"), (1800, "Chen", "Wei"),
                (2000, "Dawson", "Paula"), (2500, "Everett", "Simon"))
PLANTED_HOA_BUDGET = {-1: 25000, 0: 27000, 1: 33750}  # fiscal years relative to this one → regular assessments
PLANTED_STUDENTS = (  # next-term residents of a new 4-bed unit "901" in the first student property:
    # (first, last, housing gender, university as typed, preferences, installment budget, requested roommate
    # (index), term prepaid, guarantor's annual income in dollars)
    ("Ava", "Lindqvist", "Female", "UNIV. OF KANSAS", "Early riser; Very tidy; Quiet study space; Non-smoker; "
     "Rarely has guests; Keeps it cool", "", 1, False, 60000),
    ("Nora", "Quint", "Female", "Univ. of Kansas", "Night owl; Reasonably tidy; Studies at library; Non-smoker; "
     "Occasional guests; Keeps it warm", "", 0, False, 90000),
    ("Iris", "Moreau", "Female", "University of Kansas", "Night owl; Relaxed about mess; Music while studying; "
     "Smoker; Social, frequent guests; Keeps it warm", "", None, True, 15000),
    ("Theo", "Banks", "Male", "Wichita St. Univ.", "Early riser; Very tidy; Quiet study space; Non-smoker; "
     "Rarely has guests; Keeps it cool", "700.00", None, False, 18000),
)

def _second_tuesday(y: int, m: int) -> _dt.date:
    first = _dt.date(y, m, 1)
    return first + _dt.timedelta(days=(1 - first.weekday()) % 7 + 7)


def _meeting_on_or_after(o: int) -> int:
    d = _dt.date.fromordinal(o)
    y, m = d.year, d.month
    while True:
        meeting = _second_tuesday(y, m)
        if meeting >= d:
            return meeting.toordinal()
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


class _Specialties:
    def __init__(self, gen: Any, seed: int, P: Any):
        self.P, self.g = P, gen  # P: the generator's module (its helpers and reference data)
        self.rng = random.Random(seed * 7919 + 14)
        gen.rng, gen.r = self.rng, self.rng.random  # the generator's helpers now draw from this stream
        self.out, self.ck, self.T = gen.out, gen.clock, gen.T
        self.udf = {d["Name"]: d for d in P.UDF_DEFINITIONS}
        self.year = gen.today.year

    # -- small writers ------------------------------------------------------------------------------
    def udv(self, parent_type: str, parent_id: int, name: str, value: str, stamp: str) -> None:
        d = self.udf[name]
        assert d["ParentType"] == parent_type
        udvs = self.out["UserDefinedValues"]
        udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": d["UserDefinedFieldID"],
                     "ParentID": parent_id, "ParentType": parent_type, "Name": name, "Value": value,
                     "FieldType": d["FieldType"], "UpdateDate": stamp, "UpdateUserID": 1})

    def stamp(self, o: int) -> str:
        return self.ck.ts(self.g.day_s(min(o, self.T)))

    def money(self, dollars: float) -> str:
        return self.P._money(int(round(dollars * 100)))

    # -- every portfolio: the specialised UDFs of existing records ------------------------------------
    def existing(self) -> None:
        g, r = self.g, self.rng.random
        y = self.year
        for p in g.props:
            commercial = p.kind in ("office", "retail", "mixed")
            pool = ""
            if commercial:
                rsf = sum(u.sqft for u in p.units if u.cls in ("office", "retail"))
                years = []
                for back in (4, 3, 2, 1):
                    parts = []
                    for cat, lo, hi in _CATEGORY_PSF:
                        parts.append(f"{cat}={self.money(rsf * (lo + (hi - lo) * r()) * (1 - 0.03 * back))}")
                    years.append(f"{y - back}:" + ",".join(parts))
                pool = ";".join(years)
            hoa = p.kind == "hoa"
            budget = ""
            if hoa:
                annual = p.hoa_c * 12 * len(p.units) // 100
                budget = ";".join(f"{y + k}={self.P._money(annual * 100 * (100 + 3 * k) // 100)}" for k in (-1, 0, 1))
            values = (pool, "equal" if hoa else "", budget, "CA" if hoa else "", "2nd Tuesday" if hoa else "",
                      "14" if hoa else "", "TRASH=50.00,LAWN=75.00,PARK=50.00,ARCH=150.00,PET=50.00,NOISE=100.00,"
                      "HOLIDAY=25.00,PAINT=100.00" if hoa else "", "same-gender" if p.kind == "student" else "")
            for (name, *_rest), value in zip(SPECIALTY_UDF_SPECS[:8], values):
                self.udv("Property", p.pid, name, value, p.stamp)
        tenants = self.out["Tenants"]
        leases = {ls["TenantID"]: ls for ls in self.out["Leases"]}
        units = {u.uid: u for p in g.props for u in p.units}
        for t in tenants:
            u = units[leases[t["TenantID"]]["UnitID"]]
            stamp = t["UpdateDate"]
            if u.cls in ("office", "retail"):
                self.lease_terms(t["TenantID"], u, stamp)
            elif u.cls == "student":
                self.udv("Tenant", t["TenantID"], "University", _UNIVERSITIES[int(r() * len(_UNIVERSITIES))], stamp)
                self.udv("Tenant", t["TenantID"], "Housing Gender", "Female" if r() < 0.55 else "Male", stamp)

    def lease_terms(self, tid: int, u: Any, stamp: str, spec: dict | None = None) -> None:
        r = self.rng.random
        y = self.year
        if spec is None:
            kind = "Base Year" if u.cls == "office" else ("NNN" if r() < 0.8 else "Expense Stop")
            spec = {"CAM Lease Type": kind, "CAM Gross-Up Percent": "95" if r() < 0.7 else "",
                    "CAM Denominator": "building" if r() < 0.7 else "leased",
                    "CAM Denominator Floor Percent": "95" if r() < 0.5 else "",
                    "CAM Cap Type": "cumulative compounding" if r() < 0.4 else "none"}
            if kind == "Base Year":
                spec["CAM Base Year"] = str(y - 1 - int(r() * 3))
            if kind == "Expense Stop":
                spec["CAM Expense Stop"] = self.money(u.sqft * (8 + 4 * r()))
            if spec["CAM Cap Type"] != "none":
                spec["CAM Cap Base Year"] = str(y - 4)
            if u.pct_rate:
                spec["Percentage Rent Rate"] = f"{u.pct_rate}"
            if r() < 0.3:
                granted = u.sqft * (10 + int(r() * 30))
                spec["TI Allowance"] = self.money(granted)
                spec["TI Drawn"] = self.money(granted * (0.4 + 0.6 * r()))
                if r() < 0.5:
                    spec["TI Amortization Months"] = "60"
                    spec["TI Amortization Rate"] = "8.00"
        for name, value in spec.items():
            if value != "":
                self.udv("Tenant", tid, name, value, stamp)

    # -- planted: a retail centre, an HOA, next-term students ------------------------------------------
    def planted(self) -> None:
        self.owner_id = 1
        self.plaza()
        self.association()
        self.students()

    def new_property(self, name: str, short: str, kind: str, ptype: str, area: str, sqft: int, created_o: int,
                     extra: dict[str, str]) -> Any:
        g, P, ck = self.g, self.P, self.ck
        a = P._AREAS[area]
        pid = len(self.out["Properties"]) + 1
        city, zips = a["cities"][0]
        street = f"{1200 + pid} {'Lakeshore Dr' if kind != 'hoa' else 'Sandpiper Way'}"
        c, u = ck.audit(g.day_s(created_o), g.day_s(created_o + 30))
        self.out["Properties"].append({
            "PropertyID": pid, "Name": name, "ShortName": short, "PropertyType": ptype,
            "IsCommercial": ptype == "Commercial", "IsActive": True, "SquareFootage": sqft,
            "ManagerName": P._MANAGERS[0], "Email": f"{short.lower()}@heartland-pm.example", "ConcurrencyID": 1,
            "CreateDate": c, "CreateUserID": 1, "UpdateDate": u, "UpdateUserID": 1})
        g._address(pid, "Property", 1, street, city, a["state"], zips[0], True, False)
        kinds = {"retail": "commercial", "hoa": "hoa"}
        pis = created_o - 400
        base = (kinds[kind], "", "", "", a["limit_area"], ck.ymd(pis), "No", "")
        for (fid, uname, _pt, ftype), val in zip(P._PROPERTY_UDFS, base):
            self.udv("Property", pid, uname, val, u)
        for (sname, *_rest) in SPECIALTY_UDF_SPECS[:8]:
            self.udv("Property", pid, sname, extra.get(sname, ""), u)
        oc = self.out["OwnerContracts"]
        c2, u2 = ck.audit(g.day_s(created_o), g.day_s(created_o))
        oc.append({"OwnerContractID": len(oc) + 1, "OwnerID": self.owner_id, "PropertyID": pid, "Percentage": 100.0,
                   "StartDate": ck.date(created_o), "EndDate": None, "CreateDate": c2, "CreateUserID": 1,
                   "UpdateDate": u2, "UpdateUserID": 1})
        return pid, street, city, a["state"], zips[0], u

    def new_unit(self, pid: int, name: str, ut: str, beds: int, baths: float, sqft: int, created_o: int) -> int:
        units = self.out["Units"]
        uid = len(units) + 1
        c, u = self.ck.audit(self.g.day_s(created_o), self.g.day_s(created_o))
        units.append({"UnitID": uid, "PropertyID": pid, "UnitTypeID": self.P._UT[ut], "Name": name, "Bedrooms": beds,
                      "Bathrooms": baths, "SquareFootage": sqft, "MaxOccupancy": 0 if ut == "Retail Space" else 2 * beds + 1,
                      "Comment": "", "SortOrder": len([x for x in units if x["PropertyID"] == pid]) + 1,
                      "CreateDate": c, "CreateUserID": 1, "UpdateDate": u, "UpdateUserID": 1})
        return uid

    def new_tenant(self, pid: int, uid: int, name: str, first: str, last: str, company: bool, movein: int,
                   street: str, city: str, state: str, zip_: str, status: str = "Current",
                   expected_out: int | None = None) -> tuple[int, int, str, str]:
        g, ck, out = self.g, self.ck, self.out
        tid = len(out["Tenants"]) + 1
        created = min(movein - 10, self.T - 1)
        c, upd = ck.audit(g.day_s(created), g.day_s(min(self.T, created + 20)))
        out["Tenants"].append({
            "TenantID": tid, "TenantDisplayID": 10000 + tid, "Name": name, "FirstName": first, "LastName": last,
            "IsCompany": company, "Status": status, "PropertyID": pid, "RentDueDay": 1, "RentPeriod": "Monthly",
            "Comment": "", "CreateDate": c, "CreateUserID": 1, "UpdateDate": upd, "UpdateUserID": 1})
        g._address(tid, "Tenant", 1, street, city, state, zip_, True, True)
        lease_id = len(out["Leases"]) + 1
        lc, lu = ck.audit(g.day_s(created), g.day_s(created))
        out["Leases"].append({
            "LeaseID": lease_id, "TenantID": tid, "UnitID": uid, "PropertyID": pid, "MoveInDate": ck.date(movein),
            "MoveOutDate": None, "ExpectedMoveOutDate": ck.date(expected_out) if expected_out else None,
            "NoticeDate": None, "IsCommercial": company,
            "SortOrder": 1, "CreateDate": lc, "CreateUserID": 1, "UpdateDate": lu, "UpdateUserID": 1})
        return tid, lease_id, c, upd

    # -- the planted retail centre --------------------------------------------------------------------
    def plaza(self) -> None:
        g, P, ck, T, y = self.g, self.P, self.ck, self.T, self.year
        pool = ";".join(f"{y - back}:" + ",".join(f"{k}={v}.00" for k, v in cats.items())
                        for back, cats in sorted(PLANTED_CAM_POOL.items(), reverse=True))
        created = _dt.date(y - 10, 3, 1).toordinal()
        pid, street, city, state, zip_, _st = self.new_property(
            "Cedar Point Plaza", "CEDARPT", "retail", "Commercial", "wichita", 10000, created, {"CAM Expense Pool": pool})
        lease_year_start = g._fom(g.m_now - 12)
        specs = (
            {"CAM Lease Type": "NNN", "CAM Denominator": "building",
             "CAM Cap Type": "cumulative compounding", "CAM Cap Base Year": str(y - 4)},
            {"CAM Lease Type": "Base Year", "CAM Base Year": str(y - 2), "CAM Gross-Up Percent": "95",
             "CAM Denominator": "building", "CAM Cap Type": "none", "Percentage Rent Rate": "6"},
            {"CAM Lease Type": "Expense Stop", "CAM Expense Stop": "110000.00", "CAM Denominator": "leased",
             "CAM Denominator Floor Percent": "95", "CAM Cap Type": "none", "TI Allowance": "100000.00",
             "TI Drawn": "80000.00", "TI Amortization Months": "60", "TI Amortization Rate": "8.00"},
        )
        # Lakeside Grill's lease years start on the 1st of this month: its latest lease year just ended
        movins = (_dt.date(y - 8, 1, 1).toordinal(), _add_years(lease_year_start, -6), _dt.date(y - 1, 7, 1).toordinal())
        rents = (4000_00, 6000_00, 7500_00)
        cam_est = ((1200_00, 600_00, 150_00), (1800_00, 900_00, 225_00), (3000_00, 1500_00, 375_00))
        for (suite, rsf, tname), spec, movein, rent, est in zip(PLANTED_SUITES, specs, movins, rents, cam_est):
            uid = self.new_unit(pid, suite, "Retail Space", 0, 1.0, rsf, created)
            tid, lease_id, c, upd = self.new_tenant(pid, uid, tname, "", "", True, movein, street + f"\r\n{suite}",
                                                    city, state, zip_)
            first, last = ("Dana", "Price") if rsf == 2000 else ("Omar", "Haddad") if rsf == 3000 else ("Kim", "Soto")
            g._contact(tid, "Tenant", first, last, P._CT["Business"], "Applicant", None, True, c, upd, email=True,
                       comment="Store manager")
            # lease terms: 60-month renewals from move-in through today
            lr = self.out["LeaseRenewals"]
            start = _dt.date.fromordinal(movein)
            while True:
                end = P._add_months(start, 60) - _dt.timedelta(days=1)
                sc, su = ck.audit(g.day_s(start.toordinal() - 30), g.day_s(start.toordinal() - 30))
                lr.append({"LeaseRenewalID": len(lr) + 1, "ParentLeaseID": lease_id, "UnitID": uid, "LeaseLength": 60,
                           "SignDate": ck.date(min(start.toordinal() - 30, T)), "StartDate": ck.date(start.toordinal()),
                           "EndDate": ck.date(end.toordinal()), "CreateDate": sc, "CreateUserID": 4, "UpdateDate": su,
                           "UpdateUserID": 4})
                if end.toordinal() >= T:
                    break
                start = end + _dt.timedelta(days=1)
            items = [(P.C_RENT, rent, "Base rent", 0.0)]
            for ct, cents, label in zip((P.C_CAM, P.C_TAX, P.C_INS), est,
                                        ("CAM estimate", "Real estate tax estimate", "Insurance estimate")):
                items.append((ct, cents, label, round(cents * 12 / rsf / 100, 2)))
            cre = self.out["CommercialRecoverableExpenses"]
            for ct, cents, label, psf in items:
                g._recurring("Tenant", tid, tid, uid, pid, ct, cents, movein, None, label, per_sf=psf)
                if ct == P.C_RENT:
                    continue
                cc, cu = ck.audit(g.day_s(movein), g.day_s(movein))
                cre.append({
                    "CommercialRecoverableExpenseID": len(cre) + 1, "PropertyID": pid, "LeaseID": lease_id,
                    "ChargeTypeID": ct, "TenantIsProRataShare": True, "ProRataSharePercent": rsf / 100.0,
                    "TenantIsAdministrativeFees": ct == P.C_CAM, "AdminFeePercent": 10.0 if ct == P.C_CAM else 0.0,
                    "BaseYearAmount": 0.0, "CapPercent": 5.0 if ct == P.C_CAM and rsf == 2000 else 0.0,
                    "AmountSpecific": None, "IsSubtractBaseAmount": rsf == 3000, "ConcurrencyID": 1,
                    "CreateDate": cc, "CreateUserID": 4, "UpdateDate": cu, "UpdateUserID": 4})
            self.lease_terms(tid, None, upd, spec)
            acct = _Ledger(self, tid, pid, uid)
            sales = self.out["RetailSales"]
            for m in range(max(g.m_hist, g._month_of(movein)), g.m_now + 1):
                fom = g._fom(m)
                due = max(fom, movein)
                if due > T:
                    continue
                for ct, cents, label, _psf in items:
                    acct.charge(ct, cents, due, f"{label}")
                if rsf == 3000 and m >= g.m_now - 12 and m < g.m_now:  # percentage rent on monthly sales
                    gross, excluded = 130000_00 + 10000_00 * ((m % 12) in (10, 11)), 3000_00
                    rc, ru = ck.audit(g.day_s(g._fom(m + 1) + 5), g.day_s(g._fom(m + 1) + 5))
                    sales.append({"RetailSaleID": len(sales) + 1, "LeaseID": lease_id, "SalesMonth": ck.date(fom),
                                  "GrossSales": gross / 100, "ExcludedSales": excluded / 100, "Comment": "",
                                  "CreateDate": rc, "CreateUserID": 4, "UpdateDate": ru, "UpdateUserID": 4})
                    if g._fom(m + 1) + 19 <= T:  # billed monthly over a monthly natural breakpoint (6,000 / 6 %)
                        acct.extra(g._fom(m + 1) + 19, P.C_PCT, (gross - excluded - 100000_00) * 6 // 100,
                                   "Percentage rent")
                elif m < g.m_now:
                    rc, ru = ck.audit(g.day_s(g._fom(m + 1) + 5), g.day_s(g._fom(m + 1) + 5))
                    sales.append({"RetailSaleID": len(sales) + 1, "LeaseID": lease_id, "SalesMonth": ck.date(fom),
                                  "GrossSales": (40000_00 + rsf * 500) / 100, "ExcludedSales": 1000.0, "Comment": "",
                                  "CreateDate": rc, "CreateUserID": 4, "UpdateDate": ru, "UpdateUserID": 4})
                if due + 3 <= T:
                    acct.pay(due + 3)
            acct.flush()

    # -- the planted association ------------------------------------------------------------------------
    def association(self) -> None:
        g, P, ck, T, y = self.g, self.P, self.ck, self.T, self.year
        sqft_total = sum(s for s, *_r in PLANTED_LOTS)
        budget = ";".join(f"{y + k}={v}.00" for k, v in sorted(PLANTED_HOA_BUDGET.items()))
        created = _dt.date(y - 12, 6, 1).toordinal()
        pid, street, city, state, zip_, stamp = self.new_property(
            "Sandpiper Cove Homeowners Association", "SANDPIPER", "hoa", "Association", "wichita", sqft_total, created,
            {"Assessment Allocation": "square footage", "HOA Budget": budget, "HOA Rule Pack": "CA",
             "Board Meeting Schedule": "2nd Tuesday", "Violation Cure Days": "14",
             "Fine Schedule": "TRASH=50.00,LAWN=75.00,PARK=50.00,PAINT=100.00"})
        rc = self.out["RecurringCharges"]
        c, u = ck.audit(g.day_s(created + 10), g.day_s(created + 10))
        monthly_this = PLANTED_HOA_BUDGET[0] * 100 // 12 // len(PLANTED_LOTS)
        rc.append({"RecurringChargeID": len(rc) + 1, "EntityType": "Property", "EntityKeyID": pid, "TenantID": None,
                   "UnitID": None, "PropertyID": pid, "ChargeTypeID": P.C_HOA, "Amount": monthly_this / 100,
                   "AmountPerSquareFoot": 0.0, "Frequency": 1, "FromDate": ck.date(created + 30), "ToDate": None,
                   "Comment": "Monthly assessment (default)", "CamRecurringChargeID": None, "CreateDate": c,
                   "CreateUserID": 2, "UpdateDate": u, "UpdateUserID": 2})
        ac, au = g.audit_around(created + 5, 100)
        self.out["AssociationSettings"].append({
            "AssociationSettingsID": len(self.out["AssociationSettings"]) + 1, "PropertyID": pid,
            "CanBoardViewArchitecturalRequestsOnTWA": True, "CanBoardVoteArchitecturalRequestsOnTWA": True,
            "ConcurrencyID": 1, "CreateDate": ac, "CreateUserID": 1, "UpdateDate": au, "UpdateUserID": 1})
        fy0 = _dt.date(y, 1, 1).toordinal()
        lots = []
        for k, (sqft, last, first) in enumerate(PLANTED_LOTS, start=1):
            uid = self.new_unit(pid, f"Lot {k}", "Townhome" if sqft < 1900 else "Detached Home",
                                3 if sqft < 1900 else 4, 2.5, sqft, created)
            lot_street = f"{100 + 2 * k} Sandpiper Way"
            movein = _dt.date(y - 6 - k, 4, 1).toordinal()
            tid, _lease, c, upd = self.new_tenant(pid, uid, f"{last}, {first}", first, last, False, movein, lot_street,
                                                  city, state, zip_)
            cid = g._contact(tid, "Tenant", first, last, P._CT["Head of Household"], "Applicant",
                             T - (40 + 5 * k) * 365, True, c, upd, email=True, ssn=True)
            self.udv("Contact", cid, "Relationship", "Head", upd)
            # the declaration allocates by square footage: each lot's share of the year's budget, monthly
            prior = PLANTED_HOA_BUDGET[-1] * sqft * 100 // sqft_total // 12
            this = PLANTED_HOA_BUDGET[0] * sqft * 100 // sqft_total // 12
            nxt = PLANTED_HOA_BUDGET[1] * sqft * 100 // sqft_total // 12
            for amount, f_o, t_o in ((prior, fy0 - 365 * 3, fy0 - 1), (this, fy0, _dt.date(y, 12, 31).toordinal()),
                                     (nxt, _dt.date(y + 1, 1, 1).toordinal(), None)):
                c3, u3 = ck.audit(g.day_s(min(f_o, T) - 20), g.day_s(min(f_o, T) - 20))
                rc.append({"RecurringChargeID": len(rc) + 1, "EntityType": "Unit", "EntityKeyID": uid, "TenantID": None,
                           "UnitID": uid, "PropertyID": pid, "ChargeTypeID": P.C_HOA, "Amount": amount / 100,
                           "AmountPerSquareFoot": 0.0, "Frequency": 1, "FromDate": ck.date(f_o),
                           "ToDate": ck.date(t_o) if t_o else None, "Comment": "Assessment by square footage",
                           "CamRecurringChargeID": None, "CreateDate": c3, "CreateUserID": 2, "UpdateDate": u3,
                           "UpdateUserID": 2})
            lots.append((k, uid, tid, prior, this))
        # ledger: lot 1 and 5 pay on the 3rd; lot 2 stopped paying four months ago; lot 3 pays on day 14 after
        # the due date (on time); lot 4 on day 15 (late: a $60 late charge each time). A special assessment of
        # $300 a lot is due on the 1st of this month.
        for k, uid, tid, prior, this in lots:
            acct = _Ledger(self, tid, pid, uid)
            for m in range(g.m_hist, g.m_now + 1):
                due = g._fom(m)
                if due > T:
                    continue
                acct.charge(P.C_HOA, this if due >= fy0 else prior, due, "HOA Assessment")
                if m == g.m_now:
                    acct.charge(P.C_SPEC, 300_00, due, "Special assessment - roof reserve")
                pay_day = {1: 2, 2: 2, 3: 14, 4: 15, 5: 2}[k]
                if k == 4 and due + 15 <= T:
                    acct.charge(P.C_LATE, 60_00, due + 15, "Late fee")
                if k == 2 and m >= g.m_now - 3:
                    continue
                if due + pay_day <= T:
                    acct.pay(due + pay_day)
            acct.flush()
        # violations (cure 14 days, hearings at the 2nd-Tuesday board meeting)
        viol = self.out["Violations"]
        owners = {k: tid for k, _u, tid, _p, _t in lots}
        units = {k: uid for k, uid, _t, _p, _tt in lots}
        hearing3 = _meeting_on_or_after(T - 90 + 14 + 11)
        plan = ((5, "LAWN", T - 5, None, None), (4, "TRASH", T - 20, None, None),
                (3, "PAINT", T - 90, hearing3 - 2, hearing3 + 5), (2, "PARK", T - 75, None, None))
        for k, code, o, close_o, fine_o in plan:
            code_id = next(i for i, row in enumerate(P._VIOLATION_CODES, start=1) if row[0] == code)
            vc, vu = ck.audit(g.day_s(o), g.day_s(close_o or o))
            viol.append({"ViolationID": len(viol) + 1, "PropertyID": pid, "UnitID": units[k], "TenantID": owners[k],
                         "ViolationCodeID": code_id, "ViolationDate": ck.date(o),
                         "Description": f"{P._VIOLATION_CODES[code_id - 1][1]} observed at Lot {k}",
                         "ResolveAction": "Corrected by owner" if close_o else "Owner notified by letter",
                         "IsClosed": close_o is not None, "CloseDate": ck.date(close_o) if close_o else None,
                         "ConcurrencyID": 1, "CreateDate": vc, "CreateUserID": 5, "UpdateDate": vu, "UpdateUserID": 5})
            if fine_o is not None:
                acct = _Ledger(self, owners[k], pid, units[k])
                acct.extra(fine_o, P.C_FINE, 100_00, f"Violation fine - {code}")
                acct.flush()
        # board: all five owners, Treasurer's term ends in 30 days
        cid = len(self.out["Committees"]) + 1
        c, u = g.audit_around(created + 30, 30)
        self.out["Committees"].append({"CommitteeID": cid, "PropertyID": pid, "Name": "Board of Directors",
                                       "DisplayName": "Board", "Description": "Elected board of the association",
                                       "IsActive": True, "CreateDate": c, "CreateUserID": 1, "UpdateDate": u,
                                       "UpdateUserID": 1})
        cm = self.out["CommitteeMembers"]
        for (k, _u, tid, _p, _t), position in zip(lots, P._COMMITTEE_POSITIONS):
            end = T + (30 if position == "Treasurer" else 400)
            start = end - 2 * 365
            c2, u2 = ck.audit(g.day_s(min(start, T)), g.day_s(min(start, T)))
            cm.append({"CommitteeMemberID": len(cm) + 1, "CommitteeID": cid, "TenantID": tid, "Position": position,
                       "StartDate": ck.date(start), "EndDate": ck.date(end), "CreateDate": c2, "CreateUserID": 1,
                       "UpdateDate": u2, "UpdateUserID": 1})

    # -- planted next-term students -----------------------------------------------------------------------
    def students(self) -> None:
        g, P, ck, T = self.g, self.P, self.ck, self.T
        prop = next((p for p in sorted(g.props, key=lambda p: p.pid) if p.kind == "student"), None)
        if prop is None:
            return
        today = g.today
        y_next = today.year if today < _dt.date(today.year, 8, 15) else today.year + 1
        start, end = _dt.date(y_next, 8, 15).toordinal(), _dt.date(y_next + 1, 7, 31).toordinal()
        # a new 4-bed unit, leased bed by bed to the planted students for the next academic year
        created = min(T - 30, prop.created_s // 86400 + 400)
        uid = self.new_unit(prop.pid, "901", "Student 4x4", 4, 4.0, 1680, created)
        stamp = self.out["Units"][-1]["UpdateDate"]
        for (fid, name, _pt, ftype), val in zip(P._UNIT_UDFS, ("", "", "Market", "")):
            self.udv("Unit", uid, name, val, stamp)
        mr = self.out["MarketRents"]
        c, u_ = ck.audit(g.day_s(created - 10), g.day_s(created - 10))
        mr.append({"MarketRentID": len(mr) + 1, "UnitID": uid, "Amount": 650.0, "FromDate": ck.date(created),
                   "ToDate": None, "Comment": "Per bed", "CreateDate": c, "CreateUserID": 1, "UpdateDate": u_,
                   "UpdateUserID": 1})
        self.out["Units"][-1]["MaxOccupancy"] = 4
        tids: list[int] = []
        for (first, last, gender, univ, prefs, budget, req, prepaid, g_income), bed in zip(PLANTED_STUDENTS, "ABCD"):
            tid, lease_id, c, upd = self.new_tenant(prop.pid, uid, f"{last}, {first}", first, last, False, start,
                                                    prop.street + f"\r\nApt 901-{bed}", prop.city,
                                                    P._AREAS[prop.area]["state"], prop.zip, status="Future",
                                                    expected_out=end)
            tids.append(tid)
            lr = self.out["LeaseRenewals"]
            sign = min(T - 10 - len(tids), start - 90)
            sc, su = ck.audit(g.day_s(sign), g.day_s(sign))
            lr.append({"LeaseRenewalID": len(lr) + 1, "ParentLeaseID": lease_id, "UnitID": uid, "LeaseLength": 12,
                       "SignDate": ck.date(sign), "StartDate": ck.date(start), "EndDate": ck.date(end),
                       "CreateDate": sc, "CreateUserID": 1, "UpdateDate": su, "UpdateUserID": 1})
            cid = g._contact(tid, "Tenant", first, last, P._CT["Head of Household"], "Applicant", T - 19 * 365, True,
                             c, upd, email=True, ssn=True)
            self.udv("Contact", cid, "Relationship", "Head", upd)
            self.udv("Contact", cid, "Student Status", "Full-time", upd)
            gid = g._contact(tid, "Tenant", "Pat", last, P._CT["Guarantor"], "Guarantor", T - 50 * 365, False, c, upd,
                             email=True, ssn=True, income_c=g_income * 100, comment="Parent guarantor")
            self.udv("Contact", gid, "Relationship", "Guarantor", upd)
            self.udv("Contact", gid, "Student Status", "None", upd)
            self.udv("Contact", gid, "Employment Income", self.P._money(g_income * 100), upd)
            installment = 650_00
            g._recurring("Tenant", tid, tid, uid, prop.pid, P.C_RENT, installment, _dt.date(y_next, 8, 1).toordinal(),
                         end, "Rent installment")
            for name, value in (("Roommate Preferences", prefs), ("Bed Space", bed)):
                self.udv("Tenant", tid, name, value, upd)
            self.udv("Tenant", tid, "University", univ, upd)
            self.udv("Tenant", tid, "Housing Gender", gender, upd)
            if prepaid:
                self.udv("Tenant", tid, "Term Prepaid", "Yes", upd)
            if budget:
                self.udv("Tenant", tid, "Installment Budget", budget, upd)
        for (first, *_r, req, _p, _gi), tid in zip(PLANTED_STUDENTS, tids):
            if req is not None:
                stamp = self.out["Tenants"][tid - 1]["UpdateDate"]
                self.udv("Tenant", tid, "Roommate Request", str(10000 + tids[req]), stamp)


def _add_years(o: int, n: int) -> int:
    d = _dt.date.fromordinal(o)
    return d.replace(year=d.year + n).toordinal()


class _Ledger:
    """Charges, payments (allocated oldest first) and credits of one planted account, in calendar order."""

    def __init__(self, sp: _Specialties, tid: int, pid: int, uid: int):
        self.sp, self.tid, self.pid, self.uid = sp, tid, pid, uid
        self.events: list[tuple[int, int, str, int, int, str]] = []  # (day, order, kind, type, cents, comment)

    def charge(self, ct: int, cents: int, o: int, comment: str) -> None:
        self.events.append((o, 0, "charge", ct, cents, comment))

    def extra(self, o: int, ct: int, cents: int, comment: str) -> None:
        if cents > 0:
            self.events.append((o, 1, "charge", ct, cents, comment))

    def pay(self, o: int) -> None:
        self.events.append((o, 2, "pay", 0, 0, ""))

    def flush(self) -> None:
        out, ck = self.sp.out, self.sp.ck
        charges, payments, allocations = out["Charges"], out["Payments"], out["Allocations"]
        queue: list[list] = []
        for o, _order, kind, ct, cents, comment in sorted(self.events, key=lambda e: (e[0], e[1])):
            if o > self.sp.T:
                continue
            stamp = ck.ts(o * 86400 + 9 * 3600)
            day = ck.date(o)
            if kind == "charge":
                cid = len(charges) + 1
                rec = {"ChargeID": cid, "ID": cid, "AccountID": self.tid, "AccountType": "Customer",
                       "PropertyID": self.pid, "UnitID": self.uid, "ChargeTypeID": ct, "Amount": cents / 100,
                       "AmountAllocated": 0.0, "IsFullyAllocated": False, "TransactionDate": day,
                       "TransactionType": "Charge", "Reference": "", "Comment": comment, "CreateDate": stamp,
                       "CreateUserID": 2, "UpdateDate": stamp, "UpdateUserID": 2}
                charges.append(rec)
                queue.append([rec, cents, 0])
                continue
            due = sum(e[1] - e[2] for e in queue)
            if due <= 0:
                continue
            pid = len(payments) + 1
            pstamp = ck.ts(o * 86400 + 11 * 3600)
            for entry in queue:
                left = entry[1] - entry[2]
                if left <= 0:
                    continue
                entry[2] += left
                rec = entry[0]
                allocations.append({"AllocationID": len(allocations) + 1, "PaymentID": pid, "ChargeID": rec["ChargeID"],
                                    "PropertyID": self.pid, "UnitID": self.uid, "Amount": left / 100,
                                    "TransactionDate": day, "CreateDate": pstamp, "CreateUserID": 3,
                                    "UpdateDate": pstamp, "UpdateUserID": 3})
                rec["AmountAllocated"] = entry[2] / 100
                rec["IsFullyAllocated"] = True
                rec["UpdateDate"] = max(rec["UpdateDate"], pstamp)
            payments.append({"PaymentID": pid, "ID": pid, "AccountID": self.tid, "AccountType": "Customer",
                             "Amount": due / 100, "AmountAllocated": due / 100, "IsFullyAllocated": True,
                             "TransactionDate": day, "TransactionType": "Payment", "Reference": "ACH", "Comment": "",
                             "ReversalDate": None, "ReversalType": None, "CreateDate": pstamp, "CreateUserID": 3,
                             "UpdateDate": pstamp, "UpdateUserID": 3})
            queue = [e for e in queue if e[2] < e[1]]


def add_specialties(gen: Any, seed: int, generator_module: Any) -> None:
    """Append the specialised products' data to a generated portfolio (see the module docstring);
    `generator_module` is the portfolio module, whose helpers and reference data are used (passed in rather than
    imported, which would make the two modules import each other)."""
    sp = _Specialties(gen, seed, generator_module)
    sp.existing()
    if gen.planted_on:
        sp.planted()
