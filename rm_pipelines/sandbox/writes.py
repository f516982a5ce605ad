"""Write rules of the sandbox beyond the plain POST-array upsert (rentmanager-api.md §8, §10, §12.14):

- UDF values: `POST /{Parent}/UserDefinedValues` (array, each with its ParentID) and
  `POST /{Parent}/{id}/UserDefinedValues`; a value is a string checked against its field's type (dropdown
  choices, dates, numbers, Yes/No); updating an existing value needs its current UpdateDate (409 otherwise).
- Save options ("requests for feedback", §8.3): with a hard-close date configured, a save touching a record
  dated on or before it (violations by ViolationDate, ledger rows by TransactionDate) fails with 412 unless
  `saveOptions` carries `IgnoreHardClose`.
- WebhookDetails: only one URL per event type (a second registration of a type is a 409), known types only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from . import catalog
from .store import Conflict, NotFound, SandboxStore, StoreError

HARD_CLOSE_OPTION = "IgnoreHardClose"
DATED_FIELDS = {"Violations": "ViolationDate", "Charges": "TransactionDate", "Payments": "TransactionDate",
                "Credits": "TransactionDate"}
WEBHOOK_EVENT_TYPES = ("Tenant", "TenantContact", "TenantHistory", "Owner", "OwnerProspect", "Prospect",
                       "ProspectContact", "ProspectHistory", "ServiceIssue", "ServiceIssueHistory",
                       "ServiceIssueTechTimes", "Vendor", "Application")


class SaveOptionRequired(StoreError):
    """The save would prompt a desktop user: it needs an explicit save option (412)."""

    kind = "precondition"

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


def parse_save_options(raw: str | None) -> set[str]:
    """`saveOptions=A,B` or `saveOptions=A,true;B,true` (both encodings are seen) → {"A", "B"}."""
    if not raw:
        return set()
    out = set()
    for part in raw.replace(";", ",").split(","):
        name = part.strip()
        if name and name.lower() not in ("true", "false"):
            out.add(name.lower())
    return out


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def check_save_options(store: SandboxStore, collection: str, items: list, options: set[str],
                       hard_close: str | None) -> None:
    """412 when an item touches a record dated within the hard-closed period and IgnoreHardClose is not sent."""
    field = DATED_FIELDS.get(collection)
    close = _day(hard_close)
    if field is None or close is None or HARD_CLOSE_OPTION.lower() in options:
        return
    pk = catalog.COLLECTIONS[collection].pk
    for item in items:
        if not isinstance(item, dict):
            continue
        current = store.record(collection, int(item[pk])) if str(item.get(pk) or "").isdigit() else None
        dated = _day(item.get(field)) or _day((current or {}).get(field))
        if dated is not None and dated <= close:
            what = f"{collection} {item.get(pk) or '(new)'}"
            raise SaveOptionRequired(
                f"{what} is dated {dated.isoformat()}, in a period closed on {close.isoformat()} (hard close). "
                f"Resend with saveOptions={HARD_CLOSE_OPTION} to save it anyway.", HARD_CLOSE_OPTION)


def check_webhook_details(store: SandboxStore, items: list) -> None:
    """Known event types only, and one URL per event type."""
    taken = {str(r.get("WebhookEventType")): int(r["WebhookDetailID"]) for r in store.records("WebhookDetails")}
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("WebhookEventType")
        if kind is None and item.get("WebhookDetailID"):
            continue  # an update that keeps its type
        if kind not in WEBHOOK_EVENT_TYPES:
            raise StoreError(f"WebhookEventType {kind!r} is not one of {', '.join(WEBHOOK_EVENT_TYPES)}.")
        owner = taken.get(str(kind))
        if owner is not None and owner != int(item.get("WebhookDetailID") or 0):
            raise Conflict(f"A webhook is already set up for event type {kind} (WebhookDetailID {owner}): only one "
                           "URL per event type.")


def _check_value(field: dict, value: Any) -> str:
    """The value as stored (a string), or StoreError naming the field and what it accepts."""
    name, kind = field["Name"], str(field.get("FieldType") or "Text")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StoreError(f"UDF {name!r}: Value must be a string (Rent Manager stores every UDF value as text).")
    if value == "":
        return value
    if kind in ("Dropdown List", "Selection List"):
        choices = [c.strip() for c in str(field.get("ComboList") or "").split(",") if c.strip()]
        if choices and value not in choices:
            raise StoreError(f"UDF {name!r}: {value!r} is not one of its choices ({', '.join(choices)}).")
    elif kind == "Date":
        if _day(value) is None:
            raise StoreError(f"UDF {name!r}: {value!r} is not a date (YYYY-MM-DD).")
        return value[:10]
    elif kind == "Numeric":
        try:
            Decimal(value)
        except InvalidOperation:
            raise StoreError(f"UDF {name!r}: {value!r} is not a number.") from None
    elif kind == "Yes/No" and value not in ("Yes", "No"):
        raise StoreError(f"UDF {name!r}: {value!r} is not Yes or No.")
    return value


def save_udf_values(store: SandboxStore, parent_collection: str, items: Any, *, parent_id: int | None,
                    user_id: int) -> list[dict]:
    """Create or update UDF values of one parent collection (all-or-nothing); returns the saved values."""
    spec = catalog.COLLECTIONS[parent_collection]
    emb = spec.embed("UserDefinedValues")
    if emb is None:
        raise NotFound(f"{parent_collection} have no user-defined fields.")
    parent_type = dict(emb.where)["ParentType"]
    if not isinstance(items, list):
        raise StoreError(f"POST /{parent_collection}/UserDefinedValues takes a JSON array of UserDefinedValue models.")
    fields = [d for d in store.records("UserDefinedFields") if d.get("ParentType") == parent_type]
    by_id = {int(d["UserDefinedFieldID"]): d for d in fields}
    by_name = {str(d["Name"]).lower(): d for d in fields}
    values = store.index("UserDefinedValues", "ParentID", (("ParentType", parent_type),))
    prepared = []
    for item in items:
        if not isinstance(item, dict):
            raise StoreError("Each UserDefinedValue must be an object.")
        low = {str(k).lower(): v for k, v in item.items()}
        pid = parent_id if parent_id is not None else low.get("parentid")
        if not str(pid or "").isdigit() or store.record(parent_collection, int(pid)) is None:
            raise NotFound(f"{parent_collection} with {spec.pk} {pid} does not exist.")
        pid = int(pid)
        fid = low.get("userdefinedfieldid")
        field = by_id.get(int(fid)) if str(fid or "").isdigit() else by_name.get(str(low.get("name") or "").lower())
        if field is None:
            raise StoreError(f"UserDefinedFieldID {fid!r} / Name {low.get('name')!r} is not a {parent_type} "
                             "user-defined field.")
        value = _check_value(field, low.get("value"))
        existing = next((r for r in (store.record("UserDefinedValues", i) for i in values.get(pid, ()))
                         if r and int(r["UserDefinedFieldID"]) == int(field["UserDefinedFieldID"])), None)
        if existing is None:
            prepared.append({"UserDefinedFieldID": field["UserDefinedFieldID"], "ParentID": pid,
                             "ParentType": parent_type, "Name": field["Name"], "Value": value,
                             "FieldType": field.get("FieldType")})
        else:
            prepared.append({"UserDefinedValueID": existing["UserDefinedValueID"], "Value": value,
                             "UpdateDate": low.get("updatedate")})
    return store.save("UserDefinedValues", prepared, user_id=user_id, check_concurrency=True, strict=True)
