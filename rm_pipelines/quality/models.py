"""pandera DataFrameModels, one per Rent Manager catalog entity, over the fields as Rent Manager names them.

They declare types, nullability, ranges, enumerations, key uniqueness and row-level rules (move-in before
move-out …). Parent presence (a lease's unit exists in EstateCore) is added per page by `validate.py`, from
the EstateCore table's foreign keys. Validation runs vectorised on whole pages (`validate.validate_page`).

Types are the frame's types after `validate.type_frame` has converted the JSON values: Int64 for integers,
float64 for numbers (money), datetime64 for Rent Manager timestamps (local wall-clock), boolean, str.
"""

from __future__ import annotations

import functools

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from .. import clock
from ..warehouse import tables as T

Int = Series[pd.Int64Dtype]
Num = Series[float]
Str = Series[str]
Bool = Series[pd.BooleanDtype]
When = Series[pa.DateTime]

MONEY_LIMIT = 1_000_000_000  # NUMERIC(14,2) holds < 10^12; anything near this is a data error
EARLIEST, LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")
BIRTH_DATE_SLACK = pd.Timedelta(days=1)


def key() -> object:
    return pa.Field(gt=0, nullable=False, unique=True)


def ref(required: bool = False) -> object:
    return pa.Field(gt=0, nullable=not required)


def money(nonneg: bool = False, required: bool = False) -> object:
    return pa.Field(ge=0 if nonneg else -MONEY_LIMIT, le=MONEY_LIMIT, nullable=not required)


def when(required: bool = False) -> object:
    return pa.Field(ge=EARLIEST, le=LATEST, nullable=not required)


def text(required: bool = False, isin: tuple[str, ...] | None = None) -> object:
    if isin:
        return pa.Field(nullable=not required, isin=list(isin))
    return pa.Field(nullable=not required)


def count(hi: int, required: bool = False) -> object:
    return pa.Field(ge=0, le=hi, nullable=not required)


def flag() -> object:
    return pa.Field(nullable=True)


class RMModel(pa.DataFrameModel):
    """Common Rent Manager audit fields."""

    CreateDate: When = when()
    UpdateDate: When = when()

    class Config:
        strict = False  # unknown fields are kept in rm_raw, ignored here
        coerce = False  # validate.type_frame converts (and reports) values first


def _ordered(df: pd.DataFrame, a: str, b: str) -> pd.Series:
    """Rows where b is missing, a is missing, or a ≤ b."""
    return df[a].isna() | df[b].isna() | (df[a] <= df[b])


class Locations(pa.DataFrameModel):
    LocationID: Int = key()
    Name: Str = text()

    class Config:
        strict = False


class Properties(RMModel):
    PropertyID: Int = key()
    Name: Str = text(required=True)
    ShortName: Str = text()
    PropertyType: Str = text(isin=T.PROPERTY_TYPES)
    IsCommercial: Bool = flag()
    IsActive: Bool = flag()
    SquareFootage: Int = count(50_000_000)
    ManagerName: Str = text()
    Email: Str = text()
    ConcurrencyID: Int = pa.Field(nullable=True)


class Units(RMModel):
    UnitID: Int = key()
    PropertyID: Int = ref(required=True)
    UnitTypeID: Int = ref()
    Name: Str = text(required=True)
    Bedrooms: Int = count(50)
    Bathrooms: Num = count(50)
    SquareFootage: Int = count(5_000_000)
    MaxOccupancy: Int = count(500)
    Comment: Str = text()
    SortOrder: Int = pa.Field(nullable=True)


class UnitTypes(RMModel):
    UnitTypeID: Int = key()
    Name: Str = text(required=True)
    Bedrooms: Int = count(50)
    Bathrooms: Num = count(50)
    Comment: Str = text()


class MarketRents(RMModel):
    MarketRentID: Int = key()
    UnitID: Int = ref(required=True)
    Amount: Num = money(nonneg=True, required=True)
    FromDate: When = when()
    ToDate: When = when()
    Comment: Str = text()

    @pa.dataframe_check(name="from_date <= to_date")
    def _window(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "FromDate", "ToDate")


