import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fwcost.run_request import (
    BadRequest,
    backfill_request,
    only_complete_days,
    report_request,
    request_from_event,
)

LA = ZoneInfo("America/Los_Angeles")
SETTLE = timedelta(hours=1)
# A week after the days these tests name: every one of them is complete.
LATER = datetime(2026, 11, 29, 12, tzinfo=UTC)


def from_event(event, now=LATER, tz=LA):
    return request_from_event(event, tz, now=now, settle=SETTLE)


def test_scheduled_time_means_yesterday_in_the_report_timezone():
    request = from_event({"scheduled_time": "2026-11-22T08:30:00Z"})
    assert (request.kind, request.start, request.end) == (
        "report",
        date(2026, 11, 21),
        date(2026, 11, 21),
    )


def test_an_eventbridge_rule_time_works_too():
    assert from_event({"time": "2026-11-02T08:00:00Z"}).start == date(2026, 11, 1)


def test_a_date_reruns_that_day_with_flags():
    request = from_event({"date": "2026-11-20", "force": True, "dry_run": True})
    assert (request.start, request.force, request.dry_run) == (date(2026, 11, 20), True, True)


def test_start_and_end_make_an_inclusive_backfill():
    request = from_event({"start": "2026-11-01", "end": "2026-11-21"})
    assert (request.kind, request.start, request.end, request.note) == (
        "backfill",
        date(2026, 11, 1),
        date(2026, 11, 21),
        "",
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
        (
            {"date": "2026-11-20", "zzz": 1},
            '"zzz": unknown key; known: account, accounts, attempt_number',
        ),
        # A known key in the wrong kind of event is named too
        ({"date": "2026-11-20", "schedule_arn": "arn"}, '"schedule_arn" does not belong in a'),
        ({"time": "2026-11-02T08:00:00Z", "dry_run": True}, "EventBridge rule event"),
    ],
)
def test_bad_events_say_what_is_wrong(event, message):
    with pytest.raises(BadRequest, match=message):
        from_event(event)


# ---- only complete days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheduled_utc", "report_day"),
    [
        ("2026-11-22T15:00:00Z", date(2026, 11, 21)),  # 07:00 PST
        ("2026-07-15T14:00:00Z", date(2026, 7, 14)),  # 07:00 PDT
        # the morning after clocks sprang forward (00:00 to 07:00 lasted 6 hours)
        ("2026-03-09T14:00:00Z", date(2026, 3, 8)),
        # the morning after clocks fell back (the report day lasted 25 hours)
        ("2026-11-02T15:00:00Z", date(2026, 11, 1)),
    ],
)
def test_the_scheduled_run_at_seven_local_reports_yesterday_with_the_default_margin(
    scheduled_utc, report_day
):
    # The run starts within seconds of its scheduled time
    now = datetime.fromisoformat(scheduled_utc.replace("Z", "+00:00")) + timedelta(seconds=3)
    request = from_event({"scheduled_time": scheduled_utc}, now=now)
    assert (request.kind, request.start) == ("report", report_day)


def test_today_is_refused_naming_the_day_the_timezone_and_when_it_may_run():
    # 10:00 PST on 30 Nov: the 30th is in progress, the 29th is the last complete day
    now = datetime(2026, 11, 30, 18, tzinfo=UTC)
    with pytest.raises(BadRequest) as caught:
        from_event({"date": "2026-11-30"}, now=now)
    assert str(caught.value) == (
        "report day 2026-11-30 is not complete yet in America/Los_Angeles: it may be reported "
        "from 2026-12-01 01:00 PST (its end plus FWCOST_SETTLE_HOURS=1); "
        "the last complete day is 2026-11-29"
    )


def test_a_future_day_and_a_scheduled_time_ahead_of_the_clock_are_refused():
    now = datetime(2026, 11, 30, 18, tzinfo=UTC)
    with pytest.raises(BadRequest, match="report day 2026-12-25 is not complete yet"):
        from_event({"date": "2026-12-25"}, now=now)
    with pytest.raises(BadRequest, match="report day 2026-12-01 is not complete yet"):
        from_event({"scheduled_time": "2026-12-02T15:00:00Z"}, now=now)


