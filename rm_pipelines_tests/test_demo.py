"""`rm-pipelines demo` prints what the run did, in words a person can act on."""

from __future__ import annotations

import io

from rm_pipelines.demo import run_demo


def _demo_env(monkeypatch, tmp_path, registry_file):
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("RM_PIPELINES_ORGS", str(registry_file))
    monkeypatch.delenv("ESTATECORE_DATABASE_URL", raising=False)


def test_the_first_demo_run_says_full_and_reports_rows_held_and_step_times(monkeypatch, tmp_path, registry_file,
                                                                              sandbox):
    _demo_env(monkeypatch, tmp_path, registry_file)
    out = io.StringIO()
    assert run_demo(org_id="acme", out=out)
    text = out.getvalue()
    assert "Extracting org 'acme' (full: first sync of this org)" in text
    header = next(line for line in text.splitlines() if line.startswith("entity "))
    assert "rows held" in header and "this run" in header and "deleted" in header
    units = next(line for line in text.splitlines() if line.startswith("units "))
    held, this_run = units.split()[2:4]
    assert int(held) == int(this_run) == sandbox.store.count("Units")
    block = text.split("rm_raw → EstateCore\n")[1].split("\n\n")[0].splitlines()[1:]
    loaded = [line.split()[0] for line in block]
    assert len(loaded) == 29 and len(set(loaded)) == len(loaded)  # each table reported once
    assert "compliance evaluated in" in text and "in all." in text
    # a second run is incremental and says so
    out = io.StringIO()
    assert run_demo(org_id="acme", out=out)
    assert "Extracting org 'acme' (incremental)" in out.getvalue()


def test_a_failed_demo_prints_the_real_cause(monkeypatch, tmp_path, registry_file, sandbox):
    _demo_env(monkeypatch, tmp_path, registry_file)
    monkeypatch.setenv("TEST_RM_PASSWORD", "wrong-password")
    out = io.StringIO()
    assert not run_demo(org_id="acme", out=out)
    failure = out.getvalue().split("FAILED (rentmanager_extract): ")[1]
    assert "login" in failure and "rejected" in failure and "TEST_RM_PASSWORD" in failure
    assert "DagsterExecutionStepExecutionError" not in out.getvalue() and "wrong-password" not in out.getvalue()
