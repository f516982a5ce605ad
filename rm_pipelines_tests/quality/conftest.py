"""Quality tests share the warehouse fixtures (test key, orgs, portfolio, SQLite/PostgreSQL engines)."""

from rm_pipelines_tests.warehouse.conftest import (  # noqa: F401
    _keys_and_data_dir,
    _portfolio_master,
    engine,
    org,
    portfolio,
)
