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
        ({"start": "2026-11-01"}, 'a backfill event needs "start" and "end"; "end" is missing'),
        ({"start": "2026-11-05", "end": "2026-11-01"}, "is before its start"),
        ({"date": "yesterday"}, '"date" must be a date like 2026-11-21'),
        ({"scheduled_time": "2026-11-22 07:00"}, "has no UTC offset"),
        ({"scheduled_time": "soon"}, "not an RFC 3339 instant"),
        ({"date": "2026-11-20", "force": "yes"}, '"force" must be true or false'),
        (
            {"start": "2026-11-01", "end": "2026-11-02", "force": True},
            '"force" does not belong in a backfill event',
        ),
        # Unknown keys are errors, never ignored: a misspelt dry run must not deliver for real
        ({"date": "2026-11-20", "dryRun": True}, '"dryRun": unknown key; did you mean "dry_run"?'),
        ({"date": "2026-11-20", "Force": True}, '"Force": unknown key; did you mean "force"?'),
        ({"Date": "2026-11-20"}, 'names no day.*; "Date": unknown key; did you mean "date"?'),
        ({"date": "2026-11-20", "zzz": 1}, '"zzz": unknown key; known: account, attempt_number'),
        # A known key in the wrong kind of event is named too
        ({"date": "2026-11-20", "schedule_arn": "arn"}, '"schedule_arn" does not belong in a'),
        ({"time": "2026-11-02T08:00:00Z", "dry_run": True}, "EventBridge rule event"),
    ],
)
def test_bad_events_say_what_is_wrong(event, message):
    with pytest.raises(BadRequest, match=message):
        request_from_event(event, LA)


def test_the_schedulers_event_is_accepted_whole(load_event):
    request = request_from_event(load_event("scheduled.json"), LA)
    assert (request.kind, request.start) == ("report", date(2026, 11, 21))


def test_an_eventbridge_rule_envelope_is_accepted_whole():
    envelope = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-22T15:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/fwcost-daily"],
        "detail": {},
    }
    assert request_from_event(envelope, LA).start == date(2026, 11, 21)


@pytest.mark.parametrize("name", ["rerun-day.json", "force-resend.json", "backfill.json"])
def test_every_sample_event_is_accepted(load_event, name):
    assert request_from_event(load_event(name), LA).start
