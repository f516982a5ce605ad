"""The pandera gate, run on whole pages before anything is written (vectorised, never row by row).

`validate_page(entity, frame, parents=…)`:
1. `type_frame` converts each declared field to its model type (Int64, float64, datetime64, boolean, str);
   a value that does not convert fails the row with `<Field>: type <dtype> (got …)`.
2. the entity's DataFrameModel runs with `lazy=True`, plus one `parent_present(<table>)` check per foreign key
   (is the referenced key in the EstateCore parent table?).
3. every failed check of every row is collected; the caller quarantines failing rows and loads the rest.

Values of sensitive fields never appear in the reasons (they are masked).
"""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..warehouse import transforms as TR
from ..warehouse.crypto import MASK
from ..warehouse.sensitive import raw_sensitive_fields
from .models import model_for


@dataclass
class PageResult:
    frame: pd.DataFrame  # typed frame (all rows); use `valid_mask` to select passing rows
    failures: dict[object, list[str]] = field(default_factory=dict)  # frame index → reasons

    @property
    def valid_mask(self) -> pd.Series:
        return ~self.frame.index.isin(list(self.failures))

    @property
    def failed_count(self) -> int:
        return len(self.failures)


@functools.lru_cache(maxsize=None)
def base_schema(entity: str) -> pa.DataFrameSchema:
    return model_for(entity).to_schema()


@functools.lru_cache(maxsize=None)
def _gate_schema(entity: str) -> pa.DataFrameSchema:
    """The schema as run on pages that `type_frame` has typed: text columns without pandera's dtype check, which
    tests every value in Python — `type_frame` already made every non-null value of them a str (values that could
    not be are failures of their own), so the check could never fail and only cost time."""
    schema = base_schema(entity)
    return schema.update_columns({name: {"dtype": None} for name, col in schema.columns.items()
                                  if str(col.dtype) == "str"})


def _shown(value: object, sensitive: bool) -> str:
    if sensitive:
        return MASK
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def type_frame(entity: str, frame: pd.DataFrame, failures: dict[object, list[str]] | None = None,
               sensitive: set[str] | None = None) -> tuple[pd.DataFrame, dict[object, list[str]]]:
    """Convert the declared fields to their model types; record values that do not convert."""
    failures = failures if failures is not None else defaultdict(list)
    sensitive = sensitive if sensitive is not None else raw_sensitive_fields(entity)
    schema = base_schema(entity)
    out = frame.copy(deep=False)
    ctx = TR.Ctx()
    for name, column in schema.columns.items():
        dtype = str(column.dtype)
        if name not in out.columns:
            out[name] = pd.Series([None] * len(out), index=out.index, dtype=object)
        s = out[name]
        if dtype == "Int64":
            conv, failed = TR.t_int(s, ctx)
        elif dtype == "float64":
            conv, failed = TR.t_number(s, ctx)
        elif dtype.startswith("datetime64"):
            conv, failed = TR._to_datetime64(s)
            conv = conv.astype("datetime64[ns]")
        elif dtype == "boolean":
            conv, failed = TR.t_bool(s, ctx)
        else:  # str
            conv, failed = TR.t_text(s, ctx)
            conv = conv.astype(object)
        if failed.any():
            for idx in failed.index[failed.to_numpy()]:
                failures[idx].append(f"{name}: type {dtype} (got {_shown(s.loc[idx], name in sensitive)})")
        out[name] = conv
    return out, failures


_page = threading.local()  # the parent keys of the page being validated in this thread, by field


def _parent_check(table: str, fld: str) -> pa.Check:
    def present(s: pd.Series) -> pd.Series:
        return s.isna() | s.isin(_page.parent_keys[fld])

    return pa.Check(present, name=f"parent_present({table})")


@functools.lru_cache(maxsize=None)
def _gate_schema_with_parents(entity: str, parents: tuple[tuple[str, str], ...]) -> pa.DataFrameSchema:
    """The gate schema plus one `parent_present(<table>)` check per (field, parent table), built once per entity:
    the checks read the keys of the page being validated (`_page`), so pages share the schema instead of each
    copying it to add their own checks."""
    schema = _gate_schema(entity)
    for fld, table in parents:
        if fld in schema.columns:
            col = schema.columns[fld]
            schema = schema.update_column(fld, checks=[*col.checks, _parent_check(table, fld)])
        else:
            schema = schema.add_columns({fld: pa.Column("Int64", nullable=True, checks=[_parent_check(table, fld)])})
    return schema


def validate_page(
    entity: str,
    frame: pd.DataFrame,
    *,
    parents: dict[str, tuple[str, np.ndarray]] | None = None,
    sensitive: set[str] | None = None,
) -> PageResult:
    """Validate one page of Rent Manager records (a DataFrame of payload fields).

    `parents`: Rent Manager field → (EstateCore parent table, array of keys present there).
    """
    sensitive = sensitive if sensitive is not None else raw_sensitive_fields(entity)
    typed, failures = type_frame(entity, frame, sensitive=sensitive)
    parents = parents or {}
    schema = _gate_schema_with_parents(entity, tuple((fld, table) for fld, (table, _) in parents.items()))
    _page.parent_keys = {fld: keys for fld, (_, keys) in parents.items()}
    try:
        schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        _collect(exc.failure_cases, typed, failures, sensitive)
    finally:
        _page.parent_keys = {}
    return PageResult(typed, dict(failures))


def _collect(cases: pd.DataFrame, typed: pd.DataFrame, failures: dict[object, list[str]], sensitive: set[str]) -> None:
    all_rows = list(typed.index)
    for rec in cases.itertuples(index=False):
        column = getattr(rec, "column", None)
        check = str(getattr(rec, "check", ""))
        idx = getattr(rec, "index", None)
        value = getattr(rec, "failure_case", None)
        if check.startswith("dtype(") or check.startswith("coerce_dtype("):
            continue  # type problems were reported (per row) by type_frame
        is_sensitive = column in sensitive
        if column is None or column == typed.__class__.__name__ or getattr(rec, "schema_context", "") == "DataFrameSchema":
            reason = f"{check}"
        else:
            reason = f"{column}: {check}" + ("" if check.startswith("not_nullable") else f" (got {_shown(value, is_sensitive)})")
        if idx is None or (isinstance(idx, float) and np.isnan(idx)):
            for i in all_rows:  # a failure that names no row applies to every row of the page
                failures[i].append(reason)
            continue
        if reason not in failures[idx]:
            failures[idx].append(reason)
