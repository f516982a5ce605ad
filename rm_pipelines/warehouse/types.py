"""Column types of the EstateCore tables that behave the same on SQLite and PostgreSQL.

- `Fixed(precision, scale)`: exact decimals (money, percentages). PostgreSQL `NUMERIC(p, s)`; SQLite has no
  decimal type, so the value is stored as an integer scaled by 10**scale (cents for money) — never a float.
  Reading through SQLAlchemy returns `Decimal` on both.
- `UTCDateTime`: timestamps stored in UTC (`timestamptz` on PostgreSQL, naive UTC text on SQLite); reads are
  always timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class Fixed(TypeDecorator):
    """An exact decimal: NUMERIC(precision, scale) on PostgreSQL, scaled integer on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            value = Decimal(repr(value))
        value = Decimal(value)
        if dialect.name == "sqlite":
            return int(value.scaleb(self.scale).to_integral_value(ROUND_HALF_EVEN))
        return value.quantize(Decimal(1).scaleb(-self.scale), ROUND_HALF_EVEN)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value)

    def __repr__(self) -> str:
        return f"Fixed(precision={self.precision}, scale={self.scale})"


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp, stored in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def __repr__(self) -> str:
        return "UTCDateTime()"
