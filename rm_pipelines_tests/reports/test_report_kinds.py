"""The remaining report kinds against the stored rows they print: TIC, HUD-50059, 8609-A, 8703, HOME, RD 3560-8,
and the tenant data export (XML validated against its XSD, a broken record refused with its household and
field, the CSV with one line per member)."""

from __future__ import annotations

import csv
import io
import re

import pytest

from rm_pipelines.reports.fmt import dollars, fraction, integer, money, pct
from rm_pipelines.reports.verify import page_text, read_evidence
from rm_pipelines.warehouse import compliance_store as store

from .conftest import MONTH, ORG, SECOND


def _flat(path) -> str:
    return re.sub(r"\s+", "", "".join(page_text(path.read_bytes())))


def test_tic_batch_prints_every_certification_of_the_month(rendered, evaluated):
    certs = [c for c in store.read_snapshot(evaluated[0], "household_certifications", ORG, SECOND, decrypt=True)
             if c["effective_date"].strftime("%Y-%m") == MONTH]
    assert certs, "the fixture month has certifications"
    files = rendered["tic"].files
    printed = set()
    for f in files:
        ev = read_evidence(f.path.read_bytes())
        printed |= {r["key"]["certification_id"] for r in ev["rows"] if r["table"] == "compliance.household_certifications"}
    assert printed == {c["certification_id"] for c in certs}
    text = "".join(_flat(f.path) for f in files)
    for c in certs:
        assert money(c["annual_income"]) in text and dollars(c["income_limit"]) in text
    assert "xxx-xx-" in text  # SSNs as the last four only


def test_hud_50059_figures_are_the_stored_rent_calculation(rendered, evaluated):
    assisted = [a for a in store.read_snapshot(evaluated[0], "assisted_households", ORG, SECOND, decrypt=True)
                if a["program"] == "section8"]
    assert assisted
    text = "".join(_flat(f.path) for f in rendered["hud_50059"].files)
    for a in assisted:
        assert dollars(a["ttp"]) in text and money(a["hap"]) in text and money(a["tenant_rent"]) in text
    blanks = {b["label"] for f in rendered["hud_50059"].files for b in f.blanks}
    assert any("30 %" in b for b in blanks)  # the prongs are not stored: blanks, never recomputed


def test_8609a_and_8703_lines_are_the_stored_program_tests(rendered, evaluated):
    programs = store.read_snapshot(evaluated[0], "program_status", ORG, SECOND)
    buildings = {p["bin"]: p for p in programs if p["program"] == "lihtc" and p["building_id"]}
    files = rendered["form_8609a"].files
    assert {f.bin for f in files} == set(buildings)
    for f in files:
        ev = read_evidence(f.path.read_bytes())
        line2 = next(fig["text"] for fig in ev["figures"] if fig.get("line") == "2")
        assert line2 == fraction(buildings[f.bin]["applicable_fraction"]) and line2 in _flat(f.path)
        assert {"1", "3", "5", "6"} <= {b["line"] for b in ev["blanks"]}
    bond = [p for p in programs if p["program"] == "bond" and not p["building_id"]]
    assert len(rendered["form_8703"].files) == len(bond) >= 1
    for f, row in zip(rendered["form_8703"].files, bond):
        lines = {fig["line"]: fig["text"] for fig in read_evidence(f.path.read_bytes())["figures"] if fig.get("line")}
        assert lines["5"] == integer(row["residential_units"]) and lines["8"] == integer(row["form_8703_line8"])
        assert lines["9"] == pct(row["form_8703_line9_pct"])


def test_home_and_rd_reports_cover_their_programs(rendered, evaluated):
    units = store.read_snapshot(evaluated[0], "unit_status", ORG, SECOND)
    home_units = {u["unit_id"] for u in units if "home" in u["programs"].split("+")}
    printed = {r["key"]["unit_id"] for f in rendered["home"].files
               for r in read_evidence(f.path.read_bytes())["rows"] if r["table"] == "compliance.unit_status"}
    assert printed == home_units and home_units
    rd = [a for a in store.read_snapshot(evaluated[0], "assisted_households", ORG, SECOND) if a["program"] == "usda515"]
    assert rd and sum(1 for f in rendered["rd_3560_8"].files for r in read_evidence(f.path.read_bytes())["rows"]
                      if r["table"] == "compliance.assisted_households") == len(rd)
    assert any("Basic rent" in b["label"] for f in rendered["rd_3560_8"].files for b in f.blanks)


def test_tenant_data_xml_validates_and_matches_the_csv(rendered, evaluated):
    from lxml import etree

    from rm_pipelines.reports.tenant_data import schema_path

    files = {f.media_type: f for f in rendered["tenant_data"].files}
    xml = etree.parse(str(files["application/xml"].path))
    assert etree.XMLSchema(etree.parse(str(schema_path()))).validate(xml)
    ns = {"t": "urn:rm-pipelines:lihtc-tenant-data:1"}
    households = xml.findall("t:Household", ns)
    units = [u for u in store.read_snapshot(evaluated[0], "unit_status", ORG, SECOND, decrypt=True)
             if u["occupied"] and "lihtc" in u["programs"].split("+")]
    assert len(households) == len(units) > 0
    incomes = {u["household_id"]: u["annual_income"] for u in units}
    for h in households:
        assert h.findtext("t:AnnualIncome", namespaces=ns) == f"{incomes[h.get('id')]:.2f}"
        assert h.find("t:Member/t:Race", ns).get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    rows = list(csv.DictReader(io.StringIO(files["text/csv"].path.read_text())))
    assert len(rows) == len(xml.findall("t:Household/t:Member", ns))
    assert {r["household_id"] for r in rows} == {h.get("id") for h in households}


def test_a_broken_tenant_record_is_refused_with_its_household_and_field(evaluated, tmp_path):
    from rm_pipelines.flows.render import read_sources, resolve_evaluation, write_exports
    from rm_pipelines.reports import catalog, tenant_data
    from rm_pipelines.reports.period import Period

    period = Period.parse("2026")
    sources = read_sources(evaluated[0], ORG, "Acme", resolve_evaluation(evaluated[0], ORG, period))
    export = tenant_data.build(sources, period)[0]
    victim = export.households[3]
    victim["members"][0]["age"] = -4
    with pytest.raises(tenant_data.ExportError) as err:
        write_exports(catalog.get("tenant_data"), [export], tmp_path)
    message = str(err.value)
    assert victim["household_id"] in message and "field Age" in message and "member 1" in message
    assert not list(tmp_path.iterdir())  # nothing written


def test_one_tenant_income_certification(evaluated, tmp_path):
    from rm_pipelines.flows.render import RenderError, render

    certs = store.read_snapshot(evaluated[0], "household_certifications", ORG, SECOND)
    cert = next(c for c in certs if c["effective_date"].strftime("%Y-%m") == MONTH)
    result = render(evaluated[0], ORG, "Acme", "tic", MONTH, run_id="one", certification=cert["certification_id"],
                    out_dir=tmp_path)
    [f] = result.files
    ev = read_evidence(f.path.read_bytes())
    assert [r["key"]["certification_id"] for r in ev["rows"]
            if r["table"] == "compliance.household_certifications"] == [cert["certification_id"]]
    assert f.pages >= 1 and cert["certification_id"].replace(":", "_") in f.path.name
    with pytest.raises(RenderError, match="no stored certification"):
        render(evaluated[0], ORG, "Acme", "tic", MONTH, run_id="one", certification="nope", out_dir=tmp_path)
