"""Incremental sync benchmark: what an incremental run costs after N edits in Rent Manager.

For each portfolio size: the sandbox in its own process, a full sync into a fresh SQLite warehouse, then for each
N an edit of N records through the sandbox (UpdateDate moves, webhooks fire if configured) followed by one
incremental sync of every entity. Prints one JSON object per (units, N): requests, rows returned by the API,
rows re-read (returned although already landed unchanged), rows changed, seconds. Example:

    python bench/incremental.py --units 500 5000 --changes 0 10 1000 10000

The portfolio's history ends the day before (`--as-of`), as an account's does when its last sync was a while
ago; `--history-to-now` generates it up to the moment the sandbox starts instead, which stamps a few percent of
the records in the second before the first sync (every run then re-reads those within its overlap).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from common import ADMIN_TOKEN, ROOT, bench_registry, start_sandbox, stop_sandbox


def run_scenarios(url: str, admin_token: str, units: int, changes: list[int], work: Path) -> list[dict]:
    """Runs inside a fresh process: full sync, then per N: N edits, one incremental sync (measured)."""
    sys.path.insert(0, str(ROOT))  # this checkout's rm_pipelines, not an installed one
    from rm_pipelines.defs.resources import RentManagerResource
    from rm_pipelines.flows.extract import OrgSync
    from rm_pipelines.orgs import load_registry
    from rm_pipelines.rentmanager.catalog import ENTITIES
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    registry = bench_registry(work, url)
    engine = create_warehouse_engine(f"sqlite:///{work / 'estatecore.sqlite'}")
    ensure_schema(engine)
    org = load_registry(registry).get("bench")
    names = [e.name for e in ENTITIES]
    factory = RentManagerResource(orgs_file=str(registry)).open_client
    t0 = time.monotonic()
    full = OrgSync(org, engine, factory, run_id="bench-full").run(names, mode="full")
    out = [{"units": units, "run": "full", "ok": full.ok, "requests": full.requests,
            "rows": sum(r.rows for r in full.entities.values()), "seconds": round(time.monotonic() - t0, 2)}]
    for n in changes:
        edited = httpx.post(f"{url}/_sandbox/churn", headers={"X-Sandbox-Admin-Token": admin_token}, json={"changes": n, "deletes": 0},
                            timeout=600).json()
        t0 = time.monotonic()
        report = OrgSync(org, engine, factory, run_id=f"bench-incr-{n}").run(names, mode="incremental")
        seconds = time.monotonic() - t0
        per = report.entities.values()
        reread = {r.entity: r.unchanged for r in per if r.unchanged}
        requests = {r.entity: r.requests for r in per if r.requests > 1}
        out.append({
            "units": units,
            "run": "incremental",
            "changes": n,
            "records_edited": sum(len(v) for v in edited.get("changed", {}).values()),
            "ok": report.ok,
            "requests": report.requests,
            "rows_returned": sum(r.rows for r in per),
            "rows_reread": sum(reread.values()),
            "rows_changed": sum(r.inserted + r.updated for r in per),
            "seconds": round(seconds, 2),
            "entities_read": sum(1 for r in per if r.mode != "deferred"),
            "reread_by_entity": dict(sorted(reread.items(), key=lambda kv: -kv[1])[:6]),
            "requests_over_1": dict(sorted(requests.items(), key=lambda kv: -kv[1])[:6]),
            **({"errors": report.errors[:3]} if report.errors else {}),
        })
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--changes", type=int, nargs="+", default=[0, 10, 1000, 10000])
    parser.add_argument("--history-to-now", action="store_true",
                        help="the portfolio's history ends when the sandbox starts (default: the day before)")
    parser.add_argument("--state-dir", type=Path, help="keep sandbox portfolios here between runs (default: a temp dir)")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)  # internal: run one portfolio's scenarios here
    args = parser.parse_args()

    if args.scenario:
        spec = json.loads(args.scenario)
        print(json.dumps(run_scenarios(spec["url"], spec["admin_token"], spec["units"], spec["changes"], Path(spec["work"]))))
        return

    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="rm-bench-state-"))
    state_dir.mkdir(parents=True, exist_ok=True)
    for units in args.units:
        # a fresh copy of the portfolio each time: edits made by an earlier run must not carry over
        (state_dir / f"bench-u{units}.sqlite").unlink(missing_ok=True)
        as_of = None if args.history_to_now else date.today() - timedelta(days=1)
        proc, url, _startup = start_sandbox(units, state_dir, as_of=as_of)
        try:
            work = Path(tempfile.mkdtemp(prefix="rm-bench-"))
            spec = json.dumps({"url": url, "admin_token": ADMIN_TOKEN, "units": units, "changes": args.changes, "work": str(work)})
            child = subprocess.run([sys.executable, __file__, "--scenario", spec], capture_output=True, text=True,
                                   cwd=ROOT)
            if child.returncode != 0:
                print(json.dumps({"units": units, "error": child.stderr[-2000:]}))
                continue
            for result in json.loads(child.stdout.strip().splitlines()[-1]):
                print(json.dumps(result), flush=True)
        finally:
            stop_sandbox(proc)


if __name__ == "__main__":
    main()
