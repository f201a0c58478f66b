from collections import defaultdict
from datetime import date
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from report_helpers import (
    DAY,
    audio_row,
    gpu_row,
    item,
    key_cost,
    text_row,
    training_row,
    version_1,
)

from fwcost.model import DayUsage
from fwcost.report.attribution import (
    NO_BILL_NOTE,
    NO_KEY_COSTS_NOTE,
    AttributedDay,
    RowCosts,
    attribute_day,
    split_nanos,
)
from fwcost.report.cents import cents_of
from fwcost.report.pricebook import load_price_book
from fwcost.report.summary import summarize
from report_fixtures import demo_context, demo_usage

PRICES = load_price_book()


def row_total(day: AttributedDay) -> Decimal:
    return (
        sum(day.serverless_costs, Decimal(0))
        + sum(day.dedicated_costs, Decimal(0))
        + sum(day.training_costs, Decimal(0))
        + sum((row.cost for row in day.billed_only_rows), Decimal(0))
    )


def test_demo_day_every_view_adds_up_to_the_bill_to_the_cent():
    usage = demo_usage(date(2026, 11, 20))
    bill = sum((li.total_cost for li in usage.line_items), Decimal(0))

    day = attribute_day(usage, PRICES)
    summary = summarize(day, {}, demo_context(day.day, top_n=3))

    assert day.total == bill
    assert row_total(day) == bill
    assert day.total_cents == cents_of(bill)
    for name in ("teams", "projects", "environments", "keys", "models", "deployments"):
        view = summary.views[name]
        assert sum(row.cents for row in view.rows) == view.total == cents_of(bill), name
    labels = {row.label for row in summary.views["teams"].rows}
    assert "Unattributed" in labels
    assert "Billed, not in usage data (Embeddings)" in labels


def test_line_item_ids_match_usage_resource_names_and_share_by_weighted_tokens():
    # Given two keys on kimi with output-heavy vs input-heavy use
    usage = DayUsage(
        day=DAY,
        serverless=[
            text_row("kimi-k2p6", "a", "search", 1_000_000, 0),
            text_row("kimi-k2p6", "b", "ads", 0, 1_000_000),
        ],
        line_items=[item("Text Completion", "model", "kimi-k2p6", "10.00")],
        key_costs=None,
    )
    day = attribute_day(usage, PRICES)
    # Then output tokens weigh 4.00 against input 0.95
    assert day.serverless_costs == [Decimal("1.919191919"), Decimal("8.080808081")]
    assert day.estimated_total == 0


def test_model_bucket_covers_models_without_their_own_line_item():
    usage = DayUsage(
        day=DAY,
        serverless=[
            text_row("kimi-k2p6", "a", "t", 1_000_000),
            text_row("llama-v3p3-70b-instruct", "a", "t", 1_000_000),
            text_row("qwen3-30b-a3b", "b", "u", 1_000_000),
        ],
        line_items=[
            item("Text Completion", "model", "kimi-k2p6", "1.00"),
            item("Text Completion", "model_bucket", "16.1B+", "3.00"),
        ],
    )
    day = attribute_day(usage, PRICES)
    assert day.serverless_costs[0] == Decimal("1.00")
    # llama (0.90/M) and qwen (0.50/M) share the bucket by their prices
    assert day.serverless_costs[1] == Decimal("1.928571429")
    assert day.serverless_costs[2] == Decimal("1.071428571")
    assert any(check.label == "model bucket 16.1B+" for check in day.price_checks)


def test_batch_line_item_goes_to_batch_rows_when_usage_tells_them_apart():
    usage = DayUsage(
        day=DAY,
        serverless=[
            text_row("gpt-oss-120b", "a", "t", 1_000_000),
            text_row("gpt-oss-120b", "b", "t", 1_000_000, usage_type="BATCH_INFERENCE_USAGE"),
        ],
        line_items=[
            item("Text Completion", "model", "gpt-oss-120b", "2.00", ("is_batch", "false")),
            item("Text Completion", "model", "gpt-oss-120b", "0.50", ("is_batch", "true")),
        ],
    )
    day = attribute_day(usage, PRICES)
    assert day.serverless_costs == [Decimal("2.00"), Decimal("0.50")]


