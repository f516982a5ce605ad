"""THE report catalog: one row per report kind — title, cadence (monthly / annual), what one document covers,
and the builder. The render flow, the Dagster assets and the CLI are generated from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import aoc, form_8823, portfolio, rent_roll
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
    media: str = "pdf"  # pdf | xml (an export writes its own files)
    export: Callable | None = None

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
    ReportKind("aoc", "LIHTC Annual Owner Certification package", "annual", "property", aoc.build_all,
               "Per LIHTC property: the 12 federal certification items, exceptions, and the year-end attachments."),
)
BY_KIND: dict[str, ReportKind] = {k.kind: k for k in KINDS}


def get(kind: str) -> ReportKind:
    try:
        return BY_KIND[kind]
    except KeyError:
        raise KeyError(f"unknown report kind {kind!r}; known: {', '.join(BY_KIND)}") from None
