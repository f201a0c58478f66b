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

Every key is checked against EVENT_SHAPES, the one list of what each event may hold: a key
outside its shape is an error naming it (and the close match: "dryRun" is not taken for
"dry_run" and ignored, which would deliver for real).

- a week's digest or a month's statement: {"report": "weekly"} or {"report": "monthly"}, with
  "scheduled_time" (the schedule's: the ISO week, or the calendar month, that ended before that
  instant's day in the report timezone), "date" (the same, before that day) or, for a month,
  "month": "2026-10". Only a complete period runs (its last day complete).
- check: {"check": true}, optionally "send_test": true: `fwcost check` with the function's own
  role and settings (see fwcost.check); no day is run.
- an export dropped into the archive bucket: S3's event notification of an object created under
  imports/, as EventBridge delivers it (template.yaml's ImportDrop rule; source "aws.s3"):
  that object is imported (fwcost.imports); anything else from S3 is refused.

Several accounts (FWCOST_ACCOUNTS), the tasks of the state machine (statemachine/fanout.asl.json):
- one account's day or backfill window: the events above plus "account": "<id>";
- plan: {"plan": <any run event above>}: what to fan out (the day and the accounts, or the
  backfill's windows of each account), worked out once for the whole execution;
- roll-up: {"rollup": "2026-11-21", "accounts": [{"account": "prod"}, {"account": "staging",
  "failure": {"Error": "RunError", "Cause": "<Lambda's error JSON>"}}]} (+ "force",
  "dry_run"; "failure" is what a Catch gives): the consolidated report from each account's
  archived day, naming the accounts that failed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import Enum
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
from fwcost.periods.model import Cadence, Period, parse_cadence

MAX_BACKFILL_DAYS = 366 * 3


class BadRequest(ValueError):
    """The event or command line does not say what to run; the message says what was wrong."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    kind: Literal["report", "backfill", "weekly", "monthly"]
    start: date
    end: date  # inclusive; equal to start for a report; a week's or month's last day
    force: bool = False
    dry_run: bool = False
    note: str = ""  # what was changed from what was asked (a backfill's end cut to complete days)
    account: str | None = None  # one of FWCOST_ACCOUNTS; None: the default account


@dataclass(frozen=True, slots=True)
class CheckRequest:
    send_test: bool = False


@dataclass(frozen=True, slots=True)
class ImportRequest:
    uris: tuple[str, ...]  # s3://bucket/key of each export to import


def check_request_from_event(event: Mapping[str, Any]) -> CheckRequest | None:
    """The check an event asks for, or None when it asks for a run (request_from_event)."""
    if not isinstance(event, Mapping) or "check" not in event:
        return None
    if event["check"] is not True:
        raise BadRequest(f'"check" must be true, got {event["check"]!r}')
    if others := sorted(set(event) - {"check", "send_test"}):
        raise BadRequest(f'a check event takes only "check" and "send_test", not {others}')
    return CheckRequest(send_test=_flag(event, "send_test"))


def import_request_from_event(event: Mapping[str, Any]) -> ImportRequest | None:
    """The export an S3 event asks to import, or None when the event is not from S3.

    Only an object created under DROP_PREFIX is imported; any other S3 event is refused."""
    if not isinstance(event, Mapping) or event.get("source") != "aws.s3":
        return None
    _shape_of(event)
    detail = event.get("detail")
    bucket = _path(detail, "bucket", "name")
    key = _path(detail, "object", "key")
    if event.get("detail-type") != "Object Created" or not key.startswith(DROP_PREFIX):
        raise BadRequest(
            f"an S3 event imports an object created under {DROP_PREFIX}, not "
            f'"{event.get("detail-type")}" of {key!r}'
        )
    return ImportRequest((f"s3://{bucket}/{key}",))


def _path(document: Any, *names: str) -> str:
    for name in names:
        document = document.get(name) if isinstance(document, Mapping) else None
    if not isinstance(document, str) or not document:
        raise BadRequest(f"the S3 event has no detail.{'.'.join(names)}")
    return document


def report_request(day: date, *, force: bool = False, dry_run: bool = False) -> RunRequest:
    return RunRequest("report", day, day, force, dry_run)


def period_request(period: Period, *, force: bool = False, dry_run: bool = False) -> RunRequest:
    """A week's digest or a month's statement (a day's report is report_request)."""
    kind: Literal["weekly", "monthly"] = "weekly" if period.cadence is Cadence.WEEKLY else "monthly"
    return RunRequest(kind, period.start, period.end, force, dry_run)


def backfill_request(start: date, end: date) -> RunRequest:
    if end < start:
        raise BadRequest(f"backfill end {end} is before its start {start}")
    if (end - start).days + 1 > MAX_BACKFILL_DAYS:
        raise BadRequest(f"backfill of {(end - start).days + 1} days is over {MAX_BACKFILL_DAYS}")
    return RunRequest("backfill", start, end)


@dataclass(frozen=True, slots=True)
class AccountOutcome:
    """How one account's run ended, as the roll-up is told: `failure` is "" when it ran."""

    account: str
    failure: str = ""


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Plan the fan-out of `run` (over every account, or a backfill's windows of each)."""

    run: RunRequest


@dataclass(frozen=True, slots=True)
class RollupRequest:
    day: date
    outcomes: tuple[AccountOutcome, ...]
    force: bool = False
    dry_run: bool = False


class EventKind(Enum):
    EXPORT_DROPPED = "S3 object created"
    PLAN = "plan"
    ROLLUP = "roll-up"
    PERIOD = "weekly or monthly report"
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
    source: str | None = None  # the envelope's "source", where kinds share their keys

    def fits(self, event: Mapping[str, Any]) -> bool:
        """Whether `event` is of this kind: it holds a required key (and the source)."""
        held = bool(event.keys() & set(self.required))
        return held and (self.source is None or event.get("source") == self.source)

    @property
    def keys(self) -> frozenset[str]:
        return self.optional.union(self.required)


FLAGS = frozenset({"force", "dry_run"})
EVENTBRIDGE_KEYS = frozenset(
    {"version", "id", "detail-type", "source", "account", "region", "resources", "detail"}
)
# Where exports are dropped in the archive bucket: template.yaml's ImportDrop rule filters on it
# (tests/template checks), and the archive prefix may not start with it (no import of our own
# writes).
DROP_PREFIX = "imports/"
ACCOUNT = frozenset({"account"})
# An event is of the first shape it fits, so the order matters.
EVENT_SHAPES = (
    EventShape(EventKind.EXPORT_DROPPED, ("detail",), EVENTBRIDGE_KEYS | {"time"}, "aws.s3"),
    EventShape(EventKind.PLAN, ("plan",)),
    EventShape(EventKind.ROLLUP, ("rollup", "accounts"), FLAGS),
    # A week's digest or a month's statement: scheduled (template.yaml) or explicit.
    EventShape(
        EventKind.PERIOD,
        ("report",),
        frozenset(
            {"scheduled_time", "date", "month", "schedule_arn", "execution_id", "attempt_number"}
        )
        | FLAGS
        | ACCOUNT,
    ),
    EventShape(EventKind.BACKFILL, ("start", "end"), ACCOUNT),
    EventShape(EventKind.REPORT_DAY, ("date",), FLAGS | ACCOUNT),
    # What template.yaml's schedule Input sends (its context attributes filled in).
    EventShape(
        EventKind.SCHEDULER,
        ("scheduled_time",),
        frozenset({"schedule_arn", "execution_id", "attempt_number"}) | FLAGS,
    ),
    # An EventBridge rule's envelope, as EventBridge sends it.
    EventShape(EventKind.EVENTBRIDGE, ("time",), EVENTBRIDGE_KEYS),
)
KNOWN_KEYS = frozenset().union(*(shape.keys for shape in EVENT_SHAPES))


def only_complete_days(
    request: RunRequest, *, now: datetime, tz: ZoneInfo, settle: timedelta
) -> RunRequest:
    """The request if its days are complete at `now`; a backfill's end cut to the last complete
    day (with a note); BadRequest for a report day or backfill start not complete yet."""
    if request.kind in ("weekly", "monthly"):
        if not is_complete(request.end, now, tz, settle):
            raise BadRequest(
                _not_complete(f"the {request.kind} report's last day", request.end, now, tz, settle)
            )
        return request
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
    task = task_from_event(event, tz, now=now, settle=settle)
    if not isinstance(task, RunRequest):
        raise BadRequest("a plan or roll-up event is a task of the state machine, not a run")
    return task


def task_from_event(
    event: Mapping[str, Any], tz: ZoneInfo, *, now: datetime, settle: timedelta
) -> RunRequest | PlanRequest | RollupRequest:
    """What an event asks the function to do: a run (one account's), a plan, or a roll-up."""
    if not isinstance(event, Mapping):
        raise BadRequest(f"the event must be a JSON object, got {type(event).__name__}")
    shape = _shape_of(event)
    if shape.kind is EventKind.EXPORT_DROPPED:
        raise BadRequest(
            "an S3 event imports an export (import_request_from_event); it runs no day"
        )
    if shape.kind is EventKind.PLAN:
        inner = event["plan"]
        if isinstance(inner, Mapping) and "plan" in inner:
            raise BadRequest('a plan event\'s "plan" is a run event, not another plan')
        return PlanRequest(request_from_event(inner, tz, now=now, settle=settle))
    if shape.kind is EventKind.ROLLUP:
        return _rollup(event)
    request = _request(event, shape, tz)
    return only_complete_days(request, now=now, tz=tz, settle=settle)


def _rollup(event: Mapping[str, Any]) -> RollupRequest:
    entries = event["accounts"]
    if not isinstance(entries, list) or not entries:
        raise BadRequest('"accounts" must be a non-empty list of {"account": ...} outcomes')
    outcomes = []
    for entry in entries:
        failure = entry.get("failure", {}) if isinstance(entry, Mapping) else None
        if (
            not isinstance(entry, Mapping)
            or set(entry) - {"account", "failure"}
            or not isinstance(failure, Mapping)
        ):
            raise BadRequest(
                f'an "accounts" entry holds "account" and, when it failed, "failure" '
                f'({{"Error": ..., "Cause": ...}}, as a Catch gives it); got {entry!r}'
            )
        if not isinstance(entry.get("account"), str) or not entry["account"]:
            raise BadRequest(f'an "accounts" entry names no account: {entry!r}')
        outcomes.append(
            AccountOutcome(entry["account"], _failure(failure) if "failure" in entry else "")
        )
    return RollupRequest(
        _date(event, "rollup"),
        tuple(outcomes),
        force=_flag(event, "force"),
        dry_run=_flag(event, "dry_run"),
    )


def _failure(failure: Mapping[str, Any]) -> str:
    """What went wrong, in a line: Lambda's errorMessage from the Catch's Cause when it is
    Lambda's error JSON, else the Cause or the Error as Step Functions gave them."""
    cause = str(failure.get("Cause") or "")
    try:
        said = json.loads(cause).get("errorMessage")
    except (ValueError, AttributeError):
        said = None
    text = str(said or cause or failure.get("Error") or "failed").strip()
    return text.splitlines()[0] if text else "failed"


def _request(event: Mapping[str, Any], shape: EventShape, tz: ZoneInfo) -> RunRequest:
    account = _account(event)
    if shape.kind is EventKind.PERIOD:
        return replace(_period_request(event, tz), account=account)
    if shape.kind is EventKind.BACKFILL:
        return replace(
            backfill_request(_date(event, "start"), _date(event, "end")), account=account
        )
    flags = {"force": _flag(event, "force"), "dry_run": _flag(event, "dry_run")}
    if shape.kind is EventKind.REPORT_DAY:
        return replace(report_request(_date(event, "date"), **flags), account=account)
    instant = event["scheduled_time" if shape.kind is EventKind.SCHEDULER else "time"]
    return report_request(yesterday(_instant(str(instant)), tz), **flags)


def _period_request(event: Mapping[str, Any], tz: ZoneInfo) -> RunRequest:
    try:
        cadence = parse_cadence(event["report"], '"report"')
    except ValueError as error:
        raise BadRequest(str(error)) from None
    if cadence is Cadence.DAILY:
        raise BadRequest('"report" is "weekly" or "monthly"; a day\'s report is {"date": ...}')
    flags = {"force": _flag(event, "force"), "dry_run": _flag(event, "dry_run")}
    when = [key for key in ("scheduled_time", "date", "month") if key in event]
    if len(when) != 1 or (when[0] == "month" and cadence is Cadence.WEEKLY):
        takes = '"scheduled_time", "date"' + (' or "month"' if cadence is Cadence.MONTHLY else "")
        raise BadRequest(
            f"a {cadence.value} report event takes one of {takes}, got {when or 'none'}"
        )
    if when[0] == "month":
        try:
            return period_request(Period.parse_month(str(event["month"])), **flags)
        except ValueError as error:
            raise BadRequest(f'"month": {error}') from None
    if when[0] == "date":
        day = _date(event, "date")
    else:
        day = _instant(str(event["scheduled_time"])).astimezone(tz).date()
    return period_request(ending_before(cadence, day), **flags)


def ending_before(cadence: Cadence, day: date) -> Period:
    """The ISO week or calendar month that ended before `day` (the schedule's, on its day)."""
    return Period.week_before(day) if cadence is Cadence.WEEKLY else Period.month_before(day)


def _shape_of(event: Mapping[str, Any]) -> EventShape:
    """The event's shape, once each of its keys is known and belongs there; else BadRequest."""
    unknown = _unknown_key(event)
    shape = next((s for s in EVENT_SHAPES if s.fits(event)), None)
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


def _account(event: Mapping[str, Any]) -> str | None:
    value = event.get("account")
    if value is not None and (not isinstance(value, str) or not value):
        raise BadRequest(f'"account" must be an account id, got {value!r}')
    return value


def _flag(event: Mapping[str, Any], name: str) -> bool:
    value = event.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest(f'"{name}" must be true or false, got {value!r}')
    return value
