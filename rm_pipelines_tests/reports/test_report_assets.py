"""Report assets in Dagster: a real materialization of org × month and org × year partitions with the preview
and figures in the metadata; the monthly and annual schedules; the Form 8823 sensor firing when open findings
change and not otherwise. Also `rm-pipelines reports render|list` over the same warehouse."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from .conftest import MONTH, ORG, ORG_NAME, write_registry


@pytest.fixture
def registry(tmp_path, monkeypatch):
    return write_registry(tmp_path, monkeypatch, "America/New_York")


def _resources(evaluated, registry):
    from rm_pipelines.defs.resources import RentManagerResource, WarehouseResource

    return {"rentmanager": RentManagerResource(orgs_file=str(registry)),
            "warehouse": WarehouseResource(database_url=evaluated[0].url.render_as_string(hide_password=False))}


def test_report_assets_materialize_with_preview_and_figures(evaluated, registry, tmp_path, monkeypatch):
    from rm_pipelines.defs.reports import report_assets

    monkeypatch.setenv("RM_PIPELINES_REPORTS_DIR", str(tmp_path / "reports"))
    by_key = {a.key.path[-1]: a for a in report_assets}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", [ORG])
        monthly = dg.materialize([by_key["form_8823"]], instance=instance, resources=_resources(evaluated, registry),
                                 partition_key=dg.MultiPartitionKey({"org": ORG, "month": f"{MONTH}-01"}))
        assert monthly.success
        md = monthly.asset_materializations_for_node("reports__form_8823")[0].metadata
        assert md["documents"].value == 3 and md["pages"].value >= 3 and md["blanks_to_fill"].value > 0
        assert md["preview"].value.startswith("![") and "data:image/png;base64," in md["preview"].value
        assert str(tmp_path / "reports" / ORG / MONTH / "form_8823") == md["path"].value
        annual = dg.materialize([by_key["tenant_data"]], instance=instance, resources=_resources(evaluated, registry),
                                partition_key=dg.MultiPartitionKey({"org": ORG, "year": "2026"}))
        assert annual.success
        md = annual.asset_materializations_for_node("reports__tenant_data")[0].metadata
        assert md["documents"].value == 2 and md["households"].value > 0 and "preview" not in md
        missing = dg.materialize([by_key["rent_roll"]], instance=instance, resources=_resources(evaluated, registry),
                                 partition_key=dg.MultiPartitionKey({"org": ORG, "month": "2025-03-01"}),
                                 raise_on_error=False)
        assert not missing.success  # no evaluation in that month: a clear failure, not an empty report
        failure = next(e for e in missing.all_events if e.is_step_failure)
        assert "no stored compliance evaluation" in failure.step_failure_data.error.message


def test_schedules_request_the_previous_period_for_every_org(registry):
    from rm_pipelines.defs.reports import annual_reports_schedule, monthly_reports_schedule

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", [ORG, "other"])
        with dg.build_schedule_context(instance=instance,
                                       scheduled_execution_time=dt.datetime(2027, 1, 2, 6)) as ctx:
            requests = list(monthly_reports_schedule(ctx))
        assert {(r.partition_key.keys_by_dimension["org"], r.partition_key.keys_by_dimension["month"])
                for r in requests} == {(ORG, "2026-12-01"), ("other", "2026-12-01")}
        assert len({r.run_key for r in requests}) == 2
        with dg.build_schedule_context(instance=instance,
                                       scheduled_execution_time=dt.datetime(2027, 1, 15, 6)) as ctx:
            years = {r.partition_key.keys_by_dimension["year"] for r in annual_reports_schedule(ctx)}
        assert years == {"2026"}
    assert monthly_reports_schedule.cron_schedule == "0 6 2 * *"
    assert annual_reports_schedule.cron_schedule.split()[3] == "1"  # January


def _tick(instance, cursor, resources):
    from rm_pipelines.defs.reports import form_8823_on_findings_change

    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as ctx:
        return form_8823_on_findings_change(ctx)


def test_8823_sensor_fires_when_open_findings_change(evaluated, registry):
    from sqlalchemy import update

    from rm_pipelines.warehouse import compliance_store as store

    engine = evaluated[0]
    resources = {"warehouse": _resources(evaluated, registry)["warehouse"]}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", [ORG])
        first = _tick(instance, None, resources)
        bins = {r.tags["rm/bins"] for r in first.run_requests}
        assert len(first.run_requests) == 1 and len(next(iter(bins)).split(",")) == 3
        assert first.run_requests[0].partition_key.keys_by_dimension["month"] == f"{MONTH}-01"
        again = _tick(instance, first.cursor, resources)
        assert isinstance(again, dg.SkipReason)
        findings = store.read_findings(engine, ORG)
        target = next(f for f in findings if f["code"] == "GROSS_RENT_OVER_LIMIT")
        try:
            with engine.begin() as conn:
                conn.execute(update(store.violations).where(store.violations.c.finding_id == target["finding_id"])
                             .values(status="past-due"))
            changed = _tick(instance, first.cursor, resources)
            assert [r.tags["rm/bins"] for r in changed.run_requests] == [target["bin"]]
            assert changed.run_requests[0].run_config["ops"]["reports__form_8823"]["config"]["bins"] == [target["bin"]]
        finally:
            with engine.begin() as conn:
                conn.execute(update(store.violations).where(store.violations.c.finding_id == target["finding_id"])
                             .values(status=target["status"]))


def test_cli_render_and_list(evaluated, registry, tmp_path, capsys):
    from rm_pipelines.cli import main

    url = evaluated[0].url.render_as_string(hide_password=False)
    out = tmp_path / "out"
    assert main(["reports", "render", "--org", ORG, "--kind", "rent_roll", "--period", MONTH, "--property", "HARBOR",
                 "--out", str(out), "--url", url]) == 0
    printed = capsys.readouterr().out
    assert "rent_roll 2026-11: 1 file(s)" in printed and (out / "rent_roll" / "rent_roll-HARBOR.pdf").is_file()
    assert main(["reports", "render", "--org", ORG, "--kind", "aoc", "--period", MONTH, "--url", url]) == 1
    assert "annual report" in capsys.readouterr().err
    assert main(["reports", "list", "--org", ORG, "--kind", "rent_roll", "--period", MONTH, "--url", url]) == 0
    assert "rent_roll-HARBOR.pdf" in capsys.readouterr().out
    assert main(["reports", "render", "--org", ORG, "--kind", "rent_roll", "--period", MONTH, "--property", "NOPE",
                 "--url", url]) == 1
    assert "no evaluated property 'NOPE'" in capsys.readouterr().err
