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
from typing import Any

import orjson
from sqlalchemy import Engine, select

from ..specialties import inputs as IN
from ..specialties import views as V
from ..warehouse import specialties_store as store
from ..warehouse.read import read_frame

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
                         "work_orders", "owners", "ownerships", "udf_values"),
}
STUDENT_FINDING = "FULL_TIME_STUDENT_HOUSEHOLD"


class SpecialtiesError(ValueError):
    """A product cannot be evaluated (the message says why)."""


@dataclass(frozen=True)
class Evaluation:
    product: str
    view: Any
    stored: store.StoredView
    seconds: float


def read_tables(engine: Engine, org_id: str, names: tuple[str, ...],
                progress: Callable[[str], None] = lambda _m: None) -> dict[str, list[dict[str, Any]]]:
    """The org's live rows of the named EstateCore tables (sensitive values decrypted in memory only)."""
    out = {}
    for name in names:
        df = read_frame(engine, name, org_id, decrypt=name == "household_members")
        out[name] = df.astype(object).where(df.notna(), None).to_dict("records")
        progress(f"read estatecore.{name}: {len(out[name]):,} rows")
    return out


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
               normalize: Callable[[str], str] = lambda s: s, year: int | None = None) -> Any:
    """Inputs and rules of one product, from EstateCore rows (no database)."""
    base = IN.Base(tables, as_of, IN.UDF_NAMES, codes or {})
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
    names = TABLES_FOR[product] + (("cam_setups",) if product == "asset_management" else ())
    tables = read_tables(engine, org_id, names, progress)
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
