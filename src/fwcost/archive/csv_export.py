"""The normalized CSV: one row per day × group, for Athena, a spreadsheet or an auditor.

Columns and units (the Glue table in template.yaml declares the same list; a test keeps them equal):

| column               | meaning                                                              |
|----------------------|----------------------------------------------------------------------|
| day                  | report day, YYYY-MM-DD, a calendar day in `timezone`                 |
| timezone             | IANA name of the report timezone                                     |
| account_id           | Fireworks account id                                                 |
| usage_kind           | serverless, dedicated, training, or billed_only (cost with no usage) |
| model                | model resource name (serverless) or base model (dedicated, training) |
| api_key_id           | Fireworks API key id (serverless only)                               |
| api_key_name         | API key display name                                                 |
| deployment           | dedicated deployment name                                            |
| job_id               | training job id                                                      |
| accelerator_type     | e.g. NVIDIA_H100_80GB                                                |
| placement            | deployment region, e.g. US_IOWA_1                                    |
| team                 | `team` annotation; empty = unattributed                              |
| project              | `project` annotation                                                 |
| environment          | `environment` annotation                                             |
| usage_type           | Fireworks usage type, e.g. TEXT_COMPLETION_INFERENCE_USAGE           |
| category             | billing category (billed_only rows), e.g. Embeddings                 |
| prompt_tokens        | input tokens, count (includes cached)                                |
| cached_prompt_tokens | input tokens served from cache, count                                |
| completion_tokens    | output tokens, count                                                 |
| audio_input_seconds  | audio input, seconds                                                 |
| accelerator_seconds  | GPU time, accelerator-seconds                                        |
| attributed_cost_usd  | USD to the cent, e.g. 12.35: the row's cents (report/cents.py); the  |
|                      | column sums to the day's total and every figure in the reports is a  |
|                      | sum of these cents                                                   |

Text cells are neutralised: names come from whoever annotates a key or names a model.
- Against spreadsheet formula injection (OWASP "CSV injection"), a text cell starting with `=`,
  `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (`=HYPERLINK(...)` is written
  `'=HYPERLINK(...)`), which a spreadsheet shows as text. The numeric columns (prompt_tokens
  through attributed_cost_usd) never are: a negative amount stays a number.
- A line break in a name (CR, LF) is written as one space, so every row is one line: Athena's
  OpenCSVSerde cannot read a quoted line break, and before Python 3.13 the csv writer left a
  bare CR unquoted, splitting the row for any reader.
Athena reads the cells as written (a prefixed name keeps its `'`); the raw JSON has the names
exactly as Fireworks sent them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, groupby, islice, repeat
from operator import attrgetter
from typing import Protocol

from fwcost.model import DayUsage
from fwcost.report.cents import cents_text

CSV_COLUMNS: tuple[str, ...] = (
    "day",
    "timezone",
    "account_id",
    "usage_kind",
    "model",
    "api_key_id",
    "api_key_name",
    "deployment",
    "job_id",
    "accelerator_type",
    "placement",
    "team",
    "project",
    "environment",
    "usage_type",
    "category",
    "prompt_tokens",
    "cached_prompt_tokens",
    "completion_tokens",
    "audio_input_seconds",
    "accelerator_seconds",
    "attributed_cost_usd",
)
# Written as numbers, never neutralised (see the module docstring); every other column is text.
NUMERIC_COLUMNS = CSV_COLUMNS[CSV_COLUMNS.index("prompt_tokens") :]


class CostedRows(Protocol):
    """Attributed cents, position by position with the DayUsage lists (an AttributedDay)."""

    @property
    def serverless_cents(self) -> Sequence[int]: ...
    @property
    def dedicated_cents(self) -> Sequence[int]: ...
    @property
    def training_cents(self) -> Sequence[int]: ...
    @property
    def billed_only_rows(self) -> Sequence[BilledOnly]: ...


class BilledOnly(Protocol):
    @property
    def category(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def cents(self) -> int: ...


def usage_csv(
    usage: DayUsage,
    account_id: str,
    timezone: str,
    costs: CostedRows | None,
    *,
    team: str | None = None,
) -> bytes:
    """The day's normalized CSV (UTF-8, header row, RFC 4180 quoting).

    With `team`, only that team's rows: a team's report carries its own slice alone.
    """
    return UsageCsv(usage, account_id, timezone, costs).body(team)


class UsageCsv:
    """The day's CSV, written once: the whole day's body, and each team's slice cut from it
    (the reports need all of them: one pass instead of one a team).

    Every row is one line ending in "\n" (text cells hold no line break, see above), so the
    body's lines are its rows and a team's slice is the header plus its rows' lines.
    """

    def __init__(
        self, usage: DayUsage, account_id: str, timezone: str, costs: CostedRows | None
    ) -> None:
        text = _TextCells()
        head = f"{usage.day.isoformat()},{text[timezone]},{text[account_id]},"
        lines = chain([_header_line()], _csv_lines(usage, head, costs, text, _CostTexts()))
        self._usage = usage
        self._body = _encoded(lines)
        self._team_bodies: dict[str, bytes] | None = None

    @classmethod
    def of_body(cls, usage: DayUsage, body: bytes) -> UsageCsv:
        """The CSV `usage_csv` wrote for `usage`, from its bytes: nothing is written again."""
        day_csv = cls.__new__(cls)
        day_csv._usage, day_csv._body, day_csv._team_bodies = usage, body, None
        return day_csv

    def body(self, team: str | None = None) -> bytes:
        """The whole day, or with `team` only that team's rows (same order, same header)."""
        if team is None:
            return self._body
        if self._team_bodies is None:
            self._team_bodies = self._by_team()
        return self._team_bodies.get(team) or self._body[: self._body.index(b"\n") + 1]

    def _by_team(self) -> dict[str, bytes]:
        """Each team's slice, copied from the body a run of lines at a time, never an object
        per line held (a million-row day's lines as bytes objects would be hundreds of MB)."""
        usage = self._usage
        lines = io.BytesIO(self._body)  # shares the body's bytes, copies nothing
        header = lines.readline()
        slices: dict[str, io.BytesIO] = {}
        owners = chain.from_iterable(
            map(attrgetter("team"), stream)
            for stream in (usage.serverless, usage.dedicated, usage.training)
        )
        # Each run of one team's rows is copied at once (rows come grouped by key, so runs
        # are long). Billed-only lines come last and have no owner: no slice carries them.
        for team, run in groupby(owners):
            out = slices.get(team)
            if out is None:
                out = slices[team] = io.BytesIO()
                out.write(header)
            out.writelines(islice(lines, len(list(run))))
        return {team: out.getvalue() for team, out in slices.items()}


