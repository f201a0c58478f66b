import csv
import io
from decimal import Decimal

from fwcost.archive import CSV_COLUMNS, UsageCsv, usage_csv
from fwcost.model import DayUsage
from fwcost.report.attribution import AttributedDay, BilledOnlyRow
from fwcost.report.cents import nanos_of, split_cents
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
    assert [r["attributed_cost_usd"] for r in rows] == ["3.40", "0.00", "96.01", "1.50"]
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