@pytest.mark.parametrize(
    ("now_utc", "complete"),
    [
        ("2026-11-22T08:59:59Z", False),  # 00:59:59 PST: ended, still settling
        ("2026-11-22T09:00:00Z", True),  # 01:00 PST: end plus one hour
    ],
)
def test_a_day_becomes_reportable_one_settle_margin_after_it_ends(now_utc, complete):
    now = datetime.fromisoformat(now_utc.replace("Z", "+00:00"))
    request = report_request(date(2026, 11, 21))
    if complete:
        assert only_complete_days(request, now=now, tz=LA, settle=SETTLE) == request
    else:
        with pytest.raises(BadRequest, match="from 2026-11-22 01:00 PST"):
            only_complete_days(request, now=now, tz=LA, settle=SETTLE)


@pytest.mark.parametrize(
    ("day", "ready_utc", "ready"),
    [
        # spring forward: a 23-hour day ends at 07:00 UTC, ready at 01:00 PDT
        (date(2026, 3, 8), "2026-03-09T08:00:00Z", "2026-03-09 01:00 PDT"),
        # fall back: a 25-hour day ends at 08:00 UTC, ready at 01:00 PST
        (date(2026, 11, 1), "2026-11-02T09:00:00Z", "2026-11-02 01:00 PST"),
    ],
)
def test_dst_days_are_ready_one_margin_after_their_own_local_midnight(day, ready_utc, ready):
    on_time = datetime.fromisoformat(ready_utc.replace("Z", "+00:00"))
    just_before = on_time - timedelta(seconds=1)
    with pytest.raises(BadRequest, match=f"from {ready} "):
        only_complete_days(report_request(day), now=just_before, tz=LA, settle=SETTLE)
    assert only_complete_days(report_request(day), now=on_time, tz=LA, settle=SETTLE).start == day


def test_a_backfill_ending_in_the_future_stops_at_the_last_complete_day_and_says_so():
    now = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # 00:30 PST: the 29th is still settling
    request = only_complete_days(
        backfill_request(date(2026, 11, 1), date(2026, 12, 31)), now=now, tz=LA, settle=SETTLE
    )
    assert (request.start, request.end) == (date(2026, 11, 1), date(2026, 11, 28))
    assert request.note == (
        "backfill end 2026-12-31 is not complete yet in America/Los_Angeles: it may be reported "
        "from 2027-01-01 01:00 PST (its end plus FWCOST_SETTLE_HOURS=1); the last complete day "
        "is 2026-11-28; backfilling 2026-11-01 to 2026-11-28 instead"
    )


def test_a_backfill_event_is_cut_the_same_way():
    now = datetime(2026, 11, 30, 18, tzinfo=UTC)
    request = from_event({"start": "2026-11-20", "end": "2026-11-30"}, now=now)
    assert (request.start, request.end) == (date(2026, 11, 20), date(2026, 11, 29))
    assert "backfilling 2026-11-20 to 2026-11-29 instead" in request.note


def test_a_backfill_with_no_complete_day_at_all_is_refused():
    now = datetime(2026, 11, 30, 18, tzinfo=UTC)
    with pytest.raises(BadRequest, match="backfill start 2026-11-30 is not complete yet"):
        from_event({"start": "2026-11-30", "end": "2026-12-05"}, now=now)


def test_the_schedulers_event_is_accepted_whole(load_event):
    request = from_event(load_event("scheduled.json"))
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
    assert from_event(envelope).start == date(2026, 11, 21)


@pytest.mark.parametrize("name", ["rerun-day.json", "force-resend.json", "backfill.json"])
def test_every_sample_event_is_accepted(load_event, name):
    assert from_event(load_event(name)).start


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


# ---- a week's digest and a month's statement ------------------------------------------------


def test_the_monday_schedule_means_the_iso_week_just_ended_in_the_report_timezone():
    # 07:30 on Monday 30 Nov in Los Angeles
    request = from_event(
        {"report": "weekly", "scheduled_time": "2026-11-30T15:30:00Z"},
        now=LATER + timedelta(days=2),
    )
    assert (request.kind, request.start, request.end) == (
        "weekly",
        date(2026, 11, 23),
        date(2026, 11, 29),
    )


def test_the_monthly_schedule_means_last_month_and_a_month_can_be_named():
    scheduled = from_event({"report": "monthly", "scheduled_time": "2026-11-03T15:45:00Z"})
    named = from_event({"report": "monthly", "month": "2026-10", "force": True})
    assert (scheduled.kind, scheduled.start, scheduled.end) == (
        "monthly",
        date(2026, 10, 1),
        date(2026, 10, 31),
    )
    assert (named.start, named.end, named.force) == (date(2026, 10, 1), date(2026, 10, 31), True)


