"""Environment-driven settings, in one place.

| variable                   | meaning                                             | default                          |
|----------------------------|-----------------------------------------------------|----------------------------------|
| RM_PIPELINES_DATA_DIR      | where local state lives (warehouse, sandbox, PDFs)  | ./.data                          |
| ESTATECORE_DATABASE_URL    | EstateCore warehouse (SQLAlchemy URL)               | sqlite:///<data dir>/estatecore.sqlite |
| RM_PIPELINES_ORGS          | organisation registry (organizations.yaml)          | the bundled demo registry        |
| RM_SANDBOX_UNITS           | size of the embedded sandbox portfolio              | 500                              |
| RM_SANDBOX_SEED            | seed of the embedded sandbox portfolio              | 7                                |
| RM_SANDBOX_AS_OF           | day the embedded sandbox's history runs up to       | the day it is first generated    |
| RM_PIPELINES_CLOCK_OFFSET_DAYS | shifts the product's clock (see clock.py)       | 0                                |
| RM_PIPELINES_REPORTS_DIR   | where rendered reports are written (per deployment) | <data dir>/reports               |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_ORGS_FILE = PACKAGE_DIR / "organizations.yaml"


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _date_env(name: str) -> date | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a date (YYYY-MM-DD), got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    orgs_file: Path
    sandbox_units: int
    sandbox_seed: int
    sandbox_as_of: date | None = None
    reports_dir: Path | None = None

    @property
    def report_dir(self) -> Path:
        """Where rendered reports go: RM_PIPELINES_REPORTS_DIR, else `reports/` in the data dir."""
        return self.reports_dir or self.data_dir / "reports"

    @property
    def sandbox_state_file(self) -> Path:
        return self.data_dir / "sandbox" / f"portfolio-u{self.sandbox_units}-s{self.sandbox_seed}.sqlite"


def get_settings() -> Settings:
    """Read settings from the environment (cheap; call where needed rather than caching at import)."""
    data_dir = Path(os.environ.get("RM_PIPELINES_DATA_DIR") or Path.cwd() / ".data").resolve()
    database_url = os.environ.get("ESTATECORE_DATABASE_URL") or f"sqlite:///{data_dir / 'estatecore.sqlite'}"
    orgs_file = Path(os.environ.get("RM_PIPELINES_ORGS") or BUNDLED_ORGS_FILE)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        orgs_file=orgs_file,
        sandbox_units=_int_env("RM_SANDBOX_UNITS", 500),
        sandbox_seed=_int_env("RM_SANDBOX_SEED", 7),
        sandbox_as_of=_date_env("RM_SANDBOX_AS_OF"),
        reports_dir=Path(os.environ["RM_PIPELINES_REPORTS_DIR"]).resolve() if os.environ.get("RM_PIPELINES_REPORTS_DIR") else None,
    )
