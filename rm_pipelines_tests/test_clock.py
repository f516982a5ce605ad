"""The product's clock: shifted days move Dagster's report periods with it."""

from __future__ import annotations

from datetime import UTC, datetime

from rm_pipelines import clock


def _months_between(a, b) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def test_periods_ahead_counts_calendar_months_and_years(monkeypatch):
    real = datetime.now(UTC).date()
    monkeypatch.setenv(clock.OFFSET_ENV, "0")
    assert clock.periods_ahead() == (0, 0)
    monkeypatch.setenv(clock.OFFSET_ENV, "400")
    shifted = clock.today()
    assert clock.periods_ahead() == (_months_between(real, shifted), shifted.year - real.year)
    assert clock.periods_ahead()[0] >= 13


def test_the_report_partitions_hold_the_month_and_year_of_the_products_today():
    """Under `pytest --clock-offset-days N` the demo renders the reports of the shifted month: its partition exists."""
    from rm_pipelines.defs.reports import month_partitions, year_partitions

    today = clock.today()
    assert f"{today:%Y-%m}-01" in month_partitions.get_partition_keys()
    assert str(today.year) in year_partitions.get_partition_keys()
