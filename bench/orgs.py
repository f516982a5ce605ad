"""Many orgs on the production instance: N orgs, each on its own sandbox with its own rate budget, synced side by
side through the queued Dagster instance stored in PostgreSQL (deploy/dagster.yaml: the daemon, the webserver,
the run queue with one run per org, runs launched over GraphQL). Prints JSON.

For each N (default 1, 2, 4): total rows/s (rows extracted by all orgs over the wall time from the first launch
to the last run's end), per-org seconds (each run's start to end, as Dagster records them), and peak RSS per run
(the largest process of the run: its worker or one of its step processes, from /proc VmHWM). Then the cost of an
incremental sync with no changes for one larger org (default 5,000 units): requests and seconds of the
extraction (ops.sync_runs) and of the whole run.

    python bench/orgs.py                                    # N = 1, 2, 4 at 500 units; incremental at 5,000
    python bench/orgs.py --orgs 2 --units 200 --incremental-units 0
    python bench/orgs.py --rate-limit 500                   # each sandbox enforces 500 requests/minute

PostgreSQL: RM_PIPELINES_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test) is the admin
URL; scratch databases for Dagster's storage and the warehouse are created and dropped per scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from common import ROOT, free_port, start_sandbox, stop_sandbox

PG_ADMIN = os.environ.get("RM_PIPELINES_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BIN = Path(sys.executable).parent
POOLS = ("rm_api", "estatecore_writer")
DONE = {"SUCCESS", "FAILURE", "CANCELED"}
BENCH_KEY = "ef-2L2MdqMF7KEpuvXl-wpFWb_cisRX6xnMrxpgQi8k="
CREDENTIALS = {"BENCH_RM_USER": "demo", "BENCH_RM_PASSWORD": "demo-password"}


@contextmanager
def scratch_databases(count: int):
    """`count` fresh PostgreSQL databases (their URLs), dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    names = [f"rm_bench_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [make_url(PG_ADMIN).set(database=n).render_as_string(hide_password=False) for n in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Instance:
    """The daemon and the webserver on a Dagster home whose storage is PostgreSQL."""

    def __init__(self, work: Path, storage_url: str, env: dict[str, str]) -> None:
        from sqlalchemy.engine import make_url

        home = work / "dagster_home"
        home.mkdir()
        config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
        config["storage"] = {"postgres": {"postgres_url": make_url(storage_url).set(
            drivername="postgresql+psycopg2").render_as_string(hide_password=False)}}
        (home / "dagster.yaml").write_text(yaml.safe_dump(config))
        self.env = {**env, "DAGSTER_HOME": str(home)}
        os.environ["DAGSTER_HOME"] = str(home)
        self.port = free_port()
        workspace = str(ROOT / "workspace.yaml")
        logs = open(work / "instance.log", "wb")  # noqa: SIM115 — lives as long as the processes
        self.procs = [
            subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", workspace], env=self.env, cwd=ROOT,
                             stdout=logs, stderr=logs),
            subprocess.Popen([str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port), "-w",
                              workspace], env=self.env, cwd=ROOT, stdout=logs, stderr=logs)]

    def start(self, orgs: list[str]) -> None:
        import dagster as dg
        from dagster_graphql import DagsterGraphQLClient

        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions("org", orgs)
            for pool in POOLS:  # as deploy/README.md sets them up
                instance.event_log_storage.set_concurrency_slots(pool, 4)
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.procs[1].poll() is not None:
                raise RuntimeError("the Dagster webserver did not start")
            time.sleep(0.5)
        self.client = DagsterGraphQLClient("127.0.0.1", port_number=self.port, timeout=120)

    def launch(self, org: str, mode: str) -> str:
        return self.client.submit_job_execution(
            "rentmanager_sync", repository_location_name="rm_pipelines",
            run_config={"ops": {"rentmanager_extract": {"config": {"mode": mode}},
                                "estatecore_load": {"config": {"mode": mode}}}},
            tags={"dagster/partition": org, "rm/org": org, "rm/mode": mode})

    def wait(self, run_ids: list[str], timeout_s: float = 7200) -> dict[str, dict]:
        """Poll until every run is done; each run's status, seconds and peak RSS (largest process, MB)."""
        import dagster as dg
        from rm_pipelines.defs.launcher import worker_pid

        peak = {r: 0.0 for r in run_ids}
        deadline = time.monotonic() + timeout_s
        with dg.DagsterInstance.get() as instance:
            while time.monotonic() < deadline:
                status = {r: self.client.get_run_status(r).value for r in run_ids}
                for r in run_ids:
                    if status[r] not in DONE and (pid := worker_pid(instance, r)) is not None:
                        peak[r] = max([peak[r], *(_hwm_mb(p) for p in _descendants(pid))])
                if all(s in DONE for s in status.values()):
                    break
                time.sleep(0.5)
            out = {}
            for r in run_ids:
                stats = instance.get_run_stats(r)
                out[r] = {"status": status[r], "start": stats.start_time, "end": stats.end_time,
                          "seconds": round(stats.end_time - stats.start_time, 1)
                          if stats.start_time and stats.end_time else None,
                          "peak_rss_mb": round(peak[r], 1)}
        return out

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def _registry(work: Path, sandboxes: dict[str, str]) -> Path:
    """The registry of the bench orgs; their credentials go in the environment the instance is started with."""
    entries = "".join(textwrap.dedent(f"""
          - id: {org}
            name: Bench {org}
            rentmanager:
              base_url: {url}
              auth: {{mode: user, username_env: BENCH_RM_USER, password_env: BENCH_RM_PASSWORD}}
              requests_per_minute: null
            locations: [{{id: 1, timezone: America/New_York}}]
    """) for org, url in sandboxes.items())
    path = work / "orgs.yaml"
    path.write_text("organizations:\n" + textwrap.indent(entries, ""))
    return path


