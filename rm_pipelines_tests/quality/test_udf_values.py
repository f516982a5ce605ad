"""The gate of UDF values that feed typed attributes: convertible, plausible, masked where sensitive."""

from __future__ import annotations

from rm_pipelines.quality.models import known_fields
from rm_pipelines.quality.udf_values import udf_value_problems
from rm_pipelines.warehouse import tables as T
from rm_pipelines.warehouse.mapping import udf_rules_by_parent


def _problems(parent_type: str, pairs: list[tuple[str, object]]) -> dict[int, str]:
    rules = udf_rules_by_parent(None, known_fields)[parent_type]
    columns = {c.name: c for c in T.get(T.UDF_PARENT_TABLE[parent_type]).columns}
    return udf_value_problems(rules, columns, [n for n, _ in pairs], [v for _, v in pairs])


def test_values_that_convert_and_are_plausible_pass():
    assert _problems("Tenant", [("Certified Annual Income", "$41,250.00"), ("Certified Household Size", "3"),
                                ("Certification Effective Date", "2026-05-08"), ("Certified Annual Income", ""),
                                ("Certified Annual Income", None), ("Roommate Preferences", "x" * 500),
                                ("Not A Mapped UDF", "anything")]) == {}
    assert _problems("Unit", [("AMI Designation", "60"), ("Utility Allowance", "0"), ("BIN", "ma-26-00101")]) == {}


def test_unreadable_and_implausible_values_are_named_and_sensitive_ones_masked():
    found = _problems("Tenant", [("Certified Annual Income", "lots"), ("Certified Annual Income", "-99999"),
                                 ("Certified Annual Income", "12000000"), ("Certification Effective Date", "31/31/2026"),
                                 ("Next Recertification Due", "1850-01-01"), ("Certified Household Size", "0"),
                                 ("Certified Household Size", "2.5")])
    assert found == {
        0: "UDF 'Certified Annual Income' → certified_annual_income: not a money amount (got ****)",
        1: "UDF 'Certified Annual Income' → certified_annual_income: implausible, below 0 (got ****)",
        2: "UDF 'Certified Annual Income' → certified_annual_income: implausible, above 10,000,000 (got ****)",
        3: "UDF 'Certification Effective Date' → certification_effective_date: not a date (got '31/31/2026')",
        4: "UDF 'Next Recertification Due' → next_recertification_due: implausible, below 1900-01-01 "
           "(got '1850-01-01')",
        5: "UDF 'Certified Household Size' → certified_household_size: implausible, below 1 (got '0')",
        6: "UDF 'Certified Household Size' → certified_household_size: not a whole number (got '2.5')",
    }
    assert _problems("Unit", [("BIN", "X" * 40), ("Utility Allowance", "-5"), ("AMI Designation", "600")]) == {
        0: f"UDF 'BIN' → bin: implausible, longer than 32 characters (got '{'X' * 40}')",
        1: "UDF 'Utility Allowance' → utility_allowance: implausible, below 0 (got '-5')",
        2: "UDF 'AMI Designation' → ami_designation: implausible, above 150 (got '600')",
    }
