from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from rm_pipelines.rentmanager.dates import format_rm_datetime, parse_rm_datetime

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("2017-10-02T11:30:52", 0),
        ("2017-10-02T11:30:52.1", 100000),
        ("2017-10-02T11:30:52.12", 120000),
        ("2017-10-02T11:30:52.123456", 123456),
        ("2017-10-02T11:30:52.1234567", 123456),  # .NET's 7th digit is truncated, not rounded
    ],
)
def test_zero_to_seven_fraction_digits(text, micro):
    parsed = parse_rm_datetime(text, NY)
    assert parsed == datetime(2017, 10, 2, 11, 30, 52, micro, tzinfo=NY)
    assert parsed.utcoffset().total_seconds() == -4 * 3600  # EDT on that day


def test_naive_local_time_becomes_utc_correctly_across_dst():
    winter = parse_rm_datetime("2026-01-15T09:00:00", NY).astimezone(timezone.utc)
    summer = parse_rm_datetime("2026-07-15T09:00:00", NY).astimezone(timezone.utc)
    assert (winter.hour, summer.hour) == (14, 13)


def test_explicit_offsets_are_honoured():
    assert parse_rm_datetime("2026-04-29T15:56:15.0961481-04:00", NY) == datetime(2026, 4, 29, 19, 56, 15, 96148, tzinfo=timezone.utc)
    assert parse_rm_datetime("2026-04-29T15:56:15Z", NY).tzinfo == timezone.utc


def test_midnight_dates_and_blanks():
    assert parse_rm_datetime("2026-02-01", NY) == datetime(2026, 2, 1, tzinfo=NY)
    assert parse_rm_datetime(None, NY) is None and parse_rm_datetime("", NY) is None
    with pytest.raises(ValueError, match="not a Rent Manager timestamp"):
        parse_rm_datetime("02/01/2026 noon", NY)


def test_round_trip_through_filter_format():
    value = parse_rm_datetime("2026-11-20T14:03:22.123456", NY)
    assert format_rm_datetime(value.astimezone(timezone.utc), NY) == "2026-11-20T14:03:22.123456"
    assert format_rm_datetime(date(2026, 1, 2), NY) == "2026-01-02"
