"""`rm-pipelines orgs add|test|remove`: onboard an org, test its Rent Manager connection, take it out again.

Registered under the `orgs` group by the main CLI (`orgs list|validate` live there).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _registry_path(args: argparse.Namespace) -> Path:
    from ..settings import get_settings

    return Path(args.file) if args.file else get_settings().orgs_file


def _ask(prompt: str, default: str | None = None) -> str:
    shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
    answer = input(shown).strip()
    return answer or (default or "")


def _entry(args: argparse.Namespace) -> dict[str, Any]:
    """The registry entry from the flags, asking for what is missing when a person is at the terminal."""
    interactive = args.interactive or (args.id is None and sys.stdin.isatty())
    if args.id is None and not interactive:
        raise SystemExit("orgs add needs --id (or run it at a terminal to be asked)")
    org_id = args.id or _ask("org id (a slug, e.g. acme)")
    name = args.name or (_ask("display name", org_id) if interactive else org_id)
    where: dict[str, Any] = {}
    if args.base_url:
        where["base_url"] = args.base_url
    elif args.company_code:
        where["company_code"] = args.company_code
    elif interactive:
        where["company_code"] = _ask("Rent Manager company code (the <code> of <code>.api.rentmanager.com)")
    mode = args.auth or (_ask("auth mode: user or partner", "user") if interactive else "user")
    auth: dict[str, Any] = {"mode": mode}
    prefix = org_id.upper().replace("-", "_")
    if mode == "partner":
        auth["partner_token_env"] = args.partner_token_env or (
            _ask("environment variable holding the partner token", f"{prefix}_RM_PARTNER_TOKEN") if interactive
            else f"{prefix}_RM_PARTNER_TOKEN")
    else:
        auth["username_env"] = args.username_env or (
            _ask("environment variable holding the username", f"{prefix}_RM_USER") if interactive
            else f"{prefix}_RM_USER")
        auth["password_env"] = args.password_env or (
            _ask("environment variable holding the password", f"{prefix}_RM_PASSWORD") if interactive
            else f"{prefix}_RM_PASSWORD")
    locations = []
    for spec in args.location or ([_ask("location id and time zone", "1:America/New_York")] if interactive else
                                  ["1:America/New_York"]):
        loc_id, _, tz = spec.partition(":")
        if not loc_id.strip().isdigit():
            raise SystemExit(f"--location takes ID:TIMEZONE, e.g. 1:America/Chicago (got {spec!r})")
        locations.append({"id": int(loc_id), "timezone": tz or "America/New_York"})
    entry: dict[str, Any] = {"id": org_id, "name": name, "rentmanager": {**where, "auth": auth},
                             "locations": locations}
    if args.entities:
        entry["entities"] = args.entities
    schedules = {k: v for k, v in (("incremental", args.incremental_cron), ("full", args.full_cron)) if v}
    if schedules:
        entry["schedules"] = schedules
    return entry


def cmd_add(args: argparse.Namespace) -> int:
    from ..orgs import add_org

    path = _registry_path(args)
    org = add_org(path, _entry(args))
    print(f"added org {org.id!r} ({org.name}) to {path}; its secrets are read from "
          f"{', '.join(org.credential_env().values())}")
    missing = org.missing_env()
    if missing:
        print(f"next: export {' and '.join(missing)}, then `rm-pipelines orgs test --org {org.id}`")
    else:
        print(f"next: `rm-pipelines orgs test --org {org.id}`")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from ..defs.resources import RentManagerResource
    from ..flows.connection import as_dict, report_lines, test_connection
    from ..orgs import load_registry

    path = _registry_path(args)
    org = load_registry(path).get(args.org)
    report = test_connection(org, RentManagerResource(orgs_file=str(path)).open_client,
                             count_entities=not args.no_counts)
    if args.json:
        print(json.dumps(as_dict(report), indent=2, default=str))
    else:
        print("\n".join(report_lines(report)))
    return 0 if report.ok else 1


def cmd_remove(args: argparse.Namespace) -> int:
    import uuid

    from ..orgs import load_registry, remove_org
    from ..settings import get_settings
    from ..warehouse.db import create_warehouse_engine
    from ..warehouse.locks import org_lock
    from ..warehouse.purge import purge_org

    path = _registry_path(args)
    load_registry(path).get(args.org)
    if args.purge:
        if not args.yes and sys.stdin.isatty():
            if _ask(f"delete every row of org {args.org!r} from the warehouse? type the org id to confirm") != args.org:
                print("not purged")
                return 1
        engine = create_warehouse_engine(args.url or get_settings().database_url)
        run_id = f"purge-{uuid.uuid4().hex[:12]}"
        try:
            with org_lock(engine, args.org, holder=f"orgs remove --purge ({run_id})"):
                removed = purge_org(engine, args.org, run_id=run_id)
        finally:
            engine.dispose()
        print(f"purged {sum(removed.values())} rows of org {args.org!r} from {len(removed)} tables "
              f"(audited as run {run_id})")
    remove_org(path, args.org)
    kept = "" if args.purge else "; its data stays in the warehouse (remove it with --purge)"
    print(f"removed org {args.org!r} from {path}; the org_registry_sensor drops its partition{kept}")
    return 0


def register(orgs: argparse._SubParsersAction) -> None:
    """Add `add`, `test` and `remove` to the `orgs` command group."""
    add = orgs.add_parser(
        "add", help="add an org to the registry (asks at a terminal; flags for scripts)",
        description="Write a new org into the registry file, validated like a load. Secrets are never written: "
                    "only the names of the environment variables that hold them.")
    add.add_argument("--file", help="registry file (default: RM_PIPELINES_ORGS; created when missing)")
    add.add_argument("--id", help="org id: a slug that becomes the Dagster partition key")
    add.add_argument("--name", help="display name (default: the id)")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--company-code", help="Rent Manager company code (https://<code>.api.rentmanager.com)")
    where.add_argument("--base-url", help="Rent Manager API base URL (instead of a company code)")
    add.add_argument("--auth", choices=["user", "partner"], help="login with a user, or with a partner token")
    add.add_argument("--username-env", help="NAME of the environment variable holding the username")
    add.add_argument("--password-env", help="NAME of the environment variable holding the password")
    add.add_argument("--partner-token-env", help="NAME of the environment variable holding the partner token")
    add.add_argument("--location", action="append", metavar="ID:TIMEZONE",
                     help="a Rent Manager location and its IANA time zone (repeatable; default 1:America/New_York)")
    add.add_argument("--entities", nargs="+", metavar="ENTITY", help="sync only these catalog entities (default: all)")
    add.add_argument("--incremental-cron", help="cron of the incremental sync (default hourly)")
    add.add_argument("--full-cron", help="cron of the full sync (default Sundays 03:00)")
    add.add_argument("--interactive", action="store_true", help="ask for every value even when flags are given")
    add.set_defaults(func=cmd_add)

    test = orgs.add_parser(
        "test", help="test an org's Rent Manager connection and say what to fix",
        description="Log in, check each location and its time zone, and count each catalog entity cheaply "
                    "(pageSize=1, X-Total-Results). Exit 1 when a check fails.")
    test.add_argument("--org", required=True, help="org id from the registry")
    test.add_argument("--file", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
    test.add_argument("--no-counts", action="store_true", help="skip counting the entities (one request each)")
    test.add_argument("--json", action="store_true", help="print the report as JSON")
    test.set_defaults(func=cmd_test)

    remove = orgs.add_parser(
        "remove", help="take an org out of the registry (its data stays unless --purge)",
        description="Remove the org from the registry; the org_registry_sensor then drops its partition. With "
                    "--purge every row of the org is deleted from the warehouse (audited).")
    remove.add_argument("--org", required=True, help="org id from the registry")
    remove.add_argument("--file", help="registry file (default: RM_PIPELINES_ORGS)")
    remove.add_argument("--purge", action="store_true", help="also delete the org's rows from the warehouse")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation of --purge")
    remove.add_argument("--url", help="warehouse URL for --purge (default: ESTATECORE_DATABASE_URL)")
    remove.set_defaults(func=cmd_remove)
