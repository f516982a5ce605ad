"""The specialised products' reports from the planted sandbox cases (docs/specialties-planted.md, as of
2026-11-16): each PDF opened with pypdf shows the documented figures — the CAM true-ups, the percentage rent,
the HOA delinquency and the violation notices at their step, the student pre-lease and guarantor exceptions, the
asset-management month with its charts — and passes `verify` (every figure equals its stored row). An org or a
period without the product's evaluation gets no document. The reports name no tenant or owner except on the
letters addressed to them. SQLite and PostgreSQL; the Dagster report asset hangs off the product's asset."""

from __future__ import annotations

import re

import dagster as dg
import orjson
import pytest

from rm_pipelines.reports.verify import page_text, read_evidence, verify
from rm_pipelines_tests.reports.conftest import ORG_NAME, write_registry
from rm_pipelines_tests.specialties.test_planted_e2e import NOW, ORG, TEST_KEY, _load

MONTH, CAM_YEAR, PCT_YEAR = "2026-11", "2025", "2026"
SPECIALTY_KINDS = {"cam_statement": CAM_YEAR, "percentage_rent": PCT_YEAR, "hoa_delinquency": MONTH,
                   "hoa_violation_notice": MONTH, "student_prelease": MONTH, "performance": MONTH}


@pytest.fixture(scope="module")
def module_pg_url():
    from rm_pipelines_tests.conftest import fresh_pg_database

    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def planted(request, tmp_path_factory):
    """(engine, tmp, {kind: RenderResult}): the planted org evaluated on 2026-11-16 and every specialised report
    rendered once."""
    from rm_pipelines.flows.render import render

    with pytest.MonkeyPatch.context() as mp:
        tmp = tmp_path_factory.mktemp(f"specialty-reports-{request.param}")
        mp.setenv("ESTATECORE_ENCRYPTION_KEYS", TEST_KEY)
        mp.setenv("RM_PIPELINES_DATA_DIR", str(tmp / "data"))
        url = f"sqlite:///{tmp / 'estatecore.sqlite'}" if request.param == "sqlite" else \
            request.getfixturevalue("module_pg_url")
        engine, _views = _load(url, tmp, NOW, 11)
        try:
            results = {kind: render(engine, ORG, ORG_NAME, kind, period, run_id="test-render",
                                    reports_dir=tmp / "reports") for kind, period in SPECIALTY_KINDS.items()}
            yield engine, tmp, results
        finally:
            engine.dispose()


def _text(path) -> str:
    return re.sub(r"\s+", " ", " ".join(page_text(path.read_bytes())))


def _docs(results, kind, scope: str = "") -> dict[str, str]:
    """{file name: page text} of one kind's documents (whose scope contains `scope`)."""
    return {f.path.name: _text(f.path) for f in results[kind].files if scope in f.scope}


def _one(results, kind, contains: str) -> str:
    hits = [t for t in _docs(results, kind).values() if contains in t]
    assert len(hits) == 1, f"{kind}: {len(hits)} documents mention {contains!r}"
    return hits[0]


def test_every_specialty_pdf_verifies(planted):
    _engine, _tmp, results = planted
    files = [f for r in results.values() for f in r.files]
    assert {f.kind for f in files} == set(SPECIALTY_KINDS)
    for f in files:
        result = verify(f.path.read_bytes())
        assert result.ok, result.summary()
        assert result.figures_checked > 0


def test_cam_statements_show_the_planted_true_ups(planted):
    _engine, _tmp, results = planted
    cedar = _docs(results, "cam_statement", "CEDARPT")
    assert len(cedar) == 3
    books = _one(results, "cam_statement", "Dear Blue Heron Books")
    for figure in ("$237,500.00", "75.2055 %", "$140,000.00", "$92,610.00", "$97,500.00", "$13,161.00",
                   "$203,271.00", "20.0000 %", "$40,654.20", "$23,400.00", "$17,254.20 is due"):
        assert figure in books, figure
    assert re.search(r"Balance due from you \(line 12 − line 13\) \$17,254\.20", books)
    for year, cap in (("2022", "$80,000.00"), ("2023", "$84,000.00"), ("2024", "$88,200.00"), ("2025", "$92,610.00")):
        assert re.search(rf"{year} \$[\d,.]+ {re.escape(cap)}", books), (year, cap)
    gym = _one(results, "cam_statement", "Dear Harbor Fitness")
    for figure in ("26.5321 %", "$17,900.00", "$255,400.00", "$110,000.00", "$38,577.65", "$29,250.00",
                   "$9,327.65 is due"):
        assert figure in gym, figure
    grill = _one(results, "cam_statement", "Dear Lakeside Grill")
    for figure in ("95 %", "$284,613.84", "$22,611.38", "$307,225.23", "$295,440.00", "30.0000 %", "$3,535.57",
                   "$35,100.00", "a credit of $31,564.43", "-$31,564.43"):
        assert figure in grill, figure
    assert "Credit to you" in grill and "Balance due from you" not in grill
    assert "Blue Heron" not in grill and "Harbor Fitness" not in books  # each letter names its own tenant only


