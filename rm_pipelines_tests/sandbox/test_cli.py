"""`sandbox serve|churn|faults` commands, including a real `serve` process stopped with Ctrl-C."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rm_pipelines.sandbox import SandboxStore
from rm_pipelines.cli.sandbox import default_state_file, main, register

from .conftest import PARTNER, SEED, UNITS


def test_register_adds_the_sandbox_group():
    parser = argparse.ArgumentParser(prog="rm-pipelines")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox", "serve", "--units", "60", "--rate-limit", "0", "--port", "0"])
    assert args.units == 60 and args.rate_limit == 0 and args.func.__name__ == "cmd_serve"
    args = parser.parse_args(["sandbox", "faults", "--url", "http://x", "--429-storm", "5", "--malformed", "Charges:2"])
    assert args.storm == 5 and args.malformed == "Charges:2"


def test_help_texts(capsys):
    for argv in (["sandbox", "--help"], ["sandbox", "serve", "--help"], ["sandbox", "churn", "--help"],
                 ["sandbox", "faults", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--rate-limit" in out and "--webhook-url" in out and "--expire-tokens" in out and "--deletes" in out


def test_default_state_file_follows_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path))
    assert default_state_file(60, 11) == tmp_path / "sandbox" / "portfolio-u60-s11.sqlite"


def test_churn_a_state_file(sb_state, tmp_path, capsys):
    path = tmp_path / "state.sqlite"
    shutil.copy(sb_state, path)
    assert main(["sandbox", "churn", "--state", str(path), "--changes", "12", "--deletes", "3", "--seed", "1",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sum(out["changed"].values()) == 12
    store = SandboxStore.open(path, UNITS, SEED)
    for coll, ids in out["deleted_ids"].items():
        assert all(store.get(coll, i) is None for i in ids)
    store.close()


def test_churn_and_faults_against_a_running_server(rw_server, capsys):
    assert main(["sandbox", "churn", "--url", rw_server.url, "--admin-token", rw_server.config.admin_token, "--changes", "5", "--deletes", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert sum(out["changed"].values()) == 5
    assert main(["sandbox", "faults", "--url", rw_server.url, "--admin-token", rw_server.config.admin_token, "--429-storm", "2", "--latency", "0.01",
                 "--malformed", "Charges:4", "--5xx-rate", "0.25", "--drop-next", "1", "--duplicate-row", "Units:2"]) == 0
    f = rw_server.faults
    assert (f.status_429_next, f.latency_seconds, f.malformed_page, f.error_5xx_rate, f.drop_next, f.duplicate_row) == \
        (2, 0.01, ("Charges", 4), 0.25, 1, ("Units", 2))
    assert main(["sandbox", "faults", "--url", rw_server.url, "--admin-token", rw_server.config.admin_token, "--reset", "--expire-tokens"]) == 0
    assert rw_server.faults.status_429_next == 0 and rw_server.faults.token_generation == 1


@pytest.mark.slow
def test_serve_runs_until_ctrl_c(sb_state, tmp_path):
    path = tmp_path / "state.sqlite"
    shutil.copy(sb_state, path)
    cmd = [sys.executable, "-m", "rm_pipelines.cli.sandbox", "sandbox", "serve", "--units", str(UNITS), "--seed",
           str(SEED), "--state", str(path), "--port", "0", "--rate-limit", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url, lines = None, []
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
            m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            url = m.group(1) if m else None
        assert url, "".join(lines)
        assert any("demo-password" in x for x in lines + [proc.stdout.readline()])  # type: ignore[union-attr]
        for _ in range(100):
            try:
                resp = httpx.get(url + "/Locations", headers={"X-RM12API-PartnerToken": PARTNER})
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert resp.status_code == 200 and resp.json()[0]["LocationID"] == 1
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_churn_prints_a_readable_summary_by_default(rw_server, capsys):
    assert main(["sandbox", "churn", "--url", rw_server.url, "--admin-token", rw_server.config.admin_token, "--changes", "7", "--deletes", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert f"Churned the sandbox at {rw_server.url}:" in out
    edited = next(line for line in out.splitlines() if line.strip().startswith("edited"))
    assert " 7 record(s): " in edited and "{" not in out
    deleted = next(line for line in out.splitlines() if line.strip().startswith("deleted"))
    assert int(deleted.split()[1]) >= 2  # cascades (a deleted contact's UDF values) count too
