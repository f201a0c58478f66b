import csv
import io
import re
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fwcost.archive import CSV_COLUMNS, UsageCsv, usage_csv
from fwcost.archive.csv_export import FORMULA_STARTS, NUMERIC_COLUMNS, _encoded, text_cell
from fwcost.model import DayUsage, TrainingUsage
from fwcost.report.attribution import AttributedDay, BilledOnlyRow
from fwcost.report.cents import nanos_of, split_cents
from fwcost.simulator.catalog import HOSTILE_NAMES
from samples import sample_day


def read_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


def costed(
    usage: DayUsage, serverless: list[str], dedicated: list[str], billed_only: str
) -> AttributedDay:
    """Rows' exact dollars and their cents by the one rounding, as attribute_day gives them."""
    exact = [Decimal(v) for v in [*serverless, *dedicated, billed_only]]
    cents = split_cents([nanos_of(v) for v in exact])
    return AttributedDay(
        day=usage.day, teams={}, billed_only={}, total=sum(exact), total_cents=sum(cents),
        billed_total=None, estimated_total=Decimal(0), estimated_cents=0,
        key_source="allocation",
        serverless_costs=exact[: len(serverless)],
        dedicated_costs=exact[len(serverless) : -1],
        serverless_cents=cents[: len(serverless)],
        dedicated_cents=cents[len(serverless) : -1],
        billed_only_rows=[BilledOnlyRow("Embeddings", "nomic", exact[-1], cents[-1])],
    )  # fmt: skip


def test_one_row_per_group_with_documented_columns_and_costs_that_sum():
    usage = sample_day()
    costs = costed(usage, ["3.404", "0.001234567"], ["96.006"], "1.5")
    body = usage_csv(usage, "acme-ai", "America/Los_Angeles", costs)
    header = body.decode().splitlines()[0].split(",")
    assert tuple(header) == CSV_COLUMNS
    rows = read_rows(body)
    assert [r["usage_kind"] for r in rows] == [
        "serverless",
        "serverless",
        "dedicated",
        "billed_only",
    ]
    assert rows[0]["prompt_tokens"] == "1842301" and rows[0]["team"] == "search"
    assert rows[1]["api_key_name"] == 'batch, "nightly"'  # quoted, survives the round trip
    assert rows[2]["accelerator_seconds"] == "86400" and rows[2]["deployment"] == "ranker-h100"
    assert rows[3]["category"] == "Embeddings"
    assert all(r["day"] == "2026-11-21" and r["timezone"] == "America/Los_Angeles" for r in rows)
    # The column holds the rows' cents: it sums to the day's total to the cent (100.91)
    # One running total rounds the rows (cents.split_cents): each within a cent of its exact
    # dollars, the first two 3.405… → $3.41 together
    assert [r["attributed_cost_usd"] for r in rows] == ["3.40", "0.01", "96.00", "1.50"]
    assert sum(Decimal(r["attributed_cost_usd"]) for r in rows) == Decimal("100.91")


def test_without_costs_the_cost_column_is_empty():
    rows = read_rows(usage_csv(sample_day(), "acme-ai", "UTC", None))
    assert len(rows) == 3 and {r["attributed_cost_usd"] for r in rows} == {""}


def test_a_team_csv_holds_that_team_alone():
    rows = read_rows(usage_csv(sample_day(), "acme-ai", "UTC", None, team="search"))
    assert {r["team"] for r in rows} == {"search"}
    assert [r["usage_kind"] for r in rows] == ["serverless", "dedicated"]


def test_team_slices_are_the_whole_days_lines_of_that_team_without_billed_only_rows():
    # Given a day with costs and a billed-only row
    usage = sample_day()
    costs = costed(usage, ["3", "0.5"], ["96"], "1")
    # When the whole day and each team's slice come from one UsageCsv
    day_csv = UsageCsv(usage, "acme-ai", "UTC", costs)
    whole = day_csv.body().decode().splitlines(keepends=True)
    # Then each slice is the header plus that team's lines of the whole day, in order
    teams = {row.team for row in usage.serverless} | {row.team for row in usage.dedicated}
    for team in teams:
        expected = [whole[0]] + [
            line
            for line, row in zip(whole[1:], read_rows(day_csv.body()), strict=True)
            if row["team"] == team and row["usage_kind"] != "billed_only"
        ]
        assert day_csv.body(team).decode().splitlines(keepends=True) == expected
    assert day_csv.body("nobody").decode().splitlines(keepends=True) == [whole[0]]
    assert day_csv.body() == usage_csv(usage, "acme-ai", "UTC", costs)


@given(teams=st.lists(st.sampled_from(["search", "ads", "", "a,b"]), min_size=1, max_size=12))
def test_team_slices_hold_each_teams_lines_however_its_rows_are_interleaved(teams):
    # Given serverless rows whose teams come in runs or interleaved, a dedicated row last
    usage = sample_day()
    usage.serverless = [replace(usage.serverless[0], team=team) for team in teams]
    day_csv = UsageCsv(usage, "acme-ai", "UTC", None)
    whole = day_csv.body().splitlines(keepends=True)
    owners = [*teams, usage.dedicated[0].team]
    # Then each team's slice is the header plus its lines, in the day's order
    for team in {*owners, "nobody"}:
        mine = [line for line, owner in zip(whole[1:], owners, strict=True) if owner == team]
        assert day_csv.body(team) == b"".join([whole[0], *mine])


