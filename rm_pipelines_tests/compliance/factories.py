"""Small builders for synthetic compliance inputs (test-only)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rm_pipelines.compliance.limits import IncomeLimitTable, derive_household_sizes
from rm_pipelines.compliance.model import (
    Certification,
    Household,
    IncomeSource,
    Member,
    RentFacts,
    Unit,
    UnitProgram,
)

BOSTON = "METRO14460MM1120"


def adult(member_id: str, wages: int | str = 0, relationship: str = "H", *, born: date = date(1985, 1, 1),
          student: bool = False, exception: str | None = None, frequency: str = "annual") -> Member:
    incomes = (IncomeSource("wages", Decimal(wages), frequency),) if Decimal(wages) else ()
    return Member(member_id, relationship, born, full_time_student=student, student_exception=exception, incomes=incomes)


def cert(cert_id: str, kind: str, effective: date, *members: Member, signed: date | None = None) -> Certification:
    return Certification(cert_id, kind, effective, members=tuple(members), signed_date=signed)


def household(hh_id: str, unit: Unit, move_in: date, *certs: Certification, move_out: date | None = None,
              assistance: str | None = None) -> Household:
    return Household(hh_id, unit.unit_id, unit.property_id, move_in, move_out, tuple(certs), assistance)


def unit(unit_id: str, property_id: str, building_id: str, bedrooms: int, *layers: UnitProgram,
         sqft: int = 800, ua: int = 0) -> Unit:
    return Unit(unit_id, property_id, building_id, bedrooms, Decimal(sqft), tuple(layers), Decimal(ua), unit_number=unit_id)


def lihtc(pct: int | None = None) -> UnitProgram:
    return UnitProgram("lihtc", income_pct=pct)


def rent(u: Unit, month: date, tenant_rent: int | str, fees: int | str = 0, **kw) -> RentFacts:
    return RentFacts(u.unit_id, month, Decimal(tenant_rent), Decimal(fees), **kw)


def synthetic_table(area: str, fiscal_year: int, four_person: int, effective: date, released: date | None = None,
                    kind: str = "mtsp", **kw) -> IncomeLimitTable:
    """A made-up table whose sizes follow HUD's derivation (test data, not HUD's)."""
    return IncomeLimitTable(area=area, fiscal_year=fiscal_year, vli_50=derive_household_sizes(four_person),
                            kind=kind, effective_date=effective, released_date=released, **kw)
