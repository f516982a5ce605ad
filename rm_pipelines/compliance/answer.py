"""The answer to "are we in compliance?" in words, shared by the `compliance/status` asset and the terminal
summary: the answer line, a program's status label, and the data issues that keep programs undetermined,
grouped so a compliance officer sees what to load rather than one line per unit.

Rows are :class:`~rm_pipelines.compliance.portfolio.OverallStatus` / ``DataIssue`` rows as dicts (``as_row()``)
or as stored in the `compliance` schema; rows stored before the tri-state status existed carry only the
``compliant`` boolean and read as "compliant" / "not compliant" from it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

STATUSES = ("compliant", "not compliant", "undetermined")
"""A program's status: ``not compliant`` on an open finding, ``undetermined`` when missing data left part of
it undecided, ``compliant`` only when everything was determined and nothing is open."""

STATUS_LABELS = {"compliant": "yes", "not compliant": "NO", "undetermined": "undetermined"}
"""How a status answers the column "compliant?"."""

_ON_DATE = re.compile(r"\bon \d{4}-\d{2}-\d{2}\b")


def count_noun(n: int, noun: str) -> str:
    """"1 unit", "24 units", "1 property", "2 properties"."""
    plural = "properties" if noun == "property" else f"{noun}s"
    return f"{n} {noun if n == 1 else plural}"


def compliance_answer(open_findings: int, open_by_8823_line: str = "", *, undetermined_properties: int = 0,
                      undetermined_units: int = 0) -> str:
    """The one-line answer: NOT in compliance on an open finding (and what missing data leaves undetermined
    besides); UNDETERMINED without an open finding when missing data left properties or units undecided; in
    compliance only when everything was determined and nothing is open."""
    undetermined = ""
    if undetermined_properties or undetermined_units:
        undetermined = (f"missing data leaves {count_noun(undetermined_properties or 0, 'property')} and "
                        f"{count_noun(undetermined_units or 0, 'unit')} undetermined")
    if open_findings:
        return (f"NOT in compliance: {open_findings} open finding(s)"
                + (f" — {open_by_8823_line}" if open_by_8823_line else "") + (f"; {undetermined}" if undetermined else ""))
    if undetermined:
        return f"UNDETERMINED: no open findings, but {undetermined} (see the data issues)"
    return "in compliance (no open findings)"


def status_of(row: Mapping[str, Any]) -> str:
    """The status of an overall-status row (for rows stored before the status existed: from ``compliant``)."""
    return row.get("status") or ("compliant" if row.get("compliant") else "not compliant")


def answer_of(row: Mapping[str, Any]) -> str:
    """:func:`compliance_answer` of an overall-status row."""
    return compliance_answer(row.get("open_findings") or 0, row.get("open_by_8823_line") or "",
                             undetermined_properties=row.get("undetermined_properties") or 0,
                             undetermined_units=row.get("undetermined_units") or 0)


def data_issue_groups(issues: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, int]]:
    """Data issues grouped by property and kind, most frequent first: ``(property name, what, count)``.
    The date of "… on <date>" messages is collapsed (one line for "no MTSP limits … on <date>" over many
    certification dates); issues without a property (input problems) are grouped under "inputs"."""
    counts: Counter[tuple[str, str]] = Counter()
    for issue in issues:
        where = issue.get("property_name") or issue.get("property_id") or "inputs"
        counts[(where, _ON_DATE.sub("on <date>", issue.get("message") or ""))] += 1
    return [(where, what, n) for (where, what), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
