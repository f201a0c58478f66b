"""Report periods: a calendar day, an ISO week (Monday to Sunday) or a calendar month.

Days are calendar days in the report timezone (fwcost.dates), so a week or month holding a DST
change is simply its days: 167 or 169 hours for that week, and no special case anywhere else.
A period is complete when its last day is (dates.is_complete).
"""

from __future__ import annotations

import calendar
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from fwcost.dates import day_runs, days_between, is_complete


class Cadence(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def parse_cadence(text: object, where: str) -> Cadence:
    """A cadence named in a file or event; an unknown one is refused naming its close match."""
    try:
        return Cadence(str(text))
    except ValueError:
        names = [cadence.value for cadence in Cadence]
        close = difflib.get_close_matches(str(text), names, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (one of {', '.join(names)})"
        raise ValueError(f"{where}: unknown cadence {text!r}{hint}") from None


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """The days one report covers: `start` to `end`, both included."""

    cadence: Cadence
    start: date
    end: date

    @classmethod
    def day(cls, day: date) -> Period:
        return cls(Cadence.DAILY, day, day)

    @classmethod
    def iso_week(cls, day: date) -> Period:
        """The ISO week (Monday to Sunday) holding `day`."""
        monday = day - timedelta(days=day.weekday())
        return cls(Cadence.WEEKLY, monday, monday + timedelta(days=6))

    @classmethod
    def week_before(cls, day: date) -> Period:
        """The last ISO week that ended before `day`: on any day of a week, the week before it
        (the Monday digest's week, whichever day it runs)."""
        return cls.iso_week(day - timedelta(days=day.weekday() + 1))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        last = calendar.monthrange(year, month)[1]
        return cls(Cadence.MONTHLY, date(year, month, 1), date(year, month, last))

    @classmethod
    def month_of(cls, day: date) -> Period:
        return cls.month(day.year, day.month)

    @classmethod
    def month_before(cls, day: date) -> Period:
        """The calendar month before the one holding `day` (the statement's month)."""
        return cls.month_of(day.replace(day=1) - timedelta(days=1))

    @classmethod
    def parse_month(cls, text: str) -> Period:
        """2026-10 -> October 2026; anything else is a ValueError saying what was expected."""
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls.month(year, month)
        except (ValueError, calendar.IllegalMonthError):
            raise ValueError(f"month must look like 2026-10, got {text!r}") from None

    @classmethod
    def of(cls, cadence: Cadence, day: date) -> Period:
        """The period of `cadence` holding `day`."""
        if cadence is Cadence.WEEKLY:
            return cls.iso_week(day)
        if cadence is Cadence.MONTHLY:
            return cls.month_of(day)
        return cls.day(day)

    @property
    def days(self) -> list[date]:
        return list(days_between(self.start, self.end))

    @property
    def previous(self) -> Period:
        return Period.of(self.cadence, self.start - timedelta(days=1))

    def earlier(self, count: int) -> list[Period]:
        """The `count` periods before this one, the oldest first."""
        periods, period = [], self
        for _ in range(count):
            period = period.previous
            periods.append(period)
        return periods[::-1]

    @property
    def key(self) -> str:
        """2026-11-21, 2026-W47 or 2026-10: how files, ledger records and Slack metadata say it."""
        if self.cadence is Cadence.WEEKLY:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.cadence is Cadence.MONTHLY:
            return f"{self.start:%Y-%m}"
        return self.start.isoformat()

    @property
    def segment(self) -> str:
        """The archive and ledger folder, Hive-style: dt=2026-11-21, week=2026-W47, month=2026-10."""
        name = {Cadence.DAILY: "dt", Cadence.WEEKLY: "week", Cadence.MONTHLY: "month"}
        return f"{name[self.cadence]}={self.key}"

    @property
    def title(self) -> str:
        """Week 47, 16–22 Nov 2026; October 2026; Sat 21 Nov 2026."""
        if self.cadence is Cadence.MONTHLY:
            return f"{self.start:%B %Y}"
        if self.cadence is Cadence.WEEKLY:
            return f"Week {self.start.isocalendar()[1]}, {span(self.start, self.end)}"
        return f"{self.start:%a} {self.start.day} {self.start:%b %Y}"

    @property
    def short(self) -> str:
        """week 47; October; Sat 21 Nov."""
        if self.cadence is Cadence.MONTHLY:
            return f"{self.start:%B}"
        if self.cadence is Cadence.WEEKLY:
            return f"week {self.start.isocalendar()[1]}"
        return f"{self.start:%a} {self.start.day} {self.start:%b}"

    def is_complete(self, now: datetime, tz: ZoneInfo, settle: timedelta) -> bool:
        return is_complete(self.end, now, tz, settle)


def span(first: date, last: date) -> str:
    """16–22 Nov 2026, 28 Sep – 4 Oct 2026, 29 Dec 2025 – 4 Jan 2026."""
    if first.year != last.year:
        return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"
    if first.month != last.month:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day}–{last.day} {last:%b %Y}"


class MissingDays(RuntimeError):
    """A week or month whose days are not all archived (complete): nothing is reported from a
    part of a period. The message names the days and the backfill that archives them."""

    def __init__(self, period: Period, missing: Iterable[date]) -> None:
        self.period = period
        self.missing = sorted(missing)
        runs = day_runs(self.missing)
        named = ", ".join(f"{d.day} {d:%b}" for d in self.missing[:8])
        more = f" and {len(self.missing) - 8} more" if len(self.missing) > 8 else ""
        self.what = f"{period.title} is missing {len(self.missing)} archived day(s): {named}{more}"
        commands = "; ".join(
            f"fwcost backfill --start {first} --end {last}" for first, last in runs
        )
        events = ", ".join(f'{{"start": "{first}", "end": "{last}"}}' for first, last in runs)
        self.fix = (
            f"Archive them first ({commands}; or invoke the function with {events}), then run "
            f"the {period.cadence.value} report again"
        )
        super().__init__(f"{self.what}. {self.fix}")
