"""`rm-pipelines webhooks serve|register|list|inbox`: receive Rent Manager webhooks, point Rent Manager at the
receiver, and see what arrived. Tokens are read from the environment variables the registry names and never
printed: URLs shown here have their token replaced by ****.

Registered by the main CLI through `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import sys


def _engine(url: str | None):  # noqa: ANN202
    from ..settings import get_settings
    from ..warehouse.db import create_warehouse_engine

    return create_warehouse_engine(url or get_settings().database_url)


def _cmd_serve(args: argparse.Namespace) -> int:
    from ..orgs import load_registry
    from ..warehouse.db import redact_url
    from ..warehouse.migrate import upgrade
    from ..webhooks.app import durable
    from ..webhooks.server import ReceiverServer, receiver_orgs

    registry = load_registry(args.orgs)
    orgs, problems = receiver_orgs(registry)
    for problem in problems:
        print(f"warning: {problem}; its webhooks are not received", file=sys.stderr)
    if not orgs:
        print("error: no organisation can receive webhooks: give an org `webhooks: {token_env: NAME}` in the "
              "registry and set that variable", file=sys.stderr)
        return 2
    engine = durable(_engine(args.url))
    upgrade(engine)
    server = ReceiverServer(engine, orgs, host=args.host, port=args.port, max_body_bytes=args.max_body_bytes)
    server.bind()  # the printed URLs carry the real port
    print(f"Rent Manager webhook receiver on {server.url}, inbox in {redact_url(str(engine.url))}")
    for org in orgs:
        env = registry.get(org.org_id).webhooks.token_env  # type: ignore[union-attr]
        print(f"  {org.org_id:<20} POST {server.url}/rentmanager/{org.org_id}/****  (token from ${env})")
    print(f"  health: GET {server.url}/healthz.  Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _client(args: argparse.Namespace, org, location_id: int):  # noqa: ANN001, ANN202
    from ..defs.resources import RentManagerResource

    location = next((loc for loc in org.locations if loc.id == location_id), None)
    if location is None:
        raise SystemExit(f"error: org {org.id!r} has no location {location_id}")
    return RentManagerResource(orgs_file=args.orgs).open_client(org, location.id, location.timezone)


def _cmd_register(args: argparse.Namespace) -> int:
    from ..orgs import load_registry
    from ..webhooks.registration import delivery_url, mask_url, register

    org = load_registry(args.orgs).get(args.org)
    if org.webhooks is None:
        print(f"error: org {org.id!r} has no `webhooks:` section (token_env, public_url) in the registry",
              file=sys.stderr)
        return 2
    public = args.public_url or org.webhooks.public_url
    if not public:
        print(f"error: org {org.id!r}: give --public-url or webhooks.public_url (where Rent Manager reaches the "
              "receiver)", file=sys.stderr)
        return 2
    url = delivery_url(public, org.id, org.webhooks.token())
    event_types = args.event_type or org.webhooks.event_types
    status = 0
    for location in [loc for loc in org.locations if args.location in (None, loc.id)]:
        with _client(args, org, location.id) as client:
            steps = register(client, url, event_types, dry_run=args.dry_run)
        print(f"org {org.id!r} location {location.id}: {mask_url(url)}" + ("  (dry run)" if args.dry_run else ""))
        for step in steps:
            was = f" (was {mask_url(step.previous_url)})" if step.action == "update" else ""
            print(f"  {step.event_type:<24} {step.action}{was}")
    return status


def _cmd_list(args: argparse.Namespace) -> int:
    from ..orgs import load_registry
    from ..webhooks.registration import list_details, mask_url

    org = load_registry(args.orgs).get(args.org)
    mine = f"/rentmanager/{org.id}/"
    for location in [loc for loc in org.locations if args.location in (None, loc.id)]:
        with _client(args, org, location.id) as client:
            details = list_details(client)
        print(f"org {org.id!r} location {location.id}: {len(details)} webhook(s)")
        for d in sorted(details, key=lambda d: str(d.get("WebhookEventType"))):
            ours = "  ← this org's receiver" if mine in str(d.get("URL") or "") else ""
            print(f"  #{d.get('WebhookDetailID'):<5} {d.get('WebhookEventType')!s:<24} "
                  f"{mask_url(d.get('URL'))}{ours}")
    return 0


def _cmd_inbox(args: argparse.Namespace) -> int:
    import orjson

    from .. import clock
    from ..settings import get_settings
    from ..warehouse import inbox
    from ..warehouse.migrate import open_existing

    engine = open_existing(args.url or get_settings().database_url)
    try:
        totals = inbox.counts(engine, args.org)
        rows = inbox.recent(engine, args.org, limit=args.limit, status=args.status)
    finally:
        engine.dispose()
    entry = totals.get(args.org)
    if entry is None:
        print(f"org {args.org!r}: no webhook delivery received yet")
        return 0
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(entry["by_status"].items()))
    oldest = entry["oldest_pending"]
    waiting = f"; oldest pending {(clock.utcnow() - oldest).total_seconds():.0f}s ago" if oldest else ""
    print(f"org {args.org!r}: {by_status} ({entry['deliveries']} deliveries){waiting}")
    print(f"{'#':>7}  {'received (UTC)':<20} {'event':<26} {'ids':>4} {'status':<10} note")
    for r in rows:
        ids = len(orjson.loads(r["ids"])) if r["ids"] else 0
        note = r["reason"] or (f"run {r['processed_run_id'][:8]}" if r["processed_run_id"] else "")
        if r["deliveries"] > 1:
            note = f"{note} (delivered {r['deliveries']}×)".strip()
        print(f"{r['id']:>7}  {r['received_at']:%Y-%m-%d %H:%M:%S}  {r['event_type'] or '-'!s:<26} {ids:>4} "
              f"{r['status']:<10} {note}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `webhooks` command group to the main parser."""
    group = subparsers.add_parser(
        "webhooks", help="Rent Manager webhooks: the receiver, their registration in Rent Manager, the inbox",
        description="Rent Manager POSTs thin events (type + IDs) when tenants, contacts, work orders … change. The "
                    "receiver commits each delivery to ops.webhook_inbox before answering; the Dagster sensor "
                    "rentmanager_webhook_sensor turns pending deliveries into one targeted sync per org.",
    ).add_subparsers(dest="webhooks_command", required=True, metavar="COMMAND")

    serve = group.add_parser("serve", help="run the webhook receiver until Ctrl-C",
                             description="Receive deliveries on POST /rentmanager/<org>/<token> for every org whose "
                                         "registry entry has `webhooks: {token_env: …}` with that variable set; "
                                         "GET /healthz for load balancers.")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; put TLS in "
                                                           "front of it before exposing it)")
    serve.add_argument("--port", type=int, default=8780, help="port (default 8780; 0 = any free port)")
    serve.add_argument("--max-body-bytes", type=int, default=64 * 1024,
                       help="largest delivery accepted; bigger ones get 413 (default 65536)")
    serve.add_argument("--orgs", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
    serve.add_argument("--url", help="EstateCore database URL (default: ESTATECORE_DATABASE_URL)")
    serve.set_defaults(func=_cmd_serve)

    reg = group.add_parser("register", help="create or repoint the org's WebhookDetails in Rent Manager",
                           description="For each event type (default: the org's webhooks.event_types), make Rent "
                                       "Manager deliver to <public url>/rentmanager/<org>/<token>: creates missing "
                                       "WebhookDetails and repoints ones that deliver elsewhere (Rent Manager keeps "
                                       "one URL per event type and location).")
    reg.add_argument("--org", required=True, help="org id from the registry")
    reg.add_argument("--public-url", help="base URL Rent Manager reaches the receiver at (default: "
                                          "webhooks.public_url)")
    reg.add_argument("--event-type", action="append", help="event type to register (repeatable; default: the "
                                                           "org's webhooks.event_types)")
    reg.add_argument("--location", type=int, help="only this location (default: every location of the org)")
    reg.add_argument("--dry-run", action="store_true", help="show what would change without writing")
    reg.add_argument("--orgs", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
    reg.set_defaults(func=_cmd_register)

    lst = group.add_parser("list", help="show the WebhookDetails set up in Rent Manager for the org",
                           description="List the org's Rent Manager webhooks per location (tokens masked).")
    lst.add_argument("--org", required=True, help="org id from the registry")
    lst.add_argument("--location", type=int, help="only this location (default: every location of the org)")
    lst.add_argument("--orgs", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
    lst.set_defaults(func=_cmd_list)

    box = group.add_parser("inbox", help="what the receiver stored: counts by status and the latest deliveries",
                           description="Read ops.webhook_inbox (read-only): pending, processed, rejected and "
                                       "ignored deliveries of an org, newest first, with reasons.")
    box.add_argument("--org", required=True, help="org id")
    box.add_argument("--status", choices=("pending", "processed", "rejected", "ignored"), help="only this status")
    box.add_argument("--limit", type=int, default=20, help="rows to show (default 20)")
    box.add_argument("--url", help="EstateCore database URL (default: ESTATECORE_DATABASE_URL)")
    box.set_defaults(func=_cmd_inbox)
