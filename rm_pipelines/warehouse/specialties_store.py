"""The `specialties` schema: what each evaluation of the specialised products computed, per org and date.

One snapshot table per view row (:mod:`rm_pipelines.specialties.views`), its columns the row's fields: amounts in
integer cents (`*_cents`), exact ratios as NUMERIC (shares to 6 places, rates to 4), nested values as JSON text.
Evaluating an org's product again on the same date replaces that date's rows; earlier dates stay as history.
`runs` logs every evaluation. On SQLite the schema is an attached file beside the main one, like `compliance`.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)

from .. import clock
from ..specialties import asset_management as AM
from ..specialties import commercial as CM
from ..specialties import hoa as HO
from ..specialties import hoa_governance as HG
from ..specialties import inputs as IN
from ..specialties import percentage_rent as PR
from ..specialties import roommates as RM
from ..specialties import student_housing as SH
from ..specialties import tenant_improvements as TI
from ..specialties import views as V
from .types import Fixed, UTCDateTime

SCHEMA = "specialties"
metadata = MetaData(schema=SCHEMA)

# table → (row class, domain, the view attribute holding the rows)
SNAPSHOTS: dict[str, tuple[type, str, str]] = {
    "student_beds": (SH.BedStatus, "student_housing", "beds"),
    "student_prelease": (SH.PreleasePace, "student_housing", "pace"),
    "student_guarantors": (SH.GuarantorCoverage, "student_housing", "guarantors"),
    "student_matches": (RM.Match, "student_housing", "matches"),
    "student_applications": (V.StudentApplication, "student_housing", "applications"),
    "student_installments": (V.Installment, "student_housing", "installments"),
    "cam_reconciliations": (CM.CamReconciliation, "commercial", "cam"),
    "percentage_rent": (PR.PercentageRent, "commercial", "percentage_rent"),
    "ti_allowances": (TI.TiStatus, "commercial", "ti"),
    "hoa_assessments": (V.LotAssessment, "hoa", "assessments"),
    "hoa_delinquency": (HO.AccountDelinquency, "hoa", "delinquency"),
    "hoa_violation_steps": (HG.ViolationStep, "hoa", "violations"),
    "hoa_board": (HG.BoardSeat, "hoa", "board"),
    "hoa_budget_checks": (HO.BudgetCheck, "hoa", "budgets"),
    "am_monthly": (AM.MonthMetrics, "asset_management", "months"),
    "am_lease_expirations": (AM.Expiration, "asset_management", "expirations"),
    "data_issues": (IN.Issue, "", "issues"),
}
DOMAINS = ("student_housing", "commercial", "hoa", "asset_management")


class SpecialtiesStoreError(ValueError):
    """An evaluation cannot be stored (the message says why)."""


def _py(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if args and typing.get_origin(annotation) in (typing.Union, __import__("types").UnionType) \
        else annotation


def _fields(row_class: type) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(row_class)
    return [(f.name, _py(hints[f.name])) for f in dataclasses.fields(row_class)]


def _column_type(py: Any) -> Any:
    if py is bool:
        return Boolean()
    if py is int:
        return BigInteger()
    if py is Fraction:
        return Fixed(18, 6)
    if py in (Decimal, float):
        return Fixed(18, 4)
    if py is date:
        return Date()
    return Text()


def _table(name: str, row_class: type) -> Table:
    cols = [Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
            Column("org_id", String(64), nullable=False, comment="organisation (registry slug)"),
            Column("as_of", Date, nullable=False, comment="evaluation date"),
            Column("run_id", String(64), nullable=False, comment="Dagster run (or caller) that evaluated")]
    if name == "data_issues":
        cols.append(Column("product", String(32), nullable=False, comment="student_housing | commercial | hoa | …"))
    for field, py in _fields(row_class):
        cols.append(Column(field, _column_type(py), nullable=True))
    return Table(name, metadata, *cols, Index(f"ix_{name}_org_as_of", "org_id", "as_of"))


TABLES: dict[str, Table] = {name: _table(name, cls) for name, (cls, _d, _a) in SNAPSHOTS.items()}

runs = Table(
    "runs", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", String(64), nullable=False),
    Column("product", String(32), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("evaluated_at", UTCDateTime(), nullable=False),
    Column("rows", Text, nullable=False, comment="JSON: rows written per table"),
    Column("issues", Integer, nullable=False),
    Index("ix_runs_org_product_as_of", "org_id", "product", "as_of"),
)

_SIX = Decimal("0.000001")


def _json_default(v: Any) -> Any:
    if dataclasses.is_dataclass(v):
        return dataclasses.asdict(v)
    if isinstance(v, (date, Decimal)):
        return str(v)
    if isinstance(v, Fraction):
        return str(_fraction(v))
    raise TypeError(type(v).__name__)


def _fraction(v: Fraction) -> Decimal:
    return (Decimal(v.numerator) / Decimal(v.denominator)).quantize(_SIX, ROUND_HALF_UP)


def as_row(record: Any) -> dict[str, Any]:
    """A view row as a storable dict: fractions to 6 places (half up), nested values as JSON."""
    out = {}
    for f in dataclasses.fields(record):
        v = getattr(record, f.name)
        if isinstance(v, Fraction):
            v = _fraction(v)
        elif isinstance(v, (dict, list, tuple)):
            v = json.dumps(v, default=_json_default, sort_keys=True)
        out[f.name] = v
    return out


@dataclass(frozen=True)
class StoredView:
    org_id: str
    product: str
    as_of: date
    rows: dict[str, int]


def write_view(engine: Engine, org_id: str, product: str, view: Any, run_id: str) -> StoredView:
    """Store one product's view for (org, as_of) in one transaction, replacing that date's rows."""
    if product not in DOMAINS:
        raise SpecialtiesStoreError(f"unknown product {product!r}; known: {', '.join(DOMAINS)}")
    as_of = view.as_of
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for name, (_cls, domain, attr) in SNAPSHOTS.items():
            table = TABLES[name]
            if name == "data_issues":
                conn.execute(delete(table).where(table.c.org_id == org_id, table.c.as_of == as_of,
                                                 table.c.product == product))
                extra = {"product": product}
            elif domain == product:
                conn.execute(delete(table).where(table.c.org_id == org_id, table.c.as_of == as_of))
                extra = {}
            else:
                continue
            rows = [{**as_row(r), **extra, "org_id": org_id, "as_of": as_of, "run_id": run_id}
                    for r in getattr(view, attr)]
            for i in range(0, len(rows), 5_000):
                conn.execute(insert(table), rows[i:i + 5_000])
            counts[name] = len(rows)
        conn.execute(insert(runs).values(org_id=org_id, product=product, as_of=as_of, run_id=run_id,
                                         evaluated_at=clock.utcnow(), rows=json.dumps(counts),
                                         issues=len(view.issues)))
    return StoredView(org_id, product, as_of, counts)


def latest_as_of(engine: Engine, org_id: str, product: str) -> date | None:
    with engine.connect() as conn:
        return conn.execute(select(func.max(runs.c.as_of)).where(runs.c.org_id == org_id,
                                                                 runs.c.product == product)).scalar()


def latest_run(engine: Engine, org_id: str, product: str, start: date, end: date) -> dict[str, Any] | None:
    """The latest stored evaluation of a product dated in [start, end] (its `runs` row), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.org_id == org_id, runs.c.product == product,
                                              runs.c.as_of >= start, runs.c.as_of <= end)
                           .order_by(runs.c.as_of.desc(), runs.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def run_on(engine: Engine, org_id: str, product: str, as_of: date) -> dict[str, Any] | None:
    """The stored evaluation (`runs` row) whose rows a product's tables hold for `as_of`: the last of that day."""
    return latest_run(engine, org_id, product, as_of, as_of)


def latest_as_of_where(engine: Engine, table: str, org_id: str, column: str, low: Any, high: Any) -> date | None:
    """The latest evaluation date whose rows of `table` have `column` in [low, high] (e.g. the latest commercial
    evaluation holding CAM reconciliations of 2025)."""
    t = TABLES[table]
    with engine.connect() as conn:
        return conn.execute(select(func.max(t.c.as_of)).where(t.c.org_id == org_id, t.c[column] >= low,
                                                               t.c[column] <= high)).scalar()


def read_rows(engine: Engine, table: str, org_id: str, as_of: date | None = None) -> list[dict[str, Any]]:
    """A snapshot table's rows of an org on a date (default: the latest evaluation of the table's product)."""
    t = TABLES[table]
    product = SNAPSHOTS[table][1]
    as_of = as_of or (latest_as_of(engine, org_id, product) if product else None)
    if as_of is None:
        return []
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(t).where(t.c.org_id == org_id, t.c.as_of == as_of)
                                              .order_by(t.c.id)).mappings()]
    for r in rows:
        r.pop("id", None)
    return rows


__all__ = ["DOMAINS", "SNAPSHOTS", "SpecialtiesStoreError", "StoredView", "TABLES", "as_row", "latest_as_of",
           "latest_as_of_where", "latest_run", "metadata", "read_rows", "run_on", "runs", "write_view"]
