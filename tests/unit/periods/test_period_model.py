"""Periods: ISO weeks and calendar months in the report timezone, and how they are named."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fwcost.dates import day_runs
from fwcost.periods.model import Cadence, Period, parse_cadence


def test_an_iso_week_runs_monday_to_sunday_and_is_named_by_its_iso_number() -> None:
    week = Period.iso_week(date(2026, 11, 25))  # a Wednesday
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.key == "2026-W48" and week.segment == "week=2026-W48"
    assert week.title == "Week 48, 23–29 Nov 2026"
    assert len(week.days) == 7


def test_the_week_before_a_day_is_the_last_week_that_ended_before_it() -> None:
    monday = date(2026, 11, 30)
    assert Period.week_before(monday) == Period.iso_week(date(2026, 11, 29))
    assert Period.week_before(date(2026, 12, 6)) == Period.iso_week(date(2026, 11, 29))  # Sunday


def test_iso_week_numbers_cross_the_year_as_iso_says() -> None:
    week = Period.iso_week(date(2027, 1, 1))
    assert week.key == "2026-W53" and week.title == "Week 53, 28 Dec 2026 – 3 Jan 2027"


def test_a_month_and_its_previous_and_earlier_months() -> None:
    march = Period.parse_month("2026-03")
    assert (march.start, march.end, march.key) == (date(2026, 3, 1), date(2026, 3, 31), "2026-03")
    assert march.previous == Period.month(2026, 2)
    assert [p.key for p in march.earlier(3)] == ["2025-12", "2026-01", "2026-02"]
    assert Period.month_before(date(2026, 1, 3)).key == "2025-12"


@pytest.mark.parametrize("text", ["2026-13", "2026", "October", "2026-10-01"])
def test_a_month_that_is_not_one_is_refused_saying_the_shape(text: str) -> None:
    with pytest.raises(ValueError, match="month must look like 2026-10"):
        Period.parse_month(text)


def test_a_period_is_complete_once_its_last_day_is() -> None:
    tz = ZoneInfo("America/Los_Angeles")
    month = Period.month(2026, 10)
    nov_1_local_0030 = datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    assert not month.is_complete(nov_1_local_0030, tz, timedelta(hours=1))
    assert month.is_complete(nov_1_local_0030 + timedelta(hours=1), tz, timedelta(hours=1))


def test_an_unknown_cadence_names_its_close_match() -> None:
    assert parse_cadence("weekly", "x") is Cadence.WEEKLY
    with pytest.raises(ValueError, match="unknown cadence 'weekley'; did you mean 'weekly'"):
        parse_cadence("weekley", "x")


def test_missing_days_are_cut_into_runs_one_backfill_each() -> None:
    days = [date(2026, 10, 3), date(2026, 10, 4), date(2026, 10, 9)]
    assert day_runs(days) == [
        (date(2026, 10, 3), date(2026, 10, 4)),
        (date(2026, 10, 9), date(2026, 10, 9)),
    ]