def test_batch_item_without_batch_rows_shares_over_the_models_rows():
    usage = DayUsage(
        day=DAY,
        serverless=[
            text_row("gpt-oss-120b", "a", "t", 3_000_000),
            text_row("gpt-oss-120b", "b", "u", 1_000_000),
        ],
        line_items=[
            item("Text Completion", "model", "gpt-oss-120b", "4.00"),
            item("Text Completion", "model", "gpt-oss-120b", "2.00", ("is_batch", "true")),
        ],
    )
    day = attribute_day(usage, PRICES)
    assert day.serverless_costs == [Decimal("4.50"), Decimal("1.50")]


def test_audio_dedicated_and_training_items_follow_their_usage():
    usage = DayUsage(
        day=DAY,
        serverless=[audio_row("a", "support", 600.0), audio_row("b", "sales", 1800.0)],
        dedicated=[
            gpu_row("dep-1", "NVIDIA_H100_80GB", "search", 3600),
            gpu_row("dep-2", "NVIDIA_H100_80GB", "ads", 10800),
            gpu_row("dep-3", "NVIDIA_B200_180GB", "research", 3600),
        ],
        training=[training_row("job-1", "NVIDIA_A100_80GB", "research", 7200)],
        line_items=[
            item("Audio Transcription", "model", "whisper-v3", "1.00"),
            item("Dedicated Deployment", "accelerator_type", "NVIDIA_H100_80GB", "16.00"),
            item("Dedicated Deployment", "deployment_name", "dep-3", "9.50"),
            item("Fine-tuning", "", "", "5.80"),
        ],
    )
    day = attribute_day(usage, PRICES)
    assert day.serverless_costs == [Decimal("0.25"), Decimal("0.75")]
    assert day.dedicated_costs == [Decimal("4.00"), Decimal("12.00"), Decimal("9.50")]
    assert day.training_costs == [Decimal("5.80")]
    assert day.total == Decimal("32.30") == row_total(day)


def test_items_with_no_usage_become_billed_only_rows_by_category():
    usage = DayUsage(
        day=DAY,
        serverless=[text_row("kimi-k2p6", "a", "t", 1000)],
        line_items=[
            item("Text Completion", "model", "kimi-k2p6", "1.00"),
            item("Embeddings", "model", "nomic-embed", "2.00"),
            item("Embeddings", "model", "bge", "0.50"),
            item("Image Generation", "model", "flux", "3.00"),
        ],
    )
    day = attribute_day(usage, PRICES)
    assert {category: (a.cost, a.cents) for category, a in day.billed_only.items()} == {
        "Embeddings": (Decimal("2.50"), 250),
        "Image Generation": (Decimal("3.00"), 300),
    }
    assert day.total == Decimal("6.50") == row_total(day)


def test_usage_without_a_line_item_is_estimated_from_the_price_book_and_flagged():
    usage = DayUsage(
        day=DAY,
        serverless=[
            text_row("kimi-k2p6", "a", "t", 1_000_000),
            text_row("gpt-oss-120b", "a", "t", 2_000_000, 1_000_000),
        ],
        line_items=[item("Text Completion", "model", "kimi-k2p6", "1.00")],
    )
    day = attribute_day(usage, PRICES)
    # gpt-oss-120b: 2M x 0.15 + 1M x 0.60 = 0.90, priced from the book
    assert day.serverless_costs == [Decimal("1.00"), Decimal("0.900000000")]
    assert day.billed_total == Decimal("1.00")
    assert day.estimated_total == Decimal("0.90")
    assert day.total == Decimal("1.90")
    assert day.teams["t"].models["gpt-oss-120b"].estimated == Decimal("0.90")
    assert any("gpt-oss-120b" in note and "list price" in note for note in day.notes)


def test_unattributed_usage_is_its_own_team():
    usage = DayUsage(
        day=DAY,
        serverless=[text_row("kimi-k2p6", "a", "", 1000), text_row("kimi-k2p6", "b", "t", 3000)],
        line_items=[item("Text Completion", "model", "kimi-k2p6", "4.00")],
    )
    day = attribute_day(usage, PRICES)
    assert day.teams[""].amount.cost == Decimal("1.00")


