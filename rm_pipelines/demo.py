"""`rm-pipelines demo`: the main job on the embedded defaults (bundled sandbox + SQLite warehouse)."""

from __future__ import annotations

import os
import sys
import time
import shutil
from pathlib import Path
from typing import TextIO

from .settings import PACKAGE_DIR, get_settings

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
    """Start the embedded sandbox, register the orgs, materialize the extraction, print a summary."""
    import dagster as dg

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
    print(f"Extracting org {org.id!r} ({mode}) into {WarehouseResource().display_url} …", file=out)
    result = job.execute_in_process(
        instance=instance,
        partition_key=org.id,
        run_config={
            "ops": {"rentmanager_extract": {"config": {"mode": mode}}},
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
        },
        raise_on_error=False,
        tags={"rm/org": org.id, "rm/mode": mode},
    )
    rows = []
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        md = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        rows.append((mat.asset_key.path[-1], md.get("mode"), md.get("rows", 0), md.get("inserted", 0),
                     md.get("updated", 0), md.get("unchanged", 0), md.get("requests", 0), md.get("seconds", 0.0)))
    rows.sort()
    header = ("entity", "mode", "rows", "new", "changed", "same", "requests", "seconds")
    print("", file=out)
    print(f"{header[0]:<34}{header[1]:<13}" + "".join(f"{h:>10}" for h in header[2:]), file=out)
    for r in rows:
        print(f"{r[0]:<34}{str(r[1]):<13}{r[2]:>10}{r[3]:>10}{r[4]:>10}{r[5]:>10}{r[6]:>10}{float(r[7]):>10.2f}", file=out)
    total_rows = sum(r[2] for r in rows)
    print(f"\n{len(rows)} entities, {total_rows} rows in {time.monotonic() - t0:.1f}s.", file=out)
    print(f"Warehouse: {WarehouseResource().display_url} (raw tables in schema rm_raw, sync state in ops)", file=out)
    print(f"Dagster runs: DAGSTER_HOME={os.environ['DAGSTER_HOME']} — open the web UI with `make dev`.", file=out)
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"FAILED: {event.step_failure_data.error.message.strip()}", file=out)  # type: ignore[union-attr]
        return False
    print("Run it again for an incremental sync; `rm-pipelines sandbox churn` changes the sandbox data.", file=out)
    return True
