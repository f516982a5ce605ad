"""Plain-text summaries for the terminal: tables, and an org's compliance status with its findings."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy import Engine

FREE_TEXT_HEADERS = ("checks", "8823 lines")


def print_table(out: TextIO, title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    """A fixed-width table; a last column named in FREE_TEXT_HEADERS is left-aligned free text."""
    print(f"\n{title}", file=out)
    free = header[-1] in FREE_TEXT_HEADERS
    print(f"{header[0]:<34}" + "".join(f"{h:>12}" for h in header[1:len(header) - free])
          + (f"  {header[-1]}" if free else ""), file=out)
    for row in rows:
        cells = [f"{str(v):>12}" for v in row[1:]]
        if free:
            cells[-1] = f"  {row[-1]}"
        print(f"{str(row[0]):<34}" + "".join(cells), file=out)


def print_compliance(out: TextIO, engine: Engine, org_id: str, *, checks: dict[str, list[str]] | None = None,
                     include_corrected: bool = True, data_issue_lines: int = 8) -> bool:
    """The org's latest stored compliance evaluation: the answer (compliant, NOT compliant or UNDETERMINED),
    the status per program with its counts, the findings with their Form 8823 categories (open and past-due
    first), and the data issues that keep programs undetermined, grouped by property. Returns False when
    nothing has been evaluated."""
    from .compliance.answer import (
        STATUS_LABELS,
        answer_of,
        compliance_answer,
        data_issue_groups,
        status_of,
    )
    from .warehouse import compliance_store as store

    as_of = store.latest_as_of(engine, org_id)
    if as_of is None:
        print(f"\nOrg {org_id!r} has no compliance evaluation yet (run the sync job or `rm-pipelines demo`).", file=out)
        return False
    overall = store.read_snapshot(engine, "overall_status", org_id, as_of)
    findings = store.read_findings(engine, org_id)
    open_f = [f for f in findings if f["status"] != "corrected"]
    everything = next((o for o in overall if o["program"] == "all"), None)
    answer = answer_of(everything) if everything else compliance_answer(len(open_f))
    print(f"\nCompliance of org {org_id!r} on {as_of}: {answer}", file=out)
    print_table(out, "Compliance by program", ("program", "compliant", "properties", "units", "households",
                                                "low-income", "undet.prop", "undet.units", "open", "past due",
                                                "8823 lines"),
                [(o["program"], STATUS_LABELS[status_of(o)], o["properties"], o["units"], o["households"],
                  o["low_income_units"], o["undetermined_properties"] or 0, o["undetermined_units"] or 0,
                  o["open_findings"], o["past_due_findings"], o["open_by_8823_line"] or "-") for o in overall])
    shown = findings if include_corrected else open_f
    shown.sort(key=lambda f: (f["status"] == "corrected", f["severity"], f["code"]))
    print(f"\nFindings ({len(open_f)} open or past due, {len(findings) - len(open_f)} corrected):", file=out)
    for f in shown:
        where = f["property_code"] or f["property_id"]
        if f["unit_name"]:
            where += f" unit {f['unit_name']}"
        line = f"8823 line {f['form_8823_line']} ({f['form_8823_category']})" if f["form_8823_line"] else \
            f"{f['program']} (no 8823 line)"
        dates = f"detected {f['detected_on']}, correct by {f['correction_deadline']}"
        if f["corrected_on"]:
            dates += f", corrected {f['corrected_on']}"
        print(f"  [{f['status']}] {f['code']} — {where}\n      {line}\n      {f['detail']}; {dates}", file=out)
    issues = store.read_snapshot(engine, "data_issues", org_id, as_of)
    if issues:
        undetermined = [o["program"] for o in overall if o["program"] != "all" and status_of(o) == "undetermined"]
        keeps = f"; undetermined: {', '.join(undetermined)}" if undetermined else ""
        print(f"\nData issues: {len(issues)} (missing reference data or inputs, never findings{keeps}):", file=out)
        groups = data_issue_groups(issues)
        for where, what, n in groups[:data_issue_lines]:
            print(f"  {where}: {what}" + (f" ({n}×)" if n > 1 else ""), file=out)
        if len(groups) > data_issue_lines:
            print(f"  … {len(groups) - data_issue_lines} more kinds: see compliance.data_issues", file=out)
    if checks:
        print("Checks: " + "; ".join(f"{asset}: {', '.join(c)}" for asset, c in checks.items()), file=out)
    return True
