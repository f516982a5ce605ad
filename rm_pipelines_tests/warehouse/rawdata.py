"""Realistic rm_raw contents for warehouse tests: the sandbox generator's portfolio, shaped the way the
extraction lands it (embedded lists exploded into their own entities, UDFs per parent, allocations riding
payments), written through `RawLander` exactly like `rm_pipelines.flows.extract` does."""

from __future__ import annotations

import copy
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rm_pipelines.rentmanager.catalog import ENTITIES, Entity, get
from rm_pipelines.flows.extract import _rows
from rm_pipelines.warehouse.raw import RawLander

NOW = datetime(2026, 11, 1, 12, 0, 0)
TZ = ZoneInfo("America/New_York")


def portfolio(units: int = 80, seed: int = 5) -> dict[str, list[dict]]:
    from rm_pipelines.sandbox.portfolio import generate_portfolio

    return generate_portfolio(units, seed, NOW)


def _children(records: list[dict], parent_field: str, where: dict[str, Any] | None = None) -> dict[Any, list[dict]]:
    out: dict[Any, list[dict]] = defaultdict(list)
    for r in records:
        if where and any(r.get(k) != v for k, v in where.items()):
            continue
        out[r.get(parent_field)].append(r)
    return out


def wire_pages(p: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Per carrier stream (catalog entity name), the records Rent Manager would return with the embeds asked for."""
    addr = {pt: _children(p["Addresses"], "ParentID", {"ParentType": pt}) for pt in ("Property", "Tenant", "Owner", "Vendor")}
    udv = {pt: _children(p["UserDefinedValues"], "ParentID", {"ParentType": pt}) for pt in ("Property", "Unit", "Tenant", "Contact")}
    allocs = _children(p["Allocations"], "PaymentID")
    contracts = _children(p["OwnerContracts"], "OwnerID")
    members = _children(p["CommitteeMembers"], "CommitteeID")
    sales = _children(p["RetailSales"], "LeaseID")
    linked = {k: _children(p[f"ServiceManagerIssueLinked{k}"], "ServiceManagerIssueID")
              for k in ("Properties", "Units", "Tenants")}
    pages: dict[str, list[dict]] = {
        "locations": p["Locations"],
        "properties": [{**r, "Addresses": addr["Property"].get(r["PropertyID"], [])} for r in p["Properties"]],
        "units": p["Units"],
        "unit_types": p["UnitTypes"],
        "market_rents": p["MarketRents"],
        "tenants": [{**r, "Addresses": addr["Tenant"].get(r["TenantID"], [])} for r in p["Tenants"]],
        "contacts": p["Contacts"],
        "contact_types": p["ContactTypes"],
        "leases": p["Leases"],
        "lease_renewals": p["LeaseRenewals"],
        "charges": p["Charges"],
        "payments": [{**r, "Allocations": allocs.get(r["PaymentID"], [])} for r in p["Payments"]],
        "credits": p["Credits"],
        "recurring_charges": p["RecurringCharges"],
        "charge_types": p["ChargeTypes"],
        "subsidies": p["Subsidies"],
        "subsidy_tenants": p["SubsidyTenants"],
        "service_manager_issues": [
            {**r, "LinkedProperties": linked["Properties"].get(r["ServiceManagerIssueID"], []),
             "LinkedUnits": linked["Units"].get(r["ServiceManagerIssueID"], []),
             "LinkedTenants": linked["Tenants"].get(r["ServiceManagerIssueID"], [])}
            for r in p["ServiceManagerIssues"]],
        "service_manager_categories": p["ServiceManagerCategories"],
        "service_manager_statuses": p["ServiceManagerStatuses"],
        "service_manager_priorities": p["ServiceManagerPriorities"],
        "vendors": p["Vendors"],
        "owners": [{**r, "OwnerContracts": contracts.get(r["OwnerID"], [])} for r in p["Owners"]],
        "prospects": p["Prospects"],
        "user_defined_fields": p["UserDefinedFields"],
        "violations": p["Violations"],
        "violation_codes": p["ViolationCodes"],
        "association_settings": p["AssociationSettings"],
        "committees": [{**r, "CommitteeMembers": members.get(r["CommitteeID"], [])} for r in p["Committees"]],
        "commercial_recoverable_expenses": p["CommercialRecoverableExpenses"],
        "cam_amortizations": p["CamAmortizations"],
    }
    pages["property_udfs"] = [{"PropertyID": r["PropertyID"], "UserDefinedValues": udv["Property"].get(r["PropertyID"], [])}
                              for r in p["Properties"]]
    pages["unit_udfs"] = [{"UnitID": r["UnitID"], "UserDefinedValues": udv["Unit"].get(r["UnitID"], [])} for r in p["Units"]]
    pages["tenant_udfs"] = [{"TenantID": r["TenantID"], "UserDefinedValues": udv["Tenant"].get(r["TenantID"], [])}
                            for r in p["Tenants"]]
    pages["contact_udfs"] = [{"ContactID": r["ContactID"], "UserDefinedValues": udv["Contact"].get(r["ContactID"], [])}
                             for r in p["Contacts"]]
    pages["retail_sales"] = [{"LeaseID": r["LeaseID"], "RetailSales": sales.get(r["LeaseID"], [])}
                             for r in p["Leases"] if r.get("IsCommercial")]
    return pages


def entity_rows(pages: dict[str, list[dict]], entity: Entity) -> list[dict]:
    """The rows of one entity as the extraction lands them (riders exploded, carriers without their riders)."""
    carrier = entity.via or entity.name
    page = pages[carrier]
    strip = tuple(e.explode for e in ENTITIES if e.via == carrier and e.explode) if entity.name == carrier else ()
    return _rows(entity, copy.deepcopy(page), strip)


def land(engine, org_id: str, p: dict[str, list[dict]], *, run_id: str = "land-1", location_id: int = 1,
         entities: list[str] | None = None, full: bool = True) -> dict[str, Any]:
    """Land the portfolio into rm_raw for one org; with `full`, keys missing from `p` are flagged deleted."""
    lander = RawLander(engine, org_id=org_id, run_id=run_id)
    pages = wire_pages(p)
    results = {}
    for entity in ENTITIES:
        if entities is not None and entity.name not in entities:
            continue
        rows = entity_rows(pages, entity)
        results[entity.name] = lander.land(entity, location_id, rows, TZ)
        if full:
            seen = {r[entity.key] for r in rows if isinstance(r, dict) and isinstance(r.get(entity.key), int)}
            gone = [key for key, _parent in lander.absent_keys(entity, location_id, seen)]
            results[entity.name].deleted = lander.mark_deleted_keys(entity, location_id, gone)
    return results


def find(p: dict[str, list[dict]], collection: str, **match: Any) -> dict:
    for r in p[collection]:
        if all(r.get(k) == v for k, v in match.items()):
            return r
    raise LookupError(f"no {collection} record with {match}")


_ = get
