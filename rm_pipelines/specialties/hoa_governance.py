"""HOA governance: the violations workflow (California Civil Code §5855 as the first rule pack) and the board
and committee roster with terms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .hoa import RulePack

_ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4, "fourth": 4, "last": -1}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_meeting_schedule(text: str) -> tuple[int, int]:
    """"2nd Tuesday" → (2, 1): the n-th (−1 = last) weekday of each month the board meets on."""
    m = re.fullmatch(r"\s*(\w+)\s+(\w+?)s?\s*(?:of (?:each|every) month)?\s*", text.lower())
    if not m or m.group(1) not in _ORDINALS or m.group(2) not in _WEEKDAYS:
        raise ValueError(f"board meeting schedule {text!r} is not like '2nd Tuesday'")
    return _ORDINALS[m.group(1)], _WEEKDAYS.index(m.group(2))


def meeting_on_or_after(day: date, schedule: tuple[int, int]) -> date:
    """The first board meeting on or after `day`."""
    nth, weekday = schedule
    y, m = day.year, day.month
    for _ in range(14):
        first = date(y, m, 1)
        if nth > 0:
            d = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
        else:
            nxt = date(y + (m == 12), m % 12 + 1, 1)
            last = nxt - timedelta(days=1)
            d = last - timedelta(days=(last.weekday() - weekday) % 7)
        if d.month == m and d >= day:
            return d
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    raise ValueError("no meeting found")  # pragma: no cover - every month has the weekday


@dataclass(frozen=True)
class Violation:
    violation_id: str
    property_id: str
    lot: str
    owner_name: str
    code: str
    noticed_on: date  # the violation date: the first notice goes out with it
    closed_on: date | None  # cured / closed
    fines: tuple[tuple[date, int], ...] = ()  # fines billed for it (date, cents)


@dataclass(frozen=True)
class ViolationStep:
    """A violation with its workflow dates and the next required step."""

    violation_id: str
    property_id: str
    lot: str
    owner_name: str
    code: str
    noticed_on: date
    cure_deadline: date
    hearing_notice_by: date | None
    hearing_on: date | None
    decision_notice_by: date | None
    fine_schedule_cents: int | None
    fines_billed_cents: int
    status: str  # open | cured | closed
    next_step: str
    next_step_on: date | None
    overdue: bool
    problem: str  # e.g. a fine levied although the owner cured before the hearing


def violation_step(v: Violation, as_of: date, pack: RulePack, cure_days: int, schedule: tuple[int, int] | None,
                   fine_cents: int | None) -> ViolationStep:
    """Where a violation stands and what must happen next (§5855).

    Rule: first notice on the violation date with a cure period (`cure_days`); if uncured, a notice of hearing at
    least `hearing_notice_days` (10) before the board meeting — the first meeting at least that many days after
    the cure deadline; cure before the meeting bars discipline; written decision within
    `decision_notice_days` (15) of the hearing; then the fine by the published schedule. Days are calendar
    days. Without a meeting schedule the hearing date is undetermined. A fine billed for a violation cured
    before its hearing, or billed before the hearing, is reported as a problem."""
    cure_deadline = v.noticed_on + timedelta(days=cure_days)
    hearing = None
    if schedule is not None:
        hearing = meeting_on_or_after(cure_deadline + timedelta(days=1 + pack.hearing_notice_days), schedule)
    notice_by = hearing - timedelta(days=pack.hearing_notice_days) if hearing else None
    decision_by = hearing + timedelta(days=pack.decision_notice_days) if hearing else None
    fined = sum(c for _d, c in v.fines)
    problem = ""
    cured_before_hearing = v.closed_on is not None and hearing is not None and v.closed_on < hearing
    if v.fines and cured_before_hearing:
        problem = "fine levied although cured before the hearing (discipline barred)"
    elif v.fines and hearing is not None and min(d for d, _c in v.fines) < hearing:
        problem = "fine levied before the hearing"
    if v.closed_on is not None and v.closed_on <= as_of:
        status = "cured" if cured_before_hearing or v.closed_on <= cure_deadline else "closed"
        return ViolationStep(v.violation_id, v.property_id, v.lot, v.owner_name, v.code, v.noticed_on, cure_deadline,
                             notice_by, hearing, decision_by, fine_cents, fined, status, "none", None, False, problem)
    steps: list[tuple[str, date | None]] = [("cure period ends", cure_deadline)]
    if hearing is None:
        steps.append(("schedule hearing (no board meeting schedule)", None))
    else:
        steps += [("send notice of hearing", notice_by), ("hearing", hearing), ("send written decision", decision_by)]
        if not v.fines:
            steps.append(("levy fine per schedule", decision_by))
    nxt, when = "monitor", None
    for name, day in steps:
        if day is None or day >= as_of:
            nxt, when = name, day
            break
    else:
        nxt, when = steps[-1]
    overdue = when is not None and when < as_of
    return ViolationStep(v.violation_id, v.property_id, v.lot, v.owner_name, v.code, v.noticed_on, cure_deadline,
                         notice_by, hearing, decision_by, fine_cents, fined, "open", nxt, when, overdue, problem)


@dataclass(frozen=True)
class BoardSeat:
    property_id: str
    body: str  # Board of Directors, Architectural Review Committee …
    member: str
    position: str
    term_start: date | None
    term_end: date | None
    status: str  # current | expiring | expired
    days_left: int | None


def board_roster(property_id: str, body: str, members: list[tuple[str, str, date | None, date | None]],
                 as_of: date, expiring_within_days: int = 90) -> list[BoardSeat]:
    """Each member with the state of the term on `as_of`: current, expiring (ends within `expiring_within_days`)
    or expired. Current seats first, by position."""
    out = []
    for name, position, start, end in members:
        if end is not None and end < as_of:
            status, left = "expired", (end - as_of).days
        elif end is not None and (end - as_of).days <= expiring_within_days:
            status, left = "expiring", (end - as_of).days
        else:
            status, left = "current", None if end is None else (end - as_of).days
        out.append(BoardSeat(property_id, body, name, position, start, end, status, left))
    return sorted(out, key=lambda s: (s.status == "expired", s.position, s.member))
