"""The sandbox portfolio generator against the sandbox contract: schema, determinism, proportions, integrity,
ledger consistency, compliance inputs (UDFs) and the household / program rules it promises."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from rm_pipelines.sandbox.portfolio import (
    COLLECTIONS,
    PLANTED_FINDINGS,
    PLANTED_MIN_UNITS,
    UDF_DEFINITIONS,
    generate_portfolio,
)
from rm_pipelines.sandbox.portfolio_specialties import SPECIALTY_UDF_SPECS

NOW = dt.datetime(2026, 11, 20, 14, 3, 22, 512000)
SEED = 11

AUDIT = ("CreateDate", "CreateUserID", "UpdateDate", "UpdateUserID")

# The contract's collections: primary key, fields every record must carry, whether it has audit fields.
CONTRACT: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "Locations": ("LocationID", ("Name", "FriendlyName", "IsMainLocation"), False),
    "Properties": ("PropertyID", ("Name", "ShortName", "PropertyType", "IsCommercial", "IsActive", "SquareFootage",
                                  "ManagerName", "Email", "ConcurrencyID"), True),
    "Units": ("UnitID", ("PropertyID", "UnitTypeID", "Name", "Bedrooms", "Bathrooms", "SquareFootage",
                         "MaxOccupancy", "Comment", "SortOrder"), True),
    "UnitTypes": ("UnitTypeID", ("Name", "Bedrooms", "Bathrooms", "Comment"), True),
    "MarketRents": ("MarketRentID", ("UnitID", "Amount", "FromDate", "ToDate", "Comment"), True),
    "Tenants": ("TenantID", ("TenantDisplayID", "Name", "FirstName", "LastName", "IsCompany", "Status", "PropertyID",
                             "RentDueDay", "RentPeriod", "Comment"), True),
    "Contacts": ("ContactID", ("ParentID", "ParentType", "FirstName", "LastName", "MiddleName", "IsPrimary",
                               "IsActive", "ContactTypeID", "DateOfBirth", "FederalTaxID", "Email", "Employer",
                               "ApplicantType", "AnnualIncome", "Comment"), True),
    "ContactTypes": ("ContactTypeID", ("Name",), False),
    "Leases": ("LeaseID", ("TenantID", "UnitID", "PropertyID", "MoveInDate", "MoveOutDate", "ExpectedMoveOutDate",
                           "NoticeDate", "IsCommercial", "SortOrder"), True),
    "LeaseRenewals": ("LeaseRenewalID", ("ParentLeaseID", "UnitID", "LeaseLength", "SignDate", "StartDate",
                                         "EndDate"), True),
    "RetailSales": ("RetailSaleID", ("LeaseID", "SalesMonth", "GrossSales", "ExcludedSales", "Comment"), True),
    "Charges": ("ChargeID", ("ID", "AccountID", "AccountType", "PropertyID", "UnitID", "ChargeTypeID", "Amount",
                             "AmountAllocated", "IsFullyAllocated", "TransactionDate", "TransactionType", "Reference",
                             "Comment"), True),
    "Payments": ("PaymentID", ("ID", "AccountID", "AccountType", "Amount", "AmountAllocated", "IsFullyAllocated",
                               "TransactionDate", "TransactionType", "Reference", "Comment", "ReversalDate",
                               "ReversalType"), True),
    "Allocations": ("AllocationID", ("PaymentID", "ChargeID", "PropertyID", "UnitID", "Amount", "TransactionDate"),
                    True),
    "Credits": ("CreditID", ("ID", "AccountID", "AccountType", "ChargeTypeID", "PropertyID", "UnitID", "Amount",
                             "TransactionDate", "TransactionType", "Comment"), True),
    "RecurringCharges": ("RecurringChargeID", ("EntityType", "EntityKeyID", "TenantID", "UnitID", "PropertyID",
                                               "ChargeTypeID", "Amount", "AmountPerSquareFoot", "Frequency",
                                               "FromDate", "ToDate", "Comment", "CamRecurringChargeID"), True),
    "ChargeTypes": ("ChargeTypeID", ("Name", "Description", "DefaultAmount", "IsCam", "IsActive", "IsProrated",
                                     "GLAccountID", "ConcurrencyID"), True),
    "Subsidies": ("SubsidyID", ("Name", "ShortName", "ChargeTypeID", "PaymentFrom"), True),
    "SubsidyTenants": ("SubsidyTenantID", ("SubsidyID", "TenantID", "Amount", "StartDate", "EndDate"), True),
    "ServiceManagerIssues": ("ServiceManagerIssueID", ("Title", "Description", "CategoryID", "StatusID",
                                                       "PriorityID", "VendorID", "IsClosed", "CloseDate",
                                                       "AssignedOpenDate", "DueDate", "ScheduledDate"), True),
    "ServiceManagerIssueLinkedProperties": ("ServiceManagerIssueLinkedPropertyID",
                                            ("ServiceManagerIssueID", "PropertyID"), False),
    "ServiceManagerIssueLinkedUnits": ("ServiceManagerIssueLinkedUnitID", ("ServiceManagerIssueID", "UnitID"), False),
    "ServiceManagerIssueLinkedTenants": ("ServiceManagerIssueLinkedTenantID", ("ServiceManagerIssueID", "TenantID"),
                                         False),
    "ServiceManagerCategories": ("ServiceManagerCategoryID", ("Name", "Description", "SortOrder", "Color",
                                                              "IsActive"), False),
    "ServiceManagerStatuses": ("ServiceManagerStatusID", ("Name", "Description", "SortOrder", "Color", "IsActive",
                                                          "IsClosed"), False),
    "ServiceManagerPriorities": ("ServiceManagerPriorityID", ("Name", "Description", "SortOrder", "Color",
                                                              "IsActive"), False),
    "Vendors": ("VendorID", ("Name", "Payee", "Category", "Is1099", "IsActive", "InsuranceExpiration", "Comment"),
                True),
    "Owners": ("OwnerID", ("Name", "DisplayName", "Status", "Comment"), True),
    "OwnerContracts": ("OwnerContractID", ("OwnerID", "PropertyID", "Percentage", "StartDate", "EndDate"), True),
    "Prospects": ("ProspectID", ("PropertyID", "Name", "FirstName", "LastName", "ProspectStatus", "ApplicationDate",
                                 "PeopleCount", "RentMin", "RentMax", "MoveInDate", "ReservedUnitID"), True),
    "UserDefinedFields": ("UserDefinedFieldID", ("Name", "FieldType", "ParentType", "ComboList", "IsRequired",
                                                 "SortOrder"), True),
    "UserDefinedValues": ("UserDefinedValueID", ("UserDefinedFieldID", "ParentID", "ParentType", "Name", "Value",
                                                 "FieldType", "UpdateDate", "UpdateUserID"), False),
    "Violations": ("ViolationID", ("PropertyID", "UnitID", "TenantID", "ViolationCodeID", "ViolationDate",
                                   "Description", "ResolveAction", "IsClosed", "CloseDate", "ConcurrencyID"), True),
    "ViolationCodes": ("ViolationCodeID", ("Code", "Description", "ViolationCategoryID", "ChargeTypeID", "IsActive"),
                       True),
    "AssociationSettings": ("AssociationSettingsID", ("PropertyID", "CanBoardViewArchitecturalRequestsOnTWA",
                                                      "CanBoardVoteArchitecturalRequestsOnTWA", "ConcurrencyID"), True),
    "Committees": ("CommitteeID", ("PropertyID", "Name", "DisplayName", "Description", "IsActive"), True),
    "CommitteeMembers": ("CommitteeMemberID", ("CommitteeID", "TenantID", "Position", "StartDate", "EndDate"), True),
    "CommercialRecoverableExpenses": ("CommercialRecoverableExpenseID",
                                      ("PropertyID", "LeaseID", "ChargeTypeID", "TenantIsProRataShare",
                                       "ProRataSharePercent", "TenantIsAdministrativeFees", "AdminFeePercent",
                                       "BaseYearAmount", "CapPercent", "AmountSpecific", "IsSubtractBaseAmount",
                                       "ConcurrencyID"), True),
    "CamAmortizations": ("CamAmortizationID", ("PropertyID", "GLAccountID", "Amount", "StartDate", "NumPeriods",
                                               "InternalNote", "TenantNote", "IsCanceled"), True),
    "Addresses": ("AddressID", ("ParentID", "ParentType", "AddressTypeID", "Street", "City", "State", "PostalCode",
                                "IsPrimary", "IsBilling"), False),
}

# The contract's UDFs: name -> parent type.
UDFS = {
    "Property Kind": "Property", "Affordable Programs": "Property", "LIHTC Election": "Property",
    "Bond Election": "Property", "HUD Limit Area": "Property", "Placed In Service": "Property",
    "HERA Special Eligible": "Property", "Compliance Agency": "Property",
    "BIN": "Unit", "AMI Designation": "Unit", "Unit Program": "Unit", "Utility Allowance": "Unit",
    "Certification Type": "Tenant", "Certification Effective Date": "Tenant", "Next Recertification Due": "Tenant",
    "Certified Annual Income": "Tenant", "Certified Household Size": "Tenant", "Student Exception": "Tenant",
    "Voucher Payment Standard": "Tenant", "Roommate Preferences": "Tenant", "Bed Space": "Tenant",
    "Move-In Certification Date": "Tenant", "Move-In Certified Income": "Tenant", "Move-In Household Size": "Tenant",
    "Relationship": "Contact", "Student Status": "Contact", "Employment Income": "Contact",
    "Benefit Income": "Contact", "Other Income": "Contact", "Asset Cash Value": "Contact",
    "Asset Annual Income": "Contact", "Compliance Status": "Tenant",
}
UDFS.update({name: parent for name, _type, parent, _combo in SPECIALTY_UDF_SPECS})  # the specialised products'
PROPERTY_KINDS = {"multifamily", "senior", "student", "commercial", "hoa", "single-family", "mixed-use"}
PROGRAMS = {"LIHTC", "Section 8", "HOME", "USDA RD 515", "Tax-Exempt Bond"}
UNIT_PROGRAMS = {"LIHTC", "HOME-Low", "HOME-High", "USDA RD 515", "Bond", "Market"}

# HUD FY2026 50 % (VLI) limits for 1..8 persons (compliance-rules.md §15), keyed by "HUD Limit Area".
VLI = {
    "Boston-Cambridge-Quincy, MA-NH HMFA": (60000, 68600, 77150, 85700, 92600, 99450, 106300, 113150),
    "Wichita, KS HUD Metro FMR Area": (33800, 38600, 43450, 48250, 52150, 56000, 59850, 63700),
    "Topeka, KS MSA": (34600, 39550, 44500, 49400, 53400, 57350, 61300, 65250),
    "Kansas City, MO-KS HMFA": (39700, 45400, 51050, 56700, 61250, 65800, 70350, 74850),
}

PLANTED_PROPERTIES = {f["property"] for f in PLANTED_FINDINGS}

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00$")
MONEY_TEXT = re.compile(r"^\d+\.\d{2}$")
YMD = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse(stamp: str) -> dt.datetime:
    """Naive .NET-style timestamp with 0-7 fractional digits (microsecond precision is enough here)."""
    assert STAMP.match(stamp), stamp
    base, _, frac = stamp.partition(".")
    value = dt.datetime.fromisoformat(base)
    return value + dt.timedelta(microseconds=int((frac + "000000")[:6])) if frac else value


def day(value: str) -> dt.date:
    assert DAY.match(value), value
    return dt.date.fromisoformat(value[:10])


def cents(x: float) -> int:
    c = round(x * 100)
    assert abs(x * 100 - c) < 1e-6, f"{x} is not rounded to cents"
    return c


class View:
    """Indexes over one generated portfolio."""

    def __init__(self, out: dict[str, list[dict]]):
        self.out = out
        self.by_id = {name: {r[CONTRACT[name][0]]: r for r in recs} for name, recs in out.items()}
        self.udv: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
        for v in out["UserDefinedValues"]:
            self.udv[(v["ParentType"], v["ParentID"])][v["Name"]] = v["Value"]
        self.kind = {pid: self.udv[("Property", pid)]["Property Kind"] for pid in self.by_id["Properties"]}
        self.contacts: dict[int, list[dict]] = defaultdict(list)
        for c in out["Contacts"]:
            if c["ParentType"] == "Tenant":
                self.contacts[c["ParentID"]].append(c)
        self.lease_of = {lease["TenantID"]: lease for lease in out["Leases"]}
        self.renewals: dict[int, list[dict]] = defaultdict(list)
        for r in out["LeaseRenewals"]:
            self.renewals[r["ParentLeaseID"]].append(r)
        self.unit_type = {u["UnitID"]: self.by_id["UnitTypes"][u["UnitTypeID"]]["Name"] for u in out["Units"]}

    def members(self, tid: int) -> list[dict]:
        """Household members: the tenant's contacts other than guarantors."""
        return [c for c in self.contacts[tid] if c["ApplicantType"] != "Guarantor"]


