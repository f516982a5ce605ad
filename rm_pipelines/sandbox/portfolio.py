"""Deterministic Rent Manager portfolio for the sandbox.

``generate_portfolio(units, seed, now)`` builds a complete, internally consistent Rent Manager database
for one location (LocationID 1) and returns it as wire-format records (PascalCase keys, JSON-ready
values) keyed by collection name (see ``COLLECTIONS``). The same ``(units, seed, now)`` always gives
byte-identical output: everything is drawn from one ``random.Random(seed)`` and every date is relative to
``now``, the location's naive wall-clock time. Each collection's IDs run 1..N in generation order;
the ledger is generated month by month, so ChargeID / PaymentID / CreditID order follows the calendar.

Size
    ``units`` is the approximate total unit count. With ``units >= 60`` every property kind and program
    below is present; the property count grows with ``units`` (60 units -> about 16 small properties,
    30,000 units -> about 500, a third of them single-family homes). Roughly: 1.3 tenants per unit
    (current, past and future; 1.5 in small portfolios, where by-the-bed student housing weighs more),
    2.2-2.5 contacts per residential tenant, 1.5 work orders per unit-year, a vendor per 40 units
    (at least 8), an owner per 3 properties and 0.3 prospects per unit. The ledger holds 14 monthly
    postings (about 14 months before ``now``): about 38 ledger rows (charges, payments, credits) per
    unit-year in large portfolios and denser small ones, whose first market, mixed-use and student
    properties, single-family homes and the planted properties' market units bill utilities line by line
    (60 units always give more than 2,500 charges).

Ledger (AccountType "Customer", AccountID = TenantID)
    Recurring charges post on the 1st (prorated in the move-in month) from the tenant's RecurringCharges:
    RENT per lease term (rents step up at renewals), utilities of market units by the property's billing
    policy (itemized WTR/SWR/TRSH/PEST/GAS lines, one RUBS "UTIL" line, or included; metered amounts vary
    monthly), PARK, PET, INS, PKG/ELEC/INET in student housing, CAM/TAX/INS in commercial leases, HOA
    assessments. One-off
    charges: LATE (after the 5th), NSF, FINE, SPEC, PCT. Payments are allocated oldest charge first
    (Allocations); HAP payments from the housing authority pay only HAP charges. Most tenants pay in full by
    the 5th, some late, a few partially (open balances) or with a little extra (unallocated); a few
    payments are split or reversed (ReversalType "NSF", no allocations). Credits: move-out proration,
    move-in specials, service credits. Charge.UpdateDate moves to the time of its latest allocation.

Property kinds (property UDF "Property Kind"; "Affordable Programs" and the elections say which rules apply)
    * multifamily, market rate (some Section 8 voucher households; some units rent a garage through a
      unit-level recurring charge).
    * multifamily LIHTC 20-50: mixed income, 40 % of units LIHTC at the 50 % AMI designation, the rest market.
    * multifamily LIHTC 40-60: units LIHTC at 60 % (10 % market units from 40 units up).
    * multifamily LIHTC income averaging: designations 30, 40, 50, 60, 70 and 80 in turn (unit average
      55 %; 10 % market units from 40 units up).
    * multifamily USDA RD 515 (rural town); later ones are also LIHTC 40-60.
    * multifamily tax-exempt bond: the first is "LIHTC, Tax-Exempt Bond" with a 40-60 bond set-aside,
      later ones are bond-only 20-50 deals (25 % of units "Bond" at 50 %, the rest market).
    * multifamily HOME: every unit HOME, 30 % "HOME-Low" (at least the 20 % Low HOME units the rule asks
      for), the rest "HOME-High"; no AMI designation (that is a tax-credit attribute).
    * senior housing: every head of household is 62 or older; the first is LIHTC 40-60, later ones alternate
      with market-rate senior communities.
    * student housing: by-the-bed leases (one tenant per bed, tenant UDF "Bed Space" A-D, "Roommate
      Preferences"), academic-year terms Aug 15 - Jul 31 with 12 equal installments, full-time students,
      parents as guarantor Contacts (ApplicantType "Guarantor"); pre-leased "Future" residents from March.
    * commercial office and commercial retail (PropertyType "Commercial", IsCommercial): company tenants,
      commercial leases with CommercialRecoverableExpenses (CAM, and for retail TAX and INS), CAM
      charge types, CamAmortizations, monthly RetailSales per retail lease and monthly percentage rent
      ("PCT" charges) above a natural breakpoint.
    * HOA community (PropertyType "Association"): homeowners are tenants, a property-level HOA assessment
      RecurringCharge and monthly HOA charges, special assessments, Violations with ViolationCodes and
      FINE charges, AssociationSettings and a "Board of Directors" Committee with CommitteeMembers.
    * single-family rentals: properties of one unit each.
    * mixed-use (PropertyType "MixedUse", IsCommercial): apartments over retail suites; every second one
      is LIHTC 20-50 with 30 % of its apartments at 50 %.
    Section 8 voucher households (Subsidies "<city> Housing Authority HCV", SubsidyTenants, tenant-portion
    RENT plus HAP charges, HAP payments) are spread over affordable, market, single-family, senior and
    mixed-use properties; the first (non-planted) LIHTC property, the planted Harbor Point and the first
    market property always house one, and an affordable property's "Affordable Programs" lists "Section 8"
    when it has voucher households.
    Vendors, owners and prospects have one Contact each; owners hold their properties through OwnerContracts
    (some properties have two owners with split percentages).

Compliance inputs (UserDefinedFields; names are the documented defaults and their spelling matters)
    Property: "Property Kind", "Affordable Programs" (comma list of LIHTC, Section 8, HOME, USDA RD 515,
    Tax-Exempt Bond; "" for market), "LIHTC Election" (20-50 | 40-60 | income-averaging | ""),
    "Bond Election" (20-50 | 40-60 | ""), "HUD Limit Area", "Placed In Service" (YYYY-MM-DD),
    "HERA Special Eligible" (Yes | No), "Compliance Agency". Every property carries all eight.
    Unit: "BIN" (one per building of about 24 units in LIHTC properties), "AMI Designation" ("30".."80" or ""),
    "Unit Program" (LIHTC, HOME-Low, HOME-High, USDA RD 515, Bond, Market), "Utility Allowance".
    Every residential unit (not HOA lots nor commercial suites) carries all four.
    Tenant: "Certification Type", "Certification Effective Date", "Next Recertification Due",
    "Certified Annual Income", "Certified Household Size", "Student Exception", "Voucher Payment Standard"
    (the current certification) and "Move-In Certification Date", "Move-In Certified Income",
    "Move-In Household Size" (the move-in certification, which Rent Manager would otherwise lose once a
    recertification replaces the current values) on households of program (non-"Market") units;
    "Voucher Payment Standard" alone on voucher households of market units; "Roommate Preferences" and
    "Bed Space" on student-housing residents.
    Contact: "Relationship", "Student Status", "Employment Income", "Benefit Income", "Other Income",
    "Asset Cash Value", "Asset Annual Income" on members of program households (their incomes add up to
    "Certified Annual Income"); "Relationship" on other residential contacts, plus "Student Status" in
    student housing and "Employment Income" for guarantors.
    Values are strings ("" when blank); money as "41250.00", dates as "2025-07-01".

Income limits, rents and utility allowances follow the HUD FY2026 sample areas of compliance-rules.md §15
("HUD Limit Area", HUD's area names: Wichita, KS HUD Metro FMR Area; Topeka, KS MSA; Kansas City, MO-KS
HMFA; Boston-Cambridge-Quincy, MA-NH HMFA) and the HUD tables bundled with the compliance engine: every
tax-credit, bond and RD 515 property is in the Boston HMFA (the area with bundled MTSP limits; RD 515 in its
rural towns), HOME properties are in the Kansas areas (bundled Section 8 limits, which are the HOME income
limits). Outside the planted properties every program household is compliant by the engine's rules
(rm_pipelines.compliance.portfolio): its move-in certification qualifies under the unit's tier, incomes
grow 3 % a year and stay under 140 % of the limit, gross rent (tenant rent + utility allowance; program units
pay no utility lines and their optional parking/pet charges are not mandatory fees) stays at or below the
LIHTC maximum, the annual recertification is current (interim certifications happen in the first year only),
all-full-time-student households have a "Student Exception", vacant program units always had a qualified
previous household, bond and Low HOME units are always occupied, income-averaging designations average
at most 60 % (30, 40, 50, 60, 70, 80 in turn) and every set-aside is met.

Planted compliance problems (``PLANTED_FINDINGS``; docs/planted-findings.md)
    With ``units >= PLANTED_MIN_UNITS`` (60), the first LIHTC 40-60, LIHTC 20-50 and income-averaging
    properties are fixed demo properties in the Boston HMFA, the same for every seed: Harbor Point
    Apartments (HARBOR, 7 units: an over-income household whose comparable unit was then rented to an
    over-income household, a gross rent $1 over the limit, an overdue annual recertification, an
    all-full-time-student household without exception, two clean units), Elm Court Apartments (ELMCOURT,
    20-50, 6 units: one unit short of its set-aside) and Maple Commons (MAPLE, income averaging, 8 units:
    designations averaging 61.25 %). The compliance engine, fed through rm_pipelines.compliance.inputs,
    reports exactly ``PLANTED_FINDINGS`` on the portfolio at ``now``.

Money is computed in integer cents (exact, like ``decimal``) and emitted as floats rounded to cents.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import gc
import itertools
import random
import sys

from .portfolio_specialties import SPECIALTY_UDF_SPECS, add_specialties

__all__ = ["COLLECTIONS", "PLANTED_FINDINGS", "PLANTED_MIN_UNITS", "UDF_DEFINITIONS", "generate_portfolio"]

# Every collection the generator fills, in a stable order (embed-only ones included).
COLLECTIONS: tuple[str, ...] = (
    "Locations", "Properties", "Units", "UnitTypes", "MarketRents", "Tenants", "Contacts", "ContactTypes",
    "Leases", "LeaseRenewals", "RetailSales", "Charges", "Payments", "Allocations", "Credits",
    "RecurringCharges", "ChargeTypes", "Subsidies", "SubsidyTenants", "ServiceManagerIssues",
    "ServiceManagerIssueLinkedProperties", "ServiceManagerIssueLinkedUnits",
    "ServiceManagerIssueLinkedTenants", "ServiceManagerCategories", "ServiceManagerStatuses",
    "ServiceManagerPriorities", "Vendors", "Owners", "OwnerContracts", "Prospects", "UserDefinedFields",
    "UserDefinedValues", "Violations", "ViolationCodes", "AssociationSettings", "Committees",
    "CommitteeMembers", "CommercialRecoverableExpenses", "CamAmortizations", "Addresses",
)

# --------------------------------------------------------------------------------------------------
# User defined fields
# --------------------------------------------------------------------------------------------------
_UDF_SPECS = (
    # (Name, FieldType, ParentType, ComboList)
    ("Property Kind", "Dropdown List", "Property",
     "multifamily,senior,student,commercial,hoa,single-family,mixed-use"),
    ("Affordable Programs", "Text", "Property", ""),
    ("LIHTC Election", "Dropdown List", "Property", "20-50,40-60,income-averaging"),
    ("Bond Election", "Dropdown List", "Property", "20-50,40-60"),
    ("HUD Limit Area", "Text", "Property", ""),
    ("Placed In Service", "Date", "Property", ""),
    ("HERA Special Eligible", "Yes/No", "Property", ""),
    ("Compliance Agency", "Text", "Property", ""),
    ("BIN", "Text", "Unit", ""),
    ("AMI Designation", "Dropdown List", "Unit", "20,30,40,50,60,70,80"),
    ("Unit Program", "Text", "Unit", ""),
    ("Utility Allowance", "Numeric", "Unit", ""),
    ("Certification Type", "Dropdown List", "Tenant", "Move-In,Annual,Interim"),
    ("Certification Effective Date", "Date", "Tenant", ""),
    ("Next Recertification Due", "Date", "Tenant", ""),
    ("Certified Annual Income", "Numeric", "Tenant", ""),
    ("Certified Household Size", "Numeric", "Tenant", ""),
    ("Student Exception", "Dropdown List", "Tenant", "TANF,Job Training,Single Parent,Joint Return,Foster Care"),
    ("Voucher Payment Standard", "Numeric", "Tenant", ""),
    ("Roommate Preferences", "Text", "Tenant", ""),
    ("Bed Space", "Dropdown List", "Tenant", "A,B,C,D"),
    ("Relationship", "Dropdown List", "Contact", "Head,Spouse,Co-Head,Child,Other Adult,Guarantor"),
    ("Student Status", "Dropdown List", "Contact", "Full-time,Part-time,None"),
    ("Employment Income", "Numeric", "Contact", ""),
    ("Benefit Income", "Numeric", "Contact", ""),
    ("Other Income", "Numeric", "Contact", ""),
    ("Asset Cash Value", "Numeric", "Contact", ""),
    ("Asset Annual Income", "Numeric", "Contact", ""),
    # the move-in (initial) certification, kept beside the current one (appended: earlier IDs stay stable)
    ("Move-In Certification Date", "Date", "Tenant", ""),
    ("Move-In Certified Income", "Numeric", "Tenant", ""),
    ("Move-In Household Size", "Numeric", "Tenant", ""),
) + SPECIALTY_UDF_SPECS + (  # appended after the original UDFs, so earlier IDs stay stable
    # written by EstateCore after each compliance evaluation (no value until then)
    ("Compliance Status", "Dropdown List", "Tenant", "In compliance,Out of compliance,Undetermined"),
)

UDF_DEFINITIONS: list[dict] = [
    {
        "UserDefinedFieldID": i, "Name": name, "FieldType": ftype, "ParentType": ptype, "ComboList": combo,
        "IsRequired": False, "SortOrder": i,
        "CreateDate": f"2016-03-{1 + i % 28:02d}T{9 + (10 + i) // 60:02d}:{(10 + i) % 60:02d}:00", "CreateUserID": 1,
        "UpdateDate": f"2016-03-{1 + i % 28:02d}T{9 + (10 + i) // 60:02d}:{(10 + i) % 60:02d}:00", "UpdateUserID": 1,
    }
    for i, (name, ftype, ptype, combo) in enumerate(_UDF_SPECS, start=1)
]
_UDF = {d["Name"]: (d["UserDefinedFieldID"], d["Name"], d["ParentType"], d["FieldType"]) for d in UDF_DEFINITIONS}
_PROPERTY_UDFS = [_UDF[d[0]] for d in _UDF_SPECS if d[2] == "Property" and d not in SPECIALTY_UDF_SPECS]
_UNIT_UDFS = [_UDF[n] for n in ("BIN", "AMI Designation", "Unit Program", "Utility Allowance")]
_CERT_UDFS = [_UDF[n] for n in ("Certification Type", "Certification Effective Date", "Next Recertification Due",
                                "Certified Annual Income", "Certified Household Size", "Student Exception",
                                "Voucher Payment Standard", "Move-In Certification Date", "Move-In Certified Income",
                                "Move-In Household Size")]
_VPS_UDF = _UDF["Voucher Payment Standard"]
_MEMBER_UDFS = [_UDF[n] for n in ("Relationship", "Student Status", "Employment Income", "Benefit Income",
                                  "Other Income", "Asset Cash Value", "Asset Annual Income")]

# --------------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------------
_CONTACT_TYPES = ("Head of Household", "Spouse", "Co-Head", "Child", "Other Adult", "Guarantor", "Business")
_CT = {name: i for i, name in enumerate(_CONTACT_TYPES, start=1)}
_REL_CT = {"Head": 1, "Spouse": 2, "Co-Head": 3, "Child": 4, "Other Adult": 5, "Guarantor": 6}

# (Name, Description, DefaultAmount, IsCam, IsProrated, GLAccountID)
_CHARGE_TYPES = (
    ("RENT", "Rent", 0.0, False, True, 4000), ("PARK", "Parking", 35.0, False, True, 4110),
    ("PET", "Pet Rent", 35.0, False, True, 4120), ("LATE", "Late Fee", 50.0, False, False, 4300),
    ("UTIL", "Utility Reimbursement", 0.0, False, True, 4200),
    ("CAM", "Common Area Maintenance", 0.0, True, False, 4410),
    ("HOA", "HOA Assessment", 0.0, False, False, 4500), ("SPEC", "Special Assessment", 0.0, False, False, 4510),
    ("TAX", "Real Estate Tax Recovery", 0.0, True, False, 4420), ("INS", "Insurance", 0.0, True, False, 4430),
    ("HAP", "Housing Assistance Payment", 0.0, False, True, 4010),
    ("FINE", "Violation Fine", 100.0, False, False, 4520),
    ("PCT", "Percentage Rent", 0.0, False, False, 4020), ("TRSH", "Trash & Pest", 25.0, False, True, 4210),
    ("NSF", "NSF Fee", 35.0, False, False, 4310), ("WTR", "Water", 0.0, False, True, 4220),
    ("SWR", "Sewer", 0.0, False, True, 4230), ("PEST", "Pest Control", 5.0, False, True, 4240),
    ("GAS", "Gas", 0.0, False, True, 4250), ("ELEC", "Electric", 0.0, False, True, 4260),
    ("INET", "Internet", 0.0, False, True, 4270), ("PKG", "Utility & Internet Package", 0.0, False, False, 4280),
)
_C = {row[0]: i for i, row in enumerate(_CHARGE_TYPES, start=1)}
(C_RENT, C_PARK, C_PET, C_LATE, C_UTIL, C_CAM, C_HOA, C_SPEC, C_TAX, C_INS, C_HAP, C_FINE, C_PCT, C_TRSH, C_NSF,
 C_WTR, C_SWR, C_PEST, C_GAS, C_ELEC, C_INET, C_PKG) = (_C[row[0]] for row in _CHARGE_TYPES)
_METERED = frozenset((C_UTIL, C_WTR, C_SWR, C_GAS, C_ELEC))  # billed amounts vary month to month

# (Name, Bedrooms, Bathrooms)
_UNIT_TYPES = (
    ("Studio", 0, 1.0), ("1 Bed / 1 Bath", 1, 1.0), ("2 Bed / 1 Bath", 2, 1.0), ("2 Bed / 2 Bath", 2, 2.0),
    ("3 Bed / 2 Bath", 3, 2.0), ("4 Bed / 2 Bath", 4, 2.0), ("Student 2x2", 2, 2.0), ("Student 3x3", 3, 3.0),
    ("Student 4x4", 4, 4.0), ("Single-Family 2 Bed", 2, 1.0), ("Single-Family 3 Bed", 3, 2.0),
    ("Single-Family 4 Bed", 4, 2.5), ("Townhome", 3, 2.5), ("Detached Home", 4, 3.0), ("Office Suite", 0, 1.0),
    ("Retail Space", 0, 1.0),
)
_UT = {name: i for i, (name, _b, _ba) in enumerate(_UNIT_TYPES, start=1)}

_SM_CATEGORIES = (
    ("Plumbing", "#1f77b4"), ("HVAC", "#ff7f0e"), ("Electrical", "#d62728"), ("Appliance", "#9467bd"),
    ("Pest Control", "#8c564b"), ("Grounds", "#2ca02c"), ("General Maintenance", "#7f7f7f"),
    ("Make Ready", "#17becf"), ("Locks & Keys", "#bcbd22"), ("Life Safety", "#e377c2"),
)
_SM_STATUSES = (  # (Name, IsClosed)
    ("New", False), ("Assigned", False), ("In Progress", False), ("On Hold", False), ("Completed", True),
    ("Cancelled", True),
)
_SM_PRIORITIES = ("Low", "Normal", "High", "Emergency")
_SM_ISSUES = {
    1: ("Leaking kitchen faucet", "Clogged bathroom sink", "Running toilet", "Water heater not heating",
        "Slow tub drain", "Leak under sink"),
    2: ("No heat", "AC not cooling", "Thermostat not responding", "Replace HVAC filter", "Furnace making noise"),
    3: ("Outlet not working", "Breaker keeps tripping", "Light fixture out", "Ceiling fan wobbling"),
    4: ("Refrigerator not cooling", "Dishwasher not draining", "Oven element out", "Dryer not heating",
        "Garbage disposal jammed"),
    5: ("Ants in kitchen", "Roaches reported", "Mice in garage", "Quarterly pest treatment"),
    6: ("Tree limb down", "Sprinkler head broken", "Snow removal - walkways", "Mow common area"),
    7: ("Door sticks", "Blinds broken", "Drywall repair", "Window screen torn", "Cabinet hinge loose"),
    8: ("Unit turn - paint and clean", "Unit turn - carpet replacement", "Move-out inspection repairs"),
    9: ("Lockout", "Rekey after move-out", "Mailbox key replacement"),
    10: ("Smoke detector chirping", "Fire extinguisher inspection", "Exit sign out", "CO detector replacement"),
}
_VIOLATION_CODES = (  # (Code, Description, ViolationCategoryID)
    ("TRASH", "Trash containers visible from street", 1), ("LAWN", "Lawn not maintained", 1),
    ("PARK", "Vehicle parked on grass or in fire lane", 2),
    ("ARCH", "Exterior change without architectural approval", 3),
    ("PET", "Pet off leash / waste not removed", 2), ("NOISE", "Noise complaint", 2),
    ("HOLIDAY", "Holiday decorations past allowed date", 1), ("PAINT", "Exterior paint in disrepair", 3),
)
_VIOLATION_RESOLUTIONS = ("Owner notified by letter", "Corrected by owner", "Fine assessed",
                          "Hearing scheduled", "Referred to board")
_COMMITTEE_POSITIONS = ("President", "Vice President", "Treasurer", "Secretary", "Member at Large")

# HUD FY2026 sample areas (compliance-rules.md §15): 50 % (VLI) limits for 1..8 persons.
_AREAS = {
    "wichita": {
        "limit_area": "Wichita, KS HUD Metro FMR Area", "state": "KS", "bin": "KS",
        "vli": (33800, 38600, 43450, 48250, 52150, 56000, 59850, 63700),
        "cities": (("Wichita", ("67202", "67203", "67204", "67205", "67206", "67207", "67208", "67209", "67211",
                                "67212", "67213", "67214", "67216", "67218", "67220", "67226", "67230", "67235")),
                   ("Derby", ("67037",)), ("Andover", ("67002",)), ("Haysville", ("67060",))),
        "rural": (("Newton", "67114"), ("El Dorado", "67042"), ("Augusta", "67010"), ("Wellington", "67152"),
                  ("Mulvane", "67110")),
        "agency": "Kansas Housing Resources Corporation", "ha": "Wichita Housing Authority HCV", "ha_short": "WHA",
        "home_pj": "City of Wichita Housing and Community Services",
        "market": (825, 975, 1225, 1550, 1850), "vps": (840, 910, 1180, 1550, 1920), "ua": (55, 75, 95, 120, 145),
        "student": (589, 649, 729), "hoa": (145, 265), "weight": 45,
    },
    "topeka": {
        "limit_area": "Topeka, KS MSA", "state": "KS", "bin": "KS",
        "vli": (34600, 39550, 44500, 49400, 53400, 57350, 61300, 65250),
        "cities": (("Topeka", ("66603", "66604", "66605", "66606", "66607", "66608", "66609", "66610", "66611",
                               "66612", "66614", "66615", "66617", "66618", "66619")),),
        "rural": (("Carbondale", "66414"), ("Silver Lake", "66539")),
        "agency": "Kansas Housing Resources Corporation", "ha": "Topeka Housing Authority HCV", "ha_short": "THA",
        "home_pj": "City of Topeka Division of Housing Services",
        "market": (760, 850, 1075, 1400, 1575), "vps": (792, 820, 1057, 1392, 1411), "ua": (60, 80, 100, 125, 150),
        "student": (545, 599, 669), "hoa": (135, 240), "weight": 17,
    },
    "kc": {
        "limit_area": "Kansas City, MO-KS HMFA", "state": "KS", "bin": "KS",
        "vli": (39700, 45400, 51050, 56700, 61250, 65800, 70350, 74850),
        "cities": (("Kansas City", ("66101", "66102", "66103", "66104", "66106", "66109", "66111", "66112")),
                   ("Overland Park", ("66204", "66210", "66212", "66213")), ("Olathe", ("66061", "66062")),
                   ("Lenexa", ("66215",)), ("Shawnee", ("66216", "66217"))),
        "rural": (("Tonganoxie", "66086"), ("Paola", "66071")),
        "agency": "Kansas Housing Resources Corporation", "ha": "Kansas City Kansas Housing Authority HCV",
        "ha_short": "KCKHA", "home_pj": "Unified Government of Wyandotte County/Kansas City, Kansas",
        "market": (950, 1150, 1425, 1825, 2150), "vps": (1040, 1150, 1380, 1800, 2050), "ua": (65, 85, 110, 140, 165),
        "student": (639, 699, 789), "hoa": (165, 310), "weight": 30,
    },
    "boston": {
        "limit_area": "Boston-Cambridge-Quincy, MA-NH HMFA", "state": "MA", "bin": "MA",
        "vli": (60000, 68600, 77150, 85700, 92600, 99450, 106300, 113150),
        "cities": (("Boston", ("02118", "02119", "02121", "02122", "02124", "02125", "02127", "02130")),
                   ("Cambridge", ("02139", "02141")), ("Quincy", ("02169", "02171")), ("Somerville", ("02143",))),
        "rural": (("Bolton", "01740"), ("Harvard", "01451")),
        "agency": "Massachusetts Executive Office of Housing and Livable Communities",
        "ha": "Boston Housing Authority HCV", "ha_short": "BHA", "home_pj": "City of Boston Mayor's Office of Housing",
        "market": (2350, 2750, 3300, 4000, 4500), "vps": (2650, 2900, 3450, 4200, 4600), "ua": (80, 105, 135, 165, 195),
        "student": (1195, 1295, 1450), "hoa": (385, 695), "weight": 8,
    },
}
_AREA_KEYS = tuple(_AREAS)

_FIRST_F = (
    "Emma", "Olivia", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail", "Emily",
    "Elizabeth", "Sofia", "Avery", "Ella", "Scarlett", "Grace", "Chloe", "Victoria", "Riley", "Aria", "Lily",
    "Zoey", "Penelope", "Layla", "Nora", "Camila", "Hannah", "Addison", "Maria", "Jessica", "Ashley", "Jennifer",
    "Amanda", "Sarah", "Stephanie", "Nicole", "Melissa", "Michelle", "Kimberly", "Angela", "Latoya", "Keisha",
    "Tamika", "Guadalupe", "Rosa", "Yesenia", "Mai", "Linh", "Priya", "Fatima", "Aisha", "Deborah", "Patricia",
    "Linda", "Barbara", "Susan", "Margaret", "Dorothy", "Carol", "Joyce", "Shirley", "Betty", "Gloria", "Renée",
    "Zoë", "Ximena", "Dana", "Brianna", "Jasmine",
)
_FIRST_M = (
    "Liam", "Noah", "William", "James", "Oliver", "Benjamin", "Elijah", "Lucas", "Mason", "Logan", "Alexander",
    "Ethan", "Jacob", "Michael", "Daniel", "Henry", "Jackson", "Sebastian", "Aiden", "Matthew", "Samuel", "David",
    "Joseph", "Carter", "Owen", "Wyatt", "John", "Jack", "Luke", "Jayden", "Dylan", "Grayson", "Levi", "Isaac",
    "Gabriel", "Julian", "Mateo", "Anthony", "Lincoln", "Joshua", "Christopher", "Andrew", "Robert", "Kevin",
    "Brian", "José", "Luis", "Carlos", "Juan", "Miguel", "DeShawn", "Marcus", "Terrell", "Andre", "Tuan", "Minh",
    "Raj", "Omar", "Ahmed", "Richard", "Charles", "Thomas", "Donald", "Gary", "Larry", "Harold", "Walter",
    "Ronald", "Kenneth", "Jesús",
)
_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
    "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
    "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard",
    "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "Bennett", "Gray",
    "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross",
    "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler",
    "Henderson", "Barnes", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Hamilton", "Graham",
    "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis",
    "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison",
    "Fernandez", "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Chen", "Freeman", "Webb",
    "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez", "Silva",
    "Shaw", "Snyder", "Dixon", "Muñoz", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd",
    "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson",
    "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Spencer", "Hawkins",
    "Arnold", "Pierce", "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Duncan",
    "Armstrong", "Hudson", "Lane", "Andrews", "Alvarado", "Delgado", "Berry", "Perkins", "Hoffman", "Peña",
    "O'Brien", "O'Connor", "Nuñez", "Ibáñez", "Smith-Jones", "Van Der Berg", "Nakamura", "Okafor", "Haddad",
    "Kowalski", "Yoder", "Schroeder", "Nussbaum",
)
_MIDDLE = "ABCDEFGHJKLMNPRSTW"
_STREETS = (
    "Main", "Oak", "Maple", "Cedar", "Elm", "Walnut", "Pine", "Douglas", "Central", "Kellogg", "Harry", "Pawnee",
    "Broadway", "Market", "Hillside", "Oliver", "Rock", "Woodlawn", "Maize", "Ridge", "Tyler", "Meridian",
    "Seneca", "Waco", "Emporia", "Lincoln", "Washington", "Jefferson", "Madison", "Adams", "Quincy", "Kansas",
    "Wanamaker", "Gage", "Huntoon", "Fairlawn", "State", "Minnesota", "Quivira", "Metcalf", "Antioch", "Nall",
    "Mission", "Santa Fe", "Commonwealth", "Tremont", "Dorchester", "Massachusetts", "Prairie", "Sunflower",
    "Meadowlark", "Chisholm", "Bluestem", "Cottonwood", "Redbud", "Willow", "Aspen", "Hawthorne",
)
_STREET_SUFFIX = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Pkwy", "Way", "Cir", "Pl", "Ter")
_DIRECTIONS = ("N ", "S ", "E ", "W ", "", "", "", "")
_PLACE_WORDS = (
    "Willow Creek", "Prairie Wind", "Cedar Ridge", "Sunflower", "Meadowbrook", "Stone Creek", "Maple Grove",
    "Riverbend", "Oak Park", "Aspen Glen", "Heritage", "Parkside", "Lakeview", "Fox Run", "Quail Ridge",
    "Bluestem", "Cottonwood", "Chisholm Trail", "Flint Hills", "Old Town", "Delano", "College Hill",
    "Rolling Hills", "Hunter's Glen", "Pinecrest", "Briarwood", "Sterling Point", "Southfork", "Eastgate",
    "Westwood", "Northridge", "Tallgrass", "Redbud", "Hawthorne", "Linwood", "Fairmount", "Riverside",
    "Brookhollow", "Windsor", "Wheatland", "Meadowlark", "Summit", "Crestview", "Legacy", "Bradford",
    "Kingsbury", "Ashford", "Copper Creek", "Emerald Bay", "Harbor Point", "Magnolia", "Whispering Pines",
)
_NAME_SUFFIX = {
    "mf_market": ("Apartments", "Flats", "Townhomes", "Residences", "Commons", "Place"),
    "lihtc_2050": ("Apartments", "Place", "Village", "Residences"),
    "lihtc_4060": ("Apartments", "Village", "Homes", "Gardens", "Terrace"),
    "lihtc_ia": ("Apartments", "Commons", "Crossing", "Residences"),
    "home": ("Apartments", "Court", "Homes", "Place"),
    "usda": ("Apartments", "Court", "Manor"),
    "bond": ("Apartments", "Landing", "Pointe", "Station"),
    "senior": ("Senior Residences", "Senior Living", "Senior Village", "Retirement Apartments"),
    "student": ("Campus Lofts", "University Commons", "Student Living", "Campus Crossing"),
    "office": ("Office Park", "Professional Center", "Executive Plaza", "Corporate Center"),
    "retail": ("Shopping Center", "Marketplace", "Plaza", "Crossing"),
    "hoa": ("Homeowners Association", "Community Association", "Townhome Association"),
    "mixed": ("Lofts", "Station", "Square", "Commons"),
}
_OFFICE_TENANTS = (
    "Heartland Dental Group", "Summit Insurance Agency", "Plains Family Medicine", "Keystone Tax & Accounting",
    "Wheat State Title Co.", "Prairie Legal Services", "Jayhawk Physical Therapy", "Bluestem Engineering",
    "Air Capital Staffing", "Cornerstone Financial Advisors", "Flint Hills Architects", "Midwest Data Systems",
    "Liberty Home Health", "Sunflower Realty Group", "Precision Chiropractic", "Arbor Counseling Center",
)
_RETAIL_TENANTS = (
    "Blue Stem Coffee Co.", "Prairie Fire Pizza", "Main Street Cleaners", "Great Plains Nutrition",
    "Sunflower Nail Spa", "Harvest Table Bakery", "Heartland Wireless", "Cottonwood Pet Supply",
    "Chisholm Trail Barbers", "Wheatfield Books", "Tallgrass Taphouse", "Redbud Floral", "QuickFix Phone Repair",
    "Flint Hills Outfitters", "Golden Wok Kitchen", "Taqueria El Sol", "Evergreen Yoga Studio", "Paper & Ink",
)
_EMPLOYERS = (
    "Spirit AeroSystems", "Textron Aviation", "Wesley Medical Center", "Ascension Via Christi",
    "Wichita Public Schools", "Koch Industries", "Walmart", "Dillons", "QuikTrip", "Amazon", "City of Wichita",
    "Sedgwick County", "Cargill", "Garmin", "T-Mobile", "Hallmark Cards", "Evergy", "Stormont Vail Health",
    "State of Kansas", "The University of Kansas Health System", "Oracle Health", "BNSF Railway", "McDonald's",
    "Target", "The Home Depot", "FedEx", "UPS", "Lowe's", "Mass General Brigham", "Boston Medical Center",
    "Stop & Shop", "Self-employed", "DoorDash", "Amazon Flex", "Dollar General", "Casey's",
)
_VENDOR_TRADES = (  # (trade, Category, ServiceManagerCategoryID)
    ("Plumbing", "Plumbing", 1), ("Heating & Air", "HVAC", 2), ("Electric", "Electrical", 3),
    ("Appliance Repair", "Appliance", 4), ("Pest Control", "Pest Control", 5), ("Lawn & Landscape", "Landscaping", 6),
    ("Handyman Services", "General Maintenance", 7), ("Cleaning Services", "Cleaning", 8), ("Painting", "Painting", 8),
    ("Flooring", "Flooring", 8), ("Lock & Key", "Locksmith", 9), ("Fire Protection", "Fire & Safety", 10),
    ("Roofing", "Roofing", 7),
)
_VENDOR_PREFIX = ("Sunflower", "Prairie", "Heartland", "Wheat State", "Jayhawk", "Air Capital", "Flint Hills",
                  "Plains", "Midwest", "Keystone", "Cornerstone", "Reliable", "Precision", "Summit", "Liberty",
                  "Bluestem", "Arrow", "Four Seasons", "All-Pro", "Bay State")
_ROOMMATE_TRAITS = (
    ("Early riser", "Night owl", "Flexible schedule"), ("Very tidy", "Reasonably tidy", "Relaxed about mess"),
    ("Quiet study space", "Music while studying", "Studies at library"), ("Non-smoker", "Non-smoker", "No preference"),
    ("Rarely has guests", "Occasional guests", "Social, frequent guests"), ("Keeps it cool", "Keeps it warm"),
)
_MANAGERS = ("Karen Whitfield", "Luis Ortega", "Dana Brooks", "Marcus Hill", "Jennifer Cho", "Tom Schroeder",
             "Aisha Rahman", "Greg Yoder", "Beth Novak", "Carlos Medina", "Renee Dubois", "Sam Okafor")
_OWNER_ENTITIES = ("Housing Partners LP", "Apartments LLC", "Investors LLC", "Holdings LLC", "Preservation LP")
_EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")

# Property kinds: key, "Property Kind" UDF, PropertyType, minimum units, share of units at scale,
# typical property size range. The minimums add up to 60 (with the three single-family homes): the smallest
# portfolio with every kind, and the planted compliance properties at their fixed sizes (see _PLANTED).
_KINDS = (
    ("mf_market", "multifamily", "Residential", 7, 0.20, (60, 280)),
    ("lihtc_2050", "multifamily", "Residential", 6, 0.07, (48, 180)),
    ("lihtc_4060", "multifamily", "Residential", 7, 0.21, (48, 200)),
    ("lihtc_ia", "multifamily", "Residential", 8, 0.07, (60, 160)),
    ("usda", "multifamily", "Residential", 3, 0.03, (16, 48)),
    ("bond", "multifamily", "Residential", 2, 0.08, (120, 260)),
    ("senior", "senior", "Residential", 3, 0.09, (40, 120)),
    ("student", "student", "Residential", 3, 0.035, (48, 180)),
    ("office", "commercial", "Commercial", 2, 0.025, (8, 30)),
    ("retail", "commercial", "Commercial", 2, 0.025, (8, 30)),
    ("hoa", "hoa", "Association", 5, 0.09, (40, 180)),
    ("sfr", "single-family", "Residential", 1, 0.006, (1, 1)),
    ("mixed", "mixed-use", "MixedUse", 4, 0.05, (20, 60)),
    ("home", "multifamily", "Residential", 5, 0.02, (16, 60)),
)
_MIN_SFR_PROPERTIES = 3
_BUILT_YEARS = {  # placed in service (built), in years before now
    "mf_market": (3, 50), "lihtc_2050": (5, 22), "lihtc_4060": (3, 26), "lihtc_ia": (1.5, 6), "usda": (28, 42),
    "bond": (2, 14), "senior": (3, 24), "student": (3, 20), "office": (10, 40), "retail": (8, 35),
    "hoa": (10, 30), "sfr": (15, 70), "mixed": (2, 11), "home": (4, 18),
}
_HOUSEHOLD_SIZES = {  # bedrooms -> (sizes, cumulative weights)
    0: ((1, 2), (0.8, 1.0)), 1: ((1, 2, 3), (0.5, 0.85, 1.0)), 2: ((1, 2, 3, 4), (0.2, 0.5, 0.8, 1.0)),
    3: ((2, 3, 4, 5, 6), (0.1, 0.4, 0.75, 0.95, 1.0)), 4: ((3, 4, 5, 6), (0.15, 0.45, 0.75, 1.0)),
}

_DAY = 86400
_FAR = 10 ** 7  # an ordinal after any date we produce

# --------------------------------------------------------------------------------------------------
# Planted compliance problems (docs/planted-findings.md)
# --------------------------------------------------------------------------------------------------
PLANTED_MIN_UNITS = 60
"""From this size on, the portfolio carries the planted properties below (smaller ones have none)."""

# The first property of these kinds is a fixed demo property in the Boston HMFA (the one area with bundled
# MTSP limits): kind -> (Name, ShortName, units as (Name, bedrooms, "Unit Program", AMI designation)).
_PLANTED: dict[str, tuple[str, str, tuple[tuple[str, int, str, int], ...]]] = {
    "lihtc_4060": ("Harbor Point Apartments", "HARBOR", (
        ("101", 2, "LIHTC", 60), ("102", 2, "Market", 0), ("103", 1, "LIHTC", 60), ("104", 2, "LIHTC", 60),
        ("201", 1, "LIHTC", 60), ("202", 1, "LIHTC", 60), ("203", 2, "LIHTC", 60))),
    "lihtc_2050": ("Elm Court Apartments", "ELMCOURT", (
        ("101", 1, "LIHTC", 50), ("102", 1, "Market", 0), ("103", 2, "Market", 0), ("201", 2, "Market", 0),
        ("202", 1, "Market", 0), ("203", 2, "Market", 0))),
    "lihtc_ia": ("Maple Commons", "MAPLE", (
        ("101", 1, "LIHTC", 30), ("102", 1, "LIHTC", 40), ("103", 2, "LIHTC", 50), ("104", 2, "LIHTC", 60),
        ("201", 1, "LIHTC", 70), ("202", 1, "LIHTC", 80), ("203", 2, "LIHTC", 80), ("204", 2, "LIHTC", 80))),
}

PLANTED_FINDINGS: list[dict] = [
    {"code": "NEXT_AVAILABLE_UNIT_VIOLATION", "form_8823_line": "11i", "property": "HARBOR", "unit": "101",
     "tenant": "Okafor, Daniel",
     "description": "2-person household qualified at move-in (70 % of the 60 % limit); its annual recertification, "
                    "effective the 1st of the month three months before now, shows 160 % of the 60 % limit (over "
                    "140 %). Six weeks later the comparable 2-bedroom market unit 102 was rented to the "
                    "Whitfield household (150 % of the 60 % limit, no income certification)."},
    {"code": "GROSS_RENT_OVER_LIMIT", "form_8823_line": "11g", "property": "HARBOR", "unit": "103",
     "tenant": "Brennan, Maria",
     "description": "1-bedroom 60 % unit: tenant rent $1,825.00 + utility allowance $105.00 = $1,930.00, $1 over "
                    "the maximum gross rent of $1,929 (floor(mean of the 1- and 2-person 60 % limits / 40))."},
    {"code": "RECERT_OVERDUE", "form_8823_line": "11b", "property": "HARBOR", "unit": "104",
     "tenant": "Castillo, Rosa",
     "description": "Moved in 420 days before now; the only certification is the move-in one, so the annual "
                    "recertification due on its first anniversary is about 55 days overdue."},
    {"code": "FULL_TIME_STUDENT_HOUSEHOLD", "form_8823_line": "11l", "property": "HARBOR", "unit": "201",
     "tenant": "Nguyen, Linh",
     "description": "Both members (head and co-head) are full-time students and the household claims no student "
                    "exception (Student Exception blank)."},
    {"code": "SET_ASIDE_NOT_MET", "form_8823_line": "11f", "property": "ELMCOURT", "unit": None, "tenant": None,
     "description": "20-50 election, 6 residential units: ceil(20 %) = 2 units must be low-income; only unit 101 "
                    "is designated (50 %) and qualifies, the other five are market units: one unit short."},
    {"code": "IA_AVERAGE_ABOVE_60", "form_8823_line": "11f", "property": "MAPLE", "unit": None, "tenant": None,
     "description": "Income averaging, 8 units designated 30, 40, 50, 60, 70, 80, 80 and 80 % of AMI: the "
                    "designations average 61.25 % (> 60 %). Every household qualifies and the set-aside is met "
                    "by the qualified group of seven units (average 58.57 %)."},
]
"""The compliance findings the planted properties produce (and, with the clean rest of the portfolio, the only
ones): Form 8823 finding code (rm_pipelines.compliance.violations.FINDING_TYPES), its line 11 category,
property ShortName, unit Name (None for property-level findings), tenant Name ("Last, First") and what was
planted. Present for every seed and every ``units >= PLANTED_MIN_UNITS``."""


# --------------------------------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------------------------------
def _money(cents: int) -> str:
    """UDF money text: 4125000 -> "41250.00"."""
    return f"{cents // 100}.{cents % 100:02d}"


def _round5(dollars: float) -> int:
    """Whole dollars rounded down to $5, as cents."""
    return int(dollars // 5) * 500


def _add_months(d: _dt.date, n: int) -> _dt.date:
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return d.replace(year=y, month=m, day=min(d.day, _dim(y, m)))


def _dim(y: int, m: int) -> int:
    """Days in month m of year y."""
    if m == 2:
        return 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _limit(vli: tuple, pct: int, persons2: int) -> int:
    """Income limit at ``pct`` % AMI for ``persons2 / 2`` persons (fractional sizes average the neighbours)."""
    n, half = divmod(min(persons2, 16), 2)
    n = max(n, 1)
    if half and n < 8:
        return (vli[n - 1] + vli[n]) * pct // 100
    return vli[n - 1] * pct // 50


def _max_gross_rent(vli: tuple, pct: int, bedrooms: int) -> int:
    """LIHTC maximum monthly gross rent in whole dollars (imputed 1.5 persons per bedroom, floor(IL / 40))."""
    return _limit(vli, pct, 2 if bedrooms == 0 else 3 * bedrooms) // 40


class _Clock:
    """Timestamps relative to ``now``: naive ISO strings, audit stamps with 0-7 fractional digits."""

    _HMS: list[str] | None = None

    def __init__(self, now: _dt.datetime, rng: random.Random):
        self.today = now.date()
        self.today_ord = self.today.toordinal()
        self.now_s = self.today_ord * _DAY + now.hour * 3600 + now.minute * 60 + now.second
        self.cap = self.now_s - 1  # any stamp at or before this second plus a fraction is < now
        if _Clock._HMS is None:
            _Clock._HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
        self.hms = _Clock._HMS
        fracs = []
        for i in range(4093):
            k = i % 8
            if k == 0:
                fracs.append("")
                continue
            v = rng.randrange(10 ** (k - 1), 10 ** k)
            if v % 10 == 0:
                v += 1 + rng.randrange(9)
            fracs.append("." + str(v).zfill(k))
        self.frac = itertools.cycle(fracs).__next__
        self._prefix: dict[int, str] = {}
        self._dates: dict[int, str] = {}
        self._ymd: dict[int, str] = {}

    def date(self, o: int) -> str:
        """Ordinal -> "YYYY-MM-DDT00:00:00" (cached, shared string objects)."""
        s = self._dates.get(o)
        if s is None:
            s = self._dates[o] = _dt.date.fromordinal(o).isoformat() + "T00:00:00"
        return s

    def ymd(self, o: int) -> str:
        """Ordinal -> "YYYY-MM-DD" (UDF date values)."""
        s = self._ymd.get(o)
        if s is None:
            s = self._ymd[o] = _dt.date.fromordinal(o).isoformat()
        return s

    def ts(self, s: int) -> str:
        """Seconds (ordinal * 86400 + second of day) -> audit stamp, clamped before ``now``."""
        if s > self.cap:
            s = self.cap
        d, r = divmod(s, _DAY)
        p = self._prefix.get(d)
        if p is None:
            p = self._prefix[d] = _dt.date.fromordinal(d).isoformat() + "T"
        return p + self.hms[r] + self.frac()

    def audit(self, create_s: int, update_s: int) -> tuple[str, str]:
        """(CreateDate, UpdateDate) with CreateDate <= UpdateDate <= now."""
        if create_s > self.cap:
            create_s = self.cap
        if update_s > self.cap:
            update_s = self.cap
        if update_s <= create_s:
            c = self.ts(create_s)
            return c, c
        return self.ts(create_s), self.ts(update_s)


# --------------------------------------------------------------------------------------------------
# Internal model (not emitted)
# --------------------------------------------------------------------------------------------------
class _Prop:
    __slots__ = ("pid", "kind", "area", "name", "short", "street", "city", "zip", "programs", "lihtc", "bond",
                 "pis", "units", "senior_affordable", "hoa_c", "sqft", "created_s", "mix_lihtc", "rural",
                 "vouchers", "stamp", "utility", "planted")


class _Unit:
    __slots__ = ("uid", "prop", "name", "beds", "baths", "sqft", "maxocc", "cls", "des", "tier", "program", "ua_c",
                 "market_c", "rent_c", "bin", "street", "tenancies", "garage_c", "pct_rate")
    # des: the LIHTC/bond AMI designation written to the "AMI Designation" UDF (0 = none); tier: the income and
    # rent tier the generator keeps the unit under (the designation, or 50/60 % for Low/High HOME units)


class _Acct:
    """One tenant ledger during generation."""
    __slots__ = ("tid", "pid", "uid", "start", "end", "m0", "m1", "items", "hap", "prorate", "profile", "late",
                 "queue", "head", "open_c", "hqueue", "hhead", "extras", "ha_name", "credit_move_out")


# --------------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------------
class _Generator:
    def __init__(self, units: int, seed: int, now: _dt.datetime):
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.units_target = units
        self.clock = _Clock(now, self.rng)
        self.today = self.clock.today
        self.T = self.clock.today_ord
        self.m_now = self.today.year * 12 + self.today.month - 1
        self._fom_cache: dict[int, int] = {}
        self.m_hist = self.m_now - 13  # 14 monthly postings: about 14 months of history before now
        self.hist_start = self._fom(self.m_hist)
        self.out: dict[str, list[dict]] = {name: [] for name in COLLECTIONS}
        self.props: list[_Prop] = []
        self.accts: list[_Acct] = []
        self.used_names: set[str] = set()
        self.subsidy_by_area: dict[str, int] = {}
        self._comment_cache: dict[tuple[int, int], str] = {}
        self.hoa_accts: dict[int, list[_Acct]] = {}  # homeowner ledgers per HOA property
        self.retail_accts: list[tuple[_Acct, _Unit, int]] = []
        self.vendor_by_cat: dict[int, list[int]] = {}
        self.voucher_kinds: set[str] = set()
        self.planted_on = units >= PLANTED_MIN_UNITS
        self.seed = seed

    # ---- small random helpers -----------------------------------------------------------------
    def pick(self, seq):
        return seq[int(self.r() * len(seq))]

    def between(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi]."""
        return lo + int(self.r() * (hi - lo + 1))

    def _fom(self, m: int) -> int:
        o = self._fom_cache.get(m)
        if o is None:
            o = self._fom_cache[m] = _dt.date(m // 12, m % 12 + 1, 1).toordinal()
        return o

    def _month_of(self, o: int) -> int:
        d = _dt.date.fromordinal(o)
        return d.year * 12 + d.month - 1

    def day_s(self, o: int, lo_h: int = 8, hi_h: int = 18) -> int:
        """A second within business hours of day ``o``."""
        return o * _DAY + lo_h * 3600 + int(self.r() * (hi_h - lo_h) * 3600)

    def audit_around(self, o: int, lag_days: int = 30) -> tuple[str, str]:
        """Audit pair for a record created on day ``o`` and last touched within ``lag_days`` after."""
        c = self.day_s(o)
        u = c if self.r() < 0.5 else c + int(self.r() * lag_days * _DAY)
        return self.clock.audit(c, u)

    def person(self, female: bool | None = None) -> tuple[str, str]:
        if female is None:
            female = self.r() < 0.5
        return self.pick(_FIRST_F if female else _FIRST_M), self.pick(_LAST)

    def email(self, first: str, last: str) -> str:
        base = (first[0] + last).lower().replace("'", "").replace(" ", "").replace("-", "")
        return f"{base}{self.between(1, 999)}@{self.pick(_EMAIL_DOMAINS)}"

    def street(self) -> str:
        return f"{self.between(100, 9899)} {self.pick(_DIRECTIONS)}{self.pick(_STREETS)} {self.pick(_STREET_SUFFIX)}"

    def unique_name(self, base: str) -> str:
        name, n = base, 1
        while name in self.used_names:
            n += 1
            name = f"{base} {('II', 'III', 'IV', 'V')[n - 2] if n <= 5 else f'Phase {n}'}"
        self.used_names.add(name)
        return name

    # ---- run ---------------------------------------------------------------------------------------
    def run(self) -> dict[str, list[dict]]:
        self.reference_data()
        if self.planted_on:
            self.used_names.update(name for name, _short, _units in _PLANTED.values())
        self.plan_properties()
        for p in self.props:
            self.build_property(p)
        self.owners()
        self.vendors()
        for p in self.props:
            self.occupancy(p)
            self._property_udvs(p)
        self.hoa_extras()
        self.commercial_extras()
        self.ledger()
        self.work_orders()
        self.prospects()
        add_specialties(self, self.seed, sys.modules[__name__])  # last, from a stream of its own: nothing above changes
        return self.out

    # ---- reference data ----------------------------------------------------------------------------
    def reference_data(self) -> None:
        out = self.out
        base_o = self.T - 3650
        out["Locations"].append({"LocationID": 1, "Name": "Default", "FriendlyName": "Default",
                                 "IsMainLocation": True})
        for i, name in enumerate(_CONTACT_TYPES, start=1):
            out["ContactTypes"].append({"ContactTypeID": i, "Name": name, "Description": name, "SortOrder": i})
        for i, (name, desc, default, is_cam, prorated, gl) in enumerate(_CHARGE_TYPES, start=1):
            c, u = self.audit_around(base_o + i, 900)
            out["ChargeTypes"].append({
                "ChargeTypeID": i, "Name": name, "Description": desc, "DefaultAmount": default, "IsCam": is_cam,
                "IsActive": True, "IsProrated": prorated, "GLAccountID": gl, "ConcurrencyID": 1 + int(self.r() * 3),
                "CreateDate": c, "CreateUserID": 1, "UpdateDate": u, "UpdateUserID": 1})
        for i, (name, beds, baths) in enumerate(_UNIT_TYPES, start=1):
            c, u = self.audit_around(base_o + 20 + i, 400)
            out["UnitTypes"].append({"UnitTypeID": i, "Name": name, "Bedrooms": beds, "Bathrooms": baths,
                                     "Comment": "", "CreateDate": c, "CreateUserID": 1, "UpdateDate": u,
                                     "UpdateUserID": 1})
        for i, (name, color) in enumerate(_SM_CATEGORIES, start=1):
            out["ServiceManagerCategories"].append({"ServiceManagerCategoryID": i, "Name": name, "Description": name,
                                                    "SortOrder": i, "Color": color, "IsActive": True})
        for i, (name, closed) in enumerate(_SM_STATUSES, start=1):
            out["ServiceManagerStatuses"].append({"ServiceManagerStatusID": i, "Name": name, "Description": name,
                                                  "SortOrder": i, "Color": "#000000", "IsActive": True,
                                                  "IsClosed": closed})
        for i, name in enumerate(_SM_PRIORITIES, start=1):
            out["ServiceManagerPriorities"].append({"ServiceManagerPriorityID": i, "Name": name, "Description": name,
                                                    "SortOrder": i, "Color": "#000000", "IsActive": True})
        for i, (code, desc, cat) in enumerate(_VIOLATION_CODES, start=1):
            c, u = self.audit_around(base_o + 40 + i, 600)
            out["ViolationCodes"].append({"ViolationCodeID": i, "Code": code, "Description": desc,
                                          "ViolationCategoryID": cat, "ChargeTypeID": C_FINE, "IsActive": True,
                                          "CreateDate": c, "CreateUserID": 1, "UpdateDate": u, "UpdateUserID": 1})
        out["UserDefinedFields"].extend(dict(d) for d in UDF_DEFINITIONS)
        for key in _AREA_KEYS:
            a = _AREAS[key]
            c, u = self.audit_around(base_o + 60, 300)
            sid = len(out["Subsidies"]) + 1
            out["Subsidies"].append({"SubsidyID": sid, "Name": a["ha"], "ShortName": a["ha_short"],
                                     "ChargeTypeID": C_HAP, "PaymentFrom": a["ha"][:-4],
                                     "CreateDate": c, "CreateUserID": 1, "UpdateDate": u, "UpdateUserID": 1})
            self.subsidy_by_area[key] = sid

    # ---- property plan -----------------------------------------------------------------------------
    def plan_properties(self) -> None:
        units, r = self.units_target, self.r
        plan: list[tuple[str, int]] = []
        mins = sum(k[3] for k in _KINDS) + (_MIN_SFR_PROPERTIES - 1)
        if units < mins:  # tiny portfolio: kinds in priority order while they fit
            left = units
            for key, _pk, _pt, lo, _share, _rng in _KINDS:
                if lo <= left or not plan:
                    plan.append((key, min(lo, max(left, 1))))
                    left -= lo
        else:
            scale = min(1.0, (units / 8000) ** 0.5)  # smaller portfolios have smaller properties
            # unit budget per kind: its minimum plus its share, the shares shrunk so the total stays near units
            kinds = [k for k in _KINDS if k[0] != "sfr"]
            n_sfr = max(_MIN_SFR_PROPERTIES, round(units * next(k[4] for k in _KINDS if k[0] == "sfr")))
            floor_total = sum(k[3] for k in kinds)
            excess = sum(max(0.0, k[4] * units - k[3]) for k in kinds)
            room = max(0, units - n_sfr - floor_total)
            f = min(1.0, room / excess) if excess else 0.0
            for key, _pk, _pt, lo, share, (slo, shi) in _KINDS:
                if key == "sfr":
                    plan.extend(("sfr", 1) for _ in range(n_sfr))
                    continue
                budget = lo + round(max(0.0, share * units - lo) * f)
                if self.planted_on and key in _PLANTED:  # the kind's first property: the planted one
                    size = len(_PLANTED[key][2])
                    plan.append((key, size))
                    budget -= size
                slo_s = max(lo, int(slo * scale))
                shi_s = max(slo_s, int(shi * scale))
                while budget > 0:
                    size = min(budget, slo_s + int(r() * (shi_s - slo_s + 1)))
                    if budget - size < slo_s:
                        size = budget
                    plan.append((key, size))
                    budget -= size
        first_seen: set[str] = set()
        props = []
        counts: dict[str, int] = {}
        for key, size in plan:
            p = _Prop()
            p.kind = key
            n = counts[key] = counts.get(key, 0) + 1
            p.units = size  # replaced by the unit list in build_property
            p.planted = self.planted_on and n == 1 and key in _PLANTED
            self._configure(p, n, key not in first_seen)
            first_seen.add(key)
            props.append(p)
        self.rng.shuffle(props)
        for i, p in enumerate(props, start=1):
            p.pid = i
        self.props = props

    def _configure(self, p: _Prop, n: int, first: bool) -> None:
        """Area, programs and elections of a planned property (n = 1-based index within its kind)."""
        r, T = self.r, self.T
        p.senior_affordable = False
        p.mix_lihtc = False
        p.programs, p.lihtc, p.bond = "", "", ""
        if p.kind == "lihtc_2050":
            p.programs, p.lihtc = "LIHTC", "20-50"
        elif p.kind == "lihtc_4060":
            p.programs, p.lihtc = "LIHTC", "40-60"
        elif p.kind == "lihtc_ia":
            p.programs, p.lihtc = "LIHTC", "income-averaging"
        elif p.kind == "usda":
            if n % 2 == 0:
                p.programs, p.lihtc = "LIHTC, USDA RD 515", "40-60"
            else:
                p.programs = "USDA RD 515"
        elif p.kind == "bond":
            if n % 2 == 1:
                p.programs, p.lihtc, p.bond = "LIHTC, Tax-Exempt Bond", "40-60", "40-60"
            else:
                p.programs, p.bond = "Tax-Exempt Bond", "20-50"
        elif p.kind == "senior":
            if n % 2 == 1:
                p.programs, p.lihtc, p.senior_affordable = "LIHTC", "40-60", True
        elif p.kind == "mixed" and n % 2 == 0:
            p.programs, p.lihtc, p.mix_lihtc = "LIHTC", "20-50", True
        elif p.kind == "home":
            p.programs = "HOME"
        # Areas follow the bundled HUD limit tables (compliance-rules.md §15): tax-credit, bond and RD 515
        # properties sit in the Boston HMFA (the area with MTSP limits; RD 515 in its rural towns); HOME
        # properties in the Kansas areas with Section 8 (HOME income) limits; the rest anywhere.
        if p.programs and p.kind != "home":
            p.area = "boston"
        elif p.kind == "home":
            p.area = "wichita" if first else self.pick(("wichita", "topeka", "kc"))
        elif first and p.kind == "hoa":
            p.area = "wichita"
        else:
            p.area = self._weighted([(k, _AREAS[k]["weight"]) for k in _AREA_KEYS])
        p.rural = p.kind == "usda"
        # how the property bills utilities: "itemized" lines, one "rubs" line or "included" (tenant-paid
        # to the utility company); program units never get utility lines: their tenants pay the utility
        # company and the utility allowance covers it
        if p.planted:
            p.utility = "itemized"  # market units only (program units never get utility lines)
        elif p.kind in ("mf_market", "sfr", "mixed", "student") or (p.kind == "senior" and not p.programs):
            if first or p.kind == "sfr":
                p.utility = "itemized"
            elif p.kind == "student":
                p.utility = "package"
            else:
                x = r()
                p.utility = "itemized" if x < 0.08 else ("rubs" if x < 0.38 else "included")
        else:
            p.utility = "included"
        lo, hi = _BUILT_YEARS[p.kind]
        if p.planted:
            p.pis = T - {"lihtc_4060": 6, "lihtc_2050": 9, "lihtc_ia": 4}[p.kind] * 365
        else:
            p.pis = T - int((lo + r() * (hi - lo)) * 365.25)
        if "LIHTC" in p.programs or p.bond:
            p.pis = self._fom(self._month_of(p.pis))  # placed in service on the 1st
        if p.kind == "lihtc_ia":  # income averaging exists since 2018-03-23
            p.pis = max(p.pis, _dt.date(2018, 7, 1).toordinal())
            p.pis = min(p.pis, T - 400)

    def _weighted(self, pairs):
        total = sum(w for _k, w in pairs)
        x = self.r() * total
        for k, w in pairs:
            x -= w
            if x < 0:
                return k
        return pairs[-1][0]

    # ---- properties, units, buildings ---------------------------------------------------------------
    def build_property(self, p: _Prop) -> None:
        out, ck, r, pick = self.out, self.clock, self.r, self.pick
        a = _AREAS[p.area]
        size = p.units
        if p.rural:
            p.city, p.zip = pick(a["rural"])
        else:
            city, zips = pick(a["cities"])
            p.city, p.zip = city, pick(zips)
        p.street = self.street()
        if p.planted:
            p.name = _PLANTED[p.kind][0]
        elif p.kind == "sfr":
            p.name = self.unique_name(p.street)
        elif p.kind == "mixed" and r() < 0.5:
            p.name = self.unique_name(f"The Lofts at {pick(_PLACE_WORDS)}")
        else:
            p.name = self.unique_name(f"{pick(_PLACE_WORDS)} {pick(_NAME_SUFFIX[p.kind])}")
        words = [w for w in p.name.replace("'", "").replace("-", " ").split() if w[0].isalnum()]
        p.short = ("".join(w[0] for w in words[:4]).upper() + f"{p.pid:03d}")[:10]
        if p.planted:
            p.short = _PLANTED[p.kind][1]
        p.hoa_c = 0
        p.vouchers = 0
        p.units = []
        kind = p.kind
        vli = a["vli"]
        # unit mix
        specs = self._unit_specs(p, size)
        # programs per unit
        des_prog = self._designations(p, specs)
        bin_seq = None
        units_out = out["Units"]
        created_o = max(p.pis, self.T - 12 * 365) + self.between(0, 60)
        created_o = min(created_o, self.T - 200)
        p.created_s = self.day_s(created_o)
        total_sqft = 0
        per_building = 24
        for idx, ((cls, beds, baths, sqft, ut, uname), (des, prog)) in enumerate(zip(specs, des_prog)):
            u = _Unit()
            u.uid = len(units_out) + 1
            u.prop = p
            u.cls, u.beds, u.baths, u.sqft = cls, beds, baths, sqft
            u.name = uname
            u.des, u.program = des, prog
            u.tier = des or (50 if "HOME-Low" in prog else 60 if "HOME-High" in prog else 0)
            u.tenancies = []
            u.garage_c = 0
            u.pct_rate = 0
            building = idx // per_building + 1
            if "LIHTC" in p.programs and cls == "res":
                if bin_seq is None or idx % per_building == 0:
                    bin_seq = self.between(1000, 98999)
                    year = _dt.date.fromordinal(p.pis).year % 100
                    u.bin = f"{a['bin']}-{year:02d}-{bin_seq:05d}"
                    current_bin = u.bin
                u.bin = current_bin
            else:
                u.bin = ""
            if kind in ("sfr", "hoa"):
                u.street = p.street if kind == "sfr" else self._lot_street(p)
            else:
                u.street = p.street
            u.maxocc = (2 * beds + 1 if beds else 2) if cls in ("res", "hoa") else (beds if cls == "student" else 0)
            # rents (cents)
            bi = min(beds, 4)
            if cls == "res":
                market = a["market"][bi] * (0.92 + 0.16 * r())
                if kind == "senior":
                    market *= 0.95
                u.market_c = _round5(market)
                u.ua_c = a["ua"][bi] * 100 if prog != "Market" else 0
                if u.tier:
                    max_gross = _max_gross_rent(vli, u.tier, beds)
                    rent = min(max_gross - a["ua"][bi], market * 0.97) - 5 - int(r() * 6) * 5
                    u.rent_c = _round5(rent)
                    if p.planted and p.kind == "lihtc_4060" and uname == "103":
                        u.rent_c = (max_gross - a["ua"][bi] + 1) * 100  # planted: gross rent $1 over
                elif prog == "USDA RD 515":  # basic rent well below market
                    u.rent_c = _round5(market * (0.62 + 0.08 * r()))
                else:
                    u.rent_c = u.market_c
            elif cls == "student":  # per bed
                rate = a["student"][0 if beds <= 2 else (1 if beds == 3 else 2)] * (0.95 + 0.1 * r())
                u.market_c = u.rent_c = _round5(rate)
                u.ua_c = 0
            elif cls in ("office", "retail"):
                psf = (18 + 10 * r()) if cls == "office" else (14 + 16 * r())
                if p.area == "boston":
                    psf *= 2.1
                u.market_c = u.rent_c = int(sqft * psf / 12) * 100
                u.ua_c = 0
                if cls == "retail" and r() < 0.6:
                    u.pct_rate = 5 + int(r() * 4)  # percentage rent 5-8 %
            else:  # hoa lot
                u.market_c = u.rent_c = 0
                u.ua_c = 0
            total_sqft += sqft
            c, upd = ck.audit(p.created_s + idx * 7, p.created_s + int(r() * (self.T * _DAY - p.created_s)))
            if r() < 0.7:
                upd = c
            units_out.append({
                "UnitID": u.uid, "PropertyID": p.pid, "UnitTypeID": ut, "Name": uname, "Bedrooms": beds,
                "Bathrooms": baths, "SquareFootage": sqft, "MaxOccupancy": u.maxocc,
                "Comment": f"Building {building}" if size > per_building and cls == "res" else "",
                "SortOrder": idx + 1, "CreateDate": c, "CreateUserID": 1 + int(r() * 4), "UpdateDate": upd,
                "UpdateUserID": 1 + int(r() * 4)})
            if cls in ("res", "student"):
                self._unit_udvs(u, upd)
            if kind == "mf_market" and r() < 0.08:
                u.garage_c = self.pick((75, 85, 100)) * 100
                self._recurring("Unit", u.uid, None, u.uid, p.pid, C_PARK, u.garage_c, created_o, None,
                                "Detached garage")
            if cls != "hoa":
                self._market_rents(u, created_o)
            p.units.append(u)
        if kind == "hoa":
            p.hoa_c = _round5(a["hoa"][0] + r() * (a["hoa"][1] - a["hoa"][0]))
        p.sqft = int(total_sqft * (1.18 if kind not in ("sfr", "hoa", "office", "retail") else 1.0))
        pt = {k[0]: k[2] for k in _KINDS}[kind]
        c, u = ck.audit(p.created_s, p.created_s + int(r() * (self.clock.now_s - p.created_s)))
        out["Properties"].append({
            "PropertyID": p.pid, "Name": p.name, "ShortName": p.short, "PropertyType": pt,
            "IsCommercial": kind in ("office", "retail", "mixed"), "IsActive": True, "SquareFootage": p.sqft,
            "ManagerName": pick(_MANAGERS), "Email": f"{p.short.lower()}@heartland-pm.example",
            "ConcurrencyID": 1 + int(r() * 9), "CreateDate": c, "CreateUserID": 1, "UpdateDate": u,
            "UpdateUserID": 1 + int(r() * 5)})
        self._address(p.pid, "Property", 1, p.street, p.city, a["state"], p.zip, True, False)
        p.stamp = u
        if kind == "hoa":
            rc_c, rc_u = ck.audit(p.created_s + 3600, p.created_s + 3600 + int(r() * 400 * _DAY))
            out["RecurringCharges"].append({
                "RecurringChargeID": len(out["RecurringCharges"]) + 1, "EntityType": "Property",
                "EntityKeyID": p.pid, "TenantID": None, "UnitID": None, "PropertyID": p.pid, "ChargeTypeID": C_HOA,
                "Amount": p.hoa_c / 100, "AmountPerSquareFoot": 0.0, "Frequency": 1,
                "FromDate": ck.date(self._fom(self._month_of(created_o))), "ToDate": None,
                "Comment": "Monthly assessment", "CamRecurringChargeID": None,
                "CreateDate": rc_c, "CreateUserID": 2, "UpdateDate": rc_u, "UpdateUserID": 2})

    def _lot_street(self, p: _Prop) -> str:
        return f"{self.between(100, 4999)} {p.name.split(' ')[0]} {self.pick(('Ct', 'Cir', 'Ln', 'Dr', 'Way'))}"

    def _unit_specs(self, p: _Prop, size: int) -> list[tuple]:
        """(class, bedrooms, bathrooms, sqft, UnitTypeID, name) per unit."""
        r, kind = self.r, p.kind
        specs = []
        if p.planted:
            for uname, beds, _prog, _des in _PLANTED[kind][2]:
                baths = 1.0 if beds < 2 else 2.0
                ut = {0: "Studio", 1: "1 Bed / 1 Bath", 2: "2 Bed / 2 Bath", 3: "3 Bed / 2 Bath"}[beds]
                specs.append(("res", beds, baths, (480, 720, 980, 1240)[beds] + self.between(-4, 6) * 10, _UT[ut],
                              uname))
            return specs
        if kind in ("office", "retail"):
            for i in range(size):
                sqft = self.between(12, 80) * 100 if kind == "office" else self.between(10, 120) * 100
                name = f"Suite {1 + i // 10}{1 + i % 10:02d}" if kind == "office" else f"Suite {100 + 2 * i}"
                specs.append((kind, 0, 2.0 if sqft > 4000 else 1.0, sqft,
                              _UT["Office Suite" if kind == "office" else "Retail Space"], name))
            return specs
        if kind == "hoa":
            for i in range(size):
                th = r() < 0.45
                beds = 3 if th else self.pick((3, 4, 4))
                specs.append(("hoa", beds, 2.5 if th else 3.0, self.between(14, 19) * 100 if th else
                              self.between(19, 30) * 100, _UT["Townhome" if th else "Detached Home"], f"Lot {i + 1}"))
            return specs
        if kind == "sfr":
            beds = self.pick((2, 3, 3, 3, 4, 4))
            specs.append(("res", beds, {2: 1.0, 3: 2.0, 4: 2.5}[beds], self.between(9, 24) * 100,
                          _UT[f"Single-Family {beds} Bed"], "House"))
            return specs
        n_res = size
        if kind == "mixed":
            n_ret = max(2, size // 5)
            n_res = size - n_ret
        floors = 3 if size > 8 else 2
        per_floor = max(1, min(12, -(-min(size, 24) // floors)))
        buildings = -(-n_res // 24)
        for i in range(n_res):
            if kind == "student":
                beds = self.pick((2, 3, 4, 4))
                specs_i = ("student", beds, float(beds), 420 * beds + self.between(0, 10) * 20,
                           _UT[f"Student {beds}x{beds}"])
            else:
                x = r()
                if kind == "senior":
                    beds = 0 if x < 0.1 else (1 if x < 0.75 else 2)
                else:
                    beds = 0 if x < 0.05 else 1 if x < 0.38 else 2 if x < 0.78 else 3 if x < 0.96 else 4
                baths = 1.0 if beds < 2 else (2.0 if beds >= 3 or r() < 0.45 else 1.0)
                sqft = (480, 720, 980, 1240, 1500)[beds] + self.between(-4, 6) * 10
                ut = {0: "Studio", 1: "1 Bed / 1 Bath", 3: "3 Bed / 2 Bath", 4: "4 Bed / 2 Bath"}.get(beds)
                if ut is None:
                    ut = "2 Bed / 2 Bath" if baths == 2.0 else "2 Bed / 1 Bath"
                specs_i = ("res", beds, baths, sqft, _UT[ut])
            b, k = divmod(i, 24)
            floor, slot = divmod(k, per_floor)
            name = f"{floor + 1}{slot + 1:02d}"  # 101, 102, ... 201, ...
            if buildings > 9:
                name = f"{b + 1}-{name}"
            elif buildings > 1:
                name = f"{b + 1}{name}"
            specs.append(specs_i + (name,))
        if kind == "mixed":
            for i in range(size - n_res):
                sqft = self.between(12, 40) * 100
                specs.append(("retail", 0, 1.0, sqft, _UT["Retail Space"], f"Retail {chr(65 + i % 26)}"
                              + (str(i // 26) if i >= 26 else "")))
        return specs

    def _designations(self, p: _Prop, specs: list[tuple]) -> list[tuple[int, str]]:
        """(AMI designation or 0, Unit Program) per unit."""
        kind = p.kind
        n = len(specs)
        res_idx = [i for i, s in enumerate(specs) if s[0] in ("res",)]
        result = [(0, "Market")] * n
        if p.planted:
            return [(des, prog) for _name, _beds, prog, des in _PLANTED[kind][2]]
        if kind in ("office", "retail", "hoa", "student"):
            return result
        order = res_idx[:]
        self.rng.shuffle(order)
        if kind == "lihtc_2050" or p.mix_lihtc:  # 40 % (mixed-use: 30 %) of the apartments at 50 % AMI
            tenths = 4 if kind == "lihtc_2050" else 3
            for i in order[:max(1, -(-len(order) * tenths // 10))]:
                result[i] = (50, "LIHTC")
        elif kind == "lihtc_4060" or (kind == "senior" and p.senior_affordable):
            market = len(order) // 10 if len(order) >= 40 else 0
            for j, i in enumerate(order):
                result[i] = (0, "Market") if j < market else (60, "LIHTC")
        elif kind == "home":  # every unit HOME: 30 % Low HOME (at least the required 20 %), the rest High HOME
            n_low = max(1, -(-len(order) * 3 // 10))
            for j, i in enumerate(order):
                result[i] = (0, "HOME-Low") if j < n_low else (0, "HOME-High")
        elif kind == "lihtc_ia":
            market = len(order) // 10 if len(order) >= 40 else 0
            cycle = (30, 40, 50, 60, 70, 80)
            for j, i in enumerate(order):
                result[i] = (0, "Market") if j < market else (cycle[(j - market) % 6], "LIHTC")
        elif kind == "usda":
            for i in order:
                result[i] = (60, "LIHTC,USDA RD 515") if "LIHTC" in p.programs else (0, "USDA RD 515")
        elif kind == "bond":
            if "LIHTC" in p.programs:
                for i in order:
                    result[i] = (60, "LIHTC,Bond")
            else:
                for i in order[:max(1, -(-len(order) // 4))]:
                    result[i] = (50, "Bond")
        return result

    def _unit_udvs(self, u: _Unit, stamp: str) -> None:
        udvs = self.out["UserDefinedValues"]
        uid = u.uid
        vals = (u.bin, str(u.des) if u.des else "", u.program, _money(u.ua_c) if u.ua_c else "")
        for (fid, name, _pt, ftype), val in zip(_UNIT_UDFS, vals):
            udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": fid, "ParentID": uid,
                         "ParentType": "Unit", "Name": name, "Value": val, "FieldType": ftype,
                         "UpdateDate": stamp, "UpdateUserID": 1})

    def _property_udvs(self, p: _Prop) -> None:
        a = _AREAS[p.area]
        pkind = {k[0]: k[1] for k in _KINDS}[p.kind]
        affordable = bool(p.programs)
        agency = ""
        if "LIHTC" in p.programs:
            agency = a["agency"]
        elif "USDA" in p.programs:
            agency = "USDA Rural Development" + (" - Kansas" if a["state"] == "KS" else " - Massachusetts")
        elif p.bond:
            agency = "Kansas Development Finance Authority" if a["state"] == "KS" else "MassHousing"
        elif "HOME" in p.programs:
            agency = a["home_pj"]
        programs = p.programs
        if affordable and p.vouchers:
            programs += ", Section 8"  # an affordable property serving voucher households
        tax_credit = "LIHTC" in p.programs or bool(p.bond)
        hera = "Yes" if tax_credit and _dt.date.fromordinal(p.pis).year <= 2008 and p.area != "boston" else "No"
        vals = (pkind, programs, p.lihtc, p.bond, a["limit_area"], self.clock.ymd(p.pis), hera, agency)
        udvs = self.out["UserDefinedValues"]
        for (fid, name, _pt, ftype), val in zip(_PROPERTY_UDFS, vals):
            udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": fid, "ParentID": p.pid,
                         "ParentType": "Property", "Name": name, "Value": val, "FieldType": ftype,
                         "UpdateDate": p.stamp, "UpdateUserID": 1})

    def _market_rents(self, u: _Unit, created_o: int) -> None:
        mr, ck, r = self.out["MarketRents"], self.clock, self.r
        change_o = self._fom(self.m_now - self.between(2, 11))
        amount_now = u.rent_c  # the asking rent: the program rent for program units, per bed in student housing
        comment = "Per bed" if u.cls == "student" else ""
        if created_o < change_o - 30:
            prev = _round5(amount_now / 100 * (0.95 + 0.03 * r()))
            from_o = max(created_o, change_o - 365)
            c, up = ck.audit(self.day_s(from_o), self.day_s(change_o - 1))
            mr.append({"MarketRentID": len(mr) + 1, "UnitID": u.uid, "Amount": prev / 100,
                       "FromDate": ck.date(from_o), "ToDate": ck.date(change_o - 1), "Comment": comment,
                       "CreateDate": c, "CreateUserID": 1, "UpdateDate": up, "UpdateUserID": 1})
        else:
            change_o = created_o
        c, up = ck.audit(self.day_s(change_o - 10), self.day_s(change_o - 10))
        mr.append({"MarketRentID": len(mr) + 1, "UnitID": u.uid, "Amount": amount_now / 100,
                   "FromDate": ck.date(change_o), "ToDate": None, "Comment": comment,
                   "CreateDate": c, "CreateUserID": 1, "UpdateDate": up, "UpdateUserID": 1})

    def _address(self, parent_id: int, parent_type: str, type_id: int, street: str, city: str, state: str,
                 zip_code: str, primary: bool, billing: bool) -> None:
        ad = self.out["Addresses"]
        ad.append({"AddressID": len(ad) + 1, "ParentID": parent_id, "ParentType": parent_type,
                   "AddressTypeID": type_id, "Street": street, "City": city, "State": state,
                   "PostalCode": zip_code, "IsPrimary": primary, "IsBilling": billing})

    # ---- owners and vendors -------------------------------------------------------------------------
    def owners(self) -> None:
        out, ck, r = self.out, self.clock, self.r
        props = self.props
        n_owners = min(len(props), max(3, round(len(props) / 3)))
        names: list[str] = []
        for i in range(n_owners):
            x = r()
            if x < 0.45:
                name = f"{self.pick(_PLACE_WORDS)} {self.pick(_OWNER_ENTITIES)}"
            elif x < 0.75:
                first, last = self.person()
                name = f"{last}, {first}"
            else:
                name = f"{self.pick(_LAST)} Family Trust"
            name = self.unique_name(name)
            names.append(name)
        order = list(range(len(props)))
        self.rng.shuffle(order)
        contracts: list[list[tuple[int, float]]] = [[] for _ in range(n_owners)]
        for j, pi in enumerate(order):
            oi = j % n_owners if j < n_owners else int(r() * n_owners)
            if r() < 0.12 and n_owners > 1:
                oj = (oi + 1 + int(r() * (n_owners - 1))) % n_owners
                pct = self.pick((50.0, 60.0, 75.0))
                contracts[oi].append((pi, pct))
                contracts[oj].append((pi, 100.0 - pct))
            else:
                contracts[oi].append((pi, 100.0))
        oc = out["OwnerContracts"]
        a = _AREAS["wichita"]
        for i, name in enumerate(names):
            oid = i + 1
            o = self.T - self.between(400, 4000)
            c, u = self.audit_around(o, 300)
            display = name if "," not in name else " ".join(reversed(name.split(", ")))
            out["Owners"].append({"OwnerID": oid, "Name": name, "DisplayName": display, "Status": "Active",
                                  "Comment": "", "CreateDate": c, "CreateUserID": 1, "UpdateDate": u,
                                  "UpdateUserID": 1})
            city, zips = self.pick(a["cities"])
            self._address(oid, "Owner", 4, self.street(), city, "KS", self.pick(zips), True, True)
            first, last = self.person()
            self._contact(oid, "Owner", first, last, _CT["Business"], None, None, True, c, u, email=True)
            for pi, pct in contracts[i]:
                p = props[pi]
                start = max(p.pis, self.T - self.between(300, 5000))
                c2, u2 = self.audit_around(start, 200)
                oc.append({"OwnerContractID": len(oc) + 1, "OwnerID": oid, "PropertyID": p.pid, "Percentage": pct,
                           "StartDate": ck.date(start), "EndDate": None, "CreateDate": c2, "CreateUserID": 1,
                           "UpdateDate": u2, "UpdateUserID": 1})

    def vendors(self) -> None:
        out, r = self.out, self.r
        n = max(8, round(self.units_target / 40))
        for i in range(n):
            trade, category, smcat = _VENDOR_TRADES[i % len(_VENDOR_TRADES)]
            name = self.unique_name(f"{self.pick(_VENDOR_PREFIX)} {trade} {self.pick(('LLC', 'Inc.', 'Co.', 'LLC'))}")
            vid = i + 1
            o = self.T - self.between(60, 3000)
            c, u = self.audit_around(o, 500)
            ins = self.T + self.between(-90, 500)
            out["Vendors"].append({"VendorID": vid, "Name": name, "Payee": name, "Category": category,
                                   "Is1099": r() < 0.7, "IsActive": r() < 0.95,
                                   "InsuranceExpiration": self.clock.date(ins), "Comment": "",
                                   "CreateDate": c, "CreateUserID": 1, "UpdateDate": u, "UpdateUserID": 1})
            a = _AREAS[self.pick(("wichita", "wichita", "kc", "topeka"))]
            city, zips = self.pick(a["cities"])
            self._address(vid, "Vendor", 4, self.street(), city, a["state"], self.pick(zips), True, True)
            first, last = self.person()
            self._contact(vid, "Vendor", first, last, _CT["Business"], None, None, True, c, u, email=True)
            self.vendor_by_cat.setdefault(smcat, []).append(vid)

    def _contact(self, parent_id: int, parent_type: str, first: str, last: str, ct: int, applicant: str | None,
                 dob: int | None, primary: bool, c: str, u: str, *, email: bool = False, middle: str = "",
                 income_c: int = 0, employer: str = "", ssn: bool = False, comment: str = "") -> int:
        contacts = self.out["Contacts"]
        cid = len(contacts) + 1
        contacts.append({
            "ContactID": cid, "ParentID": parent_id, "ParentType": parent_type, "FirstName": first, "LastName": last,
            "MiddleName": middle, "IsPrimary": primary, "IsActive": True, "ContactTypeID": ct,
            "DateOfBirth": self.clock.date(dob) if dob else None,
            "FederalTaxID": f"***-**-{self.between(1000, 9999)}" if ssn else "",
            "Email": self.email(first, last) if email else "", "Employer": employer, "ApplicantType": applicant,
            "AnnualIncome": income_c / 100, "Comment": comment,
            "CreateDate": c, "CreateUserID": 1 + int(self.r() * 6), "UpdateDate": u,
            "UpdateUserID": 1 + int(self.r() * 6)})
        return cid

    # ---- occupancy: tenants, leases, households ---------------------------------------------------
    def occupancy(self, p: _Prop) -> None:
        if p.planted:
            self._planted_occupancy(p)
            return
        plans = []
        for u in p.units:
            if u.cls == "student":
                self._student_unit(p, u)
            else:
                plans.append((u, self._timeline(p, u)))
        # the first (clean) LIHTC property and the first market property always house a voucher household
        forced = None
        group = "lihtc" if "LIHTC" in p.programs else p.kind
        if group in ("lihtc", "mf_market") and group not in self.voucher_kinds:
            forced = next((u.uid for u, tl in plans if u.cls == "res" and u.program != "Market"
                           and any(t[0] == "Current" for t in tl)) if group == "lihtc" else
                          (u.uid for u, tl in plans if u.cls == "res" and any(t[0] == "Current" for t in tl)), None)
            if forced is not None:
                self.voucher_kinds.add(group)
        for u, timeline in plans:
            for status, movein, moveout, notice in timeline:
                self._tenancy(p, u, status, movein, moveout, notice, u.uid == forced and status == "Current")

    def _planted_occupancy(self, p: _Prop) -> None:
        """Tenancies of the planted properties: fixed dates (relative to now), fixed households where the
        problem lives (PLANTED_FINDINGS, docs/planted-findings.md), ordinary clean households elsewhere."""
        T = self.T
        vli = _AREAS[p.area]["vli"]
        units = {u.name: u for u in p.units}

        def l60(persons: int) -> int:  # the 60 % income limit, whole dollars
            return _limit(vli, 60, 2 * persons)

        def hundreds(x: float) -> int:
            return int(x) // 100 * 100

        def live(name: str, movein: int, fixed: dict | None = None, voucher: bool = False) -> None:
            # the previous resident, when it left inside the history window (as _timeline keeps them);
            # in Harbor Point every such lease-up predates the over-income recertification
            prev_out = movein - self.between(7, 45)
            if prev_out >= self.hist_start and name != "102":
                prev_in = max(p.pis + 45, prev_out - self.between(300, 4 * 365))
                if prev_in < prev_out - 30:
                    self._tenancy(p, units[name], "Past", prev_in, prev_out, prev_out - self.between(30, 60))
            self._tenancy(p, units[name], "Current", movein, None, None, voucher, fixed)

        if p.kind == "lihtc_4060":  # Harbor Point: four unit-level problems, two clean units
            recert = self._fom(self.m_now - 3)  # the over-income annual recertification of unit 101
            x_in = _add_months(_dt.date.fromordinal(recert), -12).toordinal()
            over = hundreds(l60(2) * 1.6)
            live("101", x_in, {"mi_income": hundreds(l60(2) * 0.7), "members": (
                ("Head", "Daniel", "Okafor", 41, False, "None", over * 55 // 100),
                ("Spouse", "Grace", "Okafor", 39, True, "None", over - over * 55 // 100))})
            # unit 102 (market, 2 BR): the previous resident left after the recertification; the next one,
            # an over-income household without an income certification, moved in six weeks after it
            prev_in = _add_months(_dt.date.fromordinal(recert), -40).toordinal()
            self._tenancy(p, units["102"], "Past", prev_in, recert + 20, recert - 15)
            market = hundreds(l60(2) * 1.5)
            live("102", recert + 45, {"mi_income": market, "members": (
                ("Head", "Gregory", "Whitfield", 47, False, "None", market * 6 // 10),
                ("Spouse", "Anne", "Whitfield", 45, True, "None", market - market * 6 // 10))})
            single = hundreds(l60(1) * 0.6)
            live("103", T - 200, {"mi_income": single, "members": (
                ("Head", "Maria", "Brennan", 33, True, "None", single),)})
            o_in = T - 420
            pay = hundreds(l60(2) * 0.65)
            live("104", o_in, {"mi_income": pay, "members": (
                ("Head", "Rosa", "Castillo", 36, True, "None", pay),
                ("Child", "Mateo", "Castillo", 9, False, "Full-time", 0)),
                "cert": ("Move-In", o_in, _add_months(_dt.date.fromordinal(o_in), 12).toordinal())})
            live("201", T - 250, {"mi_income": 23000, "exception": "", "members": (
                ("Head", "Linh", "Nguyen", 22, True, "Full-time", 14000),
                ("Co-Head", "Jordan", "Park", 23, False, "Full-time", 9000))})
            live("202", T - 1113)
            live("203", T - 770, voucher=True)
        elif p.kind == "lihtc_2050":  # Elm Court: one designated unit of the two the set-aside needs
            for k, u in enumerate(p.units):
                live(u.name, T - 500 if k == 0 else T - 90 - 137 * k)
        else:  # Maple Commons: every household qualifies; only the designations average above 60 %
            step = min(190, (T - 150 - (p.pis + 60)) // len(p.units))
            for k, u in enumerate(p.units):
                live(u.name, T - 150 - step * k)

    def _timeline(self, p: _Prop, u: _Unit) -> list[tuple[str, int, int | None, int | None]]:
        """Tenancies of one unit overlapping the history window: (status, move-in, move-out, notice)."""
        r, T, H = self.r, self.T, self.hist_start
        cls = u.cls
        lower = max(p.pis + 45, T - (20 if cls == "hoa" else 11) * 365)
        occ, recent, past_if_vacant, future_if_vacant = {
            "res": (0.945, 0.27, 0.85, 0.35), "hoa": (1.0, 0.08, 0.0, 0.0),
            "office": (0.88, 0.10, 0.4, 0.15), "retail": (0.88, 0.10, 0.4, 0.15)}[cls]
        term = 12 if cls in ("res", "hoa") else 60
        result: list[tuple[str, int, int | None, int | None]] = []
        # Program units keep their set-asides determinate: a vacant one always had a (qualified) previous
        # household (vacant unit rule); bond units (the bond test counts occupied units only) and Low HOME
        # units (the Low HOME occupancy rule) are always occupied.
        program = cls == "res" and u.program != "Market"
        always = program and (bool(p.bond) or "HOME-Low" in u.program)
        if r() < occ or always:
            if r() < recent and max(H + 20, lower) < T - 1:
                movein = self.between(max(H + 20, lower), T - 1)
                prev_out = movein - self.between(7, 45)
                if prev_out >= H and cls != "hoa":
                    prev_in = max(lower, prev_out - self.between(300, 6 * 365 if cls == "res" else 10 * 365))
                    if prev_in < prev_out - 30:
                        result.append(("Past", prev_in, prev_out, prev_out - self.between(30, 60)))
                elif cls == "hoa":
                    prev_out = movein - 1
                    prev_in = max(lower, prev_out - self.between(3 * 365, 15 * 365))
                    if prev_in < prev_out - 30:
                        result.append(("Past", prev_in, prev_out, None))
            else:
                hi = max(lower, H + 19)
                movein = self.between(lower, hi)
            notice = None
            if cls == "res" and r() < 0.05 and movein < T - 200:
                notice = T - self.between(1, 25)
            result.append(("Current", movein, None, notice))
        else:
            if r() < past_if_vacant or program:
                out_o = T - self.between(1, 120 if cls == "res" else 300)
                movein = max(lower, out_o - self.between(200, term * 30 * 4))
                if movein < out_o - 30 and out_o >= H:
                    result.append(("Past", movein, out_o, out_o - self.between(30, 60)))
            if program and not result:  # no previous household possible: occupied after all
                result.append(("Current", self.between(lower, max(lower, H + 19)), None, None))
            elif r() < future_if_vacant:
                result.append(("Future", T + self.between(3, 45), None, None))
        return result

    def _tenancy(self, p: _Prop, u: _Unit, status: str, movein: int, moveout: int | None,
                 notice: int | None, voucher: bool = False, fixed: dict | None = None) -> None:
        out, ck, r, T = self.out, self.clock, self.r, self.T
        cls = u.cls
        tid = len(out["Tenants"]) + 1
        commercial = cls in ("office", "retail")
        created_o = min(movein - self.between(3, 30), T - 1)
        c, upd = ck.audit(self.day_s(created_o), self.day_s(min(T, (moveout or T) + self.between(0, 20))
                                                             if status != "Future" else created_o + 2))
        if r() < 0.25:
            upd = ck.ts(self.day_s(T - self.between(0, 60)))
            if upd < c:
                upd = c
        hh = None
        if commercial:
            name = self.pick(_OFFICE_TENANTS if cls == "office" else _RETAIL_TENANTS)
            if r() < 0.3:
                name = f"{name} #{self.between(2, 9)}"
            first = last = ""
            tname = name
        else:
            hh = self._fixed_household(movein, moveout, fixed) if fixed else self._household(p, u, movein,
                                                                                              moveout, voucher)
            first, last = hh["first"], hh["last"]
            tname = f"{last}, {first}"
        out["Tenants"].append({
            "TenantID": tid, "TenantDisplayID": 10000 + tid, "Name": tname, "FirstName": first, "LastName": last,
            "IsCompany": commercial, "Status": status, "PropertyID": p.pid, "RentDueDay": 1, "RentPeriod": "Monthly",
            "Comment": "", "CreateDate": c, "CreateUserID": 1 + int(r() * 8), "UpdateDate": upd,
            "UpdateUserID": 1 + int(r() * 8)})
        a = _AREAS[p.area]
        if status == "Past" and r() < 0.7:
            fa = _AREAS[self.pick(_AREA_KEYS)]
            city, zips = self.pick(fa["cities"])
            self._address(tid, "Tenant", 3, self.street(), city, fa["state"], self.pick(zips), True, True)
        else:
            line2 = "" if p.kind in ("sfr", "hoa") else (f"\r\n{u.name}" if commercial or cls == "retail"
                                                          else f"\r\nApt {u.name}")
            self._address(tid, "Tenant", 1, u.street + line2, p.city, a["state"], p.zip, True, True)
        u.tenancies.append((tid, movein, moveout if moveout is not None else _FAR))
        # lease and renewals
        lease_id = len(out["Leases"]) + 1
        terms = self._terms(cls, movein, moveout, status)
        expected_out = moveout
        if notice and moveout is None:
            expected_out = T + self.between(5, 45)
        lc, lu = ck.audit(self.day_s(created_o), self.day_s(min(T, notice or moveout or (terms[-1][0] if terms
                                                                                          else movein))))
        out["Leases"].append({
            "LeaseID": lease_id, "TenantID": tid, "UnitID": u.uid, "PropertyID": p.pid,
            "MoveInDate": ck.date(movein), "MoveOutDate": ck.date(moveout) if moveout else None,
            "ExpectedMoveOutDate": ck.date(expected_out) if expected_out else None,
            "NoticeDate": ck.date(notice) if notice else None, "IsCommercial": commercial, "SortOrder": 1,
            "CreateDate": lc, "CreateUserID": 1 + int(r() * 8), "UpdateDate": lu, "UpdateUserID": 1 + int(r() * 8)})
        lr = out["LeaseRenewals"]
        for start, end, months in terms:
            sign = start - self.between(10, 60) if start != movein else movein - self.between(2, 20)
            sign = min(sign, T - self.between(0, 5))
            sc, su = ck.audit(self.day_s(sign), self.day_s(min(sign + self.between(0, 3), T)))
            lr.append({"LeaseRenewalID": len(lr) + 1, "ParentLeaseID": lease_id, "UnitID": u.uid,
                       "LeaseLength": months, "SignDate": ck.date(sign), "StartDate": ck.date(start),
                       "EndDate": ck.date(end), "CreateDate": sc, "CreateUserID": 1 + int(r() * 8),
                       "UpdateDate": su, "UpdateUserID": 1 + int(r() * 8)})
        if commercial:
            self._company_contacts(tid, c, upd, cls)
            self._commercial_lease(p, u, tid, lease_id, movein, moveout, status, terms)
        else:
            self._household_records(u, tid, hh, movein, moveout, c, upd)
            self._residential_charges(p, u, tid, hh, status, movein, moveout, terms)

    def _terms(self, cls: str, movein: int, moveout: int | None, status: str) -> list[tuple[int, int, int]]:
        """Lease renewal chain: (start, end, months)."""
        if cls == "hoa":
            return []
        months = 12 if cls == "res" else self.pick((36, 60, 60, 84, 120))
        renew_months = 12 if cls == "res" else 60
        limit = min(self.T, moveout) if moveout else self.T
        mtm = cls == "res" and self.r() < 0.15
        d = _dt.date.fromordinal(movein)
        terms = []
        start = d
        length = months
        while True:
            end = _add_months(start, length) - _dt.timedelta(days=1)
            terms.append((start.toordinal(), end.toordinal(), length))
            nxt = end + _dt.timedelta(days=1)
            if nxt.toordinal() > limit or status == "Future":
                break
            if mtm and nxt.toordinal() > self.T - 300:
                break
            start, length = nxt, renew_months
        return terms

    def _household(self, p: _Prop, u: _Unit, movein: int, moveout: int | None, voucher: bool) -> dict:
        """A household: members (relationship, names, birth dates, student status, incomes) and its voucher."""
        r, pick = self.r, self.pick
        kind, beds = p.kind, u.beds
        a = _AREAS[p.area]
        last = pick(_LAST)
        members: list[dict] = []
        senior = kind == "senior"
        if u.cls == "hoa":
            size = 1 if r() < 0.3 else 2 + (1 if r() < 0.5 else 0) + (1 if r() < 0.3 else 0)
        elif senior:
            size = 1 if r() < 0.7 else (2 if r() < 0.93 else 3)
        else:
            sizes, cum = _HOUSEHOLD_SIZES[min(beds, 4)]
            x = r()
            size = sizes[-1]
            for s, w in zip(sizes, cum):
                if x < w:
                    size = s
                    break
            size = min(size, u.maxocc, 6)
        head_female = r() < 0.6
        if senior:
            head_age = self.between(62, 91)
        elif u.cls == "hoa":
            head_age = self.between(28, 78)
        else:
            head_age = self.between(19, 64) if size == 1 else self.between(22, 55)
        all_students = False
        if u.des and size <= 3 and not senior and head_age < 30 and r() < 0.1:
            all_students = True
        first = pick(_FIRST_F if head_female else _FIRST_M)
        members.append({"rel": "Head", "first": first, "last": last, "age": head_age, "female": head_female,
                        "student": "Full-time" if all_students else ("Part-time" if r() < 0.04 else "None")})
        remaining = size - 1
        if remaining > 0 and (r() < 0.6 or senior):
            rel = "Spouse" if r() < 0.85 else "Co-Head"
            age = max(18, head_age + self.between(-6, 6)) if not senior else max(55, head_age + self.between(-8, 5))
            sp_last = last if r() < 0.8 else pick(_LAST)
            members.append({"rel": rel, "first": pick(_FIRST_M if head_female else _FIRST_F), "last": sp_last,
                            "age": age, "female": not head_female,
                            "student": "Full-time" if all_students else "None"})
            remaining -= 1
        if senior and remaining > 0:
            members.append({"rel": "Other Adult", "first": pick(_FIRST_F), "last": pick(_LAST),
                            "age": self.between(25, 60), "female": True, "student": "None"})
            remaining -= 1
        while remaining > 0:
            if r() < 0.12 and head_age > 40:
                members.append({"rel": "Other Adult", "first": self.person()[0], "last": pick(_LAST),
                                "age": self.between(19, 80), "female": r() < 0.5, "student": "None"})
            else:
                max_child = max(0, min(22, head_age - 18))
                age = self.between(0, max_child)
                fem = r() < 0.5
                st = "None" if age < 5 else ("Full-time" if age < 18 else ("Full-time" if r() < 0.6 else "None"))
                members.append({"rel": "Child", "first": pick(_FIRST_F if fem else _FIRST_M), "last": last, "age": age,
                                "female": fem, "student": st})
            remaining -= 1
        exception = ""
        if all_students:
            partnered = any(m["rel"] in ("Spouse", "Co-Head") for m in members)
            if any(m["rel"] == "Child" for m in members) and not partnered:
                exception = "Single Parent"
            else:
                exception = "Joint Return" if partnered and r() < 0.5 else pick(("TANF", "Job Training", "Foster Care"))
        if all_students:  # every member a full-time student: adults and children alike
            for m in members:
                if m["rel"] in ("Head", "Spouse", "Co-Head", "Other Adult") or m["age"] >= 5:
                    m["student"] = "Full-time"
        # income
        n = len(members)
        forced_voucher = voucher
        if u.cls == "res" and not (u.program == "USDA RD 515") and not voucher:
            vp = 0.15 if u.tier else {"mf_market": 0.06, "sfr": 0.2, "mixed": 0.05, "senior": 0.08}.get(kind, 0.0)
            voucher = r() < vp
        # incomes are those of the latest certification: the move-in one (at most 97 % of the unit's limit)
        # grown 3 % per annual recertification, which stays under 140 % of the limit for any tenancy the
        # generator makes (at most 11 years: 0.97 x 1.03^11 < 1.35)
        recerts = self._anniversaries(movein, moveout)
        growth = 1.03 ** recerts
        program = bool(u.tier) or u.program == "USDA RD 515"
        if program:
            limit = _limit(a["vli"], u.tier or 80, 2 * n)
            if voucher:
                limit = min(limit, _limit(a["vli"], 50, 2 * n))
            current = limit * ((0.3 + 0.45 * r()) if voucher else (0.42 + 0.55 * r())) * growth
        elif u.cls == "hoa":
            current = 55000 + 120000 * r()
        else:
            rent = u.rent_c / 100 if u.rent_c else 1000
            current = rent * 12 * (2.6 + 2.5 * r())
            if voucher:
                current = min(current, _limit(a["vli"], 50, 2 * n) * (0.3 + 0.5 * r()))
        adults = [m for m in members if m["age"] >= 18]
        earners = [m for m in adults if (m["age"] < 67 and m["student"] != "Full-time") or r() < 0.15]
        for m in members:
            m["emp"] = m["ben"] = m["oth"] = m["cash"] = m["ainc"] = 0
        benefit_share = 0.0
        if senior or (adults and adults[0]["age"] >= 65):
            benefit_share = 0.85
        elif r() < 0.15:
            benefit_share = 0.3 + 0.5 * r()
        for m in adults:  # assets and their income are part of the household income
            x = r()
            cash = 0 if x < 0.25 else (self.between(50, 5000) if x < 0.8 else self.between(5000, 120000 if senior
                                                                                            else 40000))
            m["cash"] = cash
            m["ainc"] = int(cash * (0.001 + 0.02 * r()))
        if program and sum(m["ainc"] for m in adults) > int(current) // 4:  # asset income a modest share
            for m in adults:
                m["ainc"] = m["ainc"] // 8
        total = max(0, int(current) - sum(m["ainc"] for m in adults))
        ben_total = int(total * benefit_share)
        emp_total = total - ben_total
        if not earners and emp_total:
            ben_total, emp_total = total, 0
        if ben_total:
            recipients = [m for m in adults if m["age"] >= 62] or adults[:1]
            for i, m in enumerate(recipients):
                m["ben"] = ben_total // len(recipients) + (ben_total % len(recipients) if i == 0 else 0)
        if emp_total:
            weights = [1.0 if m["rel"] == "Head" else (0.7 if m["rel"] in ("Spouse", "Co-Head") else 0.35)
                       for m in earners]
            wsum = sum(weights)
            left = emp_total
            for i, (m, w) in enumerate(zip(earners, weights)):
                amt = left if i == len(earners) - 1 else int(emp_total * w / wsum)
                m["emp"] = amt
                left -= amt
        if members[0]["emp"] > 4000 and r() < 0.1:  # child support, alimony
            x = min(self.between(12, 60) * 100, members[0]["emp"])
            members[0]["emp"] -= x
            members[0]["oth"] += x
        # voucher
        hap_c = vps_c = 0
        if voucher and u.rent_c:
            vps_c = a["vps"][min(beds, 4)] * 100
            adjusted = max(0, current - 480 * sum(1 for m in members if m["rel"] == "Child"))
            ttp = max(5000, int(adjusted * 0.3 / 12) * 100)
            gross = u.rent_c + u.ua_c
            hap_c = min(vps_c, gross) - ttp
            hap_c = min(hap_c, u.rent_c - 2500)
            if hap_c < 5000 and forced_voucher:
                hap_c = 5000
            if hap_c < 5000:
                hap_c = vps_c = 0
        emps = self.pick(_EMPLOYERS)
        cert_total = sum(m["emp"] + m["ben"] + m["oth"] + m["ainc"] for m in members)
        return {"first": first, "last": last, "members": members, "exception": exception,
                "recerts": recerts, "hap_c": hap_c, "vps_c": vps_c, "employer": emps,
                "mi_income": int(cert_total / growth), "mi_size": n, "cert": None}

    def _fixed_household(self, movein: int, moveout: int | None, spec: dict) -> dict:
        """A planted household from its spec: members as (relationship, first, last, age, female, student status,
        employment income), the move-in income and size, the student exception and, optionally, the current
        certification as (type, effective ordinal, next-due ordinal) instead of the anniversary schedule."""
        members = []
        for rel, first, last, age, female, student, emp in spec["members"]:
            members.append({"rel": rel, "first": first, "last": last, "age": age, "female": female,
                            "student": student, "emp": emp, "ben": 0, "oth": 0, "cash": 0, "ainc": 0})
        return {"first": members[0]["first"], "last": members[0]["last"], "members": members,
                "exception": spec.get("exception", ""), "recerts": self._anniversaries(movein, moveout),
                "hap_c": 0, "vps_c": 0, "employer": self.pick(_EMPLOYERS), "mi_income": spec["mi_income"],
                "mi_size": len(members), "cert": spec.get("cert")}

    def _anniversaries(self, movein: int, moveout: int | None) -> int:
        """Move-in anniversaries (annual recertifications) up to today or the move-out."""
        until = min(self.T, moveout) if moveout is not None else self.T
        if movein > until:
            return 0
        first = _dt.date.fromordinal(movein)
        n = max(0, int((until - movein) / 365.25) - 1)
        while _add_months(first, 12 * (n + 1)).toordinal() <= until:
            n += 1
        return n

    def _household_records(self, u: _Unit, tid: int, hh: dict, movein: int, moveout: int | None, c: str,
                           upd: str) -> None:
        """Household members as Contacts and the compliance UDFs of the tenant and its members."""
        ck, r, T = self.clock, self.r, self.T
        udvs = self.out["UserDefinedValues"]
        program_household = u.program != "Market"
        for i, m in enumerate(hh["members"]):
            dob = T - int(m["age"] * 365.25) - self.between(0, 364)
            adult = m["age"] >= 18
            rel = m["rel"]
            applicant = ("Applicant" if rel == "Head" else
                         "CoApplicant" if rel in ("Spouse", "Co-Head") else "Occupant")
            income = (m["emp"] + m["ben"] + m["oth"]) * 100
            employer = (hh["employer"] if rel == "Head" else self.pick(_EMPLOYERS)) if m["emp"] else ""
            cid = self._contact(tid, "Tenant", m["first"], m["last"], _REL_CT[rel], applicant, dob, i == 0, c, upd,
                                email=adult, middle=self.pick(_MIDDLE) if r() < 0.4 else "", income_c=income,
                                employer=employer, ssn=True)
            if program_household:
                vals = (rel, m["student"], _money(m["emp"] * 100), _money(m["ben"] * 100), _money(m["oth"] * 100),
                        _money(m["cash"] * 100), _money(m["ainc"] * 100))
                fields = _MEMBER_UDFS
            else:
                vals = (rel,)
                fields = _MEMBER_UDFS[:1]
            for (fid, name, _pt, ftype), val in zip(fields, vals):
                udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": fid, "ParentID": cid,
                             "ParentType": "Contact", "Name": name, "Value": val, "FieldType": ftype,
                             "UpdateDate": upd, "UpdateUserID": 1})
        vps = _money(hh["vps_c"]) if hh["vps_c"] else ""
        if program_household:
            # the latest certification effective on or before today (the move-in one for future residents);
            # its income is the members' incomes plus their asset income. Interim certifications happen in
            # the first year only, so the annual schedule stays readable from the certifications on record
            # (move-in + current): the next recertification is due a year after the latest full one.
            recerts = hh["recerts"]
            first = _dt.date.fromordinal(movein)
            eff = _add_months(first, 12 * recerts).toordinal()
            ctype = "Move-In" if recerts == 0 else "Annual"
            until = min(T, moveout or T)
            if recerts == 0 and r() < 0.08 and eff + 60 < until:
                ctype = "Interim"
                eff += self.between(30, min(300, until - eff))
            next_due = _add_months(first, 12 * (recerts + 1)).toordinal()
            if hh["cert"] is not None:  # planted: the certification as given
                ctype, eff, next_due = hh["cert"]
            cert_income = sum(m["emp"] + m["ben"] + m["oth"] + m["ainc"] for m in hh["members"]) * 100
            vals = (ctype, ck.ymd(eff), ck.ymd(next_due), _money(cert_income), str(len(hh["members"])),
                    hh["exception"], vps, ck.ymd(movein), _money(hh["mi_income"] * 100), str(hh["mi_size"]))
            fields = _CERT_UDFS
        elif vps:
            vals, fields = (vps,), [_VPS_UDF]
        else:
            return
        for (fid, name, _pt, ftype), val in zip(fields, vals):
            udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": fid, "ParentID": tid,
                         "ParentType": "Tenant", "Name": name, "Value": val, "FieldType": ftype,
                         "UpdateDate": upd, "UpdateUserID": 1})

    def _company_contacts(self, tid: int, c: str, upd: str, cls: str) -> None:
        first, last = self.person()
        self._contact(tid, "Tenant", first, last, _CT["Business"], "Applicant", None, True, c, upd, email=True,
                      comment="Store manager" if cls == "retail" else "Office manager")
        if self.r() < 0.5:
            first, last = self.person()
            self._contact(tid, "Tenant", first, last, _CT["Business"], "CoApplicant", None, False, c, upd, email=True,
                          comment="Accounts payable")
        if cls == "retail" and self.r() < 0.3:
            first, last = self.person()
            dob = self.T - self.between(35, 65) * 365
            self._contact(tid, "Tenant", first, last, _CT["Guarantor"], "Guarantor", dob, False, c, upd, email=True,
                          comment="Personal guaranty", ssn=True, income_c=self.between(90, 300) * 100000)

    def _recurring(self, entity: str, key: int, tid: int | None, uid: int | None, pid: int, ct: int, cents: int,
                   from_o: int, to_o: int | None, comment: str, per_sf: float = 0.0) -> None:
        rc = self.out["RecurringCharges"]
        c, u = self.clock.audit(self.day_s(min(from_o, self.T) - self.between(1, 20)),
                                self.day_s(min(self.T, to_o or from_o)))
        rc.append({"RecurringChargeID": len(rc) + 1, "EntityType": entity, "EntityKeyID": key, "TenantID": tid,
                   "UnitID": uid, "PropertyID": pid, "ChargeTypeID": ct, "Amount": cents / 100,
                   "AmountPerSquareFoot": per_sf, "Frequency": 1, "FromDate": self.clock.date(from_o),
                   "ToDate": self.clock.date(to_o) if to_o else None, "Comment": comment,
                   "CamRecurringChargeID": None, "CreateDate": c, "CreateUserID": 2, "UpdateDate": u,
                   "UpdateUserID": 2})

    def _new_acct(self, p: _Prop, u: _Unit, tid: int, movein: int, moveout: int | None, prorate: bool) -> _Acct:
        acct = _Acct()
        acct.tid, acct.pid, acct.uid = tid, p.pid, u.uid
        acct.start, acct.end = movein, moveout if moveout is not None else _FAR
        acct.m0 = max(self.m_hist, self._month_of(movein))
        acct.m1 = min(self.m_now, self._month_of(moveout)) if moveout is not None else self.m_now
        acct.items = []
        acct.hap = None
        acct.prorate = prorate
        x = self.r()
        acct.profile = 0 if x < 0.85 else (1 if x < 0.92 else (2 if x < 0.96 else 3))  # good, late, delinquent, prepay
        acct.late = 5000  # late fee in cents, 0 = none
        acct.queue, acct.head, acct.open_c = [], 0, 0
        acct.hqueue, acct.hhead = [], 0
        acct.extras = {}
        acct.ha_name = ""
        acct.credit_move_out = moveout is not None and prorate
        return acct

    def _residential_charges(self, p: _Prop, u: _Unit, tid: int, hh: dict, status: str, movein: int,
                             moveout: int | None, terms: list) -> None:
        """Recurring charges of a residential/HOA tenant and its ledger account."""
        r, T, H = self.r, self.T, self.hist_start
        acct = self._new_acct(p, u, tid, movein, moveout, prorate=u.cls == "res")
        end = moveout if moveout is not None else None
        if u.cls == "hoa":
            acct.late = max(1000, p.hoa_c // 10 // 100 * 100)  # greater of 10 % or $10
            acct.items.append((C_HOA, p.hoa_c, movein, _FAR, "HOA Assessment"))
            if status != "Future" and acct.m0 <= acct.m1:
                self.accts.append(acct)
            self.hoa_accts.setdefault(p.pid, []).append(acct)
            return
        # rent levels: one per lease term, effective from the 1st after the term starts
        levels = []
        for k, (start, _end, _months) in enumerate(terms):
            eff = movein if k == 0 else self._fom(self._month_of(start) + (0 if _dt.date.fromordinal(start).day == 1
                                                                           else 1))
            years_back = int(max(0.0, (T - start) / 365.25))
            cents = u.rent_c if years_back == 0 else _round5(u.rent_c / 100 * 0.97 ** years_back)
            if end is not None and eff > end:  # the resident left before this term's rent took effect
                break
            levels.append([eff, cents])
        hap_c = hh["hap_c"]
        for k, (eff, cents) in enumerate(levels):
            nxt = levels[k + 1][0] - 1 if k + 1 < len(levels) else (end or _FAR)
            if nxt < H and k + 1 < len(levels):
                continue
            rent_c = max(2500, cents - hap_c) if hap_c else cents
            acct.items.append((C_RENT, rent_c, eff, nxt, "Rent"))
            self._recurring("Tenant", tid, tid, u.uid, p.pid, C_RENT, rent_c, eff,
                            None if nxt >= _FAR else nxt, "Rent" if not hap_c else "Rent - tenant portion")
        if hap_c:
            p.vouchers += 1
            sub_id = self.subsidy_by_area[p.area]
            acct.hap = hap_c
            acct.ha_name = _AREAS[p.area]["ha"][:-4]
            acct.items.append((C_HAP, hap_c, movein, end or _FAR, "HAP"))
            self._recurring("Tenant", tid, tid, u.uid, p.pid, C_HAP, hap_c, movein, end, "Housing assistance payment")
            st = self.out["SubsidyTenants"]
            sc, su = self.audit_around(min(movein, T), 60)
            st.append({"SubsidyTenantID": len(st) + 1, "SubsidyID": sub_id, "TenantID": tid, "Amount": hap_c / 100,
                       "StartDate": self.clock.date(movein), "EndDate": self.clock.date(end) if end else None,
                       "CreateDate": sc, "CreateUserID": 3, "UpdateDate": su, "UpdateUserID": 3})
        market = u.program == "Market" and p.kind not in ("senior",)
        extras = []
        if u.program != "Market":
            pass  # program units: tenant-paid utilities, covered by the unit's utility allowance
        elif p.utility == "itemized":
            extras += [(C_WTR, self.between(25, 45) * 100, "Water"), (C_SWR, self.between(20, 40) * 100, "Sewer"),
                       (C_TRSH, self.between(12, 20) * 100, "Trash"),
                       (C_PEST, self.between(3, 6) * 100, "Pest control")]
            if r() < 0.5:
                extras.append((C_GAS, self.between(15, 45) * 100, "Gas"))
        elif p.utility == "rubs":
            extras.append((C_UTIL, self.between(35, 85) * 100, "Water/sewer/trash (RUBS)"))
        if market:
            if r() < 0.2:
                extras.append((C_PARK, self.pick((25, 35, 50)) * 100, "Covered parking"))
            if r() < 0.15:
                extras.append((C_PET, self.pick((25, 35, 40, 50)) * 100, "Pet rent"))
            if r() < 0.1:
                extras.append((C_INS, self.pick((12, 15, 18)) * 100, "Renters insurance program"))
        else:
            if r() < 0.05:
                extras.append((C_PARK, self.pick((15, 25)) * 100, "Optional parking"))
            if r() < 0.05:
                extras.append((C_PET, self.pick((15, 25)) * 100, "Pet rent"))
        for ct, cents, comment in extras:
            acct.items.append((ct, cents, movein, end or _FAR, comment))
            self._recurring("Tenant", tid, tid, u.uid, p.pid, ct, cents, movein, end, comment)
        if u.garage_c:
            acct.items.append((C_PARK, u.garage_c, movein, end or _FAR, "Garage"))
        if status != "Future" and acct.m0 <= acct.m1:
            self.accts.append(acct)

    # ---- student housing ----------------------------------------------------------------------------
    def _student_unit(self, p: _Prop, u: _Unit) -> None:
        T, r = self.T, self.r
        today = self.today
        # academic years Aug 15 .. Jul 31 overlapping the history window, plus next year's pre-leasing
        y_now = today.year if today >= _dt.date(today.year, 8, 15) else today.year - 1
        years = [y for y in range(y_now - 2, y_now + 1)
                 if _dt.date(y + 1, 7, 31).toordinal() >= self.hist_start]
        preleasing = today.month >= 3 and today < _dt.date(today.year, 8, 15)
        if preleasing:
            years.append(today.year)
        for bed in range(u.beds):
            space = "ABCD"[bed]
            prev = None  # index in plan of last year's resident, who may renew
            plan: list[list[int]] = []  # the academic years of each resident of this bed
            for y in years:
                future = _dt.date(y, 8, 15).toordinal() > T
                if r() > (0.93 if not future else 0.65):
                    prev = None
                    continue
                if prev is not None and r() < 0.35:
                    plan[prev].append(y)
                else:
                    plan.append([y])
                    prev = len(plan) - 1
            for resident_years in plan:
                first_y, last_y = resident_years[0], resident_years[-1]
                movein = _dt.date(first_y, 8, 15).toordinal()
                end_o = _dt.date(last_y + 1, 7, 31).toordinal()
                if movein > T:
                    status = "Future"
                elif end_o < T:
                    status = "Past"
                else:
                    status = "Current"
                self._student_tenancy(p, u, space, resident_years, movein, end_o, status)

    def _student_tenancy(self, p: _Prop, u: _Unit, space: str, years: list[int], movein: int, end_o: int,
                         status: str) -> None:
        out, ck, r, T = self.out, self.clock, self.r, self.T
        tid = len(out["Tenants"]) + 1
        female = r() < 0.55
        first, last = self.person(female)
        created_o = min(movein - self.between(60, 200), T - 1)
        c, upd = ck.audit(self.day_s(created_o), self.day_s(min(T, created_o + self.between(0, 400))))
        out["Tenants"].append({
            "TenantID": tid, "TenantDisplayID": 10000 + tid, "Name": f"{last}, {first}", "FirstName": first,
            "LastName": last, "IsCompany": False, "Status": status, "PropertyID": p.pid, "RentDueDay": 1,
            "RentPeriod": "Monthly", "Comment": "", "CreateDate": c, "CreateUserID": 1 + int(r() * 8),
            "UpdateDate": upd, "UpdateUserID": 1 + int(r() * 8)})
        a = _AREAS[p.area]
        if status == "Past":
            ha = _AREAS[self.pick(_AREA_KEYS)]
            city, zips = self.pick(ha["cities"])
            self._address(tid, "Tenant", 3, self.street(), city, ha["state"], self.pick(zips), True, True)
        else:
            self._address(tid, "Tenant", 1, f"{u.street}\r\nApt {u.name}-{space}", p.city, a["state"], p.zip,
                          True, True)
        moveout = end_o if status == "Past" else None
        u.tenancies.append((tid, movein, end_o))
        lease_id = len(out["Leases"]) + 1
        lc, lu = ck.audit(self.day_s(created_o), self.day_s(min(T, created_o + self.between(0, 300))))
        out["Leases"].append({
            "LeaseID": lease_id, "TenantID": tid, "UnitID": u.uid, "PropertyID": p.pid,
            "MoveInDate": ck.date(movein), "MoveOutDate": ck.date(moveout) if moveout else None,
            "ExpectedMoveOutDate": ck.date(end_o), "NoticeDate": None, "IsCommercial": False, "SortOrder": 1,
            "CreateDate": lc, "CreateUserID": 1 + int(r() * 8), "UpdateDate": lu, "UpdateUserID": 1 + int(r() * 8)})
        lr = out["LeaseRenewals"]
        for y in years:
            start = _dt.date(y, 8, 15).toordinal()
            sign = min(start - self.between(90, 240), T - self.between(0, 20))
            sc, su = ck.audit(self.day_s(sign), self.day_s(min(sign + 1, T)))
            lr.append({"LeaseRenewalID": len(lr) + 1, "ParentLeaseID": lease_id, "UnitID": u.uid, "LeaseLength": 12,
                       "SignDate": ck.date(sign), "StartDate": ck.date(start),
                       "EndDate": ck.date(_dt.date(y + 1, 7, 31).toordinal()), "CreateDate": sc,
                       "CreateUserID": 1 + int(r() * 8), "UpdateDate": su, "UpdateUserID": 1 + int(r() * 8)})
        # contacts: the student and one or two parent guarantors
        age = self.between(18, 23)
        dob = T - age * 365 - self.between(0, 364)
        udvs = self.out["UserDefinedValues"]
        cid = self._contact(tid, "Tenant", first, last, _CT["Head of Household"], "Applicant", dob, True, c, upd,
                            email=True, ssn=True, income_c=self.between(0, 12) * 100000 if r() < 0.4 else 0,
                            employer=self.pick(("Campus Dining", "University Library", "Starbucks", "Target", ""))
                            if r() < 0.4 else "")
        for (fid, name, _pt, ftype), val in zip(_MEMBER_UDFS[:2], ("Head", "Full-time")):
            udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": fid, "ParentID": cid,
                         "ParentType": "Contact", "Name": name, "Value": val, "FieldType": ftype,
                         "UpdateDate": upd, "UpdateUserID": 1})
        installment = u.rent_c
        for g in range(1 if r() < 0.4 else 2):
            g_female = g == 0 if r() < 0.6 else g == 1
            gfirst = self.pick(_FIRST_F if g_female else _FIRST_M)
            glast = last if r() < 0.85 else self.pick(_LAST)
            income = max(3 * installment * 12 // 100, self.between(45, 220) * 1000)
            gid = self._contact(tid, "Tenant", gfirst, glast, _CT["Guarantor"], "Guarantor",
                                T - self.between(40, 62) * 365 - self.between(0, 364), False, c, upd, email=True,
                                ssn=True, income_c=income * 100, employer=self.pick(_EMPLOYERS),
                                comment="Parent guarantor")
            for (fid, name, _pt, ftype), val in zip((_MEMBER_UDFS[0], _MEMBER_UDFS[1], _MEMBER_UDFS[2]),
                                                    ("Guarantor", "None", _money(income * 100))):
                udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": fid, "ParentID": gid,
                             "ParentType": "Contact", "Name": name, "Value": val, "FieldType": ftype,
                             "UpdateDate": upd, "UpdateUserID": 1})
        prefs = "; ".join(self.pick(t) for t in _ROOMMATE_TRAITS)
        for (fid, name, _pt, ftype), val in zip((_UDF["Roommate Preferences"], _UDF["Bed Space"]), (prefs, space)):
            udvs.append({"UserDefinedValueID": len(udvs) + 1, "UserDefinedFieldID": fid, "ParentID": tid,
                         "ParentType": "Tenant", "Name": name, "Value": val, "FieldType": ftype,
                         "UpdateDate": upd, "UpdateUserID": 1})
        # installments and fees
        acct = self._new_acct(p, u, tid, movein, moveout, prorate=False)
        acct.end = end_o
        acct.m1 = min(self.m_now, self._month_of(end_o))
        today = self.today
        y_now = today.year if today >= _dt.date(today.year, 8, 15) else today.year - 1
        for k, y in enumerate(years):
            start = _dt.date(y, 8, 1).toordinal() if k else movein
            stop = _dt.date(y + 1, 7, 31).toordinal()
            cents = _round5(installment / 100 * 1.03 ** (y - y_now))
            acct.items.append((C_RENT, cents, start, stop, "Installment"))
            self._recurring("Tenant", tid, tid, u.uid, p.pid, C_RENT, cents, start, stop, "Rent installment")
        if p.utility == "itemized":  # per-bed share of the unit's electric, water and internet
            fees = [(C_ELEC, self.between(25, 45) * 100, "Electric - bed share"),
                    (C_WTR, self.between(12, 20) * 100, "Water - bed share"), (C_INET, 2500, "Internet")]
        else:
            fees = [(C_PKG, self.between(45, 65) * 100, "Utility & internet package")]
        for ct, fee, comment in fees:
            acct.items.append((ct, fee, movein, end_o, comment))
            self._recurring("Tenant", tid, tid, u.uid, p.pid, ct, fee, movein, end_o, comment)
        if r() < 0.35:
            park = self.pick((40, 50, 60)) * 100
            acct.items.append((C_PARK, park, movein, end_o, "Parking permit"))
            self._recurring("Tenant", tid, tid, u.uid, p.pid, C_PARK, park, movein, end_o, "Parking permit")
        if status != "Future" and acct.m0 <= acct.m1:
            self.accts.append(acct)

    # ---- commercial -------------------------------------------------------------------------------
    def _commercial_lease(self, p: _Prop, u: _Unit, tid: int, lease_id: int, movein: int, moveout: int | None,
                          status: str, terms: list) -> None:
        r = self.r
        acct = self._new_acct(p, u, tid, movein, moveout, prorate=True)
        acct.late = (u.rent_c // 20 // 100 * 100) if r() < 0.5 else 0
        end = moveout
        retail = u.cls == "retail"
        for k, (start, _end, _months) in enumerate(terms):
            nxt = terms[k + 1][0] - 1 if k + 1 < len(terms) else (end or _FAR)
            if nxt < self.hist_start and k + 1 < len(terms):
                continue
            years_back = max(0.0, (self.T - start) / 365.25)
            cents = int(u.rent_c / 100 * 0.97 ** int(years_back)) * 100
            acct.items.append((C_RENT, cents, start, nxt, "Base rent"))
            self._recurring("Tenant", tid, tid, u.uid, p.pid, C_RENT, cents, start, None if nxt >= _FAR else nxt,
                            "Base rent")
        cam_psf = round(4 + 4 * r(), 2) if retail else round(1 + 1.5 * r(), 2)
        recoveries = [(C_CAM, cam_psf, "CAM estimate")]
        if retail:
            recoveries += [(C_TAX, round(1.5 + 1.5 * r(), 2), "Real estate tax estimate"),
                           (C_INS, round(0.4 + 0.5 * r(), 2), "Insurance estimate")]
        cre = self.out["CommercialRecoverableExpenses"]
        share = round(100.0 * u.sqft / max(1, sum(x.sqft for x in p.units if x.cls in ("office", "retail"))), 4)
        for ct, psf, comment in recoveries:
            cents = int(u.sqft * psf * 100 / 12)
            acct.items.append((ct, cents, movein, end or _FAR, comment))
            self._recurring("Tenant", tid, tid, u.uid, p.pid, ct, cents, movein, end, comment, per_sf=psf)
            c, upd = self.audit_around(min(movein, self.T), 90)
            office = not retail
            cre.append({
                "CommercialRecoverableExpenseID": len(cre) + 1, "PropertyID": p.pid, "LeaseID": lease_id,
                "ChargeTypeID": ct, "TenantIsProRataShare": True, "ProRataSharePercent": share,
                "TenantIsAdministrativeFees": ct == C_CAM, "AdminFeePercent": (10.0 if r() < 0.6 else 15.0)
                if ct == C_CAM else 0.0,
                "BaseYearAmount": round(u.sqft * psf * (0.9 + 0.05 * r()), 2) if office else 0.0,
                "CapPercent": 5.0 if ct == C_CAM and r() < 0.5 else 0.0, "AmountSpecific": None,
                "IsSubtractBaseAmount": office, "ConcurrencyID": 1,
                "CreateDate": c, "CreateUserID": 4, "UpdateDate": upd, "UpdateUserID": 4})
        if status != "Future" and acct.m0 <= acct.m1:
            self.accts.append(acct)
            if retail:
                self.retail_accts.append((acct, u, lease_id))

    def commercial_extras(self) -> None:
        """RetailSales per retail lease and month, percentage rent, CAM amortizations."""
        out, ck, r = self.out, self.clock, self.r
        rs = out["RetailSales"]
        for acct, u, lease_id in self.retail_accts:
            annual_psf = 150 + 300 * r()
            base_rent_c = max((it[1] for it in acct.items if it[0] == C_RENT), default=0)
            for m in range(acct.m0, min(acct.m1, self.m_now - 1) + 1):
                month = m % 12
                season = 1.0 + (0.35 if month == 11 else 0.12 if month in (10, 6, 7) else -0.1 if month in (0, 1)
                                else 0.0)
                gross = int(u.sqft * annual_psf / 12 * season * (0.85 + 0.3 * r()) * 100)
                excluded = int(gross * (0.01 + 0.03 * r()))
                report_o = min(self.T, self._fom(m + 1) + self.between(4, 18))  # reported after month end
                revised = self.between(1, 10) if r() < 0.2 else 0  # a corrected report
                c, upd = ck.audit(self.day_s(report_o), self.day_s(report_o + revised))
                rs.append({"RetailSaleID": len(rs) + 1, "LeaseID": lease_id, "SalesMonth": ck.date(self._fom(m)),
                           "GrossSales": gross / 100, "ExcludedSales": excluded / 100, "Comment": "",
                           "CreateDate": c, "CreateUserID": 4, "UpdateDate": upd, "UpdateUserID": 4})
                if u.pct_rate and base_rent_c:
                    breakpoint_c = base_rent_c * 100 // u.pct_rate  # natural breakpoint, monthly
                    over = gross - excluded - breakpoint_c
                    if over > 0 and m + 1 <= self.m_now:
                        day = self._fom(m + 1) + 19
                        acct.extras.setdefault(m + 1, []).append(
                            (day, C_PCT, over * u.pct_rate // 100, "Percentage rent"))
        ca = out["CamAmortizations"]
        for p in self.props:
            if p.kind not in ("office", "retail", "mixed"):
                continue
            for _ in range(1 + (r() < 0.5)):
                what = self.pick(("Roof replacement", "Parking lot resurfacing", "HVAC rooftop units",
                                  "Facade renovation", "LED lighting retrofit"))
                start = self._fom(self.m_now - self.between(3, 48))
                c, upd = self.audit_around(start - 20, 30)
                ca.append({"CamAmortizationID": len(ca) + 1, "PropertyID": p.pid, "GLAccountID": 6400 + int(r() * 5),
                           "Amount": float(self.between(40, 900) * 250), "StartDate": ck.date(start),
                           "NumPeriods": self.pick((60, 84, 120)), "InternalNote": what,
                           "TenantNote": f"{what} amortized", "IsCanceled": r() < 0.05,
                           "CreateDate": c, "CreateUserID": 4, "UpdateDate": upd, "UpdateUserID": 4})

    # ---- HOA ---------------------------------------------------------------------------------------
    def hoa_extras(self) -> None:
        """Violations, fines, special assessments, settings, boards."""
        out, ck, r, T, H = self.out, self.clock, self.r, self.T, self.hist_start
        for p in self.props:
            if p.kind != "hoa":
                continue
            owners = self.hoa_accts.get(p.pid, [])
            c, upd = self.audit_around(p.created_s // _DAY + 5, 500)
            asid = len(out["AssociationSettings"]) + 1
            out["AssociationSettings"].append({
                "AssociationSettingsID": asid, "PropertyID": p.pid, "CanBoardViewArchitecturalRequestsOnTWA": True,
                "CanBoardVoteArchitecturalRequestsOnTWA": r() < 0.6, "ConcurrencyID": 1 + int(r() * 3),
                "CreateDate": c, "CreateUserID": 1, "UpdateDate": upd, "UpdateUserID": 1})
            # special assessment for all owners in one month of the window
            if r() < 0.6:
                m = self.between(self.m_hist + 1, self.m_now)
                amount = self.between(2, 12) * 5000
                day = self._fom(m) + 14
                for acct in owners:
                    if acct.start <= day <= acct.end and day <= T:
                        acct.extras.setdefault(m, []).append((day, C_SPEC, amount, "Special assessment - reserves"))
            # violations: about 0.35 per lot-year
            n_viol = round(len(p.units) * 0.35 * (T - H) / 365 * (0.7 + 0.6 * r()))
            viol = out["Violations"]
            for _ in range(n_viol):
                u = self.pick(p.units)
                o = self.between(H, T - 1)
                tid = next((t for t, s, e in u.tenancies if s <= o <= e), None)
                if tid is None:
                    continue
                code_i = int(r() * len(_VIOLATION_CODES))
                code = _VIOLATION_CODES[code_i]
                closed = o < T - 20 and r() < 0.8
                close_o = min(T - 1, o + self.between(7, 60)) if closed else None
                fined = r() < 0.25 and o + 30 <= T
                c, upd = ck.audit(self.day_s(o), self.day_s(close_o or min(T, o + self.between(0, 20))))
                viol.append({
                    "ViolationID": len(viol) + 1, "PropertyID": p.pid, "UnitID": u.uid, "TenantID": tid,
                    "ViolationCodeID": code_i + 1, "ViolationDate": ck.date(o),
                    "Description": f"{code[1]} observed at {u.street}",
                    "ResolveAction": "Fine assessed" if fined else self.pick(_VIOLATION_RESOLUTIONS[:2]
                                                                               + _VIOLATION_RESOLUTIONS[3:]),
                    "IsClosed": closed, "CloseDate": ck.date(close_o) if close_o else None,
                    "ConcurrencyID": 1 + int(r() * 4), "CreateDate": c, "CreateUserID": 5, "UpdateDate": upd,
                    "UpdateUserID": 5})
                if fined:
                    for acct in owners:
                        if acct.tid == tid and acct.start <= o + 30 <= acct.end:
                            fo = o + 30
                            acct.extras.setdefault(self._month_of(fo), []).append(
                                (fo, C_FINE, self.pick((50, 75, 100, 150, 200)) * 100, f"Violation fine - {code[0]}"))
            # board of directors (current owners) and an architectural review committee at scale
            current = [acct for acct in owners if acct.end >= _FAR]
            committees = [("Board of Directors", "Board", "Elected board of the association", 5)]
            if len(p.units) >= 40:
                committees.append(("Architectural Review Committee", "ARC", "Reviews exterior change requests", 3))
            cm = out["CommitteeMembers"]
            for name, display, desc, seats in committees:
                cid = len(out["Committees"]) + 1
                c, upd = self.audit_around(p.created_s // _DAY + 30, 800)
                out["Committees"].append({"CommitteeID": cid, "PropertyID": p.pid, "Name": name,
                                          "DisplayName": display, "Description": desc, "IsActive": True,
                                          "CreateDate": c, "CreateUserID": 1, "UpdateDate": upd, "UpdateUserID": 1})
                chosen = current[:]
                self.rng.shuffle(chosen)
                for k, acct in enumerate(chosen[:seats]):
                    position = _COMMITTEE_POSITIONS[k] if seats == 5 else "Member at Large"
                    start = max(acct.start, T - self.between(30, 700))
                    c2, u2 = self.audit_around(start, 30)
                    cm.append({"CommitteeMemberID": len(cm) + 1, "CommitteeID": cid, "TenantID": acct.tid,
                               "Position": position, "StartDate": ck.date(start),
                               "EndDate": ck.date(start + 2 * 365), "CreateDate": c2, "CreateUserID": 1,
                               "UpdateDate": u2, "UpdateUserID": 1})
                for acct in chosen[seats:seats + 2]:  # former members whose terms ended
                    end = T - self.between(30, 365)
                    start = end - 2 * 365
                    if acct.start > start:
                        continue
                    c2, u2 = self.audit_around(start, 30)
                    cm.append({"CommitteeMemberID": len(cm) + 1, "CommitteeID": cid, "TenantID": acct.tid,
                               "Position": "Member at Large", "StartDate": ck.date(start),
                               "EndDate": ck.date(end), "CreateDate": c2, "CreateUserID": 1,
                               "UpdateDate": u2, "UpdateUserID": 1})

    # ---- the ledger ---------------------------------------------------------------------------------
    def ledger(self) -> None:
        """Charges, payments, allocations and credits, month by month (IDs follow the calendar).

        Each account keeps a FIFO of its open charges; a payment is allocated to the oldest first, HAP payments
        only to HAP charges. This is the hot path of the generator: it is written for speed.
        """
        out, ck, r, T = self.out, self.clock, self.r, self.T
        charges, payments, allocations = out["Charges"], out["Payments"], out["Allocations"]
        ts, date, day_s, hms, frac = ck.ts, ck.date, self.day_s, ck.hms, ck.frac
        comment_cache = self._comment_cache
        month_names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
        refs = ("ePay", "ePay", "ePay", "ACH", "ACH", "Check", "Check", "Money Order")
        metered = _METERED
        accts = sorted(self.accts, key=lambda a: a.m0)
        active: list[_Acct] = []
        nxt = 0

        def charge(acct: _Acct, ct: int, cents: int, day: str, comment: str, stamp: str, user: int) -> None:
            cid = len(charges) + 1
            rec = {"ChargeID": cid, "ID": cid, "AccountID": acct.tid, "AccountType": "Customer",
                   "PropertyID": acct.pid, "UnitID": acct.uid, "ChargeTypeID": ct, "Amount": cents / 100,
                   "AmountAllocated": 0.0, "IsFullyAllocated": False, "TransactionDate": day,
                   "TransactionType": "Charge", "Reference": "", "Comment": comment, "CreateDate": stamp,
                   "CreateUserID": user, "UpdateDate": stamp, "UpdateUserID": user}
            charges.append(rec)
            if ct == C_HAP:
                acct.hqueue.append([rec, cents, 0])
            else:
                acct.queue.append([rec, cents, 0])
                acct.open_c += cents

        def pay(acct: _Acct, cents: int, o: int, hap: bool, ref: str, comment: str, reversed_: bool = False) -> None:
            pid = len(payments) + 1
            pay_s = o * _DAY + 28800 + int(r() * 36000)
            stamp = ts(pay_s)
            day = date(o)
            allocated = 0
            if not reversed_:
                queue = acct.hqueue if hap else acct.queue
                head = acct.hhead if hap else acct.head
                left = cents
                n = len(queue)
                upid, uuid = acct.pid, acct.uid
                while left > 0 and head < n:
                    entry = queue[head]
                    rec = entry[0]
                    a = entry[1] - entry[2]
                    if a > left:
                        a = left
                    done = entry[2] = entry[2] + a
                    left -= a
                    allocated += a
                    allocations.append({"AllocationID": len(allocations) + 1, "PaymentID": pid,
                                        "ChargeID": rec["ChargeID"], "PropertyID": upid, "UnitID": uuid,
                                        "Amount": a / 100, "TransactionDate": day, "CreateDate": stamp,
                                        "CreateUserID": 3, "UpdateDate": stamp, "UpdateUserID": 3})
                    rec["AmountAllocated"] = done / 100
                    if stamp > rec["CreateDate"]:
                        rec["UpdateDate"] = stamp
                        rec["UpdateUserID"] = 3
                    if done == entry[1]:
                        rec["IsFullyAllocated"] = True
                        head += 1
                if hap:
                    acct.hhead = head
                else:
                    acct.head = head
                    acct.open_c -= allocated
            rec = {"PaymentID": pid, "ID": pid, "AccountID": acct.tid, "AccountType": "Customer",
                   "Amount": cents / 100, "AmountAllocated": allocated / 100, "IsFullyAllocated": allocated == cents,
                   "TransactionDate": day, "TransactionType": "Payment", "Reference": ref, "Comment": comment,
                   "ReversalDate": None, "ReversalType": None, "CreateDate": stamp, "CreateUserID": 3,
                   "UpdateDate": stamp, "UpdateUserID": 3}
            if reversed_:
                rev_o = min(T, o + 2 + int(r() * 5))
                rec["ReversalDate"] = date(rev_o)
                rec["ReversalType"] = "NSF"
                reversal = ts(max(pay_s, rev_o * _DAY + 32400 + int(r() * 20000)))
                if reversal > stamp:
                    rec["UpdateDate"] = reversal
            payments.append(rec)

        for m in range(self.m_hist, self.m_now + 1):
            while nxt < len(accts) and accts[nxt].m0 <= m:
                active.append(accts[nxt])
                nxt += 1
            fom = self._fom(m)
            dim = self._fom(m + 1) - fom
            fom_day = date(fom)
            run_o = fom - int(r() * 2)  # the posting run: early on the 1st or on the day before
            post_prefix = date(run_o)[:11]
            post_late = run_o * _DAY + 3600 + 5400 > ck.cap  # the run is happening right now: clamp stamps
            post_base = run_o * _DAY + 3600
            late_o = fom + 5
            late_day = date(late_o)
            still = []
            for acct in active:
                if acct.m1 < m:
                    continue
                still.append(acct)
                # 1. posted recurring charges
                start = acct.start
                if start <= fom:
                    post_o, first_month, day = fom, False, fom_day
                else:
                    if start > T:
                        continue
                    post_o, first_month, day = start, True, date(start)
                prorate = first_month and acct.prorate
                for ct, cents, f_o, t_o, comment in acct.items:
                    if f_o > post_o or t_o < post_o:
                        continue
                    if ct in metered:
                        cents = cents * (85 + int(r() * 31)) // 100
                    if prorate:
                        cents = cents * (fom + dim - post_o) // dim
                        if cents <= 0:
                            continue
                    text = comment_cache.get((ct, m))
                    if text is None:
                        text = comment_cache[(ct, m)] = f"{_CHARGE_TYPES[ct - 1][1]} - {month_names[m % 12]} {m // 12}"
                    if first_month:
                        stamp = ts(day_s(post_o))
                    elif post_late:
                        stamp = ts(post_base + int(r() * 5400))
                    else:
                        stamp = post_prefix + hms[3600 + int(r() * 5400)] + frac()
                    charge(acct, ct, cents, day, text, stamp, 2)
                # 2. HAP from the housing authority (2nd-5th)
                if acct.hap and acct.hhead < len(acct.hqueue):
                    o = max(fom + 1 + int(r() * 4), post_o)
                    if o <= T:
                        due = sum(e[1] - e[2] for e in acct.hqueue[acct.hhead:])
                        pay(acct, due, o, True, f"HAP {m % 12 + 1:02d}/{m // 12}", acct.ha_name + " HAP")
                # 3. tenant payment(s)
                profile = acct.profile
                if profile == 0:
                    pay_o = fom + int(r() * 5)
                elif profile == 1:
                    pay_o = fom + 5 + int(r() * 15)
                elif profile == 2:
                    pay_o = fom + 2 + int(r() * 23) if r() < 0.75 else None
                else:
                    pay_o = fom + int(r() * 3)
                if pay_o is not None:
                    if pay_o < start:
                        pay_o = start
                    if pay_o > T or pay_o > acct.end + 10:
                        pay_o = None
                extras = acct.extras.get(m) if acct.extras else None
                if extras:  # one-off charges due before the payment
                    for o, ct, cents, comment in extras:
                        if o <= T and (pay_o is None or o <= pay_o):
                            charge(acct, ct, cents, date(o), comment, ts(day_s(o)), 5)
                if acct.late and acct.open_c > 0 and late_o <= T and (pay_o is None or pay_o > late_o) \
                        and start < late_o <= acct.end and not first_month:
                    charge(acct, C_LATE, acct.late, late_day, "Late fee", ts(late_o * _DAY + 7200 + int(r() * 3600)), 2)
                if pay_o is not None and acct.open_c > 0:
                    ref = refs[int(r() * 8)]
                    if ref == "Check":
                        ref = f"Chk #{1001 + int(r() * 8999)}"
                    elif ref == "Money Order":
                        ref = f"MO {10000000 + int(r() * 89999999)}"
                    if profile == 2 and r() < 0.7:
                        amount = acct.open_c * (40 + int(r() * 50)) // 100 // 100 * 100 or acct.open_c
                    else:
                        amount = acct.open_c
                        if profile == 3 and r() < 0.3:
                            amount += (1 + int(r() * 10)) * 1000  # a little extra stays unallocated
                    if r() < 0.003:  # returned payment, NSF fee, replaced a week later
                        pay(acct, amount, pay_o, False, ref, "Returned - NSF", reversed_=True)
                        fee_o = min(T, pay_o + 6)
                        if fee_o <= acct.end + 10:
                            charge(acct, C_NSF, 3500, date(fee_o), "NSF fee", ts(day_s(fee_o)), 3)
                        pay_o = min(T, pay_o + 8)
                        amount = acct.open_c
                    if r() < 0.03 and amount >= 40000:  # split payment
                        pay(acct, amount // 200 * 100, pay_o, False, ref, "")
                        pay_o = min(T, pay_o + 3 + int(r() * 10))
                        amount = acct.open_c
                    if amount > 0:
                        pay(acct, amount, pay_o, False, ref, "")
                if extras and pay_o is not None:  # one-off charges after the payment stay open
                    for o, ct, cents, comment in extras:
                        if pay_o < o <= T:
                            charge(acct, ct, cents, date(o), comment, ts(day_s(o)), 5)
                # 4. credits: move-out proration, move-in specials, service credits
                if m == acct.m1 and acct.credit_move_out and acct.end <= T:
                    end = acct.end
                    rent = next((it[1] for it in acct.items if it[0] == C_RENT and it[2] <= end <= it[3]), 0)
                    days_left = fom + dim - 1 - end
                    if rent and days_left > 0:
                        self._credit(acct, C_RENT, rent * days_left // dim, end, "Move-out proration")
                elif prorate and r() < 0.2:
                    rent = next((it[1] for it in acct.items if it[0] == C_RENT), 0)
                    if rent:
                        self._credit(acct, C_RENT, _round5(rent / 100 / 2), post_o, "Move-in special")
                elif r() < 0.012:
                    o = fom + 3 + int(r() * 23)
                    if o <= T and o <= acct.end:
                        self._credit(acct, self.pick((C_RENT, C_RENT, C_UTIL)), (2 + int(r() * 14)) * 500, o,
                                     self.pick(("Maintenance inconvenience credit", "Utility adjustment",
                                                "Resident referral credit")))
            active = still

    def _credit(self, acct: _Acct, ct: int, cents: int, o: int, comment: str) -> None:
        if cents <= 0:
            return
        cr = self.out["Credits"]
        cid = len(cr) + 1
        stamp = self.clock.ts(self.day_s(o))
        cr.append({"CreditID": cid, "ID": cid, "AccountID": acct.tid, "AccountType": "Customer", "ChargeTypeID": ct,
                   "PropertyID": acct.pid, "UnitID": acct.uid, "Amount": cents / 100,
                   "TransactionDate": self.clock.date(o), "TransactionType": "Credit", "Reference": "",
                   "Comment": comment, "CreateDate": stamp, "CreateUserID": 4, "UpdateDate": stamp,
                   "UpdateUserID": 4})

    # ---- work orders --------------------------------------------------------------------------------
    def work_orders(self) -> None:
        out, ck, r, T, H = self.out, self.clock, self.r, self.T, self.hist_start
        all_units = [u for p in self.props for u in p.units]
        n = round(len(all_units) * 1.5 * (T - H) / 365)
        issues = out["ServiceManagerIssues"]
        lp, lu, lt = (out["ServiceManagerIssueLinkedProperties"], out["ServiceManagerIssueLinkedUnits"],
                      out["ServiceManagerIssueLinkedTenants"])
        vendor_by_cat = self.vendor_by_cat
        days = sorted(self.between(H, T) for _ in range(n))
        for o in days:
            u = all_units[int(r() * len(all_units))]
            p = u.prop
            cat = 1 + int(r() * len(_SM_CATEGORIES))
            title = self.pick(_SM_ISSUES[cat])
            x = r()
            prio = 4 if x < 0.06 else (3 if x < 0.25 else (1 if x > 0.85 else 2))
            age = T - o
            closed = age > 2 and r() < min(0.97, 0.35 + age / 40)
            cancelled = closed and r() < 0.05
            status = (6 if cancelled else 5) if closed else (1 if age < 2 else self.pick((2, 2, 3, 3, 4)))
            open_s = self.day_s(o, 7, 20)
            close_o = min(T, o + {4: 0, 3: 1, 2: 4, 1: 10}[prio] + int(r() * 10)) if closed else None
            due_o = o + {4: 0, 3: 1, 2: 3, 1: 7}[prio]
            sched_o = o + int(r() * 4) if r() < 0.7 else None
            vendors = vendor_by_cat.get(cat) if r() < 0.6 else None
            c, upd = ck.audit(open_s, self.day_s(close_o, 8, 19) if close_o else open_s + int(r() * 3 * _DAY))
            iid = len(issues) + 1
            issues.append({
                "ServiceManagerIssueID": iid, "Title": title,
                "Description": f"{title}. Reported for {p.name}{'' if u.cls == 'hoa' else ' unit ' + u.name}.",
                "CategoryID": cat, "StatusID": status, "PriorityID": prio,
                "VendorID": self.pick(vendors) if vendors else None, "IsClosed": closed,
                "CloseDate": ck.date(close_o) if close_o else None, "AssignedOpenDate": ck.date(o),
                "DueDate": ck.date(due_o), "ScheduledDate": ck.date(sched_o) if sched_o else None,
                "CreateDate": c, "CreateUserID": 6 + int(r() * 6), "UpdateDate": upd,
                "UpdateUserID": 6 + int(r() * 6)})
            # links are made with the issue (same audit stamps)
            lp.append({"ServiceManagerIssueLinkedPropertyID": len(lp) + 1, "ServiceManagerIssueID": iid,
                       "PropertyID": p.pid, "CreateDate": c, "CreateUserID": 6, "UpdateDate": c, "UpdateUserID": 6})
            if r() < 0.88:
                lu.append({"ServiceManagerIssueLinkedUnitID": len(lu) + 1, "ServiceManagerIssueID": iid,
                           "UnitID": u.uid, "CreateDate": c, "CreateUserID": 6, "UpdateDate": c, "UpdateUserID": 6})
                tid = next((t for t, s, e in u.tenancies if s <= o <= e), None)
                if tid is not None and r() < 0.9:
                    lt.append({"ServiceManagerIssueLinkedTenantID": len(lt) + 1, "ServiceManagerIssueID": iid,
                               "TenantID": tid, "CreateDate": c, "CreateUserID": 6, "UpdateDate": c,
                               "UpdateUserID": 6})

    # ---- prospects -----------------------------------------------------------------------------------
    def prospects(self) -> None:
        out, ck, r, T = self.out, self.clock, self.r, self.T
        leasing = [p for p in self.props if p.kind not in ("hoa",)]
        weights = [len(p.units) for p in leasing]
        cum, total = [], 0
        for w in weights:
            total += w
            cum.append(total)
        n = round(self.units_target * 0.3)
        pr = out["Prospects"]
        for _ in range(n):
            p = leasing[bisect.bisect_right(cum, r() * total - 1e-9)]
            x = r()
            status = "Active" if x < 0.4 else ("Lost" if x < 0.85 else "Converted")
            app_o = T - (self.between(0, 60) if status == "Active" else self.between(20, 400))
            u = self.pick(p.units)
            first, last = self.person()
            if u.cls in ("office", "retail"):
                rent = u.rent_c // 100
                people = 1
            else:
                rent = (u.rent_c or 100000) // 100
                people = 1 if u.cls == "student" else self.between(1, min(6, max(1, u.maxocc)))
            reserved = None
            if status == "Active" and r() < 0.3:
                vacant = [x for x in p.units if not any(s <= T <= e for _t, s, e in x.tenancies)]
                if vacant:
                    reserved = self.pick(vacant).uid
            pid = len(pr) + 1
            c, upd = self.audit_around(app_o, 45)
            pr.append({"ProspectID": pid, "PropertyID": p.pid, "Name": f"{last}, {first}", "FirstName": first,
                       "LastName": last, "ProspectStatus": status, "ApplicationDate": ck.date(app_o),
                       "PeopleCount": people, "RentMin": float(_round5(rent * 0.85) // 100),
                       "RentMax": float(_round5(rent * 1.1) // 100),
                       "MoveInDate": ck.date(app_o + self.between(10, 75)), "ReservedUnitID": reserved,
                       "CreateDate": c, "CreateUserID": 7, "UpdateDate": upd, "UpdateUserID": 7})
            self._contact(pid, "Prospect", first, last, _CT["Head of Household"], "Applicant", None, True, c, upd,
                          email=True)


def generate_portfolio(units: int, seed: int, now: _dt.datetime) -> dict[str, list[dict]]:
    """Generate the sandbox portfolio: wire-format records keyed by collection name (see ``COLLECTIONS``).

    ``units`` is the approximate unit count (>= 60 includes every property kind), ``seed`` fixes every
    random choice, ``now`` is the location's naive wall-clock time: all dates are relative to it and no audit
    timestamp is later than it. Same inputs, same output.
    """
    if isinstance(units, bool) or not isinstance(units, int) or units < 1:
        raise ValueError(f"units must be a positive integer, got {units!r}")
    if not isinstance(now, _dt.datetime):
        raise TypeError(f"now must be a datetime.datetime, got {type(now).__name__}")
    if now.tzinfo is not None:
        raise ValueError("now must be a naive local datetime (the location's wall clock)")
    # Millions of small records and no garbage worth collecting meanwhile: pause the cyclic collector.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Generator(units, seed, now).run()
    finally:
        if was_enabled:
            gc.enable()
