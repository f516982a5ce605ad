import textwrap

import pytest

from rm_pipelines.orgs import RegistryError, load_registry
from rm_pipelines.settings import BUNDLED_ORGS_FILE


def write(tmp_path, text):
    path = tmp_path / "organizations.yaml"
    path.write_text(textwrap.dedent(text))
    return path


GOOD = """
organizations:
  - id: acme
    name: Acme Residential
    rentmanager:
      company_code: acme
      auth: {mode: partner, partner_token_env: ACME_RM_PARTNER_TOKEN}
    locations: [{id: 1, timezone: America/Chicago}, {id: 3, timezone: America/Denver}]
    entities: [tenants, charges]
"""


def test_bundled_registry_is_valid():
    registry = load_registry(BUNDLED_ORGS_FILE)
    assert registry.ids == ["demo"]
    assert registry.get("demo").rentmanager.is_embedded_sandbox


def test_company_code_becomes_the_api_host(tmp_path):
    org = load_registry(write(tmp_path, GOOD)).get("acme")
    assert org.rentmanager.url == "https://acme.api.rentmanager.com"
    assert org.entity_names == ["tenants", "charges"]
    assert [loc.id for loc in org.locations] == [1, 3]


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (("partner_token_env: ACME_RM_PARTNER_TOKEN", "partner_token_env: s3cr3t-value!"), "org 'acme': rentmanager.auth.partner_token_env"),
        (("mode: partner, partner_token_env: ACME_RM_PARTNER_TOKEN", "mode: user"), "org 'acme': rentmanager.auth"),
        (("America/Chicago", "Mars/Olympus"), "org 'acme': locations.0.timezone"),
        (("[tenants, charges]", "[tenants, leeses]"), "org 'acme': entities"),
        (("company_code: acme", "company_code: acme\n      base_url: http://x"), "org 'acme': rentmanager"),
        (("id: acme", "id: Acme Corp"), "org 'Acme Corp': id"),
        (("name: Acme Residential", "name: Acme Residential\n    colour: red"), "org 'acme': colour"),
        (("name: Acme Residential", "name: Acme Residential\n    compliance: {recert_buckets: [30, 90]}"),
         "org 'acme': compliance.recert_buckets"),
        (("name: Acme Residential", "name: Acme Residential\n    compliance: {agencies: {MassHousing: "
                                    "{hotma_adoption_date: someday}}}"),
         "org 'acme': compliance.agencies.MassHousing.hotma_adoption_date"),
        (("name: Acme Residential", "name: Acme Residential\n    compliance: {correction_days: 0}"),
         "org 'acme': compliance.correction_days"),
    ],
)
def test_bad_registry_fails_naming_org_and_key(tmp_path, replace, expected):
    path = write(tmp_path, GOOD.replace(*replace))
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert expected in str(info.value)


def test_missing_secret_variable_is_named_not_leaked(tmp_path, monkeypatch):
    monkeypatch.delenv("ACME_RM_PARTNER_TOKEN", raising=False)
    org = load_registry(write(tmp_path, GOOD)).get("acme")
    with pytest.raises(RegistryError, match="ACME_RM_PARTNER_TOKEN"):
        org.credentials()
    monkeypatch.setenv("ACME_RM_PARTNER_TOKEN", "tok-123")
    assert org.credentials() == {"partner_token": "tok-123"}


def test_duplicate_org_ids_rejected(tmp_path):
    doubled = GOOD + GOOD.split("organizations:")[1]
    with pytest.raises(RegistryError, match="appears twice"):
        load_registry(write(tmp_path, doubled))


def test_bad_mapping_fails_at_registry_load_naming_org_entity_and_key(tmp_path):
    bad = GOOD + "    mappings:\n      units:\n        fields:\n          bedrooms: {transform: no_such_transform}\n"
    with pytest.raises(RegistryError) as info:
        load_registry(write(tmp_path, bad))
    text = str(info.value)
    assert "org 'acme'" in text and "units" in text and "no_such_transform" in text


