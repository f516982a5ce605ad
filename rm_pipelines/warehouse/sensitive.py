"""Which Rent Manager fields are sensitive, and protecting them wherever a payload is stored.

Sensitive: SSNs/TINs (and their last four), birth dates, incomes and asset values. They are encrypted in the
EstateCore columns (tables.py `sensitive=True`), in rm_raw payloads and in quarantined rows, so no database
file holds them in clear. UDF values are sensitive when their name maps to a sensitive attribute by default,
when the UDF is of type "Encrypted Text", or when the name looks like income/asset/SSN/birth-date data; an org
that maps another UDF name onto a sensitive attribute gets it encrypted at load (the raw row is re-protected).
"""

from __future__ import annotations

import re
from typing import Any

from . import tables as T
from .crypto import Keyring, get_keyring, is_encrypted

RAW_SENSITIVE: dict[str, tuple[str, ...]] = {
    "contacts": ("DateOfBirth", "FederalTaxID", "AnnualIncome"),
    "vendors": ("TaxID",),
    "owners": ("TaxID",),
    "tenants": ("FederalTaxID", "DateOfBirth"),
    "prospects": ("FederalTaxID", "DateOfBirth"),
}
UDF_ENTITIES = frozenset(T.UDF_SOURCES)
DEFAULT_SENSITIVE_UDFS = frozenset(
    col.udf for t in T.TABLES for col in t.udf_columns if col.sensitive and col.udf
)
_SENSITIVE_NAME = re.compile(
    r"income|wage|salary|earning|benefit|asset|pension|ssn|social\s*security|tax\s*id|\btin\b|birth|\bdob\b",
    re.I,
)


def raw_sensitive_fields(entity: str) -> set[str]:
    return set(RAW_SENSITIVE.get(entity, ()))


def is_sensitive_udf(name: Any, field_type: Any = None, extra_names: frozenset[str] | set[str] = frozenset()) -> bool:
    if not isinstance(name, str):
        return False
    if field_type == "Encrypted Text":
        return True
    return name in DEFAULT_SENSITIVE_UDFS or name in extra_names or bool(_SENSITIVE_NAME.search(name))


def protect_raw(entity: str, record: dict[str, Any], keyring: Keyring | None = None,
                extra_udf_names: frozenset[str] | set[str] = frozenset()) -> dict[str, Any] | None:
    """A copy of `record` with its sensitive values encrypted, or None when there is nothing to protect."""
    if not isinstance(record, dict):
        return None
    if entity in UDF_ENTITIES:
        value = record.get("Value")
        if value in (None, "") or is_encrypted(value):
            return None
        if not is_sensitive_udf(record.get("Name"), record.get("FieldType"), extra_udf_names):
            return None
        ring = keyring or get_keyring()
        return {**record, "Value": ring.encrypt(str(value))}
    fields = RAW_SENSITIVE.get(entity)
    if not fields:
        return None
    hits = [f for f in fields if record.get(f) not in (None, "") and not is_encrypted(record.get(f))]
    if not hits:
        return None
    ring = keyring or get_keyring()
    out = dict(record)
    for f in hits:
        out[f] = ring.encrypt(_scalar_text(record[f]))
    return out


def _scalar_text(value: Any) -> str:
    # keep numbers round-trippable: 41250.0 → "41250.0"
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


def reveal_raw(entity: str, record: dict[str, Any], keyring: Keyring | None = None) -> dict[str, Any]:
    """The record with encrypted values decrypted (numbers come back as numbers)."""
    ring = None
    out = record
    for f, v in record.items():
        if is_encrypted(v):
            ring = ring or keyring or get_keyring()
            if out is record:
                out = dict(record)
            text = ring.decrypt(v)
            out[f] = _unscalar(text) if f != "Value" else text
    return out


def _unscalar(text: str) -> Any:
    try:
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if re.fullmatch(r"-?\d+\.\d*(e-?\d+)?", text):
            return float(text)
    except ValueError:
        pass
    return text
