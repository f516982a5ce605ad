"""Student housing rules: terms, installments, beds, pre-lease pace, guarantors and roommate matching (§10)."""

from __future__ import annotations

import dataclasses
from datetime import date

from rm_pipelines.specialties.roommates import (
    PROTECTED,
    Applicant,
    compatibility,
    hard_filter,
    match_roommates,
    parse_preferences,
)
from rm_pipelines.specialties.student_housing import (
    BedLease,
    bed_occupancy,
    classify_term,
    guarantor_coverage,
    installment_schedule,
    prelease_pace,
)


def test_term_kinds():
    assert classify_term(date(2026, 8, 15), date(2027, 7, 31)) == "academic year"
    assert classify_term(date(2026, 8, 20), date(2027, 5, 15)) == "academic year (9-10 months)"
    assert classify_term(date(2026, 8, 20), date(2026, 12, 20)) == "semester"
    assert classify_term(date(2027, 1, 10), date(2027, 5, 15)) == "semester"
    assert classify_term(date(2027, 5, 20), date(2027, 8, 10)) == "summer"
    assert classify_term(date(2026, 3, 1), date(2026, 11, 30)) == "other"


def test_installments_are_equal_and_add_up():
    sched = installment_schedule(7_788_00, 12, date(2026, 8, 1))
    assert [d for d, _c in sched][:3] == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    assert sched[-1][0] == date(2027, 7, 1) and {c for _d, c in sched} == {649_00}
    odd = installment_schedule(1_000_00, 12, date(2026, 8, 15))
    assert odd[0] == (date(2026, 8, 15), 83_37) and all(c == 83_33 for _d, c in odd[1:])
    assert sum(c for _d, c in odd) == 1_000_00


def _lease(rid, bed, move_in, terms, status="Current", move_out=None, installment=650_00, balance=0):
    return BedLease(rid, f"Resident {rid}", "P", "U1", "101", bed, status, move_in, move_out, terms, installment, balance)


def test_beds_are_ledgered_one_by_one_and_a_bed_without_a_term_is_flagged():
    term = (date(2026, 8, 15), date(2027, 7, 31), date(2026, 3, 1))
    leases = [_lease("1", "A", date(2026, 8, 15), (term,), balance=1_300_00),
              _lease("2", "B", date(2025, 8, 15), ((date(2025, 8, 15), date(2026, 7, 31), date(2025, 3, 1)),)),
              _lease("3", "C", date(2026, 8, 15), (), installment=None)]
    beds = {b.bed: b for b in bed_occupancy([("P", "U1", "101", 4)], leases, date(2026, 10, 1))}
    assert beds["A"].status == "occupied" and beds["A"].balance_cents == 1_300_00 and beds["A"].term == "academic year"
    assert beds["B"].status == "occupied without a lease term"  # still in the bed after the term ended
    assert beds["C"].status == "occupied without a lease term" and beds["D"].status == "vacant"


def test_prelease_pace_against_the_same_day_last_year():
    leases = [
        _lease("1", "A", date(2026, 8, 15), ((date(2026, 8, 15), date(2027, 7, 31), date(2026, 2, 1)),)),
        _lease("2", "B", date(2026, 8, 15), ((date(2026, 8, 15), date(2027, 7, 31), date(2026, 3, 20)),)),
        _lease("3", "A", date(2025, 8, 15), ((date(2025, 8, 15), date(2026, 7, 31), date(2025, 3, 1)),)),
        _lease("4", "B", date(2025, 8, 15), ((date(2025, 8, 15), date(2026, 7, 31), date(2025, 3, 16)),)),
        _lease("5", "C", date(2025, 8, 15), ((date(2025, 8, 15), date(2026, 7, 31), date(2025, 3, 14)),)),
    ]
    pace = prelease_pace("P", 8, leases, date(2026, 3, 15))
    assert (pace.term_year, pace.leased, pace.prior_year_leased) == (2026, 1, 2)  # 3/20 not yet; 3/16 not yet
    assert (pace.pct_leased, pace.prior_pct_leased, pace.change_beds) == (12.5, 25.0, -1)


def test_guarantor_coverage():
    ls = _lease("1", "A", date(2026, 8, 15), (), installment=650_00)
    assert guarantor_coverage(ls, [23_400_00], False).status == "covered"  # 1,950 a month = 3 × 650
    assert guarantor_coverage(ls, [23_399_99, 20_000_00], False).status == "insufficient"
    assert guarantor_coverage(ls, [10_000_00], True).status == "prepaid"
    assert guarantor_coverage(ls, [], False).status == "missing"
    assert guarantor_coverage(ls, [None, 1_00], False).status == "undetermined"
    assert guarantor_coverage(ls, [None, 30_000_00], False).status == "covered"


