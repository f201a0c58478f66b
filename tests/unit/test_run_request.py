from datetime import date
from zoneinfo import ZoneInfo

import pytest

from fwcost.run_request import BadRequest, request_from_event

LA = ZoneInfo("America/Los_Angeles")


def test_scheduled_time_means_yesterday_in_the_report_timezone():
    request = request_from_event({"scheduled_time": "2026-11-22T08:30:00Z"}, LA)
    assert (request.kind, request.start, request.end) == (
        "report",
        date(2026, 11, 21),
        date(2026, 11, 21),
    )


def test_an_eventbridge_rule_time_works_too():
    assert request_from_event({"time": "2026-11-02T08:00:00Z"}, LA).start == date(2026, 11, 1)


def test_a_date_reruns_that_day_with_flags():
    request = request_from_event({"date": "2026-11-20", "force": True, "dry_run": True}, LA)
    assert (request.start, request.force, request.dry_run) == (date(2026, 11, 20), True, True)


def test_start_and_end_make_an_inclusive_backfill():
    request = request_from_event({"start": "2026-11-01", "end": "2026-11-21"}, LA)
    assert (request.kind, request.start, request.end) == (
        "backfill",
        date(2026, 11, 1),
        date(2026, 11, 21),
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "names no day"),
        ({"start": "2026-11-01"}, 'needs both "start" and "end"'),
        ({"start": "2026-11-05", "end": "2026-11-01"}, "is before its start"),
        ({"date": "yesterday"}, '"date" must be a date like 2026-11-21'),
        ({"scheduled_time": "2026-11-22 07:00"}, "has no UTC offset"),
        ({"scheduled_time": "soon"}, "not an RFC 3339 instant"),
        ({"date": "2026-11-20", "force": "yes"}, '"force" must be true or false'),
        (
            {"start": "2026-11-01", "end": "2026-11-02", "force": True},
            "a backfill delivers nothing",
        ),
    ],
)
def test_bad_events_say_what_is_wrong(event, message):
    with pytest.raises(BadRequest, match=message):
        request_from_event(event, LA)


def test_a_check_event_asks_for_the_check_and_nothing_else():
    from fwcost.run_request import CheckRequest, check_request_from_event

    assert check_request_from_event({"check": True}) == CheckRequest(send_test=False)
    assert check_request_from_event({"check": True, "send_test": True}) == CheckRequest(True)
    assert check_request_from_event({"date": "2026-11-21"}) is None


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"check": "yes"}, '"check" must be true'),
        ({"check": False}, '"check" must be true'),
        ({"check": True, "date": "2026-11-21"}, 'takes only "check" and "send_test"'),
        ({"check": True, "send_test": "yes"}, '"send_test" must be true or false'),
    ],
)
def test_a_malformed_check_event_says_what_is_wrong(event, message):
    from fwcost.run_request import check_request_from_event

    with pytest.raises(BadRequest, match=message):
        check_request_from_event(event)