class Tenants(RMModel):
    TenantID: Int = key()
    TenantDisplayID: Int = pa.Field(nullable=True)
    Name: Str = text(required=True)
    FirstName: Str = text()
    LastName: Str = text()
    IsCompany: Bool = flag()
    Status: Str = text(isin=T.TENANT_STATUSES)
    PropertyID: Int = ref()
    RentDueDay: Int = pa.Field(ge=1, le=31, nullable=True)
    RentPeriod: Str = text()
    Comment: Str = text()


class Contacts(RMModel):
    ContactID: Int = key()
    ParentID: Int = ref()
    ParentType: Str = text(isin=T.CONTACT_PARENT_TYPES)
    FirstName: Str = text()
    LastName: Str = text()
    MiddleName: Str = text()
    IsPrimary: Bool = flag()
    IsActive: Bool = flag()
    ContactTypeID: Int = ref()
    DateOfBirth: When = when()
    FederalTaxID: Str = pa.Field(nullable=True, str_matches=r"^[\d*Xx\- ]{4,11}$")
    Email: Str = text()
    Employer: Str = text()
    ApplicantType: Str = text(isin=T.APPLICANT_TYPES)
    AnnualIncome: Num = money(nonneg=True)
    Comment: Str = text()

    @pa.dataframe_check(name="date_of_birth not in the future")
    def _born(cls, df: pd.DataFrame) -> pd.Series:
        # A birth date is impossible when it is later than every moment the record could have been truthfully
        # written or read: its last change in Rent Manager (UpdateDate, else CreateDate — both on the location's
        # wall clock) and now. The bound is the later of the two, so a date already past by either clock is never
        # rejected (a Rent Manager or sandbox clock ahead of ours, a due date entered ahead that has since passed),
        # while a date ahead of both — a typo, never a birth — still is, however the loader's clock is set.
        # One day of slack: a birth date has no time of day, and the location's date may be tomorrow in UTC.
        now = pd.Timestamp(clock.utcnow()).tz_localize(None)
        changed = df["UpdateDate"].fillna(df["CreateDate"]) if "UpdateDate" in df else pd.Series(pd.NaT, index=df.index)
        bound = changed.where(changed > now, now) + BIRTH_DATE_SLACK
        return df["DateOfBirth"].isna() | (df["DateOfBirth"] <= bound)


class ContactTypes(pa.DataFrameModel):
    ContactTypeID: Int = key()
    Name: Str = text(required=True)

    class Config:
        strict = False


class Leases(RMModel):
    LeaseID: Int = key()
    TenantID: Int = ref(required=True)
    UnitID: Int = ref(required=True)
    PropertyID: Int = ref()
    MoveInDate: When = when()
    MoveOutDate: When = when()
    ExpectedMoveOutDate: When = when()
    NoticeDate: When = when()
    IsCommercial: Bool = flag()
    SortOrder: Int = pa.Field(nullable=True)

    @pa.dataframe_check(name="move_in_date <= move_out_date")
    def _stay(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "MoveInDate", "MoveOutDate")


class LeaseRenewals(RMModel):
    LeaseRenewalID: Int = key()
    ParentLeaseID: Int = ref(required=True)
    UnitID: Int = ref()
    LeaseLength: Int = count(1200)
    SignDate: When = when()
    StartDate: When = when()
    EndDate: When = when()

    @pa.dataframe_check(name="start_date <= end_date")
    def _term(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "StartDate", "EndDate")


class _Ledger(RMModel):
    AccountID: Int = ref(required=True)
    AccountType: Str = text()
    Amount: Num = money(required=True)
    TransactionDate: When = when(required=True)
    Reference: Str = text()
    Comment: Str = text()


class Charges(_Ledger):
    ChargeID: Int = key()
    PropertyID: Int = ref()
    UnitID: Int = ref()
    ChargeTypeID: Int = ref()
    AmountAllocated: Num = money()
    IsFullyAllocated: Bool = flag()
    TransactionType: Str = text(isin=("Charge",))


class Payments(_Ledger):
    PaymentID: Int = key()
    AmountAllocated: Num = money()
    IsFullyAllocated: Bool = flag()
    TransactionType: Str = text(isin=("Payment",))
    ReversalDate: When = when()
    ReversalType: Str = text()


class PaymentAllocations(RMModel):
    AllocationID: Int = key()
    PaymentID: Int = ref(required=True)
    ChargeID: Int = ref()
    PropertyID: Int = ref()
    UnitID: Int = ref()
    Amount: Num = money(required=True)
    TransactionDate: When = when()