def test_key_costs_steer_per_key_dollars_while_the_model_total_stays_billed():
    # Given two keys with equal tokens but usageCosts says key a cost three times key b
    usage = DayUsage(
        day=DAY,
        serverless=[
            text_row("kimi-k2p6", "a", "t", 1_000_000),
            text_row("kimi-k2p6", "b", "u", 1_000_000),
        ],
        line_items=[item("Text Completion", "model", "kimi-k2p6", "8.00")],
        key_costs=[key_cost("a", "6.30"), key_cost("b", "2.10")],
    )
    day = attribute_day(usage, PRICES)
    assert day.key_source == "usage_costs"
    assert day.serverless_costs == [Decimal("6.00"), Decimal("2.00")]
    assert sum(day.serverless_costs) == Decimal("8.00")


def test_missing_key_costs_estimates_keys_from_the_allocation_and_says_so():
    usage = demo_usage(DAY)
    usage.key_costs = None
    day = attribute_day(usage, PRICES)
    assert day.key_source == "allocation"
    assert NO_KEY_COSTS_NOTE in day.notes
    assert day.total == sum((li.total_cost for li in usage.line_items), Decimal(0))


def test_missing_summary_estimates_everything_and_says_so_loudly():
    usage = demo_usage(DAY)
    usage.has_summary = False
    usage.line_items = []
    day = attribute_day(usage, PRICES)
    assert not day.has_bill
    assert day.billed_total is None
    assert day.total == day.estimated_total > 0
    assert row_total(day) == day.total
    assert day.notes[0] == NO_BILL_NOTE


def test_json_round_trip_keeps_group_totals_and_stays_small():
    day = attribute_day(demo_usage(DAY), PRICES)
    document = day.to_json()
    again = AttributedDay.from_json(document)
    assert again.total == day.total
    assert (again.total_cents, again.estimated_cents) == (day.total_cents, day.estimated_cents)
    assert again.teams == day.teams
    assert again.billed_only == day.billed_only
    assert again.price_checks == day.price_checks
    assert again.serverless_costs == []  # rows live in the CSV, not here
    with pytest.raises(ValueError, match="version"):
        AttributedDay.from_json({**document, "version": 99})


def test_version_1_archives_are_read_with_cents_that_add_up():
    # Given a day archived before cents were (version 1: exact dollars alone)
    day = attribute_day(demo_usage(DAY), PRICES)
    old = AttributedDay.from_json(version_1(day.to_json()))

    # Then its figures get cents by the same rule, a level at a time, and its tables add up
    assert old.teams.keys() == day.teams.keys()
    assert old.billed_only.keys() == day.billed_only.keys()
    assert old.total_cents == cents_of(day.total) == day.total_cents
    parts = [g.amount for g in old.teams.values()] + list(old.billed_only.values())
    assert sum(part.cents for part in parts) == old.total_cents
    for groups in old.teams.values():
        for breakdown in groups.breakdowns():
            assert sum(amount.cents for amount in breakdown) == groups.amount.cents
            parts += breakdown
    # each within a cent of its exact dollars
    assert all(abs(part.cents - part.cost * 100) < 1 for part in parts)
    assert [c.billed_cents for c in old.price_checks] == [
        None if c.billed is None else cents_of(c.billed) for c in day.price_checks
    ]


def test_team_slice_holds_only_that_team():
    day = attribute_day(demo_usage(DAY), PRICES)
    search = day.for_team("search")
    assert list(search.teams) == ["search"]
    assert search.total == day.teams["search"].amount.cost
    assert search.total_cents == day.teams["search"].amount.cents
    assert search.billed_only == {}
    assert not any("Embeddings" in note for note in search.notes)


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        ("1.00", [1, 1, 1], ["0.333333334", "0.333333333", "0.333333333"]),
        ("0.000000002", [1, 1, 1], ["0.000000001", "0.000000001", "0"]),
        ("5", [0, 0], ["2.5", "2.5"]),
    ],
)
def test_split_nanos_is_exact(total, weights, expected):
    shares = split_nanos(Decimal(total), weights)
    assert sum(shares) == Decimal(total)
    assert shares == [Decimal(e) for e in expected]


