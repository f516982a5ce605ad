"""`rm-pipelines writeback enqueue|list|retry|post` and `rm-pipelines conflicts list|resolve`: changes EstateCore
writes to Rent Manager, and the fields both sides changed that wait for a person.

Registered by the main CLI through `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

import orjson


def _engine(url: str | None):  # noqa: ANN202
    from ..settings import get_settings
    from ..warehouse.db import create_warehouse_engine
    from ..warehouse.migrate import upgrade

    engine = create_warehouse_engine(url or get_settings().database_url)
    upgrade(engine)
    return engine


def _org(args: argparse.Namespace):  # noqa: ANN202
    from ..orgs import load_registry

    return load_registry(args.orgs).get(args.org)


def _value(text: str) -> Any:
    """`5` → 5, `true` → True, `null` → None, anything else stays text."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SystemExit(f"error: {what} {item!r} is not NAME=VALUE")
        out[name.strip()] = value
    return out


def _short(value: Any, width: int = 40) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= width else text[:width - 1] + "…"


def _cmd_enqueue(args: argparse.Namespace) -> int:
    from ..flows import writeback as W

    org, engine = _org(args), _engine(args.url)
    by = args.by or getpass.getuser()
    try:
        if args.work_order is not None:
            if not args.status:
                raise W.WritebackError("--work-order needs --status (a status name or ServiceManagerStatusID)")
            row_id = W.enqueue_work_order_status(engine, org, args.work_order, args.status, requested_by=by,
                                                 location_id=args.location, **({"reason": args.reason} if args.reason else {}))
        elif args.violation is not None:
            if not args.note:
                raise W.WritebackError("--violation needs --note")
            row_id = W.enqueue_violation_note(engine, org, args.violation, args.note, requested_by=by,
                                              location_id=args.location, **({"reason": args.reason} if args.reason else {}))
        else:
            if not (args.resource and args.key is not None):
                raise W.WritebackError("give --resource and --key with --set/--udf, or --work-order, or --violation")
            fields = {k: _value(v) for k, v in _pairs(args.set, "--set").items()}
            udfs = _pairs(args.udf, "--udf")
            if bool(fields) == bool(udfs):
                raise W.WritebackError("give record fields (--set) or UDF values (--udf), one kind per change")
            row_id = W.enqueue(engine, org, resource=args.resource, rm_key=args.key, fields=fields or udfs,
                               kind="record" if fields else "udf", reason=args.reason or "requested from the command line",
                               requested_by=by, location_id=args.location)
    except (W.WritebackError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if row_id is None:
        print("nothing to write: Rent Manager already holds these values (as last synced)")
        return 0
    print(f"outbox #{row_id} pending; the write-back sensor posts it (or run `rm-pipelines writeback post --org "
          f"{org.id}`)")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from ..warehouse import outbox

    engine = _engine(args.url)
    counts = outbox.counts(engine, args.org)
    print(f"org {args.org!r}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no write-back rows"))
    rows = outbox.rows(engine, args.org, status=args.status)[-args.limit:]
    if rows:
        print(f"{'#':>6} {'status':<9} {'record':<30} {'change':<44} {'tries':>5}  by / note")
    for r in rows:
        change = ", ".join(f"{k}={_short(v, 24)}" for k, v in r.fields.items())
        note = r.last_error or r.reason
        print(f"{r.id:>6} {r.status:<9} {f'{r.resource} {r.rm_key}' + (' (UDF)' if r.kind == 'udf' else ''):<30} "
              f"{_short(change, 44):<44} {r.attempts:>5}  {r.requested_by}: {_short(note, 200)}")
    return 0


def _cmd_retry(args: argparse.Namespace) -> int:
    from ..flows import writeback as W

    try:
        row = W.retry(_engine(args.url), _org(args), args.id, save_options=args.save_option)
    except W.WritebackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options = f" with saveOptions={','.join(row.save_options)}" if row.save_options else ""
    print(f"outbox #{row.id} pending again{options}")
    return 0


