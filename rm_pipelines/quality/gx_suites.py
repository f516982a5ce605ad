"""Great Expectations 1.x suites on the EstateCore tables, defined in code and run as Dagster asset checks.

`run_suite(engine, table, org_id)` reads the org's live rows (decrypting only what a rule needs, e.g. birth
dates for ages), adds derived columns for rules GX cannot express on one frame (referential integrity flags,
ages, per-property ownership totals), and validates the frame against the table's suite in a fresh in-memory
GX context (no data-docs site: nothing on disk) with progress bars and analytics off. GX is imported lazily;
when the import or the validation fails the result is a failure (`passed=False`, `error=…`) — a check can never
pass because GX did not run.

Rules per table are in `SUITES` (table → builder); `suite_names()` / `expectations_for(table)` describe them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from .. import clock
from ..warehouse import tables as T
from ..warehouse.read import read_frame

Spec = tuple[str, dict[str, Any]]  # (GX expectation class name, kwargs)


@dataclass
class FailedExpectation:
    expectation: str
    column: str | None
    unexpected_count: int | None
    unexpected_percent: float | None
    details: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SuiteResult:
    table: str
    org_id: str
    passed: bool
    success_percent: float
    evaluated_rows: int
    expectations: int
    failed: list[FailedExpectation] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "success_percent": round(self.success_percent, 3),
            "evaluated_rows": self.evaluated_rows,
            "expectations": self.expectations,
            "failed": [f.as_dict() for f in self.failed],
            "error": self.error or "",
        }


# ------------------------------------------------------------------------------------------------ helpers


def _unique_key(table: str) -> list[Spec]:
    key = [c for c in T.get(table).key if c != "org_id"]
    return [("ExpectCompoundColumnsToBeUnique", {"column_list": key})] if len(key) > 1 else \
        [("ExpectColumnValuesToBeUnique", {"column": key[0]})]


def _not_null(*cols: str) -> list[Spec]:
    return [("ExpectColumnValuesToNotBeNull", {"column": c}) for c in cols]


def _present(col: str) -> Spec:
    return ("ExpectColumnValuesToBeInSet", {"column": col, "value_set": [True]})


def _between(col: str, lo: Any = None, hi: Any = None, mostly: float | None = None) -> Spec:
    kw: dict[str, Any] = {"column": col, "min_value": lo, "max_value": hi}
    if mostly is not None:
        kw["mostly"] = mostly
    return ("ExpectColumnValuesToBeBetween", kw)


def _ordered(a: str, b: str, mostly: float | None = None) -> Spec:
    """a ≤ b where both are present."""
    kw: dict[str, Any] = {"column_A": b, "column_B": a, "or_equal": True, "ignore_row_if": "either_value_is_missing"}
    if mostly is not None:
        kw["mostly"] = mostly
    return ("ExpectColumnPairValuesAToBeGreaterThanB", kw)


def _in_set(col: str, values: list[Any]) -> Spec:
    return ("ExpectColumnValuesToBeInSet", {"column": col, "value_set": values})


# Derivations: extra columns computed before validation -----------------------------------------------------


def _parent_flag(engine: Engine, org_id: str, df: pd.DataFrame, column: str, parent: str, flag: str) -> None:
    """flag = the referenced parent exists and is live (null references count as present)."""
    keys = read_frame(engine, parent, org_id, columns=["location_id", "rm_id"])
    live = set(zip(keys["location_id"], keys["rm_id"]))
    df[flag] = [True if pd.isna(v) else (loc, int(v)) in live for loc, v in zip(df["location_id"], df[column])]


def _ages(df: pd.DataFrame) -> None:
    today = clock.today()
    df["age"] = [None if d is None or pd.isna(d) else
                 today.year - d.year - ((today.month, today.day) < (d.month, d.day)) for d in df["date_of_birth"]]
    df["age"] = pd.to_numeric(df["age"], errors="coerce")


# ------------------------------------------------------------------------------------------------ suites

Builder = Callable[[], list[Spec]]

SUITES: dict[str, Builder] = {
    "properties": lambda: [*_unique_key("properties"), *_not_null("name"),
                           _in_set("lihtc_election", ["20-50", "40-60", "income-averaging"]),
                           _in_set("bond_election", ["20-50", "40-60"]),
                           _between("square_footage", 0, 50_000_000)],
    "units": lambda: [*_unique_key("units"), *_not_null("name", "property_rm_id"), _present("property_present"),
                      _between("bedrooms", 0, 10), _between("bathrooms", 0, 10), _between("square_footage", 0, 1_000_000),
                      _in_set("ami_designation", [20, 30, 40, 50, 60, 70, 80]),
                      _between("utility_allowance", 0, 2_000)],
    "buildings": lambda: [*_unique_key("buildings"), *_not_null("bin"), _present("property_present"),
                          _between("unit_count", 1, 5_000)],
    "unit_types": lambda: [*_unique_key("unit_types"), _between("bedrooms", 0, 10), _between("bathrooms", 0, 10)],
    "market_rents": lambda: [*_unique_key("market_rents"), _present("unit_present"),
                             _between("amount", 50, 100_000), _ordered("from_date", "to_date")],
    "residents": lambda: [*_unique_key("residents"), *_not_null("name"),
                          _in_set("status", list(T.TENANT_STATUSES)), _present("property_present"),
                          _between("certified_household_size", 1, 20),
                          _ordered("certification_effective_date", "next_recertification_due")],
    "household_members": lambda: [*_unique_key("household_members"), _present("resident_present"),
                                  _between("age", 0, 120),
                                  _in_set("relationship", ["Head", "Spouse", "Co-Head", "Child", "Other Adult",
                                                           "Guarantor", "Live-in Aide", "Foster Child"]),
                                  _in_set("student_status", ["Full-time", "Part-time", "None"]),
                                  _between("annual_income", 0, 10_000_000), _between("employment_income", 0, 10_000_000),
                                  _between("asset_cash_value", 0, 100_000_000)],
    "leases": lambda: [*_unique_key("leases"), _present("unit_present"), _present("resident_present"),
                       _present("property_present"), _ordered("move_in_date", "move_out_date")],
    "lease_terms": lambda: [*_unique_key("lease_terms"), _present("lease_present"), _ordered("start_date", "end_date"),
                            _between("lease_length_months", 0, 600)],
    "charge_types": lambda: [*_unique_key("charge_types"), *_not_null("code")],
    "charges": lambda: [*_unique_key("charges"), _present("resident_present"), _present("charge_type_present"),
                        *_not_null("transaction_date"), _between("amount", 0, 1_000_000),
                        ("ExpectColumnPairValuesAToBeGreaterThanB",
                         {"column_A": "amount", "column_B": "amount_allocated", "or_equal": True,
                          "ignore_row_if": "either_value_is_missing"})],
    "payments": lambda: [*_unique_key("payments"), _present("resident_present"), *_not_null("transaction_date"),
                         _between("amount", 0, 1_000_000)],
    "payment_allocations": lambda: [*_unique_key("payment_allocations"), _present("payment_present"),
                                    _present("charge_present"), _between("amount", -1_000_000, 1_000_000)],
    "credits": lambda: [*_unique_key("credits"), _present("resident_present"), _between("amount", 0, 1_000_000)],
    "recurring_charges": lambda: [*_unique_key("recurring_charges"), _between("amount", 0, 1_000_000),
                                  _between("rent_amount", 25, 100_000),
                                  _ordered("from_date", "to_date", mostly=0.99)],  # voided charges end before start
    "subsidies": lambda: [*_unique_key("subsidies"), *_not_null("name")],
    "resident_subsidies": lambda: [*_unique_key("resident_subsidies"), _present("resident_present"),
                                   _present("subsidy_present"), _between("amount", 0, 10_000),
                                   _ordered("start_date", "end_date")],
    "vendors": lambda: [*_unique_key("vendors"), *_not_null("name")],
    "work_orders": lambda: [*_unique_key("work_orders"), _present("vendor_present"),
                            _ordered("assigned_open_date", "close_date")],
    "owners": lambda: [*_unique_key("owners"), *_not_null("name")],
    "ownerships": lambda: [*_unique_key("ownerships"), _present("owner_present"), _present("property_present"),
                           _between("percentage", 0, 100), _between("property_share_total", 0, 100.0001),
                           _ordered("start_date", "end_date")],
    "prospects": lambda: [*_unique_key("prospects"), _between("people_count", 0, 20),
                          _ordered("rent_min", "rent_max")],
    "hoa_violations": lambda: [*_unique_key("hoa_violations"), _present("property_present"),
                               _ordered("violation_date", "close_date")],
    "hoa_boards": lambda: [*_unique_key("hoa_boards"), *_not_null("name")],
    "hoa_board_members": lambda: [*_unique_key("hoa_board_members"), _present("board_present"),
                                  _ordered("start_date", "end_date")],
    "cam_setups": lambda: [*_unique_key("cam_setups"), _present("lease_present"),
                           _between("pro_rata_share_percent", 0, 100), _between("admin_fee_percent", 0, 100),
                           _between("base_year_amount", 0, 100_000_000)],
    "cam_amortizations": lambda: [*_unique_key("cam_amortizations"), _between("amount", 0, 100_000_000),
                                  _between("num_periods", 1, 600)],
    "retail_sales": lambda: [*_unique_key("retail_sales"), _present("lease_present"), _between("gross_sales", 0, None),
                             ("ExpectColumnPairValuesAToBeGreaterThanB",
                              {"column_A": "gross_sales", "column_B": "excluded_sales", "or_equal": True,
                               "ignore_row_if": "either_value_is_missing"})],
    "udf_values": lambda: [*_unique_key("udf_values"), *_not_null("name", "parent_rm_id"),
                           _in_set("parent_type", list(T.PARENT_TYPES))],
}

# Referential-integrity flags: table → [(column, parent table, flag column)]
PRESENCE: dict[str, list[tuple[str, str, str]]] = {}
for _spec in T.TABLES:
    flags = []
    for _col in _spec.refs:
        stem = _col.name[: -len("_rm_id")] if _col.name.endswith("_rm_id") else _col.name
        flags.append((_col.name, _col.ref, f"{stem}_present"))
    PRESENCE[_spec.name] = flags


def expectations_for(table: str) -> list[Spec]:
    return SUITES[table]()


def suite_names() -> list[str]:
    return sorted(SUITES)


def describe(table: str) -> str:
    """One line per expectation, for the asset check description."""
    lines = []
    for name, kw in expectations_for(table):
        args = ", ".join(f"{k}={v}" for k, v in kw.items() if v is not None)
        lines.append(f"- {name}({args})")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ frames


def build_frame(engine: Engine, table: str, org_id: str) -> pd.DataFrame:
    """The org's live rows plus the derived columns the suite checks."""
    spec = T.get(table)
    used = _columns_used(table)
    # decrypt only when a rule reads a sensitive column (household ages, incomes …)
    needs_decrypt = table == "household_members" or bool(used & set(spec.sensitive_columns))
    df = read_frame(engine, table, org_id, decrypt=needs_decrypt)
    if not needs_decrypt:
        df = df.drop(columns=[c for c in spec.sensitive_columns if c in df.columns])
    for column, parent, flag in PRESENCE.get(table, []):
        if column in df.columns:
            _parent_flag(engine, org_id, df, column, parent, flag)
    if table == "household_members":
        _ages(df)
    if table == "recurring_charges":
        rent_types = read_frame(engine, "charge_types", org_id, columns=["location_id", "rm_id", "code"])
        rent = set(zip(rent_types.loc[rent_types["code"].isin(["RENT", "RNT", "RC"]), "location_id"],
                       rent_types.loc[rent_types["code"].isin(["RENT", "RNT", "RC"]), "rm_id"]))
        df["rent_amount"] = [a if (loc, ct) in rent else None
                             for loc, ct, a in zip(df["location_id"], df["charge_type_rm_id"], df["amount"])]
    if table == "ownerships" and len(df):
        share = pd.to_numeric(df["percentage"], errors="coerce")
        live_now = df["end_date"].isna() | (pd.to_datetime(df["end_date"]) >= pd.Timestamp(clock.today()))
        totals = share.where(live_now, 0).groupby([df["location_id"], df["property_rm_id"]]).transform("sum")
        df["property_share_total"] = totals
    # GX compares numbers and dates: exact decimals → float, dates → datetime64 (validation only, not storage)
    for col in list(df.columns):
        kind = spec.column(col).kind if spec.has_column(col) or col in T.STANDARD_NAMES else None
        if col in ("rent_amount",):
            kind = "money"
        if kind in T.SCALE:
            df[col] = pd.to_numeric(df[col].map(lambda v: None if v is None else float(v)), errors="coerce")
        elif kind == "date":
            df[col] = pd.to_datetime(df[col], errors="coerce")
        elif kind == "datetime":
            df[col] = pd.to_datetime(df[col], errors="coerce", utc=True)
    for needed in used:
        if needed not in df.columns:
            df[needed] = pd.Series([None] * len(df), dtype=object)
    return df


