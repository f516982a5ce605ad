"""Benchmark the sandbox server: portfolio generation/load time and Charges pages/s over one keep-alive client.

    python bench/sandbox_serve.py --units 5000 [--seed 7] [--state FILE] [--pages 200]

Prints one JSON object. The client is plain httpx in this process (as a sync client would be), so the
server (its own thread) and the client share the machine's cores, like in a real local run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx

from rm_pipelines.sandbox import SandboxConfig, SandboxServer, SandboxStore
from rm_pipelines.sandbox.churn import churn


def _sweep(client: httpx.Client, headers: dict, params: dict, max_pages: int) -> dict:
    """Walk /Charges pages from 1 until an empty page or max_pages; time it."""
    started = time.perf_counter()
    first_page = None
    pages = rows = nbytes = 0
    number = 1
    while pages < max_pages:
        resp = client.get("/Charges", headers=headers, params={**params, "pageSize": 1000, "pageNumber": number})
        if first_page is None:
            first_page = time.perf_counter() - started
        if resp.status_code == 204:
            break
        resp.raise_for_status()
        rows += len(resp.json())
        nbytes += len(resp.content)
        pages += 1
        number += 1
    elapsed = time.perf_counter() - started
    return {
        "pages": pages,
        "rows": rows,
        "mbytes": round(nbytes / 1e6, 1),
        "seconds": round(elapsed, 3),
        "pages_per_second": round(pages / elapsed, 1) if elapsed else None,
        "first_page_seconds": round(first_page or 0.0, 3),
        "pages_per_second_after_first": round((pages - 1) / (elapsed - first_page), 1)
        if pages > 1 and first_page is not None and elapsed > first_page else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--state", type=Path, default=None,
                    help="state file (default: a fresh temporary file, so generation is measured)")
    ap.add_argument("--pages", type=int, default=200, help="pages per sweep (default 200)")
    args = ap.parse_args(argv)

    tmpdir = None
    state = args.state
    if state is None:
        tmpdir = tempfile.TemporaryDirectory(prefix="sandbox-bench-")
        state = Path(tmpdir.name) / "portfolio.sqlite"
    out: dict = {"units": args.units, "seed": args.seed, "cpus": os.cpu_count()}

    t0 = time.perf_counter()
    store = SandboxStore.open(state, units=args.units, seed=args.seed)
    out["open_seconds"] = round(time.perf_counter() - t0, 2)
    out["generate_seconds"] = round(store.generate_seconds, 2)
    out["records"] = sum(store.count(c) for c in store.collections())
    out["charges"] = store.count("Charges")
    out["state_file_mb"] = round(state.stat().st_size / 1e6, 1)
    store.close()
    del store

    t0 = time.perf_counter()
    store = SandboxStore.open(state, units=args.units, seed=args.seed)
    out["load_seconds"] = round(time.perf_counter() - t0, 2)

    with SandboxServer(store, SandboxConfig(rate_limit_per_minute=None)) as srv, \
            httpx.Client(base_url=srv.url, timeout=120) as client:
        token = client.post("/Authentication/AuthorizeUser",
                            json={"Username": "demo", "Password": "demo-password"}).json()
        headers = {"X-RM12Api-ApiToken": token, "Accept": "application/json"}
        out["charges_full"] = _sweep(client, headers, {}, args.pages)
        watermark = "2000-01-01T00:00:00"
        out["charges_filtered_all"] = _sweep(client, headers, {"filters": f"UpdateDate,ge,{watermark}"}, args.pages)
        out["charges_key_scan"] = _sweep(client, headers, {"fields": "ChargeID"}, args.pages)
        # An incremental sync: a recent watermark, changes made by churn after it.
        for round_ in (1, 2):
            recent = srv.store.next_stamp()
            t0 = time.perf_counter()
            churn(srv.store, changes=500, deletes=50, seed=round_)
            out[f"churn_500_50_seconds_{round_}"] = round(time.perf_counter() - t0, 2)
            out[f"charges_incremental_{round_}"] = _sweep(client, headers, {"filters": f"UpdateDate,gt,{recent}"},
                                                          args.pages)
    store.close()
    out["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]  # other work on the machine skews figures
    if tmpdir is not None:
        tmpdir.cleanup()
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
