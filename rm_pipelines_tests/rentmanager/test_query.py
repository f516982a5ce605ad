from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from rm_pipelines.rentmanager.query import OPERATORS, build_params, format_filter

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("TenantID", "eq", 10, "TenantID,eq,10"),
        ("TenantID", "ne", 10, "TenantID,ne,10"),
        ("AccountGroupID", "lt", 10, "AccountGroupID,lt,10"),
        ("AccountGroupID", "le", 10, "AccountGroupID,le,10"),
        ("TenantDisplayID", "gt", 8, "TenantDisplayID,gt,8"),
        ("TenantDisplayID", "ge", 8, "TenantDisplayID,ge,8"),
        ("AssignedOpenDate", "ltn", date(2018, 6, 6), "AssignedOpenDate,ltn,2018-06-06"),
        ("AssignedOpenDate", "len", date(2018, 6, 6), "AssignedOpenDate,len,2018-06-06"),
        ("AssignedOpenDate", "gtn", date(2018, 6, 6), "AssignedOpenDate,gtn,2018-06-06"),
        ("AssignedOpenDate", "gen", date(2018, 6, 6), "AssignedOpenDate,gen,2018-06-06"),
        ("TenantID", "bt", (2, 10), "TenantID,bt,(2,10)"),
        ("TenantID", "in", [4, 5, 6], "TenantID,in,(4,5,6)"),
        ("TenantID", "ni", (4, 5), "TenantID,ni,(4,5)"),
        ("Name", "ct", "John", "Name,ct,John"),
        ("Name", "sw", "J", "Name,sw,J"),
        ("Name", "ew", "son", "Name,ew,son"),
        ("MoveOutDate", "hv", False, "MoveOutDate,hv,false"),
        ("IsCommercial", "eq", True, "IsCommercial,eq,true"),
        ("Amount", "ge", Decimal("12.50"), "Amount,ge,12.50"),
    ],
)
def test_every_operator_renders_as_rent_manager_reads_it(field, op, value, expected):
    assert format_filter(field, op, value, NY) == expected


def test_operator_table_is_complete():
    assert OPERATORS == {"eq", "ne", "lt", "le", "gt", "ge", "ltn", "len", "gtn", "gen", "bt", "in", "ni", "ct", "sw", "ew", "hv"}


@pytest.mark.parametrize("op", ["gte", "lte", "cn", "=="])
def test_misspelled_operators_are_refused_before_any_call(op):
    with pytest.raises(ValueError, match="unknown filter operator"):
        format_filter("UpdateDate", op, 1, NY)


def test_aware_datetimes_are_rendered_in_location_local_time():
    utc = datetime(2026, 7, 1, 16, 30, 0, tzinfo=timezone.utc)
    assert format_filter("UpdateDate", "ge", utc, NY) == "UpdateDate,ge,2026-07-01T12:30:00"
    with_micros = datetime(2026, 1, 1, 5, 0, 0, 250000, tzinfo=timezone.utc)
    assert format_filter("UpdateDate", "ge", with_micros, NY) == "UpdateDate,ge,2026-01-01T00:00:00.250000"


def test_values_that_rql_cannot_express_are_refused():
    with pytest.raises(ValueError, match="cannot express"):
        format_filter("Name", "eq", "Smith, John", NY)
    with pytest.raises(ValueError, match="pair"):
        format_filter("TenantID", "bt", (1, 2, 3), NY)
    with pytest.raises(ValueError, match="at least one"):
        format_filter("TenantID", "in", [], NY)


def test_build_params_joins_terms_and_bounds_page_size():
    params = build_params(
        tz=NY,
        filters=[("UpdateDate", "ge", date(2026, 1, 1)), ("PropertyID", "in", [1, 2])],
        fields=["TenantID", "Name"],
        embeds=["Contacts", "Leases.Unit"],
        ordering=["LastFirst"],
        page_size=1000,
        page_number=3,
    )
    assert params == {
        "filters": "UpdateDate,ge,2026-01-01;PropertyID,in,(1,2)",
        "fields": "TenantID,Name",
        "embeds": "Contacts,Leases.Unit",
        "orderingOptions": "LastFirst",
        "pageSize": "1000",
        "pageNumber": "3",
    }
    with pytest.raises(ValueError, match="page_size"):
        build_params(tz=NY, page_size=1001)