def test_text_cells_are_neutralised_against_formulas_and_numbers_are_not() -> None:
    # Given rows whose every name is hostile, and a negative amount (a credit)
    day = sample_day()
    template = day.serverless[0]
    names = [*HOSTILE_NAMES, "=1+1", "-negative", "+plus", "@at", "\tTab", "\rCR", "plain"]
    day.serverless = [
        replace(template, model=name, api_key_id=name, api_key_name=name, team=name,
                project=name, environment=name, usage_type=name)
        for name in names
    ]  # fmt: skip
    day.dedicated = []
    costs = AttributedDay(
        day=day.day, teams={}, billed_only={}, total=Decimal(0), total_cents=0, billed_total=None,
        estimated_total=Decimal(0), estimated_cents=0, key_source="allocation",
        serverless_costs=[Decimal("-1.5")] * len(names), serverless_cents=[-150] * len(names),
        billed_only_rows=[BilledOnlyRow("=cmd|' /C calc'!A0", "-detail", Decimal("-2"), -200)],
    )  # fmt: skip

    # When the CSV is written (and read back as a spreadsheet or Athena would)
    day_csv = UsageCsv(day, "acme-ai", "UTC", costs)
    rows = read_rows(day_csv.body())

    # Then no text cell starts a formula, each holds its name behind one "'", numbers stay numbers
    for row in rows:
        for column, cell in row.items():
            if column in NUMERIC_COLUMNS:
                assert cell == "" or Decimal(cell) is not None
            else:
                assert not cell.startswith(FORMULA_STARTS), (column, cell)
    # (a line break in a name is a space: each name is one row, one line, on any Python)
    assert len(day_csv.body().splitlines()) == len(rows) + 1
    for row, name in zip(rows[:-1], names, strict=True):
        one_line = re.sub(r"[\r\n]+", " ", name)
        expected = "'" + one_line if one_line.startswith(FORMULA_STARTS) else one_line
        assert row["team"] == row["model"] == row["api_key_name"] == expected
        assert row["attributed_cost_usd"] == "-1.50"
    assert rows[-1]["category"] == "'=cmd|' /C calc'!A0" and rows[-1]["model"] == "'-detail"
    assert rows[-1]["attributed_cost_usd"] == "-2.00"
    # A team's slice is still found by its name as annotated
    assert read_rows(day_csv.body("=1+1"))[0]["team"] == "'=1+1"


def test_a_neutralised_cell_is_written_again_unchanged() -> None:
    # (the month's chargeback reads names back from the day CSVs and writes them out again)
    for name in [*HOSTILE_NAMES, "=cmd|' /C calc'!A0", "'=already", "plain", ""]:
        cell = text_cell(name)
        assert text_cell(cell) == cell
        assert not cell.startswith(FORMULA_STARTS)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.text(max_size=12), min_size=9, max_size=9), seconds=st.floats(0, 1e6))
def test_every_line_is_what_csv_writer_writes_for_the_neutralised_cells(names, seconds):
    # Given rows whose every text cell is any text (commas, quotes, line breaks, formulas...)
    day = sample_day()
    model, key, key_name, team, project, environment, usage_type, base, deployment = names
    day.serverless = [
        replace(day.serverless[0], model=model, api_key_id=key, api_key_name=key_name, team=team,
                project=project, environment=environment, usage_type=usage_type,
                audio_input_seconds=seconds)
    ]  # fmt: skip
    day.dedicated = [replace(day.dedicated[0], base_model=base, deployment=deployment, team=team)]
    day.training = [
        TrainingUsage(day.day, deployment, "SFT", base, key, team, project, environment, "T", 7)
    ]
    costs = AttributedDay(
        day=day.day, teams={}, billed_only={}, total=Decimal(0), total_cents=0, billed_total=None,
        estimated_total=Decimal(0), estimated_cents=0, key_source="allocation",
        serverless_cents=[-150], dedicated_cents=[3], training_cents=[0],
        billed_only_rows=[BilledOnlyRow(model, key_name, Decimal("1"), 100)],
    )  # fmt: skip

    # When the CSV is written
    body = usage_csv(day, "acme,ai", 'UTC"', costs)

    # Then it is byte for byte what csv.writer writes for the same neutralised cells
    def cell(value: str) -> str:
        value = re.sub(r"[\r\n]+", " ", value)
        return "'" + value if value.startswith(FORMULA_STARTS) else value

    s, d, t = day.serverless[0], day.dedicated[0], day.training[0]
    head = (day.day.isoformat(), cell('UTC"'), cell("acme,ai"))
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerows([
        CSV_COLUMNS,
        (*head, "serverless", cell(s.model), cell(s.api_key_id), cell(s.api_key_name), "", "",
         "", "", cell(s.team), cell(s.project), cell(s.environment), cell(s.usage_type), "",
         s.prompt_tokens, s.cached_prompt_tokens, s.completion_tokens,
         repr(seconds) if seconds else "0", 0, "-1.50"),
        (*head, "dedicated", cell(d.base_model), "", "", cell(d.deployment), "",
         cell(d.accelerator_type), cell(d.placement), cell(d.team), cell(d.project),
         cell(d.environment), cell(d.usage_type), "", 0, 0, 0, 0, d.accelerator_seconds, "0.03"),
        (*head, "training", cell(t.base_model), "", "", "", cell(t.job_id),
         cell(t.accelerator_type), "", cell(t.team), cell(t.project), cell(t.environment),
         cell(t.usage_type), "", 0, 0, 0, 0, 7, "0.00"),
        (*head, "billed_only", cell(key_name), "", "", "", "", "", "", "", "", "", "",
         cell(model), 0, 0, 0, 0, 0, "1.00"),
    ])  # fmt: skip
    assert body.decode() == expected.getvalue()


def test_lines_encoded_a_batch_at_a_time_are_the_bytes_of_their_join() -> None:
    lines = [f"{n},modèle-日本-🚀,{n * 7}\n" for n in range(10)]
    for batch in (1, 3, 10, 11):
        assert _encoded(iter(lines), batch) == "".join(lines).encode()
    assert _encoded(iter([]), 3) == b""
