"""Alerts: every failed run of the pipeline is recorded in `ops.alerts` and, where the org's registry entry names
a notification URL (`alerts: {webhook_url_env: NAME}`), posted there as JSON. Alerts name the org, the failed
step and its cause — never a secret (the causes are the pipeline's own errors, which never carry one)."""


import os

import dagster as dg
import httpx

from .. import clock
from ..orgs import RegistryError
from ..warehouse import ops
from .failures import failure_cause
from .resources import RentManagerResource, WarehouseResource

NOTIFY_TIMEOUT_SECONDS = 10


def _org_of(run: dg.DagsterRun) -> str | None:
    return run.tags.get("rm/org") or run.tags.get("dagster/partition")


def _cause(context: dg.RunFailureSensorContext) -> tuple[str | None, str]:
    """(failed step, what failed) — the first failed step's own error, else the run's failure message."""
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error if event.step_failure_data else None
        if error is not None:
            return event.step_key, failure_cause(error)
    return None, (context.failure_event.message or "the run failed").strip()


@dg.run_failure_sensor(name="run_failure_alerts", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Records each failed run in ops.alerts and posts it to the org's notification "
                                   "URL when the registry names one.")
def run_failure_alerts(context: dg.RunFailureSensorContext, rentmanager: RentManagerResource,
                       warehouse: WarehouseResource) -> None:
    run = context.dagster_run
    org_id = _org_of(run)
    step, cause = _cause(context)
    url_env = None
    if org_id:
        try:
            url_env = rentmanager.org(org_id).alerts.webhook_url_env
        except RegistryError:
            url_env = None  # the org left the registry: record the alert all the same
    url = os.environ.get(url_env) if url_env else None
    notified, error = "no_target", None
    payload = {"kind": "run_failure", "org": org_id, "job": run.job_name, "run_id": run.run_id, "step": step,
               "cause": cause, "raised_at": clock.utcnow().isoformat(timespec="seconds")}
    if url:
        try:
            httpx.post(url, json=payload, timeout=NOTIFY_TIMEOUT_SECONDS).raise_for_status()
            notified = "sent"
        except httpx.HTTPError as exc:
            notified, error = "failed", f"{type(exc).__name__}: {getattr(exc.response, 'status_code', '')}".strip()
    ops.record_alert(warehouse.engine, org_id=org_id, kind="run_failure", run_id=run.run_id, job_name=run.job_name,
                     entity=step, cause=cause, notified=notified, notify_error=error)
    context.log.info(f"alert recorded for run {run.run_id} of org {org_id!r} ({notified})")
