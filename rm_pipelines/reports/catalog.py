"""THE report catalog: one row per report kind — title, cadence (monthly / annual), what one document covers,
and the builder. The render flow, the Dagster assets and the CLI are generated from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import aoc, form_8609a, form_8703, form_8823, home, hud_50059, portfolio, rd_3560_8, rent_roll, tenant_data, tic
from .document import Report
from .period import Period
from .sources import Sources

Builder = Callable[[Sources, Period, "str | None"], list[Report]]


@dataclass(frozen=True)
class ReportKind:
    kind: str
    title: str
    cadence: str  # monthly | annual
    per: str  # what one document covers
    build: Builder
    description: str
    media: str = "pdf"  # pdf | data (files from `serialize`)
    serialize: Callable | None = None
    """For data exports: document → {extension: (media type, bytes)}."""

    @property
    def asset_key(self) -> list[str]:
        return ["reports", self.kind]


KINDS: tuple[ReportKind, ...] = (
    ReportKind("rent_roll", "Monthly unit status / rent roll", "monthly", "property", rent_roll.build_all,
               "Per property: every unit's programs, household, income vs limit, rent vs maximum, with charts "
               "(occupancy by program, households by % AMI, rent headroom)."),
    ReportKind("form_8823", "Form 8823-style noncompliance report", "monthly", "building (BIN)", form_8823.build_all,
               "Per building with LIHTC findings in the month: header lines 1-10, the line 11 grid, one row per finding."),
    ReportKind("portfolio", "Portfolio compliance summary", "monthly", "org", portfolio.build_all,
               "The org's answer per program, open findings by Form 8823 line and age, and the trend of open findings."),
    ReportKind("tic", "Tenant Income Certifications", "monthly", "property (batch)", tic.build_all,
               "Per property: a Tenant Income Certification (Parts I-VIII) for every certification effective in the month."),
    ReportKind("hud_50059", "HUD-50059-style rent calculations", "monthly", "property (batch)", hud_50059.build_all,
               "Per property: the rent calculation of every Section 8 household (TTP, tenant rent, assistance payment)."),
    ReportKind("aoc", "LIHTC Annual Owner Certification package", "annual", "property", aoc.build_all,
               "Per LIHTC property: the 12 federal certification items, exceptions, and the year-end attachments."),
    ReportKind("form_8609a", "Form 8609-A worksheet", "annual", "building (BIN)", form_8609a.build_all,
               "Per BIN: Part I answers and Part II lines 1-3, 5-6 (low-income portion from the stored applicable fraction)."),
    ReportKind("form_8703", "Form 8703 worksheet", "annual", "bond project", form_8703.build_all,
               "Per bond project: test elected, Part II lines 5-9 and whether the test was met."),
    ReportKind("home", "HOME rent and occupancy report", "annual", "HOME project", home.build_all,
               "Per HOME project: every HOME unit's designation, household, income, rent + UA and subsidy; Low HOME test."),
    ReportKind("rd_3560_8", "RD 3560-8-style certification summary", "annual", "USDA 515 project", rd_3560_8.build_all,
               "Per Section 515 project: one line per household (income, contribution, overage)."),
    ReportKind("tenant_data", "HUD LIHTC tenant data export (XML + CSV)", "annual", "org", tenant_data.build,
               "Every household in an occupied LIHTC unit with its members (HERA items), XML validated against "
               "tenant_data.xsd, and the same rows as CSV.", media="data", serialize=tenant_data.serialize),
)
BY_KIND: dict[str, ReportKind] = {k.kind: k for k in KINDS}


def get(kind: str) -> ReportKind:
    try:
        return BY_KIND[kind]
    except KeyError:
        raise KeyError(f"unknown report kind {kind!r}; known: {', '.join(BY_KIND)}") from None