class Credits(_Ledger):
    CreditID: Int = key()
    ChargeTypeID: Int = ref()
    PropertyID: Int = ref()
    UnitID: Int = ref()
    TransactionType: Str = text(isin=("Credit",))


class RecurringCharges(RMModel):
    RecurringChargeID: Int = key()
    EntityType: Str = text(required=True)
    EntityKeyID: Int = ref(required=True)
    TenantID: Int = ref()
    UnitID: Int = ref()
    PropertyID: Int = ref()
    ChargeTypeID: Int = ref()
    Amount: Num = money(required=True)
    AmountPerSquareFoot: Num = money()
    Frequency: Int = count(1000)
    FromDate: When = when()
    ToDate: When = when()
    Comment: Str = text()
    CamRecurringChargeID: Int = ref()
    # No FromDate ≤ ToDate gate here: Rent Manager users void a recurring charge by ending it before it starts;
    # such rows are valid (never in effect). The GX suite watches their share.


class ChargeTypes(RMModel):
    ChargeTypeID: Int = key()
    Name: Str = text(required=True)
    Description: Str = text()
    DefaultAmount: Num = money()
    IsCam: Bool = flag()
    IsActive: Bool = flag()
    IsProrated: Bool = flag()
    GLAccountID: Int = ref()


class Subsidies(RMModel):
    SubsidyID: Int = key()
    Name: Str = text(required=True)
    ShortName: Str = text()
    ChargeTypeID: Int = ref()
    PaymentFrom: Str = text()


class SubsidyTenants(RMModel):
    SubsidyTenantID: Int = key()
    SubsidyID: Int = ref(required=True)
    TenantID: Int = ref(required=True)
    Amount: Num = money(nonneg=True)
    StartDate: When = when()
    EndDate: When = when()

    @pa.dataframe_check(name="start_date <= end_date")
    def _window(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "StartDate", "EndDate")


class ServiceManagerIssues(RMModel):
    ServiceManagerIssueID: Int = key()
    Title: Str = text()
    Description: Str = text()
    CategoryID: Int = ref()
    StatusID: Int = ref()
    PriorityID: Int = ref()
    VendorID: Int = ref()
    IsClosed: Bool = flag()
    CloseDate: When = when()
    AssignedOpenDate: When = when()
    DueDate: When = when()
    ScheduledDate: When = when()


class _Lookup(pa.DataFrameModel):
    Name: Str = text(required=True)
    Description: Str = text()
    SortOrder: Int = pa.Field(nullable=True)
    IsActive: Bool = flag()

    class Config:
        strict = False


class ServiceManagerCategories(_Lookup):
    ServiceManagerCategoryID: Int = key()


class ServiceManagerStatuses(_Lookup):
    ServiceManagerStatusID: Int = key()
    IsClosed: Bool = flag()


class ServiceManagerPriorities(_Lookup):
    ServiceManagerPriorityID: Int = key()


class Vendors(RMModel):
    VendorID: Int = key()
    Name: Str = text(required=True)
    Payee: Str = text()
    Category: Str = text()
    Is1099: Bool = flag()
    IsActive: Bool = flag()
    InsuranceExpiration: When = when()
    Comment: Str = text()


class Owners(RMModel):
    OwnerID: Int = key()
    Name: Str = text(required=True)
    DisplayName: Str = text()
    Status: Str = text()
    Comment: Str = text()


class OwnerContracts(RMModel):
    OwnerContractID: Int = key()
    OwnerID: Int = ref(required=True)
    PropertyID: Int = ref(required=True)
    Percentage: Num = pa.Field(ge=0, le=100, nullable=True)
    StartDate: When = when()
    EndDate: When = when()

    @pa.dataframe_check(name="start_date <= end_date")
    def _window(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "StartDate", "EndDate")


class Prospects(RMModel):
    ProspectID: Int = key()
    PropertyID: Int = ref()
    Name: Str = text()
    FirstName: Str = text()
    LastName: Str = text()
    ProspectStatus: Str = text()
    ApplicationDate: When = when()
    PeopleCount: Int = count(100)
    RentMin: Num = money(nonneg=True)
    RentMax: Num = money(nonneg=True)
    MoveInDate: When = when()
    ReservedUnitID: Int = ref()

    @pa.dataframe_check(name="rent_min <= rent_max")
    def _rents(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "RentMin", "RentMax")


