"""A run launcher for one machine whose run workers run monitoring can check, so a dead run is failed.

Dagster's `DefaultRunLauncher` starts each run in a process beside the code location but cannot tell run
monitoring whether that process is still alive: a run whose worker was killed (`kill -9`, out of memory, a
reboot) stays STARTED forever, and with the queue's one-run-per-org limit every later run of that org waits
behind it. This launcher answers the health check from the worker's pid, which Dagster records when it starts
the process ("Started process for run (pid: …)"). It is meant for single-machine deployments (`make dev`, one
host running the daemon and the code location); multi-host deployments use dagster-docker or dagster-k8s,
whose launchers check health themselves (deploy/README.md).
"""

from __future__ import annotations

import os

import dagster as dg
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

STARTED_PROCESS = "Started process for run (pid: "


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid Dagster recorded for the run's worker process (the latest, if it was resumed)."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records
    for record in reversed(records):
        entry = record.event_log_entry
        if entry.dagster_event and (entry.dagster_event.message or "").startswith(STARTED_PROCESS):
            pid = entry.dagster_event.engine_event_data.metadata.get("pid")
            value = getattr(pid, "value", pid)
            if value is not None and str(value).isdigit():
                return int(value)
    return None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:  # a zombie has exited: only its exit status is left for its parent to collect
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class LocalRunLauncher(DefaultRunLauncher):
    """`DefaultRunLauncher` plus a worker health check from the recorded pid (see the module docstring)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        pid = worker_pid(self._instance, run.run_id)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no worker process recorded for the run yet")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"worker process {pid} is alive")
        return CheckRunHealthResult(WorkerStatus.FAILED, f"worker process {pid} is gone (killed or crashed)")
