"""The evidence a report carries: exactly the stored rows it was rendered from, the figures it printed (each
tied to the row and column it came from, or to the rows it counts) and the blanks it left to fill.

The evidence is embedded in the PDF as `evidence.json` (PDF/A-3 associated file) with the evaluation id, the
run id and the sha256 of the rows; `rm-pipelines reports verify` re-checks all of it against the pages.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from markupsafe import Markup

from .fmt import format_value

EVIDENCE_FORMAT = "rm_pipelines.report-evidence/1"
EVIDENCE_NAME = "evidence.json"
BLANK_TEXT = "not in Rent Manager data: attach"


def plain(value: Any) -> Any:
    """A stored value as JSON text: Decimal and dates as strings, NaN/NaT as null."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "isoformat"):  # pandas Timestamp
        try:
            return None if value != value else value.isoformat()  # NaT != NaT
        except (TypeError, ValueError):
            return None
    return str(value)


def canonical(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def rows_sha256(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(canonical(rows)).hexdigest()


@dataclass(frozen=True)
class Blank:
    """A figure the form needs that no stored row holds: printed as a visible blank and listed."""

    label: str
    line: str | None = None
    note: str = BLANK_TEXT

    def __html__(self) -> str:  # Jinja prints the visible blank wherever the figure would go
        return Markup('<span class="blank" title="{}">{}</span>').format(self.label, self.note)

    def __str__(self) -> str:
        return self.note


@dataclass
class Evidence:
    """Collects rows, figures and blanks while a report is built."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    blanks: list[Blank] = field(default_factory=list)
    _index: dict[tuple, int] = field(default_factory=dict)

    def row(self, table: str, key: dict[str, Any], values: dict[str, Any]) -> int:
        """Record a stored row (once) and return its reference."""
        plain_key = {str(n): plain(v) for n, v in key.items()}  # str(): SQLAlchemy names are str subclasses
        k = (table, canonical(plain_key))
        ref = self._index.get(k)
        if ref is None:
            ref = self._index[k] = len(self.rows)
            self.rows.append({"table": table, "key": plain_key, "values": {str(n): plain(v) for n, v in values.items()}})
        return ref

    def value(self, ref: int, column: str) -> Any:
        return self.rows[ref]["values"].get(column)

    def fig(self, ref: int | None, column: str, fmt: str, label: str, line: str | None = None) -> str | Blank:
        """The printed text of one stored value (recorded as a figure), or a blank when it is missing."""
        raw = None if ref is None else self.rows[ref]["values"].get(column)
        if raw is None:
            return self.blank(label, line)
        text = format_value(fmt, raw)
        self.figures.append({"label": label, "line": line, "row": ref, "column": column, "format": fmt, "text": text})
        return text

    def count(self, refs: list[int], label: str, line: str | None = None) -> str:
        """A count of stored rows (units with findings, households …), printed as a figure."""
        unique = sorted(set(refs))
        text = f"{len(unique):,}"
        self.figures.append({"label": label, "line": line, "rows": unique, "format": "count", "text": text})
        return text

    def blank(self, label: str, line: str | None = None) -> Blank:
        b = Blank(label, line)
        if b not in self.blanks:
            self.blanks.append(b)
        return b

    def envelope(self, **identity: Any) -> dict[str, Any]:
        return {"format": EVIDENCE_FORMAT, **{k: plain(v) for k, v in identity.items()},
                "rows_sha256": rows_sha256(self.rows), "rows": self.rows, "figures": self.figures,
                "blanks": [{"label": b.label, "line": b.line, "note": b.note} for b in self.blanks]}



def shown(ev: Evidence, ref: int | None, column: str, fmt: str, label: str, *, needed: bool, line: str | None = None
          ) -> str | Blank:
    """A figure where the form needs it (blank when missing), else the value or a dash."""
    if ref is not None and ev.value(ref, column) is not None:
        return ev.fig(ref, column, fmt, label, line)
    return ev.blank(label, line) if needed else "—"
