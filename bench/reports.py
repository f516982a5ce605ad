"""Benchmark: render every monthly and annual report of an N-unit sandbox portfolio (default 5,000 units).

Prints one JSON object: reports, pages, seconds, pages/s and peak RSS for the monthly set and the annual set
(the work spread over ``--workers`` processes, default 2 = the machine's cores), and the time of one rent roll
of the property closest to 200 units. Targets: that rent roll under 2 s; the whole portfolio's monthly set
under 60 s; peak RSS under 1 GB.

The portfolio is the sandbox generator's, landed in rm_raw the way the sync lands it, loaded into a SQLite
warehouse and evaluated (setup, timed separately and kept in ``--work`` between runs).

    python bench/reports.py [--units 5000] [--workers 2] [--work /tmp/bench-reports]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = dt.datetime(2026, 11, 20, 14, 0, 0)
ORG = "bench"
KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="  # a fixed key for generated data only
_SOURCES = {}


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def setup(url: str, units: int) -> dict:
    from rm_pipelines.flows.evaluate import evaluate_org
    from rm_pipelines.orgs import ComplianceConfig
    from rm_pipelines.sandbox.portfolio import generate_portfolio
    from rm_pipelines.warehouse import compliance_store as store
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.flows.load import load_all
    from rm_pipelines.warehouse.raw import ensure_schema
    from rm_pipelines_tests.warehouse import rawdata
    from rm_pipelines_tests.warehouse.conftest import make_org

    engine = create_warehouse_engine(url)
    ensure_schema(engine)
    if store.latest_as_of(engine, ORG) == NOW.date():
        return {"reused": True}
    t0 = time.perf_counter()
    portfolio = generate_portfolio(units, 7, NOW)
    rawdata.land(engine, ORG, portfolio)
    org = make_org(ORG).model_copy(update={"compliance": ComplianceConfig(backfill_earliest_limits=True)})
    load_all(engine, org=org, run_id="bench-load")
    t1 = time.perf_counter()
    evaluate_org(engine, org, as_of=NOW.date(), run_id="bench-evaluate")
    return {"reused": False, "load_seconds": round(t1 - t0, 1), "evaluate_seconds": round(time.perf_counter() - t1, 1)}


def _init(url: str) -> None:
    os.environ["ESTATECORE_ENCRYPTION_KEYS"] = KEY
    from rm_pipelines.flows.render import read_sources, resolve_evaluation
    from rm_pipelines.reports.period import Period
    from rm_pipelines.warehouse.db import create_warehouse_engine

    engine = create_warehouse_engine(url)
    evaluation = resolve_evaluation(engine, ORG, Period.month_of(NOW.date()))
    _SOURCES["s"] = read_sources(engine, ORG, "Bench", evaluation)
    engine.dispose()


def _task(kind: str, period_text: str, property_id: str | None, out: str) -> tuple[str, int, int, float, float]:
    cpu = time.process_time()
    from rm_pipelines.flows.render import render_documents, write_exports
    from rm_pipelines.reports import catalog
    from rm_pipelines.reports.period import Period

    spec = catalog.get(kind)
    built = spec.build(_SOURCES["s"], Period.parse(period_text), property_id)
    out_dir = Path(out) / period_text / kind
    files = (render_documents(built, out_dir) if spec.media == "pdf" else write_exports(spec, built, out_dir))
    return kind, len(files), sum(f.pages or 0 for f in files), _rss_mb(), time.process_time() - cpu


def run_set(url: str, cadence: str, workers: int, out: Path) -> dict:
    from rm_pipelines.reports.catalog import KINDS

    _init(url)
    sources = _SOURCES["s"]
    period = NOW.strftime("%Y-%m") if cadence == "monthly" else str(NOW.year)
    tasks = []
    for spec in KINDS:
        if spec.cadence != cadence:
            continue
        if spec.per.startswith(("property", "HOME", "USDA", "bond", "building")):
            tasks += [(spec.kind, period, pid, str(out)) for pid in sources.property_ids()]
        else:
            tasks.append((spec.kind, period, None, str(out)))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(url,)) as pool:
        done = list(pool.map(_task, *zip(*tasks), chunksize=1))
    seconds = time.perf_counter() - t0
    reports, pages = Counter(), Counter()
    for kind, n, p, *_ in done:
        reports[kind] += n
        pages[kind] += p
    total_pages = sum(pages.values())
    return {"reports": sum(reports.values()), "pages": total_pages, "seconds": round(seconds, 2),
            "pages_per_second": round(total_pages / seconds, 1) if seconds else None,
            "cpu_seconds": round(sum(c for *_, c in done), 2),
            "cpu_seconds_per_page": round(sum(c for *_, c in done) / total_pages, 3) if total_pages else None,
            "worker_peak_rss_mb": max(r for *_, r, _ in done),
            "by_kind": {k: {"reports": reports[k], "pages": pages[k]} for k in sorted(reports)}}


def one_rent_roll(out: Path, target_units: int = 200) -> dict:
    from rm_pipelines.flows.render import render_documents
    from rm_pipelines.reports import rent_roll
    from rm_pipelines.reports.period import Period

    sources = _SOURCES["s"]
    sizes = Counter(u["property_id"] for u in sources.snapshot("unit_status") if u.get("programs"))
    pid = min(sizes, key=lambda p: (abs(sizes[p] - target_units), p))
    t0, cpu = time.perf_counter(), time.process_time()
    reports = rent_roll.build_all(sources, Period.month_of(NOW.date()), pid)
    files = render_documents(reports, out / "single")
    return {"property_units": len(sources.units_of(pid)), "pages": files[0].pages,
            "seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(time.process_time() - cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5000, help="sandbox portfolio size (default 5000)")
    parser.add_argument("--workers", type=int, default=2, help="rendering processes (default 2)")
    parser.add_argument("--work", default="/tmp/bench-reports", help="warehouse and output folder (kept)")
    parser.add_argument("--setup-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["ESTATECORE_ENCRYPTION_KEYS"] = KEY
    work = Path(args.work) / f"u{args.units}"
    work.mkdir(parents=True, exist_ok=True)
    os.environ["RM_PIPELINES_DATA_DIR"] = str(work / "data")
    url = f"sqlite:///{work / 'estatecore.sqlite'}"
    if args.setup_only:  # in a process of its own, so loading the portfolio does not count in the peak RSS
        print(json.dumps(setup(url, args.units)))
        return
    done = subprocess.run([sys.executable, __file__, "--units", str(args.units), "--work", args.work, "--setup-only"],
                          check=True, capture_output=True, text=True)
    result = {"benchmark": "reports", "units": args.units, "workers": args.workers, "python": platform.python_version(),
              "cpus": os.cpu_count(), "setup": json.loads(done.stdout.strip().splitlines()[-1])}
    out = work / "out"
    result["monthly"] = run_set(url, "monthly", args.workers, out)
    result["annual"] = run_set(url, "annual", args.workers, out)
    result["rent_roll_200_units"] = one_rent_roll(out)
    result["peak_rss_mb"] = max(_rss_mb(), result["monthly"]["worker_peak_rss_mb"], result["annual"]["worker_peak_rss_mb"])
    result["main_peak_rss_mb"] = _rss_mb()
    result["targets"] = {"rent_roll_200_units_under_2s": result["rent_roll_200_units"]["seconds"] < 2,
                         "monthly_set_under_60s": result["monthly"]["seconds"] < 60,
                         "peak_rss_under_1gb": result["peak_rss_mb"] < 1024}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
