"""HOA reports from the stored HOA evaluation (`specialties` schema):

- the delinquency report per association: every account with a balance, by aging bucket (current, 1-30, 31-60,
  61-90, 91-120, over 120 days past due), the late charges billed against the rule pack's limit (California
  §5650: the greater of 10 % or $10 per delinquent assessment), the interest allowed (12 %/year from day 30)
  and the collection step each account has reached. Accounts are listed by lot, never by owner name;
- violation notices: one per open violation, the notice its current step calls for (notice of violation with
  the cure date; notice of hearing at least 10 days before the board meeting; notice of decision and fine),
  addressed to the lot's owner.

Builders print stored figures only: the rules decided them when the HOA evaluation ran."""

from __future__ import annotations

from . import charts, fmt
from .common import address, new_report
from .document import Report
from .period import Period
from .specialty_common import loads, long_date, record, record_nested, rm_id
from .specialty_sources import SpecialtySources

DELINQUENCY, STEPS = "hoa_delinquency", "hoa_violation_steps"
BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "over 120")
MEETING_UDF = "Board Meeting Schedule"
UDFS = (MEETING_UDF,)


def build_delinquency_one(sources: SpecialtySources, period: Period, pid: str, rows: list[dict]) -> Report:
    rep = new_report(sources, kind="hoa_delinquency", title="HOA Delinquency Report", form="Assessment collections",
                     template="hoa_delinquency.html", period=period, property_id=pid)
    ev, c = rep.evidence, rep.context
    c["association"] = sources.property_name(pid)
    c["address"] = address(sources.property(pid))
    c["as_of"] = fmt.day(sources.evaluation.as_of)
    accounts, totals = [], {b: 0 for b in BUCKETS}
    owing = [r for r in rows if int(r["balance_cents"]) > 0 or (r.get("late_charge_excess_cents") or 0) > 0]
    owing.sort(key=lambda r: (-int(r["oldest_days_past_due"] or 0), r["lot"]))
    for r in owing:
        ref = record(ev, sources, DELINQUENCY, r, "account_id")
        buckets = loads(r.get("buckets"), {})
        bref = record_nested(ev, sources, DELINQUENCY, "buckets", {"account_id": r["account_id"]}, buckets)
        for b in BUCKETS:
            totals[b] += int(buckets.get(b) or 0)
        opt = lambda col, label: (ev.fig(ref, col, "cents", label) if r.get(col) is not None  # noqa: E731
                                  else "undetermined")
        accounts.append({
            "lot": ev.fig(ref, "lot", "text", "lot"),
            "balance": ev.fig(ref, "balance_cents", "cents", f"{r['lot']} balance"),
            "buckets": [ev.fig(bref, b, "cents", f"{r['lot']} {b}") if buckets.get(b) else "—" for b in BUCKETS],
            "days": ev.fig(ref, "oldest_days_past_due", "int", f"{r['lot']} days past due"),
            "delinquent": ev.fig(ref, "delinquent_assessments_cents", "cents", f"{r['lot']} delinquent assessments"),
            "late_billed": ev.fig(ref, "late_charges_billed_cents", "cents", f"{r['lot']} late charges billed"),
            "late_allowed": opt("late_charges_allowed_cents", f"{r['lot']} late charges allowed"),
            "excess": (ev.fig(ref, "late_charge_excess_cents", "cents", f"{r['lot']} late charges over the limit")
                       if (r.get("late_charge_excess_cents") or 0) > 0 else "—"),
            "over_limit": (r.get("late_charge_excess_cents") or 0) > 0,
            "interest": opt("interest_allowed_cents", f"{r['lot']} interest allowed"),
            "stage": r.get("stage") or "undetermined (no rule pack)",
            "foreclosure": {True: "yes", False: "no"}.get(r.get("foreclosure_eligible"), "undetermined"),
        })
    c["accounts"] = accounts
    c["accounts_total"] = len(rows)
    c["totals"] = [fmt.cents(totals[b]) for b in BUCKETS]
    c["total"] = fmt.cents(sum(totals.values()))
    c["buckets"] = BUCKETS
    c["over_limit"] = sum(1 for a in accounts if a["over_limit"])
    c["chart"] = charts.data_uri(charts.bars("Balances by days past due", list(BUCKETS),
                                             [totals[b] / 100 for b in BUCKETS], ylabel="$",
                                             highlight=[b in ("91-120", "over 120") for b in BUCKETS],
                                             size=(4.6, 1.7))) if accounts else None
    return rep