@pytest.fixture(scope="module")
def small() -> View:
    return View(generate_portfolio(60, SEED, NOW))


@pytest.fixture(scope="module")
def medium() -> View:
    return View(generate_portfolio(500, SEED, NOW))


@pytest.fixture(params=["small", "medium"])
def view(request) -> View:
    return request.getfixturevalue(request.param)


# -- shape ---------------------------------------------------------------------------------------------------

def test_collections_and_fields_follow_the_contract(view):
    out = view.out
    assert set(out) == set(CONTRACT) == set(COLLECTIONS)
    for name, (pk, fields, audit) in CONTRACT.items():
        assert out[name], f"{name} is empty"
        required = {pk, *fields, *(AUDIT if audit else ())}
        for rec in out[name]:
            missing = required - rec.keys()
            assert not missing, f"{name} {rec.get(pk)} lacks {sorted(missing)}"
            assert all(k[:1].isupper() for k in rec), f"{name}: keys must be PascalCase"


def test_records_are_json_ready_with_naive_dates(view):
    json.dumps(view.out)  # no datetimes, Decimals or sets
    for name, recs in view.out.items():
        for rec in recs:
            for key, value in rec.items():
                assert value is None or type(value) in (int, float, str, bool), (name, key, value)
                if isinstance(value, str) and key in ("CreateDate", "UpdateDate"):
                    assert STAMP.match(value), (name, key, value)
                elif isinstance(value, str) and (key.endswith("Date") or key in ("SalesMonth",
                                                                                   "InsuranceExpiration")):
                    assert DAY.match(value), (name, key, value)
    assert view.out["Locations"] == [{"LocationID": 1, "Name": "Default", "FriendlyName": "Default",
                                      "IsMainLocation": True}]


def test_ids_start_at_one_and_are_contiguous(view):
    for name, (pk, _fields, _audit) in CONTRACT.items():
        ids = [r[pk] for r in view.out[name]]
        assert ids == list(range(1, len(ids) + 1)), name
    for name in ("Charges", "Payments", "Credits"):
        assert all(r["ID"] == r[CONTRACT[name][0]] for r in view.out[name])


def test_charge_id_prefix_selects_exactly_k_rows(small):
    charges = small.out["Charges"]
    assert len(charges) >= 2500, "tests page through 2,500 charges of the 60-unit portfolio"
    for k in (0, 1, 999, 1000, 1001, 2500):
        assert sum(1 for c in charges if c["ChargeID"] <= k) == k


