"""Small query helpers for warehouse tests (estatecore tables are unqualified on SQLite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text


def tn(engine, table: str) -> str:
    return table if engine.dialect.name == "sqlite" else f"estatecore.{table}"


def rows(engine, sql: str, **params: Any) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


def scalar(engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def live(engine, table: str, org_id: str = "acme") -> int:
    return scalar(engine, f"SELECT count(*) FROM {tn(engine, table)} WHERE org_id = :o AND deleted_at IS NULL", o=org_id)


def one(engine, table: str, rm_id: int, column: str, org_id: str = "acme") -> Any:
    return scalar(engine, f"SELECT {column} FROM {tn(engine, table)} WHERE org_id = :o AND rm_id = :k", o=org_id, k=rm_id)


def execute(engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)
