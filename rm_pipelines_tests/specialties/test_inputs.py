"""The reader: EstateCore rows → rule inputs. Protected characteristics never reach roommate matching, bad UDF text
becomes a data issue (the figure undetermined), and CAM pools parse strictly."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from rm_pipelines.flows.specialties import build_view
from rm_pipelines.specialties.inputs import parse_amounts, parse_pool

AS_OF = date(2026, 11, 16)
PREFS = ("Early riser; Very tidy; Quiet study space; Non-smoker; Rarely has guests; Keeps it cool",
         "Early riser; Reasonably tidy; Quiet study space; Non-smoker; Occasional guests; Keeps it cool",
         "Night owl; Very tidy; Studies at library; No preference; Rarely has guests; Keeps it warm",
         "Flexible schedule; Very tidy; Quiet study space; Non-smoker; Rarely has guests; Keeps it cool",
         "Night owl; Relaxed about mess; Music while studying; Non-smoker; Social, frequent guests; Keeps it warm",
         "Early riser; Very tidy; Music while studying; Non-smoker; Occasional guests; Keeps it cool")


def _row(rm_id: int, **kw) -> dict:
    return {"org_id": "acme", "location_id": 1, "rm_id": rm_id, **kw}


def student_tables() -> dict[str, list[dict]]:
    t: dict[str, list[dict]] = {
        "properties": [_row(1, name="Campus Lofts", property_kind="student", state="KS")],
        "unit_types": [_row(9, name="Student 2x2")],
        "units": [_row(100 + k, property_rm_id=1, unit_type_rm_id=9, name=f"10{k}", bedrooms=2) for k in range(3)],
        "charge_types": [_row(1, code="RENT", is_cam=False)],
        "residents": [], "leases": [], "lease_terms": [], "recurring_charges": [], "household_members": [],
        "udf_values": [_row(1, parent_type="Property", parent_rm_id=1, name="Roommate Gender Policy",
                            value="same-gender")],
        "charges": [], "payments": [], "credits": [],
    }
    for k, prefs in enumerate(PREFS, start=1):
        t["residents"].append(_row(k, name=f"Student{k}, Pat", first_name="Pat", last_name=f"Student{k}",
                                   status="Future", property_rm_id=1, display_id=10000 + k,
                                   roommate_preferences=prefs, bed_space="AB"[k % 2]))
        t["leases"].append(_row(k, resident_rm_id=k, unit_rm_id=100 + (k - 1) // 2, property_rm_id=1,
                                move_in_date=date(2027, 8, 15)))
        t["lease_terms"].append(_row(k, lease_rm_id=k, start_date=date(2027, 8, 15), end_date=date(2028, 7, 31),
                                     sign_date=date(2026, 10, k)))
        t["recurring_charges"].append(_row(k, entity_type="Tenant", entity_key_rm_id=k, resident_rm_id=k,
                                           charge_type_rm_id=1, amount="650.00", from_date=date(2027, 8, 1)))
        t["household_members"].append(_row(k, resident_rm_id=k, applicant_type="Applicant",
                                           date_of_birth=date(2007, 1, k), annual_income=None))
        t["udf_values"].append(_row(100 + k, parent_type="Tenant", parent_rm_id=k, name="Housing Gender",
                                    value="Female" if k != 6 else "Male"))
    return t


def _pairs(tables) -> set:
    view = build_view(tables, "student_housing", AS_OF)
    return {(m.resident_a, m.resident_b, m.score, m.basis) for m in view.matches}


def test_changing_protected_characteristics_changes_no_assignment():
    base = student_tables()
    before = _pairs(base)
    assert any(b for _a, b, _s, _k in before)  # there are pairs to keep
    changed = copy.deepcopy(base)
    for k, r in enumerate(changed["residents"], start=1):
        r["last_name"] = ["Nguyen", "Okafor", "Haddad", "García", "Kowalski", "Yoder"][k - 1]  # national origin
        r["name"] = f"{r['last_name']}, {r['first_name']}"
    for m in changed["household_members"]:
        m["date_of_birth"] = date(1970, 6, 1)  # age
        m["relationship"] = "Spouse"  # familial status
    for k in range(1, 7):
        for name, value in (("Religion", "Other"), ("Disability Accommodation", "Yes"), ("Ethnicity", "Other"),
                            ("Race", "Other"), ("Familial Status", "Parent")):
            changed["udf_values"].append(_row(1000 + 10 * k + len(name), parent_type="Tenant", parent_rm_id=k,
                                              name=name, value=value))
    assert _pairs(changed) == before
    # … while a behavioural answer does change it (the test can fail)
    moved = copy.deepcopy(base)
    moved["residents"][0]["roommate_preferences"] = PREFS[4].replace("Non-smoker", "Smoker")
    assert _pairs(moved) != before


def test_gender_policy_and_missing_gender():
    tables = student_tables()
    view = build_view(tables, "student_housing", AS_OF)
    six = next(m for m in view.matches if "1:6" in (m.resident_a, m.resident_b))
    assert six.resident_b is None and six.reason == "same-gender policy"
    tables["udf_values"] = [v for v in tables["udf_values"] if not (v["name"] == "Housing Gender"
                                                                    and v["parent_rm_id"] == 1)]
    view = build_view(tables, "student_housing", AS_OF)
    one = next(m for m in view.matches if "1:1" in (m.resident_a, m.resident_b))
    assert one.resident_b is None and one.reason.startswith("housing gender not on record")


def test_bad_udf_text_is_an_issue_and_leaves_the_figure_undetermined():
    tables = {
        "properties": [_row(1, name="Plaza", property_kind="commercial"), _row(2, name="HOA", property_kind="hoa")],
        "units": [_row(10, property_rm_id=1, unit_type_rm_id=5, name="Suite 1", square_footage=1000)],
        "unit_types": [_row(5, name="Retail Space")],
        "udf_values": [_row(1, parent_type="Property", parent_rm_id=1, name="CAM Expense Pool",
                            value="2025:CAM=100.00,PARKING=5.00"),
                       _row(2, parent_type="Property", parent_rm_id=2, name="HOA Budget", value="2026 27000"),
                       _row(3, parent_type="Property", parent_rm_id=2, name="Board Meeting Schedule",
                            value="whenever")],
    }
    cam = build_view(tables, "commercial", AS_OF)
    assert cam.cam == [] and any("PARKING" in i.message for i in cam.issues)
    hoa = build_view(tables, "hoa", AS_OF)
    assert {i.entity_id for i in hoa.issues} == {"1:2"} and len(hoa.issues) == 2


def test_parsers():
    assert parse_pool("2025:CAM=100.00,tax=5;2024:INSURANCE=1.50") == {2025: {"CAM": 10_000, "TAX": 500},
                                                                      2024: {"INSURANCE": 150}}
    with pytest.raises(ValueError):
        parse_pool("2025 CAM=1")
    with pytest.raises(ValueError):
        parse_pool("2025:CAM=1.005")  # finer than a cent: refused, not rounded
    assert parse_amounts("2025=25000.00;2026=27000.00", ";") == {"2025": 2_500_000, "2026": 2_700_000}
