"""The reports of the evaluated sandbox org, opened and read as a person would (pypdf text, pypdfium2 pixels):
figures equal the stored rows, the planted findings appear on the Form 8823 reports and in the AOC exceptions
and nothing else does, no full SSN or birth date is printed, the evidence round-trips and `verify` catches
tampering, and a re-render is byte-identical. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from collections import Counter
from decimal import Decimal

import orjson
from pypdf import PdfReader, PdfWriter

from rm_pipelines.compliance.violations import FINDING_TYPES
from rm_pipelines.reports.evidence import EVIDENCE_NAME
from rm_pipelines.reports.fmt import day, dollars, money
from rm_pipelines.reports.verify import page_text, read_evidence, verify
from rm_pipelines.sandbox.portfolio import PLANTED_FINDINGS
from rm_pipelines.warehouse import compliance_store as store

from .conftest import MONTH, ORG, ORG_NAME, SECOND, pdf_files

PLANTED = Counter((f["code"], f["property"], f["unit"]) for f in PLANTED_FINDINGS)
CODES = re.compile(r"\b(" + "|".join(sorted(FINDING_TYPES, key=len, reverse=True)) + r")\b")


def _text(path) -> str:
    return "\n".join(page_text(path.read_bytes()))


def _codes_in(path) -> Counter:
    return Counter(CODES.findall(_text(path)))


def test_every_pdf_verifies_and_every_page_has_ink(rendered):
    import pypdfium2 as pdfium

    paths = pdf_files(rendered)
    assert {p.parent.name for p in paths} >= {"rent_roll", "form_8823", "portfolio", "aoc"}
    for path in paths:
        result = verify(path.read_bytes())
        assert result.ok, result.summary()
        assert result.figures_checked > 0
        doc = pdfium.PdfDocument(path.read_bytes())
        assert len(doc) == result.pages == len(PdfReader(path).pages)
        for i in range(len(doc)):
            image = doc[i].render(scale=0.5).to_pil().convert("L")
            dark = sum(image.histogram()[:128])
            assert dark > 200, f"{path.name} page {i + 1} is blank"
        assert PdfReader(path).pages[0].mediabox.width in (612, 792)  # US Letter, portrait or landscape


def test_form_8823_reports_show_exactly_the_planted_findings(rendered, evaluated):
    files = rendered["form_8823"].files
    assert sorted(f.scope.split("-")[0] for f in files) == ["ELMCOURT", "HARBOR", "MAPLE"]
    seen = Counter()
    for f in files:
        evidence = read_evidence(f.path.read_bytes())
        findings = [r["values"] for r in evidence["rows"] if r["table"] == "compliance.violations"]
        for v in findings:
            seen[(v["code"], v["property_code"], v["unit_name"])] += 1
        text = _text(f.path)
        assert set(_codes_in(f.path)) == {v["code"] for v in findings}
        # the line-11 grid marks exactly the lines of the building's findings
        assert f"BIN {f.bin}" in text or f.bin in text
    assert seen == PLANTED
    harbor = next(f for f in files if f.scope.startswith("HARBOR"))
    ev = read_evidence(harbor.path.read_bytes())
    lines = {fig["line"]: fig["text"] for fig in ev["figures"] if fig.get("line")}
    unit_rows = [u for u in store.read_snapshot(evaluated[0], "unit_status", ORG, SECOND) if u["bin"] == harbor.bin]
    assert lines["7a"] == str(len(unit_rows))  # every unit of the building is residential
    assert lines["7c"] == "4"  # 101, 103, 104, 201 (one finding each)
    assert lines["8"] == day(min(f["occurred_on"] or f["detected_on"] for f in store.read_findings(evaluated[0], ORG)
                                 if f["bin"] == harbor.bin))
    blanks = {b["line"] for b in ev["blanks"]}
    assert {"4", "5", "7d"} <= blanks  # owner TIN, credit allocated, agency review: not in Rent Manager


def test_aoc_exceptions_are_exactly_the_planted_findings(rendered):
    by_property = {f.scope: f for f in rendered["aoc"].files}
    expected = Counter()
    for code, prop, _unit in PLANTED:
        expected[(prop, code)] += 1
    seen = Counter()
    for scope, f in by_property.items():
        for code, n in _codes_in(f.path).items():
            seen[(scope, code)] += n
    # each exception is printed twice: under its item and in Attachment E
    assert Counter({k: v // 2 for k, v in seen.items()}) == expected
    assert all(v % 2 == 0 for v in seen.values())
    assert "HARBOR" in by_property and "Owner attestation" in _text(by_property["HARBOR"].path)


def test_rent_roll_figures_equal_the_stored_rows(rendered, evaluated):
    engine = evaluated[0]
    units = store.read_snapshot(engine, "unit_status", ORG, SECOND, decrypt=True)
    harbor = next(f for f in rendered["rent_roll"].files if f.scope == "HARBOR")
    text = re.sub(r"\s+", "", _text(harbor.path))
    ev = read_evidence(harbor.path.read_bytes())
    harbor_units = {r["values"]["unit_id"] for r in ev["rows"] if r["table"] == "compliance.unit_status"}
    checked = 0
    for u in units:
        if u["unit_id"] not in harbor_units or not u["occupied"] or not u["programs"]:
            continue
        for value, fmt in ((u["gross_rent"], money), (u["max_gross_rent"], dollars), (u["annual_income"], money),
                           (u["income_limit"], dollars), (u["tenant_rent"], money)):
            assert fmt(value) in text, (u["unit_number"], fmt(value))
            checked += 1
    assert checked >= 25
    assert "$1,930.00" in text and "$1,929" in text  # the planted gross rent one dollar over


def test_portfolio_summary_answers_and_trends(rendered, evaluated):
    f = rendered["portfolio"].files[0]
    text = _text(f.path)
    assert "NOT in compliance" in text
    ev = read_evidence(f.path.read_bytes())
    evaluations = [r for r in ev["rows"] if r["table"] == "compliance.evaluations"]
    assert [r["values"]["as_of"] for r in evaluations] == ["2026-11-20", "2026-11-27"]
    overall = next(r["values"] for r in ev["rows"] if r["table"] == "compliance.overall_status"
                   and r["values"]["program"] == "all")
    assert overall["open_findings"] == len(PLANTED_FINDINGS)
    assert sum(int(fig["text"]) for fig in ev["figures"] if fig["label"].endswith(" open findings")
               and fig.get("format") == "count") == len(PLANTED_FINDINGS)


def test_no_full_ssn_or_birth_date_in_any_text(rendered, planted_portfolio):
    texts = "\n".join(_text(p) for p in pdf_files(rendered))
    values = "\n".join(str(v) for p in pdf_files(rendered) for r in read_evidence(p.read_bytes())["rows"]
                       for v in r["values"].values())
    for blob in (texts, values):
        blob = re.sub(r"[0-9a-f]{16,}", "", blob)  # sha256 digests and finding ids are hex, not tax ids
        assert not re.search(r"(?<![\d-])\d{3}-?\d{2}-?\d{4}(?![\d-])", blob), "a full SSN is printed"
    births = {c["DateOfBirth"][:10] for c in planted_portfolio["Contacts"] if c.get("DateOfBirth")}
    assert len(births) > 50
    # a birth date that is also the date of a stored event (a move-in, a certification) is not evidence of a leak
    events = {v[:10] for p in pdf_files(rendered) for r in read_evidence(p.read_bytes())["rows"]
              for v in r["values"].values() if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v[:10])}
    births -= events
    assert len(births) > 50
    for born in births:
        y, m, d = born.split("-")
        for form in (born, f"{m}/{d}/{y}"):
            assert form not in texts and form not in values, form


def test_rerender_is_byte_identical(rendered, evaluated, tmp_path):
    from rm_pipelines.flows.render import render

    for kind in ("form_8823", "rent_roll", "portfolio"):
        again = render(evaluated[0], ORG, ORG_NAME, kind, MONTH, run_id="again", out_dir=tmp_path / kind)
        first = {f.path.name: f.path.read_bytes() for f in rendered[kind].files}
        assert {f.path.name: f.path.read_bytes() for f in again.files} == first


def _with_evidence(pdf: bytes, evidence: dict) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer._root_object.get("/Names", {}).pop("/EmbeddedFiles", None)  # drop the original attachment
    writer.add_attachment(EVIDENCE_NAME, orjson.dumps(evidence, option=orjson.OPT_SORT_KEYS))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_evidence_round_trips_and_verify_catches_tampering(rendered, tmp_path):
    from rm_pipelines.cli import main
    from rm_pipelines.reports.evidence import rows_sha256

    harbor = next(f for f in rendered["rent_roll"].files if f.scope == "HARBOR")
    pdf = harbor.path.read_bytes()
    evidence = read_evidence(pdf)
    assert evidence["org_id"] == ORG and evidence["period"] == MONTH and evidence["run_id"] == "run-second"
    assert rows_sha256(evidence["rows"]) == evidence["rows_sha256"] == harbor.evidence_sha256
    assert verify(_with_evidence(pdf, evidence)).ok  # re-embedding the same evidence still verifies

    # 1. a stored value edited in the evidence: the sha256 no longer matches
    edited = orjson.loads(orjson.dumps(evidence))
    unit = next(r for r in edited["rows"] if r["table"] == "compliance.unit_status" and r["values"]["gross_rent"])
    unit["values"]["gross_rent"] = str(Decimal(unit["values"]["gross_rent"]) - 100)
    result = verify(_with_evidence(pdf, edited))
    assert not result.ok and any("embedded rows were changed" in p for p in result.problems)

    # 2. the same edit with the sha256 recomputed: the document metadata and the pages disagree
    edited["rows_sha256"] = rows_sha256(edited["rows"])
    result = verify(_with_evidence(pdf, edited))
    assert not result.ok
    assert any("metadata" in p for p in result.problems) and any("row says" in p for p in result.problems)

    # 3. a printed figure claimed to be something the pages do not show
    claimed = orjson.loads(orjson.dumps(evidence))
    claimed["figures"][0]["text"] = "$9,999,999.99"
    result = verify(_with_evidence(pdf, claimed))
    assert not result.ok and any("not on the pages" in p for p in result.problems)

    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(_with_evidence(pdf, claimed))
    assert main(["reports", "verify", str(good)]) == 0
    assert main(["reports", "verify", str(good), str(bad)]) == 1
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer._root_object.get("/Names", {}).pop("/EmbeddedFiles", None)
    writer.write(tmp_path / "plain.pdf")
    assert not verify((tmp_path / "plain.pdf").read_bytes()).ok
    assert main(["reports", "verify", str(tmp_path / "plain.pdf")]) == 1


def test_reports_are_indexed_per_period(rendered, evaluated):
    from rm_pipelines.warehouse.report_index import list_reports

    rows = list_reports(evaluated[0], ORG)
    indexed = {(r["kind"], r["period"], r["scope"]) for r in rows}
    for kind, result in rendered.items():
        for f in result.files:
            assert (kind, result.period, f.scope) in indexed
            row = next(r for r in rows if (r["kind"], r["scope"], r["media_type"]) == (kind, f.scope, f.media_type))
            assert row["sha256"] == f.sha256 and row["evaluation_as_of"] == SECOND and f.path.exists()
            assert f"/{result.period}/{kind}/" in str(f.path)
