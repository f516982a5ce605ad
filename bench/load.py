"""EstateCore load benchmark: rm_raw → validate → map → upsert, on SQLite and PostgreSQL. Prints JSON.

Scenarios (each runs in a fresh process so its peak RSS is its own):

* `upsert`: 1,000,000 ledger rows (charges, sandbox-shaped, with their residents and charge types) landed in
  rm_raw, then loaded three times: the first load, an all-unchanged full reload (keys and hashes only) and an
  all-unchanged incremental reload. Targets: ≥ 50,000 rows/s first load on PostgreSQL, ≥ 20,000 rows/s on
  SQLite, unchanged reload ≥ 3× faster than the first load.
* `entity`: one large entity, Charges, from the N-unit sandbox (default 7,000 units: about 210,000 charges;
  `--entity-units` for quick runs). Its parents (properties, residents, charge types) are extracted and loaded
  first (not timed); then, in the same process, the raw extraction of Charges into rm_raw and the typed EstateCore
  load of the same rows (validate + map + upsert + audit) are timed, and their ratio printed. Target: the load
  takes no longer than the extraction (ratio ≤ 1.0) on SQLite and on PostgreSQL, with every raw row loaded or
  quarantined (the EstateCore key set equals rm_raw's).
* `e2e`: the N-unit sandbox (default 30,000) with no rate limit: extract every entity (OrgSync, full) into
  rm_raw, then validate and load every EstateCore table. Target: under 6 minutes, peak RSS (the loading process's
  plus its largest writer process's) under 1 GB.

    python bench/load.py                               # upsert on sqlite + postgresql, e2e 30,000 units on sqlite
    python bench/load.py --scenarios upsert --rows 200000 --dialects sqlite
    python bench/load.py --scenarios e2e --units 5000 --dialects postgresql
    python bench/load.py --scenarios entity                           # charges, 7,000 units, sqlite + postgresql
    python bench/load.py --scenarios entity --entity-units 2000 --dialects sqlite

PostgreSQL: RM_PIPELINES_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test) is the admin
URL; a scratch database is created and dropped per scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from common import ROOT, bench_registry, start_sandbox, stop_sandbox

sys.path.insert(0, str(ROOT))
PG_ADMIN = os.environ.get("RM_PIPELINES_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BENCH_KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def writer_peak_rss_mb(reports) -> float:  # noqa: ANN001
    """The largest peak RSS of the SQLite loads' writer processes (each reports its own when it stops)."""
    return max((s.get("writer_peak_rss_mb") or 0.0 for r in reports for s in r.sources.values()), default=0.0)


@contextmanager
def database(dialect: str, work: Path):
    """A scratch warehouse URL for the dialect."""
    if dialect == "sqlite":
        yield f"sqlite:///{work / 'estatecore.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"rm_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_org(org_id: str = "bench", url: str | None = None):
    from rm_pipelines.orgs import Org

    base = url or "https://example.invalid"
    return Org.model_validate({
        "id": org_id, "name": "Bench",
        "rentmanager": {"base_url": base, "auth": {"mode": "user", "username_env": "BENCH_RM_USER",
                                                   "password_env": "BENCH_RM_PASSWORD"},
                        "requests_per_minute": None, "concurrency": 4},
        "locations": [{"id": 1, "timezone": "America/New_York"}],
    })


# ------------------------------------------------------------------------------------------------ upsert


def _ledger(rows: int, residents: int, seed: int = 7):
    """Sandbox-shaped charges, page by page."""
    rng = random.Random(seed)
    codes = ["Rent - {m}", "Late fee", "Water {m}", "Parking {m}", "Pet rent {m}"]
    months = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
    page = []
    for i in range(1, rows + 1):
        month = months[i % len(months)]
        amount = round(rng.choice((1105.0, 875.5, 45.0, 35.0, 1450.0, 612.25)) + rng.randint(0, 300), 2)
        page.append({
            "ChargeID": i, "ID": i, "AccountID": 1 + i % residents, "AccountType": "Customer",
            "PropertyID": 1 + i % 40, "UnitID": 1 + i % residents, "ChargeTypeID": 1 + i % 5,
            "Amount": amount, "AmountAllocated": amount if i % 7 else 0.0, "IsFullyAllocated": bool(i % 7),
            "TransactionDate": f"{month}-01T00:00:00", "TransactionType": "Charge", "Reference": "",
            "Comment": codes[i % len(codes)].format(m=month), "CreateDate": f"{month}-01T01:25:50.612",
            "CreateUserID": 2, "UpdateDate": f"{month}-02T09:52:03.4854", "UpdateUserID": 3,
        })
        if len(page) == 1000:
            yield page
            page = []
    if page:
        yield page


