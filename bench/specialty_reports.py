"""Benchmark: render the specialised products' reports of an N-unit sandbox portfolio (default 5,000 units):
CAM reconciliation and percentage rent statements, HOA delinquency report and violation notices, student
pre-lease and guarantor report, monthly asset-management performance report. Prints one JSON object.

Setup (timed separately, kept in the state dir between runs): the sandbox portfolio generated, landed in rm_raw
the way the sync lands it and loaded on SQLite (as `bench/specialties.py` builds it), then the four products
evaluated once (`flows.specialties.evaluate_all`). Then, per kind, in one process: documents, pages, seconds of
the whole render (read the stored rows, build, print the PDFs, index them), the slowest document and peak RSS.

    python bench/specialty_reports.py [--units 5000] [--seed 7] [--state-dir .data/bench-specialty-reports]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KINDS = {"cam_statement": "2025", "percentage_rent": "2026", "hoa_delinquency": "2026-11",
         "hoa_violation_notice": "2026-11", "student_prelease": "2026-11", "performance": "2026-11"}


def _specialties_bench():
    spec = importlib.util.spec_from_file_location("bench_specialties", Path(__file__).with_name("specialties.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=5_000, help="sandbox portfolio size (default 5,000)")
    ap.add_argument("--seed", type=int, default=7, help="sandbox seed (default 7)")
    ap.add_argument("--state-dir", type=Path, default=ROOT / ".data" / "bench-specialty-reports",
                    help="where the loaded and evaluated warehouse is kept between runs")
    args = ap.parse_args()
    base = _specialties_bench()
    os.environ.setdefault("ESTATECORE_ENCRYPTION_KEYS", base.BENCH_KEY)
    state = args.state_dir / f"{args.units}-{args.seed}"
    state.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RM_PIPELINES_DATA_DIR", str(state / "data"))
    url = f"sqlite:///{state / 'estatecore.sqlite'}"
    marker = state / "evaluated"
    setup: dict = {"reused": True}
    if not marker.exists():
        setup = base.build(url, args.units, args.seed)
        from rm_pipelines.flows import specialties as flow
        from rm_pipelines.warehouse.db import create_warehouse_engine

        engine = create_warehouse_engine(url)
        t0 = time.monotonic()
        flow.evaluate_all(engine, "bench", as_of=base.AS_OF, run_id="bench", progress=lambda _m: None)
        setup["evaluate_seconds"] = round(time.monotonic() - t0, 1)
        engine.dispose()
        marker.write_text(json.dumps(setup))

    from rm_pipelines.flows.render import render
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.read import live_count

    engine = create_warehouse_engine(url)
    kinds, total = {}, 0.0
    for kind, period in KINDS.items():
        t0 = time.monotonic()
        result = render(engine, "bench", "Bench Properties", kind, period, run_id="bench",
                        out_dir=state / "reports" / kind)
        wall = time.monotonic() - t0
        total += wall
        pages = result.pages
        slowest = max(result.files, key=lambda f: f.seconds, default=None)
        kinds[kind] = {"period": period, "documents": len(result.files), "pages": pages, "seconds": round(wall, 2),
                       "pages_per_second": round(pages / wall, 1) if wall and pages else None,
                       "slowest_document_seconds": round(slowest.seconds, 2) if slowest else None,
                       "peak_rss_mb": peak_rss_mb()}
    out = {"benchmark": "specialty_reports", "units": live_count(engine, "units", "bench"),
           "as_of": base.AS_OF.isoformat(), "setup": setup, "kinds": kinds, "total_seconds": round(total, 2),
           "documents": sum(k["documents"] for k in kinds.values()), "pages": sum(k["pages"] for k in kinds.values()),
           "peak_rss_mb": peak_rss_mb(),
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}}
    engine.dispose()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
