"""Bad-value benchmark: a whole run (sync, load, compliance) of an N-unit sandbox with one bad value in it.

For each case: a fresh warehouse gets a clean run, the bad value is put into the sandbox (or the fault switched
on), and a second run follows. Prints one JSON object per case: whether sync, load and evaluation completed and
how long each took, the rows still equal to the sandbox (rm_raw and EstateCore key sets per entity: `missing`
lists keys the sandbox has that were not stored, which must be exactly the quarantined ones), the open quarantine
by table, NUL characters removed, and the properties the evaluation reported incomplete. Example:

    python bench/bad_values.py --units 1000
    python bench/bad_values.py --units 1000 --database postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

from common import SEED, bench_registry

AS_OF = date(2026, 11, 16)
# entity → (sandbox collection, EstateCore table) whose key sets are compared with the sandbox
COMPARED = {"properties": ("Properties", "properties"), "units": ("Units", "units"),
            "tenants": ("Tenants", "residents"), "leases": ("Leases", "leases"), "charges": ("Charges", "charges")}


def _nul_unit_name(store, faults) -> str:
    unit = store.records("Units")[7]
    store.upsert("Units", [{**unit, "Name": "12\u0000B"}])
    return f"unit {unit['UnitID']} named '12\\u0000B'"


def _keys_beyond_64_bits(store, faults) -> str:
    units = store.records("Units")
    store.upsert("Units", [{**units[5], "UnitID": 2**63 + 7}, {**units[3], "PropertyID": 2**63}])
    return f"a unit keyed 2**63+7, unit {units[3]['UnitID']} with PropertyID 2**63"


def _duplicate_key_in_page(store, faults) -> str:
    faults.duplicate_row = ("Units", 1)
    return "Units page 1 answers its first key twice (a later edit in place of its last record)"


def _unusable_udf_values(store, faults) -> str:
    udvs = [u for u in store.records("UserDefinedValues") if u["ParentType"] == "Tenant" and u["Value"]]
    income = [u for u in udvs if u["Name"] == "Certified Annual Income"]
    dated = next(u for u in udvs if u["Name"] == "Certification Effective Date")
    store.upsert("UserDefinedValues", [{**income[0], "Value": "lots"}, {**income[1], "Value": "-99,999"},
                                       {**dated, "Value": "31/31/2026"}])
    return "Certified Annual Income 'lots' and '-99,999', Certification Effective Date '31/31/2026'"


def _null_property_name(store, faults) -> str:
    prop = store.records("Properties")[0]
    store.upsert("Properties", [{**prop, "Name": None}])
    return f"property {prop['PropertyID']} without a name (1 of {store.count('Properties')})"


CASES = {"clean": None, "nul_unit_name": _nul_unit_name, "keys_beyond_64_bits": _keys_beyond_64_bits,
         "duplicate_key_in_page": _duplicate_key_in_page, "unusable_udf_values": _unusable_udf_values,
         "null_property_name": _null_property_name}


def _fresh_database(database: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database: a SQLite file, or a database created on the PostgreSQL server (dropped after)."""
    if not database.startswith("postgresql"):
        return f"sqlite:///{tempfile.mkdtemp(prefix='rm-bench-bad-')}/estatecore.sqlite", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(database, isolation_level="AUTOCOMMIT")
    name = f"rm_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(database).set(database=name).render_as_string(hide_password=False), drop


def _run(org, engine, registry: Path, run_id: str, mode: str) -> dict:
    from rm_pipelines.defs.resources import RentManagerResource
    from rm_pipelines.flows.evaluate import evaluate_org
    from rm_pipelines.flows.extract import OrgSync
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.rentmanager.catalog import ENTITIES

    out: dict = {}
    t0 = time.monotonic()
    report = OrgSync(org, engine, RentManagerResource(orgs_file=str(registry)).open_client, run_id=run_id).run(
        [e.name for e in ENTITIES], mode=mode)
    out.update(sync_ok=report.ok, sync_errors=[e[:200] for e in report.errors[:3]],
               sync_seconds=round(time.monotonic() - t0, 2),
               extract_quarantined=sum(r.quarantined for r in report.entities.values()),
               duplicate_keys=sum(r.duplicates for r in report.entities.values()))
    t0 = time.monotonic()
    try:
        loads = load_all(engine, org=org, run_id=run_id, mode=mode)
        out.update(tables_loaded=len(loads), load_quarantined=sum(r.quarantined for r in loads.values()),
                   nul_removed=sum(sum(r.nul_removed.values()) for r in loads.values()))
    except Exception as exc:  # noqa: BLE001 — the figure is whether it stops
        out.update(tables_loaded=0, load_error=str(exc)[:300])
    out["load_seconds"] = round(time.monotonic() - t0, 2)
    t0 = time.monotonic()
    try:
        ev = evaluate_org(engine, org, as_of=AS_OF, run_id=run_id, data_dir=Path(os.environ["RM_PIPELINES_DATA_DIR"]))
        overall = next((o for o in ev.result.overall if o.program == "all"), None)
        out.update(compliance_evaluated=True, units_evaluated=len(ev.result.units),
                   properties_incomplete=len(ev.incomplete), answer=overall.answer if overall else None)
    except Exception as exc:  # noqa: BLE001
        out.update(compliance_evaluated=False, evaluate_error=str(exc)[:300])
    out["evaluate_seconds"] = round(time.monotonic() - t0, 2)
    return out


