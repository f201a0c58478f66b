"""The month's chargeback workbook (XLSX): a summary sheet with a chart, and a sheet per team.

Summary: the period, the account, the month's total, what happens to unattributed spend, then
each team's total (and the name of its sheet) with a column chart of them. Each team's sheet:
its full name, then its lines (the CSV's columns) and a total row.

For finance to sum in Excel what the CSV says:
- amounts are numbers, each line's cents / 100 exactly (the nearest double to the decimal), in
  a currency format; totals are SUM formulas that also carry their value (cents added up), so a
  reader that computes no formulas (openpyxl) reads the same totals as Excel shows;
- names are always written as text: one starting with `=` never becomes a formula, and they are
  already neutralised as in the CSV;
- the same chargeback gives the same bytes: the created date is the start of the month of the
  period's first day, and xlsxwriter dates every file in the zip 1980-01-01 when it builds the
  workbook in memory.
Sheet names are at most 31 characters (UTF-16 units, as Excel counts), hold none of []:*?/\\ or
control characters, neither start nor end with `'`, are not "History", and are unique ignoring
case: a long or hostile team name gets a shortened, cleaned name with " (2)" and so on added.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter

from fwcost.chargeback.lines import SHARED_LABEL, UNATTRIBUTED, Chargeback, Line, LineKind
from fwcost.report.summary import UNATTRIBUTED_TEAM_LABEL

SUMMARY_SHEET = "Summary"
SHEET_NAME_UNITS = 31  # Excel's limit, in UTF-16 code units
EXCEL_ROWS = 1_048_576
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]")
_RESERVED_SHEET_NAMES = ("history",)  # Excel keeps "History" for itself
CURRENCY = "$#,##0.00;-$#,##0.00"
AMOUNT_NOTE = "Rated amounts in USD, to the cent, before credits, discounts and taxes."
LINE_HEADERS = (
    "Project", "Environment", "Usage kind", "API key id", "API key name", "Model", "Deployment",
    "Prompt tokens", "Cached prompt tokens", "Completion tokens", "Accelerator seconds",
    "Amount (USD)",
)  # fmt: skip
_TEXT_COLUMNS = 7  # the first LINE_HEADERS are text, the rest numbers


def chargeback_xlsx(chargeback: Chargeback, month_label: str, account_id: str) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    first = chargeback.days[0]
    workbook.set_properties(
        {
            "title": f"Chargeback {month_label}",
            "created": datetime(first.year, first.month, 1, tzinfo=UTC),
        }
    )
    styles = _Styles(workbook)
    teams = chargeback.team_cents
    names = sheet_names([_team_label(team) for team in teams], taken=[SUMMARY_SHEET])
    _summary(workbook, styles, chargeback, month_label, account_id,
             list(zip(teams.items(), names, strict=True)))  # fmt: skip
    for (team, cents), name in zip(teams.items(), names, strict=True):
        sheet = workbook.add_worksheet(name)
        _team_sheet(sheet, styles, team, chargeback.team_lines(team), cents, _period(chargeback))
    workbook.close()
    return out.getvalue()


def sheet_names(labels: Sequence[str], *, taken: Iterable[str] = ()) -> list[str]:
    """A valid worksheet name for each label (module docstring), unique ignoring case among
    themselves and `taken`."""
    used = {name.casefold() for name in (*taken, *_RESERVED_SHEET_NAMES)}
    names = []
    for label in labels:
        cleaned = _NOT_IN_SHEET_NAMES.sub("_", label)
        name, number = _fitted(cleaned, ""), 1
        while name.casefold() in used:
            number += 1
            name = _fitted(cleaned, f" ({number})")
        used.add(name.casefold())
        names.append(name)
    return names


def _fitted(name: str, suffix: str) -> str:
    """`name` cut to fit SHEET_NAME_UNITS with `suffix` (never inside a character), no `'` at
    either end, "Team" when nothing is left."""
    room, kept = SHEET_NAME_UNITS - len(suffix), ""
    for character in name:
        if _utf16_units(kept + character) > room:
            break
        kept += character
    return (kept.strip("'").strip() or "Team") + suffix


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class _Styles:
    def __init__(self, workbook: Any) -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.bold = workbook.add_format({"bold": True})
        self.header = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        self.money = workbook.add_format({"num_format": CURRENCY})
        self.total_money = workbook.add_format({"num_format": CURRENCY, "bold": True, "top": 1})
        self.count = workbook.add_format({"num_format": "#,##0"})
        self.total_count = workbook.add_format({"num_format": "#,##0", "bold": True, "top": 1})
        self.total_label = workbook.add_format({"bold": True, "top": 1})


def _summary(
    workbook: Any,
    styles: _Styles,
    chargeback: Chargeback,
    month_label: str,
    account_id: str,
    teams: list[tuple[tuple[str, int], str]],
) -> None:
    sheet = workbook.add_worksheet(SUMMARY_SHEET)
    sheet.write_string(0, 0, f"Fireworks AI chargeback, {month_label}", styles.title)
    facts = (
        ("Period", _period(chargeback)),
        ("Account", account_id),
        ("Unattributed spend", chargeback.policy_sentence),
        ("Amounts", AMOUNT_NOTE),
    )
    for row, (label, text) in enumerate(facts, start=2):
        sheet.write_string(row, 0, label, styles.bold)
        sheet.write_string(row, 1, text)
    first = 8  # the teams' table starts below the facts and the total
    last = first + len(teams) - 1
    sheet.write_string(6, 0, "Total", styles.bold)
    total = f"=SUM(C{first + 1}:C{last + 1})" if teams else "=0"
    sheet.write_formula(6, 2, total, styles.total_money, _dollars(chargeback.total_cents))
    for column, header in enumerate(("Team", "Sheet", "Amount (USD)")):
        sheet.write_string(first - 1, column, header, styles.header)
    for row, ((team, cents), name) in enumerate(teams, start=first):
        sheet.write_string(row, 0, _team_label(team))
        sheet.write_string(row, 1, name)
        sheet.write_number(row, 2, _dollars(cents), styles.money)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 32)
    sheet.set_column(2, 2, 16)
    if teams:
        sheet.insert_chart(first - 1, 4, _teams_chart(workbook, first, last))


def _teams_chart(workbook: Any, first: int, last: int) -> Any:
    chart = workbook.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "Amount (USD)",
            "categories": [SUMMARY_SHEET, first, 0, last, 0],
            "values": [SUMMARY_SHEET, first, 2, last, 2],
        }
    )
    chart.set_title({"name": "Spend by team"})
    chart.set_legend({"none": True})
    chart.set_y_axis({"num_format": "$#,##0"})
    chart.set_size({"width": 720, "height": 360})
    return chart


def _team_sheet(
    sheet: Any, styles: _Styles, team: str, lines: Sequence[Line], cents: int, period: str
) -> None:
    header = 3
    if header + len(lines) + 2 > EXCEL_ROWS:  # xlsxwriter would drop the rows past it silently
        raise ValueError(f"{len(lines)} lines for team {team!r} do not fit in a worksheet")
    sheet.write_string(0, 0, "Team", styles.bold)
    sheet.write_string(0, 1, _team_label(team))
    sheet.write_string(1, 0, "Period", styles.bold)
    sheet.write_string(1, 1, period)
    for column, title in enumerate(LINE_HEADERS):
        sheet.write_string(header, column, title, styles.header)
    for row, line in enumerate(lines, start=header + 1):
        for column, text in enumerate(_texts(line)):
            sheet.write_string(row, column, text)
        for column, count in enumerate(_counts(line), start=_TEXT_COLUMNS):
            sheet.write_number(row, column, count, styles.count)
        sheet.write_number(row, len(LINE_HEADERS) - 1, _dollars(line.cents), styles.money)
    total = header + len(lines) + 1
    sheet.write_string(total, 0, "Total", styles.total_label)
    for column in range(1, _TEXT_COLUMNS):
        sheet.write_blank(total, column, None, styles.total_label)
    sums = [sum(values) for values in zip(*map(_counts, lines), strict=True)] or [0] * 4
    sums_and_cents: list[int | float] = [*sums, _dollars(cents)]
    for column, value in enumerate(sums_and_cents, start=_TEXT_COLUMNS):
        is_amount = column == len(LINE_HEADERS) - 1
        letter = xlsxwriter.utility.xl_col_to_name(column)
        formula = f"=SUM({letter}{header + 2}:{letter}{total})" if lines else "=0"
        style = styles.total_money if is_amount else styles.total_count
        sheet.write_formula(total, column, formula, style, value)
    sheet.set_column(0, _TEXT_COLUMNS - 1, 20)
    sheet.set_column(_TEXT_COLUMNS, len(LINE_HEADERS) - 1, 16)
    sheet.freeze_panes(header + 1, 0)


def _texts(line: Line) -> tuple[str, ...]:
    kind = SHARED_LABEL if line.kind is LineKind.SHARED_UNATTRIBUTED else line.kind.value
    return (line.project, line.environment, kind, line.api_key_id, line.api_key_name,
            line.model, line.deployment)  # fmt: skip


def _counts(line: Line) -> tuple[int, int, int, int]:
    return (line.prompt_tokens, line.cached_prompt_tokens, line.completion_tokens,
            line.accelerator_seconds)  # fmt: skip


def _team_label(team: str) -> str:
    return UNATTRIBUTED_TEAM_LABEL if team == UNATTRIBUTED else team


def _period(chargeback: Chargeback) -> str:
    days = chargeback.days
    return f"{days[0].isoformat()} to {days[-1].isoformat()}, {len(days)} archived days"


def _dollars(cents: int) -> float:
    """Cents as the double nearest the exact dollars (e.g. 1235 -> 12.35)."""
    return float(Decimal(cents).scaleb(-2))
