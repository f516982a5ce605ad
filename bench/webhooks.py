"""Webhook and write-back benchmark; prints one JSON object per part.

- receiver: `rm-pipelines webhooks serve` in a process of its own, on SQLite (durable commits: synchronous=FULL)
  and, with --pg, on PostgreSQL; N distinct deliveries from C concurrent connections. Deliveries per second, the
  answer time percentiles, and a count of the inbox rows afterwards (every answered delivery is stored).
- latency: a sandbox of --units units and the receiver in processes of their own, the org synced once, Rent
  Manager webhooks registered; then a steady stream of tenant edits in Rent Manager (--rate per second for
  --seconds) while the webhook sensor ticks every --interval seconds and each targeted run it asks for is
  executed (in this process, as the daemon's run worker would). Event-to-table latency per edit: from the edit
  to the EstateCore row holding it (residents.updated_at), p50/p95/max.
- writeback: every work order's description changed through the outbox against the same sandbox, the client
  held to the org's request budget (500/minute); records per second, requests per record, budget used.

    python bench/webhooks.py                       # all parts, 500-unit sandbox
    python bench/webhooks.py --parts receiver --deliveries 20000 --pg postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import httpx
from common import ROOT, free_port, start_sandbox, stop_sandbox

TOKEN = "bench-" + "x7Kp2Qw9Lm4Rt8Zv1Nb6Yc3Hd5Fg0Js"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else 0.0


def _registry(work: Path, rm_url: str, receiver_url: str, requests_per_minute: int | None = None) -> Path:
    os.environ["BENCH_RM_USER"], os.environ["BENCH_RM_PASSWORD"] = "demo", "demo-password"
    os.environ["BENCH_WEBHOOK_TOKEN"] = TOKEN
    path = work / "orgs.yaml"
    path.write_text(textwrap.dedent(f"""
        organizations:
          - id: bench
            name: Bench
            rentmanager:
              base_url: {rm_url}
              auth: {{mode: user, username_env: BENCH_RM_USER, password_env: BENCH_RM_PASSWORD}}
              requests_per_minute: {requests_per_minute or 'null'}
            locations: [{{id: 1, timezone: America/New_York}}]
            webhooks: {{token_env: BENCH_WEBHOOK_TOKEN, public_url: "{receiver_url}", corporate_id: sandbox}}
            writeback: {{default: manual, compliance_udfs: null}}
            compliance: {{backfill_earliest_limits: true}}
    """))
    return path


def start_receiver(registry: Path, db_url: str, port: int) -> subprocess.Popen:
    """`rm-pipelines webhooks serve` in a process of its own (its log, one line per delivery, in a file)."""
    log = registry.with_name(f"receiver-{port}.log")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rm_pipelines.cli", "webhooks", "serve", "--port", str(port), "--orgs", str(registry),
         "--url", db_url], stdout=subprocess.DEVNULL, stderr=log.open("wb"), cwd=ROOT, env=os.environ.copy())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"receiver exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("receiver did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (and its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


# ------------------------------------------------------------------------------------------------ receiver


async def _fire(url: str, n: int, concurrency: int) -> tuple[float, list[float], int]:
    """POST n distinct deliveries over `concurrency` keep-alive connections. A bare HTTP/1.1 client on asyncio
    streams: the load generator shares the machine with the receiver and must cost it as little CPU as it can."""
    parts = httpx.URL(url)
    times: list[float] = []
    failures = 0
    counter = iter(range(n))

    async def connection() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        try:
            for i in counter:
                body = json.dumps({"EventType": "Tenant_Edit", "IDParentIDDict": {str(i + 1): i + 1},
                                   "CorporateID": "sandbox", "LocationID": 1, "LocationName": "Default"}).encode()
                head = (f"POST {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}\r\nContent-Type: "
                        f"application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                t0 = time.perf_counter()
                writer.write(head + body)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                times.append(time.perf_counter() - t0)
                failures += b" 200 " not in status_line
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - t0, times, failures


@contextlib.contextmanager
def _scratch_database(server_url: str):  # noqa: ANN202
    """A database of its own on the PostgreSQL server of `server_url`, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"rm_bench_{secrets.token_hex(5)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_receiver(work: Path, db_url: str, backend: str, deliveries: int, concurrency: int) -> dict:
    from sqlalchemy import text

    work.mkdir(parents=True, exist_ok=True)
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.migrate import upgrade

    engine = create_warehouse_engine(db_url)
    upgrade(engine)
    port = free_port()
    proc = start_receiver(_registry(work, "http://127.0.0.1:1", f"http://127.0.0.1:{port}"), db_url, port)
    try:
        url = f"http://127.0.0.1:{port}/rentmanager/bench/{TOKEN}"
        asyncio.run(_fire(url, min(500, deliveries), concurrency))  # warm-up: connections, first commits
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM ops.webhook_inbox"))
        cpu0, client0 = _cpu_seconds(proc.pid), time.process_time()
        seconds, times, failures = asyncio.run(_fire(url, deliveries, concurrency))
        receiver_cpu, client_cpu = _cpu_seconds(proc.pid) - cpu0, time.process_time() - client0
    finally:
        stop(proc)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM ops.webhook_inbox WHERE status = 'pending'")).scalar_one()
    engine.dispose()
    return {"part": "receiver", "backend": backend, "durable": True, "deliveries": deliveries,
            "concurrency": concurrency, "seconds": round(seconds, 2),
            "deliveries_per_second": round(deliveries / seconds, 1),
            "answer_ms_p50": round(statistics.median(times) * 1000, 2),
            "answer_ms_p95": round(_pct(times, 0.95) * 1000, 2), "failed": failures, "stored": stored,
            # the machine is shared: CPU time says what one free core would do
            "receiver_cpu_seconds": round(receiver_cpu, 2), "client_cpu_seconds": round(client_cpu, 2),
            "deliveries_per_receiver_cpu_second": round(deliveries / receiver_cpu, 1) if receiver_cpu else None,
            "load_average_1m": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}


