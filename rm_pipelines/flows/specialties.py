"""EstateCore → the specialised products' views → the `specialties` schema.

`evaluate(engine, org_id, product, as_of=…, run_id=…)` reads the org's EstateCore tables (sensitive values
decrypted only in memory: guarantor incomes), builds the rules' inputs, evaluates the product and stores its
view; it returns the view (typed models of :mod:`rm_pipelines.specialties.views`) and what was stored.
Student views show the compliance engine's full-time-student findings; they never re-decide them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Engine, select, tuple_

from ..specialties import inputs as IN
from ..specialties import views as V
from ..warehouse import specialties_store as store

log = logging.getLogger(__name__)

PRODUCTS = store.DOMAINS
TABLES_FOR: dict[str, tuple[str, ...]] = {
    "student_housing": ("properties", "units", "unit_types", "residents", "household_members", "leases",
                        "lease_terms", "charge_types", "charges", "payments", "credits", "recurring_charges",
                        "udf_values"),
    "commercial": ("properties", "units", "unit_types", "residents", "leases", "charge_types", "charges",
                   "recurring_charges", "cam_setups", "retail_sales", "udf_values"),
    "hoa": ("properties", "units", "residents", "leases", "charge_types", "charges", "payment_allocations",
            "recurring_charges", "hoa_violations", "hoa_boards", "hoa_board_members", "udf_values"),
    "asset_management": ("properties", "units", "unit_types", "residents", "leases", "lease_terms", "charge_types",
                         "charges", "payment_allocations", "credits", "recurring_charges", "market_rents",
                         "work_orders", "owners", "ownerships", "cam_setups", "udf_values"),
}
# The columns the reader uses (reading only these keeps a 30,000-unit org's ledger cheap to read).
COLUMNS: dict[str, tuple[str, ...]] = {
    "properties": ("name", "short_name", "property_kind", "state"),
    "units": ("property_rm_id", "unit_type_rm_id", "name", "bedrooms", "square_footage"),
    "unit_types": ("name",),
    "residents": ("name", "first_name", "last_name", "status", "property_rm_id", "display_id",
                  "roommate_preferences", "bed_space"),
    "household_members": ("resident_rm_id", "applicant_type", "is_active", "annual_income"),
    "leases": ("resident_rm_id", "unit_rm_id", "property_rm_id", "move_in_date", "move_out_date", "is_commercial"),
    "lease_terms": ("lease_rm_id", "start_date", "end_date", "sign_date"),
    "charge_types": ("code", "is_cam"),
    "charges": ("resident_rm_id", "property_rm_id", "charge_type_rm_id", "amount", "transaction_date", "comment"),
    "payments": ("resident_rm_id", "amount"),
    "payment_allocations": ("charge_rm_id", "amount", "transaction_date"),
    "credits": ("resident_rm_id", "property_rm_id", "charge_type_rm_id", "amount", "transaction_date", "comment"),
    "recurring_charges": ("entity_type", "entity_key_rm_id", "charge_type_rm_id", "amount", "from_date", "to_date"),
    "market_rents": ("unit_rm_id", "amount", "from_date", "to_date"),
    "work_orders": ("property_rm_id", "assigned_open_date", "rm_created_at", "close_date", "is_closed"),
    "owners": ("name",),
    "ownerships": ("owner_rm_id", "property_rm_id", "percentage", "end_date"),
    "hoa_violations": ("property_rm_id", "unit_rm_id", "resident_rm_id", "violation_code_rm_id", "violation_date",
                       "is_closed", "close_date"),
    "hoa_boards": ("property_rm_id", "name"),
    "hoa_board_members": ("board_rm_id", "resident_rm_id", "position", "start_date", "end_date"),
    "cam_setups": ("lease_rm_id", "charge_type_rm_id", "admin_fee_percent", "has_admin_fee", "cap_percent"),
    "retail_sales": ("lease_rm_id", "sales_month", "gross_sales", "excluded_sales"),
    "udf_values": ("parent_type", "parent_rm_id", "name", "value"),
}
# The properties a product looks at (by the property kind): its ledger and leases are read for those only.
KINDS: dict[str, tuple[str, ...] | None] = {
    "student_housing": ("student",), "commercial": ("commercial", "mixed-use"), "hoa": ("hoa",),
    "asset_management": None,
}
BY_PROPERTY = ("charges", "credits", "leases", "residents")  # tables filtered to the product's properties
STUDENT_FINDING = "FULL_TIME_STUDENT_HOUSEHOLD"
UDF_READ = frozenset(IN.UDF_NAMES.values()) | {"Property Kind"}


class SpecialtiesError(ValueError):
    """A product cannot be evaluated (the message says why)."""


@dataclass(frozen=True)
class Evaluation:
    product: str
    view: Any
    stored: store.StoredView
    seconds: float


def read_tables(engine: Engine, org_id: str, names: tuple[str, ...], kinds: tuple[str, ...] | None = None,
                progress: Callable[[str], None] = lambda _m: None) -> dict[str, list[dict[str, Any]]]:
    """The org's live rows of the named EstateCore tables, only the columns the reader uses; with `kinds`, the
    ledger, leases and residents of properties of those kinds only. Sensitive values (guarantor incomes) are
    decrypted in memory only; the UDF values read are the non-sensitive ones the products name."""
    from ..warehouse.models import table as sa_table

    out: dict[str, list[dict[str, Any]]] = {}
    wanted: list[tuple[int, int]] | None = None
    for name in names:
        cols = ("location_id", "rm_id", *COLUMNS[name])
        if name == "household_members":  # guarantors only; their incomes decrypted in memory
            out[name] = _guarantors(engine, org_id)
        else:
            t = sa_table(name)
            stmt = select(*(t.c[c] for c in cols)).where(t.c.org_id == org_id, t.c.deleted_at.is_(None))
            if name == "udf_values":
                stmt = stmt.where(t.c.name.in_(sorted(UDF_READ)))
            if wanted is not None and name in BY_PROPERTY:
                stmt = stmt.where(tuple_(t.c.location_id, t.c.property_rm_id).in_(wanted))
            with engine.connect() as conn:
                out[name] = [dict(zip(cols, row)) for row in conn.execute(stmt)]
        if name == "properties" and kinds is not None:
            wanted = [(p["location_id"], p["rm_id"]) for p in out[name] if (p.get("property_kind") or "") in kinds]
            wanted = wanted or [(-1, -1)]
        progress(f"read estatecore.{name}: {len(out[name]):,} rows")
    return out


def _guarantors(engine: Engine, org_id: str) -> list[dict[str, Any]]:
    from ..warehouse.crypto import get_keyring
    from ..warehouse.models import table as sa_table
    from ..warehouse.write import canon_from_plain

    t = sa_table("household_members")
    stmt = select(t.c.location_id, t.c.rm_id, *(t.c[c] for c in COLUMNS["household_members"])).where(
        t.c.org_id == org_id, t.c.deleted_at.is_(None), t.c.applicant_type == "Guarantor")
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    plain = get_keyring().decrypt_many([r["annual_income"] for r in rows])
    for r, v in zip(rows, plain):
        canonical = canon_from_plain("money", v) if v is not None else None
        r["annual_income"] = None if canonical is None else Decimal(int(canonical)).scaleb(-2)
    return rows


def violation_codes(engine: Engine, org_id: str) -> dict[str, str]:
    """ViolationCodeID → Code from the landed Rent Manager violation codes (EstateCore keeps only the id)."""
    from ..warehouse.raw import RAW_TABLES

    t = RAW_TABLES["violation_codes"]
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.location_id, t.c.rm_id, t.c.payload).where(
            t.c.org_id == org_id, t.c.deleted_at.is_(None))).all()
    out = {}
    for loc, key, payload in rows:
        try:
            out[f"{loc}:{key}"] = str(orjson.loads(payload).get("Code") or "").upper()
        except (orjson.JSONDecodeError, AttributeError):
            continue
    return out


def lihtc_student_findings(engine: Engine, org_id: str) -> list[V.LihtcStudentFinding]:
    """The compliance ledger's open full-time-student findings (Form 8823 line 11l), as the engine decided them."""
    from ..warehouse import compliance_store

    rows = compliance_store.read_findings(engine, org_id, status=("open", "past-due"))
    return [V.LihtcStudentFinding(r["finding_id"], r.get("property_code") or r.get("property_id") or "",
                                  r.get("unit_name") or r.get("unit_id") or "", r["status"], r.get("detected_on"),
                                  r.get("detail") or "")
            for r in rows if r["code"] == STUDENT_FINDING]