def _cmd_post(args: argparse.Namespace) -> int:
    import uuid

    from ..defs.resources import RentManagerResource
    from ..flows import writeback as W
    from ..warehouse.locks import OrgBusyError

    org = _org(args)
    try:
        report = W.post_pending(_engine(args.url), org, RentManagerResource(orgs_file=args.orgs).open_client,
                                run_id=f"cli-{uuid.uuid4().hex[:12]}")
    except (W.WritebackError, OrgBusyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    return 1 if report.failed or report.errors else 0


def _cmd_conflicts_list(args: argparse.Namespace) -> int:
    from ..warehouse import outbox

    found = outbox.conflict_rows(_engine(args.url), args.org, status=None if args.all else "open")
    if not found:
        print(f"org {args.org!r}: no {'' if args.all else 'open '}conflicts")
        return 0
    print(f"{'#':>5} {'status':<7} {'record':<28} {'field':<26} {'base':<18} {'EstateCore (ours)':<20} "
          f"{'Rent Manager (theirs)':<22} detected")
    for c in found:
        print(f"{c['id']:>5} {c['status']:<7} {c['resource'] + ' ' + str(c['rm_key']):<28} {_short(c['field'], 26):<26} "
              f"{_short(c['base'], 18):<18} {_short(c['ours'], 20):<20} {_short(c['theirs'], 22):<22} "
              f"{c['detected_at']:%Y-%m-%d %H:%M}")
    if not args.all:
        print("resolve: rm-pipelines conflicts resolve --org ORG ID --take ours|theirs")
    return 0


def _cmd_conflicts_resolve(args: argparse.Namespace) -> int:
    from ..flows import writeback as W

    try:
        done = W.resolve_conflict(_engine(args.url), _org(args), args.id, take=args.take,
                                  by=args.by or getpass.getuser())
    except W.WritebackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kept = "EstateCore's value will be written" if args.take == "ours" else "Rent Manager's value is kept"
    print(f"conflict #{done['id']} ({done['resource']} {done['rm_key']} {done['field']}): {kept}; outbox "
          f"#{done['outbox_id']} is {done['outbox_status']}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `writeback` and `conflicts` command groups to the main parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--org", required=True, help="org id from the registry")
    common.add_argument("--orgs", help="registry file (default: RM_PIPELINES_ORGS or the bundled demo registry)")
    common.add_argument("--url", help="EstateCore database URL (default: ESTATECORE_DATABASE_URL)")

    group = subparsers.add_parser(
        "writeback", help="changes EstateCore writes to Rent Manager (the outbox)",
        description="Changes for Rent Manager wait in ops.outbox; the Dagster sensor rentmanager_outbox_sensor posts "
                    "them (or `writeback post`). A change is checked against the record as last synced: if Rent "
                    "Manager changed it since, the org's per-field policy (registry writeback.fields) decides.",
    ).add_subparsers(dest="writeback_command", required=True, metavar="COMMAND")
    enq = group.add_parser("enqueue", parents=[common], help="ask for a change to be written to Rent Manager",
                           description="Enqueue fields of a record (--resource/--key with --set Field=value), its UDF "
                                       "values (--udf 'Name=value'), a work-order status (--work-order ID --status "
                                       "NAME) or an HOA violation note (--violation ID --note TEXT).")
    enq.add_argument("--resource", help="Rent Manager resource: Tenants, Units, Properties, Contacts, "
                                        "ServiceManagerIssues or Violations")
    enq.add_argument("--key", type=int, help="the record's Rent Manager key (TenantID, ViolationID …)")
    enq.add_argument("--set", action="append", metavar="FIELD=VALUE",
                     help="a field of the record (repeatable); the value is read as JSON when it parses (5, true, "
                          "null), as text otherwise")
    enq.add_argument("--udf", action="append", metavar="NAME=VALUE", help="a UDF value of the record (repeatable)")
    enq.add_argument("--work-order", type=int, metavar="ID", help="a work order (ServiceManagerIssueID) to set the "
                                                                  "status of")
    enq.add_argument("--status", help="with --work-order: status name or ServiceManagerStatusID")
    enq.add_argument("--violation", type=int, metavar="ID", help="an HOA violation (ViolationID) to note")
    enq.add_argument("--note", help="with --violation: the resolution note (ResolveAction)")
    enq.add_argument("--reason", help="why (kept with the change and in the audit log)")
    enq.add_argument("--by", help="who asks (default: the login name)")
    enq.add_argument("--location", type=int, help="Rent Manager location (default: the org's first)")
    enq.set_defaults(func=_cmd_enqueue)
    lst = group.add_parser("list", parents=[common], help="the org's write-back rows, newest last",
                           description="Counts by status, then the latest rows with their change and outcome.")
    lst.add_argument("--status", choices=("pending", "sent", "conflict", "failed", "done"), help="only this status")
    lst.add_argument("--limit", type=int, default=30, help="rows to show (default 30)")
    lst.set_defaults(func=_cmd_list)
    rty = group.add_parser("retry", parents=[common], help="put a failed row back to pending",
                           description="After a 412, Rent Manager asks for a save option (e.g. IgnoreHardClose): "
                                       "retry with --save-option to send it, if that override is intended.")
    rty.add_argument("id", type=int, help="outbox row id")
    rty.add_argument("--save-option", action="append", help="saveOptions value to send (repeatable)")
    rty.set_defaults(func=_cmd_retry)
    pst = group.add_parser("post", parents=[common], help="post the org's pending rows now (outside Dagster)",
                           description="Post pending rows, re-read and land what was written, load the EstateCore "
                                       "tables it feeds; prints the report. Exit 1 when a row failed.")
    pst.set_defaults(func=_cmd_post)

    conflicts = subparsers.add_parser(
        "conflicts", help="fields both EstateCore and Rent Manager changed, waiting for a person",
        description="A field whose policy is `manual` (the default) and that both sides changed is not written: it "
                    "waits in ops.conflicts with its base, EstateCore's and Rent Manager's values.",
    ).add_subparsers(dest="conflicts_command", required=True, metavar="COMMAND")
    cl = conflicts.add_parser("list", parents=[common], help="open conflicts (--all: resolved ones too)",
                              description="Each conflict with the value both sides started from and both new ones.")
    cl.add_argument("--all", action="store_true", help="include resolved conflicts")
    cl.set_defaults(func=_cmd_conflicts_list)
    cr = conflicts.add_parser("resolve", parents=[common], help="decide a conflict",
                              description="--take ours writes EstateCore's value over Rent Manager's (checked again "
                                          "against the record as it is now); --take theirs keeps Rent Manager's.")
    cr.add_argument("id", type=int, help="conflict id")
    cr.add_argument("--take", required=True, choices=("ours", "theirs"), help="whose value stays")
    cr.add_argument("--by", help="who decides (default: the login name; kept in the audit log)")
    cr.set_defaults(func=_cmd_conflicts_resolve)
