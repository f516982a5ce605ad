"""The Rent Manager resources EstateCore writes to, and how.

A write is a `record` write (fields of the record itself, POSTed as an array to `/{Resource}` with the record's
UpdateDate / ConcurrencyID as last read) or a `udf` write (UDF values of the record, POSTed to
`/{Resource}/UserDefinedValues`, each value with its own UpdateDate). Either is re-read afterwards into the
catalog entity named here, so rm_raw and EstateCore show what Rent Manager holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..rentmanager.catalog import Entity, get


@dataclass(frozen=True)
class Writable:
    resource: str
    entity: str
    """Catalog entity of the records (re-read after a record write)."""
    udf_entity: str | None = None
    """Catalog entity of the records' UDF values (re-read after a UDF write); None: no UDFs written."""
    concurrency: tuple[str, ...] = ("UpdateDate",)
    """Fields sent with every update so Rent Manager can refuse a stale one (409)."""

    @property
    def key(self) -> str:
        return get(self.entity).key

    @property
    def catalog_entity(self) -> Entity:
        return get(self.entity)


WRITABLE: dict[str, Writable] = {w.resource: w for w in (
    Writable("Tenants", "tenants", "tenant_udfs"),
    Writable("Units", "units", "unit_udfs"),
    Writable("Properties", "properties", "property_udfs", ("UpdateDate", "ConcurrencyID")),
    Writable("Contacts", "contacts", "contact_udfs"),
    Writable("ServiceManagerIssues", "service_manager_issues"),
    Writable("Violations", "violations", concurrency=("UpdateDate", "ConcurrencyID")),
)}


def writable(resource: str) -> Writable:
    try:
        return WRITABLE[resource]
    except KeyError:
        raise ValueError(f"{resource!r} is not a resource EstateCore writes to (writable: "
                         f"{', '.join(sorted(WRITABLE))})") from None


def policy_field(kind: str, field: str) -> str:
    """The name a field has in the registry's `writeback.fields` keys (`StatusID`, `udf:Compliance Status`)."""
    return f"udf:{field}" if kind == "udf" else field