def _normalize_university() -> Callable[[str], str]:
    """The mapping's named transform `normalize_university_name`, applied to single values."""
    import pandas as pd

    from ..warehouse import transforms

    fn = transforms.get("normalize_university_name").fn

    def norm(text: str) -> str:
        out, _failed = fn(pd.Series([text], dtype=object), None)
        return out.iloc[0] or text

    return norm


def build_view(tables: dict[str, list[dict[str, Any]]], product: str, as_of: date, *,
               codes: dict[str, str] | None = None, findings: list[V.LihtcStudentFinding] = (),
               normalize: Callable[[str], str] = lambda s: s, year: int | None = None,
               base: IN.Base | None = None) -> Any:
    """Inputs and rules of one product, from EstateCore rows (no database). `base` reuses the indexes of the
    same rows built for another product."""
    if base is None:
        base = IN.Base(tables, as_of, IN.UDF_NAMES, codes or {})
    else:
        base.issues = []
    if product == "student_housing":
        inp = IN.student_inputs(base, normalize)
        return V.evaluate_student_housing(inp, as_of, list(findings), base.issues)
    if product == "commercial":
        inp = IN.commercial_inputs(base, [year or as_of.year - 1])
        return V.evaluate_commercial(inp, as_of, year, base.issues)
    if product == "hoa":
        return V.evaluate_hoa(IN.hoa_inputs(base), as_of, base.issues)
    if product == "asset_management":
        pools = IN.commercial_inputs(base, []).pools
        return V.evaluate_asset_management(IN.asset_inputs(base, pools), as_of, issues=base.issues)
    raise SpecialtiesError(f"unknown product {product!r}; known: {', '.join(PRODUCTS)}")