def _encoded(lines: Iterable[str], batch: int = 10_000) -> bytes:
    """The lines as one UTF-8 body, encoded a batch at a time: a million-row day's lines are
    never all held as text at once (the same bytes as encoding their join)."""
    out, rest = io.BytesIO(), iter(lines)
    while piece := list(islice(rest, batch)):
        out.write("".join(piece).encode())
    return out.getvalue()


def _header_line() -> str:
    lines: list[str] = []
    csv.writer(_Lines(lines), lineterminator="\n").writerow(CSV_COLUMNS)
    return lines[0]


class _Lines:
    """A csv.writer target that keeps each line written."""

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append


def _csv_lines(
    usage: DayUsage, head: str, costs: CostedRows | None, t: _TextCells, cost: _CostTexts
) -> Iterator[str]:
    """The CSV's lines stream by stream (serverless, dedicated, training, billed-only), each
    row formatted as csv.writer (QUOTE_MINIMAL) writes it: text cells come from `t`, which
    neutralises and quotes each distinct value once; numbers are written as str() writes them
    (audio seconds as repr, 0 when none), amounts as `cost` writes them.
    tests/unit/archive/test_csv_export.py holds the lines to csv.writer's."""
    for s, cents in zip(
        usage.serverless,
        _cost_texts(costs.serverless_cents if costs else None, len(usage.serverless), cost),
        strict=True,
    ):
        yield (f"{head}serverless,{t[s.model]},{t[s.api_key_id]},{t[s.api_key_name]},,,,,"
               f"{t[s.team]},{t[s.project]},{t[s.environment]},{t[s.usage_type]},,"
               f"{s.prompt_tokens},{s.cached_prompt_tokens},{s.completion_tokens},"
               f"{_seconds(s.audio_input_seconds)},0,{cents}\n")  # fmt: skip
    for d, cents in zip(
        usage.dedicated,
        _cost_texts(costs.dedicated_cents if costs else None, len(usage.dedicated), cost),
        strict=True,
    ):
        yield (f"{head}dedicated,{t[d.base_model]},,,{t[d.deployment]},,{t[d.accelerator_type]},"
               f"{t[d.placement]},{t[d.team]},{t[d.project]},{t[d.environment]},"
               f"{t[d.usage_type]},,0,0,0,0,{d.accelerator_seconds},{cents}\n")  # fmt: skip
    for tr, cents in zip(
        usage.training,
        _cost_texts(costs.training_cents if costs else None, len(usage.training), cost),
        strict=True,
    ):
        yield (f"{head}training,{t[tr.base_model]},,,,{t[tr.job_id]},{t[tr.accelerator_type]},,"
               f"{t[tr.team]},{t[tr.project]},{t[tr.environment]},{t[tr.usage_type]},,"
               f"0,0,0,0,{tr.accelerator_seconds},{cents}\n")  # fmt: skip
    for row in costs.billed_only_rows if costs else ():
        yield (f"{head}billed_only,{t[row.detail]},,,,,,,,,,,{t[row.category]},0,0,0,0,0,"
               f"{cost[row.cents]}\n")  # fmt: skip


# What a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAKS = re.compile(r"[\r\n]+")


def text_cell(value: str) -> str:
    """A name as a text cell is written (the module docstring): line breaks as one space, a
    leading `'` before a formula start. Applying it to its own result changes nothing, so a
    cell read back from the CSV can be written out again through here."""
    cell = _LINE_BREAKS.sub(" ", value) if "\r" in value or "\n" in value else value
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


class _TextCells(dict[str, str]):
    """Each distinct text value, made safe once: `cells[value]` is the cell to write, quoted
    as csv.writer quotes (QUOTE_MINIMAL: a cell holding the delimiter or a quote).

    A day repeats the same few names on every row, so the work is per name, not per cell.
    """

    def __missing__(self, value: str) -> str:
        cell = text_cell(value)
        if "," in cell or '"' in cell:
            cell = '"' + cell.replace('"', '""') + '"'
        self[value] = cell
        return cell


class _CostTexts(dict[int, str]):
    """Each distinct amount in cents as its text (cents_text), written once: a day's rows
    share a few thousand amounts, so the work is per amount, not per row."""

    def __missing__(self, cents: int) -> str:
        text = self[cents] = cents_text(cents)
        return text


def _cost_texts(column: Sequence[int] | None, count: int, cost: _CostTexts) -> Iterable[str]:
    """One stream's cost column as text; blank on every row when there are no costs."""
    return repeat("", count) if column is None else map(cost.__getitem__, column)


def _seconds(value: float) -> str:
    return repr(value) if value else "0"
