"""The `compliance` schema: what each compliance evaluation computed, and the findings ledger.

Tables (columns = the fields of the engine's output rows, :mod:`rm_pipelines.compliance.portfolio`):

- snapshots, one set per org and evaluation date (`as_of`); evaluating the same date again replaces that
  date's rows, so a re-run is idempotent and earlier dates stay as history: `household_certifications`,
  `household_status` (recertification schedule), `unit_status` (per unit, for the month of `as_of`),
  `program_status`, `assisted_households`, `overall_status`, `data_issues`; `evaluations` logs each run.
- `violations`: the findings ledger, one row per finding (`finding_id`), upserted by every evaluation after
  :func:`rm_pipelines.compliance.violations.reconcile`; rows are never deleted (a fixed problem becomes
  `corrected` with its date).

Household income and asset amounts are encrypted at rest like the EstateCore income fields: a row's amounts
(:data:`SENSITIVE`) travel together as one `enc:` token in its `household_amounts` column (one encryption per
row, not per amount: a 100,000-unit evaluation writes ~550,000 rows). :func:`read_snapshot` restores them as
typed fields, decrypted on request and masked otherwise. Every other decimal is an exact `Fixed(18, 4)`; a
value with more places is refused rather than rounded.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

import orjson
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
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from .. import clock
from ..compliance import portfolio as P
from ..compliance.violations import Finding
from .crypto import MASK, get_keyring
from .types import Fixed, UTCDateTime

SCHEMA = "compliance"
metadata = MetaData(schema=SCHEMA)
DECIMAL_SCALE = 4

SNAPSHOT_SOURCES: dict[str, tuple[type, str]] = {
    "household_certifications": (P.CertificationStatus, "certifications"),
    "household_status": (P.HouseholdStatus, "households"),
    "unit_status": (P.UnitStatus, "units"),
    "program_status": (P.ProgramStatus, "programs"),
    "assisted_households": (P.AssistedHouseholdStatus, "assisted"),
    "overall_status": (P.OverallStatus, "overall"),
    "data_issues": (P.DataIssue, "data_issues"),
}
"""Snapshot table → (the engine's row class, whose fields are the table's columns; its PortfolioResult list)."""
SNAPSHOT_ROWS: dict[str, type] = {name: cls for name, (cls, _) in SNAPSHOT_SOURCES.items()}

SENSITIVE: dict[str, frozenset[str]] = {
    "household_certifications": frozenset({
        "annual_income", "annual_income_whole", "employment_income", "benefit_income", "public_assistance_income",
        "other_income", "asset_income", "net_family_assets", "imputed_asset_income"}),
    "household_status": frozenset({"annual_income"}),
    "unit_status": frozenset({"annual_income", "pct_ami"}),
    "assisted_households": frozenset({"annual_income", "adjusted_income", "ttp"}),
}
"""Household income and asset amounts, and the figures income can be recomputed from (% of AMI with the stored
limits, the total tenant payment): encrypted at rest (together, in `household_amounts`), masked in previews."""
AMOUNTS_COLUMN = "household_amounts"

FINDING_COLUMNS: dict[str, type] = {
    "finding_id": str, "finding_key": str, "code": str, "program": str, "form_8823_line": str,
    "form_8823_category": str, "description": str, "severity": int, "org_id": str, "property_id": str,
    "building_id": str, "bin": str, "unit_id": str, "household_id": str, "occurred_on": date,
    "detected_on": date, "correction_deadline": date, "corrected_on": date, "status": str, "detail": str,
}
"""Columns of `violations` (the fields of ``Finding.as_row()``)."""


class ComplianceStoreError(ValueError):
    """A compliance evaluation cannot be stored (the message says why)."""


def _python_type(annotation: Any) -> type:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if args else annotation


def _column_type(py: type) -> Any:
    if py is bool:
        return Boolean()
    if py is int:
        return BigInteger()
    if py is Decimal:
        return Fixed(18, DECIMAL_SCALE)
    if py is date:
        return Date()
    return Text()


def _fields(row_class: type) -> list[tuple[str, type]]:
    hints = typing.get_type_hints(row_class)
    return [(f.name, _python_type(hints[f.name])) for f in dataclasses.fields(row_class)]


def _snapshot_table(name: str, row_class: type) -> Table:
    sensitive = SENSITIVE.get(name, frozenset())
    cols = [
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("as_of", Date, nullable=False, comment="evaluation date"),
        Column("run_id", String(64), nullable=False, comment="Dagster run (or caller) that evaluated"),
    ]
    for field, py in _fields(row_class):
        if field == "org_id":
            cols.append(Column("org_id", String(64), nullable=False, comment="organisation (registry slug)"))
        elif field not in sensitive:
            cols.append(Column(field, _column_type(py), nullable=True))
    if sensitive:
        cols.append(Column(AMOUNTS_COLUMN, Text, nullable=True,
                           comment="encrypted JSON: " + ", ".join(sorted(sensitive))))
    if not any(c.name == "org_id" for c in cols):
        cols.append(Column("org_id", String(64), nullable=False, comment="organisation (registry slug)"))
    return Table(name, metadata, *cols, Index(f"ix_{name}_org_as_of", "org_id", "as_of"))


SNAPSHOTS: dict[str, Table] = {name: _snapshot_table(name, cls) for name, cls in SNAPSHOT_ROWS.items()}

violations = Table(
    "violations",
    metadata,
    Column("org_id", String(64), primary_key=True, comment="organisation (registry slug)"),
    Column("finding_id", String(40), primary_key=True, comment="stable id: finding key + detection date"),
    *[Column(name, _column_type(py), nullable=name not in ("finding_key", "code", "program", "status"))
      for name, py in FINDING_COLUMNS.items() if name not in ("org_id", "finding_id")],
    Column("property_code", Text, nullable=True, comment="Rent Manager property ShortName"),
    Column("property_name", Text, nullable=True),
    Column("unit_name", Text, nullable=True, comment="Rent Manager unit name"),
    Column("first_run_id", String(64), nullable=False),
    Column("last_run_id", String(64), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_violations_org_status", "org_id", "status"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("org_id", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("evaluated_at", UTCDateTime(), nullable=False),
    Column("units", Integer, nullable=False),
    Column("households", Integer, nullable=False),
    Column("open_findings", Integer, nullable=False),
    Column("new_findings", Integer, nullable=False),
    Column("corrected_findings", Integer, nullable=False),
    Column("data_issues", Integer, nullable=False),
    Column("compliant", Boolean, nullable=False),
    Column("status", Text, nullable=True,
           comment="compliant | not compliant | undetermined (NULL: evaluated before the status existed)"),
    Index("ix_evaluations_org_as_of", "org_id", "as_of"),
)


# -- writing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEvaluation:
    """What one evaluation wrote."""

    org_id: str
    as_of: date
    rows: dict[str, int]
    new_findings: int
    corrected_findings: int
    open_findings: int
    replaced_snapshot: bool


_QUANTUM = Decimal(1).scaleb(-DECIMAL_SCALE)


def _exact(value: Any, table: str, column: str) -> Any:
    if (isinstance(value, Decimal) and value.as_tuple().exponent < -DECIMAL_SCALE  # type: ignore[operator]
            and value != value.quantize(_QUANTUM)):
        raise ComplianceStoreError(
            f"compliance.{table}.{column}: {value} has more than {DECIMAL_SCALE} decimal places; refusing to round")
    return value


def _encrypt_rows(table: str, rows: list[dict[str, Any]]) -> None:
    """Move a row's sensitive amounts into one encrypted JSON token (`household_amounts`)."""
    sensitive = sorted(SENSITIVE.get(table, ()))
    if not sensitive or not rows:
        return
    payloads = []
    for r in rows:
        amounts = {c: str(v) for c in sensitive if (v := r.pop(c)) is not None}
        payloads.append(orjson.dumps(amounts).decode() if amounts else None)
    for r, token in zip(rows, get_keyring().encrypt_many(payloads)):
        r[AMOUNTS_COLUMN] = token


