"""Rent Manager webhook events: what a delivery says, whether rm_pipelines acts on it, and which records a batch of
pending events asks to refresh. Pure code: no database, no HTTP.

A delivery is thin (rentmanager-api.md §10): `{"EventType": "Tenant_Edit", "IDParentIDDict": {"582": 177},
"CorporateID": "acme", "LocationID": 1, "LocationName": "Default"}`. `IDParentIDDict` maps the changed item's ID
to its parent account's ID (a top-level entity is its own parent). Each event family names the catalog entity
to fetch again by key, and the children (UDF values, contacts, leases …) to fetch again by that key, because a
change to them is announced as an edit of their parent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

OPERATIONS = ("Add", "Edit", "Delete")
MAX_IDS_PER_DELIVERY = 1000
_EVENT_TYPE = re.compile(r"^(?P<family>[A-Za-z][A-Za-z0-9]{0,63})_(?P<op>[A-Za-z]+)$")


@dataclass(frozen=True)
class EventFamily:
    """One Rent Manager event family (`eWebhookEventType`) and what it makes rm_pipelines refresh."""

    name: str
    entity: str | None = None
    """Catalog entity fetched again by the changed records' keys (None: nothing rm_pipelines keeps changed)."""
    key: Literal["id", "parent"] = "id"
    """Which side of IDParentIDDict holds that entity's key: the item ID, or its parent's (a note added to a
    work order names the note, whose parent is the work order)."""
    children: tuple[str, ...] = ()
    """Catalog entities fetched again by the parent key: their changes arrive as edits of the parent."""
    ignored: str | None = None
    """Why events of this family change nothing rm_pipelines keeps."""


FAMILIES: dict[str, EventFamily] = {f.name: f for f in (
    EventFamily("Tenant", "tenants", children=("tenant_udfs", "contacts", "leases", "subsidy_tenants")),
    EventFamily("TenantContact", "contacts", children=("contact_udfs",)),
    EventFamily("Prospect", "prospects"),
    EventFamily("ProspectContact", "contacts", children=("contact_udfs",)),
    EventFamily("Owner", "owners"),  # its contracts ride in the owners' pages
    EventFamily("Vendor", "vendors"),
    EventFamily("ServiceIssue", "service_manager_issues"),
    EventFamily("ServiceIssueHistory", "service_manager_issues", key="parent"),
    EventFamily("ServiceIssueTechTimes", "service_manager_issues", key="parent"),
    EventFamily("TenantHistory", ignored="tenant history (notes, calls, visits, e-mails) is not extracted"),
    EventFamily("ProspectHistory", ignored="prospect history is not extracted"),
    EventFamily("OwnerProspect", ignored="owner prospects are not extracted"),
    EventFamily("Application", ignored="Apply Now applications are not extracted"),
)}


class DeliveryError(ValueError):
    """A delivery that cannot be accepted; `status` is the HTTP answer (400/422), the message its reason."""

    def __init__(self, reason: str, status: int = 422) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Delivery:
    """A validated delivery."""

    event_type: str
    family: str
    operation: str
    ids: dict[int, int | None]
    location_id: int | None
    corporate_id: str | None

    @property
    def ids_json(self) -> str:
        return orjson.dumps({str(k): v for k, v in self.ids.items()}).decode()


@dataclass(frozen=True)
class Verdict:
    """What the inbox does with a delivery: keep it `pending` (to sync) or `ignored` (with the reason)."""

    status: Literal["pending", "ignored"]
    entity: str | None
    reason: str | None = None


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DeliveryError(f"{what} must be an integer, got {type(value).__name__}")
    try:
        number = int(value)
    except ValueError:
        raise DeliveryError(f"{what} must be an integer, got {value!r}") from None
    if number < 0 or number >= 2**63:
        raise DeliveryError(f"{what} {number} is out of range")
    return number