def test_percentage_rent_statement(planted):
    _engine, _tmp, results = planted
    grill = _one(results, "percentage_rent", "Dear Lakeside Grill")
    for figure in ("11/01/2025 – 10/31/2026", "$1,580,000.00", "$36,000.00", "$1,544,000.00", "$1,200,000.00",
                   "$344,000.00", "6 %", "$20,640.00", "$19,020.00", "$1,620.00 is due", "natural breakpoint"):
        assert figure in grill, figure
    sales = grill.split("monthly sales reported for the lease year")[1]
    assert "November 2025 $140,000.00 $3,000.00" in sales and "October 2026 $130,000.00 $3,000.00" in sales
    assert "Lease year $1,580,000.00 $36,000.00" in sales


def test_hoa_delinquency_report(planted):
    _engine, _tmp, results = planted
    docs = _docs(results, "hoa_delinquency", "SANDPIPER")
    assert len(docs) == 1
    text = next(iter(docs.values()))
    lot2 = re.search(r"Lot 2 (.*?) Lot \d", text).group(1)
    assert lot2.split()[:6] == ["$1,800.00", "—", "$675.00", "$375.00", "$375.00", "$375.00"]
    for figure in ("107", "$180.00", "$17.13", "board lien vote", "yes"):
        assert figure in lot2, figure
    lot4 = re.search(r"Lot 4 (.*?)(Highlighted|$)", text).group(1)
    assert "$840.00 $718.87 $121.13" in lot4
    assert "Lot 1 " not in text and "Lot 5 " not in text  # current accounts owe nothing: not listed
    (pdf,) = [f.path for f in results["hoa_delinquency"].files if "SANDPIPER" in f.scope]
    evidence = orjson.dumps(read_evidence(pdf.read_bytes())).decode()
    for owner in ("Alvarez", "Brooks", "Chen", "Dawson", "Everett"):
        assert owner not in text and owner not in evidence  # accounts by lot, never by owner, nor attached


def test_hoa_violation_notices_one_per_open_violation_at_its_step(planted):
    _engine, _tmp, results = planted
    docs = _docs(results, "hoa_violation_notice", "SANDPIPER")
    assert len(docs) == 3  # Lot 3's PAINT violation was cured before its hearing: no notice
    lawn = _one(results, "hoa_violation_notice", "rule LAWN")
    assert "Notice of Violation" in lawn and "Cure by 11/25/2026" in lawn and "12/08/2026" in lawn
    assert "Dear Simon Everett" in lawn and "Everett, Simon" in lawn
    trash = _one(results, "hoa_violation_notice", "rule TRASH")
    assert "Notice of Hearing" in trash and "board meeting of 12/08/2026" in trash
    assert "11/10/2026" in trash and "11/28/2026" in trash and "$50.00" in trash and "Dawson, Paula" in trash
    assert "hearing time and place" in trash  # not in Rent Manager data: a visible blank to fill
    park = _one(results, "hoa_violation_notice", "rule PARK")
    assert "Notice of Decision and Fine" in park and "a fine of $50.00" in park and "Brooks, Nathan" in park
    for name, text in (("Everett", trash), ("Dawson", lawn), ("Brooks", lawn)):
        assert name not in text  # a notice names its own owner only


def test_student_prelease_and_guarantor_report(planted):
    engine, _tmp, results = planted
    from rm_pipelines.warehouse import specialties_store as store

    docs = _docs(results, "student_prelease")
    assert len(docs) == 1
    text = next(iter(docs.values()))
    pace = store.read_rows(engine, "student_prelease", ORG)[0]
    assert f"{pace['leased']} of {pace['beds']} beds pre-leased" in text
    exceptions = text.split("Guarantors missing or insufficient")[1]
    assert "901 D $650.00 $1,950.00 1 insufficient" in exceptions
    assert "covered prepaid insufficient missing undetermined" in text
    (pdf,) = [f.path for f in results["student_prelease"].files]
    evidence = orjson.dumps(read_evidence(pdf.read_bytes())).decode()
    for name in ("Banks", "Lindqvist", "Quint", "Moreau"):
        assert name not in text and name not in evidence  # residents by Rent Manager id, never by name


