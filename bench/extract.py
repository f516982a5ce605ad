"""Extraction benchmark: the sandbox in its own process, the pipeline's org sync into a fresh SQLite warehouse.

Prints one JSON object per scenario: requests, rows, rows/s, budget utilisation, 429s, retries, peak RSS of
the pipeline process. Examples:

    python bench/extract.py --units 500 5000 30000           # each with the 500/min limit and with no limit
    python bench/extract.py --units 30000 --no-limit-only --entities charges
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common import ADMIN_HEADERS, ROOT, bench_registry, start_sandbox, stop_sandbox

def run_scenario(url: str, units: int, limit: int | None, entities: list[str] | None, work: Path) -> dict:
    """Runs inside a fresh process so peak RSS is this scenario's own."""
    from rm_pipelines.defs.resources import RentManagerResource
    from rm_pipelines.orgs import load_registry
    from rm_pipelines.rentmanager.catalog import ENTITIES
    from rm_pipelines.flows.extract import OrgSync
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    registry = bench_registry(work, url, limit)
    engine = create_warehouse_engine(f"sqlite:///{work / 'estatecore.sqlite'}")
    ensure_schema(engine)
    org = load_registry(registry).get("bench")
    names = entities or [e.name for e in ENTITIES]
    t0 = time.monotonic()
    report = OrgSync(org, engine, RentManagerResource(orgs_file=str(registry)).open_client, run_id="bench").run(names, mode="full")
    seconds = time.monotonic() - t0
    rows = sum(r.rows for r in report.entities.values())
    out = {
        "units": units,
        "limit_per_minute": limit,
        "entities": len(names) if not entities else entities,
        "ok": report.ok,
        "rows": rows,
        "requests": report.requests,
        "throttled_429": report.throttled,
        "retries": report.retries,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds) if seconds else None,
        "budget_utilisation": round(report.requests / (limit * seconds / 60), 3) if limit else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "largest": sorted(((r.entity, r.rows, round(r.rows / r.seconds) if r.seconds else None)
                           for r in report.entities.values()), key=lambda x: -x[1])[:3],
    }
    if report.errors:
        out["errors"] = report.errors[:3]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--limit", type=int, default=500, help="requests/minute for the limited scenario")
    parser.add_argument("--no-limit-only", action="store_true", help="skip the rate-limited scenario")
    parser.add_argument("--limit-only", action="store_true", help="skip the unlimited scenario")
    parser.add_argument("--entities", nargs="*", help="catalog entities (default: all)")
    parser.add_argument("--state-dir", type=Path, help="keep sandbox portfolios here between runs (default: a temp dir)")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)  # internal: run one scenario in this process
    args = parser.parse_args()

    if args.scenario:
        spec = json.loads(args.scenario)
        print(json.dumps(run_scenario(spec["url"], spec["units"], spec["limit"], spec["entities"], Path(spec["work"]))))
        return

    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="rm-bench-state-"))
    state_dir.mkdir(parents=True, exist_ok=True)
    for units in args.units:
        limits = ([] if args.no_limit_only else [args.limit]) + ([] if args.limit_only else [None])
        for limit in limits:
            proc, url, startup = start_sandbox(units, state_dir, rate_limit=limit or 0)
            try:
                work = Path(tempfile.mkdtemp(prefix="rm-bench-"))
                spec = json.dumps({"url": url, "units": units, "limit": limit, "entities": args.entities, "work": str(work)})
                child = subprocess.run([sys.executable, __file__, "--scenario", spec], capture_output=True, text=True, cwd=ROOT)
                if child.returncode != 0:
                    print(json.dumps({"units": units, "limit_per_minute": limit, "error": child.stderr[-2000:]}))
                    continue
                result = json.loads(child.stdout.strip().splitlines()[-1])
                result["sandbox_startup_seconds"] = round(startup, 1)
                result["sandbox_stats"] = httpx.get(f"{url}/_sandbox/stats", headers=ADMIN_HEADERS).json().get("by_status")
                print(json.dumps(result), flush=True)
            finally:
                stop_sandbox(proc)


if __name__ == "__main__":
    main()
