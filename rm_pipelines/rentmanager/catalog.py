"""THE entity catalog: one declarative row per Rent Manager resource we extract.

Extraction (which requests), landing (which raw table) and, downstream, validation and loading are all
generated from these rows; adding an entity means adding a row.

- `cursor`: the change field used for incremental sync (`UpdateDate`), or None → the entity is fully
  refreshed every run (lookup tables, and collections whose changes do not reliably bump a parent's UpdateDate).
- `explode`: the rows are the embedded list `explode` of each record fetched from `path` (e.g. the
  UserDefinedValues of every tenant); `parent_key` names the parent's key kept with each row.
- `via`: the rows arrive inside another entity's stream (e.g. Allocations inside Payments) and cost no
  request of their own; they follow that entity's cursor.
- `udf`: UDF values. Their changes do not reliably move the parent's UpdateDate and they have no cursor of their
  own, so they are read in full on the org's `rentmanager.udf_refresh` cadence (by default with the daily key
  scan, not on every incremental run); a webhook event on the parent refreshes that parent's values at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .query import Filter


@dataclass(frozen=True)
class Entity:
    name: str
    path: str
    key: str
    description: str
    cursor: str | None = "UpdateDate"
    fields: tuple[str, ...] = ()
    embeds: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    parent: str | None = None
    parent_key: str | None = None
    explode: str | None = None
    via: str | None = None
    udf: bool = False

    @property
    def incremental(self) -> bool:
        return self.cursor is not None

    @property
    def asset_path(self) -> list[str]:
        return ["rentmanager", self.name]

    @property
    def raw_table(self) -> str:
        return self.name


def _udfs(name: str, parent: str, path: str, parent_key: str) -> Entity:
    return Entity(
        name=name,
        path=path,
        key="UserDefinedValueID",
        description=f"User-defined field values of {parent} (program elections, compliance inputs)",
        cursor=None,
        fields=(parent_key, "UserDefinedValues"),
        embeds=("UserDefinedValues",),
        parent=parent,
        parent_key=parent_key,
        explode="UserDefinedValues",
        udf=True,
    )


ENTITIES: tuple[Entity, ...] = (
    Entity("locations", "Locations", "LocationID", "Rent Manager locations (separate databases)", cursor=None),
    Entity("properties", "Properties", "PropertyID", "Properties", embeds=("Addresses",)),
    Entity("units", "Units", "UnitID", "Units", parent="properties", parent_key="PropertyID"),
    Entity("unit_types", "UnitTypes", "UnitTypeID", "Unit types"),
    Entity("market_rents", "MarketRents", "MarketRentID", "Market rent history per unit", parent="units", parent_key="UnitID"),
    Entity("tenants", "Tenants", "TenantID", "Tenants (residents, homeowners, commercial tenants)", embeds=("Addresses",)),
    Entity("contacts", "Contacts", "ContactID", "Contacts: household members, guarantors, vendor and owner contacts",
           parent_key="ParentID"),
    Entity("contact_types", "ContactTypes", "ContactTypeID", "Contact types (relationship to the head)", cursor=None),
    Entity("leases", "Leases", "LeaseID", "Leases: tenant ↔ unit occupancy", parent="tenants", parent_key="TenantID"),
    Entity("lease_renewals", "LeaseRenewals", "LeaseRenewalID", "Lease terms (renewals) with start and end dates",
           parent="leases", parent_key="ParentLeaseID"),
    Entity("charges", "Charges", "ChargeID", "Ledger charges", parent="tenants", parent_key="AccountID"),
    Entity("payments", "Payments", "PaymentID", "Ledger payments", embeds=("Allocations",),
           parent="tenants", parent_key="AccountID"),
    Entity("payment_allocations", "Payments", "AllocationID", "Payment allocations to charges",
           parent="payments", parent_key="PaymentID", explode="Allocations", via="payments"),
    Entity("credits", "Credits", "CreditID", "Ledger credits", parent="tenants", parent_key="AccountID"),
    Entity("recurring_charges", "RecurringCharges", "RecurringChargeID", "Recurring charges (rents, fees, assessments)"),
    Entity("charge_types", "ChargeTypes", "ChargeTypeID", "Charge types"),
    Entity("subsidies", "Subsidies", "SubsidyID", "Subsidy programs (housing authorities, vouchers)"),
    Entity("subsidy_tenants", "SubsidyTenants", "SubsidyTenantID", "Tenant ↔ subsidy links (voucher households)",
           parent="tenants", parent_key="TenantID"),
    Entity("service_manager_issues", "ServiceManagerIssues", "ServiceManagerIssueID", "Work orders",
           embeds=("LinkedProperties", "LinkedUnits", "LinkedTenants")),
    Entity("service_manager_categories", "ServiceManagerCategories", "ServiceManagerCategoryID",
           "Work-order categories", cursor=None),
    Entity("service_manager_statuses", "ServiceManagerStatuses", "ServiceManagerStatusID", "Work-order statuses",
           cursor=None),
    Entity("service_manager_priorities", "ServiceManagerPriorities", "ServiceManagerPriorityID",
           "Work-order priorities", cursor=None),
    Entity("vendors", "Vendors", "VendorID", "Vendors"),
    Entity("owners", "Owners", "OwnerID", "Owners", embeds=("OwnerContracts",)),
    Entity("owner_contracts", "Owners", "OwnerContractID", "Owner ↔ property contracts with ownership shares",
           parent="owners", parent_key="OwnerID", explode="OwnerContracts", via="owners"),
    Entity("prospects", "Prospects", "ProspectID", "Prospects"),
    Entity("user_defined_fields", "UserDefinedFields", "UserDefinedFieldID", "User-defined field definitions"),
    _udfs("property_udfs", "properties", "Properties", "PropertyID"),
    _udfs("unit_udfs", "units", "Units", "UnitID"),
    _udfs("tenant_udfs", "tenants", "Tenants", "TenantID"),
    _udfs("contact_udfs", "contacts", "Contacts", "ContactID"),
    Entity("violations", "Violations", "ViolationID", "HOA violations"),
    Entity("violation_codes", "ViolationCodes", "ViolationCodeID", "HOA violation codes"),
    Entity("association_settings", "AssociationSettings", "AssociationSettingsID", "HOA association settings",
           parent="properties", parent_key="PropertyID"),
    Entity("committees", "Committees", "CommitteeID", "HOA committees and boards", embeds=("CommitteeMembers",)),
    Entity("committee_members", "Committees", "CommitteeMemberID", "HOA board and committee members",
           parent="committees", parent_key="CommitteeID", explode="CommitteeMembers", via="committees"),
    Entity("commercial_recoverable_expenses", "CommercialRecoverableExpenses", "CommercialRecoverableExpenseID",
           "Commercial CAM recovery setups"),
    Entity("cam_amortizations", "CamAmortizations", "CamAmortizationID", "CAM amortizations"),
    Entity("retail_sales", "Leases", "RetailSaleID", "Retail sales reported by commercial tenants (percentage rent)",
           cursor=None, fields=("LeaseID", "RetailSales"), embeds=("RetailSales",),
           filters=(("IsCommercial", "eq", True),), parent="leases", parent_key="LeaseID", explode="RetailSales"),
)

BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}
assert len(BY_NAME) == len(ENTITIES), "entity names must be unique"


def get(name: str) -> Entity:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown Rent Manager entity {name!r}; known: {', '.join(sorted(BY_NAME))}") from None


@dataclass(frozen=True)
class Stream:
    """One paged extraction: a primary entity plus the entities delivered inside its pages."""

    primary: Entity
    riders: tuple[Entity, ...] = field(default=())

    @property
    def entities(self) -> tuple[Entity, ...]:
        return (self.primary, *self.riders)

    @property
    def embeds(self) -> tuple[str, ...]:
        out = list(self.primary.embeds)
        for rider in self.riders:
            if rider.explode and rider.explode not in out:
                out.append(rider.explode)
        return tuple(out)


def plan_streams(names: Iterable[str]) -> list[Stream]:
    """Group selected entities into streams; a `via` entity rides its carrier (fetched even if unselected)."""
    selected = [get(n) for n in names]
    carriers: dict[str, list[Entity]] = {}
    for entity in selected:
        carrier = entity.via or entity.name
        riders = carriers.setdefault(carrier, [])
        if entity.via:
            riders.append(entity)
    return [Stream(get(carrier), tuple(riders)) for carrier, riders in carriers.items()]