def applicant(rid, prefs="Early riser; Very tidy; Quiet study space; Non-smoker; Rarely has guests; Keeps it cool",
              **kw) -> Applicant:
    p = parse_preferences(prefs)
    base = dict(resident_id=rid, name=f"Student {rid}", property_id="P", unit_type="Student 2x2", rate_cents=650_00,
                budget_cents=None, move_in=date(2027, 8, 15), smoking=p.pop("smoking", None), housing_gender="F",
                traits=tuple(sorted(p.items())))
    base.update(kw)
    return Applicant(**base)


def test_preferences_and_scores():
    assert parse_preferences("Night owl; Relaxed about mess; Smoker") == {"sleep": "late", "cleanliness": "relaxed",
                                                                         "smoking": "smoker"}
    same = applicant("1")
    assert compatibility(same, applicant("2")) == 100
    opposite = applicant("3", "Night owl; Relaxed about mess; Music while studying; Non-smoker; "
                              "Social, frequent guests; Keeps it warm")
    assert compatibility(same, opposite) == 0
    # sleep flexible (60), cleanliness adjacent (50), rest exact: (25·60 + 25·50 + 50·100) / 100 = 77.5 → 78
    mixed = applicant("4", "Flexible schedule; Reasonably tidy; Quiet study space; Non-smoker; Rarely has guests; "
                           "Keeps it cool")
    assert compatibility(same, mixed) == 78


def test_hard_filters():
    a = applicant("1")
    assert hard_filter(a, applicant("2", smoking="smoker"), None) == "smoker with non-smoker"
    assert hard_filter(a, applicant("2", smoking="no preference"), None) == ""
    assert hard_filter(a, applicant("2", housing_gender="M"), "same-gender") == "same-gender policy"
    assert hard_filter(a, applicant("2", housing_gender="M"), None) == ""
    assert hard_filter(a, applicant("2", housing_gender=None), "same-gender").startswith("housing gender not")
    assert hard_filter(a, applicant("2", unit_type="Student 4x4"), None) == "different unit types"
    assert hard_filter(a, applicant("2", budget_cents=600_00), None) == "over budget"
    assert hard_filter(a, applicant("2", move_in=date(2027, 8, 29)), None) == ""  # 14 days apart
    assert hard_filter(a, applicant("2", move_in=date(2027, 8, 30)), None) == "move-in dates too far apart"


POOL = [
    applicant("1", requested_roommate="5"),
    applicant("2"),
    applicant("3", "Night owl; Relaxed about mess; Music while studying; Smoker; Social, frequent guests; Keeps it warm"),
    applicant("4", "Night owl; Reasonably tidy; Music while studying; No preference; Social, frequent guests; "
                   "Keeps it warm"),
    applicant("5", "Night owl; Relaxed about mess; Studies at library; Non-smoker; Occasional guests; Keeps it warm",
              requested_roommate="1"),
    applicant("6", housing_gender="M"),
]


def test_matching_honours_mutual_requests_and_never_breaks_a_hard_filter():
    matches = match_roommates(POOL, {"P": "same-gender"})
    pairs = {frozenset((m.resident_a, m.resident_b)): m for m in matches if m.resident_b}
    assert pairs[frozenset(("1", "5"))].basis == "mutual request"
    assert frozenset(("3", "4")) in pairs and pairs[frozenset(("3", "4"))].basis == "max-weight matching"
    unmatched = {m.resident_a: m.reason for m in matches if m.resident_b is None}
    assert set(unmatched) == {"2", "6"}  # 2 and 6 would suit each other, but the policy keeps them apart
    by_id = {a.resident_id: a for a in POOL}
    for m in matches:
        if m.resident_b:
            assert hard_filter(by_id[m.resident_a], by_id[m.resident_b], "same-gender") == ""
    assert {frozenset((m.resident_a, m.resident_b)) for m in match_roommates(POOL, {"P": None}) if m.resident_b} \
        >= {frozenset(("1", "5")), frozenset(("2", "6"))}


def test_max_weight_matching_beats_greedy():
    # a-b score 100 (the best single pair); c (smoker) and d (non-smoker) may not share. Greedy takes a-b and
    # strands c and d; the maximum weight pairs a-c and b-d (90 + 90 > 100)
    prefs = "Early riser; Very tidy; Quiet study space; {}; {}; Keeps it cool"
    a = applicant("a", prefs.format("No preference", "Rarely has guests"))
    b = applicant("b", prefs.format("No preference", "Rarely has guests"))
    c = applicant("c", prefs.format("Smoker", "Occasional guests"))
    d = applicant("d", prefs.format("Non-smoker", "Occasional guests"))
    assert compatibility(a, b) == 100 and compatibility(a, c) == 90 and hard_filter(c, d, None)
    pairs = {frozenset((m.resident_a, m.resident_b)) for m in match_roommates([a, b, c, d], {}) if m.resident_b}
    assert pairs in ({frozenset(("a", "c")), frozenset(("b", "d"))}, {frozenset(("a", "d")), frozenset(("b", "c"))})


def test_protected_characteristics_are_not_inputs():
    assert not {f.name for f in dataclasses.fields(Applicant)} & PROTECTED