def _prepare(table: str, records: Iterable[Any], org_id: str, as_of: date, run_id: str) -> list[dict[str, Any]]:
    sensitive = SENSITIVE.get(table, frozenset())
    fixed = [f for f, py in _fields(SNAPSHOT_ROWS[table]) if py is Decimal and f not in sensitive]
    rows = []
    for rec in records:
        row = rec.as_row()
        for k in fixed:
            _exact(row[k], table, k)
        row.update(as_of=as_of, run_id=run_id, org_id=org_id)
        rows.append(row)
    _encrypt_rows(table, rows)
    return rows


def latest_as_of(engine: Engine, org_id: str) -> date | None:
    with engine.connect() as conn:
        return conn.execute(select(func.max(evaluations.c.as_of)).where(evaluations.c.org_id == org_id)).scalar()


def ensure_moves_forward(engine: Engine, org_id: str, as_of: date) -> None:
    """Refuse an evaluation date before the org's latest stored one (it would date corrections before
    detections)."""
    latest = latest_as_of(engine, org_id)
    if latest is not None and as_of < latest:
        raise ComplianceStoreError(
            f"org {org_id!r}: evaluation date {as_of} is before the latest stored evaluation {latest}; the findings "
            "ledger only moves forward (evaluate on or after that date)")


