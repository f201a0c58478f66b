"""Read a `firectl billing export-metrics` CSV in one streamed pass: validate every row and sum
it into groups per report day, in constant memory (the groups, not the rows, are kept).

Columns (reference section 4): `email,start_time,end_time,usage_type,accelerator_type,
accelerator_seconds,base_model_name,model_bucket,parameter_count,prompt_tokens,
completion_tokens` and, in newer exports, `cached_prompt_tokens,uncached_prompt_tokens`.
Timestamps look like `2025-10-20 17:16:48 UTC` (any ISO form followed by ` UTC` is read too).
A number cell may be empty (a dedicated row has no tokens, a serverless row no accelerator):
empty counts as 0. A request belongs to the report day (in the report timezone) its start_time
falls on. Any malformed cell raises ExportRowError naming the file, line and column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

COLUMNS_11: tuple[str, ...] = (
    "email",
    "start_time",
    "end_time",
    "usage_type",
    "accelerator_type",
    "accelerator_seconds",
    "base_model_name",
    "model_bucket",
    "parameter_count",
    "prompt_tokens",
    "completion_tokens",
)
COLUMNS_13 = (*COLUMNS_11, "cached_prompt_tokens", "uncached_prompt_tokens")
_UTC_SUFFIX = " UTC"


class ExportRowError(ValueError):
    """A cell, row or header of an export is not what the format says; names where."""

    def __init__(self, source: str, line: int, column: str, problem: str) -> None:
        super().__init__(f"{source}, line {line}, column {column}: {problem}")
        self.source = source
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What the per-day sums are grouped by: everything an export row says but its times."""

    day: date
    email: str
    usage_type: str
    model: str
    model_bucket: str
    accelerator_type: str


@dataclass(slots=True)
class GroupSums:
    requests: int = 0
    prompt_tokens: int = 0  # includes the cached ones, as billingUsage counts them
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    accelerator_seconds: Decimal = Decimal(0)

    def add(self, other: GroupSums) -> None:
        self.requests += other.requests
        self.prompt_tokens += other.prompt_tokens
        self.cached_prompt_tokens += other.cached_prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.accelerator_seconds += other.accelerator_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "cached_prompt_tokens": self.cached_prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "accelerator_seconds": str(self.accelerator_seconds),
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> GroupSums:
        return cls(
            int(document["requests"]),
            int(document["prompt_tokens"]),
            int(document["cached_prompt_tokens"]),
            int(document["completion_tokens"]),
            Decimal(document["accelerator_seconds"]),
        )


@dataclass(slots=True)
class ExportDay:
    """One report day of an export: its groups, and the span of its requests' start times."""

    groups: dict[GroupKey, GroupSums] = field(default_factory=dict)
    first_start: str = ""  # UTC, as written in the file (comparable as text in the usual form)
    last_start: str = ""


@dataclass(slots=True)
class ExportSummary:
    columns: int  # 11 or 13
    rows: int
    days: dict[date, ExportDay]


def read_export(lines: Iterable[str], source: str, tz: ZoneInfo) -> ExportSummary:
    """Validate and aggregate an export read as text lines (a file opened with newline='')."""
    reader = csv.reader(lines)
    header = [cell.strip() for cell in next(reader, [])]
    columns = _columns(header, source)
    width = len(columns)
    days: dict[date, ExportDay] = {}
    day_of = _DayOf(tz)
    rows = 0
    for cells in reader:
        line = reader.line_num
        if not cells:
            continue  # a blank line (the file's last newline doubled, say)
        if len(cells) != width:
            _wrong_width(cells, columns, source, line)
        try:
            start = cells[1]
            day = day_of(start, "start_time")
            day_of(cells[2], "end_time")
            if cells[2] < start and len(start) == len(cells[2]) == 23:
                raise _Bad("end_time", f"{cells[2]!r} is before start_time {start!r}")
            usage_type = cells[3].strip()
            if not usage_type:
                raise _Bad("usage_type", "is empty")
            _count(cells[8], "parameter_count")
            sums = GroupSums(
                1,
                _count(cells[9], "prompt_tokens"),
                _count(cells[11], "cached_prompt_tokens") if width == 13 else 0,
                _count(cells[10], "completion_tokens"),
                _seconds(cells[5]),
            )
            if width == 13 and not cells[9].strip():  # no total given: cached + uncached
                sums.prompt_tokens = sums.cached_prompt_tokens + _count(
                    cells[12], "uncached_prompt_tokens"
                )
            elif width == 13:
                _count(cells[12], "uncached_prompt_tokens")
        except _Bad as bad:
            raise ExportRowError(source, line, bad.column, bad.problem) from None
        rows += 1
        key = GroupKey(day, cells[0].strip(), usage_type, cells[6].strip(), cells[7].strip(),
                       cells[4].strip())  # fmt: skip
        export_day = days.get(day)
        if export_day is None:
            export_day = days[day] = ExportDay(first_start=start, last_start=start)
        export_day.first_start = min(export_day.first_start, start)
        export_day.last_start = max(export_day.last_start, start)
        if (group := export_day.groups.get(key)) is None:
            export_day.groups[key] = sums
        else:
            group.add(sums)
    return ExportSummary(width, rows, days)


