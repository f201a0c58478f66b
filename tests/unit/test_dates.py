import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fwcost.dates import (
    day_bounds,
    days_between,
    is_complete,
    last_complete_day,
    parse_date,
    reportable_from,
    rfc3339,
    windows,
    yesterday,
)

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
AUCKLAND = ZoneInfo("Pacific/Auckland")
KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("now_utc", "tz", "expected"),
    [
        # 07:00 UTC is midnight in LA in winter: just after local midnight -> yesterday is the 21st
        ("2026-11-22T08:00:00", LA, "2026-11-21"),
        # 06:59 UTC on the 22nd is still the 21st in LA (22:59 PST), so yesterday is the 20th
        ("2026-11-22T06:59:00", LA, "2026-11-20"),
        # Tokyo is ahead: 15:00 UTC on the 21st is already the 22nd there
        ("2026-11-21T15:00:00", TOKYO, "2026-11-21"),
        ("2026-11-21T14:59:59", TOKYO, "2026-11-20"),
        # half-hour offset
        ("2026-11-21T18:30:00", KOLKATA, "2026-11-21"),
        ("2026-11-21T18:29:00", KOLKATA, "2026-11-20"),
        # month end and year end
        ("2026-12-01T09:00:00", LA, "2026-11-30"),
        ("2027-01-01T08:00:00", LA, "2026-12-31"),
        ("2026-12-31T11:00:00", AUCKLAND, "2026-12-31"),  # already Jan 1 in Auckland
        # leap day
        ("2028-03-01T12:00:00", BERLIN, "2028-02-29"),
        # the morning after a DST change (LA falls back on 2026-11-01, springs forward 2026-03-08)
        ("2026-11-02T08:00:00", LA, "2026-11-01"),
        ("2026-03-09T07:30:00", LA, "2026-03-08"),
    ],
)
def test_yesterday_is_the_previous_local_calendar_day(now_utc, tz, expected):
    now = datetime.fromisoformat(now_utc).replace(tzinfo=UTC)
    assert yesterday(now, tz) == date.fromisoformat(expected)


def test_yesterday_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="timezone"):
        yesterday(datetime(2026, 11, 22, 8), LA)


