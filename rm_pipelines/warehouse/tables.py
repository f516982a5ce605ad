"""THE EstateCore table catalog: one declarative spec per table.

Each spec names its Rent Manager source entities (rm_pipelines.rentmanager.catalog), its natural key, its
columns with types, the default mapping of every column (Rent Manager field, transform, required, default),
the UDFs that feed typed compliance attributes, its sensitive columns and its parent tables. The SQLAlchemy
models (`models.py`), the Alembic migrations, the loader (`load.py`), column lineage and the Dagster assets
are all generated from these rows.

Column kinds: int, bigint, text, money (exact, 2 decimals), decimal (exact, 4 decimals), date, datetime
(stored UTC), bool, json. Sensitive columns are stored encrypted (text `enc:…`) whatever their kind and are
masked wherever shown.

Every table also has the standard columns (`STANDARD_COLUMNS`): id, org_id, location_id, rm_id, rm_created_at,
rm_updated_at, custom, source_hash, mapping_version, load_run_id, created_at, updated_at, deleted_at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .transforms import (
    SCALE as SCALE,  # exact kinds → stored decimal places, applied by the transforms
)

Kind = Literal["int", "bigint", "text", "money", "decimal", "date", "datetime", "bool", "json"]
KINDS: tuple[str, ...] = ("int", "bigint", "text", "money", "decimal", "date", "datetime", "bool", "json")
DEFAULT_TRANSFORM = {
    "int": "int", "bigint": "int", "text": "text", "money": "money", "decimal": "number", "date": "date",
    "datetime": "local_datetime", "bool": "bool", "json": "identity",
}
PARENT_TYPES = ("Property", "Unit", "Tenant", "Contact")
INCOME = (0, 10_000_000)  # an annual income (or one of its sources): never negative; above ten million, a typo
HOUSEHOLD_SIZE = (1, 30)
UDF_DATES = ("1900-01-01", "2199-12-31")  # plausible dates of every UDF date attribute


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    field: str | None = None  # Rent Manager field (or path such as `Addresses[primary].City`) of the default mapping
    transform: str | None = None  # named transform of the default mapping (default: by kind)
    required: bool = False
    default: Any = None
    sensitive: bool = False
    pii: bool = False  # names a person (resident, household member, owner, prospect): masked wherever shown
    udf: str | None = None  # the UDF (by name) that feeds this typed attribute by default
    ref: str | None = None  # parent EstateCore table (foreign key on org_id, location_id, <this> → parent natural key)
    description: str = ""
    # UDF attributes: the values a person could have meant (inclusive; numbers in the column's unit, dates ISO);
    # a UDF value outside them, or longer than max_length, is quarantined and the attribute keeps its value
    plausible: tuple[Any, Any] | None = None
    max_length: int | None = None

    @property
    def default_transform(self) -> str:
        return self.transform or DEFAULT_TRANSFORM[self.kind]


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    sources: tuple[str, ...]  # Rent Manager catalog entities landed in rm_raw that feed the table
    columns: tuple[Column, ...]
    kind: Literal["entity", "udf", "derived"] = "entity"
    key: tuple[str, ...] = ("org_id", "location_id", "rm_id")
    source_filter: tuple[str, Any] | None = None  # (Rent Manager field, value): rows outside are out of scope
    udf_parent_type: str | None = None  # UDF parent type whose typed attributes live in this table
    depends_on: tuple[str, ...] = ()  # EstateCore tables that must load first besides FK parents
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        for c in STANDARD_COLUMNS:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    @property
    def sensitive_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.sensitive)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)

    @property
    def refs(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.ref)

    @property
    def parents(self) -> tuple[str, ...]:
        """EstateCore tables to load before this one (FK parents, then explicit dependencies)."""
        out: list[str] = []
        for c in self.refs:
            if c.ref != self.name and c.ref not in out:
                out.append(c.ref)
        for d in self.depends_on:
            if d not in out:
                out.append(d)
        return tuple(out)

    @property
    def udf_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.udf)

    @property
    def mapped_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.udf)

    @property
    def asset_key(self) -> list[str]:
        return ["estatecore", self.name]

    @property
    def domain(self) -> str:
        """The business domain the table belongs to (`DOMAINS`)."""
        return DOMAIN_OF[self.name]

    @property
    def source_assets(self) -> list[list[str]]:
        return [["rentmanager", s] for s in self.sources]


def c(name: str, kind: str, field: str | None = None, **kw: Any) -> Column:
    return Column(name, kind, field, **kw)


# The standard columns every table carries (added by models.py; not mapped from Rent Manager by name except
# rm_created_at / rm_updated_at, which the default mapping fills from CreateDate / UpdateDate).
STANDARD_COLUMNS: tuple[Column, ...] = (
    c("id", "bigint", description="surrogate key"),
    c("org_id", "text", description="organisation (registry slug); every query is scoped by it"),
    c("location_id", "int", description="Rent Manager location (separate database, own ID sequences)"),
    c("rm_id", "bigint", description="Rent Manager key of the source record"),
    c("rm_created_at", "datetime", "CreateDate", description="Rent Manager CreateDate, UTC"),
    c("rm_updated_at", "datetime", "UpdateDate", description="Rent Manager UpdateDate, UTC"),
    c("custom", "json", description="per-org custom attributes (mapping targets `custom.<name>`)"),
    c("source_hash", "text", description="content hash of the rm_raw row this row was built from"),
    c("mapping_version", "text", description="fingerprint of the mapping (default + org overrides) applied"),
    c("load_run_id", "text", description="run that last wrote the row"),
    c("created_at", "datetime", description="when EstateCore first stored the row (UTC)"),
    c("updated_at", "datetime", description="when EstateCore last changed the row (UTC)"),
    c("deleted_at", "datetime", description="soft delete: the Rent Manager record disappeared (UTC)"),
)
STANDARD_NAMES = tuple(col.name for col in STANDARD_COLUMNS)
MAPPED_STANDARD = ("rm_created_at", "rm_updated_at")

# Enumerations used by validation and documentation.
TENANT_STATUSES = ("Current", "Past", "Future", "Applicant", "Notice", "Eviction")
CONTACT_PARENT_TYPES = ("Tenant", "Prospect", "Vendor", "Owner", "Property", "User")
APPLICANT_TYPES = ("Applicant", "CoApplicant", "Occupant", "Guarantor", "Cosigner")
PROPERTY_TYPES = ("Residential", "Commercial", "Association", "MixedUse", "Storage", "Manufactured", "RVPark")


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "properties", "Properties (communities, buildings, HOAs, commercial centres) with program elections",
        ("properties",),
        (
            c("name", "text", "Name", required=True),
            c("short_name", "text", "ShortName"),
            c("property_type", "text", "PropertyType"),
            c("is_commercial", "bool", "IsCommercial", default=False),
            c("is_active", "bool", "IsActive", default=True),
            c("square_footage", "int", "SquareFootage"),
            c("manager_name", "text", "ManagerName"),
            c("email", "text", "Email", transform="email"),
            c("street", "text", "Addresses[primary].Street"),
            c("city", "text", "Addresses[primary].City"),
            c("state", "text", "Addresses[primary].State", transform="upper"),
            c("postal_code", "text", "Addresses[primary].PostalCode"),
            c("property_kind", "text", udf="Property Kind", transform="lower",
              description="multifamily | senior | student | commercial | hoa | single-family | mixed-use"),
            c("affordable_programs", "text", udf="Affordable Programs", transform="csv_list",
              description="comma list: LIHTC, Section 8, HOME, USDA RD 515, Tax-Exempt Bond"),
            c("lihtc_election", "text", udf="LIHTC Election", description="20-50 | 40-60 | income-averaging"),
            c("bond_election", "text", udf="Bond Election", description="20-50 | 40-60"),
            c("hud_limit_area", "text", udf="HUD Limit Area", description="HUD metro/county area of the limits"),
            c("placed_in_service", "date", udf="Placed In Service"),
            c("hera_special", "bool", udf="HERA Special Eligible", transform="yes_no"),
            c("compliance_agency", "text", udf="Compliance Agency"),
        ),
        udf_parent_type="Property",
    ),
    TableSpec(
        "unit_types", "Unit types (floor plans)", ("unit_types",),
        (
            c("name", "text", "Name", required=True),
            c("bedrooms", "int", "Bedrooms"),
            c("bathrooms", "decimal", "Bathrooms"),
            c("comment", "text", "Comment"),
        ),
    ),
    TableSpec(
        "units", "Units with their compliance designations (BIN, AMI designation, programs, utility allowance)",
        ("units",),
        (
            c("property_rm_id", "bigint", "PropertyID", required=True, ref="properties"),
            c("unit_type_rm_id", "bigint", "UnitTypeID", ref="unit_types"),
            c("name", "text", "Name", required=True),
            c("bedrooms", "int", "Bedrooms"),
            c("bathrooms", "decimal", "Bathrooms"),
            c("square_footage", "int", "SquareFootage"),
            c("max_occupancy", "int", "MaxOccupancy"),
            c("comment", "text", "Comment"),
            c("sort_order", "int", "SortOrder"),
            c("bin", "text", udf="BIN", transform="upper", description="LIHTC building identification number",
              max_length=32),
            c("ami_designation", "int", udf="AMI Designation", transform="int",
              description="income-averaging designation, % of AMI (30..80)", plausible=(1, 150)),
            c("unit_programs", "text", udf="Unit Program", transform="csv_list",
              description="comma list: LIHTC, HOME-Low, HOME-High, USDA RD 515, Bond, Market"),
            c("utility_allowance", "money", udf="Utility Allowance", transform="money",
              plausible=(0, 10_000)),  # per month
        ),
        udf_parent_type="Unit",
        indexes=(("org_id", "location_id", "property_rm_id"),),
    ),
    TableSpec(
        "buildings", "Buildings by BIN (derived from the units' BIN attribute); LIHTC is tested per building",
        (),
        (
            c("bin", "text", required=True, description="building identification number"),
            c("property_rm_id", "bigint", ref="properties", required=True),
            c("unit_count", "int", required=True),
            c("placed_in_service", "date", description="the property's Placed In Service date"),
        ),
        kind="derived",
        key=("org_id", "location_id", "bin"),
        depends_on=("units", "udf_values"),
    ),
    TableSpec(
        "market_rents", "Market rent history per unit", ("market_rents",),
        (
            c("unit_rm_id", "bigint", "UnitID", required=True, ref="units"),
            c("amount", "money", "Amount", required=True),
            c("from_date", "date", "FromDate"),
            c("to_date", "date", "ToDate"),
            c("comment", "text", "Comment"),
        ),
    ),
    TableSpec(
        "residents", "Residents (tenants, homeowners, commercial tenants) with certification data", ("tenants",),
        (
            c("display_id", "int", "TenantDisplayID"),
            c("name", "text", "Name", pii=True, required=True),
            c("first_name", "text", "FirstName", pii=True),
            c("last_name", "text", "LastName", pii=True),
            c("is_company", "bool", "IsCompany", default=False),
            c("status", "text", "Status"),
            c("property_rm_id", "bigint", "PropertyID", ref="properties"),
            c("rent_due_day", "int", "RentDueDay"),
            c("rent_period", "text", "RentPeriod"),
            c("comment", "text", "Comment"),
            c("street", "text", "Addresses[primary].Street", pii=True),
            c("city", "text", "Addresses[primary].City"),
            c("state", "text", "Addresses[primary].State", transform="upper"),
            c("postal_code", "text", "Addresses[primary].PostalCode"),
            c("certification_type", "text", udf="Certification Type", description="Move-In | Annual | Interim"),
            c("certification_effective_date", "date", udf="Certification Effective Date"),
            c("next_recertification_due", "date", udf="Next Recertification Due"),
            c("certified_annual_income", "money", udf="Certified Annual Income", sensitive=True, plausible=INCOME),
            c("certified_household_size", "int", udf="Certified Household Size", plausible=HOUSEHOLD_SIZE),
            c("student_exception", "text", udf="Student Exception",
              description="TANF | Job Training | Single Parent | Joint Return | Foster Care"),
            c("voucher_payment_standard", "money", udf="Voucher Payment Standard", plausible=(0, 100_000)),
            c("move_in_certification_date", "date", udf="Move-In Certification Date",
              description="effective date of the move-in (initial) certification"),
            c("move_in_certified_income", "money", udf="Move-In Certified Income", sensitive=True, plausible=INCOME),
            c("move_in_household_size", "int", udf="Move-In Household Size", plausible=HOUSEHOLD_SIZE),
            c("roommate_preferences", "text", udf="Roommate Preferences"),
            c("bed_space", "text", udf="Bed Space", transform="upper"),
        ),
        udf_parent_type="Tenant",
        indexes=(("org_id", "location_id", "property_rm_id"),),
    ),
    TableSpec(
        "household_members", "Household members (tenant contacts) with birth dates, incomes, assets, student status",
        ("contacts",),
        (
            c("resident_rm_id", "bigint", "ParentID", required=True, ref="residents"),
            c("first_name", "text", "FirstName", pii=True),
            c("last_name", "text", "LastName", pii=True),
            c("middle_name", "text", "MiddleName", pii=True),
            c("is_primary", "bool", "IsPrimary", default=False),
            c("is_active", "bool", "IsActive", default=True),
            c("contact_type_rm_id", "bigint", "ContactTypeID"),
            c("applicant_type", "text", "ApplicantType"),
            c("date_of_birth", "date", "DateOfBirth", sensitive=True),
            c("ssn_last4", "text", "FederalTaxID", transform="ssn_last4", sensitive=True),
            c("email", "text", "Email", pii=True, transform="email"),
            c("employer", "text", "Employer", pii=True),
            c("annual_income", "money", "AnnualIncome", sensitive=True),
            c("comment", "text", "Comment"),
            c("relationship", "text", udf="Relationship",
              description="Head | Spouse | Co-Head | Child | Other Adult | Guarantor"),
            c("student_status", "text", udf="Student Status", description="Full-time | Part-time | None"),
            c("employment_income", "money", udf="Employment Income", sensitive=True, plausible=INCOME),
            c("benefit_income", "money", udf="Benefit Income", sensitive=True, plausible=INCOME),
            c("other_income", "money", udf="Other Income", sensitive=True, plausible=INCOME),
            c("asset_cash_value", "money", udf="Asset Cash Value", sensitive=True, plausible=(0, 100_000_000)),
            c("asset_annual_income", "money", udf="Asset Annual Income", sensitive=True, plausible=INCOME),
        ),
        source_filter=("ParentType", "Tenant"),
        udf_parent_type="Contact",
        indexes=(("org_id", "location_id", "resident_rm_id"),),
    ),
    TableSpec(
        "leases", "Leases: resident ↔ unit occupancy", ("leases",),
        (
            c("resident_rm_id", "bigint", "TenantID", required=True, ref="residents"),
            c("unit_rm_id", "bigint", "UnitID", required=True, ref="units"),
            c("property_rm_id", "bigint", "PropertyID", ref="properties"),
            c("move_in_date", "date", "MoveInDate"),
            c("move_out_date", "date", "MoveOutDate"),
            c("expected_move_out_date", "date", "ExpectedMoveOutDate"),
            c("notice_date", "date", "NoticeDate"),
            c("is_commercial", "bool", "IsCommercial", default=False),
            c("sort_order", "int", "SortOrder"),
        ),
        indexes=(("org_id", "location_id", "resident_rm_id"), ("org_id", "location_id", "unit_rm_id")),
    ),
    TableSpec(
        "lease_terms", "Lease terms (Rent Manager lease renewals) with start and end dates", ("lease_renewals",),
        (
            c("lease_rm_id", "bigint", "ParentLeaseID", required=True, ref="leases"),
            c("unit_rm_id", "bigint", "UnitID"),
            c("lease_length_months", "int", "LeaseLength"),
            c("sign_date", "date", "SignDate"),
            c("start_date", "date", "StartDate"),
            c("end_date", "date", "EndDate"),
        ),
    ),
    TableSpec(
        "charge_types", "Charge types (RENT, HAP, CAM, HOA …)", ("charge_types",),
        (
            c("code", "text", "Name", required=True),
            c("description", "text", "Description"),
            c("default_amount", "money", "DefaultAmount"),
            c("is_cam", "bool", "IsCam", default=False),
            c("is_active", "bool", "IsActive", default=True),
            c("is_prorated", "bool", "IsProrated", default=False),
            c("gl_account_rm_id", "bigint", "GLAccountID"),
        ),
    ),
    TableSpec(
        "charges", "Ledger charges", ("charges",),
        (
            c("resident_rm_id", "bigint", "AccountID", required=True, ref="residents"),
            c("account_type", "text", "AccountType"),
            c("property_rm_id", "bigint", "PropertyID"),
            c("unit_rm_id", "bigint", "UnitID"),
            c("charge_type_rm_id", "bigint", "ChargeTypeID", ref="charge_types"),
            c("amount", "money", "Amount", required=True),
            c("amount_allocated", "money", "AmountAllocated"),
            c("is_fully_allocated", "bool", "IsFullyAllocated"),
            c("transaction_date", "date", "TransactionDate", required=True),
            c("reference", "text", "Reference"),
            c("comment", "text", "Comment"),
        ),
        indexes=(("org_id", "location_id", "resident_rm_id"),),
    ),
    TableSpec(
        "payments", "Ledger payments", ("payments",),
        (
            c("resident_rm_id", "bigint", "AccountID", required=True, ref="residents"),
            c("account_type", "text", "AccountType"),
            c("amount", "money", "Amount", required=True),
            c("amount_allocated", "money", "AmountAllocated"),
            c("is_fully_allocated", "bool", "IsFullyAllocated"),
            c("transaction_date", "date", "TransactionDate", required=True),
            c("reference", "text", "Reference"),
            c("comment", "text", "Comment"),
            c("reversal_date", "date", "ReversalDate"),
            c("reversal_type", "text", "ReversalType"),
        ),
        indexes=(("org_id", "location_id", "resident_rm_id"),),
    ),
    TableSpec(
        "payment_allocations", "Payment allocations to charges", ("payment_allocations",),
        (
            c("payment_rm_id", "bigint", "PaymentID", required=True, ref="payments"),
            c("charge_rm_id", "bigint", "ChargeID", ref="charges"),
            c("property_rm_id", "bigint", "PropertyID"),
            c("unit_rm_id", "bigint", "UnitID"),
            c("amount", "money", "Amount", required=True),
            c("transaction_date", "date", "TransactionDate"),
        ),
    ),
    TableSpec(
        "credits", "Ledger credits", ("credits",),
        (
            c("resident_rm_id", "bigint", "AccountID", required=True, ref="residents"),
            c("account_type", "text", "AccountType"),
            c("charge_type_rm_id", "bigint", "ChargeTypeID", ref="charge_types"),
            c("property_rm_id", "bigint", "PropertyID"),
            c("unit_rm_id", "bigint", "UnitID"),
            c("amount", "money", "Amount", required=True),
            c("transaction_date", "date", "TransactionDate", required=True),
            c("reference", "text", "Reference"),
            c("comment", "text", "Comment"),
        ),
    ),
    TableSpec(
        "recurring_charges", "Recurring charges (rents, mandatory fees, assessments)", ("recurring_charges",),
        (
            c("entity_type", "text", "EntityType", required=True, description="Tenant | Unit | Property …"),
            c("entity_key_rm_id", "bigint", "EntityKeyID", required=True),
            c("resident_rm_id", "bigint", "TenantID", ref="residents"),
            c("unit_rm_id", "bigint", "UnitID"),
            c("property_rm_id", "bigint", "PropertyID"),
            c("charge_type_rm_id", "bigint", "ChargeTypeID", ref="charge_types"),
            c("amount", "money", "Amount", required=True),
            c("amount_per_square_foot", "decimal", "AmountPerSquareFoot"),
            c("frequency", "int", "Frequency"),
            c("from_date", "date", "FromDate"),
            c("to_date", "date", "ToDate"),
            c("comment", "text", "Comment"),
            c("cam_recurring_charge_rm_id", "bigint", "CamRecurringChargeID"),
        ),
    ),
    TableSpec(
        "subsidies", "Subsidy programs (housing authorities, vouchers)", ("subsidies",),
        (
            c("name", "text", "Name", required=True),
            c("short_name", "text", "ShortName"),
            c("charge_type_rm_id", "bigint", "ChargeTypeID", ref="charge_types"),
            c("payment_from", "text", "PaymentFrom"),
        ),
    ),
    TableSpec(
        "resident_subsidies", "Voucher households: resident ↔ subsidy with the monthly HAP", ("subsidy_tenants",),
        (
            c("subsidy_rm_id", "bigint", "SubsidyID", required=True, ref="subsidies"),
            c("resident_rm_id", "bigint", "TenantID", required=True, ref="residents"),
            c("amount", "money", "Amount", description="monthly housing assistance payment"),
            c("start_date", "date", "StartDate"),
            c("end_date", "date", "EndDate"),
        ),
    ),
    TableSpec(
        "vendors", "Vendors", ("vendors",),
        (
            c("name", "text", "Name", required=True),
            c("payee", "text", "Payee"),
            c("category", "text", "Category"),
            c("is_1099", "bool", "Is1099", default=False),
            c("is_active", "bool", "IsActive", default=True),
            c("insurance_expiration", "date", "InsuranceExpiration"),
            c("comment", "text", "Comment"),
        ),
    ),
    TableSpec(
        "work_orders", "Work orders (service manager issues) with their linked property, unit and resident",
        ("service_manager_issues",),
        (
            c("title", "text", "Title"),
            c("description", "text", "Description"),
            c("category_rm_id", "bigint", "CategoryID"),
            c("status_rm_id", "bigint", "StatusID"),
            c("priority_rm_id", "bigint", "PriorityID"),
            c("vendor_rm_id", "bigint", "VendorID", ref="vendors"),
            c("is_closed", "bool", "IsClosed", default=False),
            c("close_date", "datetime", "CloseDate"),
            c("assigned_open_date", "datetime", "AssignedOpenDate"),
            c("due_date", "datetime", "DueDate"),
            c("scheduled_date", "datetime", "ScheduledDate"),
            c("property_rm_id", "bigint", "LinkedProperties[0].PropertyID"),
            c("unit_rm_id", "bigint", "LinkedUnits[0].UnitID"),
            c("resident_rm_id", "bigint", "LinkedTenants[0].TenantID"),
        ),
    ),
    TableSpec(
        "owners", "Owners", ("owners",),
        (
            c("name", "text", "Name", pii=True, required=True),
            c("display_name", "text", "DisplayName", pii=True),
            c("status", "text", "Status"),
            c("comment", "text", "Comment"),
        ),
    ),
    TableSpec(
        "ownerships", "Owner ↔ property contracts with ownership shares", ("owner_contracts",),
        (
            c("owner_rm_id", "bigint", "OwnerID", required=True, ref="owners"),
            c("property_rm_id", "bigint", "PropertyID", required=True, ref="properties"),
            c("percentage", "decimal", "Percentage"),
            c("start_date", "date", "StartDate"),
            c("end_date", "date", "EndDate"),
        ),
    ),
    TableSpec(
        "prospects", "Prospects", ("prospects",),
        (
            c("property_rm_id", "bigint", "PropertyID", ref="properties"),
            c("name", "text", "Name", pii=True),
            c("first_name", "text", "FirstName", pii=True),
            c("last_name", "text", "LastName", pii=True),
            c("status", "text", "ProspectStatus"),
            c("application_date", "date", "ApplicationDate"),
            c("people_count", "int", "PeopleCount"),
            c("rent_min", "money", "RentMin"),
            c("rent_max", "money", "RentMax"),
            c("move_in_date", "date", "MoveInDate"),
            c("reserved_unit_rm_id", "bigint", "ReservedUnitID", ref="units"),
        ),
    ),
    TableSpec(
        "hoa_violations", "HOA violations", ("violations",),
        (
            c("property_rm_id", "bigint", "PropertyID", ref="properties"),
            c("unit_rm_id", "bigint", "UnitID", ref="units"),
            c("resident_rm_id", "bigint", "TenantID", ref="residents"),
            c("violation_code_rm_id", "bigint", "ViolationCodeID"),
            c("violation_date", "date", "ViolationDate"),
            c("description", "text", "Description"),
            c("resolve_action", "text", "ResolveAction"),
            c("is_closed", "bool", "IsClosed", default=False),
            c("close_date", "date", "CloseDate"),
        ),
    ),
    TableSpec(
        "hoa_boards", "HOA boards and committees", ("committees",),
        (
            c("property_rm_id", "bigint", "PropertyID", ref="properties"),
            c("name", "text", "Name", required=True),
            c("display_name", "text", "DisplayName"),
            c("description", "text", "Description"),
            c("is_active", "bool", "IsActive", default=True),
        ),
    ),
    TableSpec(
        "hoa_board_members", "HOA board and committee members with positions and terms", ("committee_members",),
        (
            c("board_rm_id", "bigint", "CommitteeID", required=True, ref="hoa_boards"),
            c("resident_rm_id", "bigint", "TenantID", ref="residents"),
            c("position", "text", "Position"),
            c("start_date", "date", "StartDate"),
            c("end_date", "date", "EndDate"),
        ),
    ),
    TableSpec(
        "cam_setups", "Commercial CAM recovery setups per lease", ("commercial_recoverable_expenses",),
        (
            c("property_rm_id", "bigint", "PropertyID", ref="properties"),
            c("lease_rm_id", "bigint", "LeaseID", ref="leases"),
            c("charge_type_rm_id", "bigint", "ChargeTypeID", ref="charge_types"),
            c("is_pro_rata_share", "bool", "TenantIsProRataShare"),
            c("pro_rata_share_percent", "decimal", "ProRataSharePercent"),
            c("has_admin_fee", "bool", "TenantIsAdministrativeFees"),
            c("admin_fee_percent", "decimal", "AdminFeePercent"),
            c("base_year_amount", "money", "BaseYearAmount"),
            c("cap_percent", "decimal", "CapPercent"),
            c("amount_specific", "money", "AmountSpecific"),
            c("subtract_base_amount", "bool", "IsSubtractBaseAmount"),
        ),
    ),
    TableSpec(
        "cam_amortizations", "CAM amortizations", ("cam_amortizations",),
        (
            c("property_rm_id", "bigint", "PropertyID", ref="properties"),
            c("gl_account_rm_id", "bigint", "GLAccountID"),
            c("amount", "money", "Amount", required=True),
            c("start_date", "date", "StartDate"),
            c("num_periods", "int", "NumPeriods"),
            c("internal_note", "text", "InternalNote"),
            c("tenant_note", "text", "TenantNote"),
            c("is_canceled", "bool", "IsCanceled", default=False),
        ),
    ),
    TableSpec(
        "retail_sales", "Monthly retail sales of commercial tenants (percentage rent)", ("retail_sales",),
        (
            c("lease_rm_id", "bigint", "LeaseID", required=True, ref="leases"),
            c("sales_month", "date", "SalesMonth", required=True),
            c("gross_sales", "money", "GrossSales", required=True),
            c("excluded_sales", "money", "ExcludedSales", default=0),
            c("comment", "text", "Comment"),
        ),
    ),
    TableSpec(
        "udf_values", "User-defined field values of properties, units, tenants and contacts (long form)",
        ("property_udfs", "unit_udfs", "tenant_udfs", "contact_udfs"),
        (
            c("parent_type", "text", "ParentType", required=True, description="Property | Unit | Tenant | Contact"),
            c("parent_rm_id", "bigint", "ParentID", required=True),
            c("field_rm_id", "bigint", "UserDefinedFieldID"),
            c("name", "text", "Name", required=True, transform="strip"),
            c("value", "text", "Value", transform="identity",
              description="as entered (text); encrypted when it holds a sensitive attribute"),
            c("field_type", "text", "FieldType"),
            c("is_encrypted", "bool", default=False),
        ),
        kind="udf",
        key=("org_id", "location_id", "parent_type", "rm_id"),
        depends_on=("properties", "units", "residents", "household_members"),
        indexes=(("org_id", "location_id", "parent_type", "parent_rm_id"),),
    ),
)

BY_NAME: dict[str, TableSpec] = {t.name: t for t in TABLES}

# The business domain of each table: the lineage graph and the UI group tables by it.
DOMAINS: dict[str, tuple[str, ...]] = {
    "portfolio": ("properties", "buildings", "unit_types", "units", "market_rents", "udf_values"),
    "residents_and_leases": ("residents", "household_members", "leases", "lease_terms", "prospects", "subsidies",
                             "resident_subsidies"),
    "ledger": ("charge_types", "charges", "payments", "payment_allocations", "credits", "recurring_charges"),
    "maintenance_and_vendors": ("work_orders", "vendors"),
    "owners": ("owners", "ownerships"),
    "associations_and_commercial": ("hoa_violations", "hoa_boards", "hoa_board_members", "cam_setups",
                                    "cam_amortizations", "retail_sales"),
}
DOMAIN_OF: dict[str, str] = {table: domain for domain, tables in DOMAINS.items() for table in tables}
assert len(BY_NAME) == len(TABLES), "table names must be unique"

# UDF source entity → parent type (and back).
UDF_SOURCES: dict[str, str] = {
    "property_udfs": "Property", "unit_udfs": "Unit", "tenant_udfs": "Tenant", "contact_udfs": "Contact",
}
UDF_PARENT_TABLE: dict[str, str] = {t.udf_parent_type: t.name for t in TABLES if t.udf_parent_type}


def get(name: str) -> TableSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown EstateCore table {name!r}; known: {', '.join(sorted(BY_NAME))}") from None


def load_order(names: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """Tables in an order where every table comes after its parents."""
    wanted = list(names) if names is not None else [t.name for t in TABLES]
    order: list[str] = []
    visiting: set[str] = set()

    def visit(n: str) -> None:
        if n in order:
            return
        if n in visiting:
            raise ValueError(f"dependency cycle at table {n!r}")
        visiting.add(n)
        for p in get(n).parents:
            visit(p)
        visiting.discard(n)
        order.append(n)

    for n in wanted:
        visit(n)
    return [n for n in order if n in wanted]


def tables_for_entity(entity: str) -> list[str]:
    """EstateCore tables fed by a Rent Manager catalog entity."""
    return [t.name for t in TABLES if entity in t.sources]