# ------------------------------------------------------------------------------------------------ latency


class _Editor(threading.Thread):
    """Edits one tenant after another in Rent Manager, `rate` per second, each change marked and timed."""

    def __init__(self, rm_url: str, tenant_ids: list[int], rate: float) -> None:
        super().__init__(daemon=True)
        self.rm_url, self.tenant_ids, self.rate = rm_url, tenant_ids, rate
        self.changes: dict[int, tuple[str, float]] = {}  # tenant → (marker, UTC epoch of the change)
        self.stop_event = threading.Event()
        self.errors = 0

    def run(self) -> None:
        from rm_pipelines import clock

        headers = {"X-RM12API-PartnerToken": "sandbox-partner-token"}
        with httpx.Client(base_url=self.rm_url, headers=headers, timeout=30) as rm:
            for n, tenant in enumerate(self.tenant_ids):
                if self.stop_event.wait(1 / self.rate):
                    return
                current = rm.get(f"/Tenants/{tenant}").json()
                marker = f"bench edit #{n}"
                resp = rm.post("/Tenants", json=[{"TenantID": tenant, "Comment": marker,
                                                  "UpdateDate": current["UpdateDate"]}])
                if resp.status_code == 200:
                    self.changes[tenant] = (marker, clock.utcnow().timestamp())
                else:
                    self.errors += 1