def _compare(engine, store) -> dict:
    """Per entity: sandbox keys missing from rm_raw and from EstateCore (live rows)."""
    from sqlalchemy import text

    sqlite = engine.dialect.name == "sqlite"
    missing = {}
    with engine.connect() as conn:
        for entity, (collection, table) in COMPARED.items():
            sandbox = set(store.sorted_ids(collection))
            raw = {k for (k,) in conn.execute(text(f"SELECT rm_id FROM rm_raw.{entity} WHERE org_id = 'bench' "
                                                   "AND deleted_at IS NULL"))}
            ec = {k for (k,) in conn.execute(text(f"SELECT rm_id FROM {table if sqlite else 'estatecore.' + table} "
                                                  "WHERE org_id = 'bench' AND deleted_at IS NULL"))}
            if sandbox - raw or sandbox - ec or raw - sandbox:
                missing[entity] = {"sandbox": len(sandbox), "rm_raw_missing": len(sandbox - raw),
                                   "estatecore_missing": len(sandbox - ec), "rm_raw_extra": len(raw - sandbox)}
        quarantine = Counter(t or "(none)" for (t,) in conn.execute(text(
            "SELECT table_name FROM ops.quarantine WHERE org_id = 'bench' AND resolved_at IS NULL")))
    return {"missing": missing, "quarantine_open": dict(quarantine)}


def run_case(name: str, state: Path, units: int, database: str) -> dict:
    from rm_pipelines.orgs import load_registry
    from rm_pipelines.sandbox import SandboxConfig, SandboxServer, SandboxStore
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema

    work = Path(tempfile.mkdtemp(prefix=f"rm-bench-bad-{name}-"))
    os.environ["RM_PIPELINES_DATA_DIR"] = str(work / "data")
    shutil.copy(state, work / "portfolio.sqlite")
    store = SandboxStore.open(work / "portfolio.sqlite", units=units, seed=SEED, as_of=AS_OF)
    server = SandboxServer(store, config=SandboxConfig(rate_limit_per_minute=None), host="127.0.0.1", port=0)
    server.start()
    url, drop = _fresh_database(database)
    try:
        registry = bench_registry(work, server.url)
        registry.write_text(registry.read_text() + "    compliance: {backfill_earliest_limits: true}\n")
        org = load_registry(registry).get("bench")
        engine = create_warehouse_engine(url)
        ensure_schema(engine)
        first = _run(org, engine, registry, "clean", "incremental")
        assert first["sync_ok"] and first["tables_loaded"], first
        inject = CASES[name]
        what = inject(store, server.faults) if inject else "nothing"
        second = _run(org, engine, registry, f"bad-{name}", "full" if name == "duplicate_key_in_page" else "incremental")
        result = {"case": name, "units": units, "database": engine.dialect.name, "bad_value": what, **second,
                  **_compare(engine, store)}
        engine.dispose()
        return result
    finally:
        server.stop()
        store.close()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1000, help="sandbox portfolio size (default 1000)")
    parser.add_argument("--cases", nargs="*", choices=sorted(CASES), help="cases to run (default: all)")
    parser.add_argument("--database", default="sqlite",
                        help="sqlite (a fresh file per case) or a PostgreSQL server URL (a fresh database per case)")
    args = parser.parse_args()
    from rm_pipelines.sandbox import SandboxStore

    state = Path(tempfile.mkdtemp(prefix="rm-bench-bad-state-")) / "portfolio.sqlite"
    SandboxStore.open(state, units=args.units, seed=SEED, as_of=AS_OF).close()
    for name in args.cases or CASES:
        print(json.dumps(run_case(name, state, args.units, args.database)), flush=True)


if __name__ == "__main__":
    main()
