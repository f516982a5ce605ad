"""Completeness checks over an evaluation: designations, certified occupied restricted units, HUD limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rm_pipelines.compliance import checks
from rm_pipelines.compliance.inputs import ComplianceInputs
from rm_pipelines.compliance.limits_store import bundled_library
from rm_pipelines.compliance.model import Building, ProgramElection, Property

from .factories import BOSTON, adult, cert, household, lihtc, rent, unit

AS_OF = date(2027, 3, 15)
LIB = bundled_library()


def _inputs(props, units, households, rents=()) -> ComplianceInputs:
    return ComplianceInputs(
        as_of=AS_OF, properties=tuple(props), units=tuple(units), households=tuple(households),
        rent_facts=tuple(rents), property_labels={p.property_id: (p.property_id, p.name) for p in props},
        unit_labels={u.unit_id: u.unit_number for u in units})


def _prop(pid: str, *programs: ProgramElection, area: str = BOSTON) -> Property:
    return Property("org", pid, pid, area, programs=programs, buildings=(Building(f"{pid}-B", pid, bin=f"BIN-{pid}"),))


def test_income_averaging_units_need_an_explicit_designation_others_take_the_election():
    ia = _prop("IA", ProgramElection("lihtc", set_aside="income-averaging"))
    std = _prop("STD", ProgramElection("lihtc", set_aside="40-60"))
    units = [unit("IA-1", "IA", "IA-B", 1, lihtc(60)), unit("IA-2", "IA", "IA-B", 1, lihtc()),
             unit("STD-1", "STD", "STD-B", 1, lihtc())]
    out = checks.lihtc_designations(_inputs([ia, std], units, []))
    assert not out.passed and out.checked == 3 and out.severity == "ERROR"
    assert out.failing == ["IA unit IA-2 (income averaging needs an explicit designation)"]
    fixed = [units[0], replace(units[1], programs=(lihtc(50),)), units[2]]
    assert checks.lihtc_designations(_inputs([ia, std], fixed, [])).passed


def test_an_occupied_restricted_unit_needs_a_current_certification_or_a_finding():
    p = _prop("P", ProgramElection("lihtc", set_aside="40-60"))
    u1, u2 = unit("U1", "P", "P-B", 1, lihtc()), unit("U2", "P", "P-B", 1, lihtc())
    move_in = date(2026, 10, 1)
    hh1 = household("H1", u1, move_in, cert("H1-MI", "move-in", move_in, adult("H1-a", 40000)))
    hh2 = household("H2", u2, move_in)  # no certification at all
    inputs = _inputs([p], [u1, u2], [hh1, hh2], [rent(u, date(2027, 3, 1), 1000) for u in (u1, u2)])
    result = inputs.evaluate(LIB)
    assert any(f.code == "MOVE_IN_CERT_MISSING" and f.unit_id == "U2" for f in result.findings)
    flagged = checks.restricted_units_certified(result, inputs)
    assert flagged.passed and flagged.checked == 2  # the missing certification is a finding: accounted for
    unflagged = replace(result, findings=[f for f in result.findings if f.unit_id != "U2"])
    out = checks.restricted_units_certified(unflagged, inputs)
    assert not out.passed and out.failing == ["P unit U2 (lihtc: no certification on file, no finding)"]


def test_limits_available_names_what_is_missing_with_error_for_income_and_warn_for_rent_tables():
    boston = _prop("BOS", ProgramElection("lihtc", set_aside="40-60"), ProgramElection("section8"))
    home = _prop("HOME", ProgramElection("home"), area="METRO48620M48620")
    nowhere = _prop("NOWHERE", ProgramElection("lihtc", set_aside="20-50"), area="METRO00000M00000")
    market = _prop("MKT")
    ok = checks.limits_available(_inputs([boston, market], [], []), LIB, AS_OF)
    assert ok.passed and ok.checked == 1  # vouchers (hcv) need no Section 8 table; market-rate is not checked
    warn = checks.limits_available(_inputs([boston, home], [], []), LIB, AS_OF)
    assert not warn.passed and warn.severity == "WARN"
    assert warn.failing == [f"HOME: HOME rent limits for METRO48620M48620 on {AS_OF}"]
    err = checks.limits_available(_inputs([nowhere, home], [], []), LIB, AS_OF)
    assert err.severity == "ERROR" and err.failing[0] == f"NOWHERE: MTSP income limits for METRO00000M00000 on {AS_OF}"
    pbv = _prop("PBV", ProgramElection("section8", section8_kind="pbv"))
    out = checks.limits_available(_inputs([pbv], [], []), LIB, AS_OF)
    assert out.failing == [f"PBV: Section 8 income limits for {BOSTON} on {AS_OF}"] and out.severity == "ERROR"
    assert "1 of 1 fail" in out.summary()