def bench_latency(work: Path, rm_url: str, seconds: int, rate: float, interval: int) -> dict:
    import dagster as dg
    from sqlalchemy import select

    from rm_pipelines.definitions import defs as load_defs
    from rm_pipelines.orgs import load_registry
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.migrate import upgrade
    from rm_pipelines.warehouse.models import table
    from rm_pipelines.webhooks.registration import delivery_url, register

    db_url = f"sqlite:///{work / 'latency' / 'estatecore.sqlite'}"
    port = free_port()
    registry = _registry(work, rm_url, f"http://127.0.0.1:{port}")
    os.environ.update(RM_PIPELINES_ORGS=str(registry), ESTATECORE_DATABASE_URL=db_url,
                      RM_PIPELINES_DATA_DIR=str(work / "data"))
    engine = create_warehouse_engine(db_url)
    upgrade(engine)
    receiver = start_receiver(registry, db_url, port)
    defs = load_defs()
    org = load_registry(registry).get("bench")
    runs: list[float] = []
    try:
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("org", ["bench"])
            t0 = time.monotonic()
            first = defs.resolve_job_def("rentmanager_sync").execute_in_process(
                instance=instance, partition_key="bench", raise_on_error=False)
            assert first.success, "initial sync failed"
            initial = time.monotonic() - t0
            with defs.resources["rentmanager"].open_client(org, 1, "America/New_York") as client:
                register(client, delivery_url(org.webhooks.public_url, "bench", TOKEN), ["Tenant"])
            residents = table("residents")
            with engine.connect() as conn:
                tenant_ids = [r for (r,) in conn.execute(select(residents.c.rm_id).where(
                    residents.c.deleted_at.is_(None)))]
            random.Random(7).shuffle(tenant_ids)
            editor = _Editor(rm_url, tenant_ids[: int(seconds * rate)], rate)
            sensor = defs.resolve_sensor_def("rentmanager_webhook_sensor")
            cursor = None
            editor.start()
            started = time.monotonic()
            next_tick = started + interval
            while True:
                time.sleep(max(0.0, next_tick - time.monotonic()))
                next_tick += interval
                with dg.build_sensor_context(instance=instance, resources=defs.resources, cursor=cursor) as context:
                    result = sensor(context)
                cursor = getattr(result, "cursor", None) or cursor
                for request in getattr(result, "run_requests", None) or []:
                    r0 = time.monotonic()
                    run = defs.resolve_job_def("rentmanager_webhook_sync").execute_in_process(
                        run_config=request.run_config, instance=instance, partition_key=request.partition_key,
                        tags=request.tags, asset_selection=request.asset_selection, raise_on_error=False)
                    runs.append(time.monotonic() - r0)
                    assert run.success, "targeted run failed"
                    while next_tick < time.monotonic():  # the daemon's ticks do not pile up behind a run
                        next_tick += interval
                edits_done = not editor.is_alive()
                with engine.connect() as conn:
                    held = dict(conn.execute(select(residents.c.rm_id, residents.c.comment)).all())
                loaded = sum(1 for t, (m, _) in editor.changes.items() if held.get(t) == m)
                if edits_done and loaded == len(editor.changes):
                    break
                if time.monotonic() - started > seconds + 10 * interval:
                    break
    finally:
        stop(receiver)
    with engine.connect() as conn:
        rows = {t: (c, u) for t, c, u in conn.execute(select(residents.c.rm_id, residents.c.comment,
                                                                residents.c.updated_at))}
    latencies = []
    for tenant, (marker, at) in editor.changes.items():
        comment, updated = rows.get(tenant, (None, None))
        if comment == marker and updated is not None:
            latencies.append(updated.timestamp() - at)
    engine.dispose()
    return {"part": "latency", "edits": len(editor.changes), "edit_errors": editor.errors,
            "edits_loaded": len(latencies), "rate_per_second": rate, "sensor_interval_seconds": interval,
            "initial_full_sync_seconds": round(initial, 1), "targeted_runs": len(runs),
            "targeted_run_seconds_mean": round(statistics.mean(runs), 1) if runs else None,
            "latency_seconds_p50": round(statistics.median(latencies), 1) if latencies else None,
            "latency_seconds_p95": round(_pct(latencies, 0.95), 1) if latencies else None,
            "latency_seconds_max": round(max(latencies), 1) if latencies else None}


# ------------------------------------------------------------------------------------------------ write-back