def test_audit_stamps_are_ordered_before_now_with_varied_precision(view):
    digits = Counter()
    for name, (_pk, _fields, audit) in CONTRACT.items():
        if not audit:
            continue
        for rec in view.out[name]:
            created, updated = parse(rec["CreateDate"]), parse(rec["UpdateDate"])
            assert created <= updated <= NOW, (name, rec)
            assert isinstance(rec["CreateUserID"], int) and isinstance(rec["UpdateUserID"], int)
            digits[len(rec["UpdateDate"].partition(".")[2])] += 1
    for v in view.out["UserDefinedValues"]:
        assert parse(v["UpdateDate"]) <= NOW
    assert set(digits) == set(range(8)), f"fractional digits seen: {sorted(digits)}"
    for name in ("Payments", "Tenants", "ServiceManagerIssues"):
        stamps = [r["UpdateDate"] for r in view.out[name]]
        assert len(set(stamps)) > 0.9 * len(stamps), f"{name}: UpdateDate values should be distinct-ish"


# -- determinism ---------------------------------------------------------------------------------------------

def test_same_inputs_give_identical_output(small):
    again = generate_portfolio(60, SEED, NOW)
    assert json.dumps(again, sort_keys=False) == json.dumps(small.out, sort_keys=False)


def test_output_does_not_depend_on_string_hashing():
    """Byte-identical across interpreter runs with different hash seeds (no set/hash-order dependence)."""
    code = ("import datetime, hashlib, json; from rm_pipelines.sandbox.portfolio import generate_portfolio; "
            "out = generate_portfolio(60, 3, datetime.datetime(2026, 2, 27, 23, 59, 59)); "
            "print(hashlib.sha256(json.dumps(out).encode()).hexdigest())")
    digests = set()
    for hash_seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        digests.add(run.stdout.strip())
    assert len(digests) == 1


def test_seed_and_now_change_the_output(small):
    other_seed = generate_portfolio(60, SEED + 1, NOW)
    assert [t["Name"] for t in other_seed["Tenants"]] != [t["Name"] for t in small.out["Tenants"]]
    later = generate_portfolio(60, SEED, NOW + dt.timedelta(days=45))
    assert max(parse(c["UpdateDate"]) for c in later["Charges"]) > max(parse(c["UpdateDate"])
                                                                     for c in small.out["Charges"])


def test_udf_definitions_are_exposed_as_a_copy(small):
    assert [d["Name"] for d in small.out["UserDefinedFields"]] == [d["Name"] for d in UDF_DEFINITIONS]
    small.out["UserDefinedFields"][0]["Name"] = "changed"
    try:
        assert UDF_DEFINITIONS[0]["Name"] == "Property Kind"
    finally:
        small.out["UserDefinedFields"][0]["Name"] = "Property Kind"


# -- proportions ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("units", [60, 500])
def test_proportions(units, small, medium):
    v = small if units == 60 else medium
    out = v.out
    n_units = len(out["Units"])
    assert 0.85 * units <= n_units <= 1.15 * units
    assert 1.15 <= len(out["Tenants"]) / n_units <= 1.7
    residential = [t for t in out["Tenants"] if not t["IsCompany"]]
    per_tenant = sum(len(v.contacts[t["TenantID"]]) for t in residential) / len(residential)
    assert 1.9 <= per_tenant <= 2.7
    history_years = (NOW - dt.datetime.combine(min(day(c["TransactionDate"]) for c in out["Charges"]),
                                               dt.time())).days / 365.25
    assert 13 / 12 <= history_years <= 15 / 12
    ledger_rows = len(out["Charges"]) + len(out["Payments"]) + len(out["Credits"])
    assert 30 <= ledger_rows / n_units / history_years <= 65
    assert 1.2 <= len(out["ServiceManagerIssues"]) / n_units / history_years <= 1.8
    assert len(out["Vendors"]) == max(8, round(units / 40))
    assert abs(len(out["Owners"]) - len(out["Properties"]) / 3) <= 1.5
    assert {c["OwnerID"] for c in out["OwnerContracts"]} == set(v.by_id["Owners"])
    assert len(out["Prospects"]) == round(units * 0.3)
    if units == 60:
        assert 10 <= len(out["Properties"]) <= 18


def test_more_units_mean_more_properties():
    big = generate_portfolio(3000, 5, NOW)
    assert 60 <= len(big["Properties"]) <= 200
    assert 0.9 * 3000 <= len(big["Units"]) <= 1.1 * 3000


# -- property kinds and programs -----------------------------------------------------------------------------

def test_every_property_kind_and_program_is_present(view):
    props = view.udv
    pids = list(view.by_id["Properties"])
    assert {view.kind[p] for p in pids} == PROPERTY_KINDS
    assert {r["PropertyType"] for r in view.out["Properties"]} == {"Residential", "Commercial", "Association",
                                                                   "MixedUse"}
    programs = {x.strip() for p in pids for x in props[("Property", p)]["Affordable Programs"].split(",") if x}
    assert programs == PROGRAMS
    assert {props[("Property", p)]["LIHTC Election"] for p in pids} == {"", "20-50", "40-60", "income-averaging"}
    assert {props[("Property", p)]["Bond Election"] for p in pids} - {""}
    unit_programs = {x for u in view.out["Units"]
                     for x in view.udv[("Unit", u["UnitID"])].get("Unit Program", "").split(",") if x}
    assert unit_programs == UNIT_PROGRAMS
    designations = {view.udv[("Unit", u["UnitID"])].get("AMI Designation") for u in view.out["Units"]}
    assert {"30", "40", "50", "60", "70", "80"} <= designations
    # Section 8 voucher households in affordable and in market properties
    voucher_props = {view.by_id["Tenants"][s["TenantID"]]["PropertyID"] for s in view.out["SubsidyTenants"]}
    assert any(props[("Property", p)]["Affordable Programs"] for p in voucher_props)
    assert any(not props[("Property", p)]["Affordable Programs"] for p in voucher_props)
    assert all(s["Name"].endswith("Housing Authority HCV") for s in view.out["Subsidies"])


def test_property_udf_values(view):
    for pid, prop in view.by_id["Properties"].items():
        values = view.udv[("Property", pid)]
        assert set(values) == {n for n, t in UDFS.items() if t == "Property"}
        assert values["HUD Limit Area"] in VLI
        assert YMD.match(values["Placed In Service"])
        assert values["HERA Special Eligible"] in ("Yes", "No")
        assert values["LIHTC Election"] in ("", "20-50", "40-60", "income-averaging")
        assert values["Bond Election"] in ("", "20-50", "40-60")
        programs = values["Affordable Programs"]
        assert ("LIHTC" in programs) == bool(values["LIHTC Election"])
        assert ("Tax-Exempt Bond" in programs) == bool(values["Bond Election"])
        assert bool(values["Compliance Agency"]) == bool(programs)
        expected_type = {"commercial": "Commercial", "hoa": "Association", "mixed-use": "MixedUse"}.get(
            values["Property Kind"], "Residential")
        assert prop["PropertyType"] == expected_type