def test_a_period_not_over_is_refused_saying_when_its_last_day_may_run():
    with pytest.raises(
        BadRequest, match="the monthly report's last day 2026-11-30 is not complete"
    ):
        from_event({"report": "monthly", "month": "2026-11"})


# --- several accounts: the state machine's tasks ---------------------------------------------


def task(event):
    from fwcost.run_request import task_from_event

    return task_from_event(event, LA, now=LATER, settle=SETTLE)


def test_an_account_s_day_or_window_names_its_account():
    assert from_event({"date": "2026-11-20", "account": "staging"}).account == "staging"
    window = from_event({"start": "2026-11-01", "end": "2026-11-20", "account": "staging"})
    assert (window.kind, window.account) == ("backfill", "staging")
    assert from_event({"date": "2026-11-20"}).account is None


def test_a_plan_wraps_any_run_event_checked_as_such():
    from fwcost.run_request import PlanRequest

    planned = task({"plan": {"scheduled_time": "2026-11-22T08:30:00Z", "schedule_arn": "a"}})
    assert planned == PlanRequest(report_request(date(2026, 11, 21)))
    with pytest.raises(BadRequest, match='"dryRun": unknown key; did you mean "dry_run"'):
        task({"plan": {"date": "2026-11-20", "dryRun": True}})
    with pytest.raises(BadRequest, match="not another plan"):
        task({"plan": {"plan": {"date": "2026-11-20"}}})


def test_a_roll_up_names_each_account_and_why_a_failed_one_failed():
    from fwcost.run_request import AccountOutcome, RollupRequest

    lambda_error = '{"errorMessage": "Fireworks refused the key (401)", "errorType": "RunError"}'
    rollup = task(
        {
            "rollup": "2026-11-21",
            "accounts": [
                {"account": "prod"},
                {"account": "staging", "failure": {"Error": "RunError", "Cause": lambda_error}},
                {"account": "qa", "failure": {"Error": "States.Timeout", "Cause": "timed out"}},
                {"account": "dev", "failure": {"Error": "Lambda.Unknown"}},
            ],
            "force": True,
        }
    )

    assert rollup == RollupRequest(
        date(2026, 11, 21),
        (
            AccountOutcome("prod"),
            AccountOutcome("staging", "Fireworks refused the key (401)"),
            AccountOutcome("qa", "timed out"),
            AccountOutcome("dev", "Lambda.Unknown"),
        ),
        force=True,
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"report": "weekley", "date": "2026-11-23"},
            "unknown cadence 'weekley'; did you mean 'weekly'",
        ),
        ({"report": "daily", "date": "2026-11-23"}, 'a day\'s report is {"date": ...}'),
        ({"report": "weekly"}, 'takes one of "scheduled_time", "date", got none'),
        ({"report": "weekly", "month": "2026-10"}, 'takes one of "scheduled_time", "date", got'),
        ({"report": "monthly", "month": "October"}, "month must look like 2026-10"),
        ({"report": "monthly", "month": "2026-10", "mnth": 1}, 'did you mean "month"'),
    ],
)
def test_bad_period_events_say_what_is_wrong(event, message):
    with pytest.raises(BadRequest, match=re.escape(message)):
        from_event(event)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"rollup": "2026-11-21"}, 'a roll-up event needs "rollup" and "accounts"'),
        ({"rollup": "2026-11-21", "accounts": []}, "non-empty list"),
        ({"rollup": "2026-11-21", "accounts": [{"account": "a", "x": 1}]}, '"account" and'),
        ({"rollup": "2026-11-21", "accounts": [{"failure": {"Error": "E"}}]}, "names no account"),
        ({"rollup": "2026-11-21", "accounts": [{"account": "a", "failure": "E"}]}, '"failure"'),
        ({"rollup": "21 Nov", "accounts": [{"account": "a"}]}, '"rollup"'),
        ({"date": "2026-11-20", "account": 7}, '"account" must be an account id'),
    ],
)
def test_bad_task_events_say_what_is_wrong(event, message):
    with pytest.raises(BadRequest, match=message):
        task(event)


def test_a_run_event_parser_refuses_a_task_of_the_state_machine():
    with pytest.raises(BadRequest, match="task of the state machine"):
        from_event({"plan": {"date": "2026-11-20"}})