def load_findings(engine: Engine, org_id: str) -> list[Finding]:
    """The org's findings ledger as :class:`Finding` values (input of the next evaluation's reconcile)."""
    with engine.connect() as conn:
        rows = conn.execute(select(violations).where(violations.c.org_id == org_id)
                            .order_by(violations.c.detected_on, violations.c.finding_id)).mappings().all()
    return [Finding(
        finding_id=r["finding_id"], key=r["finding_key"], code=r["code"], program=r["program"], org_id=r["org_id"],
        property_id=r["property_id"], building_id=r["building_id"], bin=r["bin"], unit_id=r["unit_id"],
        household_id=r["household_id"], occurred_on=r["occurred_on"], detected_on=r["detected_on"],
        correction_deadline=r["correction_deadline"], corrected_on=r["corrected_on"], status=r["status"],
        detail=r["detail"] or "",
    ) for r in rows]


def _labels(inputs: Any, f: Finding) -> dict[str, Any]:
    if inputs is None:
        return {}
    code, name = inputs.property_labels.get(f.property_id, (None, None))
    return {"property_code": code, "property_name": name,
            "unit_name": inputs.unit_labels.get(f.unit_id) if f.unit_id else None}


def write_evaluation(engine: Engine, org_id: str, result: P.PortfolioResult, run_id: str,
                     inputs: Any = None) -> StoredEvaluation:
    """Store one evaluation in one transaction: replace the snapshots of (org, as_of), upsert the findings
    (with the property and unit names of ``inputs``, the :class:`ComplianceInputs` evaluated, when given).

    ``result`` must come from an evaluation that was given :func:`load_findings` as its previous findings, so
    the ledger only moves forward; an ``as_of`` before the org's latest stored evaluation is refused (it
    would date corrections before detections)."""
    as_of = result.as_of
    ensure_moves_forward(engine, org_id, as_of)
    foreign = {f.org_id for f in result.findings} - {org_id}
    if foreign:
        raise ComplianceStoreError(f"org {org_id!r}: the evaluation holds findings of other orgs {sorted(foreign)}")
    now = clock.utcnow()
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        replaced = False
        for name, table in SNAPSHOTS.items():
            gone = conn.execute(delete(table).where(table.c.org_id == org_id, table.c.as_of == as_of)).rowcount
            replaced = replaced or bool(gone)
            rows = _prepare(name, getattr(result, SNAPSHOT_SOURCES[name][1]), org_id, as_of, run_id)
            for i in range(0, len(rows), 5_000):
                conn.execute(insert(table), rows[i:i + 5_000])
            counts[name] = len(rows)
        existing = {fid: status for fid, status in conn.execute(
            select(violations.c.finding_id, violations.c.status).where(violations.c.org_id == org_id))}
        new_rows, changed = [], []
        corrected = 0
        for f in result.findings:
            row = {**f.as_row(), "last_run_id": run_id, "updated_at": now, **_labels(inputs, f)}
            before = existing.get(f.finding_id)
            if before is None:
                new_rows.append({**row, "first_run_id": run_id})
            else:
                if before != "corrected" and f.status == "corrected":
                    corrected += 1
                changed.append(row)
        if new_rows:
            conn.execute(insert(violations), new_rows)
        if changed:  # one executemany: every known finding gets its new status, detail and run
            conn.execute(update(violations).where(violations.c.org_id == bindparam("key_org"),
                                                  violations.c.finding_id == bindparam("key_finding")),
                         [{"key_org": org_id, "key_finding": r["finding_id"],
                           **{k: v for k, v in r.items() if k not in ("org_id", "finding_id")}} for r in changed])
        counts["violations"] = len(result.findings)
        open_n = sum(1 for f in result.findings if f.status != "corrected")
        overall = next((o for o in result.overall if o.program == "all"), None)
        conn.execute(insert(evaluations).values(
            org_id=org_id, as_of=as_of, run_id=run_id, evaluated_at=now, units=len(result.units),
            households=len(result.households), open_findings=open_n, new_findings=len(new_rows),
            corrected_findings=corrected, data_issues=len(result.data_issues),
            compliant=bool(overall.compliant) if overall else open_n == 0,
            status=overall.status if overall else ("compliant" if open_n == 0 else "not compliant")))
    return StoredEvaluation(org_id, as_of, counts, len(new_rows), corrected, open_n, replaced)


