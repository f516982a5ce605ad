"""`rm-pipelines demo`: the main job on the embedded defaults (bundled sandbox + SQLite warehouse)."""

from __future__ import annotations

import os
import sys
import time
import shutil
from pathlib import Path
from typing import TextIO

from .settings import PACKAGE_DIR, get_settings
from .defs.failures import failure_cause
from .summary import print_compliance, print_table as _print_table

LOCAL_INSTANCE_CONFIG = PACKAGE_DIR / "dagster.local.yaml"


def _instance():
    import dagster as dg

    settings = get_settings()
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.data_dir / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copy(LOCAL_INSTANCE_CONFIG, config)
    return dg.DagsterInstance.get()


def run_demo(*, org_id: str = "demo", mode: str = "incremental", out: TextIO = sys.stdout) -> bool:
    """Start the embedded sandbox, register the orgs, run the sync job (extraction, EstateCore load, compliance),
    print a summary."""
    from .defs.partitions import org_partitions
    from .defs.resources import WarehouseResource, embedded_sandbox_url
    from .definitions import defs as load_defs
    from .orgs import load_registry

    settings = get_settings()
    registry = load_registry()
    org = registry.get(org_id)
    t0 = time.monotonic()
    if org.rentmanager.is_embedded_sandbox:
        print(f"Starting the embedded Rent Manager sandbox ({settings.sandbox_units} units, seed {settings.sandbox_seed})…", file=out)
        url = embedded_sandbox_url()
        print(f"  sandbox listening on {url} (state: {settings.sandbox_state_file})", file=out)
    instance = _instance()
    missing = [o for o in registry.ids if not instance.has_dynamic_partition(org_partitions.name, o)]
    if missing:
        instance.add_dynamic_partitions(org_partitions.name, missing)
    definitions = load_defs()
    job = definitions.resolve_job_def("rentmanager_sync")
    first = mode == "incremental" and not _has_synced(WarehouseResource().engine, org.id)
    shown_mode = "full: first sync of this org" if first else mode
    print(f"Extracting org {org.id!r} ({shown_mode}) into {WarehouseResource().display_url} …", file=out)
    result = job.execute_in_process(
        instance=instance,
        partition_key=org.id,
        run_config={
            "ops": {"rentmanager_extract": {"config": {"mode": mode}}, "estatecore_load": {"config": {"mode": mode}}},
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        },
        raise_on_error=False,
        tags={"rm/org": org.id, "rm/mode": mode},
    )
    extracted, loaded, compliance, writeback = [], [], {}, {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        md = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        group, name = mat.asset_key.path[0], mat.asset_key.path[-1]
        if group == "compliance":
            compliance[name] = md
        elif group == "writeback":
            writeback = md
        else:
            (extracted if group == "rentmanager" else loaded).append((name, md))
    checks = {}
    for evaluation in result.get_asset_check_evaluations():
        checks.setdefault(evaluation.asset_key.path[-1], []).append(
            f"{evaluation.check_name}:{'ok' if evaluation.passed else evaluation.severity.value.lower()}")
    _print_table(out, "Rent Manager → rm_raw", ("entity", "mode", "rows held", "this run", "new", "changed", "same",
                                                 "deleted", "requests", "seconds"),
                 [(n, md.get("mode"), md.get("dagster/row_count", 0), md.get("rows_this_run", 0), md.get("inserted", 0),
                   md.get("updated", 0), md.get("unchanged", 0), md.get("marked_deleted", 0), md.get("requests", 0),
                   f"{float(md.get('seconds', 0.0)):.2f}") for n, md in sorted(extracted)])
    _print_table(out, "rm_raw → EstateCore", ("table", "rows", "new", "changed", "same", "deleted", "quarantined", "quality", "checks"),
                 [(n, md.get("dagster/row_count", 0), md.get("inserted", 0), md.get("updated", 0), md.get("unchanged", 0),
                   md.get("soft_deleted", 0), md.get("quarantined", 0), f"{float(md.get('quality_score', 1.0)):.4f}",
                   " ".join(checks.get(n, []))) for n, md in loaded])
    if compliance:
        print_compliance(out, WarehouseResource().engine, org.id,
                         checks={a: c for a, c in checks.items() if a in compliance})
    if writeback.get("enqueued"):
        print(f"\nWrite-back: {writeback.get('values_changed')} compliance value(s) of {writeback['enqueued']} Rent "
              "Manager record(s) queued (`rm-pipelines writeback list`; the write-back sensor posts them in `make "
              "dev`, or `rm-pipelines writeback post`).", file=out)
    total_rows = sum(md.get("rows_this_run", 0) for _, md in extracted)
    steps = _step_seconds(instance, result.run_id)
    evaluated = (f"compliance evaluated in {steps.get('compliance_evaluation', 0.0):.1f}s" if compliance
                 else "compliance not evaluated")
    print(f"\n{len(extracted)} entities, {total_rows} rows extracted in {steps.get('rentmanager_extract', 0.0):.1f}s; "
          f"{len(loaded)} EstateCore tables loaded in {steps.get('estatecore_load', 0.0):.1f}s; {evaluated}; "
          f"{time.monotonic() - t0:.1f}s in all.", file=out)
    print(f"Warehouse: {WarehouseResource().display_url} (EstateCore tables; raw payloads in rm_raw; sync state, "
          "quarantine and audit in ops)", file=out)
    print(f"Dagster runs: DAGSTER_HOME={os.environ['DAGSTER_HOME']} — open the web UI with `make dev`.", file=out)
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                cause = failure_cause(event.step_failure_data.error).replace("\n", "\n    ")  # type: ignore[union-attr]
                print(f"FAILED ({event.step_key}): {cause}", file=out)
        return False
    if compliance and not render_reports(definitions, instance, org, out):
        return False
    print("Run it again for an incremental sync; `rm-pipelines sandbox churn` changes the sandbox data.", file=out)
    return True


def _has_synced(engine, org_id: str) -> bool:  # noqa: ANN001
    from sqlalchemy import text

    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM ops.sync_state WHERE org_id = :o"), {"o": org_id}).scalar_one())


def _step_seconds(instance, run_id: str) -> dict[str, float]:  # noqa: ANN001
    """Seconds each step of a run took, from its start and end events in the event log."""
    started: dict[str, float] = {}
    out: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            out[event.step_key] = entry.timestamp - started[event.step_key]
    return out


def render_reports(definitions, instance, org, out: TextIO) -> bool:  # noqa: ANN001
    """Run the report jobs for the period of the org's latest evaluation and print where the files are."""
    import dagster as dg

    from .defs.resources import WarehouseResource
    from .warehouse.compliance_store import latest_as_of
    from .warehouse.report_index import list_reports

    engine = WarehouseResource().engine
    as_of = latest_as_of(engine, org.id)
    if as_of is None:
        return True
    month, year = as_of.strftime("%Y-%m"), str(as_of.year)
    print(f"\nRendering the compliance reports of {month} and {year} …", file=out)
    ok = True
    for job, key in (("monthly_reports", dg.MultiPartitionKey({"org": org.id, "month": f"{month}-01"})),
                     ("annual_reports", dg.MultiPartitionKey({"org": org.id, "year": year}))):
        result = definitions.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=key, raise_on_error=False, tags={"rm/org": org.id},
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        if not result.success:
            ok = False
            for event in result.all_events:
                if event.is_step_failure:
                    cause = failure_cause(event.step_failure_data.error).replace("\n", "\n    ")  # type: ignore[union-attr]
                    print(f"FAILED ({event.step_key}): {cause}", file=out)
    rows = [r for r in list_reports(engine, org.id) if r["period"] in (month, year)]
    _print_table(out, "Reports", ("report", "period", "files", "pages", "blanks"),
                 [(kind, period, len(rs), sum(r["pages"] or 0 for r in rs), sum(r["blanks"] for r in rs))
                  for (kind, period), rs in _group(rows).items()])
    if rows:
        folders = sorted({str(Path(r["path"]).parent.parent.parent) for r in rows})
        print(f"Reports written under {', '.join(folders)} — check one with `rm-pipelines reports verify FILE`; list "
              f"them with `rm-pipelines reports list --org {org.id}`.", file=out)
    return ok


def _group(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        out.setdefault((r["kind"], r["period"]), []).append(r)
    return out