class _Bad(Exception):
    def __init__(self, column: str, problem: str) -> None:
        self.column = column
        self.problem = problem


def _columns(header: list[str], source: str) -> tuple[str, ...]:
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if not header:
        raise ExportRowError(source, 1, "1", "the file is empty: expected the export's header")
    expected = COLUMNS_13 if len(header) > len(COLUMNS_11) else COLUMNS_11
    for position, (found, wanted) in enumerate(zip(header, expected, strict=False), start=1):
        if found != wanted:
            raise ExportRowError(
                source, 1, f"{position} ({found!r})",
                f"expected {wanted!r}: not a firectl billing export-metrics header",
            )  # fmt: skip
    if len(header) not in (len(COLUMNS_11), len(COLUMNS_13)):
        raise ExportRowError(
            source, 1, str(len(header) + 1),
            f"the header has {len(header)} columns; an export has 11 or 13",
        )  # fmt: skip
    return expected


def _wrong_width(cells: list[str], columns: tuple[str, ...], source: str, line: int) -> None:
    if len(cells) < len(columns):
        column = columns[len(cells)]
        raise ExportRowError(
            source, line, column, f"missing: the row has {len(cells)} of {len(columns)} columns"
        )
    raise ExportRowError(
        source, line, str(len(columns) + 1),
        f"unexpected: the row has {len(cells)} columns, the header {len(columns)}",
    )  # fmt: skip


def _count(text: str, column: str) -> int:
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise _Bad(column, f"{text!r} is not a whole number") from None
    if value < 0:
        raise _Bad(column, f"{text!r} is negative")
    return value


def _seconds(text: str) -> Decimal:
    if not text.strip():
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Bad("accelerator_seconds", f"{text!r} is not a number of seconds") from None
    if not value.is_finite() or value < 0:
        raise _Bad("accelerator_seconds", f"{text!r} is not a number of seconds from 0 up")
    return value


class _DayOf:
    """The report day a UTC timestamp falls on, cached per minute: every timezone's offset is a
    whole number of minutes, and a million rows would otherwise each convert their own."""

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._days: dict[str, date] = {}

    def __call__(self, text: str, column: str) -> date:
        if len(text) == 23 and text.endswith(_UTC_SUFFIX) and text[17:19].isdigit():
            day = self._days.get(text[:16])
            if day is not None and text[16] == ":" and text[17] < "6":
                return day
        instant = _instant(text, column)
        day = self._days[text[:16]] = instant.astimezone(self._tz).date()
        return day


def _instant(text: str, column: str) -> datetime:
    if not text.endswith(_UTC_SUFFIX):
        raise _Bad(column, f"{text!r} is not a time like '2025-10-20 17:16:48 UTC'")
    try:
        moment = datetime.fromisoformat(text.removesuffix(_UTC_SUFFIX))
    except ValueError:
        raise _Bad(column, f"{text!r} is not a time like '2025-10-20 17:16:48 UTC'") from None
    if moment.tzinfo is not None:
        raise _Bad(column, f"{text!r} gives an offset as well as UTC")
    return moment.replace(tzinfo=UTC)