@pytest.mark.parametrize(
    "total",
    [
        "1000000000000.999999999",  # MAX_MONEY_UNITS: past float precision (2^53 nanos, ~$9M)
        "9007199.254740993",  # just past 2^53 nanos
    ],
)
def test_split_nanos_stays_exact_where_floats_run_out(total):
    weights = [0.1, 0.2, 0.3, 1e-9, 7.0, 123456.789]
    shares = split_nanos(Decimal(total), weights)
    assert sum(shares) == Decimal(total)
    # each share within a nano of its exact part
    weight_sum = sum(map(Fraction, weights))
    for share, weight in zip(shares, weights, strict=True):
        exact = Fraction(Decimal(total)) * Fraction(weight) / weight_sum
        assert abs(Fraction(share) - exact) < Fraction(1, 10**9)


def test_split_nanos_of_an_absurd_total_ends_instead_of_spinning():
    # 10^30 dollars (refused by the parser, MAX_MONEY_UNITS) used to loop for ever handing out
    # a float rounding error one nano at a time; now it ends (Decimal rounds such sums to 28
    # digits, which is why the parser refuses them)
    shares = split_nanos(Decimal("1E+30"), [1.0, 1.0, 1.0])
    assert [round(share / Decimal("1E+30"), 9) for share in shares] == [Decimal("0.333333333")] * 3


def test_group_totals_match_row_costs_per_team():
    usage = demo_usage(DAY)
    day = attribute_day(usage, PRICES)
    by_team: dict[str, Decimal] = defaultdict(Decimal)
    for row, cost in zip(usage.serverless, day.serverless_costs, strict=True):
        by_team[row.team] += cost
    for row, cost in zip(usage.dedicated, day.dedicated_costs, strict=True):
        by_team[row.team] += cost
    assert {t: g.amount.cost for t, g in day.teams.items()} == dict(by_team)


def test_price_checks_count_shared_rows_once_and_bill_the_rows_cents():
    # Given two model buckets shared over the same rows, and a model billed on its own
    usage = DayUsage(
        day=DAY,
        serverless=[
            text_row("llama-v3p3-70b-instruct", "a", "t", 1_000_000),
            text_row("qwen3-30b-a3b", "b", "t", 3_000_000),
            text_row("kimi-k2p6", "a", "t", 2_000_000),
        ],
        line_items=[
            item("Text Completion", "model_bucket", "16.1B+", "1.005"),
            item("Text Completion", "model_bucket", "4.1B-16B", "0.002"),
            item("Text Completion", "model", "kimi-k2p6", "2.001"),
        ],
    )
    day = attribute_day(usage, PRICES)
    summary = summarize(day, {}, demo_context(DAY))

    # Then the buckets are one check, over their rows once, and each check's billed cents are
    # the cents its rows show in the models table
    kimi, buckets = day.price_checks  # by label
    assert buckets.label == "model bucket 16.1B+ + model bucket 4.1B-16B"
    assert buckets.billed == Decimal("1.007")
    assert buckets.price_book == sum(
        (
            PRICES.token_cost(r.model, r.prompt_tokens, 0, 0, batch=False)
            for r in usage.serverless[:2]
        ),
        Decimal(0),
    )
    models = {row.label: row.cents for row in summary.views["models"].rows}
    assert buckets.billed_cents == models["llama-v3p3-70b-instruct"] + models["qwen3-30b-a3b"]
    assert (kimi.label, kimi.billed_cents) == ("kimi-k2p6", models["kimi-k2p6"])
    assert buckets.billed_cents + kimi.billed_cents == day.total_cents == 301


def test_row_costs_read_as_decimals_from_nano_dollars() -> None:
    nanos = np.array([1_500_000_000, 7, 0, 42], dtype=np.int64)
    costs = RowCosts(nanos, np.array([True, True, True, False]))
    expected = [Decimal("1.500000000"), Decimal("7E-9"), Decimal("0E-9"), Decimal(0)]
    assert len(costs) == 4
    assert list(costs) == expected and costs == expected
    assert costs[1] == Decimal("0.000000007") and costs[-1] == Decimal(0)
    assert costs[1:3] == expected[1:3]
    assert str(sum(costs, Decimal(0))) == "1.500000007"
    assert costs != expected[:3]
