"""`rm-pipelines sandbox ...`: serve the Rent Manager look-alike, churn its data, inject faults.

    register(subparsers)   adds the `sandbox` command group to the main argparse parser.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

DEMO_USER, DEMO_PASSWORD = "demo", "demo-password"
ADMIN_TOKEN_ENV = "RM_SANDBOX_ADMIN_TOKEN"


def default_state_file(units: int, seed: int) -> Path:
    """Where the portfolio for (units, seed) lives by default: the settings' sandbox path for those values."""
    from rm_pipelines.settings import get_settings

    return replace(get_settings(), sandbox_units=units, sandbox_seed=seed).sandbox_state_file


def _settings_defaults() -> tuple[int, int]:
    from rm_pipelines.settings import get_settings

    s = get_settings()
    return s.sandbox_units, s.sandbox_seed


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add `sandbox serve|churn|faults` to an argparse subparsers object; returns the `sandbox` parser."""
    units, seed = _settings_defaults()
    sandbox = subparsers.add_parser(
        "sandbox", help="local Rent Manager Web API look-alike (demo, tests, benchmarks)",
        description="A local HTTP server that behaves like the Rent Manager Web API, over a deterministic "
                    "generated portfolio kept in a SQLite state file.")
    sub = sandbox.add_subparsers(dest="sandbox_command", metavar="{serve,churn,faults}", required=True)

    serve = sub.add_parser(
        "serve", help="run the sandbox server until Ctrl-C",
        description="Serve the sandbox. The portfolio is generated on first use for --units/--seed and kept in "
                    "--state; later runs load it in seconds. Log in with POST /Authentication/AuthorizeUser "
                    f"{{\"Username\": \"{DEMO_USER}\", \"Password\": \"{DEMO_PASSWORD}\"}} or send header "
                    "X-RM12API-PartnerToken: sandbox-partner-token.")
    serve.add_argument("--units", type=int, default=units, help=f"portfolio size in units (default {units}, "
                       "env RM_SANDBOX_UNITS)")
    serve.add_argument("--seed", type=int, default=seed, help=f"portfolio seed (default {seed}, env RM_SANDBOX_SEED)")
    serve.add_argument("--as-of", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                       help="day the portfolio's history runs up to (default: the day the state file is first "
                            "generated; a different day regenerates it)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    serve.add_argument("--state", type=Path, default=None,
                       help="state file (default: <data dir>/sandbox/portfolio-u<units>-s<seed>.sqlite)")
    serve.add_argument("--rate-limit", type=int, default=500, metavar="N",
                       help="requests per minute per credential (default 500; 0 = unlimited)")
    serve.add_argument("--webhook-url", default=None, help="POST Rent Manager webhook events to this URL (event "
                       "types registered through POST /WebhookDetails, e.g. by `rm-pipelines webhooks register`, "
                       "are delivered to their own URL as well)")
    serve.add_argument("--hard-close-date", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                       help="close the books on this day: saving a violation or ledger row dated on or before it "
                            "answers 412 unless saveOptions=IgnoreHardClose is sent")
    serve.add_argument("--token-idle-seconds", type=float, default=900, help="API token idle timeout (default 900)")
    serve.add_argument("--token-absolute-seconds", type=float, default=86400,
                       help="API token absolute lifetime (default 86400)")
    serve.add_argument("--timezone", default="America/New_York", help="location time zone (default America/New_York)")
    serve.add_argument("--admin-token", default=None, help="token the /_sandbox/ admin routes require (default: env "
                       f"{ADMIN_TOKEN_ENV}, else a random one printed at start; required off loopback)")
    serve.set_defaults(func=cmd_serve)

    churn = sub.add_parser(
        "churn", help="simulate edits and hard deletes (incremental sync, webhooks, delete detection)",
        description="Edit --changes records (their UpdateDate moves past every earlier one) and hard-delete "
                    "--deletes leaf records (charges without allocations, credits, non-primary contacts, ...). "
                    "Works on a running server with --url (webhooks then fire), or on a state file that no server "
                    "is serving (a running server keeps its data in memory and would not see the change).")
    churn.add_argument("--changes", type=int, default=100, help="records to edit (default 100)")
    churn.add_argument("--deletes", type=int, default=10, help="records to hard-delete (default 10)")
    churn.add_argument("--seed", type=int, default=None, help="churn seed (default: derived from the data)")
    target = churn.add_mutually_exclusive_group()
    target.add_argument("--url", help="a running sandbox, e.g. http://127.0.0.1:8765")
    churn.add_argument("--admin-token", default=None,
                       help=f"the running sandbox's admin token (default: env {ADMIN_TOKEN_ENV})")
    target.add_argument("--state", type=Path, help="a state file (default: the one for --units/--portfolio-seed)")
    churn.add_argument("--units", type=int, default=units, help=f"portfolio units for the default state file "
                       f"(default {units})")
    churn.add_argument("--portfolio-seed", type=int, default=seed,
                       help=f"portfolio seed for the default state file (default {seed})")
    churn.add_argument("--json", action="store_true",
                       help="print the result as JSON (counts and the ids touched) instead of a summary")
    churn.set_defaults(func=cmd_churn)

    faults = sub.add_parser(
        "faults", help="inject faults into a running sandbox",
        description="Change the fault settings of a running sandbox (they apply to API routes, not /_sandbox/). "
                    "Without options, prints the current settings.")
    faults.add_argument("--url", required=True, help="the running sandbox, e.g. http://127.0.0.1:8765")
    faults.add_argument("--admin-token", default=None,
                        help=f"the running sandbox's admin token (default: env {ADMIN_TOKEN_ENV})")
    faults.add_argument("--429-storm", dest="storm", type=int, metavar="N", help="answer the next N requests with 429")
    faults.add_argument("--5xx-next", dest="error_next", type=int, metavar="N",
                        help="answer the next N requests with a 5xx")
    faults.add_argument("--5xx-rate", dest="error_rate", type=float, metavar="R",
                        help="answer this fraction of requests (0..1) with a 5xx")
    faults.add_argument("--latency", type=float, metavar="S", help="add S seconds before every answer")
    faults.add_argument("--drop-next", type=int, metavar="N", help="cut the connection mid-response N times")
    faults.add_argument("--drop-rate", type=float, metavar="R", help="cut this fraction of responses (0..1)")
    faults.add_argument("--malformed", metavar="RESOURCE:PAGE",
                        help="answer that page (e.g. Charges:3) with truncated JSON; 'off' clears it")
    faults.add_argument("--short-page", metavar="RESOURCE:PAGE:N",
                        help="answer that page with its last N rows left out (headers unchanged): a lying server")
    faults.add_argument("--404-page", dest="not_found_page", metavar="RESOURCE:PAGE",
                        help="answer that page with 404 (no X-Total-Results)")
    faults.add_argument("--delete-before-page", metavar="RESOURCE:PAGE:N",
                        help="hard-delete the N lowest keys of the collection just before serving that page")
    faults.add_argument("--duplicate-row", metavar="RESOURCE:PAGE",
                        help="answer that page (e.g. Units:1) with its first record twice, the second copy a later "
                             "edit in place of its last record")
    faults.add_argument("--expire-tokens", action="store_true", help="invalidate every API token issued so far")
    faults.add_argument("--reset", action="store_true", help="clear all faults first")
    faults.set_defaults(func=cmd_faults)
    return sandbox


def cmd_serve(args: argparse.Namespace) -> int:
    from rm_pipelines.settings import get_settings

    from ..sandbox.admin import ADMIN_HEADER
    from ..sandbox.config import SandboxConfig
    from ..sandbox.server import SandboxServer
    from ..sandbox.store import SandboxStore

    state = args.state or default_state_file(args.units, args.seed)
    print(f"Loading sandbox portfolio ({args.units} units, seed {args.seed}) from {state} ...", flush=True)
    as_of = args.as_of or get_settings().sandbox_as_of
    store = SandboxStore.open(state, args.units, args.seed, timezone=args.timezone, as_of=as_of)
    if store.generate_seconds:
        print(f"  generated in {store.generate_seconds:.1f}s", flush=True)
    print(f"  history runs up to {store.as_of}", flush=True)
    config = SandboxConfig(
        location_timezone=args.timezone,
        rate_limit_per_minute=args.rate_limit or None,
        webhook_url=args.webhook_url,
        hard_close_date=args.hard_close_date.isoformat() if args.hard_close_date else None,
        token_idle_seconds=args.token_idle_seconds,
        token_absolute_seconds=args.token_absolute_seconds,
        admin_token=args.admin_token or os.environ.get(ADMIN_TOKEN_ENV) or None,
    )
    try:
        server = SandboxServer(store, config, host=args.host, port=args.port)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server.bind()  # bind first so the printed URL carries the real port
    records = sum(store.count(c) for c in store.collections())
    print(f"Rent Manager sandbox on {server.url}  ({records:,} records)")
    print(f"  user login : POST {server.url}/Authentication/AuthorizeUser "
          f"{{\"Username\": \"{DEMO_USER}\", \"Password\": \"{DEMO_PASSWORD}\"}}")
    print(f"  partner    : header X-RM12API-PartnerToken: {config.partner_tokens[0]}")
    print(f"  admin      : {server.url}/_sandbox/stats  /_sandbox/faults  /_sandbox/config  /_sandbox/churn")
    print(f"               header {ADMIN_HEADER}: {config.admin_token}  (or --admin-token / {ADMIN_TOKEN_ENV} "
          "for `sandbox churn|faults --url`)")
    print("Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0


def cmd_churn(args: argparse.Namespace) -> int:
    import orjson

    if args.url:
        import httpx

        body: dict[str, Any] = {"changes": args.changes, "deletes": args.deletes}
        if args.seed is not None:
            body["seed"] = args.seed
        resp = httpx.post(args.url.rstrip("/") + "/_sandbox/churn", json=body, timeout=300,
                          headers=_admin_headers(args))
        if resp.status_code != 200:
            hint = f" (give the server's --admin-token or {ADMIN_TOKEN_ENV})" if resp.status_code == 404 else ""
            print(f"churn failed: HTTP {resp.status_code} {resp.text}{hint}", file=sys.stderr)
            return 1
        result = resp.json()
    else:
        from ..sandbox.churn import churn
        from ..sandbox.store import SandboxStore

        state = args.state or default_state_file(args.units, args.portfolio_seed)
        if not state.exists():
            print(f"no state file at {state}; run `sandbox serve` first or pass --state", file=sys.stderr)
            return 1
        units, seed = _read_meta(state)
        store = SandboxStore.open(state, units, seed)
        result = churn(store, args.changes, args.deletes, args.seed).to_dict()
        store.close()
    if args.json:
        print(orjson.dumps(_summary(result), option=orjson.OPT_INDENT_2).decode())
    else:
        print(_readable(result, args.url or str(state)))
    return 0


def _counts(ids_by_collection: dict[str, list[int]]) -> str:
    items = sorted(((k, len(v)) for k, v in ids_by_collection.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {n}" for name, n in items) or "none"


def _readable(result: dict, where: str) -> str:
    edited = sum(len(v) for v in result["changed"].values())
    deleted = sum(len(v) for v in result["deleted"].values())
    return "\n".join([
        f"Churned the sandbox at {where}:",
        f"  edited  {edited:>6} record(s): {_counts(result['changed'])}",
        f"  deleted {deleted:>6} record(s): {_counts(result['deleted'])}",
        "An incremental sync picks up the edits (their UpdateDate moved forward); a full sync flags the deleted "
        "keys. --json lists the ids.",
    ])


def _admin_headers(args: argparse.Namespace) -> dict[str, str]:
    from ..sandbox.admin import ADMIN_HEADER

    return {ADMIN_HEADER: args.admin_token or os.environ.get(ADMIN_TOKEN_ENV, "")}


def _read_meta(state: Path) -> tuple[int, int]:
    """(units, seed) a state file was generated for, so churning it never triggers a regeneration."""
    import sqlite3

    db = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    finally:
        db.close()
    return int(meta["units"]), int(meta["seed"])


def _summary(result: dict) -> dict:
    return {
        "changed": {k: len(v) for k, v in result["changed"].items()},
        "deleted": {k: len(v) for k, v in result["deleted"].items()},
        "changed_ids": result["changed"],
        "deleted_ids": result["deleted"],
    }


def cmd_faults(args: argparse.Namespace) -> int:
    import httpx

    body: dict[str, Any] = {}
    if args.reset:
        body["reset"] = True
    if args.storm is not None:
        body["status_429_next"] = args.storm
    if args.error_next is not None:
        body["error_5xx_next"] = args.error_next
    if args.error_rate is not None:
        body["error_5xx_rate"] = args.error_rate
    if args.latency is not None:
        body["latency_seconds"] = args.latency
    if args.drop_next is not None:
        body["drop_next"] = args.drop_next
    if args.drop_rate is not None:
        body["drop_rate"] = args.drop_rate
    if args.malformed is not None:
        if args.malformed.lower() == "off":
            body["malformed_page"] = None
        else:
            resource, _, page = args.malformed.partition(":")
            if not resource or not page.isdigit():
                print("--malformed takes RESOURCE:PAGE, e.g. Charges:3", file=sys.stderr)
                return 2
            body["malformed_page"] = [resource, int(page)]
    for key, value, parts in (("short_page", args.short_page, 3), ("not_found_page", args.not_found_page, 2),
                              ("delete_before_page", args.delete_before_page, 3),
                              ("duplicate_row", args.duplicate_row, 2)):
        if value is None:
            continue
        items = value.split(":")
        if len(items) != parts or not all(i.isdigit() for i in items[1:]):
            print(f"--{key.replace('_', '-')} takes {'RESOURCE:PAGE:N' if parts == 3 else 'RESOURCE:PAGE'}",
                  file=sys.stderr)
            return 2
        body[key] = [items[0], *(int(i) for i in items[1:])]
    if args.expire_tokens:
        body["expire_tokens"] = True
    url = args.url.rstrip("/") + "/_sandbox/faults"
    headers = _admin_headers(args)
    resp = httpx.post(url, json=body, timeout=30, headers=headers) if body else httpx.get(url, timeout=30,
                                                                                          headers=headers)
    if resp.status_code == 404:
        print(f"the sandbox at {args.url} refused the admin token (give --admin-token or {ADMIN_TOKEN_ENV})",
              file=sys.stderr)
        return 1
    print(resp.text)
    return 0 if resp.status_code == 200 else 1


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: python -m rm_pipelines.cli.sandbox sandbox serve ..."""
    parser = argparse.ArgumentParser(prog="rm-pipelines")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