def build_delinquency(sources: SpecialtySources, period: Period, property_id: str | None = None) -> list[Report]:
    out = []
    for pid in sources.property_ids(DELINQUENCY):
        if property_id and pid != property_id:
            continue
        out.append(build_delinquency_one(sources, period, pid,
                                         [r for r in sources.rows(DELINQUENCY) if r["property_id"] == pid]))
    return out


def salutation(name: str) -> str:
    """"Dawson, Paula" → "Paula Dawson" (Rent Manager keeps names last name first)."""
    last, sep, first = (name or "").partition(", ")
    return f"{first} {last}" if sep and first else name


NOTICES = {
    "cure period ends": ("violation", "Notice of Violation"),
    "schedule hearing (no board meeting schedule)": ("violation", "Notice of Violation"),
    "send notice of hearing": ("hearing", "Notice of Hearing"),
    "hearing": ("hearing", "Notice of Hearing"),
    "send written decision": ("decision", "Notice of Decision"),
    "levy fine per schedule": ("decision", "Notice of Decision and Fine"),
    "monitor": ("decision", "Notice of Decision"),
}


def build_notice(sources: SpecialtySources, period: Period, row: dict) -> Report:
    kind, title = NOTICES.get(row["next_step"], ("violation", "Notice of Violation"))
    pid = row["property_id"]
    rep = new_report(sources, kind="hoa_violation_notice", title=title, form=f"Violation {row['code']}",
                     template="hoa_violation_notice.html", period=period, property_id=pid)
    rep.single = f"V{rm_id(row['violation_id'])}"
    ev, c = rep.evidence, rep.context
    ref = record(ev, sources, STEPS, row, "violation_id", names=True)
    d = lambda col, label: ev.fig(ref, col, "date", label) if row.get(col) else ev.blank(label)  # noqa: E731
    c["notice"], c["title"] = kind, title
    c["letter_date"] = long_date(sources.evaluation.as_of)
    c["association"] = sources.property_name(pid)
    c["address"] = address(sources.property(pid))
    c["owner"] = ev.fig(ref, "owner_name", "text", "owner")
    c["lot"] = ev.fig(ref, "lot", "text", "lot")
    c["code"] = ev.fig(ref, "code", "text", "rule violated")
    c["noticed"] = d("noticed_on", "violation noticed on")
    c["cure_by"] = d("cure_deadline", "cure deadline")
    c["hearing"] = d("hearing_on", "hearing date (board meeting)")
    c["notice_by"] = d("hearing_notice_by", "notice of hearing due by")
    c["decision_by"] = d("decision_notice_by", "written decision due by")
    c["fine"] = (ev.fig(ref, "fine_schedule_cents", "cents", "fine per the schedule")
                 if row.get("fine_schedule_cents") is not None else ev.blank("fine per the published schedule"))
    c["step"] = row["next_step"]
    c["step_on"] = d("next_step_on", "next step date") if row.get("next_step_on") else "—"
    c["overdue"] = bool(row.get("overdue"))
    c["time_place"] = ev.blank("hearing time and place") if kind == "hearing" else None
    c["dear"] = salutation(row["owner_name"])
    meeting = sources.udf("Property", pid, MEETING_UDF)
    c["meeting"] = meeting or None
    return rep


def build_notices(sources: SpecialtySources, period: Period, property_id: str | None = None) -> list[Report]:
    rows = [r for r in sources.rows(STEPS) if r.get("status") == "open"
            and (property_id is None or r["property_id"] == property_id)]
    rows.sort(key=lambda r: (sources.property_label(r["property_id"]), r["lot"], r["code"], r["violation_id"]))
    return [build_notice(sources, period, r) for r in rows]
