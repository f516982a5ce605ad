"""A dead run does not block an org: run monitoring fails a run whose worker was killed, and the org's queued
run then starts and syncs (a real daemon, a real code location, the shipped local instance config)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.events import EngineEventData
from dagster._core.test_utils import create_run_for_test

from rm_pipelines.defs.launcher import LocalRunLauncher, process_alive, worker_pid
from rm_pipelines.settings import PACKAGE_DIR

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _instance_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((PACKAGE_DIR / "dagster.local.yaml").read_text())
    config["run_monitoring"]["poll_interval_seconds"] = 1  # the shipped file polls every 30 s
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


def _killed_worker_run(instance: dg.DagsterInstance, org: str) -> tuple[dg.DagsterRun, int]:
    """A run that started a worker process which then died by kill -9 (no clean-up of any kind)."""
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    run = create_run_for_test(instance, "rentmanager_sync", status=dg.DagsterRunStatus.STARTED,
                              tags={"dagster/partition": org, "rm/org": org})
    instance.report_engine_event(f"Started process for run (pid: {worker.pid}).", run,
                                 EngineEventData.in_process(worker.pid))
    assert worker_pid(instance, run.run_id) == worker.pid and process_alive(worker.pid)
    assert LocalRunLauncher.check_run_worker_health.__get__(instance.run_launcher)(run).status.value == "RUNNING"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    return run, worker.pid


@pytest.mark.slow
def test_a_killed_run_is_failed_and_the_orgs_next_run_syncs(tmp_path, monkeypatch, registry_file, sandbox):
    home = _instance_home(tmp_path)
    env = {**os.environ, "DAGSTER_HOME": str(home), "RM_PIPELINES_ORGS": str(registry_file),
           "RM_PIPELINES_DATA_DIR": str(tmp_path / "data"),
           "ESTATECORE_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'estatecore.sqlite'}"}
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("org", ["acme"])
        dead, pid = _killed_worker_run(instance, "acme")
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.STARTED  # what Dagster believes
        launch = subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-w", str(ROOT / "workspace.yaml"), "-j", "rentmanager_sync",
             "--tags", '{"dagster/partition": "acme", "rm/org": "acme"}'],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert launch.returncode == 0, launch.stderr[-2000:]
        queued = [r for r in instance.get_runs() if r.run_id != dead.run_id]
        assert len(queued) == 1 and queued[0].status == dg.DagsterRunStatus.QUEUED
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                run = instance.get_run_by_id(queued[0].run_id)
                if run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE):
                    break
                time.sleep(1)
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
        failed = instance.get_run_by_id(dead.run_id)
        assert failed.status == dg.DagsterRunStatus.FAILURE
        messages = [e.message for e in instance.all_logs(dead.run_id) if e.dagster_event and e.message]
        assert any(f"worker process {pid} is gone" in m for m in messages)
        assert instance.get_run_by_id(queued[0].run_id).status == dg.DagsterRunStatus.SUCCESS
    shutil.rmtree(home, ignore_errors=True)