def evaluate(engine: Engine, org_id: str, product: str, *, as_of: date, run_id: str,
             progress: Callable[[str], None] = log.info, year: int | None = None) -> Evaluation:
    """Read, evaluate and store one product of one org for `as_of`."""
    if product not in PRODUCTS:
        raise SpecialtiesError(f"unknown product {product!r}; known: {', '.join(PRODUCTS)}")
    t0 = time.perf_counter()
    tables = read_tables(engine, org_id, TABLES_FOR[product], KINDS[product], progress)
    extra: dict[str, Any] = {}
    if product == "hoa":
        extra["codes"] = violation_codes(engine, org_id)
    if product == "student_housing":
        extra["findings"] = lihtc_student_findings(engine, org_id)
        extra["normalize"] = _normalize_university()
    view = build_view(tables, product, as_of, year=year, **extra)
    progress(f"{product}: evaluated on {as_of}; {len(view.issues)} data issue(s)")
    stored = store.write_view(engine, org_id, product, view, run_id)
    progress(f"{product}: stored " + ", ".join(f"specialties.{k} {v:,}" for k, v in stored.rows.items()))
    return Evaluation(product, view, stored, time.perf_counter() - t0)


def evaluate_all(engine: Engine, org_id: str, *, as_of: date, run_id: str,
                 progress: Callable[[str], None] = log.info) -> dict[str, Evaluation]:
    """All four products from one read of the org's tables (what a full evaluation of an org costs once)."""
    t0 = time.perf_counter()
    names = tuple(dict.fromkeys(n for p in PRODUCTS for n in TABLES_FOR[p]))
    tables = read_tables(engine, org_id, names, None, progress)
    base = IN.Base(tables, as_of, IN.UDF_NAMES, violation_codes(engine, org_id))
    findings, normalize = lihtc_student_findings(engine, org_id), _normalize_university()
    out = {}
    for product in PRODUCTS:
        t1 = time.perf_counter()
        view = build_view(tables, product, as_of, findings=findings, normalize=normalize, base=base)
        stored = store.write_view(engine, org_id, product, view, run_id)
        out[product] = Evaluation(product, view, stored, time.perf_counter() - t1)
    progress(f"all products evaluated in {time.perf_counter() - t0:.1f} s")
    return out