def test_mapping_file_is_resolved_beside_the_registry(tmp_path):
    (tmp_path / "acme-mappings.yaml").write_text("units:\n  fields:\n    name: {transform: upper}\n")
    org = load_registry(write(tmp_path, GOOD + "    mappings: acme-mappings.yaml\n")).get("acme")
    assert org.mappings == str(tmp_path / "acme-mappings.yaml")


def test_compliance_settings_come_from_the_registry(tmp_path):
    text = GOOD.replace("name: Acme Residential", """name: Acme Residential
    compliance:
      agencies: {MassHousing: {hotma_adoption_date: 2026-01-01, waive_recert_for_100pct: true}}
      correction_days: 60""")
    settings = load_registry(write(tmp_path, text)).get("acme").compliance.settings()
    agency = settings.agencies["MassHousing"]
    assert str(agency.hotma_adoption_date) == "2026-01-01" and agency.waive_recert_for_100pct
    assert settings.correction_days == 60 and settings.recert_buckets == (120, 90, 60, 30)


TWO_ORGS = GOOD + """
  - id: beta
    name: Beta Homes
    rentmanager:
      company_code: beta
      auth: {mode: user, username_env: BETA_RM_USER, password_env: BETA_RM_PASSWORD}
    locations: [{id: 1}]
"""


def test_validate_reports_unset_credential_variables(tmp_path, monkeypatch, capsys):
    from rm_pipelines.cli import main

    path = write(tmp_path, TWO_ORGS)
    for name in ("ACME_RM_PARTNER_TOKEN", "BETA_RM_USER", "BETA_RM_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BETA_RM_USER", "someone")
    # no org named: every unset variable is a warning, the registry itself is valid
    assert main(["orgs", "validate", "--file", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning: org 'acme'" in err and "ACME_RM_PARTNER_TOKEN" in err
    assert "warning: org 'beta'" in err and "BETA_RM_PASSWORD" in err and "BETA_RM_USER" not in err
    # the org about to be synced: its unset variables are errors; the other org's stay warnings
    assert main(["orgs", "validate", "--file", str(path), "--org", "beta"]) == 1
    err = capsys.readouterr().err
    assert "error: org 'beta'" in err and "BETA_RM_PASSWORD" in err and "warning: org 'acme'" in err
    monkeypatch.setenv("BETA_RM_PASSWORD", "secret-value")
    assert main(["orgs", "validate", "--file", str(path), "--org", "beta"]) == 0
    captured = capsys.readouterr()
    assert "secret-value" not in captured.out + captured.err


def test_a_secret_pasted_as_a_variable_name_is_never_echoed(tmp_path):
    pasted = "Zq9-secret!Value"
    path = write(tmp_path, GOOD.replace("partner_token_env: ACME_RM_PARTNER_TOKEN", f"partner_token_env: '{pasted}'"))
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert "rentmanager.auth.partner_token_env" in str(info.value) and "org 'acme'" in str(info.value)
    assert pasted not in str(info.value) and "Zq9" not in str(info.value)


@pytest.mark.parametrize("url, ok", [
    ("http://acme.api.rentmanager.com", False),
    ("http://10.0.0.5:8765", False),
    ("https://acme.api.rentmanager.com", True),
    ("http://127.0.0.1:8765", True),
    ("http://localhost:8765", True),
])
def test_plain_http_is_refused_outside_this_machine(tmp_path, url, ok):
    text = GOOD.replace("company_code: acme", f"base_url: '{url}'")
    if ok:
        assert load_registry(write(tmp_path, text)).get("acme").rentmanager.url == url
        return
    with pytest.raises(RegistryError, match="credentials would travel in clear"):
        load_registry(write(tmp_path, text))
    allowed = text.replace(f"base_url: '{url}'", f"base_url: '{url}'\n      allow_insecure: true")
    assert load_registry(write(tmp_path, allowed)).get("acme").rentmanager.allow_insecure
