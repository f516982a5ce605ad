"""Write-back fixtures: the sandbox, a registry whose org writes back (partner token: every request is a write or
a read, no login), its records synced into a warehouse on SQLite and on PostgreSQL."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import pytest

from rm_pipelines_tests.webhooks.conftest import engine, warehouse_url  # noqa: F401 — the same two databases

SYNCED = ["service_manager_issues", "service_manager_statuses", "violations", "tenants", "tenant_udfs", "units",
          "unit_udfs", "user_defined_fields"]


@dataclass
class Setup:
    sandbox: Any
    engine: Any
    registry: Any
    resource: Any

    def org(self, **writeback: Any):
        """The org with a `writeback:` section (defaults: manual, batches of 10)."""
        from rm_pipelines.orgs import WritebackConfig

        org = self.registry.get("acme")
        return org.model_copy(update={"writeback": WritebackConfig(**{"batch_size": 10, **writeback})})

    def sync(self, org, entities=SYNCED):
        from rm_pipelines.flows.extract import OrgSync

        report = OrgSync(org, self.engine, self.resource.open_client, run_id="sync").run(entities, mode="full")
        assert report.ok, report.errors
        return report

    def post(self, org, run_id="wb-1", load=False):
        from rm_pipelines.flows.writeback import post_pending

        return post_pending(self.engine, org, self.resource.open_client, run_id=run_id, load=load)


@pytest.fixture
def wb(sandbox, engine, tmp_path, monkeypatch):  # noqa: F811
    from rm_pipelines.defs.resources import RentManagerResource
    from rm_pipelines.orgs import load_registry

    monkeypatch.setenv("TEST_RM_PARTNER", "sandbox-partner-token")
    monkeypatch.setenv("RM_PIPELINES_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "organizations.yaml"
    path.write_text(textwrap.dedent(f"""
        organizations:
          - id: acme
            name: Acme Residential
            rentmanager:
              base_url: {sandbox.url}
              auth: {{mode: partner, partner_token_env: TEST_RM_PARTNER}}
              requests_per_minute: null
              max_attempts: 2
            locations: [{{id: 1, timezone: America/New_York}}]
            writeback: {{default: manual}}
    """))
    setup = Setup(sandbox, engine, load_registry(path), RentManagerResource(orgs_file=str(path)))
    setup.sync(setup.org())
    return setup
