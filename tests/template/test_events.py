"""The sample events in events/: valid JSON of the shapes the handler accepts.

The same files serve `sam local invoke -e events/<name>.json` and the smoke test.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fwcost.dates import parse_date

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    event = json.loads((EVENTS / name).read_text())
    assert isinstance(event, dict)
    return event


def test_scheduled_event_carries_an_aware_utc_scheduled_time() -> None:
    event = load("scheduled.json")

    scheduled = datetime.strptime(event["scheduled_time"], "%Y-%m-%dT%H:%M:%S%z")
    assert scheduled.utcoffset() is not None
    assert scheduled.utcoffset().total_seconds() == 0
    assert event["schedule_arn"].startswith("arn:aws:scheduler:")
    assert event["attempt_number"] == "1"


@pytest.mark.parametrize(
    ("name", "date_fields"),
    [
        ("rerun-day.json", ["date"]),
        ("force-resend.json", ["date"]),
        ("backfill.json", ["start", "end"]),
    ],
)
def test_manual_events_name_valid_days(name: str, date_fields: list[str]) -> None:
    event = load(name)

    for field in date_fields:
        parse_date(event[field], field)


def test_backfill_range_is_ordered() -> None:
    event = load("backfill.json")

    assert parse_date(event["start"]) <= parse_date(event["end"])


def test_force_resend_says_so_and_rerun_does_not() -> None:
    assert load("force-resend.json")["force"] is True
    assert "force" not in load("rerun-day.json")


@pytest.mark.parametrize(
    "name", ["scheduled.json", "rerun-day.json", "backfill.json", "force-resend.json"]
)
def test_every_sample_event_is_a_request_the_handler_accepts(name: str) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from fwcost.run_request import request_from_event

    # The samples name November 2026; a week later every day they name is complete.
    week_later = datetime(2026, 12, 7, tzinfo=UTC)
    tz = ZoneInfo("America/Los_Angeles")
    request = request_from_event(load(name), tz, now=week_later, settle=timedelta(hours=1))
    assert request.kind == ("backfill" if name == "backfill.json" else "report")
    assert request.force is (name == "force-resend.json")


@pytest.mark.parametrize(
    ("name", "kind", "first", "last"),
    [
        ("scheduled-weekly.json", "weekly", "2026-11-23", "2026-11-29"),
        ("weekly.json", "weekly", "2026-11-16", "2026-11-22"),
        ("scheduled-monthly.json", "monthly", "2026-10-01", "2026-10-31"),
        ("monthly.json", "monthly", "2026-10-01", "2026-10-31"),
    ],
)
def test_weekly_and_monthly_samples_name_the_period_that_ended_before(
    name: str, kind: str, first: str, last: str
) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from fwcost.run_request import request_from_event

    now = datetime(2026, 12, 7, tzinfo=UTC)
    tz = ZoneInfo("America/Los_Angeles")
    request = request_from_event(load(name), tz, now=now, settle=timedelta(hours=1))
    assert (request.kind, str(request.start), str(request.end)) == (kind, first, last)


def test_the_check_event_asks_for_a_check_not_a_day() -> None:
    from fwcost.run_request import CheckRequest, check_request_from_event

    assert check_request_from_event(load("check.json")) == CheckRequest(send_test=False)
    for name in ("scheduled.json", "rerun-day.json", "backfill.json", "force-resend.json"):
        assert check_request_from_event(load(name)) is None


def test_every_sample_event_is_tested() -> None:
    assert sorted(path.name for path in EVENTS.glob("*.json")) == [
        "backfill.json",
        "check.json",
        "export-dropped.json",
        "force-resend.json",
        "monthly.json",
        "rerun-day.json",
        "scheduled-monthly.json",
        "scheduled-weekly.json",
        "scheduled.json",
        "weekly.json",
    ]


def test_the_export_dropped_sample_asks_to_import_its_object() -> None:
    from fwcost.run_request import import_request_from_event

    request = import_request_from_event(load("export-dropped.json"))

    assert request is not None
    assert request.uris == ("s3://fwcost-archive-bucket/imports/billing-2026-10.csv",)
