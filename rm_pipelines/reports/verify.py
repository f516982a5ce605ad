"""`rm-pipelines reports verify FILE`: a report still says what its stored rows say.

Checks that the PDF declares PDF/A-3b, carries its `evidence.json`, that the sha256 of the embedded rows
matches both the evidence and the document metadata (so the rows were not edited), that every figure equals
its row's value formatted again, and that every figure is printed on the pages (so the pages were not
edited)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from .evidence import EVIDENCE_FORMAT, EVIDENCE_NAME, rows_sha256
from .fmt import format_value

_SPACE = re.compile(r"\s+")


@dataclass
class Verification:
    ok: bool
    problems: list[str] = field(default_factory=list)
    evidence: dict[str, Any] | None = None
    pages: int = 0
    figures_checked: int = 0

    def summary(self) -> str:
        e = self.evidence or {}
        what = f"{e.get('kind')} {e.get('org_id')} {e.get('period')} {e.get('property_code') or ''}".strip()
        if self.ok:
            return (f"OK: {what}: {self.pages} page(s), {len(e.get('rows', []))} stored rows (sha256 "
                    f"{e.get('rows_sha256')}), {self.figures_checked} figures match their rows and the pages; "
                    f"evaluation #{e.get('evaluation_id')} of {e.get('as_of')}, run {e.get('run_id')}")
        return f"FAILED: {what or 'report'}: " + "; ".join(self.problems[:20]) + (
            f" (+{len(self.problems) - 20} more)" if len(self.problems) > 20 else "")


class EvidenceMissing(ValueError):
    """The file is not a report rendered by rm_pipelines (no readable evidence)."""


def read_evidence(pdf: bytes) -> dict[str, Any]:
    """The embedded evidence of a report PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        attachments = reader.attachments
    except (PdfReadError, ValueError, KeyError) as exc:
        raise EvidenceMissing(f"not a readable PDF: {exc}") from None
    if EVIDENCE_NAME not in attachments:
        raise EvidenceMissing(f"no {EVIDENCE_NAME} attached (attachments: {sorted(attachments) or 'none'})")
    try:
        return orjson.loads(attachments[EVIDENCE_NAME][0])
    except orjson.JSONDecodeError as exc:
        raise EvidenceMissing(f"{EVIDENCE_NAME} is not JSON: {exc}") from None


def page_text(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def verify(pdf: bytes) -> Verification:
    from pypdf import PdfReader

    result = Verification(ok=False)
    try:
        evidence = read_evidence(pdf)
    except EvidenceMissing as exc:
        result.problems.append(str(exc))
        return result
    result.evidence = evidence
    problems = result.problems
    if evidence.get("format") != EVIDENCE_FORMAT:
        problems.append(f"evidence format {evidence.get('format')!r} is not {EVIDENCE_FORMAT}")
    rows = evidence.get("rows") or []
    actual = rows_sha256(rows)
    if actual != evidence.get("rows_sha256"):
        problems.append(f"embedded rows were changed: sha256 {actual} ≠ recorded {evidence.get('rows_sha256')}")
    reader = PdfReader(io.BytesIO(pdf))
    info = reader.metadata or {}
    declared = str(info.get("/Subject") or "")
    if f"evidence-sha256:{evidence.get('rows_sha256')}" not in declared:
        problems.append("document metadata does not carry the evidence sha256 (evidence replaced or metadata edited)")
    xmp = reader.trailer["/Root"].get("/Metadata")
    xmp_text = xmp.get_object().get_data().decode("utf-8", "replace") if xmp is not None else ""
    if 'pdfaid:part="3"' not in xmp_text and "<pdfaid:part>3<" not in xmp_text:
        problems.append("the document does not declare PDF/A-3")
    pages = page_text(pdf)
    result.pages = len(pages)
    text = _SPACE.sub("", "".join(pages))
    for fig in evidence.get("figures") or []:
        result.figures_checked += 1
        shown = fig.get("text", "")
        try:
            if fig.get("format") == "count":
                expected = f"{len(fig.get('rows') or []):,}"
            else:
                expected = format_value(fig["format"], rows[fig["row"]]["values"][fig["column"]])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            problems.append(f"figure {fig.get('label')!r}: its row or value is missing ({exc})")
            continue
        if expected != shown:
            problems.append(f"figure {fig.get('label')!r}: printed {shown!r} but its row says {expected!r}")
        if _SPACE.sub("", shown) not in text:
            problems.append(f"figure {fig.get('label')!r} ({shown!r}) is not on the pages")
    if evidence.get("blanks") and "notinRentManagerdata" not in text:
        problems.append("the blanks to fill are not printed")
    result.ok = not problems
    return result