def parse_delivery(body: bytes) -> Delivery:
    """Validate a delivery body; raise DeliveryError with the reason (400 not JSON, 422 not a Rent Manager event).

    Field names are read case-insensitively (Rent Manager's JSON is .NET); unknown fields are tolerated."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise DeliveryError(f"body is not valid JSON ({exc})", status=400) from None
    if not isinstance(data, dict):
        raise DeliveryError(f"body must be a JSON object, got {type(data).__name__}")
    lowered = {str(k).lower(): v for k, v in data.items()}
    event_type = lowered.get("eventtype")
    if not isinstance(event_type, str) or not event_type:
        raise DeliveryError("EventType is missing (expected e.g. \"Tenant_Edit\")")
    match = _EVENT_TYPE.match(event_type)
    if not match or match["op"] not in OPERATIONS:
        raise DeliveryError(f"EventType {event_type[:80]!r} is not <EventName>_<Add|Edit|Delete>")
    raw_ids = lowered.get("idparentiddict")
    if not isinstance(raw_ids, dict) or not raw_ids:
        raise DeliveryError("IDParentIDDict must be a non-empty object of {changed id: parent id}")
    if len(raw_ids) > MAX_IDS_PER_DELIVERY:
        raise DeliveryError(f"IDParentIDDict holds {len(raw_ids)} ids, more than {MAX_IDS_PER_DELIVERY}")
    ids: dict[int, int | None] = {}
    for key, parent in raw_ids.items():
        ids[_int(key, "IDParentIDDict key")] = None if parent is None else _int(parent, "IDParentIDDict value")
    location = lowered.get("locationid")
    location_id = None if location is None else _int(location, "LocationID")
    if location_id == 0:
        raise DeliveryError("LocationID 0 is not a location")
    corporate = lowered.get("corporateid")
    if corporate is not None and (not isinstance(corporate, str) or len(corporate) > 64):
        raise DeliveryError("CorporateID must be a string (the company code)")
    return Delivery(event_type=event_type, family=match["family"], operation=match["op"], ids=ids,
                    location_id=location_id, corporate_id=corporate or None)


def check_org(delivery: Delivery, *, corporate_id: str | None, location_ids: Iterable[int]) -> None:
    """Reject a delivery that names another company or a location the org does not sync."""
    if delivery.corporate_id is not None and corporate_id is not None \
            and delivery.corporate_id.lower() != corporate_id.lower():
        raise DeliveryError(f"CorporateID {delivery.corporate_id!r} is not this organisation's company")
    locations = set(location_ids)
    if delivery.location_id is not None and delivery.location_id not in locations:
        raise DeliveryError(f"LocationID {delivery.location_id} is not a location this organisation syncs "
                            f"({', '.join(str(i) for i in sorted(locations))})")


def classify(delivery: Delivery) -> Verdict:
    """`pending` for an event family rm_pipelines syncs; `ignored`, with the reason, for any other."""
    family = FAMILIES.get(delivery.family)
    if family is None:
        return Verdict("ignored", None, f"event type {delivery.family!r} is not one rm_pipelines knows "
                                        f"(known: {', '.join(sorted(FAMILIES))})")
    if family.entity is None:
        return Verdict("ignored", None, family.ignored)
    return Verdict("pending", family.entity)


# ------------------------------------------------------------------------------------------------ coalescing


@dataclass
class Target:
    """What to fetch of one entity at one location: records by their own keys, and children by parent keys."""

    keys: set[int] = field(default_factory=set)
    parents: set[int] = field(default_factory=set)

    @property
    def size(self) -> int:
        return len(self.keys) + len(self.parents)


@dataclass(frozen=True)
class InboxEvent:
    """A pending inbox row, as coalescing needs it."""

    id: int
    event_type: str
    location_id: int | None
    ids: dict[int, int | None]


@dataclass
class Plan:
    """Pending events coalesced per location (None: every location of the org) and entity."""

    targets: dict[int | None, dict[str, Target]] = field(default_factory=dict)
    events: list[int] = field(default_factory=list)
    """Inbox ids the plan covers (events of unselected entities included: they need nothing fetched)."""
    unselected: dict[str, int] = field(default_factory=dict)
    """Entity → events naming it that the org's `entities:` selection leaves out."""

    @property
    def entities(self) -> set[str]:
        return {name for per in self.targets.values() for name in per}

    @property
    def ids(self) -> int:
        return sum(t.size for per in self.targets.values() for t in per.values())

    def target(self, location_id: int | None, entity: str) -> Target:
        return self.targets.setdefault(location_id, {}).setdefault(entity, Target())


def entities_of(event_type: str) -> tuple[str, ...]:
    """The catalog entities an event makes rm_pipelines fetch (empty for families it ignores)."""
    match = _EVENT_TYPE.match(event_type)
    family = FAMILIES.get(match["family"]) if match else None
    if family is None or family.entity is None:
        return ()
    return (family.entity, *family.children)


def coalesce(events: Iterable[InboxEvent], selected: Iterable[str] | None = None) -> Plan:
    """Merge events into one fetch plan: every key once per location and entity, whatever the number of events.

    Deletes need no special case: a record fetched by key and not returned is confirmed gone. `selected` (the
    org's entity selection) leaves out entities the org does not sync; their events are covered all the same."""
    allowed = set(selected) if selected is not None else None
    plan = Plan()
    for event in events:
        plan.events.append(event.id)
        match = _EVENT_TYPE.match(event.event_type)
        family = FAMILIES.get(match["family"]) if match else None
        if family is None or family.entity is None:
            continue
        keys = {parent if family.key == "parent" else item for item, parent in event.ids.items()}
        keys.discard(None)  # type: ignore[arg-type]
        if not keys:
            continue
        for name in (family.entity, *family.children):
            if allowed is not None and name not in allowed:
                plan.unselected[name] = plan.unselected.get(name, 0) + 1
                continue
            target = plan.target(event.location_id, name)
            if name == family.entity:
                target.keys.update(keys)  # type: ignore[arg-type]
            else:
                target.parents.update(keys)  # type: ignore[arg-type]
    return plan
