"""Reading EstateCore tables: typed frames (optionally with sensitive values decrypted), masked previews and
column schemas for metadata. Every read is scoped by org."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

from . import tables as T
from .crypto import MASK, get_keyring, is_encrypted
from .models import table as sa_table
from .models import standard_columns
from .write import canon_from_plain


def read_frame(
    engine: Engine,
    table: str,
    org_id: str,
    *,
    columns: list[str] | None = None,
    decrypt: bool = False,
    include_deleted: bool = False,
    limit: int | None = None,
) -> pd.DataFrame:
    """Rows of one org as a DataFrame with Python-typed values (Decimal money, date, aware UTC datetimes).

    Sensitive columns hold `enc:…` tokens unless `decrypt=True`, which returns their typed values — use only
    where the value is needed (compliance computations, GX checks), never for display. For `udf_values` that
    includes the values of sensitive UDFs, which are encrypted in the `value` column itself (`is_encrypted`)."""
    t = sa_table(table)
    spec = T.get(table)
    names = list(columns or [c.name for c in t.columns])
    udf_flag = decrypt and spec.kind == "udf" and "value" in names and "is_encrypted" not in names
    cols = [t.c[c] for c in (names + ["is_encrypted"] if udf_flag else names)]
    stmt = select(*cols).where(t.c.org_id == org_id)
    if not include_deleted:
        stmt = stmt.where(t.c.deleted_at.is_(None))
    stmt = stmt.order_by(t.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    df = pd.DataFrame(rows, columns=[c.name for c in cols])
    if decrypt and len(df):
        ring = get_keyring()
        for name in spec.sensitive_columns:
            if name in df.columns:
                col = spec.column(name)
                plain = ring.decrypt_many(df[name].where(df[name].notna(), None).tolist())
                df[name] = [_typed(col.kind, canon_from_plain(col.kind, v)) for v in plain]
        if spec.kind == "udf" and "value" in df.columns:
            # only where the row says so: a clear value may well begin with the token prefix
            flagged = df["is_encrypted"].fillna(False).astype(bool).to_numpy()
            values = df["value"].astype(object).where(df["value"].notna(), None).tolist()
            todo = [i for i, (v, f) in enumerate(zip(values, flagged)) if f and is_encrypted(v)]
            if todo:
                for i, v in zip(todo, ring.decrypt_many([values[i] for i in todo])):
                    values[i] = v
                df["value"] = pd.Series(values, index=df.index, dtype=object)
    if udf_flag:
        df = df.drop(columns="is_encrypted")
    return df


def _typed(kind: str, canonical: Any) -> Any:
    from datetime import date
    from decimal import Decimal

    if canonical is None:
        return None
    if kind in T.SCALE:
        return Decimal(int(canonical)).scaleb(-T.SCALE[kind])
    if kind == "date":
        return date.fromisoformat(canonical)
    return canonical


def live_count(engine: Engine, table: str, org_id: str) -> int:
    t = sa_table(table)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t).where(t.c.org_id == org_id,
                                                                        t.c.deleted_at.is_(None))).scalar_one())


def preview(engine: Engine, table: str, org_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The first rows of an org, sensitive values masked, bookkeeping columns left out."""
    spec = T.get(table)
    hidden = {"id", "org_id", "custom", "source_hash", "mapping_version", "load_run_id", "created_at", "updated_at",
              "deleted_at", "rm_created_at"}
    cols = [c for c in standard_columns(spec) + list(spec.column_names) if c not in hidden]
    order = [c for c in ("location_id", "rm_id") if c in cols] + [c for c in cols if c not in ("location_id", "rm_id")]
    df = read_frame(engine, table, org_id, columns=order, limit=limit)
    out = []
    for rec in df.to_dict(orient="records"):
        row = {}
        for k, v in rec.items():
            if k in spec.sensitive_columns:
                row[k] = None if v is None or (isinstance(v, float) and pd.isna(v)) else MASK
            elif k in spec.pii_columns and isinstance(v, str):
                row[k] = mask_person(v)
            elif v is None or (isinstance(v, float) and pd.isna(v)):
                row[k] = None
            else:
                row[k] = v if isinstance(v, (int, bool, str)) else str(v)
        out.append(row)
    return out


def mask_person(value: str) -> str:
    """A person's name, address or email, recognisable but not readable: the first letter of each word
    ("Maria Lopez" → "M*** L***"); an email keeps its domain ("m***@example.com")."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return " ".join(f"{word[:1]}***" for word in value.split()) or value


def preview_markdown(rows: list[dict[str, Any]], max_width: int = 32) -> str:
    """A markdown table of preview rows."""
    if not rows:
        return "_no rows_"
    cols = list(rows[0])

    def cell(v: Any) -> str:
        text = "" if v is None else str(v)
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def column_schema(table: str) -> list[dict[str, Any]]:
    """Columns with their types and descriptions (for `dagster/column_schema`)."""
    spec = T.get(table)
    t = sa_table(table)
    out = []
    for col in t.columns:
        kind = None
        sensitive = False
        if spec.has_column(col.name):
            c = spec.column(col.name)
            kind, sensitive = c.kind, c.sensitive
        type_name = {"money": "NUMERIC(14,2)", "decimal": "NUMERIC(18,4)"}.get(kind or "", None) or str(col.type)
        if type_name.startswith("UTCDateTime"):
            type_name = "TIMESTAMP WITH TIME ZONE (UTC)"
        if sensitive:
            type_name = f"ENCRYPTED {kind.upper() if kind else 'TEXT'}"
        out.append({
            "name": col.name,
            "type": type_name,
            "description": col.comment or "",
            "nullable": bool(col.nullable),
            "sensitive": sensitive,
            "unique_key": col.name in spec.key,
        })
    return out
