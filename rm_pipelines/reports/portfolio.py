"""Portfolio compliance summary per org: the answer to "are we in compliance?" per program, open findings by
Form 8823 line and their age, and the trend of open findings across the stored evaluations (a chart)."""

from __future__ import annotations

from collections import defaultdict

from . import charts
from .common import finding_as_of, new_report, record_finding
from .document import Report
from .evidence import shown
from .period import Period
from .sources import Sources, program_status_text

KIND = "portfolio"
TITLE = "Portfolio Compliance Summary"
PROGRAMS = {"all": "All programs", "lihtc": "LIHTC", "bond": "Tax-exempt bond", "home": "HOME",
            "section8": "Section 8", "usda515": "USDA RD 515", "state": "State"}
AGES = ((30, "0-30 days"), (90, "31-90 days"), (None, "over 90 days"))


def build(sources: Sources, period: Period) -> Report:
    rep = new_report(sources, kind=KIND, title=TITLE, form="Compliance summary", template="portfolio.html",
                     period=period)
    ev = rep.evidence
    as_of = sources.evaluation.as_of
    c = rep.context
    programs = []
    overall = sorted(sources.snapshot("overall_status"), key=lambda o: (o["program"] != "all", o["program"]))
    for o in overall:
        ref = ev.row("compliance.overall_status", {"org_id": sources.org_id, "as_of": as_of, "program": o["program"]},
                     {k: v for k, v in o.items() if k not in ("org_id", "as_of", "run_id")})
        label = PROGRAMS.get(o["program"], o["program"])
        programs.append({
            "program": label, "status": program_status_text(o),
            "properties": ev.fig(ref, "properties", "int", f"{label} properties"),
            "units": ev.fig(ref, "units", "int", f"{label} units"),
            "low_income": ev.fig(ref, "low_income_units", "int", f"{label} low-income units"),
            "households": ev.fig(ref, "households", "int", f"{label} households"),
            "open": ev.fig(ref, "open_findings", "int", f"{label} open findings"),
            "past_due": ev.fig(ref, "past_due_findings", "int", f"{label} past-due findings"),
            "corrected": ev.fig(ref, "corrected_findings", "int", f"{label} corrected findings"),
        })
    c["programs"] = programs
    top = next((o for o in overall if o["program"] == "all"), None)
    c["status"] = program_status_text(top) if top else "undetermined"
    c["answer"] = ({"compliant": "In compliance: no open findings",
                    "not compliant": "NOT in compliance",
                    }.get(c["status"], "Undetermined: data missing for part of the portfolio"))
    open_findings = [finding_as_of(f, as_of) for f in sources.findings if f.get("detected_on") and f["detected_on"] <= as_of]
    open_findings = [f for f in open_findings if f["corrected_on"] is None]
    open_findings.sort(key=lambda f: (f["form_8823_line"] or "~", f["detected_on"], f["finding_id"]))
    by_line: dict[str, list] = defaultdict(list)
    for f in open_findings:
        by_line[f["form_8823_line"] or "—"].append(f)
    lines = []
    for line, fs in sorted(by_line.items()):
        refs = [record_finding(ev, sources, f) for f in fs]
        ages = []
        for i, (limit, label) in enumerate(AGES):
            low = AGES[i - 1][0] if i else -1
            picked = [r for r, f in zip(refs, fs) if (as_of - f["detected_on"]).days > low
                      and (limit is None or (as_of - f["detected_on"]).days <= limit)]
            ages.append(ev.count(picked, f"{line} open {label}"))
        oldest = min(zip(fs, refs), key=lambda x: (x[0]["detected_on"], x[0]["finding_id"]))
        lines.append({"line": line, "category": fs[0].get("form_8823_category") or fs[0].get("description") or "",
                      "count": ev.count(refs, f"{line} open findings"), "ages": ages,
                      "oldest": ev.fig(oldest[1], "detected_on", "date", f"{line} oldest detection")})
    c["lines"] = lines
    c["age_labels"] = [label for _, label in AGES]
    c["findings"] = []
    for f in open_findings:
        ref = record_finding(ev, sources, f)
        c["findings"].append({
            "line": f["form_8823_line"] or "—", "code": f["code"], "program": f["program"],
            "property": ev.fig(ref, "property_code", "text", "property") if f.get("property_code") else f["property_id"],
            "unit": ev.fig(ref, "unit_name", "text", "unit") if f.get("unit_name") else "project",
            "detected": ev.fig(ref, "detected_on", "date", "detected"),
            "deadline": shown(ev, ref, "correction_deadline", "date", "correction deadline", needed=False),
            "status": f["status"], "age": (as_of - f["detected_on"]).days})
    trend = []
    for e in sources.evaluations:
        ref = ev.row("compliance.evaluations", {"org_id": sources.org_id, "id": e["id"]},
                     {k: e.get(k) for k in ("as_of", "run_id", "units", "households", "open_findings", "new_findings",
                                            "corrected_findings", "data_issues", "compliant")})
        trend.append({"as_of": ev.fig(ref, "as_of", "date", "evaluation date"),
                      "open": ev.fig(ref, "open_findings", "int", "open findings"),
                      "new": ev.fig(ref, "new_findings", "int", "new findings"),
                      "corrected": ev.fig(ref, "corrected_findings", "int", "corrected findings"),
                      "units": ev.fig(ref, "units", "int", "units evaluated")})
    c["trend"] = trend
    c["trend_chart"] = charts.data_uri(charts.line(
        "Open findings by evaluation", [e["as_of"].strftime("%m/%d/%y") for e in sources.evaluations],
        [int(e["open_findings"]) for e in sources.evaluations], ylabel="open findings")) if sources.evaluations else None
    c["data_issues"] = len(sources.snapshot("data_issues"))
    return rep


def build_all(sources: Sources, period: Period, property_id: str | None = None) -> list[Report]:
    return [build(sources, period)]
