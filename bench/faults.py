"""Fault benchmark: a full sync of an N-unit sandbox under each fault the sandbox can inject.

For each fault: a fresh SQLite warehouse gets a clean full sync, the fault is switched on over the admin API, and
a second full sync runs. Prints one JSON object per fault: whether the run succeeded, its errors, requests,
retries, 429s, seconds, keys flagged deleted and keys confirmed present, and — the point — whether rm_raw's live
rows still equal the sandbox's for every entity: `lost` lists entities with fewer live rows than Rent Manager
holds (rows lost: must stay empty), `stale` entities with more (rows deleted in Rent Manager during the walk,
which a full sync reads before their delete and the next full sync or key scan flags). When either is not empty,
one more clean full sync runs and `equal_after_next_sync` says whether rm_raw then equals the sandbox. Example:

    python bench/faults.py --units 1000
    python bench/faults.py --units 1000 --faults short_page not_found_page
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx
from common import ADMIN_HEADERS, bench_registry, start_sandbox, stop_sandbox

ENTITIES = ["properties", "units", "tenants", "charges", "payments", "payment_allocations", "tenant_udfs"]
# entity → sandbox collection (the rows a complete rm_raw table holds)
COLLECTIONS = {"properties": "Properties", "units": "Units", "tenants": "Tenants", "charges": "Charges",
               "payments": "Payments", "payment_allocations": "Allocations"}
FAULTS: dict[str, dict] = {
    "5xx_15pct": {"faults": {"error_5xx_rate": 0.15}, "config": {"fault_seed": 1}},
    "latency_50ms": {"faults": {"latency_seconds": 0.05}},
    "drop_5pct": {"faults": {"drop_rate": 0.05}},
    "429_storm_50": {"faults": {"status_429_next": 50}},
    "expired_tokens": {"faults": {"expire_tokens": True}},
    "malformed_page": {"faults": {"malformed_page": ["Charges", 3], "malformed_times": 1}},
    "short_page": {"faults": {"short_page": ["Charges", 3, 1]}},
    "short_last_page_no_count": {"faults": {"short_page": ["Charges", -1, 5]}, "config": {"total_results_header": False}},
    "not_found_page": {"faults": {"not_found_page": ["Units", 1]}},
    "deletes_while_paging": {"faults": {"delete_before_page": ["Charges", 2, 10]}},
}


def _admin(url: str, path: str, body: dict | None = None) -> dict:
    call = httpx.post if body is not None else httpx.get
    kwargs = {"json": body} if body is not None else {}
    resp = call(f"{url}/_sandbox/{path}", headers=ADMIN_HEADERS, timeout=300, **kwargs)
    resp.raise_for_status()
    return resp.json() if resp.content else {}


def _sync(org, engine, registry: Path, run_id: str):
    from rm_pipelines.defs.resources import RentManagerResource
    from rm_pipelines.flows.extract import OrgSync

    t0 = time.monotonic()
    report = OrgSync(org, engine, RentManagerResource(orgs_file=str(registry)).open_client, run_id=run_id).run(
        ENTITIES, mode="full")
    return report, time.monotonic() - t0


def run_fault(url: str, name: str, spec: dict, work: Path) -> dict:
    from sqlalchemy import text

    from rm_pipelines.orgs import load_registry
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    _admin(url, "faults", {"reset": True})
    _admin(url, "config", {"total_results_header": True})
    registry = bench_registry(work, url)
    org = load_registry(registry).get("bench")
    engine = create_warehouse_engine(f"sqlite:///{work / 'estatecore.sqlite'}")
    ensure_schema(engine)
    clean, _ = _sync(org, engine, registry, "clean")
    assert clean.ok, clean.errors
    faults = dict(spec.get("faults", {}))
    if faults.get("short_page") and faults["short_page"][1] == -1:  # the last page of a 1000-row page walk
        charges = _admin(url, "state")["counts"]["Charges"]
        faults["short_page"] = [faults["short_page"][0], -(-charges // 1000), faults["short_page"][2]]
    if spec.get("config"):
        _admin(url, "config", spec["config"])
    _admin(url, "faults", faults)
    report, seconds = _sync(org, engine, registry, f"fault-{name}")
    _admin(url, "faults", {"reset": True})
    _admin(url, "config", {"total_results_header": True})
    counts = _admin(url, "state")["counts"]
    differences = _differences(engine, counts)
    stale = [d for d in differences if d["rm_raw_live"] > d["sandbox"]]
    lost = [d for d in differences if d["rm_raw_live"] < d["sandbox"]]
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM ops.sync_runs WHERE run_id = :r"),
                              {"r": f"fault-{name}"}).scalar_one()
    equal_after_next = None
    if lost or stale:
        _sync(org, engine, registry, f"after-{name}")
        equal_after_next = not _differences(engine, counts)
    engine.dispose()
    return {
        "fault": name,
        "run_status": status,
        "ok": report.ok,
        "errors": [e[:200] for e in report.errors[:3]],
        "requests": report.requests,
        "retries": report.retries,
        "throttled_429": report.throttled,
        "seconds": round(seconds, 2),
        "flagged_deleted": sum(r.marked_deleted for r in report.entities.values()),
        "confirmed_present": sum(r.confirmed_present for r in report.entities.values()),
        "lost": lost,  # entities with fewer live rm_raw rows than the sandbox after the run
        "stale": stale,  # entities with more: deleted during the walk, flagged by the next full sync
        "equal_after_next_sync": equal_after_next,
    }


def _differences(engine, counts: dict[str, int]) -> list[dict]:  # noqa: ANN001
    from sqlalchemy import text

    out = []
    with engine.connect() as conn:
        for entity, collection in COLLECTIONS.items():
            live = conn.execute(text(f"SELECT count(*) FROM rm_raw.{entity} WHERE org_id = 'bench' "
                                     "AND deleted_at IS NULL")).scalar_one()
            if live != counts.get(collection):
                out.append({"entity": entity, "rm_raw_live": live, "sandbox": counts.get(collection)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1000, help="sandbox portfolio size (default 1000)")
    parser.add_argument("--faults", nargs="*", choices=sorted(FAULTS), help="faults to run (default: all)")
    parser.add_argument("--state-dir", type=Path, help="keep the sandbox portfolio here between runs")
    args = parser.parse_args()
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="rm-bench-state-"))
    state_dir.mkdir(parents=True, exist_ok=True)
    proc, url, _startup = start_sandbox(args.units, state_dir)
    try:
        for name in args.faults or FAULTS:
            work = Path(tempfile.mkdtemp(prefix=f"rm-bench-fault-{name}-"))
            result = run_fault(url, name, FAULTS[name], work)
            result["units"] = args.units
            print(json.dumps(result), flush=True)
    finally:
        stop_sandbox(proc)


if __name__ == "__main__":
    main()