# -- reading ----------------------------------------------------------------------------------------------


def read_snapshot(engine: Engine, table: str, org_id: str, as_of: date | None = None, *,
                  decrypt: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of one snapshot table for an org and date (default: the latest stored evaluation).

    Sensitive amounts are masked unless ``decrypt=True`` (then `Decimal`/`int`)."""
    t = SNAPSHOTS[table]
    as_of = as_of or latest_as_of(engine, org_id)
    if as_of is None:
        return []
    stmt = select(t).where(t.c.org_id == org_id, t.c.as_of == as_of).order_by(t.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    for r in rows:
        r.pop("id", None)
    sensitive = sorted(SENSITIVE.get(table, ()))
    if sensitive and rows:
        types = dict(_fields(SNAPSHOT_ROWS[table]))
        tokens = [r.pop(AMOUNTS_COLUMN) for r in rows]
        if decrypt:
            for r, text_ in zip(rows, get_keyring().decrypt_many(tokens)):
                amounts = orjson.loads(text_) if text_ else {}
                for c in sensitive:
                    v = amounts.get(c)
                    r[c] = None if v is None else int(Decimal(v)) if types[c] is int else types[c](v)
        else:
            for r, token in zip(rows, tokens):
                for c in sensitive:
                    r[c] = MASK if token else None
    return rows


def read_findings(engine: Engine, org_id: str, *, status: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The findings ledger of an org as rows, most severe first (optionally only some statuses)."""
    stmt = select(violations).where(violations.c.org_id == org_id)
    if status is not None:
        stmt = stmt.where(violations.c.status.in_(list(status)))
    stmt = stmt.order_by(violations.c.severity, violations.c.code, violations.c.property_id, violations.c.unit_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def masked(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with encrypted amounts shown as the mask (for previews and logs)."""
    sensitive = SENSITIVE.get(table, frozenset())
    return [{k: (MASK if k in sensitive and v is not None else v) for k, v in r.items()} for r in rows]


def sensitive_columns() -> dict[str, list[str]]:
    """`compliance.<table>` → its encrypted columns (for key rotation)."""
    return {name: [AMOUNTS_COLUMN] for name in SENSITIVE}


__all__ = [
    "ComplianceStoreError", "SNAPSHOTS", "StoredEvaluation", "ensure_moves_forward", "evaluations",
    "latest_as_of", "load_findings", "masked", "metadata", "read_findings", "read_snapshot",
    "sensitive_columns", "violations", "write_evaluation",
]