class UserDefinedFields(RMModel):
    UserDefinedFieldID: Int = key()
    Name: Str = text(required=True)
    FieldType: Str = text()
    ParentType: Str = text()


UDF_FIELD_TYPES = ("Text", "Encrypted Text", "Dropdown List", "Selection List", "Yes/No", "Date", "Numeric", "File",
                   "Image", "Hyperlink", "Currency", "Integer", "Decimal")


class UserDefinedValues(pa.DataFrameModel):
    UserDefinedValueID: Int = key()
    UserDefinedFieldID: Int = ref()
    ParentID: Int = ref(required=True)
    Name: Str = text(required=True)
    Value: Str = pa.Field(nullable=True)
    FieldType: Str = text(isin=UDF_FIELD_TYPES)
    UpdateDate: When = when()

    class Config:
        strict = False


class Violations(RMModel):
    ViolationID: Int = key()
    PropertyID: Int = ref()
    UnitID: Int = ref()
    TenantID: Int = ref()
    ViolationCodeID: Int = ref()
    ViolationDate: When = when()
    Description: Str = text()
    ResolveAction: Str = text()
    IsClosed: Bool = flag()
    CloseDate: When = when()

    @pa.dataframe_check(name="violation_date <= close_date")
    def _closed(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "ViolationDate", "CloseDate")


class ViolationCodes(RMModel):
    ViolationCodeID: Int = key()
    Code: Str = text()
    Description: Str = text()
    IsActive: Bool = flag()


class AssociationSettings(RMModel):
    AssociationSettingsID: Int = key()
    PropertyID: Int = ref()


class Committees(RMModel):
    CommitteeID: Int = key()
    PropertyID: Int = ref()
    Name: Str = text(required=True)
    DisplayName: Str = text()
    Description: Str = text()
    IsActive: Bool = flag()


class CommitteeMembers(RMModel):
    CommitteeMemberID: Int = key()
    CommitteeID: Int = ref(required=True)
    TenantID: Int = ref()
    Position: Str = text()
    StartDate: When = when()
    EndDate: When = when()

    @pa.dataframe_check(name="start_date <= end_date")
    def _term(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "StartDate", "EndDate")


class CommercialRecoverableExpenses(RMModel):
    CommercialRecoverableExpenseID: Int = key()
    PropertyID: Int = ref()
    LeaseID: Int = ref()
    ChargeTypeID: Int = ref()
    TenantIsProRataShare: Bool = flag()
    ProRataSharePercent: Num = pa.Field(ge=0, le=100, nullable=True)
    TenantIsAdministrativeFees: Bool = flag()
    AdminFeePercent: Num = pa.Field(ge=0, le=100, nullable=True)
    BaseYearAmount: Num = money(nonneg=True)
    CapPercent: Num = pa.Field(ge=0, le=100, nullable=True)
    AmountSpecific: Num = money()
    IsSubtractBaseAmount: Bool = flag()


class CamAmortizations(RMModel):
    CamAmortizationID: Int = key()
    PropertyID: Int = ref()
    GLAccountID: Int = ref()
    Amount: Num = money(required=True)
    StartDate: When = when()
    NumPeriods: Int = count(1200)
    InternalNote: Str = text()
    TenantNote: Str = text()
    IsCanceled: Bool = flag()


class RetailSales(RMModel):
    RetailSaleID: Int = key()
    LeaseID: Int = ref(required=True)
    SalesMonth: When = when(required=True)
    GrossSales: Num = money(nonneg=True, required=True)
    ExcludedSales: Num = money(nonneg=True)
    Comment: Str = text()

    @pa.dataframe_check(name="excluded_sales <= gross_sales")
    def _excluded(cls, df: pd.DataFrame) -> pd.Series:
        return _ordered(df, "ExcludedSales", "GrossSales")


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "locations": Locations,
    "properties": Properties,
    "units": Units,
    "unit_types": UnitTypes,
    "market_rents": MarketRents,
    "tenants": Tenants,
    "contacts": Contacts,
    "contact_types": ContactTypes,
    "leases": Leases,
    "lease_renewals": LeaseRenewals,
    "charges": Charges,
    "payments": Payments,
    "payment_allocations": PaymentAllocations,
    "credits": Credits,
    "recurring_charges": RecurringCharges,
    "charge_types": ChargeTypes,
    "subsidies": Subsidies,
    "subsidy_tenants": SubsidyTenants,
    "service_manager_issues": ServiceManagerIssues,
    "service_manager_categories": ServiceManagerCategories,
    "service_manager_statuses": ServiceManagerStatuses,
    "service_manager_priorities": ServiceManagerPriorities,
    "vendors": Vendors,
    "owners": Owners,
    "owner_contracts": OwnerContracts,
    "prospects": Prospects,
    "user_defined_fields": UserDefinedFields,
    "property_udfs": UserDefinedValues,
    "unit_udfs": UserDefinedValues,
    "tenant_udfs": UserDefinedValues,
    "contact_udfs": UserDefinedValues,
    "violations": Violations,
    "violation_codes": ViolationCodes,
    "association_settings": AssociationSettings,
    "committees": Committees,
    "committee_members": CommitteeMembers,
    "commercial_recoverable_expenses": CommercialRecoverableExpenses,
    "cam_amortizations": CamAmortizations,
    "retail_sales": RetailSales,
}

