"""What a run is asked to do, from a Lambda event or the command line.

Lambda events (samples in events/):
- scheduled: {"scheduled_time": "2026-11-22T07:00:00Z"} (the schedule's Input template fills it
  from <aws.scheduler.scheduled-time>); an EventBridge rule's {"time": ...} works too.
  The report day is the day before that instant, in the report timezone.
- re-run one day: {"date": "2026-11-21"}
- backfill: {"start": "2026-11-01", "end": "2026-11-21"} (inclusive; archive only, no delivery)
A report day may add "force": true (deliver again) and "dry_run": true (deliver nowhere).
- check: {"check": true}, optionally "send_test": true: `fwcost check` with the function's own
  role and settings (see fwcost.check); no day is run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fwcost.dates import parse_date, yesterday

MAX_BACKFILL_DAYS = 366 * 3


class BadRequest(ValueError):
    """The event or command line does not say what to run; the message says what was wrong."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    kind: Literal["report", "backfill"]
    start: date
    end: date  # inclusive; equal to start for a report
    force: bool = False
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class CheckRequest:
    send_test: bool = False


def check_request_from_event(event: Mapping[str, Any]) -> CheckRequest | None:
    """The check an event asks for, or None when it asks for a run (request_from_event)."""
    if not isinstance(event, Mapping) or "check" not in event:
        return None
    if event["check"] is not True:
        raise BadRequest(f'"check" must be true, got {event["check"]!r}')
    if others := sorted(set(event) - {"check", "send_test"}):
        raise BadRequest(f'a check event takes only "check" and "send_test", not {others}')
    return CheckRequest(send_test=_flag(event, "send_test"))


def report_request(day: date, *, force: bool = False, dry_run: bool = False) -> RunRequest:
    return RunRequest("report", day, day, force, dry_run)


def backfill_request(start: date, end: date) -> RunRequest:
    if end < start:
        raise BadRequest(f"backfill end {end} is before its start {start}")
    if (end - start).days + 1 > MAX_BACKFILL_DAYS:
        raise BadRequest(f"backfill of {(end - start).days + 1} days is over {MAX_BACKFILL_DAYS}")
    return RunRequest("backfill", start, end)


def request_from_event(event: Mapping[str, Any], tz: ZoneInfo) -> RunRequest:
    if not isinstance(event, Mapping):
        raise BadRequest(f"the event must be a JSON object, got {type(event).__name__}")
    flags = {"force": _flag(event, "force"), "dry_run": _flag(event, "dry_run")}
    if "start" in event or "end" in event:
        if "start" not in event or "end" not in event:
            raise BadRequest('a backfill event needs both "start" and "end" (YYYY-MM-DD)')
        if any(flags.values()):
            raise BadRequest(
                '"force" and "dry_run" apply to report days; a backfill delivers nothing'
            )
        return backfill_request(_date(event, "start"), _date(event, "end"))
    if "date" in event:
        return report_request(_date(event, "date"), **flags)
    instant = event.get("scheduled_time") or event.get("time")
    if instant:
        return report_request(yesterday(_instant(str(instant)), tz), **flags)
    raise BadRequest(
        'the event names no day: expected "scheduled_time" (or "time"), "date", or "start" and "end"'
    )


def _date(event: Mapping[str, Any], name: str) -> date:
    try:
        return parse_date(str(event[name]), f'"{name}"')
    except ValueError as error:
        raise BadRequest(str(error)) from None


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"the event's time {text!r} is not an RFC 3339 instant") from None
    if moment.tzinfo is None:
        raise BadRequest(f"the event's time {text!r} has no UTC offset")
    return moment


def _flag(event: Mapping[str, Any], name: str) -> bool:
    value = event.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f'"{name}" must be true or false, got {value!r}')
    return value