def test_units_buildings_and_bins(view):
    units_of = defaultdict(list)
    for u in view.out["Units"]:
        units_of[u["PropertyID"]].append(u)
    for pid, units in units_of.items():
        kind = view.kind[pid]
        assert len({u["Name"] for u in units}) == len(units), "unit names are unique within a property"
        if kind == "single-family":
            assert len(units) == 1
        if kind == "mixed-use":
            types = {view.unit_type[u["UnitID"]] for u in units}
            assert "Retail Space" in types and types - {"Retail Space"}
        lihtc = "LIHTC" in view.udv[("Property", pid)]["Affordable Programs"]
        bins = Counter()
        for u in units:
            values = view.udv[("Unit", u["UnitID"])]
            residential = kind not in ("commercial", "hoa") and view.unit_type[u["UnitID"]] != "Retail Space"
            assert set(values) == ({"BIN", "AMI Designation", "Unit Program", "Utility Allowance"}
                                   if residential else set()), (kind, values)
            if not residential:
                continue
            assert values["AMI Designation"] in ("", "20", "30", "40", "50", "60", "70", "80")
            assert values["Utility Allowance"] == "" or MONEY_TEXT.match(values["Utility Allowance"])
            if values["AMI Designation"]:
                assert MONEY_TEXT.match(values["Utility Allowance"])
            if lihtc:
                assert re.match(r"^[A-Z]{2}-\d{2}-\d{5}$", values["BIN"]), values["BIN"]
                bins[values["BIN"]] += 1
            else:
                assert values["BIN"] == ""
        assert all(n <= 24 for n in bins.values()), "buildings of about 24 units share a BIN"
        if lihtc and len(units) > 24:
            assert len(bins) >= 2


def test_income_averaging_designations(view):
    for pid in view.by_id["Properties"]:
        if view.udv[("Property", pid)]["LIHTC Election"] != "income-averaging":
            continue
        if view.by_id["Properties"][pid]["ShortName"] in PLANTED_PROPERTIES:
            continue  # Maple Commons averages above 60 % on purpose (test_planted_properties)
        des = [int(view.udv[("Unit", u["UnitID"])]["AMI Designation"]) for u in view.out["Units"]
               if u["PropertyID"] == pid and view.udv[("Unit", u["UnitID"])]["AMI Designation"]]
        assert set(des) == {30, 40, 50, 60, 70, 80}
        assert sum(des) / len(des) <= 60


def test_set_asides_are_met(view):
    """20-50 properties: at least 20 % of units LIHTC at 50 %; HOME properties: at least one Low HOME unit."""
    for pid in view.by_id["Properties"]:
        values = view.udv[("Property", pid)]
        units = [view.udv[("Unit", u["UnitID"])] for u in view.out["Units"] if u["PropertyID"] == pid]
        if view.by_id["Properties"][pid]["ShortName"] in PLANTED_PROPERTIES:
            continue  # Elm Court is one unit short on purpose (test_planted_properties)
        if values["LIHTC Election"] == "20-50":
            res = [u for u in units if u]
            assert sum(u["AMI Designation"] == "50" for u in res) >= 0.2 * len(res)
        if "HOME" in values["Affordable Programs"]:
            programs = [u["Unit Program"] for u in units]
            assert any("HOME-Low" in p for p in programs) and any("HOME-High" in p for p in programs)


# -- referential integrity -----------------------------------------------------------------------------------

FOREIGN_KEYS = [  # (collection, field, target collection); None values are allowed
    ("Units", "PropertyID", "Properties"), ("Units", "UnitTypeID", "UnitTypes"), ("MarketRents", "UnitID", "Units"),
    ("Tenants", "PropertyID", "Properties"), ("Contacts", "ContactTypeID", "ContactTypes"),
    ("Leases", "TenantID", "Tenants"), ("Leases", "UnitID", "Units"), ("Leases", "PropertyID", "Properties"),
    ("LeaseRenewals", "ParentLeaseID", "Leases"), ("LeaseRenewals", "UnitID", "Units"),
    ("RetailSales", "LeaseID", "Leases"),
    ("Charges", "AccountID", "Tenants"), ("Charges", "PropertyID", "Properties"), ("Charges", "UnitID", "Units"),
    ("Charges", "ChargeTypeID", "ChargeTypes"), ("Payments", "AccountID", "Tenants"),
    ("Allocations", "PaymentID", "Payments"), ("Allocations", "ChargeID", "Charges"),
    ("Allocations", "PropertyID", "Properties"), ("Allocations", "UnitID", "Units"),
    ("Credits", "AccountID", "Tenants"), ("Credits", "ChargeTypeID", "ChargeTypes"),
    ("Credits", "PropertyID", "Properties"), ("Credits", "UnitID", "Units"),
    ("RecurringCharges", "TenantID", "Tenants"), ("RecurringCharges", "UnitID", "Units"),
    ("RecurringCharges", "PropertyID", "Properties"), ("RecurringCharges", "ChargeTypeID", "ChargeTypes"),
    ("Subsidies", "ChargeTypeID", "ChargeTypes"), ("SubsidyTenants", "SubsidyID", "Subsidies"),
    ("SubsidyTenants", "TenantID", "Tenants"),
    ("ServiceManagerIssues", "CategoryID", "ServiceManagerCategories"),
    ("ServiceManagerIssues", "StatusID", "ServiceManagerStatuses"),
    ("ServiceManagerIssues", "PriorityID", "ServiceManagerPriorities"), ("ServiceManagerIssues", "VendorID", "Vendors"),
    ("ServiceManagerIssueLinkedProperties", "ServiceManagerIssueID", "ServiceManagerIssues"),
    ("ServiceManagerIssueLinkedProperties", "PropertyID", "Properties"),
    ("ServiceManagerIssueLinkedUnits", "ServiceManagerIssueID", "ServiceManagerIssues"),
    ("ServiceManagerIssueLinkedUnits", "UnitID", "Units"),
    ("ServiceManagerIssueLinkedTenants", "ServiceManagerIssueID", "ServiceManagerIssues"),
    ("ServiceManagerIssueLinkedTenants", "TenantID", "Tenants"),
    ("OwnerContracts", "OwnerID", "Owners"), ("OwnerContracts", "PropertyID", "Properties"),
    ("Prospects", "PropertyID", "Properties"), ("Prospects", "ReservedUnitID", "Units"),
    ("UserDefinedValues", "UserDefinedFieldID", "UserDefinedFields"),
    ("Violations", "PropertyID", "Properties"), ("Violations", "UnitID", "Units"),
    ("Violations", "TenantID", "Tenants"),
    ("Violations", "ViolationCodeID", "ViolationCodes"), ("ViolationCodes", "ChargeTypeID", "ChargeTypes"),
    ("AssociationSettings", "PropertyID", "Properties"), ("Committees", "PropertyID", "Properties"),
    ("CommitteeMembers", "CommitteeID", "Committees"), ("CommitteeMembers", "TenantID", "Tenants"),
    ("CommercialRecoverableExpenses", "PropertyID", "Properties"),
    ("CommercialRecoverableExpenses", "LeaseID", "Leases"),
    ("CommercialRecoverableExpenses", "ChargeTypeID", "ChargeTypes"), ("CamAmortizations", "PropertyID", "Properties"),
]
PARENTS = {"Tenant": "Tenants", "Prospect": "Prospects", "Vendor": "Vendors", "Owner": "Owners",
           "Property": "Properties", "Unit": "Units", "Contact": "Contacts"}


def test_every_foreign_key_points_at_an_existing_record(view):
    for coll, fld, target in FOREIGN_KEYS:
        keys = view.by_id[target]
        dangling = [r for r in view.out[coll] if r[fld] is not None and r[fld] not in keys]
        assert not dangling, f"{coll}.{fld} -> {target}: {dangling[:3]}"
    allowed = {"Contacts": {"Tenant", "Prospect", "Vendor", "Owner"},
               "UserDefinedValues": {"Property", "Unit", "Tenant", "Contact"},
               "Addresses": {"Property", "Tenant", "Vendor", "Owner"}}
    for coll, types in allowed.items():
        for r in view.out[coll]:
            assert r["ParentType"] in types, (coll, r)
            assert r["ParentID"] in view.by_id[PARENTS[r["ParentType"]]], (coll, r)
    entity = {"Tenant": "Tenants", "Unit": "Units", "Property": "Properties"}
    for rc in view.out["RecurringCharges"]:
        assert rc["EntityKeyID"] in view.by_id[entity[rc["EntityType"]]], rc
        if rc["EntityType"] == "Tenant":
            assert rc["TenantID"] == rc["EntityKeyID"]


