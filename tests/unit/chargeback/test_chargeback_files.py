"""The chargeback CSV and workbook: they add up, read back in a spreadsheet, survive any name."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from chargeback_days import DAY, local_archive, row, write_day

from fwcost.archive.csv_export import FORMULA_STARTS
from fwcost.chargeback import (
    CHARGEBACK_COLUMNS,
    SHARED_LABEL,
    UNATTRIBUTED,
    Chargeback,
    Line,
    LineKind,
    chargeback_csv,
    chargeback_files,
    chargeback_xlsx,
    sheet_names,
)
from fwcost.report.unattributed import UnattributedSpend

ROW, SPREAD = UnattributedSpend.ROW, UnattributedSpend.SPREAD
HOSTILE_TEAMS = (
    "=cmd|' /C calc'!A0", "t" * 40, "Search", "search", "[]:*?/\\", "🔥💸 team", "History",
    "Summary", "'quoted'", "+1", "@SUM(A1:A2)", "x" * 31 + "1", "x" * 31 + "2",
)  # fmt: skip


def line(team: str, cents: int, **fields: object) -> Line:
    cells: dict[str, object] = {
        "project": "p", "environment": "prod", "kind": LineKind.SERVERLESS, "api_key_id": "key_1",
        "api_key_name": "k", "model": "m", "deployment": "",
    }  # fmt: skip
    cells.update(fields)
    return Line(team=team, cents=cents, **cells)  # type: ignore[arg-type]


def hostile_chargeback() -> Chargeback:
    """Names as no day CSV would hold them (not neutralised): the writers must cope alone."""
    lines = [
        line(team, 100 + n, project=team, api_key_name=team, model=team, prompt_tokens=n)
        for n, team in enumerate(HOSTILE_TEAMS)
    ]
    lines.append(line(UNATTRIBUTED, 7, kind=LineKind.BILLED_ONLY, deployment="Embeddings"))
    return Chargeback((DAY, date(2026, 11, 3)), tuple(lines), tuple(lines), ROW, ROW)


def read_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_the_csv_has_its_columns_one_row_per_line_and_cents_that_add_up():
    chargeback = hostile_chargeback()

    rows = read_csv(chargeback_csv(chargeback, "2026-11"))

    assert tuple(rows[0]) == CHARGEBACK_COLUMNS
    assert len(rows) == len(chargeback.lines)
    assert sum(Decimal(r["cost_usd"]) for r in rows) * 100 == chargeback.total_cents
    assert {r["month"] for r in rows} == {"2026-11"}


def test_the_csvs_text_cells_never_start_a_formula_and_archived_cells_keep_one_quote():
    archived = "'=cmd|' /C calc'!A0"  # as a day CSV holds the team =cmd|' /C calc'!A0
    lines = (line(archived, 1), *hostile_chargeback().lines)
    chargeback = Chargeback((DAY,), lines, lines, ROW, ROW)

    rows = read_csv(chargeback_csv(chargeback, "=2026-11"))

    for r in rows:
        for column in CHARGEBACK_COLUMNS[:9]:
            assert not r[column].startswith(FORMULA_STARTS), (column, r[column])
    assert [r["team"] for r in rows[:2]] == [archived, archived]  # not ''=cmd...
    assert rows[0]["month"] == "'=2026-11"


def test_sheet_names_are_valid_unique_ignoring_case_and_never_reserved():
    names = sheet_names(HOSTILE_TEAMS, taken=["Summary"])

    assert len({name.casefold() for name in names}) == len(names)
    for name in names:
        assert 0 < len(name.encode("utf-16-le")) // 2 <= 31
        assert not set(name) & set("[]:*?/\\")
        assert not name.startswith("'") and not name.endswith("'")
        assert name.casefold() not in ("history", "summary")
    assert names[2:6] == ["Search", "search (2)", "_______", "🔥💸 team"]
    assert names[0] == "=cmd|' _C calc'!A0"
    assert names[1] == "t" * 31
    assert names[-2:] == ["x" * 31, "x" * 27 + " (2)"]


def test_a_sheet_name_is_never_cut_inside_a_character():
    [name] = sheet_names(["a" * 30 + "🔥"])

    assert name == "a" * 30  # the emoji is two UTF-16 units: it does not fit


def load(body: bytes, *, values: bool = True) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(body), data_only=values)


def team_total(sheet) -> Decimal:
    [last] = sheet.iter_rows(min_row=sheet.max_row, values_only=True)
    assert last[0] == "Total"
    return Decimal(str(last[-1]))


def test_the_workbook_reads_back_with_each_team_its_lines_and_totals_to_the_cent():
    chargeback = hostile_chargeback()

    book = load(chargeback_xlsx(chargeback, "2026-11", "acme-ai"))

    summary = book["Summary"]
    sheets = book.sheetnames[1:]
    assert len(sheets) == len(chargeback.team_cents)
    cells = list(summary.iter_rows(values_only=True))
    table = cells[cells.index(("Team", "Sheet", "Amount (USD)")) + 1 :]
    for (team, cents), sheet_name, (label, named, amount) in zip(
        chargeback.team_cents.items(), sheets, table, strict=True
    ):
        assert label == (team or "Unattributed")
        assert named == sheet_name
        assert Decimal(str(amount)) * 100 == cents
        sheet = book[sheet_name]
        assert sheet["B1"].value == label  # the full name, however the sheet is named
        assert team_total(sheet) * 100 == cents
        lines = chargeback.team_lines(team)
        assert sheet.max_row == 4 + len(lines) + 1
        rows = sheet.iter_rows(min_row=5, max_row=4 + len(lines), values_only=True)
        assert sum(Decimal(str(r[-1])) for r in rows) * 100 == cents
    [total] = [r for r in cells if r[0] == "Total"]
    assert Decimal(str(total[2])) * 100 == chargeback.total_cents


def test_the_summary_has_a_column_chart_of_the_teams_and_states_period_and_policy():
    chargeback = hostile_chargeback()
    body = chargeback_xlsx(chargeback, "2026-11", "acme-ai")

    with zipfile.ZipFile(io.BytesIO(body)) as package:
        [chart] = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
        xml = package.read(chart).decode()
    assert "<c:barChart>" in xml and '<c:barDir val="col"/>' in xml
    assert f"Summary!$A$9:$A${8 + len(chargeback.team_cents)}" in xml
    texts = [c for r in load(body)["Summary"].iter_rows(values_only=True) for c in r if c]
    assert "2026-11-02 to 2026-11-03, 2 archived days" in texts
    assert chargeback.policy_sentence in texts


def test_totals_are_sum_formulas_carrying_their_values():
    book = load(chargeback_xlsx(hostile_chargeback(), "2026-11", "acme-ai"), values=False)

    sheet = book[book.sheetnames[1]]
    [last] = sheet.iter_rows(min_row=sheet.max_row)
    assert last[-1].value == f"=SUM(L5:L{sheet.max_row - 1})"
    assert book["Summary"]["C7"].value.startswith("=SUM(C9:C")


def test_names_that_look_like_formulas_are_text_cells():
    book = load(chargeback_xlsx(hostile_chargeback(), "2026-11", "acme-ai"), values=False)

    sheet = book[book.sheetnames[1]]  # the first team, =cmd...
    assert sheet["B1"].value == "=cmd|' /C calc'!A0"
    assert sheet["B1"].data_type == "s"
    assert sheet["A5"].value == "=cmd|' /C calc'!A0"  # its project
    assert sheet["A5"].data_type == "s"


def test_the_same_chargeback_gives_the_same_bytes_dated_by_its_month():
    first = chargeback_xlsx(hostile_chargeback(), "2026-11", "acme-ai")

    assert chargeback_xlsx(hostile_chargeback(), "2026-11", "acme-ai") == first
    assert load(first).properties.created == datetime(2026, 11, 1)


def test_a_teams_shared_unattributed_spend_is_a_labelled_line_on_its_sheet(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("3.00", team="ads"), row("1.00", team="")])

    files = chargeback_files(archive, [DAY], SPREAD, "2026-11")

    assert files.team_cents == {"ads": 400} and files.total_cents == 400
    assert files.policy is SPREAD
    sheet = load(files.xlsx)["ads"]
    labelled = [r for r in sheet.iter_rows(values_only=True) if SHARED_LABEL in r]
    assert [(r[2], Decimal(str(r[-1]))) for r in labelled] == [(SHARED_LABEL, Decimal("1"))]
    assert read_csv(files.csv)[-1]["usage_kind"] == "shared_unattributed"


def test_an_empty_month_still_gives_both_files(tmp_path):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [])

    files = chargeback_files(archive, [DAY], ROW, "2026-11")

    assert read_csv(files.csv) == []
    book = load(files.xlsx)
    assert book.sheetnames == ["Summary"]
    assert book["Summary"]["C7"].value == 0


@pytest.mark.parametrize("policy", list(UnattributedSpend))
def test_the_files_agree_with_each_other_under_either_policy(tmp_path, policy):
    archive = local_archive(tmp_path)
    write_day(archive, DAY, [row("3.33", team="ads"), row("0.01", team="b"), row("1.01", team="")])

    files = chargeback_files(archive, [DAY], policy, "2026-11")

    assert files.total_cents == 435
    assert sum(Decimal(r["cost_usd"]) for r in read_csv(files.csv)) * 100 == files.total_cents
    book = load(files.xlsx)
    assert sum(team_total(book[name]) for name in book.sheetnames[1:]) * 100 == 435


def test_a_team_with_more_lines_than_a_worksheet_holds_is_refused(monkeypatch):
    monkeypatch.setattr("fwcost.chargeback.workbook.EXCEL_ROWS", 10)
    lines = tuple(line("search", 1, model=f"m{n}") for n in range(6))

    with pytest.raises(ValueError, match="6 lines for team 'search' do not fit in a worksheet"):
        chargeback_xlsx(Chargeback((DAY,), lines, lines, ROW, ROW), "2026-11", "acme-ai")