def bench_writeback(work: Path, rm_url: str, budget: int) -> dict:
    from rm_pipelines.defs.resources import RentManagerResource
    from rm_pipelines.flows import writeback as W
    from rm_pipelines.flows.extract import OrgSync
    from rm_pipelines.orgs import load_registry
    from rm_pipelines.warehouse.db import create_warehouse_engine
    from rm_pipelines.warehouse.migrate import upgrade

    registry = _registry(work, rm_url, "http://127.0.0.1:1", requests_per_minute=budget)
    org = load_registry(registry).get("bench")
    engine = create_warehouse_engine(f"sqlite:///{work / 'writeback' / 'estatecore.sqlite'}")
    upgrade(engine)
    resource = RentManagerResource(orgs_file=str(registry))
    assert OrgSync(org, engine, resource.open_client, run_id="wb-sync").run(
        ["service_manager_issues", "service_manager_statuses"], mode="full").ok
    from rm_pipelines.rentmanager.catalog import get
    from rm_pipelines.warehouse.raw import RawLander

    issues = RawLander(engine, org_id="bench", run_id=None).payloads(get("service_manager_issues"), 1)
    for issue in issues:
        W.enqueue(engine, org, resource="ServiceManagerIssues", rm_key=issue["ServiceManagerIssueID"],
                  fields={"Description": f"{issue.get('Description') or ''} (reviewed)"}, reason="bench",
                  requested_by="bench")
    t0 = time.monotonic()
    report = W.post_pending(engine, org, resource.open_client, run_id="wb-bench", load=False)
    seconds = time.monotonic() - t0
    engine.dispose()
    return {"part": "writeback", "records": report.rows, "done": report.done, "failed": report.failed,
            "batch_size": org.writeback.batch_size, "seconds": round(seconds, 2),
            "records_per_second": round(report.rows / seconds, 1), "requests": report.requests,
            "requests_per_record": report.requests_per_record, "budget_requests_per_minute": budget,
            # what the budget allows once its burst is spent: budget / 60 / requests per record
            "sustained_records_per_second_within_budget": round(budget / 60 / report.requests_per_record, 1)
            if report.requests_per_record else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="*", choices=("receiver", "latency", "writeback"),
                        default=["receiver", "latency", "writeback"], help="parts to run (default: all)")
    parser.add_argument("--deliveries", type=int, default=10_000, help="receiver: deliveries (default 10000)")
    parser.add_argument("--concurrency", type=int, default=32, help="receiver: concurrent connections (default 32)")
    parser.add_argument("--pg", help="receiver: also measure on this PostgreSQL database URL")
    parser.add_argument("--units", type=int, default=500, help="latency/writeback: sandbox units (default 500)")
    parser.add_argument("--seconds", type=int, default=180, help="latency: seconds of edits (default 180)")
    parser.add_argument("--rate", type=float, default=1.0, help="latency: tenant edits per second (default 1)")
    parser.add_argument("--interval", type=int, default=30, help="latency: sensor interval in seconds (default 30)")
    parser.add_argument("--budget", type=int, default=500, help="writeback: requests per minute (default 500)")
    parser.add_argument("--state-dir", type=Path, help="keep the sandbox portfolio here between runs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rm-bench-webhooks-"))
    if "receiver" in args.parts:
        print(json.dumps(bench_receiver(work / "rx-sqlite", f"sqlite:///{work / 'rx-sqlite' / 'estatecore.sqlite'}",
                                        "sqlite", args.deliveries, args.concurrency)), flush=True)
        if args.pg:
            with _scratch_database(args.pg) as url:
                print(json.dumps(bench_receiver(work / "rx-pg", url, "postgresql", args.deliveries,
                                                args.concurrency)), flush=True)
    if {"latency", "writeback"} & set(args.parts):
        state_dir = args.state_dir or work / "state"
        state_dir.mkdir(parents=True, exist_ok=True)
        proc, rm_url, _ = start_sandbox(args.units, state_dir)
        try:
            if "latency" in args.parts:
                print(json.dumps({**bench_latency(work, rm_url, args.seconds, args.rate, args.interval),
                                  "units": args.units}), flush=True)
            if "writeback" in args.parts:
                print(json.dumps({**bench_writeback(work, rm_url, args.budget), "units": args.units}), flush=True)
        finally:
            stop_sandbox(proc)


if __name__ == "__main__":
    main()
