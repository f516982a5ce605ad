"""Does an org's Rent Manager connection work? A report a person can act on, made with cheap calls only.

Per location: the credentials are in the environment, the login succeeds, the location exists, the server's
clock agrees with the registry's time zone, and each catalog entity can be read (counted with `pageSize=1` and
`X-Total-Results`). Every failed check says what to fix. The rate-limit headers and API version seen are kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..orgs import Org
from ..rentmanager.catalog import ENTITIES
from ..rentmanager.client import RentManagerClient
from ..rentmanager.dates import parse_rm_datetime
from ..rentmanager.errors import AuthenticationError, PermissionDeniedError, RentManagerError
from .extract import ClientFactory

# A session's TimeOutDate is "now + the idle timeout" on the server's wall clock (about 15 minutes, §2.4); a
# registry time zone that puts it further than this from our own "now + 15 minutes" is probably wrong.
CLOCK_TOLERANCE = timedelta(minutes=45)
IDLE_TIMEOUT = timedelta(minutes=15)


@dataclass
class Check:
    name: str
    status: str  # ok | warning | failed
    detail: str
    fix: str = ""


@dataclass
class LocationReport:
    location_id: int
    timezone: str
    checks: list[Check] = field(default_factory=list)
    counts: dict[str, int | str] = field(default_factory=dict)  # entity → rows, or why it could not be counted
    api_version: str | None = None
    rate_limit_headers: dict[str, str] = field(default_factory=dict)
    requests: int = 0


@dataclass
class ConnectionReport:
    org_id: str
    base_url: str
    locations: list[LocationReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(c.status != "failed" for loc in self.locations for c in loc.checks)


def test_connection(org: Org, client_factory: ClientFactory, *, count_entities: bool = True) -> ConnectionReport:
    """Check every location of the org (stops at the first failed login: the others use the same credentials)."""
    t0 = time.monotonic()
    report = ConnectionReport(org.id, org.rentmanager.url)
    for location in org.locations:
        loc = LocationReport(location.id, location.timezone)
        report.locations.append(loc)
        if not _check_location(org, location.id, location.timezone, client_factory, loc, count_entities):
            break
    report.seconds = round(time.monotonic() - t0, 2)
    return report


def _check_location(org: Org, location_id: int, timezone: str, client_factory: ClientFactory,
                    loc: LocationReport, count_entities: bool) -> bool:
    env = ", ".join(org.credential_env().values())
    missing = org.missing_env()
    if missing and not org.rentmanager.is_embedded_sandbox:
        loc.checks.append(Check("credentials", "failed", f"{', '.join(missing)} not set",
                                f"export {' and '.join(missing)} in the environment of the code location"))
        return False
    try:
        client = client_factory(org, location_id, timezone)
    except (ValueError, RentManagerError) as exc:
        loc.checks.append(Check("credentials", "failed", str(exc), f"check {env}"))
        return False
    loc.checks.append(Check("credentials", "ok", "the embedded sandbox's demo user" if missing else f"{env} set"))
    with client:
        try:
            return _checks_with_client(org, client, location_id, timezone, loc, count_entities, env)
        finally:
            loc.requests = client.stats.requests
            loc.rate_limit_headers = dict(client.rate_limit_headers)


def _checks_with_client(org: Org, client: RentManagerClient, location_id: int, timezone: str, loc: LocationReport,
                        count_entities: bool, env: str) -> bool:
    try:
        client.authenticate()
        loc.checks.append(Check("login", "ok", "partner token" if client.uses_partner_token else "AuthorizeUser"))
    except AuthenticationError as exc:
        loc.checks.append(Check("login", "failed", str(exc), _login_fix(exc, env, location_id)))
        return False
    except (RentManagerError, OSError) as exc:
        loc.checks.append(Check("login", "failed", str(exc),
                                f"check that {org.rentmanager.url} is the company's API address (company code), that "
                                "it is reachable from here, and that this server's IP is whitelisted for partner "
                                "access"))
        return False
    _check_session(client, timezone, loc)
    try:
        locations = client.get("/Locations") or []
        names = {int(x["LocationID"]): x.get("Name") for x in locations if isinstance(x, dict)}
        if location_id in names:
            loc.checks.append(Check("location", "ok", f"location {location_id} is {names[location_id]!r}"))
        else:
            loc.checks.append(Check("location", "failed", f"location {location_id} is not among {sorted(names)}",
                                    "fix `locations:` in the registry (ids from Rent Manager's Locations list)"))
            return False
    except RentManagerError as exc:
        loc.checks.append(Check("location", "failed", str(exc), "the user needs access to the Locations list"))
        return False
    if count_entities:
        _count_entities(client, loc)
    return True


def _login_fix(exc: AuthenticationError, env: str, location_id: int) -> str:
    text = str(exc).lower()
    if "maximum number of times" in text:
        return ("the user holds the most API tokens Rent Manager allows: wait about 15 minutes for idle ones to "
                "expire, or stop the other integrations using this user")
    if exc.status == 403:
        return f"give the user access to location {location_id} in Rent Manager"
    return (f"check the username and password in {env}, and that the Rent Manager user has the 'API Access' "
            "option ticked")


def _check_session(client: RentManagerClient, timezone: str, loc: LocationReport) -> None:
    try:
        info = client.get("/SessionInformation") or {}
    except RentManagerError as exc:
        loc.checks.append(Check("session", "warning", f"SessionInformation unavailable: {exc}"))
        return
    loc.api_version = info.get("CurrentApiVersion") or info.get("ApplicationVersion")
    timeout = info.get("TimeOutDate")
    if not timeout or client.uses_partner_token:
        return
    server = parse_rm_datetime(timeout, client.tz)
    expected = clock.now(timezone) + IDLE_TIMEOUT
    drift = server - expected if server else None
    if drift is None:
        return
    if abs(drift) > CLOCK_TOLERANCE:
        hours = round(drift / timedelta(hours=1), 1)
        loc.checks.append(Check(
            "time zone", "warning",
            f"Rent Manager's session clock reads {timeout} while {timezone} says {_wall(expected)} "
            f"({hours:+} h)", f"check the location's `timezone:` in the registry (Rent Manager sends local "
            "times without offsets: a wrong zone shifts every timestamp and the incremental cursor)"))
    else:
        loc.checks.append(Check("time zone", "ok", f"{timezone} agrees with Rent Manager's clock "
                                                   f"(within {int(abs(drift).total_seconds() // 60)} min)"))


def _wall(value: datetime) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="seconds")


def _count_entities(client: RentManagerClient, loc: LocationReport) -> None:
    failed: list[str] = []
    for entity in ENTITIES:
        if entity.via:
            continue  # rides inside another entity's pages: no request of its own
        try:
            page = client.get_page(entity.path, 1, page_size=1, fields=[entity.parent_key or entity.key],
                                   filters=list(entity.filters) or None)
            count: int | str = page.total_results if page.total_results is not None else (
                "no X-Total-Results" if page else 0)
            if entity.explode and isinstance(count, int):  # rows ride inside their parents: count the parents
                count = f"{count} {entity.path.lower()} carrying {entity.explode}"
            loc.counts[entity.name] = count
        except PermissionDeniedError:
            loc.counts[entity.name] = "permission denied"
            failed.append(entity.name)
        except RentManagerError as exc:
            loc.counts[entity.name] = f"error: {exc.status or ''} {exc.user_message or exc}"[:120]
            failed.append(entity.name)
    if failed:
        loc.checks.append(Check("entities", "warning", f"{len(failed)} entities could not be read: "
                                f"{', '.join(failed)}", "grant the user access to those Rent Manager modules, or "
                                "leave them out of the org's `entities:` selection"))
    else:
        loc.checks.append(Check("entities", "ok", f"{len(loc.counts)} collections readable"))


def report_lines(report: ConnectionReport) -> list[str]:
    """The report as terminal lines."""
    mark = {"ok": "ok  ", "warning": "WARN", "failed": "FAIL"}
    lines = [f"Rent Manager connection of org {report.org_id!r} at {report.base_url} ({report.seconds} s)"]
    for loc in report.locations:
        lines.append(f"\nlocation {loc.location_id} ({loc.timezone}), {loc.requests} requests"
                     + (f", API {loc.api_version}" if loc.api_version else ""))
        for check in loc.checks:
            lines.append(f"  [{mark[check.status]}] {check.name}: {check.detail}")
            if check.fix and check.status != "ok":
                lines.append(f"         fix: {check.fix}")
        if loc.rate_limit_headers:
            lines.append("  rate limit: " + ", ".join(f"{k}={v}" for k, v in sorted(loc.rate_limit_headers.items())))
        if loc.counts:
            lines.append("  rows per entity (X-Total-Results):")
            for name, count in sorted(loc.counts.items()):
                lines.append(f"    {name:<34} {count}")
    lines.append("\nconnection OK" if report.ok else "\nconnection FAILED: see the fixes above")
    return lines


def as_dict(report: ConnectionReport) -> dict[str, Any]:
    return {"org": report.org_id, "base_url": report.base_url, "ok": report.ok, "seconds": report.seconds,
            "locations": [{"location_id": loc.location_id, "timezone": loc.timezone, "api_version": loc.api_version,
                           "requests": loc.requests, "rate_limit_headers": loc.rate_limit_headers,
                           "checks": [c.__dict__ for c in loc.checks], "counts": loc.counts}
                          for loc in report.locations]}
