"""The sandbox's own description of the Rent Manager resources it serves.

This is deliberately independent of `rm_pipelines.rentmanager.catalog` (the client's catalog): the sandbox and
the client are two implementations of one protocol, so a mistake in one shows up as a failure against the other.

Each collection names its primary key, whether it carries audit fields (CreateDate/UpdateDate/...), whether it has
a ConcurrencyID, whether it is routable at the top level, its embeds (linked data reachable via `embeds=`), the
webhook event family it raises and which collections churn may touch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

AUDIT_FIELDS = ("CreateDate", "CreateUserID", "UpdateDate", "UpdateUserID")
LEDGER_TYPES = {"Charges": "Charge", "Payments": "Payment", "Credits": "Credit"}


@dataclass(frozen=True)
class Embed:
    """One embeddable link of a collection.

    many: target records whose `remote` field equals the source's `local` field (plus `where` constants).
    one:  the target record whose `remote` field (its primary key) equals the source's `local` field.
    owned: the target rows belong to the source (cascade on delete, created with the parent on POST).
    """

    name: str
    target: str
    kind: str  # "many" | "one"
    local: str
    remote: str
    where: tuple[tuple[str, str], ...] = ()
    owned: bool = False


@dataclass(frozen=True)
class Collection:
    name: str
    pk: str
    fields: tuple[str, ...]
    audit: bool = True
    concurrency: bool = False
    top_level: bool = True
    embeds: tuple[Embed, ...] = ()
    # calculated fields that only appear when the named embed is requested: field -> embed name
    calculated: dict[str, str] = field(default_factory=dict)
    # fields always treated as strings by filters (never inferred as numbers/dates)
    string_fields: tuple[str, ...] = ()
    webhook: str | None = None

    def embed(self, name: str) -> Embed | None:
        low = name.lower()
        for e in self.embeds:
            if e.name.lower() == low:
                return e
        return None


def _many(name: str, target: str, remote: str, local: str = "", *, parent_type: str | None = None,
          owned: bool = False, where: tuple[tuple[str, str], ...] = ()) -> Embed:
    if parent_type is not None:
        where = (("ParentType", parent_type),) + where
        remote = remote or "ParentID"
    return Embed(name, target, "many", local, remote, where, owned)


def _one(name: str, target: str, local: str, remote: str | None = None) -> Embed:
    return Embed(name, target, "one", local, remote or "")


def _udv(parent_type: str) -> Embed:
    return _many("UserDefinedValues", "UserDefinedValues", "ParentID", parent_type=parent_type, owned=True)


def _addresses(parent_type: str) -> Embed:
    return _many("Addresses", "Addresses", "ParentID", parent_type=parent_type, owned=True)


_LEDGER = ("ID", "AccountID", "AccountType", "Amount", "TransactionDate", "TransactionType", "Reference", "Comment")

_SPECS: list[Collection] = [
    Collection("Locations", "LocationID", ("LocationID", "Name", "FriendlyName", "IsMainLocation"), audit=False),
    Collection(
        "Properties", "PropertyID",
        ("PropertyID", "Name", "ShortName", "PropertyType", "IsCommercial", "IsActive", "SquareFootage",
         "ManagerName", "Email", "ConcurrencyID"),
        concurrency=True,
        embeds=(_addresses("Property"), _udv("Property"), _many("Units", "Units", "PropertyID"),
                _many("OwnerContracts", "OwnerContracts", "PropertyID")),
    ),
    Collection(
        "Units", "UnitID",
        ("UnitID", "PropertyID", "UnitTypeID", "Name", "Bedrooms", "Bathrooms", "SquareFootage", "MaxOccupancy",
         "Comment", "SortOrder"),
        embeds=(_udv("Unit"), _one("Property", "Properties", "PropertyID"), _one("UnitType", "UnitTypes", "UnitTypeID"),
                _many("Leases", "Leases", "UnitID"), _many("MarketRents", "MarketRents", "UnitID")),
    ),
    Collection("UnitTypes", "UnitTypeID", ("UnitTypeID", "Name", "Bedrooms", "Bathrooms", "Comment"),
               embeds=(_many("Units", "Units", "UnitTypeID"),)),
    Collection("MarketRents", "MarketRentID", ("MarketRentID", "UnitID", "Amount", "FromDate", "ToDate", "Comment"),
               embeds=(_one("Unit", "Units", "UnitID"),)),
    Collection(
        "Tenants", "TenantID",
        ("TenantID", "TenantDisplayID", "Name", "FirstName", "LastName", "IsCompany", "Status", "PropertyID",
         "RentDueDay", "RentPeriod", "Comment"),
        embeds=(_many("Contacts", "Contacts", "ParentID", parent_type="Tenant", owned=True), _udv("Tenant"),
                _many("Leases", "Leases", "TenantID"), _addresses("Tenant"),
                _one("Property", "Properties", "PropertyID"),
                _many("Charges", "Charges", "AccountID"), _many("Payments", "Payments", "AccountID"),
                _many("Credits", "Credits", "AccountID"), _many("SubsidyTenants", "SubsidyTenants", "TenantID"),
                _many("RecurringCharges", "RecurringCharges", "EntityKeyID", where=(("EntityType", "Tenant"),)),
                Embed("Balance", "", "calc", "", "")),
        calculated={"Balance": "Balance"},
        webhook="Tenant",
    ),
    Collection(
        "Contacts", "ContactID",
        ("ContactID", "ParentID", "ParentType", "FirstName", "LastName", "MiddleName", "IsPrimary", "IsActive",
         "ContactTypeID", "DateOfBirth", "FederalTaxID", "Email", "Employer", "ApplicantType", "AnnualIncome",
         "Comment"),
        embeds=(_udv("Contact"), _one("ContactType", "ContactTypes", "ContactTypeID")),
        webhook="Contact",  # resolved per ParentType: TenantContact / ProspectContact
    ),
    Collection("ContactTypes", "ContactTypeID", ("ContactTypeID", "Name"), audit=False),
    Collection(
        "Leases", "LeaseID",
        ("LeaseID", "TenantID", "UnitID", "PropertyID", "MoveInDate", "MoveOutDate", "ExpectedMoveOutDate",
         "NoticeDate", "IsCommercial", "SortOrder"),
        embeds=(_many("LeaseRenewals", "LeaseRenewals", "ParentLeaseID"),
                _many("RetailSales", "RetailSales", "LeaseID", owned=True),
                _one("Tenant", "Tenants", "TenantID"), _one("Unit", "Units", "UnitID"),
                _one("Property", "Properties", "PropertyID")),
        calculated={"StartDate": "LeaseRenewals", "EndDate": "LeaseRenewals"},
    ),
    Collection("LeaseRenewals", "LeaseRenewalID",
               ("LeaseRenewalID", "ParentLeaseID", "UnitID", "LeaseLength", "SignDate", "StartDate", "EndDate"),
               embeds=(_one("Lease", "Leases", "ParentLeaseID"),)),
    Collection("RetailSales", "RetailSaleID",
               ("RetailSaleID", "LeaseID", "SalesMonth", "GrossSales", "ExcludedSales", "Comment"), top_level=False),
    Collection(
        "Charges", "ChargeID",
        ("ChargeID",) + _LEDGER + ("PropertyID", "UnitID", "ChargeTypeID", "AmountAllocated", "IsFullyAllocated"),
        embeds=(_one("ChargeType", "ChargeTypes", "ChargeTypeID"), _one("Property", "Properties", "PropertyID"),
                _one("Unit", "Units", "UnitID"), _many("Allocations", "Allocations", "ChargeID"),
                _one("Tenant", "Tenants", "AccountID")),
    ),
    Collection(
        "Payments", "PaymentID",
        ("PaymentID",) + _LEDGER + ("AmountAllocated", "IsFullyAllocated", "ReversalDate", "ReversalType"),
        embeds=(_many("Allocations", "Allocations", "PaymentID", owned=True), _one("Tenant", "Tenants", "AccountID")),
    ),
    Collection("Allocations", "AllocationID",
               ("AllocationID", "PaymentID", "ChargeID", "PropertyID", "UnitID", "Amount", "TransactionDate"),
               top_level=False,
               embeds=(_one("Charge", "Charges", "ChargeID"), _one("Payment", "Payments", "PaymentID"))),
    Collection(
        "Credits", "CreditID", ("CreditID",) + _LEDGER + ("ChargeTypeID", "PropertyID", "UnitID"),
        embeds=(_one("ChargeType", "ChargeTypes", "ChargeTypeID"), _one("Property", "Properties", "PropertyID"),
                _one("Unit", "Units", "UnitID"), _one("Tenant", "Tenants", "AccountID")),
    ),
    Collection(
        "RecurringCharges", "RecurringChargeID",
        ("RecurringChargeID", "EntityType", "EntityKeyID", "TenantID", "UnitID", "PropertyID", "ChargeTypeID",
         "Amount", "AmountPerSquareFoot", "Frequency", "FromDate", "ToDate", "Comment", "CamRecurringChargeID"),
        embeds=(_one("ChargeType", "ChargeTypes", "ChargeTypeID"), _one("Tenant", "Tenants", "TenantID"),
                _one("Unit", "Units", "UnitID"), _one("Property", "Properties", "PropertyID")),
    ),
    Collection("ChargeTypes", "ChargeTypeID",
               ("ChargeTypeID", "Name", "Description", "DefaultAmount", "IsCam", "IsActive", "IsProrated",
                "GLAccountID", "ConcurrencyID"), concurrency=True),
    Collection("Subsidies", "SubsidyID", ("SubsidyID", "Name", "ShortName", "ChargeTypeID", "PaymentFrom"),
               embeds=(_one("ChargeType", "ChargeTypes", "ChargeTypeID"),)),
    Collection("SubsidyTenants", "SubsidyTenantID",
               ("SubsidyTenantID", "SubsidyID", "TenantID", "Amount", "StartDate", "EndDate"),
               embeds=(_one("Subsidy", "Subsidies", "SubsidyID"), _one("Tenant", "Tenants", "TenantID"))),
    Collection(
        "ServiceManagerIssues", "ServiceManagerIssueID",
        ("ServiceManagerIssueID", "Title", "Description", "CategoryID", "StatusID", "PriorityID", "VendorID",
         "IsClosed", "CloseDate", "AssignedOpenDate", "DueDate", "ScheduledDate"),
        embeds=(_many("LinkedProperties", "ServiceManagerIssueLinkedProperties", "ServiceManagerIssueID", owned=True),
                _many("LinkedUnits", "ServiceManagerIssueLinkedUnits", "ServiceManagerIssueID", owned=True),
                _many("LinkedTenants", "ServiceManagerIssueLinkedTenants", "ServiceManagerIssueID", owned=True),
                _one("Category", "ServiceManagerCategories", "CategoryID"),
                _one("Status", "ServiceManagerStatuses", "StatusID"),
                _one("Priority", "ServiceManagerPriorities", "PriorityID"),
                _one("Vendor", "Vendors", "VendorID")),
        webhook="ServiceIssue",
    ),
    Collection("ServiceManagerIssueLinkedProperties", "ServiceManagerIssueLinkedPropertyID",
               ("ServiceManagerIssueLinkedPropertyID", "ServiceManagerIssueID", "PropertyID"), top_level=False,
               embeds=(_one("Property", "Properties", "PropertyID"),)),
    Collection("ServiceManagerIssueLinkedUnits", "ServiceManagerIssueLinkedUnitID",
               ("ServiceManagerIssueLinkedUnitID", "ServiceManagerIssueID", "UnitID"), top_level=False,
               embeds=(_one("Unit", "Units", "UnitID"),)),
    Collection("ServiceManagerIssueLinkedTenants", "ServiceManagerIssueLinkedTenantID",
               ("ServiceManagerIssueLinkedTenantID", "ServiceManagerIssueID", "TenantID"), top_level=False,
               embeds=(_one("Tenant", "Tenants", "TenantID"),)),
    Collection("ServiceManagerCategories", "ServiceManagerCategoryID",
               ("ServiceManagerCategoryID", "Name", "Description", "SortOrder", "Color", "IsActive"), audit=False),
    Collection("ServiceManagerStatuses", "ServiceManagerStatusID",
               ("ServiceManagerStatusID", "Name", "Description", "SortOrder", "Color", "IsActive", "IsClosed"),
               audit=False),
    Collection("ServiceManagerPriorities", "ServiceManagerPriorityID",
               ("ServiceManagerPriorityID", "Name", "Description", "SortOrder", "Color", "IsActive"), audit=False),
    Collection("Vendors", "VendorID",
               ("VendorID", "Name", "Payee", "Category", "Is1099", "IsActive", "InsuranceExpiration", "Comment"),
               embeds=(_addresses("Vendor"),
                       _many("Contacts", "Contacts", "ParentID", parent_type="Vendor", owned=True)),
               webhook="Vendor"),
    Collection("Owners", "OwnerID", ("OwnerID", "Name", "DisplayName", "Status", "Comment"),
               embeds=(_many("OwnerContracts", "OwnerContracts", "OwnerID", owned=True), _addresses("Owner"),
                       _many("Contacts", "Contacts", "ParentID", parent_type="Owner", owned=True)),
               webhook="Owner"),
    Collection("OwnerContracts", "OwnerContractID",
               ("OwnerContractID", "OwnerID", "PropertyID", "Percentage", "StartDate", "EndDate"), top_level=False,
               embeds=(_one("Owner", "Owners", "OwnerID"), _one("Property", "Properties", "PropertyID"))),
    Collection("Prospects", "ProspectID",
               ("ProspectID", "PropertyID", "Name", "FirstName", "LastName", "ProspectStatus", "ApplicationDate",
                "PeopleCount", "RentMin", "RentMax", "MoveInDate", "ReservedUnitID"),
               embeds=(_many("Contacts", "Contacts", "ParentID", parent_type="Prospect", owned=True),
                       _one("Property", "Properties", "PropertyID"), _udv("Prospect")),
               webhook="Prospect"),
    Collection("UserDefinedFields", "UserDefinedFieldID",
               ("UserDefinedFieldID", "Name", "FieldType", "ParentType", "ComboList", "IsRequired", "SortOrder")),
    Collection("UserDefinedValues", "UserDefinedValueID",
               ("UserDefinedValueID", "UserDefinedFieldID", "ParentID", "ParentType", "Name", "Value", "FieldType",
                "UpdateDate", "UpdateUserID"),
               audit=False, top_level=False, string_fields=("Value",)),
    Collection("Violations", "ViolationID",
               ("ViolationID", "PropertyID", "UnitID", "TenantID", "ViolationCodeID", "ViolationDate", "Description",
                "ResolveAction", "IsClosed", "CloseDate", "ConcurrencyID"), concurrency=True,
               embeds=(_one("ViolationCode", "ViolationCodes", "ViolationCodeID"),
                       _one("Property", "Properties", "PropertyID"), _one("Unit", "Units", "UnitID"),
                       _one("Tenant", "Tenants", "TenantID"))),
    Collection("ViolationCodes", "ViolationCodeID",
               ("ViolationCodeID", "Code", "Description", "ViolationCategoryID", "ChargeTypeID", "IsActive"),
               embeds=(_one("ChargeType", "ChargeTypes", "ChargeTypeID"),)),
    Collection("AssociationSettings", "AssociationSettingsID",
               ("AssociationSettingsID", "PropertyID", "CanBoardViewArchitecturalRequestsOnTWA",
                "CanBoardVoteArchitecturalRequestsOnTWA", "ConcurrencyID"), concurrency=True,
               embeds=(_one("Property", "Properties", "PropertyID"),)),
    Collection("Committees", "CommitteeID",
               ("CommitteeID", "PropertyID", "Name", "DisplayName", "Description", "IsActive"),
               embeds=(_many("CommitteeMembers", "CommitteeMembers", "CommitteeID", owned=True),
                       _one("Property", "Properties", "PropertyID"))),
    Collection("CommitteeMembers", "CommitteeMemberID",
               ("CommitteeMemberID", "CommitteeID", "TenantID", "Position", "StartDate", "EndDate"), top_level=False,
               embeds=(_one("Tenant", "Tenants", "TenantID"), _one("Committee", "Committees", "CommitteeID"))),
    Collection("CommercialRecoverableExpenses", "CommercialRecoverableExpenseID",
               ("CommercialRecoverableExpenseID", "PropertyID", "LeaseID", "ChargeTypeID", "TenantIsProRataShare",
                "ProRataSharePercent", "TenantIsAdministrativeFees", "AdminFeePercent", "BaseYearAmount", "CapPercent",
                "AmountSpecific", "IsSubtractBaseAmount", "ConcurrencyID"), concurrency=True,
               embeds=(_one("ChargeType", "ChargeTypes", "ChargeTypeID"), _one("Lease", "Leases", "LeaseID"),
                       _one("Property", "Properties", "PropertyID"))),
    Collection("CamAmortizations", "CamAmortizationID",
               ("CamAmortizationID", "PropertyID", "GLAccountID", "Amount", "StartDate", "NumPeriods", "InternalNote",
                "TenantNote", "IsCanceled"),
               embeds=(_one("Property", "Properties", "PropertyID"),)),
    Collection("WebhookDetails", "WebhookDetailID",
               ("WebhookDetailID", "WebhookEventType", "URL", "PartnerProductID", "ConcurrencyID"), concurrency=True),
    Collection("Addresses", "AddressID",
               ("AddressID", "ParentID", "ParentType", "AddressTypeID", "Street", "City", "State", "PostalCode",
                "IsPrimary", "IsBilling"), audit=False, top_level=False),
]

COLLECTIONS: dict[str, Collection] = {c.name: c for c in _SPECS}
_BY_LOWER: dict[str, Collection] = {c.name.lower(): c for c in _SPECS}

# Collections churn may hard-delete (nothing else points at them, or what points at them is owned and cascades).
DELETABLE = ("Charges", "Credits", "Contacts", "MarketRents", "RecurringCharges", "ServiceManagerIssues", "Prospects",
             "Violations")
# Harmless free-text fields churn edits, in order of preference; otherwise only UpdateDate moves.
CHURN_TEXT_FIELDS = ("Comment", "Description", "InternalNote", "TenantNote")


def lookup(name: str) -> Collection | None:
    """Case-insensitive resource lookup (ASP.NET routing ignores case)."""
    return _BY_LOWER.get(name.lower())


def guess_spec(name: str, sample: dict | None) -> Collection:
    """A spec for a collection the generator produced but this catalog does not know: PK = first '...ID' key."""
    pk = next((k for k in (sample or {}) if k.endswith("ID")), name.rstrip("s") + "ID")
    audit = bool(sample and "UpdateDate" in sample and "CreateDate" in sample)
    concurrency = bool(sample and "ConcurrencyID" in sample)
    return Collection(name, pk, tuple(sample or ()), audit=audit, concurrency=concurrency)


def register(spec: Collection) -> None:
    COLLECTIONS[spec.name] = spec
    _BY_LOWER[spec.name.lower()] = spec


def webhook_event(collection: str, record: dict,
                  lookup: Callable[[str, int], dict | None] | None = None) -> tuple[str, int, int] | None:
    """(event family, item id, parent id) raised when `record` of `collection` changes, or None.

    `lookup(collection, id)` reads another record: a contact's UDF change is an edit of the contact."""
    spec = COLLECTIONS.get(collection)
    if spec is None:
        return None
    if collection == "UserDefinedValues" and record.get("ParentType") == "Contact" and lookup is not None:
        contact = lookup("Contacts", int(record.get("ParentID") or 0))
        return webhook_event("Contacts", contact) if contact else None
    if collection == "Contacts":
        parent_type = record.get("ParentType")
        if parent_type in ("Tenant", "Prospect"):
            return f"{parent_type}Contact", int(record.get("ContactID") or 0), int(record.get("ParentID") or 0)
        return None
    if collection == "UserDefinedValues":
        # UDF changes count as an edit of the entity they hang on (RM: "changes include entity-type UDF changes").
        fam = {"Tenant": "Tenant", "Prospect": "Prospect", "Vendor": "Vendor", "Owner": "Owner"}.get(
            str(record.get("ParentType")))
        parent = int(record.get("ParentID") or 0)
        return (fam, parent, parent) if fam else None
    if spec.webhook is None:
        return None
    # Top-level entities: the dict maps the entity's own ID to itself (it is its own parent account).
    own = int(record.get(spec.pk) or 0)
    return spec.webhook, own, own