def test_performance_report_has_the_month_and_its_charts(planted):
    engine, _tmp, results = planted
    from pypdf import PdfReader

    from rm_pipelines.flows.render import read_specialty_sources, resolve_specialty_evaluation
    from rm_pipelines.reports import catalog
    from rm_pipelines.reports.fmt import fraction_pct
    from rm_pipelines.reports.period import Period
    from rm_pipelines.warehouse import specialties_store as store

    (f,) = results["performance"].files
    text = _text(f.path)
    rows = store.read_rows(engine, "am_monthly", ORG)
    portfolio = next(r for r in rows if r["group"] == "portfolio" and str(r["month"]) == "2026-11-01")
    assert f"{fraction_pct(portfolio['physical_occupancy'])} physical occupancy" in text
    assert "NOI where operating expenses are recorded — December 2025" in text
    assert re.search(r"Cedar Point Plaza \$[\d,.]+ \$19,791\.67", text)  # 2025's expenses 237,500 / 12
    assert "Lease expirations, next 12 months" in text
    assert len(PdfReader(str(f.path)).pages) == f.pages >= 2
    spec = catalog.get("performance")
    period = Period.parse(MONTH)
    sources = read_specialty_sources(engine, ORG, ORG_NAME, spec, resolve_specialty_evaluation(engine, ORG, spec,
                                                                                                period))
    (report,) = spec.build(sources, period, None)
    charts = report.context["charts"]  # occupancy, collections, aging, NOI, expirations: vector SVG
    assert len(charts) == 5 and all(c.startswith("data:image/svg+xml;base64,") for c in charts)
    for owner in {r["label"] for r in rows if r["group"].startswith("owner:")}:
        assert owner not in text


def test_rerender_is_byte_identical(planted, tmp_path):
    engine, _tmp, results = planted
    from rm_pipelines.flows.render import render

    again = render(engine, ORG, ORG_NAME, "cam_statement", CAM_YEAR, run_id="again", out_dir=tmp_path / "again")
    assert sorted(f.sha256 for f in again.files) == sorted(f.sha256 for f in results["cam_statement"].files)


def test_no_evaluation_no_document(planted):
    engine, tmp, _results = planted
    from rm_pipelines.flows.render import render
    from rm_pipelines.warehouse.report_index import list_reports

    for kind, period in (("cam_statement", "2024"), ("performance", "2026-10"), ("hoa_delinquency", "2026-11")):
        org = "other" if kind == "hoa_delinquency" else ORG
        result = render(engine, org, "Other", kind, period, run_id="none", reports_dir=tmp / "none")
        assert result.evaluation is None and result.files == []
    assert not list_reports(engine, "other")
    indexed = {r["kind"] for r in list_reports(engine, ORG)}
    assert set(SPECIALTY_KINDS) <= indexed


@pytest.fixture
def registry(tmp_path, monkeypatch):
    return write_registry(tmp_path, monkeypatch, "America/Chicago")


def test_cli_renders_a_statement_and_says_when_there_is_nothing(planted, registry, tmp_path, capsys):
    from rm_pipelines.cli import main

    engine, _tmp, _results = planted
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "out"
    assert main(["reports", "render", "--org", ORG, "--kind", "cam_statement", "--period", CAM_YEAR,
                 "--property", "CEDARPT", "--out", str(out), "--url", url]) == 0
    printed = capsys.readouterr().out
    assert "cam_statement 2025: 3 file(s)" in printed and "commercial evaluation #" in printed
    assert len(list((out / "cam_statement").glob("cam_statement-CEDARPT-T*.pdf"))) == 3
    assert main(["reports", "render", "--org", ORG, "--kind", "cam_statement", "--period", "2024", "--url", url]) == 0
    assert "no documents — no stored commercial evaluation" in capsys.readouterr().out


def test_report_asset_depends_on_the_product_and_renders_nothing_without_it(planted, registry, tmp_path,
                                                                           monkeypatch):
    from rm_pipelines.defs.reports import report_assets
    from rm_pipelines.defs.resources import RentManagerResource, WarehouseResource

    engine, _tmp, _results = planted
    path = registry
    monkeypatch.setenv("RM_PIPELINES_REPORTS_DIR", str(tmp_path / "reports"))
    by_key = {a.key.path[-1]: a for a in report_assets}
    cam = by_key["cam_statement"]
    assert set(cam.asset_deps[cam.key]) == {dg.AssetKey(["commercial", "cam_reconciliation"])}
    assert set(by_key["performance"].asset_deps[by_key["performance"].key]) == {
        dg.AssetKey(["asset_management", "monthly_performance"]),
        dg.AssetKey(["asset_management", "lease_expirations"])}
    resources = {"rentmanager": RentManagerResource(orgs_file=str(path)),
                 "warehouse": WarehouseResource(database_url=engine.url.render_as_string(hide_password=False))}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("org", [ORG])
        done = dg.materialize([cam], instance=instance, resources=resources,
                              partition_key=dg.MultiPartitionKey({"org": ORG, "year": CAM_YEAR}))
        md = done.asset_materializations_for_node("reports__cam_statement")[0].metadata
        assert md["documents"].value >= 3 and md["evaluation"].value.startswith("commercial #")
        assert "data:image/png;base64," in md["preview"].value
        empty = dg.materialize([cam], instance=instance, resources=resources,
                               partition_key=dg.MultiPartitionKey({"org": ORG, "year": "2024"}))
        assert empty.success  # no CAM year 2024 stored: no document, not a failure
        md = empty.asset_materializations_for_node("reports__cam_statement")[0].metadata
        assert md["documents"].value == 0 and md["evaluation"].value.startswith("none")