def test_joins_agree(view):
    """Denormalised keys agree with the records they repeat (lease/unit/tenant/property, ledger rows)."""
    units, tenants, leases = view.by_id["Units"], view.by_id["Tenants"], view.by_id["Leases"]
    for lease in view.out["Leases"]:
        assert units[lease["UnitID"]]["PropertyID"] == lease["PropertyID"] == tenants[lease["TenantID"]]["PropertyID"]
    assert len(view.lease_of) == len(tenants), "one lease per tenant"
    for r in view.out["LeaseRenewals"]:
        assert r["UnitID"] == leases[r["ParentLeaseID"]]["UnitID"]
    for name in ("Charges", "Credits"):
        for c in view.out[name]:
            lease = view.lease_of[c["AccountID"]]
            assert (c["PropertyID"], c["UnitID"]) == (lease["PropertyID"], lease["UnitID"]), (name, c)
            assert c["AccountType"] == "Customer"
    for v in view.out["Violations"]:
        assert tenants[v["TenantID"]]["PropertyID"] == v["PropertyID"] == units[v["UnitID"]]["PropertyID"]
        assert view.lease_of[v["TenantID"]]["UnitID"] == v["UnitID"]
    issues_props = {lp["ServiceManagerIssueID"]: lp["PropertyID"]
                    for lp in view.out["ServiceManagerIssueLinkedProperties"]}
    assert set(issues_props) == set(view.by_id["ServiceManagerIssues"])
    for lu in view.out["ServiceManagerIssueLinkedUnits"]:
        assert units[lu["UnitID"]]["PropertyID"] == issues_props[lu["ServiceManagerIssueID"]]
    for lt in view.out["ServiceManagerIssueLinkedTenants"]:
        assert tenants[lt["TenantID"]]["PropertyID"] == issues_props[lt["ServiceManagerIssueID"]]
    for p in view.out["Prospects"]:
        if p["ReservedUnitID"] is not None:
            assert units[p["ReservedUnitID"]]["PropertyID"] == p["PropertyID"]


# -- ledger --------------------------------------------------------------------------------------------------

def test_ledger_allocations_are_consistent(view):
    charges, payments = view.by_id["Charges"], view.by_id["Payments"]
    to_charge, of_payment = Counter(), Counter()
    for a in view.out["Allocations"]:
        charge, payment = charges[a["ChargeID"]], payments[a["PaymentID"]]
        assert charge["AccountID"] == payment["AccountID"]
        assert (a["PropertyID"], a["UnitID"]) == (charge["PropertyID"], charge["UnitID"])
        assert a["TransactionDate"] == payment["TransactionDate"]
        assert day(charge["TransactionDate"]) <= day(payment["TransactionDate"])
        assert payment["ReversalDate"] is None, "reversed payments keep no allocations"
        amount = cents(a["Amount"])
        assert amount > 0
        to_charge[a["ChargeID"]] += amount
        of_payment[a["PaymentID"]] += amount
    for cid, c in charges.items():
        assert c["TransactionType"] == "Charge" and cents(c["Amount"]) > 0
        assert cents(c["AmountAllocated"]) == to_charge[cid] <= cents(c["Amount"]), c
        assert c["IsFullyAllocated"] == (to_charge[cid] == cents(c["Amount"]))
    for pid, p in payments.items():
        assert p["TransactionType"] == "Payment" and p["AccountType"] == "Customer"
        assert cents(p["AmountAllocated"]) == of_payment[pid] <= cents(p["Amount"]), p
        assert p["IsFullyAllocated"] == (of_payment[pid] == cents(p["Amount"]))
        assert "PropertyID" not in p
        assert day(p["TransactionDate"]) <= NOW.date()
    for c in view.out["Credits"]:
        assert c["TransactionType"] == "Credit" and cents(c["Amount"]) > 0
    assert any(p["ReversalType"] == "NSF" for p in payments.values()) or len(payments) < 3000
    assert sum(c["IsFullyAllocated"] for c in charges.values()) > 0.8 * len(charges)
    assert any(not c["IsFullyAllocated"] for c in charges.values()), "some balances stay open"


def test_hap_payments_pay_hap_charges_only(view):
    hap = next(t["ChargeTypeID"] for t in view.out["ChargeTypes"] if t["Name"] == "HAP")
    charges = view.by_id["Charges"]
    hap_payments = {p["PaymentID"] for p in view.out["Payments"] if p["Comment"].endswith("HAP")}
    assert hap_payments
    for a in view.out["Allocations"]:
        assert (charges[a["ChargeID"]]["ChargeTypeID"] == hap) == (a["PaymentID"] in hap_payments)
    voucher_tenants = {s["TenantID"] for s in view.out["SubsidyTenants"]}
    assert {c["AccountID"] for c in charges.values() if c["ChargeTypeID"] == hap} <= voucher_tenants


def test_monthly_charges_follow_the_lease(view):
    rent = next(t["ChargeTypeID"] for t in view.out["ChargeTypes"] if t["Name"] == "RENT")
    tenants = view.by_id["Tenants"]
    for c in view.out["Charges"]:
        if c["ChargeTypeID"] != rent:
            continue
        lease = view.lease_of[c["AccountID"]]
        when = day(c["TransactionDate"])
        move_in = day(lease["MoveInDate"])
        assert when.day == 1 or when == move_in, c
        assert move_in <= when <= NOW.date()
        if lease["MoveOutDate"]:
            assert when <= day(lease["MoveOutDate"])
        assert tenants[c["AccountID"]]["Status"] != "Future"


# -- tenants, leases, households -----------------------------------------------------------------------------

def test_tenant_status_matches_the_lease(view):
    for t in view.out["Tenants"]:
        lease = view.lease_of[t["TenantID"]]
        move_in = day(lease["MoveInDate"])
        if t["Status"] == "Past":
            assert lease["MoveOutDate"] and day(lease["MoveOutDate"]) <= NOW.date()
        else:
            assert lease["MoveOutDate"] is None
        if t["Status"] == "Future":
            assert move_in > NOW.date()
        else:
            assert move_in <= NOW.date()
        assert t["RentPeriod"] == "Monthly" and 1 <= t["RentDueDay"] <= 28
        if not t["IsCompany"]:
            assert t["Name"] == f"{t['LastName']}, {t['FirstName']}"
    statuses = Counter(t["Status"] for t in view.out["Tenants"])
    assert statuses["Current"] > statuses["Past"] > 0


def test_renewal_chains_are_contiguous(view):
    for lease_id, chain in view.renewals.items():
        chain.sort(key=lambda r: r["StartDate"])
        lease = view.by_id["Leases"][lease_id]
        assert day(chain[0]["StartDate"]) == day(lease["MoveInDate"])
        for a, b in zip(chain, chain[1:]):
            assert day(b["StartDate"]) > day(a["EndDate"])
        for r in chain:
            assert day(r["SignDate"]) <= min(day(r["StartDate"]), NOW.date())
            assert day(r["StartDate"]) < day(r["EndDate"])
            if not lease["IsCommercial"] and view.kind[lease["PropertyID"]] != "student":
                assert r["LeaseLength"] == 12


