"""Helpers shared by the benchmark scripts: the sandbox in a process of its own, and the bench org's registry."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SEED = 7
STARTUP_TIMEOUT_S = 1200  # generating a large portfolio the first time takes minutes
ADMIN_TOKEN = secrets.token_hex(16)  # the benchmark sandboxes' /_sandbox/ admin token
ADMIN_HEADERS = {"X-Sandbox-Admin-Token": ADMIN_TOKEN}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox(units: int, state_dir: Path, *, rate_limit: int = 0,
                  as_of: date | None = None) -> tuple[subprocess.Popen, str, float]:
    """`rm-pipelines sandbox serve` for an N-unit portfolio (kept in `state_dir` between runs); returns the process,
    its base URL and the seconds it took to answer. `rate_limit` is requests/minute, 0 for none; `as_of` is the
    day the portfolio's history ends (default: the moment it is generated)."""
    port = free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rm_pipelines.cli", "sandbox", "serve", "--units", str(units), "--seed", str(SEED),
         "--port", str(port), "--rate-limit", str(rate_limit), "--state", str(state_dir / f"bench-u{units}.sqlite"),
         "--admin-token", ADMIN_TOKEN, *(["--as-of", as_of.isoformat()] if as_of else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sandbox exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/_sandbox/stats", timeout=1, headers=ADMIN_HEADERS).status_code == 200:
                return proc, url, time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"sandbox did not start in {STARTUP_TIMEOUT_S // 60} minutes")


def stop_sandbox(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def bench_registry(work: Path, url: str, requests_per_minute: int | None = None) -> Path:
    """An organizations.yaml with the one bench org on the sandbox at `url` (its credentials in the environment)."""
    os.environ["BENCH_RM_USER"], os.environ["BENCH_RM_PASSWORD"] = "demo", "demo-password"
    registry = work / "orgs.yaml"
    registry.write_text(textwrap.dedent(f"""
        organizations:
          - id: bench
            name: Bench
            rentmanager:
              base_url: {url}
              auth: {{mode: user, username_env: BENCH_RM_USER, password_env: BENCH_RM_PASSWORD}}
              requests_per_minute: {requests_per_minute if requests_per_minute else 'null'}
            locations: [{{id: 1, timezone: America/New_York}}]
    """))
    return registry
