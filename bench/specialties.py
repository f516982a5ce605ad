"""Benchmark: the four specialised products (student housing, commercial, HOA, asset management) over an N-unit
sandbox portfolio (default 30,000). Prints one JSON object.

The warehouse is built once and kept in the state dir (the sandbox portfolio generated, landed in rm_raw the way
the sync lands it, and every EstateCore table loaded on SQLite); its build time is reported as `setup_seconds`
and skipped when the state dir already holds it. Then, per product: `flow_seconds`, the whole evaluation as the
asset runs it (read the EstateCore tables, build the inputs, run the rules, store the view), and
`rules_seconds`, the inputs and rules alone on the tables already read (CPU time, robust to other jobs on the
machine); then `all_four_one_read_seconds`, the four from one read of the tables (`flows.specialties.evaluate_all`).
`peak_rss_mb` is the process's peak resident memory after each product. Target: all four under 30 s.

    python bench/specialties.py [--units 30000] [--seed 7] [--state-dir .data/bench-specialties]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="
AS_OF = dt.date(2026, 11, 16)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build(url: str, units: int, seed: int) -> dict:
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.sandbox.portfolio import generate_portfolio
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.raw import ensure_schema
    from rm_pipelines_tests.warehouse import rawdata
    from rm_pipelines_tests.warehouse.conftest import make_org

    t0 = time.monotonic()
    portfolio = generate_portfolio(units, seed, dt.datetime.combine(AS_OF, dt.time(9)))
    generated = time.monotonic() - t0
    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    rawdata.land(engine, "bench", portfolio)
    landed = time.monotonic() - t0 - generated
    del portfolio
    load_all(engine, org=make_org("bench"), run_id="bench-load")
    engine.dispose()
    return {"generate_seconds": round(generated, 1), "land_seconds": round(landed, 1),
            "load_seconds": round(time.monotonic() - t0 - generated - landed, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=30_000, help="sandbox portfolio size (default 30,000)")
    ap.add_argument("--seed", type=int, default=7, help="sandbox seed (default 7)")
    ap.add_argument("--state-dir", type=Path, default=ROOT / ".data" / "bench-specialties",
                    help="where the loaded warehouse is kept between runs")
    args = ap.parse_args()
    os.environ.setdefault("ESTATECORE_ENCRYPTION_KEYS", BENCH_KEY)
    state = args.state_dir / f"{args.units}-{args.seed}"
    state.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RM_PIPELINES_DATA_DIR", str(state / "data"))
    url = f"sqlite:///{state / 'estatecore.sqlite'}"
    marker = state / "loaded"
    setup: dict = {"reused": True}
    if not marker.exists():
        setup = build(url, args.units, args.seed)
        marker.write_text(json.dumps(setup))

    from rm_pipelines.flows import specialties as flow
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.read import live_count

    engine = create_warehouse_engine(url)
    products = {}
    total = 0.0
    for product in flow.PRODUCTS:
        t0 = time.monotonic()
        ev = flow.evaluate(engine, "bench", product, as_of=AS_OF, run_id="bench", progress=lambda _m: None)
        wall = time.monotonic() - t0
        total += wall
        tables = flow.read_tables(engine, "bench", flow.TABLES_FOR[product], flow.KINDS[product])
        extra = {"codes": flow.violation_codes(engine, "bench")} if product == "hoa" else {}
        c0 = time.process_time()
        flow.build_view(tables, product, AS_OF, **extra)
        products[product] = {"flow_seconds": round(wall, 2), "rules_seconds": round(time.process_time() - c0, 2),
                             "rows_stored": sum(ev.stored.rows.values()), "data_issues": len(ev.view.issues),
                             "peak_rss_mb": peak_rss_mb()}
        del tables
    t0 = time.monotonic()
    flow.evaluate_all(engine, "bench", as_of=AS_OF, run_id="bench-all", progress=lambda _m: None)
    together = time.monotonic() - t0
    out = {
        "benchmark": "specialties", "units": live_count(engine, "units", "bench"),
        "charges": live_count(engine, "charges", "bench"), "as_of": AS_OF.isoformat(), "setup": setup,
        "products": products, "all_four_seconds": round(total, 2),
        "all_four_one_read_seconds": round(together, 2), "target_seconds": 30,
        "within_target": min(total, together) < 30, "peak_rss_mb": peak_rss_mb(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    engine.dispose()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
