"""HOA rules: allocation, aging buckets, California late charges and interest at the boundaries, escalation,
budget limits, violation workflow dates and the board roster (compliance-rules.md §11)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from rm_pipelines.specialties.hoa import (
    CALIFORNIA,
    OpenItem,
    account_delinquency,
    allocate,
    bucket,
    budget_check,
    delinquent_from,
    max_interest,
    max_late_charge,
)
from rm_pipelines.specialties.hoa_governance import (
    Violation,
    board_roster,
    meeting_on_or_after,
    parse_meeting_schedule,
    violation_step,
)


def test_allocation_equal_percentage_and_square_footage_add_up():
    lots = [("1", 1500, Decimal("33.3")), ("2", 1500, Decimal("33.3")), ("3", 2000, Decimal("33.4"))]
    assert allocate(100_00, lots, "equal") == {"1": 33_34, "2": 33_33, "3": 33_33}
    assert allocate(100_00, lots, "percentage") == {"1": 33_30, "2": 33_30, "3": 33_40}
    assert allocate(100_00, lots, "square_footage") == {"1": 30_00, "2": 30_00, "3": 40_00}
    odd = allocate(1_00, [("a", 1, None), ("b", 1, None), ("c", 1, None)], "square_footage")
    assert sum(odd.values()) == 1_00 and odd == {"a": 34, "b": 33, "c": 33}
    with pytest.raises(ValueError, match="100 %"):
        allocate(100, [("1", None, Decimal(50)), ("2", None, Decimal(40))], "percentage")
    with pytest.raises(ValueError):
        allocate(100, [("1", None, None)], "square_footage")


@pytest.mark.parametrize("days,label", [(-3, "current"), (0, "current"), (1, "1-30"), (30, "1-30"), (31, "31-60"),
                                        (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "91-120"), (120, "91-120"),
                                        (121, "over 120")])
def test_aging_buckets_at_their_boundaries(days, label):
    assert bucket(days) == label


def test_california_late_charge_and_interest_boundaries():
    due = date(2026, 1, 1)
    assert delinquent_from(due, CALIFORNIA) == date(2026, 1, 16)
    assert max_late_charge(300_00, CALIFORNIA) == 30_00  # 10 %
    assert max_late_charge(50_00, CALIFORNIA) == 10_00  # $10 is greater than 10 % ($5)
    assert max_late_charge(100_00, CALIFORNIA) == 10_00  # equal
    assert max_late_charge(123_45, CALIFORNIA) == 12_34  # 12.345 rounded down
    assert max_interest(1_000_00, due, date(2026, 1, 31), CALIFORNIA) == 0  # day 30: nothing yet
    assert max_interest(1_000_00, due, date(2026, 2, 1), CALIFORNIA) == 32  # 1 day: 1,000 × 12 % / 365 = 0.3287
    assert max_interest(1_000_00, due, date(2026, 3, 2), CALIFORNIA) == 986  # 30 days: 9.863


def _items(paid_on=None, due=date(2026, 1, 1), cents=300_00):
    return [OpenItem("c1", "HOA", due, cents, paid_on)]


def test_paid_on_day_14_is_on_time_and_day_15_is_late():
    on_time = account_delinquency("A", "Owner", "P", "Lot 1", _items(date(2026, 1, 15)), [], date(2026, 2, 20),
                                  CALIFORNIA)
    assert on_time.late_charges_allowed_cents == 0 and on_time.balance_cents == 0 and on_time.stage == "current"
    late = account_delinquency("A", "Owner", "P", "Lot 1", _items(date(2026, 1, 16)), [(date(2026, 1, 16), 30_00)],
                               date(2026, 2, 20), CALIFORNIA)
    assert late.late_charges_allowed_cents == 30_00 and late.late_charge_excess_cents == 0
    unpaid_day_15 = account_delinquency("A", "Owner", "P", "Lot 1", _items(), [], date(2026, 1, 16), CALIFORNIA)
    assert unpaid_day_15.late_charges_allowed_cents == 30_00 and unpaid_day_15.stage == "late charge"
    unpaid_day_14 = account_delinquency("A", "Owner", "P", "Lot 1", _items(), [], date(2026, 1, 15), CALIFORNIA)
    assert unpaid_day_14.late_charges_allowed_cents == 0 and unpaid_day_14.stage == "courtesy notice"


def test_excess_late_charges_interest_stage_and_foreclosure():
    items = [OpenItem(f"c{m}", "HOA", date(2025, m, 1), 300_00) for m in range(6, 13)]  # Jun..Dec unpaid
    items.append(OpenItem("f", "FINE", date(2025, 6, 20), 200_00))
    lates = [(date(2025, m, 16), 50_00) for m in range(6, 13)]
    r = account_delinquency("A", "Owner", "P", "Lot 9", items, lates, date(2025, 12, 20), CALIFORNIA)
    assert r.balance_cents == 7 * 300_00 + 200_00
    # as of Dec 20: Jun 1, Jul 1, Aug 1 and the Jun 20 fine are over 120 days; Sep 1 is 110; Dec 1 is 19
    assert r.buckets["over 120"] == 3 * 300_00 + 200_00 and r.buckets["91-120"] == 300_00
    assert r.buckets["1-30"] == 300_00
    assert r.late_charges_allowed_cents == 7 * 30_00 and r.late_charge_excess_cents == 7 * 20_00
    assert r.delinquent_assessments_cents == 7 * 300_00 and r.stage == "attorney referral"
    assert r.foreclosure_eligible  # 2,100 ≥ 1,800 (the fine is not counted)
    small = account_delinquency("A", "Owner", "P", "Lot 9", items[-3:-1], [], date(2025, 12, 20), CALIFORNIA)
    assert small.foreclosure_eligible is False and small.stage == "intent to lien"  # Nov 1: 49 days past due
    assert account_delinquency("A", "O", "P", "L", items, [], date(2025, 12, 20), None).stage is None


def test_budget_increase_limits():
    ok = budget_check("P", 2026, 120_000_00, 100_000_00, 300_000_00, 15_000_00, CALIFORNIA)
    assert ok.increase_pct == Decimal("20.00") and ok.regular_over_limit is False  # exactly 20 % is allowed
    assert ok.special_pct_of_budget == Decimal("5.00") and ok.special_over_limit is False
    over = budget_check("P", 2026, 120_000_01, 100_000_00, 300_000_00, 15_000_01, CALIFORNIA)
    assert over.regular_over_limit and over.special_over_limit
    unknown = budget_check("P", 2026, 120_000_00, None, None, 0, CALIFORNIA)
    assert unknown.regular_over_limit is None and unknown.special_over_limit is None


def test_meeting_schedule():
    sched = parse_meeting_schedule("2nd Tuesday")
    assert meeting_on_or_after(date(2026, 3, 1), sched) == date(2026, 3, 10)
    assert meeting_on_or_after(date(2026, 3, 11), sched) == date(2026, 4, 14)
    assert meeting_on_or_after(date(2026, 12, 9), sched) == date(2027, 1, 12)
    assert meeting_on_or_after(date(2026, 2, 27), parse_meeting_schedule("last Friday")) == date(2026, 2, 27)
    with pytest.raises(ValueError):
        parse_meeting_schedule("every so often")


def test_violation_workflow_dates_and_next_steps():
    sched = parse_meeting_schedule("2nd Tuesday")
    v = Violation("V1", "P", "Lot 1", "Owner", "LAWN", date(2026, 3, 2), None)
    # cure deadline Mar 16; notice of hearing needs ≥ 10 days: first meeting on/after Mar 27 → Apr 14;
    # notice by Apr 4, decision by Apr 29
    s = violation_step(v, date(2026, 3, 10), CALIFORNIA, 14, sched, 100_00)
    assert (s.cure_deadline, s.hearing_on, s.hearing_notice_by, s.decision_notice_by) == (
        date(2026, 3, 16), date(2026, 4, 14), date(2026, 4, 4), date(2026, 4, 29))
    assert (s.next_step, s.next_step_on, s.overdue) == ("cure period ends", date(2026, 3, 16), False)
    assert violation_step(v, date(2026, 3, 20), CALIFORNIA, 14, sched, None).next_step == "send notice of hearing"
    assert violation_step(v, date(2026, 4, 14), CALIFORNIA, 14, sched, None).next_step == "hearing"
    assert violation_step(v, date(2026, 4, 20), CALIFORNIA, 14, sched, None).next_step == "send written decision"
    late = violation_step(v, date(2026, 5, 10), CALIFORNIA, 14, sched, 100_00)
    assert (late.next_step, late.overdue) == ("levy fine per schedule", True)
    # a hearing notice exactly 10 days ahead is on time: cure deadline Mar 31 → notice Apr 1 + 10 = Apr 11 → Apr 14
    edge = violation_step(Violation("V2", "P", "L", "O", "X", date(2026, 3, 17), None), date(2026, 3, 17),
                          CALIFORNIA, 14, sched, None)
    assert edge.hearing_on == date(2026, 4, 14) and (edge.hearing_on - edge.hearing_notice_by).days == 10
    nxt = violation_step(Violation("V3", "P", "L", "O", "X", date(2026, 3, 21), None), date(2026, 3, 21),
                         CALIFORNIA, 14, sched, None)
    assert nxt.hearing_on == date(2026, 5, 12)  # Apr 4 + 1 + 10 = Apr 15 > Apr 14


def test_cure_before_the_meeting_bars_the_fine():
    sched = parse_meeting_schedule("2nd Tuesday")
    cured = Violation("V", "P", "L", "O", "PAINT", date(2026, 3, 2), date(2026, 4, 13), ((date(2026, 4, 20), 100_00),))
    s = violation_step(cured, date(2026, 5, 1), CALIFORNIA, 14, sched, 100_00)
    assert s.status == "cured" and "barred" in s.problem and s.next_step == "none"
    after = Violation("V", "P", "L", "O", "PAINT", date(2026, 3, 2), date(2026, 4, 15), ((date(2026, 4, 20), 100_00),))
    assert violation_step(after, date(2026, 5, 1), CALIFORNIA, 14, sched, 100_00).problem == ""
    early = Violation("V", "P", "L", "O", "PAINT", date(2026, 3, 2), None, ((date(2026, 4, 1), 100_00),))
    assert violation_step(early, date(2026, 4, 2), CALIFORNIA, 14, sched, 100_00).problem == \
        "fine levied before the hearing"
    no_sched = violation_step(Violation("V", "P", "L", "O", "X", date(2026, 3, 2), None), date(2026, 3, 20),
                              CALIFORNIA, 14, None, None)
    assert no_sched.hearing_on is None and no_sched.next_step.startswith("schedule hearing")


def test_board_roster_terms():
    seats = board_roster("P", "Board", [("Ann", "President", date(2025, 1, 1), date(2027, 1, 1)),
                                        ("Bob", "Treasurer", date(2024, 6, 1), date(2026, 7, 1)),
                                        ("Cy", "Member at Large", date(2023, 1, 1), date(2025, 1, 1))], date(2026, 5, 1))
    by = {s.member: s for s in seats}
    assert by["Ann"].status == "current" and by["Bob"].status == "expiring" and by["Bob"].days_left == 61
    assert by["Cy"].status == "expired" and seats[-1].member == "Cy"
    assert date(2026, 5, 1) + timedelta(days=61) == date(2026, 7, 1)
