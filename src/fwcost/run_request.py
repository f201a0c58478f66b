"""What a run is asked to do, from a Lambda event or the command line.

Lambda events (samples in events/):
- scheduled: {"scheduled_time": "2026-11-22T07:00:00Z"} (the schedule's Input template fills it
  from <aws.scheduler.scheduled-time>); an EventBridge rule's {"time": ...} works too.
  The report day is the day before that instant, in the report timezone.
- re-run one day: {"date": "2026-11-21"}
- backfill: {"start": "2026-11-01", "end": "2026-11-21"} (inclusive; archive only, no delivery)
A report day may add "force": true (deliver again) and "dry_run": true (deliver nowhere).

Only complete days run (fwcost.dates): a report day, or a backfill's start, that has not ended
plus the settle margin is refused; a backfill whose end is not complete yet stops at the last
complete day and says so in `note` (so `--end` may be today). Whether a day is complete is
judged against `now`, the caller's clock, not the event's time: a retry hours later may pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fwcost.dates import (
    is_complete,
    last_complete_day,
    local_time,
    parse_date,
    reportable_from,
    yesterday,
)

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
    note: str = ""  # what was changed from what was asked (a backfill's end cut to complete days)


def report_request(day: date, *, force: bool = False, dry_run: bool = False) -> RunRequest:
    return RunRequest("report", day, day, force, dry_run)


def backfill_request(start: date, end: date) -> RunRequest:
    if end < start:
        raise BadRequest(f"backfill end {end} is before its start {start}")
    if (end - start).days + 1 > MAX_BACKFILL_DAYS:
        raise BadRequest(f"backfill of {(end - start).days + 1} days is over {MAX_BACKFILL_DAYS}")
    return RunRequest("backfill", start, end)


def only_complete_days(
    request: RunRequest, *, now: datetime, tz: ZoneInfo, settle: timedelta
) -> RunRequest:
    """The request if its days are complete at `now`; a backfill's end cut to the last complete
    day (with a note); BadRequest for a report day or backfill start not complete yet."""
    what = "report day" if request.kind == "report" else "backfill start"
    if not is_complete(request.start, now, tz, settle):
        raise BadRequest(_not_complete(what, request.start, now, tz, settle))
    if is_complete(request.end, now, tz, settle):
        return request
    last = last_complete_day(now, tz, settle)
    note = (
        f"{_not_complete('backfill end', request.end, now, tz, settle)}; "
        f"backfilling {request.start} to {last} instead"
    )
    return replace(request, end=last, note=note)


def _not_complete(what: str, day: date, now: datetime, tz: ZoneInfo, settle: timedelta) -> str:
    hours = f"{settle.total_seconds() / 3600:g}"
    return (
        f"{what} {day} is not complete yet in {tz.key}: it may be reported from "
        f"{local_time(reportable_from(day, tz, settle), tz)} (its end plus FWCOST_SETTLE_HOURS="
        f"{hours}); the last complete day is {last_complete_day(now, tz, settle)}"
    )


def request_from_event(
    event: Mapping[str, Any], tz: ZoneInfo, *, now: datetime, settle: timedelta
) -> RunRequest:
    """The run an event asks for, limited to days complete at `now` (see only_complete_days)."""
    request = _request(event, tz)
    return only_complete_days(request, now=now, tz=tz, settle=settle)


def _request(event: Mapping[str, Any], tz: ZoneInfo) -> RunRequest:
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
