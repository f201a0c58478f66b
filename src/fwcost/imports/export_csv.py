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
from typing import Any, NoReturn
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
    # Plain tuples and lists in the loop: a million rows, each hashed and summed once.
    sums: dict[tuple[date, str, str, str, str, str], list[Any]] = {}
    spans: dict[date, list[str]] = {}  # the first and last start_time of each day
    try:
        columns = _columns([cell.strip() for cell in next(reader, [])], source)
        rows = _sum_rows(reader, columns, source, _DayOf(tz), sums, spans)
    except (UnicodeDecodeError, csv.Error) as error:
        said = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error)
        raise ExportRowError(
            source, reader.line_num + 1, "(any)", f"{said} (at this line or the next few)"
        ) from None
    return ExportSummary(len(columns), rows, _days(sums, spans))


def _sum_rows(
    reader: Any,
    columns: tuple[str, ...],
    source: str,
    day_of: _DayOf,
    sums: dict[tuple[date, str, str, str, str, str], list[Any]],
    spans: dict[date, list[str]],
) -> int:
    width = len(columns)
    rows = 0
    for cells in reader:
        if not cells:
            continue  # a blank line (the file's last newline doubled, say)
        if len(cells) != width:
            _wrong_width(cells, columns, source, reader.line_num)
        try:
            day, counts = _row(cells, width, day_of)
        except _Bad as bad:
            raise ExportRowError(source, reader.line_num, bad.column, bad.problem) from None
        rows += 1
        key = (day, cells[0].strip(), cells[3].strip(), cells[6].strip(), cells[7].strip(),
               cells[4].strip())  # fmt: skip
        group = sums.get(key)
        if group is None:
            sums[key] = counts
        else:
            group[0] += 1
            group[1] += counts[1]
            group[2] += counts[2]
            group[3] += counts[3]
            group[4] += counts[4]
        start = cells[1]
        span = spans.get(day)
        if span is None:
            spans[day] = [start, start]
        elif start < span[0]:
            span[0] = start
        elif start > span[1]:
            span[1] = start
    return rows


def _row(cells: list[str], width: int, day_of: _DayOf) -> tuple[date, list[Any]]:
    """A row's report day and its counts [requests, prompt, cached, completion, seconds]."""
    start, end = cells[1], cells[2]
    day = day_of(start, "start_time")
    day_of(end, "end_time")
    if end < start and len(start) == len(end) == 23:
        raise _Bad("end_time", f"{end!r} is before start_time {start!r}")
    if not cells[3].strip():
        raise _Bad("usage_type", "is empty")
    try:
        prompt = int(cells[9]) if cells[9] else 0
        completion = int(cells[10]) if cells[10] else 0
        cached = int(cells[11]) if width == 13 and cells[11] else 0
        uncached = int(cells[12]) if width == 13 and cells[12] else 0
        parameters = int(cells[8]) if cells[8] else 0
        if min(prompt, completion, cached, uncached, parameters) < 0:
            raise ValueError
    except ValueError:
        _name_the_bad_count(cells, width)
    if width == 13 and not cells[9]:  # no total given: cached + uncached
        prompt = cached + uncached
    seconds = _seconds(cells[5]) if cells[5] else 0
    return day, [1, prompt, cached, completion, seconds]


def _name_the_bad_count(cells: list[str], width: int) -> NoReturn:
    """Raise _Bad for the first count column that is not a whole number from 0 up."""
    for position in range(8, width):
        _count(cells[position], COLUMNS_13[position])
    raise AssertionError("a count failed to parse, yet each parses on its own")


def _days(
    sums: dict[tuple[date, str, str, str, str, str], list[Any]], spans: dict[date, list[str]]
) -> dict[date, ExportDay]:
    days = {day: ExportDay(first_start=span[0], last_start=span[1]) for day, span in spans.items()}
    for (day, *names), (requests, prompt, cached, completion, seconds) in sums.items():
        days[day].groups[GroupKey(day, *names)] = GroupSums(
            requests, prompt, cached, completion, Decimal(seconds)
        )
    return days


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