@pytest.mark.parametrize(
    ("day", "tz", "hours", "start", "end"),
    [
        ("2026-11-01", LA, 25, "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z"),
        ("2026-03-08", LA, 23, "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z"),
        ("2026-10-25", BERLIN, 25, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
        ("2026-03-29", BERLIN, 23, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
        ("2026-11-21", TOKYO, 24, "2026-11-20T15:00:00Z", "2026-11-21T15:00:00Z"),
        ("2026-11-21", ZoneInfo("UTC"), 24, "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"),
    ],
)
def test_day_bounds_cover_23_24_and_25_hour_days(day, tz, hours, start, end):
    bounds = day_bounds(date.fromisoformat(day), tz)
    assert bounds.hours == hours
    assert (rfc3339(bounds.start), rfc3339(bounds.end)) == (start, end)


def test_day_bounds_when_midnight_itself_is_skipped():
    # Santiago springs forward at 00:00 -> 01:00 on 2026-09-06: the day starts at 01:00 local.
    bounds = day_bounds(date(2026, 9, 6), ZoneInfo("America/Santiago"))
    assert rfc3339(bounds.start) == "2026-09-06T04:00:00Z"
    assert bounds.hours == 23


def test_windows_cut_a_year_into_at_most_31_day_pieces():
    cuts = windows(date(2025, 11, 22), date(2026, 11, 21))
    assert len(cuts) == 12  # 365 days / 31
    assert cuts[0][0] == date(2025, 11, 22) and cuts[-1][1] == date(2026, 11, 21)
    assert all((end - start).days + 1 <= 31 for start, end in cuts)
    # contiguous, no gap, no overlap
    for (_, end), (next_start, _) in itertools.pairwise(cuts):
        assert next_start == end + timedelta(days=1)


@pytest.mark.parametrize(("days", "count"), [(1, 1), (31, 1), (32, 2), (62, 2), (63, 3)])
def test_window_counts(days, count):
    start = date(2026, 1, 1)
    assert len(windows(start, start + timedelta(days=days - 1))) == count


def test_windows_reject_a_reversed_range():
    with pytest.raises(ValueError, match="before start"):
        windows(date(2026, 2, 1), date(2026, 1, 1))


def test_days_between_is_inclusive():
    assert list(days_between(date(2026, 12, 30), date(2027, 1, 2))) == [
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 1, 2),
    ]


def test_parse_date_names_what_was_wrong():
    with pytest.raises(
        ValueError, match=r"--date must be a date like 2026-11-21, got '21/11/2026'"
    ):
        parse_date("21/11/2026", "--date")


def test_a_window_holding_the_autumn_dst_change_is_a_day_shorter():
    # 2026-10-21 .. 2026-11-20 in LA is 31 local days but 745 hours (clocks go back on Nov 1)
    cuts = windows(date(2026, 10, 21), date(2026, 11, 20), LA)
    assert cuts == [
        (date(2026, 10, 21), date(2026, 11, 19)),
        (date(2026, 11, 20), date(2026, 11, 20)),
    ]
    # In spring the 31-day window is 743 hours and fits
    assert windows(date(2026, 3, 1), date(2026, 3, 31), LA) == [
        (date(2026, 3, 1), date(2026, 3, 31))
    ]


def test_a_year_in_a_dst_zone_still_takes_12_windows():
    cuts = windows(date(2025, 11, 22), date(2026, 11, 21), LA)
    assert len(cuts) == 12
    assert all(_hours(a, b) <= 31 * 24 for a, b in cuts)


def _hours(first, last):
    return (day_bounds(last, LA).end - day_bounds(first, LA).start).total_seconds() / 3600


SETTLE = timedelta(hours=1)


@pytest.mark.parametrize(
    ("day", "tz", "ready_utc"),
    [
        ("2026-11-21", LA, "2026-11-22T09:00:00"),  # PST midnight is 08:00 UTC, plus an hour
        ("2026-03-08", LA, "2026-03-09T08:00:00"),  # 23-hour day: PDT midnight is 07:00 UTC
        ("2026-11-01", LA, "2026-11-02T09:00:00"),  # 25-hour day
        ("2026-10-25", BERLIN, "2026-10-26T00:00:00"),  # 25-hour day: CET midnight is 23:00 UTC
        ("2026-11-21", TOKYO, "2026-11-21T16:00:00"),
    ],
)
def test_a_day_is_reportable_one_margin_after_its_local_end(day, tz, ready_utc):
    expected = datetime.fromisoformat(ready_utc).replace(tzinfo=UTC)
    assert reportable_from(date.fromisoformat(day), tz, SETTLE) == expected


@pytest.mark.parametrize(
    ("now_utc", "settle_hours", "expected"),
    [
        ("2026-11-22T15:00:00", 1, "2026-11-21"),  # 07:00 PST: yesterday
        ("2026-11-22T08:30:00", 1, "2026-11-20"),  # 00:30 PST: yesterday still settling
        ("2026-11-22T08:30:00", 0, "2026-11-21"),  # no margin: yesterday has ended
        # a margin over a day reaches further back (the day before was 24 hours, then 23)
        ("2026-03-09T08:30:00", 24, "2026-03-07"),
    ],
)
def test_the_last_complete_day(now_utc, settle_hours, expected):
    now = datetime.fromisoformat(now_utc).replace(tzinfo=UTC)
    found = last_complete_day(now, LA, timedelta(hours=settle_hours))
    assert found == date.fromisoformat(expected)
    assert is_complete(found, now, LA, timedelta(hours=settle_hours))
    assert not is_complete(found + timedelta(days=1), now, LA, timedelta(hours=settle_hours))
