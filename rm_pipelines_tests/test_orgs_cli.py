"""Onboarding from the command line: `orgs add` writes a validated entry, `orgs test` reports on the real
connection and says what to fix, `orgs remove` takes an org out (and `--purge` its data, audited)."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import text

from rm_pipelines.cli import main
from rm_pipelines.orgs import load_registry
from rm_pipelines.settings import BUNDLED_ORGS_FILE

from .test_sync_access import Sleeps, client_factory, engine_for, run_sync


def test_add_writes_a_validated_entry_with_variable_names_only(tmp_path, capsys):
    path = tmp_path / "orgs.yaml"
    assert main(["orgs", "add", "--file", str(path), "--id", "harbor-homes", "--name", "Harbor Homes",
                 "--company-code", "harbor", "--location", "1:America/Chicago", "--location", "3:America/Denver",
                 "--entities", "properties", "units"]) == 0
    out = capsys.readouterr().out
    assert "HARBOR_HOMES_RM_USER" in out and "orgs test --org harbor-homes" in out
    org = load_registry(path).get("harbor-homes")
    assert org.rentmanager.url == "https://harbor.api.rentmanager.com"
    assert [(loc.id, loc.timezone) for loc in org.locations] == [(1, "America/Chicago"), (3, "America/Denver")]
    assert org.entity_names == ["properties", "units"]
    assert org.rentmanager.auth.password_env == "HARBOR_HOMES_RM_PASSWORD"
    # a second org keeps the first; a duplicate id and an invalid entry are refused and change nothing
    assert main(["orgs", "add", "--file", str(path), "--id", "beta", "--base-url", "https://beta.example.com",
                 "--auth", "partner"]) == 0
    assert load_registry(path).ids == ["harbor-homes", "beta"]
    before = path.read_text()
    assert main(["orgs", "add", "--file", str(path), "--id", "beta", "--company-code", "b"]) == 2
    assert "already in" in capsys.readouterr().err
    assert main(["orgs", "add", "--file", str(path), "--id", "gamma", "--company-code", "g",
                 "--location", "1:Mars/Olympus"]) == 2
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    assert path.read_text() == before


def test_add_refuses_the_bundled_demo_registry(capsys):
    assert main(["orgs", "add", "--file", str(BUNDLED_ORGS_FILE), "--id", "x", "--company-code", "x"]) == 2
    assert "bundled demo registry" in capsys.readouterr().err


def test_connection_report_counts_every_entity_and_passes(registry_file, sandbox, capsys):
    assert main(["orgs", "test", "--org", "acme", "--file", str(registry_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (loc,) = report["locations"]
    assert report["ok"] and {c["name"]: c["status"] for c in loc["checks"]} == {
        "credentials": "ok", "login": "ok", "time zone": "ok", "location": "ok", "entities": "ok"}
    assert loc["counts"]["units"] == sandbox.store.count("Units")
    assert loc["counts"]["charges"] == sandbox.store.count("Charges")
    assert loc["api_version"] and loc["requests"] < 50


def test_connection_report_says_what_to_fix(registry_file, sandbox, capsys, monkeypatch):
    monkeypatch.setenv("TEST_RM_PASSWORD", "wrong")
    assert main(["orgs", "test", "--org", "acme", "--file", str(registry_file)]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] login" in out and "fix: check the username and password in TEST_RM_USER, TEST_RM_PASSWORD" in out
    assert "wrong" not in out.replace("wrong-", "")
    monkeypatch.setenv("TEST_RM_PASSWORD", "demo-password")
    registry_file.write_text(registry_file.read_text().replace("America/New_York", "Asia/Tokyo"))
    assert main(["orgs", "test", "--org", "acme", "--file", str(registry_file), "--no-counts"]) == 0
    out = capsys.readouterr().out
    assert "[WARN] time zone" in out and "Asia/Tokyo" in out and "fix: check the location's `timezone:`" in out


@pytest.mark.parametrize("purge", [False, True])
def test_remove_keeps_the_data_unless_purged(registry_file, sqlite_url, sandbox, purge, capsys):
    engine = engine_for(sqlite_url)
    assert run_sync(registry_file, engine, "run-1", client_factory(Sleeps()), names=["units", "tenants"]).ok
    argv = ["orgs", "remove", "--org", "acme", "--file", str(registry_file), "--url", sqlite_url]
    assert main(argv + (["--purge", "--yes"] if purge else [])) == 0
    assert load_registry(registry_file).ids == []
    assert yaml.safe_load((registry_file.parent / "organizations.yaml.bak").read_text())["organizations"][0]["id"] == "acme"
    with engine.connect() as conn:
        units = conn.execute(text("SELECT count(*) FROM rm_raw.units WHERE org_id = 'acme'")).scalar_one()
        purges = conn.execute(text("SELECT table_name, changed FROM ops.audit_log WHERE action = 'purge'")).all()
    if purge:
        assert units == 0 and {t for t, _ in purges} >= {"units", "tenants", "sync_state", "sync_runs"}
        assert json.loads(dict(purges)["units"])["rows_removed"] == sandbox.store.count("Units")
    else:
        assert units == sandbox.store.count("Units") and purges == []
