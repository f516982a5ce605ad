"""Report → PDF bytes: Jinja2 templates (top-level `reports/templates/`) printed by WeasyPrint as PDF/A-3b,
with the report's evidence embedded as `evidence.json` (an associated file, relationship Source).

Deterministic: the document's dates are the evaluation's (`evaluated_at`), the PDF identifier is a hash of
the content, charts carry no dates, so the same stored rows give byte-identical files.

Templates are found in ``RM_PIPELINES_REPORT_TEMPLATES`` when set, else in ``rm_pipelines/reports/templates``,
a link to the repository's `reports/templates/` that the wheel ships as package data (pyproject).
"""

from __future__ import annotations

import io
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from . import fmt
from .document import Report
from .evidence import EVIDENCE_NAME, Blank, canonical

TEMPLATES_ENV = "RM_PIPELINES_REPORT_TEMPLATES"
FONT_FAMILY = "DejaVu Sans"
PRODUCER = "rm_pipelines reports"


def templates_dir() -> Path:
    configured = os.environ.get(TEMPLATES_ENV)
    path = Path(configured) if configured else Path(__file__).resolve().parent / "templates"
    if not (path / "base.html").is_file():
        raise FileNotFoundError(f"report templates not found in {path} (set {TEMPLATES_ENV} to the folder holding "
                                "base.html)")
    return path


def _css_string(value: Any) -> str:
    text = str(value or "").replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return Markup('"' + text.replace("<", "\\3C ").replace(">", "\\3E ") + '"')  # raw text inside <style>


@lru_cache(maxsize=4)
def _env(path: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(path), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = _css_string
    env.filters["date"] = lambda v: fmt.day(v) if v else ""
    env.tests["blank"] = lambda v: isinstance(v, Blank)
    return env


@lru_cache(maxsize=1)
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_html(report: Report) -> str:
    env = _env(str(templates_dir()))
    envelope = report.envelope()
    return env.get_template(report.template).render(
        r=report, h=report.header, ev=report.evaluation, c=report.context, blanks=report.evidence.blanks,
        sha256=envelope["rows_sha256"], font_family=FONT_FAMILY)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    evidence: dict[str, Any]


def render_pdf(report: Report) -> Rendered:
    """The report as PDF/A-3b bytes with its evidence attached."""
    from weasyprint import HTML, Attachment

    envelope = report.envelope()
    html = render_html(report)
    stamp = report.evaluation.evaluated_at
    attachment = Attachment(file_obj=io.BytesIO(canonical(envelope)), name=EVIDENCE_NAME,
                            description=f"Stored rows this report was rendered from (sha256 {envelope['rows_sha256']})",
                            created=stamp, modified=stamp, relationship="Source")
    with _pinned_clock(stamp):
        document = HTML(string=html, base_url=str(templates_dir())).render(font_config=_fonts())
        pdf = document.write_pdf(pdf_variant="pdf/a-3b", attachments=[attachment])
    return Rendered(pdf, len(document.pages), envelope)


_clock_lock = threading.Lock()


@contextmanager
def _pinned_clock(stamp: datetime):
    """Font subsetting (fontTools) stamps each embedded font with the current time unless SOURCE_DATE_EPOCH
    is set (reproducible-builds convention): pin it to the evaluation while rendering."""
    with _clock_lock:
        before = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(int(stamp.timestamp()))
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = before