def test_households(view):
    ages_ok = 0
    for t in view.out["Tenants"]:
        if t["IsCompany"]:
            assert all(c["ContactTypeID"] in (6, 7) for c in view.contacts[t["TenantID"]])
            continue
        members = view.members(t["TenantID"])
        assert 1 <= len(members) <= 6
        heads = [c for c in members if c["IsPrimary"]]
        assert len(heads) == 1 and heads[0]["ContactTypeID"] == 1 and heads[0]["ApplicantType"] == "Applicant"
        head_dob = day(heads[0]["DateOfBirth"])
        for c in members:
            rel = view.udv[("Contact", c["ContactID"])]["Relationship"]
            assert rel in ("Head", "Spouse", "Co-Head", "Child", "Other Adult")
            if rel == "Child":
                assert day(c["DateOfBirth"]) > head_dob
                ages_ok += 1
            age = (NOW.date() - day(c["DateOfBirth"])).days / 365.25
            assert 0 <= age < 100
        if view.kind[t["PropertyID"]] == "senior":
            assert (NOW.date() - head_dob).days / 365.25 >= 62
        assert len(members) <= view.by_id["Units"][view.lease_of[t["TenantID"]]["UnitID"]]["MaxOccupancy"] or \
            view.kind[t["PropertyID"]] == "hoa"
    assert ages_ok > 0


