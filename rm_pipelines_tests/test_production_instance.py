"""The production instance for real: Dagster's storage in the CI PostgreSQL server (deploy/dagster.yaml), the
daemon and the webserver as their own processes, syncs driven over GraphQL (dagster-graphql's client): the run
queue keeps one run per org while two orgs run side by side, a run is terminated mid-sync and its record says
so, and the run history reads back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
IN_PROGRESS = {"STARTING", "STARTED", "CANCELING"}
POOLS = ("rm_api", "estatecore_writer")
DONE = {"SUCCESS", "FAILURE", "CANCELED"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _instance_home(tmp_path: Path, storage_url: str) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    config["storage"] = {"postgres": {"postgres_url": storage_url}}  # the shipped file reads DAGSTER_PG_* instead
    config["run_monitoring"]["poll_interval_seconds"] = 2
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


def _wait_http(url: str, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the webserver exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer")


def _syncing(url: str, run_id: str) -> bool:
    """Whether the run's extraction has begun (its sync-run row exists)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM ops.sync_runs WHERE run_id = :r"),
                                     {"r": run_id}).scalar_one())
    except Exception:  # noqa: BLE001 — the schema may not exist yet
        return False
    finally:
        engine.dispose()


def _failures(status: dict[str, str]) -> dict[str, str]:
    """Each run's status, with the cause of any failure (for the assertion message)."""
    from rm_pipelines.defs.failures import failure_cause

    out = dict(status)
    with dg.DagsterInstance.get() as instance:
        for run_id, value in status.items():
            if value == "FAILURE":
                logs = instance.all_logs(run_id)
                causes = [failure_cause(e.dagster_event.step_failure_data.error) for e in logs
                          if e.dagster_event and e.dagster_event.is_step_failure]
                causes += [e.message for e in logs if e.dagster_event and e.dagster_event.event_type_value in
                           ("RUN_FAILURE", "ENGINE_EVENT", "STEP_FAILURE", "PIPELINE_FAILURE") and e.message]
                causes += [str(getattr(e.dagster_event.event_specific_data, "error", "")) for e in logs
                           if e.dagster_event and e.dagster_event.event_type_value in ("RUN_FAILURE", "ENGINE_EVENT")
                           and getattr(e.dagster_event.event_specific_data, "error", None)]
                out[run_id] = f"FAILURE: {causes}"
    return out


RUNS_QUERY = """
query History($tag: String!) {
  runsOrError(filter: {tags: [{key: "rm/org", value: $tag}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}
"""


@pytest.mark.postgres
@pytest.mark.slow
def test_queue_graphql_and_termination_on_a_postgresql_instance(tmp_path, monkeypatch, registry_file, pg_url, sandbox):
    from dagster_graphql import DagsterGraphQLClient

    # dagster-postgres is built and tested on psycopg2 (SQLAlchemy 2.1 would pick psycopg 3 for postgresql://)
    storage_url = make_url(pg_url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    home = _instance_home(tmp_path, storage_url)
    registry_file.write_text(registry_file.read_text() + registry_file.read_text().split("organizations:\n")[1]
                             .replace("id: acme", "id: beta").replace("Acme Residential", "Beta Homes"))
    env = {**os.environ, "DAGSTER_HOME": str(home), "RM_PIPELINES_ORGS": str(registry_file),
           "RM_PIPELINES_DATA_DIR": str(tmp_path / "data"), "ESTATECORE_DATABASE_URL": pg_url}
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    sandbox.faults.latency_seconds = 0.3  # syncs long enough to overlap, to be queued and to be terminated
    port = _free_port()
    workspace = str(ROOT / "workspace.yaml")
    procs = [subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", workspace], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
             subprocess.Popen([str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", workspace],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        with dg.DagsterInstance.get() as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            instance.add_dynamic_partitions("org", ["acme", "beta"])
            for pool in POOLS:  # as deploy/README.md sets them up (two runs creating a default pool race in Dagster)
                instance.event_log_storage.set_concurrency_slots(pool, 4)
        _wait_http(f"http://127.0.0.1:{port}/server_info", procs[1])
        client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=60)

        def launch(org: str, mode: str) -> str:
            return client.submit_job_execution(
                "rentmanager_sync", repository_location_name="rm_pipelines",
                run_config={"ops": {"rentmanager_extract": {"config": {"mode": mode}},
                                    "estatecore_load": {"config": {"mode": mode}}}},
                tags={"dagster/partition": org, "rm/org": org, "rm/mode": mode})

        first, second, other = launch("acme", "full"), launch("acme", "incremental"), launch("beta", "full")
        runs = {first: "acme", second: "acme", other: "beta"}
        overlap_orgs, same_org_overlap, terminated = False, False, False
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            status = {run_id: client.get_run_status(run_id).value for run_id in runs}
            active = [r for r, s in status.items() if s in IN_PROGRESS]
            same_org_overlap |= first in active and second in active
            overlap_orgs |= {runs[r] for r in active} == {"acme", "beta"}
            if status[second] == "STARTED" and not terminated and _syncing(pg_url, second):
                time.sleep(1)  # well inside its extraction
                client.terminate_run(second)
                terminated = True
            if all(s in DONE for s in status.values()):
                break
            time.sleep(0.5)
        assert not same_org_overlap, "two runs of one org were in progress together"
        assert overlap_orgs, "the two orgs never ran side by side"
        assert status == {first: "SUCCESS", second: "CANCELED", other: "SUCCESS"}, _failures(status)

        history = client._execute(RUNS_QUERY, {"tag": "acme"})["runsOrError"]["results"]
        assert {r["runId"]: r["status"] for r in history} == {first: "SUCCESS", second: "CANCELED"}
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            records = dict(conn.execute(text("SELECT run_id, status FROM ops.sync_runs")).all())
        engine.dispose()
        assert records[first] == "success" and records[other] == "success"
        assert records[second] == "terminated"  # never recorded as a success
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
