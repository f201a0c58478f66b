"""What a run is asked to do, from a Lambda event or the command line.

Lambda events (samples in events/):
- scheduled: {"scheduled_time": "2026-11-22T07:00:00Z"} (the schedule's Input template fills it
  from <aws.scheduler.scheduled-time>); an EventBridge rule's {"time": ...} works too.
  The report day is the day before that instant, in the report timezone.
- re-run one day: {"date": "2026-11-21"}
- backfill: {"start": "2026-11-01", "end": "2026-11-21"} (inclusive; archive only, no delivery)
A report day may add "force": true (deliver again) and "dry_run": true (deliver nowhere).

Every key is checked against EVENT_SHAPES, the one list of what each event may hold: a key
outside its shape is an error naming it (and the close match: "dryRun" is not taken for
"dry_run" and ignored, which would deliver for real).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
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


def report_request(day: date, *, force: bool = False, dry_run: bool = False) -> RunRequest:
    return RunRequest("report", day, day, force, dry_run)


def backfill_request(start: date, end: date) -> RunRequest:
    if end < start:
        raise BadRequest(f"backfill end {end} is before its start {start}")
    if (end - start).days + 1 > MAX_BACKFILL_DAYS:
        raise BadRequest(f"backfill of {(end - start).days + 1} days is over {MAX_BACKFILL_DAYS}")
    return RunRequest("backfill", start, end)


class EventKind(Enum):
    BACKFILL = "backfill"
    REPORT_DAY = "report-day"
    SCHEDULER = "scheduler"
    EVENTBRIDGE = "EventBridge rule"


@dataclass(frozen=True, slots=True)
class EventShape:
    """The keys one kind of event holds: all of `required`, any of `optional`, nothing else."""

    kind: EventKind
    required: tuple[str, ...]
    optional: frozenset[str] = frozenset()

    @property
    def keys(self) -> frozenset[str]:
        return self.optional.union(self.required)


FLAGS = frozenset({"force", "dry_run"})
# An event is of the first shape it holds a required key of, so the order matters.
EVENT_SHAPES = (
    EventShape(EventKind.BACKFILL, ("start", "end")),
    EventShape(EventKind.REPORT_DAY, ("date",), FLAGS),
    # What template.yaml's schedule Input sends (its context attributes filled in).
    EventShape(
        EventKind.SCHEDULER,
        ("scheduled_time",),
        frozenset({"schedule_arn", "execution_id", "attempt_number"}) | FLAGS,
    ),
    # An EventBridge rule's envelope, as EventBridge sends it.
    EventShape(
        EventKind.EVENTBRIDGE,
        ("time",),
        frozenset(
            {"version", "id", "detail-type", "source", "account", "region", "resources", "detail"}
        ),
    ),
)
KNOWN_KEYS = frozenset().union(*(shape.keys for shape in EVENT_SHAPES))


def request_from_event(event: Mapping[str, Any], tz: ZoneInfo) -> RunRequest:
    if not isinstance(event, Mapping):
        raise BadRequest(f"the event must be a JSON object, got {type(event).__name__}")
    shape = _shape_of(event)
    if shape.kind is EventKind.BACKFILL:
        return backfill_request(_date(event, "start"), _date(event, "end"))
    flags = {"force": _flag(event, "force"), "dry_run": _flag(event, "dry_run")}
    if shape.kind is EventKind.REPORT_DAY:
        return report_request(_date(event, "date"), **flags)
    instant = event["scheduled_time" if shape.kind is EventKind.SCHEDULER else "time"]
    return report_request(yesterday(_instant(str(instant)), tz), **flags)


def _shape_of(event: Mapping[str, Any]) -> EventShape:
    """The event's shape, once each of its keys is known and belongs there; else BadRequest."""
    unknown = _unknown_key(event)
    shape = next((s for s in EVENT_SHAPES if event.keys() & set(s.required)), None)
    if shape is None:
        raise BadRequest(
            'the event names no day: expected "scheduled_time" (or "time"), "date", '
            'or "start" and "end"' + (f"; {unknown}" if unknown else "")
        )
    if unknown:
        raise BadRequest(unknown)
    if missing := [key for key in shape.required if key not in event]:
        needs = " and ".join(f'"{key}"' for key in shape.required)
        raise BadRequest(f'a {shape.kind.value} event needs {needs}; "{missing[0]}" is missing')
    if strays := sorted(event.keys() - shape.keys):
        takes = ", ".join(f'"{key}"' for key in [*shape.required, *sorted(shape.optional)])
        raise BadRequest(
            f'"{strays[0]}" does not belong in a {shape.kind.value} event (it takes {takes})'
        )
    return shape


def _unknown_key(event: Mapping[str, Any]) -> str:
    """What is wrong with the first key no event shape has ("" when all are known)."""
    unknown = sorted(event.keys() - KNOWN_KEYS)
    if not unknown:
        return ""
    close = difflib.get_close_matches(unknown[0], sorted(KNOWN_KEYS), n=1)
    hint = f'did you mean "{close[0]}"?' if close else f"known: {', '.join(sorted(KNOWN_KEYS))}"
    return f'"{unknown[0]}": unknown key; {hint}'


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
