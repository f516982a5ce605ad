"""Affordable-housing compliance rules as pure code (no Dagster, no database).

Every rule cites the section of ``compliance-rules.md`` it implements and states its rounding. Modules:

| module               | what                                                                            |
|----------------------|---------------------------------------------------------------------------------|
| ``limits``           | HUD income-limit/FMR/HOME tables, household-size derivation, 45-day rule, hold harmless, HERA, rural floor, gross-rent floor; ``LimitsLibrary`` |
| ``hud_files``        | readers for HUD's CSV/XLSX layouts (MTSP, income averaging, Section 8, FMR, SAFMR, HOME rents, non-metro) |
| ``limits_store``     | versioned JSON store under ``<data dir>/reference/limits`` and the bundled §15 samples |
| ``rulesets``         | pre-HOTMA / HOTMA amounts by date and agency adoption date                       |
| ``income``           | annualisation, member/household annual income, asset income                      |
| ``lihtc``            | set-asides, rent limits, 140 %/170 %, next available unit rule, applicable fraction |
| ``income_averaging`` | average income test and qualified group                                           |
| ``section8``         | adjusted income, TTP, HAP, 40 % cap, payment standards                           |
| ``home``             | High/Low HOME rents, Low HOME 20 %                                               |
| ``usda515``          | RD Section 515 tenant contribution and overage                                   |
| ``bond``             | §142(d) test and Form 8703 figures                                               |
| ``students``         | LIHTC and Section 8 student rules                                                |
| ``certifications``   | recertification due dates, buckets, 100 % exemption                              |
| ``violations``       | Form 8823 categories, finding catalogue, finding lifecycle                       |
| ``model``            | the plain frozen inputs                                                          |
| ``portfolio``        | ``evaluate_portfolio`` → certifications, unit/program/overall status, findings   |
| ``answer``           | the answer line, status labels (compliant / not compliant / undetermined), data issues grouped |
| ``checks``           | completeness checks: designations, certified units, HUD limits available and usable |
| ``cli``              | ``rm-pipelines limits import|list``                                              |

Usage::

    from rm_pipelines.compliance import limits, lihtc, income_averaging, section8, home, usda515, income
"""

from . import (  # noqa: F401  (public submodules)
    bond,
    certifications,
    home,
    income,
    income_averaging,
    lihtc,
    limits,
    rulesets,
    section8,
    students,
    usda515,
    violations,
)

__all__ = [
    "bond",
    "certifications",
    "home",
    "income",
    "income_averaging",
    "lihtc",
    "limits",
    "rulesets",
    "section8",
    "students",
    "usda515",
    "violations",
]