def _columns_used(table: str) -> set[str]:
    out: set[str] = set()
    for _, kw in expectations_for(table):
        out |= {kw[k] for k in ("column", "column_A", "column_B") if kw.get(k)}
        out |= set(kw.get("column_list", []) or [])
    return out


# ------------------------------------------------------------------------------------------------ run


def run_suite(engine: Engine, table: str, org_id: str, *, frame: pd.DataFrame | None = None) -> SuiteResult:
    """Validate one org's table against its suite; never passes unless GX ran and every expectation held."""
    t0 = time.monotonic()
    if table not in SUITES:
        raise KeyError(f"no expectation suite for table {table!r}; suites: {', '.join(suite_names())}")
    specs = expectations_for(table)
    try:
        df = frame if frame is not None else build_frame(engine, table, org_id)
    except Exception as exc:  # noqa: BLE001 — reported as a failed check
        return SuiteResult(table, org_id, False, 0.0, 0, len(specs), error=f"reading {table}: {exc}",
                           seconds=time.monotonic() - t0)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    try:
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
    except Exception as exc:  # noqa: BLE001 — a missing/broken GX must fail the check, not pass it
        return SuiteResult(table, org_id, False, 0.0, len(df), len(specs),
                           error=f"great_expectations could not be imported: {exc!r}", seconds=time.monotonic() - t0)
    try:
        # in memory and without a data-docs site: GX's default ephemeral context gives every context a temporary
        # docs directory of its own; the checks never build docs, and thousands of check runs must leave nothing
        config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                                   analytics_enabled=False, progress_bars=ProgressBarsConfig(globally=False))
        ctx = gx.get_context(project_config=config, mode="ephemeral")
        expectations = [getattr(gxe, name)(**kw) for name, kw in specs]
        suite = gx.ExpectationSuite(name=f"estatecore.{table}", expectations=expectations)
        batch_def = (ctx.data_sources.add_pandas("estatecore").add_dataframe_asset(table)
                     .add_batch_definition_whole_dataframe("org"))
        res = batch_def.get_batch(batch_parameters={"dataframe": df}).validate(suite, result_format="SUMMARY")
    except Exception as exc:  # noqa: BLE001
        return SuiteResult(table, org_id, False, 0.0, len(df), len(specs), error=f"validation failed to run: {exc!r}",
                           seconds=time.monotonic() - t0)
    failed = []
    for r in res.results:
        if r.success:
            continue
        cfg = r.expectation_config
        kw = cfg.kwargs or {}
        column = kw.get("column") or ",".join(kw.get("column_list", []) or []) or \
            (f"{kw.get('column_B')}≤{kw.get('column_A')}" if kw.get("column_A") else None)
        result = r.result or {}
        exc_info = r.exception_info or {}
        details = ""
        if exc_info.get("raised_exception"):
            details = str(exc_info.get("exception_message") or "raised an exception")[:300]
        elif result.get("partial_unexpected_list"):
            details = "e.g. " + ", ".join(repr(v) for v in result["partial_unexpected_list"][:5])
        failed.append(FailedExpectation(cfg.type, column, result.get("unexpected_count"),
                                        result.get("unexpected_percent"), details))
    stats = res.statistics or {}
    return SuiteResult(
        table, org_id, bool(res.success) and not failed, float(stats.get("success_percent") or 0.0), len(df),
        int(stats.get("evaluated_expectations") or len(specs)), failed, seconds=time.monotonic() - t0,
    )


def record_result(engine: Engine, result: SuiteResult, run_id: str | None = None) -> float:
    """Store the suite outcome as a data-quality score (gate 'gx': share of expectations met)."""
    from ..warehouse import ops

    total = max(result.expectations, 1)
    passed = round(result.success_percent / 100 * total) if not result.error else 0
    return ops.record_dq_score(engine, org_id=result.org_id, table_name=result.table, gate="gx", run_id=run_id,
                               rows_evaluated=total, rows_passed=passed,
                               details={"failed": [f.as_dict() for f in result.failed], "error": result.error,
                                        "evaluated_rows": result.evaluated_rows})