def _sync_runs(warehouse_url: str, run_ids: list[str]) -> dict[str, dict]:
    from sqlalchemy import create_engine, text

    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT run_id, org_id, mode, status, duration_seconds, requests, entities, errors "
                                     "FROM ops.sync_runs WHERE run_id = ANY(:ids)"), {"ids": run_ids}).mappings().all()
    finally:
        engine.dispose()
    out = {}
    for r in rows:
        entities = json.loads(r["entities"] or "{}")
        out[r["run_id"]] = {
            "org": r["org_id"], "mode": r["mode"], "sync_status": r["status"], "sync_errors": r["errors"],
            "requests": r["requests"],
            "extract_seconds": round(r["duration_seconds"] or 0, 1),
            "rows": sum(e.get("rows", 0) for e in entities.values()),
            "rows_unchanged": sum(e.get("unchanged", 0) for e in entities.values()),
        }
    return out


def _sandboxes(count: int, units: int, state_dir: Path, work: Path, rate_limit: int) -> dict[str, tuple]:
    """One sandbox process per org, each on its own copy of the generated portfolio."""
    seed_dir = state_dir / "seed"
    seed_dir.mkdir(parents=True, exist_ok=True)
    proc, _, _ = start_sandbox(units, seed_dir)  # generates the portfolio once (kept for later runs)
    stop_sandbox(proc)
    out = {}
    for i in range(1, count + 1):
        own = work / f"sandbox{i}"
        own.mkdir()
        shutil.copy(seed_dir / f"bench-u{units}.sqlite", own / f"bench-u{units}.sqlite")
        proc, url, _ = start_sandbox(units, own, rate_limit=rate_limit)
        out[f"org{i}"] = (proc, url)
    return out


def side_by_side(count: int, units: int, state_dir: Path, rate_limit: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="rm-bench-orgs-") as tmp, scratch_databases(2) as (storage, warehouse):
        work = Path(tmp)
        sandboxes = _sandboxes(count, units, state_dir, work, rate_limit)
        env = {**os.environ, **CREDENTIALS, "RM_PIPELINES_ORGS": str(_registry(work, {o: u for o, (_, u) in sandboxes.items()})),
               "RM_PIPELINES_DATA_DIR": str(work / "data"), "ESTATECORE_DATABASE_URL": warehouse,
               "ESTATECORE_ENCRYPTION_KEYS": BENCH_KEY}
        instance = Instance(work, storage, env)
        try:
            instance.start(list(sandboxes))
            t0 = time.time()
            runs = {instance.launch(org, "full"): org for org in sandboxes}
            done = instance.wait(list(runs))
            syncs = _sync_runs(warehouse, list(runs))
        finally:
            instance.stop()
            for proc, _ in sandboxes.values():
                stop_sandbox(proc)
    wall = max(d["end"] or t0 for d in done.values()) - t0
    rows = sum(s["rows"] for s in syncs.values())
    return {
        "scenario": "side_by_side", "orgs": count, "units_per_org": units,
        "rate_limit_per_org": rate_limit or None, "wall_seconds": round(wall, 1), "rows": rows,
        "rows_per_second": round(rows / wall) if wall else None,
        "runs": {org: {**done[r], **syncs.get(r, {}), "start": None, "end": None} for r, org in runs.items()},
    }


def incremental_no_change(units: int, state_dir: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="rm-bench-orgs-") as tmp, scratch_databases(2) as (storage, warehouse):
        work = Path(tmp)
        sandboxes = _sandboxes(1, units, state_dir, work, 0)
        env = {**os.environ, **CREDENTIALS, "RM_PIPELINES_ORGS": str(_registry(work, {o: u for o, (_, u) in sandboxes.items()})),
               "RM_PIPELINES_DATA_DIR": str(work / "data"), "ESTATECORE_DATABASE_URL": warehouse,
               "ESTATECORE_ENCRYPTION_KEYS": BENCH_KEY}
        instance = Instance(work, storage, env)
        try:
            instance.start(["org1"])
            full = instance.launch("org1", "full")
            first = instance.wait([full])
            incremental = instance.launch("org1", "incremental")
            second = instance.wait([incremental])
            syncs = _sync_runs(warehouse, [full, incremental])
        finally:
            instance.stop()
            for proc, _ in sandboxes.values():
                stop_sandbox(proc)
    strip = {"start": None, "end": None}
    return {"scenario": "incremental_no_change", "units": units,
            "full": {**first[full], **syncs.get(full, {}), **strip},
            "incremental": {**second[incremental], **syncs.get(incremental, {}), **strip}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orgs", type=int, nargs="+", default=[1, 2, 4], help="org counts to run side by side")
    parser.add_argument("--units", type=int, default=500, help="units per org in the side-by-side runs")
    parser.add_argument("--rate-limit", type=int, default=0,
                        help="requests/minute each org's sandbox enforces (0: none)")
    parser.add_argument("--incremental-units", type=int, default=5000,
                        help="units of the org whose no-change incremental sync is measured (0: skip)")
    parser.add_argument("--state-dir", type=Path,
                        help="keep generated sandbox portfolios here between runs (default: a temp dir)")
    args = parser.parse_args()
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="rm-bench-state-"))
    for count in args.orgs:
        print(json.dumps(side_by_side(count, args.units, state_dir, args.rate_limit)), flush=True)
    if args.incremental_units:
        print(json.dumps(incremental_no_change(args.incremental_units, state_dir)), flush=True)


if __name__ == "__main__":
    main()
