"""A built report: what the page header says, where the figures came from, and the template's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .evidence import Evidence
from .sources import Evaluation


@dataclass(frozen=True)
class Header:
    """The running header of every page."""

    kind: str
    title: str
    form: str
    org_id: str
    org_name: str
    period: str
    period_label: str
    property_id: str | None = None
    property_code: str | None = None
    property_name: str | None = None
    bin: str | None = None
    household_id: str | None = None


@dataclass
class Report:
    """One document: header, provenance, evidence and the context its template prints."""

    header: Header
    evaluation: Evaluation
    template: str
    context: dict[str, Any]
    evidence: Evidence = field(default_factory=Evidence)
    single: str | None = None
    """Set when the document covers one record of a batch kind (one certification): part of its file name."""

    @property
    def kind(self) -> str:
        return self.header.kind

    @property
    def scope_key(self) -> str:
        """Distinguishes the documents of one kind and period (property, building, household)."""
        h = self.header
        parts = [p for p in (h.property_code or (h.property_id or ""), h.bin or "", self.single or "") if p]
        return "-".join(parts) or h.org_id

    @property
    def file_stem(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.scope_key)
        return f"{self.kind}-{safe}"

    def identity(self) -> dict[str, Any]:
        h, e = self.header, self.evaluation
        out = {"kind": h.kind, "title": h.title, "org_id": h.org_id, "property_id": h.property_id,
               "property_code": h.property_code, "bin": h.bin, "period": h.period,
               "evaluation_id": e.id, "run_id": e.run_id, "as_of": e.as_of, "evaluated_at": e.evaluated_at}
        if e.source != "compliance":  # a specialised product's evaluation (`specialties.runs`)
            out["evaluation_source"] = e.source
        return out

    def envelope(self) -> dict[str, Any]:
        return self.evidence.envelope(**self.identity())
