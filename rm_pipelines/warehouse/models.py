"""SQLAlchemy 2 models of the EstateCore tables, generated from the table catalog (tables.py).

`TABLES[name]` is the Core `Table`; `MODELS[name]` a declarative ORM class over it (e.g. `models.Unit`).
On PostgreSQL the tables live in schema `estatecore`; on SQLite the engine maps that schema to the main file.

Every table: surrogate `id`, `org_id`, `location_id`, the Rent Manager key `rm_id`, a unique natural key
(`uq_<table>_key`), created_at / updated_at / deleted_at (UTC), the source content hash and the mapping version.
Foreign keys are composite on the natural key: (org_id, location_id, <parent>_rm_id) → parent (org_id,
location_id, rm_id), so rows of two orgs can never reference each other.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase

from . import tables as T
from .types import Fixed, UTCDateTime

SCHEMA = "estatecore"
metadata = MetaData(schema=SCHEMA)


def sa_type(kind: str, sensitive: bool = False):  # noqa: ANN201
    if sensitive:
        return Text()
    return {
        "int": Integer(),
        "bigint": BigInteger(),
        "text": Text(),
        "money": Fixed(14, 2),
        "decimal": Fixed(18, 4),
        "date": Date(),
        "datetime": UTCDateTime(),
        "bool": Boolean(),
        "json": Text(),
    }[kind]


def standard_columns(spec: T.TableSpec) -> list[str]:
    """The standard columns a table has (derived tables have no Rent Manager key or timestamps)."""
    if spec.kind == "derived":
        return [n for n in T.STANDARD_NAMES if n not in ("rm_id", "rm_created_at", "rm_updated_at", "custom")]
    return list(T.STANDARD_NAMES)


def _table(spec: T.TableSpec) -> Table:
    std = standard_columns(spec)
    cols: list = []
    for name in std:
        if name == "id":
            cols.append(Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True,
                               comment="surrogate key"))
        elif name == "org_id":
            cols.append(Column("org_id", String(64), nullable=False, comment="organisation (registry slug)"))
        elif name == "location_id":
            cols.append(Column("location_id", Integer, nullable=False, comment="Rent Manager location"))
        elif name == "rm_id":
            key_field = None
            if spec.sources:
                from ..rentmanager import catalog

                key_field = catalog.get(spec.sources[0]).key
            cols.append(Column("rm_id", BigInteger, nullable=False, comment=f"Rent Manager {key_field or 'key'}"))
        elif name in ("source_hash",):
            cols.append(Column(name, String(32), nullable=True, comment=spec.column(name).description))
        elif name in ("mapping_version",):
            cols.append(Column(name, String(32), nullable=True, comment=spec.column(name).description))
        elif name == "load_run_id":
            cols.append(Column(name, String(64), nullable=True, comment=spec.column(name).description))
        elif name in ("created_at", "updated_at"):
            cols.append(Column(name, UTCDateTime(), nullable=False, comment=spec.column(name).description))
        else:
            col = spec.column(name)
            cols.append(Column(name, sa_type(col.kind), nullable=True, comment=col.description))
        if name == "rm_id":
            # business columns follow the key
            for col in spec.columns:
                comment = col.description or (f"Rent Manager {col.field}" if col.field else
                                              f"UDF '{col.udf}'" if col.udf else None)
                if col.sensitive:
                    comment = (comment or "") + " [encrypted]"
                cols.append(Column(col.name, sa_type(col.kind, col.sensitive),
                                   nullable=not (col.required and not col.udf), comment=comment))
    if "rm_id" not in std:
        for col in spec.columns:
            cols.insert(3 + spec.columns.index(col), Column(col.name, sa_type(col.kind, col.sensitive),
                                                            nullable=not col.required, comment=col.description or None))
    constraints: list = [UniqueConstraint(*spec.key, name=f"uq_{spec.name}_key")]
    for col in spec.refs:
        parent = T.get(col.ref)
        parent_key = parent.key
        constraints.append(ForeignKeyConstraint(
            ["org_id", "location_id", col.name],
            [f"{SCHEMA}.{parent.name}.{k}" for k in parent_key],
            name=f"fk_{spec.name}_{col.name}",
        ))
    for cols_ in spec.indexes:
        constraints.append(Index(f"ix_{spec.name}_{'_'.join(c for c in cols_ if c not in ('org_id', 'location_id'))}",
                                 *cols_))
    return Table(spec.name, metadata, *cols, *constraints, comment=spec.description)


TABLES: dict[str, Table] = {spec.name: _table(spec) for spec in T.TABLES}


class Base(DeclarativeBase):
    metadata = metadata


def _class_name(name: str) -> str:
    singular = {"properties": "Property", "buildings": "Building", "units": "Unit", "unit_types": "UnitType",
                "market_rents": "MarketRent", "residents": "Resident", "household_members": "HouseholdMember",
                "leases": "Lease", "lease_terms": "LeaseTerm", "charge_types": "ChargeType", "charges": "Charge",
                "payments": "Payment", "payment_allocations": "PaymentAllocation", "credits": "Credit",
                "recurring_charges": "RecurringCharge", "subsidies": "Subsidy",
                "resident_subsidies": "ResidentSubsidy", "vendors": "Vendor", "work_orders": "WorkOrder",
                "owners": "Owner", "ownerships": "Ownership", "prospects": "Prospect",
                "hoa_violations": "HoaViolation", "hoa_boards": "HoaBoard", "hoa_board_members": "HoaBoardMember",
                "cam_setups": "CamSetup", "cam_amortizations": "CamAmortization", "retail_sales": "RetailSale",
                "udf_values": "UdfValue"}
    return singular.get(name) or "".join(p.title() for p in name.split("_"))


MODELS: dict[str, type[Base]] = {
    name: type(_class_name(name), (Base,), {"__table__": table, "__doc__": T.get(name).description})
    for name, table in TABLES.items()
}
globals().update({cls.__name__: cls for cls in MODELS.values()})


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown EstateCore table {name!r}; known: {', '.join(sorted(TABLES))}") from None
