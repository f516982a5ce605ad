"""Pointing Rent Manager at the receiver: the `WebhookDetails` of a location (one URL per event type).

The URL carries the org's token, so whatever is shown to a person goes through `mask_url` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..rentmanager.client import RentManagerClient

RESOURCE = "WebhookDetails"
_TOKEN_IN_PATH = re.compile(r"(/rentmanager/[^/]+/)[^/?#]+")


def delivery_url(public_url: str, org_id: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/rentmanager/{org_id}/{token}"


def mask_url(url: str | None) -> str:
    """A delivery URL with its token hidden (any other URL unchanged)."""
    return _TOKEN_IN_PATH.sub(r"\1****", url or "")


@dataclass(frozen=True)
class Step:
    event_type: str
    action: Literal["create", "update", "unchanged"]
    detail_id: int | None
    previous_url: str | None


def plan(existing: Iterable[dict[str, Any]], url: str, event_types: Iterable[str]) -> list[Step]:
    """What registering `url` for `event_types` changes, given the WebhookDetails already set up."""
    by_type = {str(d.get("WebhookEventType")): d for d in existing}
    steps = []
    for kind in event_types:
        current = by_type.get(kind)
        if current is None:
            steps.append(Step(kind, "create", None, None))
        elif current.get("URL") == url:
            steps.append(Step(kind, "unchanged", int(current["WebhookDetailID"]), current.get("URL")))
        else:
            steps.append(Step(kind, "update", int(current["WebhookDetailID"]), current.get("URL")))
    return steps


def list_details(client: RentManagerClient) -> list[dict[str, Any]]:
    return [r for page in client.iter_pages(RESOURCE) for r in page]


def register(client: RentManagerClient, url: str, event_types: Iterable[str], *, dry_run: bool = False) -> list[Step]:
    """Create or repoint the WebhookDetails of each event type so that Rent Manager delivers to `url`."""
    existing = list_details(client)
    steps = plan(existing, url, event_types)
    if dry_run:
        return steps
    by_id = {int(d["WebhookDetailID"]): d for d in existing}
    records = []
    for step in steps:
        if step.action == "create":
            records.append({"WebhookEventType": step.event_type, "URL": url})
        elif step.action == "update":
            current = by_id[step.detail_id]  # type: ignore[index]
            records.append({"WebhookDetailID": step.detail_id, "URL": url, "UpdateDate": current.get("UpdateDate"),
                            "ConcurrencyID": current.get("ConcurrencyID")})
    if records:
        client.save(RESOURCE, records)
    return steps
