"""THE report catalog: one row per report kind — title, cadence (monthly / annual), what one document covers,
and the builder. The render flow, the Dagster assets and the CLI are generated from it.

Compliance kinds are built from the compliance evaluation dated in the period. The specialised products' kinds
(`product` set) are built from that product's stored evaluation (`specialties` schema): the latest one dated in
the period, or, with `in_period` = (table, column), the latest one holding rows of that table whose column falls
in the period (a CAM reconciliation year, a percentage-rent lease year). An org without such an evaluation gets
no document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import (
    aoc,
    cam_statement,
    form_8609a,
    form_8703,
    form_8823,
    hoa_reports,
    home,
    hud_50059,
    percentage_rent_statement,
    performance,
    portfolio,
    rd_3560_8,
    rent_roll,
    student_prelease,
    tenant_data,
    tic,
)
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
    product: str | None = None
    """A specialised product (student_housing | commercial | hoa | asset_management): built from its stored
    evaluation instead of the compliance evaluation."""
    in_period: tuple[str, str] | None = None
    tables: tuple[str, ...] = ()
    """The product's `specialties` tables the builder reads."""
    udfs: tuple[str, ...] = ()
    """UDF names whose EstateCore values the builder prints beside the stored figures."""
    needs: tuple[str, ...] = ()
    """The product's assets (`[product, name]`) the report is rendered from."""
    estatecore: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """EstateCore tables (and columns) the builder prints beside the stored figures (a tenant's monthly sales)."""

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
    ReportKind("cam_statement", "CAM reconciliation statements", "annual", "commercial tenant",
               cam_statement.build_all,
               "Per commercial tenant and reconciliation year: the landlord's letter with the year's expenses, "
               "gross-up, cap, admin fee, pro-rata share, estimates billed and the true-up invoice or credit.",
               product="commercial", in_period=("cam_reconciliations", "year"), tables=("cam_reconciliations",),
               udfs=(cam_statement.POOL_UDF,), needs=("cam_reconciliation",)),
    ReportKind("percentage_rent", "Percentage rent statements", "annual", "retail tenant (lease year)",
               percentage_rent_statement.build_all,
               "Per retail tenant and lease year ending in the year: gross sales, exclusions, breakpoint, overage "
               "rent, amounts billed and the true-up.",
               product="commercial", in_period=("percentage_rent", "period_end"), tables=("percentage_rent",),
               udfs=percentage_rent_statement.UDFS, needs=("percentage_rent",),
               estatecore=percentage_rent_statement.ESTATECORE),
    ReportKind("hoa_delinquency", "HOA delinquency report", "monthly", "association", hoa_reports.build_delinquency,
               "Per association: every account with a balance by aging bucket, late charges billed against the "
               "rule pack's limit, interest allowed and the collection step reached.",
               product="hoa", tables=("hoa_delinquency",), needs=("delinquency",)),
    ReportKind("hoa_violation_notice", "HOA violation notices", "monthly", "open violation",
               hoa_reports.build_notices,
               "One notice per open violation at its current step (courtesy notice with the cure date, notice of "
               "hearing, decision and fine), addressed to the owner.",
               product="hoa", tables=("hoa_violation_steps",), udfs=hoa_reports.UDFS, needs=("violations",)),
    ReportKind("student_prelease", "Student pre-lease and guarantor report", "monthly", "student property",
               student_prelease.build_all,
               "Per student property: pre-lease pace for the next academic year against the prior year on the same "
               "day, beds, and residents whose guarantor is missing or insufficient.",
               product="student_housing", tables=("student_prelease", "student_guarantors", "student_beds"),
               needs=("prelease", "guarantors", "beds")),
    ReportKind("performance", "Monthly asset-management performance report", "monthly", "org",
               performance.build_all,
               "Portfolio, property-type and property performance for the month with 12-month charts: occupancy, "
               "collections, delinquency aging, NOI where expenses are recorded, lease expirations ahead.",
               product="asset_management", tables=("am_monthly", "am_lease_expirations"),
               needs=("monthly_performance", "lease_expirations")),
)
BY_KIND: dict[str, ReportKind] = {k.kind: k for k in KINDS}


def get(kind: str) -> ReportKind:
    try:
        return BY_KIND[kind]
    except KeyError:
        raise KeyError(f"unknown report kind {kind!r}; known: {', '.join(BY_KIND)}") from None