# Documented Rent Manager fields we do not validate but mappings may use (rentmanager-api.md §12).
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "properties": ("Addresses", "BillingName1", "BillingName2", "TaxID", "Comment", "StatementMethod",
                   "PrimaryOwnerID", "DefaultBankID", "TimeZoneOffset", "IsLateChargeEnabled", "NSFFeeAmount",
                   "FiscalYearStartMonth", "FiscalYearEndMonth", "PostingDay", "MetaTag"),
    "units": ("FloorID", "Length", "Width", "STRMarketingDescription", "InspectionTemplateID", "ColorID",
              "IsVacant", "IsLicensed", "IsAsset", "Addresses", "MetaTag"),
    "tenants": ("Addresses", "Contacts", "StatementMethod", "LeasingAgentID", "CheckPayeeName", "WebMessage",
                "FirstContact", "LastContact", "TransferDate", "Balance", "OpenBalance", "SecurityDepositHeld",
                "DoNotChargeLateFees", "DoNotAcceptChecks", "DoNotAcceptPayments", "MetaTag"),
    "contacts": ("PhoneNumbers", "Addresses", "License", "Vehicle", "ContactType", "IsShowOnBill", "MetaTag"),
    "leases": ("ArrivalDate", "DepartureDate", "IsMoveOutConfirmed", "StartDate", "EndDate", "PropertyUnit",
               "UnitProperty", "MetaTag"),
    "service_manager_issues": ("LinkedProperties", "LinkedUnits", "LinkedTenants", "Resolution", "NoteText",
                               "JobID", "ProjectID", "AssignedToUserID", "CustomerDescription", "MetaTag"),
    "vendors": ("Addresses", "TaxID", "AccountNumber", "PaymentMethod", "WorkersCompExpiration", "MetaTag"),
    "owners": ("Addresses", "OwnerContracts", "TaxID", "WebMessage", "DefaultPayMethod", "MetaTag"),
    "prospects": ("MoveOutDate", "ReservedMoveIn", "ReservedMoveOut", "LeadSourceID", "LeasingAgentID",
                  "InterestLevel", "Comment", "IsCompany", "ProspectDisplayID", "MetaTag"),
    "charges": ("JobID", "AccrualDebitID", "AccrualCreditID", "ID", "MetaTag"),
    "payments": ("ReceiptID", "ID", "MetaTag"),
    "credits": ("ID", "ReversalDate", "ReversalType", "MetaTag"),
    "property_udfs": ("ParentType", "PropertyID"),
    "unit_udfs": ("ParentType", "UnitID"),
    "tenant_udfs": ("ParentType", "TenantID"),
    "contact_udfs": ("ParentType", "ContactID"),
}
AUDIT = ("CreateDate", "UpdateDate", "CreateUserID", "UpdateUserID", "ConcurrencyID", "MetaTag")


def model_for(entity: str) -> type[pa.DataFrameModel]:
    try:
        return MODELS[entity]
    except KeyError:
        raise KeyError(f"no pandera model for Rent Manager entity {entity!r}") from None


@functools.lru_cache(maxsize=None)
def known_fields(entity: str) -> frozenset[str]:
    """Rent Manager fields of an entity a mapping may read."""
    schema = model_for(entity).to_schema()
    return frozenset(set(schema.columns) | set(EXTRA_FIELDS.get(entity, ())) | set(AUDIT))