def scenario_upsert(dialect: str, rows: int, work: Path) -> dict:
    from zoneinfo import ZoneInfo

    from rm_pipelines.rentmanager.catalog import get
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.flows.load import load_table
    from rm_pipelines.warehouse.raw import RawLander, ensure_schema

    tz = ZoneInfo("America/New_York")
    residents = max(1000, rows // 50)
    with database(dialect, work) as url:
        engine = create_warehouse_engine(url)
        ensure_schema(engine)
        org = bench_org()
        lander = RawLander(engine, org_id=org.id, run_id="land")
        lander.land(get("properties"), 1, [{"PropertyID": p, "Name": f"Property {p}"} for p in range(1, 41)], tz)
        lander.land(get("tenants"), 1, [{"TenantID": t, "Name": f"Resident {t}", "Status": "Current",
                                         "PropertyID": 1 + t % 40} for t in range(1, residents + 1)], tz)
        lander.land(get("charge_types"), 1, [{"ChargeTypeID": c, "Name": n} for c, n in
                                             enumerate(("RENT", "LATE", "WTR", "PARK", "PET"), 1)], tz)
        for table in ("properties", "residents", "charge_types"):
            load_table(engine, org=org, table=table, run_id="setup")
        t0 = time.monotonic()
        charges = get("charges")
        for i, page in enumerate(_ledger(rows, residents)):
            lander.land(charges, 1, page, tz)
            if dialect == "postgresql" and i in (10, 100) or (dialect == "postgresql" and i % 250 == 0):
                # setup only: the raw lander's key lookups need statistics on a table growing from empty
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("ANALYZE rm_raw.charges")
        landing = time.monotonic() - t0

        t0 = time.monotonic()
        first = load_table(engine, org=org, table="charges", run_id="first", mode="full")
        first_s = time.monotonic() - t0
        t0 = time.monotonic()
        again = load_table(engine, org=org, table="charges", run_id="reload", mode="full")
        reload_s = time.monotonic() - t0
        t0 = time.monotonic()
        inc = load_table(engine, org=org, table="charges", run_id="reload-inc", mode="incremental")
        inc_s = time.monotonic() - t0
        engine.dispose()
    return {
        "scenario": "upsert", "dialect": dialect, "rows": rows,
        "raw_landing_seconds": round(landing, 2),
        "first_load": {"seconds": round(first_s, 2), "rows_per_second": round(rows / first_s),
                       "inserted": first.inserted, "quarantined": first.quarantined},
        "unchanged_full_reload": {"seconds": round(reload_s, 2), "rows_per_second": round(rows / reload_s),
                                  "unchanged": again.unchanged, "updated": again.updated,
                                  "speedup_vs_first": round(first_s / reload_s, 1)},
        "unchanged_incremental_reload": {"seconds": round(inc_s, 2), "unchanged": inc.unchanged,
                                         "speedup_vs_first": round(first_s / inc_s, 1)},
        "target_rows_per_second": 50_000 if dialect == "postgresql" else 20_000,
        "meets_target": rows / first_s >= (50_000 if dialect == "postgresql" else 20_000) and first_s / reload_s >= 3,
        "peak_rss_mb": peak_rss_mb(),
    }


# ------------------------------------------------------------------------------------------------ e2e


def scenario_e2e(dialect: str, units: int, url: str, work: Path) -> dict:
    from rm_pipelines.defs.resources import RentManagerResource
    from rm_pipelines.orgs import load_registry
    from rm_pipelines.rentmanager.catalog import ENTITIES
    from rm_pipelines.flows.extract import OrgSync
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.warehouse.raw import ensure_schema

    registry = bench_registry(work, url)
    with database(dialect, work) as db_url:
        engine = create_warehouse_engine(db_url)
        ensure_schema(engine)
        org = load_registry(registry).get("bench")
        t0 = time.monotonic()
        report = OrgSync(org, engine, RentManagerResource(orgs_file=str(registry)).open_client,
                         run_id="bench").run([e.name for e in ENTITIES], mode="full")
        extract_s = time.monotonic() - t0
        raw_rows = sum(r.rows for r in report.entities.values())
        t0 = time.monotonic()
        reports = load_all(engine, org=org, run_id="bench", mode="incremental", quarantine_threshold=1.0)
        load_s = time.monotonic() - t0
        engine.dispose()
    loaded = sum(r.inserted for r in reports.values())
    total = extract_s + load_s
    return {
        "scenario": "e2e", "dialect": dialect, "units": units, "extract_ok": report.ok,
        "raw_rows": raw_rows, "extract_seconds": round(extract_s, 1), "requests": report.requests,
        "estatecore_rows": loaded, "quarantined": sum(r.quarantined for r in reports.values()),
        "validate_load_seconds": round(load_s, 1),
        "validate_load_rows_per_second": round(sum(r.rows_evaluated for r in reports.values()) / load_s),
        "total_seconds": round(total, 1), "peak_rss_mb": peak_rss_mb(),
        "writer_process_peak_rss_mb": writer_peak_rss_mb(reports.values()),
        # the writer processes run beside the loading one: their peaks count on top of its own
        "meets_target": total < 360 and peak_rss_mb() + writer_peak_rss_mb(reports.values()) < 1024,
        "slowest_tables": sorted(((n, round(r.seconds, 1), r.inserted) for n, r in reports.items()),
                                 key=lambda x: -x[1])[:5],
        "quarantine_reasons": {n: r.quarantine_reasons for n, r in reports.items() if r.quarantined},
    }


# ------------------------------------------------------------------------------------------------ entity


def scenario_entity(dialect: str, units: int, url: str, work: Path, entity: str = "charges") -> dict:
    from rm_pipelines.defs.resources import RentManagerResource
    from rm_pipelines.flows.extract import OrgSync
    from rm_pipelines.flows.load import load_table
    from rm_pipelines.orgs import load_registry
    from rm_pipelines.rentmanager.catalog import get as get_entity
    from rm_pipelines.warehouse import tables as T
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    registry = bench_registry(work, url)
    table = T.tables_for_entity(entity)[0]

    def ancestors(name: str, acc: set[str]) -> set[str]:
        for parent in T.get(name).parents:
            acc.add(parent)
            ancestors(parent, acc)
        return acc

    parents = T.load_order(sorted(ancestors(table, set())))
    parent_entities = sorted({s for t in parents for s in T.get(t).sources})
    with database(dialect, work) as db_url:
        engine = create_warehouse_engine(db_url)
        ensure_schema(engine)
        org = load_registry(registry).get("bench")
        opener = RentManagerResource(orgs_file=str(registry)).open_client
        t0 = time.monotonic()
        setup = OrgSync(org, engine, opener, run_id="bench-setup").run(parent_entities, mode="full")
        for name in parents:
            load_table(engine, org=org, table=name, run_id="bench-setup", mode="full")
        setup_s = time.monotonic() - t0

        t0 = time.monotonic()
        report = OrgSync(org, engine, opener, run_id="bench").run([entity], mode="full")
        extract_s = time.monotonic() - t0
        raw_rows = report.entities[entity].rows if entity in report.entities else \
            sum(r.rows for r in report.entities.values())
        t0 = time.monotonic()
        load = load_table(engine, org=org, table=table, run_id="bench", mode="incremental")
        load_s = time.monotonic() - t0
        t0 = time.monotonic()
        again = load_table(engine, org=org, table=table, run_id="bench-reload", mode="full")
        reload_s = time.monotonic() - t0

        raw_table = get_entity(entity).raw_table
        qt = table if dialect == "sqlite" else f"estatecore.{table}"
        with engine.connect() as conn:
            raw_keys = {k for (k,) in conn.exec_driver_sql(
                f"SELECT rm_id FROM rm_raw.{raw_table} WHERE org_id = 'bench' AND deleted_at IS NULL")}
            ec_keys = {k for (k,) in conn.exec_driver_sql(
                f"SELECT rm_id FROM {qt} WHERE org_id = 'bench' AND deleted_at IS NULL")}
            q_keys = {int(k) for (k,) in conn.exec_driver_sql(
                "SELECT rm_key FROM ops.quarantine WHERE org_id = 'bench' AND table_name = "
                + ("?" if dialect == "sqlite" else "%s") + " AND resolved_at IS NULL", (table,))}
            audits = conn.exec_driver_sql(
                "SELECT count(*) FROM ops.audit_log WHERE org_id = 'bench' AND run_id = 'bench' AND table_name = "
                + ("?" if dialect == "sqlite" else "%s"), (table,)).scalar_one()
        engine.dispose()
    return {
        "scenario": "entity", "dialect": dialect, "units": units, "entity": entity, "table": table,
        "extract_ok": report.ok and setup.ok, "raw_rows": raw_rows, "requests": report.requests,
        "setup_seconds": round(setup_s, 1),
        "extract_seconds": round(extract_s, 2),
        "load_seconds": round(load_s, 2),
        "load_to_extract_ratio": round(load_s / extract_s, 2),
        "meets_target": load_s <= extract_s,
        "inserted": load.inserted, "quarantined": load.quarantined, "audit_rows": audits,
        "nothing_lost": raw_keys == (ec_keys | q_keys) and not (ec_keys & q_keys),
        "unchanged_full_reload": {"seconds": round(reload_s, 2), "unchanged": again.unchanged,
                                  "updated": again.updated},
        "peak_rss_mb": peak_rss_mb(), "writer_process_peak_rss_mb": writer_peak_rss_mb([load, again]),
    }


# ------------------------------------------------------------------------------------------------ main


def _child(spec: dict) -> dict:
    os.environ.setdefault("ESTATECORE_ENCRYPTION_KEYS", BENCH_KEY)
    work = Path(spec["work"])
    if spec["scenario"] == "upsert":
        return scenario_upsert(spec["dialect"], spec["rows"], work)
    if spec["scenario"] == "entity":
        return scenario_entity(spec["dialect"], spec["units"], spec["url"], work)
    return scenario_e2e(spec["dialect"], spec["units"], spec["url"], work)


def _run(spec: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                         cwd=ROOT)
    if out.returncode != 0:
        return {**{k: v for k, v in spec.items() if k != "work"}, "error": out.stderr[-3000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _on_sandbox(scenario: str, units: int, dialects: list[str], work: Path, state_dir: Path) -> None:
    """Run a scenario per dialect against one `units`-unit sandbox; prints one JSON object per dialect."""
    state_dir.mkdir(parents=True, exist_ok=True)
    proc, url, started = start_sandbox(units, state_dir)
    try:
        for dialect in dialects:
            d = work / f"{scenario}-{dialect}"
            d.mkdir()
            result = _run({"scenario": scenario, "dialect": dialect, "units": units, "url": url, "work": str(d)})
            result["sandbox_start_seconds"] = round(started, 1)
            print(json.dumps(result), flush=True)
    finally:
        stop_sandbox(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=["upsert", "e2e"], choices=["upsert", "entity", "e2e"])
    parser.add_argument("--dialects", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows for the upsert scenario")
    parser.add_argument("--units", type=int, default=30_000, help="sandbox size for the e2e scenario")
    parser.add_argument("--entity-units", type=int, default=7_000,
                        help="sandbox size for the entity scenario (7,000 units: about 210,000 charges)")
    parser.add_argument("--e2e-dialects", nargs="+", default=None, help="dialects for e2e (default: sqlite)")
    parser.add_argument("--state-dir", type=Path, help="keep sandbox portfolios here between runs (default: a temp dir)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return
    with tempfile.TemporaryDirectory(prefix="rm-bench-load-") as tmp:
        work = Path(tmp)
        if "upsert" in args.scenarios:
            for dialect in args.dialects:
                d = work / f"upsert-{dialect}"
                d.mkdir()
                print(json.dumps(_run({"scenario": "upsert", "dialect": dialect, "rows": args.rows, "work": str(d)})),
                      flush=True)
        if "entity" in args.scenarios:
            _on_sandbox("entity", args.entity_units, args.dialects, work, args.state_dir or work)
        if "e2e" in args.scenarios:
            _on_sandbox("e2e", args.units, args.e2e_dialects or ["sqlite"], work, args.state_dir or work)


if __name__ == "__main__":
    main()