def test_student_housing(view):
    beds: dict[tuple[int, str], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    students = [t for t in view.out["Tenants"] if view.kind[t["PropertyID"]] == "student"]
    assert students
    for t in students:
        tid = t["TenantID"]
        values = view.udv[("Tenant", tid)]
        assert values["Bed Space"] in ("A", "B", "C", "D") and values["Roommate Preferences"]
        contacts = view.contacts[tid]
        head = [c for c in contacts if c["IsPrimary"]]
        assert len(head) == 1 and view.udv[("Contact", head[0]["ContactID"])]["Student Status"] == "Full-time"
        guarantors = [c for c in contacts if c["ApplicantType"] == "Guarantor"]
        assert guarantors and all(view.udv[("Contact", g["ContactID"])]["Relationship"] == "Guarantor"
                                  for g in guarantors)
        lease = view.lease_of[tid]
        for r in view.renewals[lease["LeaseID"]]:
            start, end = day(r["StartDate"]), day(r["EndDate"])
            assert (start.month, start.day, end.month, end.day) == (8, 15, 7, 31) and end.year == start.year + 1
        unit = view.by_id["Units"][lease["UnitID"]]
        assert "ABCD".index(values["Bed Space"]) < unit["Bedrooms"]
        end = day(lease["MoveOutDate"] or lease["ExpectedMoveOutDate"])
        beds[(lease["UnitID"], values["Bed Space"])].append((day(lease["MoveInDate"]), end))
    for spans in beds.values():  # one tenant per bed at a time
        spans.sort()
        for (_s1, e1), (s2, _e2) in zip(spans, spans[1:]):
            assert s2 > e1


def test_program_households_certify_under_their_limits(view):
    rows = 0
    qualified = 0
    for t in view.out["Tenants"]:
        lease = view.lease_of[t["TenantID"]]
        unit_values = view.udv[("Unit", lease["UnitID"])]
        if not unit_values or unit_values["Unit Program"] == "Market":
            continue
        values = view.udv[("Tenant", t["TenantID"])]
        assert values["Certification Type"] in ("Move-In", "Annual", "Interim")
        assert YMD.match(values["Certification Effective Date"]) and YMD.match(values["Next Recertification Due"])
        assert values["Next Recertification Due"] > values["Certification Effective Date"]
        assert values["Student Exception"] in ("", "TANF", "Job Training", "Single Parent", "Joint Return",
                                               "Foster Care")
        assert values["Voucher Payment Standard"] == "" or MONEY_TEXT.match(values["Voucher Payment Standard"])
        members = view.members(t["TenantID"])
        assert values["Certified Household Size"] == str(len(members))
        total = 0
        for c in members:
            income = view.udv[("Contact", c["ContactID"])]
            for name in ("Employment Income", "Benefit Income", "Other Income", "Asset Cash Value",
                         "Asset Annual Income"):
                assert MONEY_TEXT.match(income[name]), income
            earned = sum(cents(float(income[n])) for n in ("Employment Income", "Benefit Income", "Other Income"))
            assert cents(c["AnnualIncome"]) == earned
            total += earned + cents(float(income["Asset Annual Income"]))
        assert cents(float(values["Certified Annual Income"])) == total
        if not unit_values["AMI Designation"]:
            continue
        area = view.udv[("Property", t["PropertyID"])]["HUD Limit Area"]
        limit = VLI[area][len(members) - 1] * int(unit_values["AMI Designation"]) // 50
        rows += 1
        qualified += total <= limit * 100
        if values["Certification Type"] == "Move-In":
            assert total <= limit * 100, (t, values, limit)
    assert rows and qualified >= 0.75 * rows


def test_program_rents_stay_under_the_lihtc_maximum(view):
    rent_types = {t["ChargeTypeID"] for t in view.out["ChargeTypes"] if t["Name"] in ("RENT", "HAP")}
    current_rent = Counter()
    for rc in view.out["RecurringCharges"]:
        if rc["EntityType"] == "Tenant" and rc["ChargeTypeID"] in rent_types and rc["ToDate"] is None:
            current_rent[rc["TenantID"]] += cents(rc["Amount"])
    checked = 0
    for t in view.out["Tenants"]:
        if t["Status"] != "Current" or t["IsCompany"]:
            continue
        lease = view.lease_of[t["TenantID"]]
        values = view.udv[("Unit", lease["UnitID"])]
        if not values or not values["AMI Designation"]:
            continue
        if (view.by_id["Properties"][t["PropertyID"]]["ShortName"], view.by_id["Units"][lease["UnitID"]]["Name"]) \
                == ("HARBOR", "103"):
            continue  # $1 over on purpose (test_planted_properties)
        bedrooms = view.by_id["Units"][lease["UnitID"]]["Bedrooms"]
        vli = VLI[view.udv[("Property", t["PropertyID"])]["HUD Limit Area"]]
        pct = int(values["AMI Designation"])
        if bedrooms == 0:
            income_limit = vli[0] * pct // 50
        else:  # 1.5 persons per bedroom, averaging neighbouring sizes
            n, half = divmod(3 * bedrooms, 2)
            income_limit = (vli[n - 1] + vli[n]) * pct // 100 if half else vli[n - 1] * pct // 50
        max_gross = income_limit // 40
        gross = current_rent[t["TenantID"]] + cents(float(values["Utility Allowance"]))
        assert 0 < gross <= max_gross * 100, (t, values, gross, max_gross)
        checked += 1
    assert checked


def test_commercial_and_retail(view):
    cre_leases = {c["LeaseID"] for c in view.out["CommercialRecoverableExpenses"]}
    history_start = min(day(c["TransactionDate"]) for c in view.out["Charges"]).replace(day=1)
    sales = defaultdict(list)
    for s in view.out["RetailSales"]:
        assert day(s["SalesMonth"]).day == 1 and s["GrossSales"] > s["ExcludedSales"] >= 0
        sales[s["LeaseID"]].append(day(s["SalesMonth"]))
    for lease in view.out["Leases"]:
        tenant = view.by_id["Tenants"][lease["TenantID"]]
        unit_type = view.unit_type[lease["UnitID"]]
        commercial = unit_type in ("Office Suite", "Retail Space")
        assert lease["IsCommercial"] == commercial == tenant["IsCompany"]
        if commercial:
            assert lease["LeaseID"] in cre_leases
        if unit_type == "Retail Space" and tenant["Status"] != "Future":
            # one report per month of the history the lease was in place, up to last month
            first = max(history_start, day(lease["MoveInDate"]).replace(day=1))
            last = min(NOW.date().replace(day=1) - dt.timedelta(days=1),
                       day(lease["MoveOutDate"]) if lease["MoveOutDate"] else NOW.date())
            expected = []
            while first <= last:
                expected.append(first)
                first = (first + dt.timedelta(days=32)).replace(day=1)
            assert sorted(sales[lease["LeaseID"]]) == expected, lease
    cam = {t["ChargeTypeID"] for t in view.out["ChargeTypes"] if t["IsCam"]}
    assert cam and any(c["ChargeTypeID"] in cam for c in view.out["Charges"])
    commercial_props = {p for p, k in view.kind.items() if k in ("commercial", "mixed-use")}
    assert {c["PropertyID"] for c in view.out["CamAmortizations"]} <= commercial_props


def test_hoa(view):
    hoa_props = {p for p, k in view.kind.items() if k == "hoa"}
    assert hoa_props
    assert {s["PropertyID"] for s in view.out["AssociationSettings"]} == hoa_props
    assert {v["PropertyID"] for v in view.out["Violations"]} <= hoa_props
    hoa_type = next(t["ChargeTypeID"] for t in view.out["ChargeTypes"] if t["Name"] == "HOA")
    assert {rc["PropertyID"] for rc in view.out["RecurringCharges"]
            if rc["EntityType"] == "Property" and rc["ChargeTypeID"] == hoa_type} == hoa_props
    assert {c["PropertyID"] for c in view.out["Charges"] if c["ChargeTypeID"] == hoa_type} == hoa_props
    for pid in hoa_props:
        boards = [c for c in view.out["Committees"] if c["PropertyID"] == pid and c["Name"] == "Board of Directors"]
        assert len(boards) == 1
        members = [m for m in view.out["CommitteeMembers"] if m["CommitteeID"] == boards[0]["CommitteeID"]]
        current = [m for m in members if day(m["EndDate"]) >= NOW.date()]
        assert {m["Position"] for m in current} == {"President", "Vice President", "Treasurer", "Secretary",
                                                    "Member at Large"}
        assert all(view.by_id["Tenants"][m["TenantID"]]["PropertyID"] == pid for m in members)


def test_udv_values_follow_their_definitions(view):
    fields = view.by_id["UserDefinedFields"]
    assert {f["Name"]: f["ParentType"] for f in fields.values()} == UDFS
    for v in view.out["UserDefinedValues"]:
        field = fields[v["UserDefinedFieldID"]]
        assert (v["Name"], v["ParentType"], v["FieldType"]) == (field["Name"], field["ParentType"],
                                                                field["FieldType"])
        assert isinstance(v["Value"], str)
        if field["FieldType"] == "Date" and v["Value"]:
            assert YMD.match(v["Value"]), v
        if field["FieldType"] == "Numeric" and v["Value"]:
            assert re.match(r"^\d+(\.\d{2})?$", v["Value"]), v
        if field["FieldType"] == "Dropdown List" and v["Value"]:
            assert v["Value"] in field["ComboList"].split(","), v
    pairs = Counter((v["ParentType"], v["ParentID"], v["Name"]) for v in view.out["UserDefinedValues"])
    assert max(pairs.values()) == 1, "one value per field and parent"


# -- compliance: clean program households and the planted problems ------------------------------------------

BOSTON = "Boston-Cambridge-Quincy, MA-NH HMFA"
PLANTED_UNITS = {  # ShortName -> (Name, election, {unit: (bedrooms, Unit Program, AMI Designation)})
    "HARBOR": ("Harbor Point Apartments", "40-60", {
        "101": (2, "LIHTC", "60"), "102": (2, "Market", ""), "103": (1, "LIHTC", "60"), "104": (2, "LIHTC", "60"),
        "201": (1, "LIHTC", "60"), "202": (1, "LIHTC", "60"), "203": (2, "LIHTC", "60")}),
    "ELMCOURT": ("Elm Court Apartments", "20-50", {
        "101": (1, "LIHTC", "50"), "102": (1, "Market", ""), "103": (2, "Market", ""), "201": (2, "Market", ""),
        "202": (1, "Market", ""), "203": (2, "Market", "")}),
    "MAPLE": ("Maple Commons", "income-averaging", {
        "101": (1, "LIHTC", "30"), "102": (1, "LIHTC", "40"), "103": (2, "LIHTC", "50"), "104": (2, "LIHTC", "60"),
        "201": (1, "LIHTC", "70"), "202": (1, "LIHTC", "80"), "203": (2, "LIHTC", "80"), "204": (2, "LIHTC", "80")}),
}


def _limit(area: str, pct: int, persons: int) -> int:
    """Income limit in whole dollars: pct/50 x the area's 50 % row."""
    return VLI[area][min(persons, 8) - 1] * pct // 50


def _tier(unit_values: dict[str, str]) -> int:
    """The income/rent tier a program unit is kept under: its designation, Low/High HOME 50/60, RD 515 80."""
    if unit_values["AMI Designation"]:
        return int(unit_values["AMI Designation"])
    program = unit_values["Unit Program"]
    return 50 if "HOME-Low" in program else 60 if "HOME-High" in program else 80


def _current_tenant(view: View, short: str, unit_name: str) -> dict:
    prop = next(p for p in view.out["Properties"] if p["ShortName"] == short)
    unit = next(u for u in view.out["Units"] if u["PropertyID"] == prop["PropertyID"] and u["Name"] == unit_name)
    return next(t for t in view.out["Tenants"] if t["Status"] == "Current"
                and view.lease_of[t["TenantID"]]["UnitID"] == unit["UnitID"])


def test_affordable_properties_sit_in_areas_with_bundled_limits(view):
    kansas = set(VLI) - {BOSTON}
    for pid in view.by_id["Properties"]:
        values = view.udv[("Property", pid)]
        programs = {x.strip() for x in values["Affordable Programs"].split(",") if x.strip()} - {"Section 8"}
        if programs == {"HOME"}:
            assert values["HUD Limit Area"] in kansas  # Section 8 (HOME income) limits
        elif programs:
            assert values["HUD Limit Area"] == BOSTON, values  # MTSP limits


def test_clean_program_households_are_compliant(view):
    """Outside the planted properties every program household is compliant by the engine's rules: a move-in
    certification on record (date = move-in) that qualifies at the unit's tier, a current income under 140 %
    of the limit, a current annual recertification (interim ones only in the first year), an exception for
    every all-full-time-student household, and no utility lines (the utility allowance covers them)."""
    codes = {t["ChargeTypeID"]: t["Name"] for t in view.out["ChargeTypes"]}
    charge_codes: dict[int, set[str]] = defaultdict(set)
    for rc in view.out["RecurringCharges"]:
        if rc["EntityType"] == "Tenant":
            charge_codes[rc["TenantID"]].add(codes[rc["ChargeTypeID"]])
    checked = 0
    for t in view.out["Tenants"]:
        lease = view.lease_of[t["TenantID"]]
        unit_values = view.udv[("Unit", lease["UnitID"])]
        if not unit_values or unit_values["Unit Program"] == "Market" or t["IsCompany"]:
            continue
        if view.by_id["Properties"][t["PropertyID"]]["ShortName"] in PLANTED_PROPERTIES:
            continue
        values = view.udv[("Tenant", t["TenantID"])]
        area = view.udv[("Property", t["PropertyID"])]["HUD Limit Area"]
        tier = _tier(unit_values)
        move_in = day(lease["MoveInDate"])
        assert values["Move-In Certification Date"] == move_in.isoformat()
        mi_size = int(values["Move-In Household Size"])
        assert cents(float(values["Move-In Certified Income"])) <= _limit(area, tier, mi_size) * 100, (t, values)
        size = int(values["Certified Household Size"])
        assert cents(float(values["Certified Annual Income"])) <= _limit(area, tier, size) * 140, (t, values)
        if values["Certification Type"] == "Move-In":
            assert values["Move-In Certified Income"] == values["Certified Annual Income"]
        if values["Certification Type"] == "Interim":  # first year only: due on the first anniversary
            assert dt.date.fromisoformat(values["Next Recertification Due"]) - move_in <= dt.timedelta(days=366)
        if t["Status"] == "Current":
            assert dt.date.fromisoformat(values["Next Recertification Due"]) > NOW.date(), (t, values)
        members = view.members(t["TenantID"])
        if all(view.udv[("Contact", c["ContactID"])]["Student Status"] == "Full-time" for c in members):
            assert values["Student Exception"], (t, values)
        assert charge_codes[t["TenantID"]] <= {"RENT", "HAP", "PARK", "PET"}, (t, charge_codes[t["TenantID"]])
        checked += 1
    assert checked > 10


def test_program_units_are_occupied_or_were(view):
    """A vacant program unit had a previous household (vacant unit rule); bond and Low HOME units are occupied."""
    tenancies: dict[int, list[str]] = defaultdict(list)
    for t in view.out["Tenants"]:
        tenancies[view.lease_of[t["TenantID"]]["UnitID"]].append(t["Status"])
    for u in view.out["Units"]:
        values = view.udv[("Unit", u["UnitID"])]
        if not values or values["Unit Program"] in ("", "Market"):
            continue
        statuses = tenancies[u["UnitID"]]
        assert "Current" in statuses or "Past" in statuses, (u, values)
        if "Bond" in values["Unit Program"] or "HOME-Low" in values["Unit Program"]:
            assert "Current" in statuses, (u, values)


def test_planted_properties(view):
    props = {p["ShortName"]: p for p in view.out["Properties"]}
    for short, (name, election, units) in PLANTED_UNITS.items():
        prop = props[short]
        values = view.udv[("Property", prop["PropertyID"])]
        assert prop["Name"] == name and values["LIHTC Election"] == election and values["HUD Limit Area"] == BOSTON
        got = {u["Name"]: (u["Bedrooms"], view.udv[("Unit", u["UnitID"])]["Unit Program"],
                           view.udv[("Unit", u["UnitID"])]["AMI Designation"])
               for u in view.out["Units"] if u["PropertyID"] == prop["PropertyID"]}
        assert got == units
        for unit in units:  # every planted unit is occupied
            _current_tenant(view, short, unit)
    for f in PLANTED_FINDINGS:
        if f["tenant"]:
            assert _current_tenant(view, f["property"], f["unit"])["Name"] == f["tenant"]
    # Harbor Point 101: qualified at move-in, over 140 % at the annual recertification ...
    over = _current_tenant(view, "HARBOR", "101")
    ov = view.udv[("Tenant", over["TenantID"])]
    assert ov["Certification Type"] == "Annual" and ov["Certified Household Size"] == "2"
    assert cents(float(ov["Move-In Certified Income"])) <= _limit(BOSTON, 60, 2) * 100
    assert cents(float(ov["Certified Annual Income"])) > _limit(BOSTON, 60, 2) * 140
    recert = dt.date.fromisoformat(ov["Certification Effective Date"])
    assert recert < NOW.date()
    # ... then the comparable market unit 102 went to an over-income household without a certification
    newcomer = _current_tenant(view, "HARBOR", "102")
    assert recert < day(view.lease_of[newcomer["TenantID"]]["MoveInDate"]) <= NOW.date()
    assert "Certification Type" not in view.udv[("Tenant", newcomer["TenantID"])]
    assert sum(c["AnnualIncome"] for c in view.members(newcomer["TenantID"])) > _limit(BOSTON, 60, 2)
    others = [t for t in view.out["Tenants"] if t["PropertyID"] == props["HARBOR"]["PropertyID"]
              and t["TenantID"] != newcomer["TenantID"] and t["Status"] != "Future"]
    assert all(day(view.lease_of[t["TenantID"]]["MoveInDate"]) < recert for t in others)
    # 103: gross rent one dollar over the 1BR 60 % maximum
    gross = _current_tenant(view, "HARBOR", "103")
    rent = sum(cents(rc["Amount"]) for rc in view.out["RecurringCharges"]
               if rc["TenantID"] == gross["TenantID"] and rc["ToDate"] is None)
    unit = view.by_id["Units"][view.lease_of[gross["TenantID"]]["UnitID"]]
    ua = cents(float(view.udv[("Unit", unit["UnitID"])]["Utility Allowance"]))
    assert rent + ua == ((VLI[BOSTON][0] + VLI[BOSTON][1]) * 60 // 100 // 40 + 1) * 100
    # 104: only the move-in certification, more than a year old
    overdue = view.udv[("Tenant", _current_tenant(view, "HARBOR", "104")["TenantID"])]
    assert overdue["Certification Type"] == "Move-In"
    assert dt.date.fromisoformat(overdue["Next Recertification Due"]) < NOW.date()
    # 201: every member a full-time student, no exception
    students = _current_tenant(view, "HARBOR", "201")
    assert all(view.udv[("Contact", c["ContactID"])]["Student Status"] == "Full-time"
               for c in view.members(students["TenantID"]))
    assert view.udv[("Tenant", students["TenantID"])]["Student Exception"] == ""
    # Maple Commons: designations average 61.25 %
    maple = [int(d) for _b, _p, d in PLANTED_UNITS["MAPLE"][2].values()]
    assert sum(maple) / len(maple) == 61.25


@pytest.mark.parametrize("units,seed", [(60, 0), (60, 29), (61, 5), (137, 2), (2000, 4)])
def test_planted_properties_for_any_seed_and_size(units, seed):
    out = generate_portfolio(units, seed, NOW - dt.timedelta(days=17 * seed))
    by_short = {p["ShortName"]: p for p in out["Properties"]}
    for short, (name, _election, planted_units) in PLANTED_UNITS.items():
        assert by_short[short]["Name"] == name
        assert sorted(u["Name"] for u in out["Units"] if u["PropertyID"] == by_short[short]["PropertyID"]) == \
            sorted(planted_units)
    names = {t["Name"] for t in out["Tenants"]}
    assert {f["tenant"] for f in PLANTED_FINDINGS if f["tenant"]} <= names


def test_no_planted_properties_below_the_minimum():
    assert PLANTED_MIN_UNITS == 60
    out = generate_portfolio(PLANTED_MIN_UNITS - 1, 3, NOW)
    assert not {p["ShortName"] for p in out["Properties"]} & set(PLANTED_UNITS)


def test_planted_findings_catalogue(small):
    from rm_pipelines.compliance.violations import FINDING_TYPES

    assert len(PLANTED_FINDINGS) == 6
    for f in PLANTED_FINDINGS:
        assert set(f) == {"code", "form_8823_line", "property", "unit", "tenant", "description"}
        assert FINDING_TYPES[f["code"]].form_8823_line == f["form_8823_line"]
        assert f["property"] in PLANTED_UNITS and (f["unit"] is None or f["unit"] in PLANTED_UNITS[f["property"]][2])
        assert (f["unit"] is None) == (f["tenant"] is None) == (FINDING_TYPES[f["code"]].scope == "property")
        assert f["description"]
    assert {f["form_8823_line"] for f in PLANTED_FINDINGS} == {"11b", "11f", "11g", "11i", "11l"}


def test_recurring_charges_run_forward(view):
    for rc in view.out["RecurringCharges"]:
        assert rc["ToDate"] is None or rc["FromDate"] <= rc["ToDate"], rc


# -- sizes and speed -----------------------------------------------------------------------------------------

def test_small_and_invalid_sizes():
    tiny = generate_portfolio(8, 1, NOW)
    assert tiny["Properties"] and tiny["Units"] and 1 <= len(tiny["Units"]) <= 12
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError):
            generate_portfolio(bad, 1, NOW)
    with pytest.raises(ValueError):
        generate_portfolio(60, 1, NOW.replace(tzinfo=dt.timezone.utc))
    with pytest.raises(TypeError):
        generate_portfolio(60, 1, NOW.date())


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_sixty_units_always_give_enough_charges(seed):
    out = generate_portfolio(60, seed, NOW + dt.timedelta(days=37 * seed))
    assert len(out["Charges"]) >= 2500
