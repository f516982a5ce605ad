"""build_inputs on small hand-made EstateCore rows: the column mapping, scoping, certifications, members,
rent facts, area resolution, and the refusal of encrypted values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from rm_pipelines.compliance.inputs import (
    ComplianceInputs,
    area_codes_from_limits,
    build_inputs,
    resolve_area,
)
from rm_pipelines.compliance.limits_store import bundled_library
from rm_pipelines.compliance.model import Asset, IncomeSource

AS_OF = date(2026, 11, 20)
BOSTON = "Boston-Cambridge-Quincy, MA-NH HMFA"


def row(rm_id, **values):
    return {"org_id": "acme", "location_id": 1, "rm_id": rm_id, "deleted_at": None, **values}


def udf(rm_id, parent_type, parent, name, value):
    return row(rm_id, parent_type=parent_type, parent_rm_id=parent, name=name, value=value, is_encrypted=False)


def base_tables() -> dict[str, list[dict]]:
    """A LIHTC 40-60 property (two units, one BIN), a market property, a mixed-use property with a shop."""
    return {
        "properties": [
            row(1, name="Harbor View", short_name="HV", is_commercial=False, postal_code="02118",
                affordable_programs="LIHTC,Section 8", lihtc_election="40-60", bond_election=None,
                hud_limit_area=BOSTON, placed_in_service=date(2015, 6, 1), compliance_agency="MassHousing"),
            row(2, name="Market Flats", short_name="MF", is_commercial=False, affordable_programs=None,
                lihtc_election=None, hud_limit_area="Wichita, KS HUD Metro FMR Area"),
            row(3, name="Station Lofts", short_name="SL", is_commercial=True,
                affordable_programs="LIHTC, Tax-Exempt Bond",
                lihtc_election="20-50", bond_election="20-50", hud_limit_area="METRO14460MM1120",
                placed_in_service="2019-03-01"),
        ],
        "buildings": [{"org_id": "acme", "location_id": 1, "bin": "MA-15-00001", "property_rm_id": 1,
                       "placed_in_service": date(2015, 6, 1), "deleted_at": None}],
        "units": [
            row(10, property_rm_id=1, name="101", bedrooms=2, square_footage=980, bin="MA-15-00001",
                ami_designation=60, unit_programs="LIHTC", utility_allowance=Decimal("105.00")),
            row(11, property_rm_id=1, name="102", bedrooms=1, square_footage=720.0, bin="MA-15-00001",
                ami_designation=float("nan"), unit_programs="Market", utility_allowance=None),
            row(20, property_rm_id=2, name="A", bedrooms=1, unit_programs="Market"),
            row(30, property_rm_id=3, name="201", bedrooms=1, ami_designation=50, unit_programs="LIHTC,Bond",
                utility_allowance="95.00"),
            row(31, property_rm_id=3, name="Retail A", bedrooms=0, unit_programs=None, bin=None, ami_designation=None),
        ],
        "leases": [
            row(100, resident_rm_id=1000, unit_rm_id=10, move_in_date=date(2024, 3, 1), move_out_date=None,
                is_commercial=False),
            row(101, resident_rm_id=1001, unit_rm_id=10, move_in_date=date(2021, 1, 1),
                move_out_date=date(2024, 1, 31), is_commercial=False),
            row(102, resident_rm_id=1002, unit_rm_id=11, move_in_date=date(2025, 5, 1), move_out_date=None,
                is_commercial=False),
        ],
        "residents": [
            row(1000, name="Okafor, Grace", certification_type="Annual", certification_effective_date=date(2026, 3, 1),
                certified_annual_income=Decimal("51500.00"), certified_household_size=2, student_exception=None,
                voucher_payment_standard=Decimal("2900.00")),
            row(1001, name="Lee, Sam", certification_type="Move-In", certification_effective_date="2021-01-01",
                certified_annual_income="40000.00", certified_household_size="1", student_exception="Joint Return"),
            row(1002, name="Ng, Al", certification_type=None),
        ],
        "household_members": [
            row(5000, resident_rm_id=1000, first_name="Grace", last_name="Okafor", is_primary=True, is_active=True,
                applicant_type="Applicant", date_of_birth=date(1985, 4, 2), relationship="Head",
                student_status="None", employment_income=Decimal("40000.00"), benefit_income=Decimal("0.00"),
                other_income=Decimal("1200.00"), asset_cash_value=Decimal("3000.00"),
                asset_annual_income=Decimal("30.00"), annual_income=Decimal("41200.00")),
            row(5001, resident_rm_id=1000, first_name="Ade", last_name="Okafor", is_primary=False, is_active=True,
                applicant_type="Occupant", date_of_birth="2012-09-09", relationship="Child", student_status="Full-time",
                employment_income=None, benefit_income=None, other_income=None, annual_income=Decimal("0")),
            row(5002, resident_rm_id=1000, first_name="Pat", last_name="Okafor", is_primary=False, is_active=True,
                applicant_type="Guarantor", relationship="Guarantor", employment_income=Decimal("90000.00")),
            row(5003, resident_rm_id=1001, first_name="Sam", last_name="Lee", is_primary=True, is_active=True,
                applicant_type="Applicant", relationship=None, student_status="Full-time",
                employment_income=None, benefit_income=None, other_income=None, annual_income=Decimal("40000")),
        ],
        "charge_types": [row(1, code="RENT"), row(2, code="HAP"), row(3, code="PARK"), row(4, code="UTIL"),
                         row(5, code="TRSH")],
        "recurring_charges": [
            row(1, entity_type="Tenant", entity_key_rm_id=1000, resident_rm_id=1000, unit_rm_id=10, charge_type_rm_id=1,
                amount=Decimal("1700.00"), frequency=1, from_date=date(2026, 3, 1), to_date=None),
            row(2, entity_type="Tenant", entity_key_rm_id=1000, resident_rm_id=1000, unit_rm_id=10, charge_type_rm_id=1,
                amount=Decimal("1650.00"), frequency=1, from_date=date(2024, 3, 1), to_date=date(2026, 2, 28)),
            row(3, entity_type="Tenant", entity_key_rm_id=1000, resident_rm_id=1000, unit_rm_id=10, charge_type_rm_id=2,
                amount=Decimal("400.00"), frequency=1, from_date=date(2024, 3, 1), to_date=None),
            row(4, entity_type="Tenant", entity_key_rm_id=1000, resident_rm_id=1000, unit_rm_id=10, charge_type_rm_id=3,
                amount=Decimal("25.00"), frequency=1, from_date=date(2024, 3, 1), to_date=None),
            row(5, entity_type="Tenant", entity_key_rm_id=1000, resident_rm_id=1000, unit_rm_id=10, charge_type_rm_id=4,
                amount=Decimal("40.00"), frequency=1, from_date=date(2024, 3, 1), to_date=None),
            row(6, entity_type="Unit", entity_key_rm_id=10, resident_rm_id=None, unit_rm_id=10, charge_type_rm_id=5,
                amount=Decimal("15.00"), frequency=1, from_date=date(2020, 1, 1), to_date=None),
            row(7, entity_type="Tenant", entity_key_rm_id=1000, resident_rm_id=1000, unit_rm_id=10, charge_type_rm_id=5,
                amount=Decimal("99.00"), frequency=1, from_date=date(2026, 12, 1), to_date=None),  # not yet
        ],
        "resident_subsidies": [row(1, subsidy_rm_id=1, resident_rm_id=1000, amount=Decimal("400.00"),
                                   start_date=date(2024, 3, 1), end_date=None)],
        "udf_values": [
            udf(1, "Tenant", 1000, "Move-In Certification Date", "2024-03-01"),
            udf(2, "Tenant", 1000, "Move-In Certified Income", "48000.00"),
            udf(3, "Tenant", 1000, "Move-In Household Size", "2"),
            udf(4, "Tenant", 1000, "Bed Space", "A"),
        ],
    }


def build(tables=None, **kw) -> ComplianceInputs:
    return build_inputs(tables or base_tables(), as_of=AS_OF, **kw)


def test_properties_programs_area_and_buildings():
    inputs = build()
    props = {p.property_id: p for p in inputs.properties}
    assert set(props) == {"acme:1:P1", "acme:1:P3"}  # the market property is out of scope
    hv = props["acme:1:P1"]
    assert hv.area == "METRO14460MM1120" and hv.zip_code == "02118" and hv.placed_in_service == date(2015, 6, 1)
    assert [(e.program, e.set_aside, e.agency) for e in hv.programs] == [
        ("lihtc", "40-60", "MassHousing"), ("section8", None, None)]
    assert [(b.building_id, b.bin, b.placed_in_service, b.bond_financed) for b in hv.buildings] == [
        ("acme:1:BMA-15-00001", "MA-15-00001", date(2015, 6, 1), False)]
    sl = props["acme:1:P3"]
    assert [(e.program, e.set_aside) for e in sl.programs] == [("lihtc", "20-50"), ("bond", "20-50")]
    assert [(b.building_id, b.bin, b.bond_financed) for b in sl.buildings] == [("acme:1:P3:B-", None, True)]
    assert inputs.property_labels["acme:1:P1"] == ("HV", "Harbor View")
    assert build(include_all_properties=True).property_labels.keys() >= {"acme:1:P2"}


def test_units_layers_and_commercial_suites():
    inputs = build()
    units = {u.unit_number: u for u in inputs.units}
    assert set(units) == {"101", "102", "201"}  # "Retail A" of the mixed-use property is a commercial suite
    u101 = units["101"]
    assert (u101.unit_id, u101.property_id, u101.building_id) == ("acme:1:U10", "acme:1:P1", "acme:1:BMA-15-00001")
    assert (u101.bedrooms, u101.square_feet, u101.utility_allowance) == (2, Decimal(980), Decimal("105.00"))
    assert [(layer.program, layer.income_pct) for layer in u101.programs] == [("lihtc", 60)]
    assert units["102"].programs == () and units["102"].utility_allowance == 0
    assert [(layer.program, layer.income_pct) for layer in units["201"].programs] == [("lihtc", 50), ("bond", 50)]
    assert units["201"].utility_allowance == Decimal("95.00")


def test_home_and_other_unit_programs():
    tables = base_tables()
    tables["units"][0]["unit_programs"] = "LIHTC, HOME-Low"
    tables["units"][1]["unit_programs"] = "HOME-High;USDA RD 515"
    tables["units"][3]["unit_programs"] = "Project X"
    inputs = build(tables)
    units = {u.unit_number: u for u in inputs.units}
    assert [(la.program, la.home_rent) for la in units["101"].programs] == [("lihtc", None), ("home", "low")]
    assert [(la.program, la.home_rent) for la in units["102"].programs] == [("home", "high"), ("usda515", None)]
    assert units["201"].programs == ()
    hv = next(p for p in inputs.properties if p.property_id == "acme:1:P1")
    assert [e.program for e in hv.programs] == ["lihtc", "home", "usda515", "section8"]  # added from the units
    messages = " | ".join(i.message for i in inputs.issues)
    assert "unknown Unit Program 'Project X'" in messages and "units carry home" in messages


def test_households_certifications_and_members():
    inputs = build()
    hh = {h.household_id: h for h in inputs.households}
    assert set(hh) == {"acme:1:L100", "acme:1:L101", "acme:1:L102"}
    current = hh["acme:1:L100"]
    assert (current.unit_id, current.move_in_date, current.move_out_date, current.rental_assistance) == (
        "acme:1:U10", date(2024, 3, 1), None, "section8")
    move_in, annual = current.certifications
    assert (move_in.kind, move_in.effective_date, move_in.reported_income, move_in.household_size, move_in.members) == (
        "move-in", date(2024, 3, 1), Decimal("48000.00"), 2, ())
    assert (annual.kind, annual.effective_date, annual.reported_income, annual.household_size) == (
        "annual", date(2026, 3, 1), Decimal("51500.00"), 2)
    head, child = annual.members  # the guarantor is not a household member
    assert (head.relationship, head.birth_date, head.full_time_student, head.name) == (
        "H", date(1985, 4, 2), False, "Okafor, Grace")
    assert head.incomes == (IncomeSource("wages", Decimal("40000.00")), IncomeSource("other", Decimal("1200.00")))
    assert head.assets == (Asset("cash", Decimal("3000.00"), Decimal("30.00")),)
    assert (child.relationship, child.birth_date, child.full_time_student, child.incomes) == (
        "C", date(2012, 9, 9), True, ())
    past = hh["acme:1:L101"]
    (cert,) = past.certifications  # the current certification is the move-in one
    assert (cert.kind, cert.student_exception, cert.household_size) == ("move-in", "married-joint-return", 1)
    (sam,) = cert.members
    assert sam.relationship == "H" and sam.incomes == (IncomeSource("other", Decimal("40000")),)
    assert hh["acme:1:L102"].certifications == () and hh["acme:1:L102"].rental_assistance is None
    assert inputs.household_labels["acme:1:L100"] == "Okafor, Grace"


def test_rent_facts_of_the_month():
    inputs = build()
    (rf,) = inputs.rent_facts  # only current households of program units
    assert (rf.unit_id, rf.household_id, rf.month) == ("acme:1:U10", "acme:1:L100", date(2026, 11, 1))
    # rent in effect on as_of; UTIL (tenant) and TRSH (unit) are mandatory; PARK is optional; HAP is assistance
    assert (rf.tenant_rent, rf.mandatory_fees, rf.assistance_payment, rf.payment_standard) == (
        Decimal("1700.00"), Decimal("55.00"), Decimal("400.00"), Decimal("2900.00"))
    more_optional = build(optional_charge_codes=("PARK", "UTIL", "TRSH"))
    assert more_optional.rent_facts[0].mandatory_fees == 0


def test_rent_facts_fall_back_to_the_subsidy_and_flag_non_monthly_charges():
    tables = base_tables()
    tables["recurring_charges"] = [rc for rc in tables["recurring_charges"] if rc["charge_type_rm_id"] != 2]
    tables["recurring_charges"][0]["frequency"] = 12
    inputs = build(tables)
    (rf,) = inputs.rent_facts
    assert rf.assistance_payment == Decimal("400.00") and rf.tenant_rent == 0
    assert any("frequency 12" in i.message for i in inputs.issues)


def test_missing_move_in_record_gives_no_move_in_certification():
    tables = base_tables()
    tables["udf_values"] = [u for u in tables["udf_values"] if u["name"] != "Move-In Certified Income"]
    current = next(h for h in build(tables).households if h.household_id == "acme:1:L100")
    assert [c.kind for c in current.certifications] == ["annual"]


def test_deleted_rows_are_ignored_and_row_values_may_be_text():
    tables = base_tables()
    tables["leases"][0]["deleted_at"] = datetime(2026, 10, 1)
    tables["units"][0]["bedrooms"] = "2"
    tables["units"][0]["utility_allowance"] = 105.0
    inputs = build(tables)
    assert "acme:1:L100" not in {h.household_id for h in inputs.households}
    u101 = next(u for u in inputs.units if u.unit_number == "101")
    assert (u101.bedrooms, u101.utility_allowance) == (2, Decimal("105.0"))


def test_encrypted_values_are_refused():
    tables = base_tables()
    tables["household_members"][0]["employment_income"] = "enc:gAAAAABexample"
    with pytest.raises(ValueError, match="decrypt"):
        build(tables)


def test_area_resolution():
    codes = area_codes_from_limits(bundled_library())
    assert codes["boston-cambridge-quincy, ma-nh hmfa"] == "METRO14460MM1120"
    assert resolve_area("Wichita, KS HUD Metro FMR Area") == "METRO48620M48620"
    assert resolve_area("  topeka, ks   msa ") == "METRO45820M45820"
    assert resolve_area("Boston HMFA (METRO14460MM1120)") == "METRO14460MM1120"
    assert resolve_area("2502507000") == "2502507000"
    assert resolve_area("Springfield, IL HUD Metro FMR Area") == "Springfield, IL HUD Metro FMR Area"
    assert resolve_area("Springfield", {"Springfield": "METRO44100M44100"}) == "METRO44100M44100"


def harbor_view_only() -> dict[str, list[dict]]:
    tables = base_tables()
    tables["properties"] = [p for p in tables["properties"] if p["rm_id"] == 1]
    tables["units"] = [u for u in tables["units"] if u["property_rm_id"] == 1]
    return tables


def test_the_inputs_evaluate_with_readable_findings():
    """Harbor View alone: clean as given (1,700 rent + 105 UA + 55 mandatory fees = 1,860 ≤ 2,314, the 2BR
    60 % maximum); with the rent raised to 2,200 the gross rent is 2,360 and the unit stops counting."""
    tables = harbor_view_only()
    tables["recurring_charges"][0]["amount"] = Decimal("2200.00")
    inputs = build(tables)
    result = inputs.evaluate(bundled_library(backfill_earliest=True))
    described = {d["code"]: d for d in map(inputs.describe, result.findings)}
    assert {(d["code"], d["form_8823_line"], d["property"], d["unit"], d["tenant"]) for d in described.values()} == {
        ("GROSS_RENT_OVER_LIMIT", "11g", "HV", "101", "Okafor, Grace"),
        ("SET_ASIDE_NOT_MET", "11f", "HV", None, None),  # its only LIHTC unit no longer counts: 0 of 1 required
    }
    assert "2360.00" in described["GROSS_RENT_OVER_LIMIT"]["detail"]
    assert "2314" in described["GROSS_RENT_OVER_LIMIT"]["detail"]
    clean = build(harbor_view_only()).evaluate(bundled_library(backfill_earliest=True))
    assert [f.code for f in clean.findings] == []
    unit = next(u for u in clean.units if u.unit_id == "acme:1:U10")
    assert (unit.gross_rent, unit.subsidy, unit.low_income_unit) == (Decimal("1860.00"), Decimal("400.00"), True)


def test_typed_move_in_columns_win_over_the_udf_values():
    tables = base_tables()
    tables["residents"][0].update(move_in_certification_date=date(2024, 2, 25),
                                  move_in_certified_income=Decimal("47000.00"), move_in_household_size=3)
    current = next(h for h in build(tables).households if h.household_id == "acme:1:L100")
    move_in = current.certifications[0]
    assert (move_in.effective_date, move_in.reported_income, move_in.household_size) == (
        date(2024, 2, 25), Decimal("47000.00"), 3)
