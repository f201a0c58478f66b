"""Calendar days in the report's timezone: which day is "yesterday", its bounds, and windows.

A report day is a calendar day in an IANA timezone, so it lasts 23, 24 or 25 hours.
"Yesterday" is always derived from an explicit instant (the schedule's event time), never
from the clock at import time.

A day is reported only once it is complete: it has ended in the report timezone and a settle
margin has passed (see DEFAULT_SETTLE_HOURS). A report of a day still in progress would go out
partial, and the ledger would then skip the full report the next morning as already delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_WINDOW_DAYS = 31  # billingUsage and usageCosts:query accept at most 31 days a call
# Hours after a day ends before it may be reported (FWCOST_SETTLE_HOURS). Fireworks caches
# responses for several minutes, so a fetch just after midnight can still answer with the day
# in progress; an hour covers that many times over. Usage that arrives later still (it can lag
# a day) is caught by the next run, which fetches the day before again and reports any change
# as a revision. It must stay below the schedule's hour: the 07:00 run for yesterday comes 7
# hours after midnight, 6 on the night clocks spring forward.
DEFAULT_SETTLE_HOURS = 1


@dataclass(frozen=True, slots=True)
class DayBounds:
    """[start, end) of one local calendar day, as UTC instants.

    UTC, because Python subtracts two datetimes sharing one tzinfo by wall-clock time, which
    would make every DST day 24 hours long.
    """

    day: date
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


def yesterday(now: datetime, tz: ZoneInfo) -> date:
    """The calendar day before the one `now` falls on, in `tz`. `now` must be aware."""
    if now.tzinfo is None:
        raise ValueError("now must carry a timezone (got a naive datetime)")
    return now.astimezone(tz).date() - timedelta(days=1)


def reportable_from(day: date, tz: ZoneInfo, settle: timedelta) -> datetime:
    """The first instant (UTC) at which `day` is complete: its end in `tz` plus `settle`."""
    return local_midnight(day + timedelta(days=1), tz) + settle


def is_complete(day: date, now: datetime, tz: ZoneInfo, settle: timedelta) -> bool:
    return now >= reportable_from(day, tz, settle)


def last_complete_day(now: datetime, tz: ZoneInfo, settle: timedelta) -> date:
    """The latest day complete at `now`: yesterday once it has settled, else an earlier one."""
    day = yesterday(now, tz)
    while not is_complete(day, now, tz, settle):
        day -= timedelta(days=1)
    return day


def local_time(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as a person in `tz` reads it, e.g. 2026-11-22 01:00 PST."""
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz`, in UTC.

    Where clocks skip midnight itself (America/Santiago), zoneinfo reads the missing 00:00 with
    the offset in force before the jump, which is exactly the instant the day begins.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> DayBounds:
    return DayBounds(day, local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz))


def rfc3339(instant: datetime) -> str:
    """RFC 3339 in UTC with a Z suffix, e.g. 2026-11-21T08:00:00Z."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_between(start: date, end: date) -> Iterator[date]:
    """Every date from start to end, both included."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def windows(
    start: date, end: date, tz: ZoneInfo | None = None, max_days: int = MAX_WINDOW_DAYS
) -> list[tuple[date, date]]:
    """Cut the inclusive range [start, end] into windows of at most max_days days.

    With `tz`, a window also lasts at most max_days × 24 hours: the API counts elapsed time, so a
    31-day window holding an autumn DST change (745 hours) is cut a day shorter.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    limit = timedelta(days=max_days)
    cuts = []
    window_start = start
    while window_start <= end:
        window_end = min(window_start + timedelta(days=max_days - 1), end)
        while (
            tz is not None
            and window_end > window_start
            and _span(window_start, window_end, tz) > limit
        ):
            window_end -= timedelta(days=1)
        cuts.append((window_start, window_end))
        window_start = window_end + timedelta(days=1)
    return cuts


def _span(first: date, last: date, tz: ZoneInfo) -> timedelta:
    return local_midnight(last + timedelta(days=1), tz) - local_midnight(first, tz)


def parse_date(text: str, what: str = "date") -> date:
    """An ISO date (YYYY-MM-DD), with an error that names what was wrong."""
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a date like 2026-11-21, got {text!r}") from None


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs: what one backfill command each covers."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
