"""`pytest --clock-offset-days N`: run the product and the sandbox N days ahead of the wall clock.

A plugin (loaded by `addopts = -p rm_pipelines_tests.clock_option`) rather than conftest code, so the option is
known whichever test paths are given on the command line.
"""

from __future__ import annotations

import os

import pytest

from rm_pipelines import clock


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--clock-offset-days", type=int, default=None, metavar="N",
                     help=f"run the product and the sandbox N days ahead of the wall clock (sets {clock.OFFSET_ENV})")


def pytest_configure(config: pytest.Config) -> None:
    days = config.getoption("--clock-offset-days")
    if days is not None:
        os.environ[clock.OFFSET_ENV] = str(days)


def pytest_report_header(config: pytest.Config) -> str:
    return f"clock: {clock.utcnow():%Y-%m-%d %H:%M} UTC ({clock.offset().days} days ahead of the wall clock)"
