"""The registry's `webhooks:` and `writeback:` keys: validated at load with the org and key named, secrets never
echoed; the webhook event catalog names only entities the extraction knows."""

from __future__ import annotations

import textwrap

import pytest

from rm_pipelines.orgs import RegistryError, load_registry
from rm_pipelines.rentmanager.catalog import BY_NAME
from rm_pipelines.webhooks.events import FAMILIES

BASE = """
organizations:
  - id: acme
    name: Acme
    rentmanager: {company_code: acme, auth: {mode: partner, partner_token_env: ACME_PARTNER}}
    locations: [{id: 1}]
"""


def _load(tmp_path, extra: str):
    path = tmp_path / "organizations.yaml"
    path.write_text(textwrap.dedent(BASE) + textwrap.indent(textwrap.dedent(extra), "    "))
    return load_registry(path)


def test_webhooks_and_writeback_sections_load_with_their_defaults(tmp_path, monkeypatch):
    org = _load(tmp_path, """
        webhooks: {token_env: ACME_HOOK_TOKEN, public_url: "https://hooks.acme.example/"}
        writeback:
          fields: {"ServiceManagerIssues.StatusID": estatecore_wins, "Tenants.udf:Compliance Status": rm_wins,
                   "Violations.*": newest_wins}
    """).get("acme")
    assert org.webhooks.public_url == "https://hooks.acme.example" and org.corporate_id == "acme"
    assert "Tenant" in org.webhooks.event_types
    wb = org.writeback
    assert wb.policy("ServiceManagerIssues", "StatusID") == "estatecore_wins"
    assert wb.policy("Tenants", "udf:Compliance Status") == "rm_wins"
    assert wb.policy("Violations", "ResolveAction") == "newest_wins"
    assert wb.policy("Tenants", "Comment") == "manual"  # the default
    assert wb.compliance_udfs.next_recertification == "Next Recertification Due"
    monkeypatch.setenv("ACME_HOOK_TOKEN", "short")
    with pytest.raises(RegistryError, match="shorter than 24 characters") as short:
        org.webhooks.token()
    assert "short'" not in str(short.value)
    monkeypatch.setenv("ACME_HOOK_TOKEN", "t" * 32)
    assert org.webhooks.token() == "t" * 32


@pytest.mark.parametrize("extra, message", [
    ("webhooks: {token_env: 'hunter2-the-actual-token!'}", "webhooks.token_env"),
    ("webhooks: {token_env: X, public_url: 'http://hooks.example.com'}", "must be an https:// URL"),
    ("webhooks: {token_env: X, event_types: [Invoice]}", "unknown event types ['Invoice']"),
    ("writeback: {default: whoever_shouts}", "writeback.default"),
    ("writeback: {fields: {StatusID: rm_wins}}", "is not <Resource>.<Field>"),
    ("writeback: {fields: {Charges.Amount: rm_wins}}", "'Charges' is not a resource EstateCore writes"),
    ("writeback: {fields: {Tenants.Comment: sometimes}}", "writeback.fields.Tenants.Comment"),
])
def test_bad_webhooks_or_writeback_keys_fail_at_load_naming_the_key(tmp_path, extra, message):
    with pytest.raises(RegistryError) as err:
        _load(tmp_path, extra)
    assert message in str(err.value) and "org 'acme'" in str(err.value)
    assert "hunter2-the-actual-token!" not in str(err.value)  # a pasted secret is never echoed


def test_every_event_family_refreshes_catalog_entities():
    for family in FAMILIES.values():
        for name in filter(None, (family.entity, *family.children)):
            assert name in BY_NAME, (family.name, name)
        assert (family.entity is None) == (family.ignored is not None), family.name
