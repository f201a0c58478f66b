"""History read as cents (HistoryDay): what a report reads of an archived day is what the day's
full reading holds, and a report on archived days is the report on the same days fresh."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from report_helpers import rows_day, version_1

from fwcost.report.attribution import AttributedDay, HistoryDay
from fwcost.report.render import render_email_text
from fwcost.report.summary import Dimension, summarize, team_summaries
from report_fixtures import demo_context, read_back

WEDNESDAY = date(2026, 11, 18)
Rows = list[tuple[str, str, str, str, str]]


def usual_day(day: date) -> Rows:
    """Team a's app and batch keys; a key team b shares with a; the batch key renamed a week ago."""
    if day.weekday() >= 5:
        return [("a", "key_app", "app", "gpt-oss-120b", "40")]
    batch = "batch-v2" if day > WEDNESDAY - timedelta(days=7) else "batch"
    return [
        ("a", "key_app", "app", "gpt-oss-120b", "70"),
        ("a", "key_batch", batch, "kimi-k2p6", "30"),
        ("a", "key_shared", "shared", "gpt-oss-120b", "5"),
        ("b", "key_shared", "shared", "kimi-k2p6", "7"),
        ("b", "key_b", "b-api", "gpt-oss-120b", "12"),
    ]


def a_busy_wednesday() -> tuple[AttributedDay, dict[date, AttributedDay]]:
    """Four weeks of usual days, then a Wednesday when team a's app key jumps, its batch key is
    quiet and team b has a new key."""
    days = {
        day: rows_day(day, usual_day(day))
        for day in (WEDNESDAY - timedelta(days=back) for back in range(1, 31))
    }
    today = rows_day(
        WEDNESDAY,
        [
            ("a", "key_app", "app", "gpt-oss-120b", "700"),
            ("a", "key_shared", "shared", "gpt-oss-120b", "5"),
            ("b", "key_shared", "shared", "kimi-k2p6", "7"),
            ("b", "key_b", "b-api", "gpt-oss-120b", "12"),
            ("b", "key_new", "b-new", "gpt-oss-120b", "3"),
        ],
    )
    return today, days


def test_a_report_on_archived_days_is_the_report_on_the_same_days_fresh():
    # Given a Wednesday with a jump, a new key, a key gone quiet and budgets
    today, days = a_busy_wednesday()
    context = demo_context(
        WEDNESDAY,
        team_budgets={"a": Decimal(3000), "b": Decimal(100)},
        account_budget=Decimal(4000),
        restatements=(),
    )

    # When it is reported on the days as fetched, and as read back from attribution.json
    fresh = summarize(today, {day: HistoryDay.of(value) for day, value in days.items()}, context)
    archived = summarize(today, read_back(days), context)

    # Then the reports are the same, overall and each team's
    assert archived == fresh
    assert render_email_text(archived) == render_email_text(fresh)
    assert team_summaries(archived) == team_summaries(fresh)
    # and they hold each thing history is read for
    (jump,) = archived.anomalies
    assert (jump.dimension, jump.name, jump.driver_key) == (Dimension.TEAM, "a", "app")
    assert [(a.name, a.new, a.team) for a in archived.arrivals] == [
        ("b-new", True, "b"),
        ("batch", False, "a"),  # renamed batch-v2 last week: named as first seen in history
    ]
    assert [(b.scope, b.spent) for b in archived.budgets] == [
        ("", archived.month.cents),
        ("a", 12 * 10500 + 5 * 4000 + 70500),  # 1-17 Nov: 12 weekdays, 5 weekend days
        ("b", 12 * 1900 + 2200),
    ]
    assert archived.trend[-2] == (
        WEDNESDAY - timedelta(days=1),
        days[WEDNESDAY - timedelta(days=1)].total_cents,
    )


@pytest.mark.parametrize("before_cents", [False, True])
def test_an_archived_day_reads_as_its_full_reading_has_it(before_cents):
    # Given a day of two teams sharing a key, archived now or before cents (version 1)
    day = rows_day(WEDNESDAY, usual_day(WEDNESDAY))
    document = day.to_json()
    if before_cents:
        document = version_1(document)

    # When it is read for a report's history
    history = HistoryDay.from_json(document)

    # Then it holds the cents, names and teams the day's full reading does
    assert history == HistoryDay.of(AttributedDay.from_json(document))
    assert history.teams["b"].keys == {"key_shared": 700, "key_b": 1200}
    assert history.teams["a"].key_names["key_batch"] == "batch-v2"
    assert history.for_team("b") == HistoryDay(WEDNESDAY, 1900, {"b": history.teams["b"]})
    assert history.for_team("nobody") == HistoryDay(WEDNESDAY, 0, {})


def test_an_unknown_version_is_refused_by_name():
    document = rows_day(WEDNESDAY, usual_day(WEDNESDAY)).to_json() | {"version": 9}
    with pytest.raises(ValueError, match=r"attribution.json version 9 is not one of \(1, 2\)"):
        HistoryDay.from_json(document)
