from decimal import Decimal
from pathlib import Path

import pytest

from fwcost.report.pricebook import PriceBookError, load_price_book, short_model_id


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return path


MINIMAL = """
[defaults]
unknown_model_tier = "big"
[tiers]
big = 0.90
"""


def test_shipped_price_book_has_the_documented_prices():
    book = load_price_book()
    kimi = book.token_price("accounts/fireworks/models/kimi-k2p6")
    assert (kimi.input, kimi.cached_input, kimi.output) == (
        Decimal("0.95"),
        Decimal("0.16"),
        Decimal("4.0"),
    )
    assert book.gpu_usd_per_hour["NVIDIA_H100_80GB"] == Decimal("4.0")
    assert book.batch_fraction == Decimal("0.5")


def test_unknown_model_uses_default_tier_with_half_price_cache():
    book = load_price_book()
    price = book.token_price("accounts/someone/models/mystery-model")
    assert price.input == Decimal("0.90")
    assert price.cached_input == Decimal("0.450")


def test_token_cost_prices_cached_and_batch_tokens():
    book = load_price_book()
    # 1M prompt of which 0.5M cached, 1M completion, gpt-oss-120b: 0.5*0.15 + 0.5*0.015 + 0.60
    normal = book.token_cost("gpt-oss-120b", 1_000_000, 500_000, 1_000_000, batch=False)
    assert normal == Decimal("0.6825")
    assert book.token_cost("gpt-oss-120b", 1_000_000, 500_000, 1_000_000, batch=True) == (
        normal / 2
    )


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("accounts/fireworks/models/kimi-k2p6", "kimi-k2p6"),
        ("accounts/fireworks/models/kimi-k2.6", "kimi-k2p6"),
        ("KIMI-K2P6", "kimi-k2p6"),
    ],
)
def test_short_model_id_matches_bill_and_usage_spellings(name, short):
    assert short_model_id(name) == short


@pytest.mark.parametrize(
    ("extra", "entry", "problem"),
    [
        ('[models."m"]\ninput = "abc"\noutput = 1', "[models.'m'] input", "must be a number"),
        (
            '[models."m"]\ninput = 1\noutput = 1\ncolour = 3',
            "[models.'m']",
            "unknown field 'colour'",
        ),
        ('[models."m"]\ninput = -0.5\noutput = 1', "[models.'m'] input", "must not be negative"),
        ('[models."m"]\ntier = "huge"', "[models.'m'] tier", "names tier 'huge'"),
        ('[models."m"]\noutput = 1', "[models.'m']", "has no input price"),
        (
            "[gpu_usd_per_hour]\nNVIDIA_H100_80GB = true",
            "[gpu_usd_per_hour] NVIDIA_H100_80GB",
            "must be a number",
        ),
        ("[surprise]\nx = 1", "the file", "unknown field 'surprise'"),
    ],
)
def test_invalid_entries_name_the_file_the_entry_and_the_problem(tmp_path, extra, entry, problem):
    path = write(tmp_path, MINIMAL + extra)
    with pytest.raises(PriceBookError) as caught:
        load_price_book(path)
    message = str(caught.value)
    assert str(path) in message
    assert entry in message
    assert problem in message


def test_fraction_above_one_is_refused(tmp_path):
    path = write(tmp_path, MINIMAL.replace("[defaults]", "[defaults]\nbatch_fraction = 2"))
    with pytest.raises(
        PriceBookError, match=r"\[defaults\] batch_fraction must be between 0 and 1"
    ):
        load_price_book(path)


def test_unreadable_and_malformed_files_are_named(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(PriceBookError, match=r"nope\.toml: cannot read it"):
        load_price_book(missing)
    with pytest.raises(PriceBookError, match="not valid TOML"):
        load_price_book(write(tmp_path, "[tiers\n"))


def test_the_built_in_book_prices_every_model_and_gpu_the_demo_account_uses_as_it_is_billed():
    """So the demo's footer shows real differences (batch discounts), not gaps in the book."""
    from datetime import date
    from fractions import Fraction

    from fwcost.simulator import SimulatedAccount
    from fwcost.simulator.catalog import Kind
    from fwcost.simulator.prices import AUDIO_PER_SECOND, GPU_USD_PER_HOUR, NANOS_PER_USD
    from fwcost.simulator.scenario import DemoScenario

    book = load_price_book()
    config = DemoScenario(date(2026, 11, 28), "America/Los_Angeles").config(late_data_arrived=True)
    account = SimulatedAccount(config)
    text = {s.model for s in account.streams if s.kind is Kind.TEXT and s.model is not None}
    assert len(text) == config.models
    for model in text:
        assert book.is_listed(model.name), f"{model.short} is not in the price book"
        price = book.token_price(model.name)
        billed = model.price
        assert (price.input, price.cached_input, price.output) == (
            Decimal(billed.input), Decimal(billed.cached_input), Decimal(billed.output)
        ), model.short  # fmt: skip
    per_minute = Fraction(AUDIO_PER_SECOND.numerator, AUDIO_PER_SECOND.denominator) * 60
    assert Fraction(book.audio_usd_per_minute) == per_minute / NANOS_PER_USD
    accelerators = {s.deployment.accelerator_type for s in account.streams if s.deployment}
    accelerators |= {s.job.accelerator_type for s in account.streams if s.job}
    for accelerator in accelerators:
        assert book.gpu_usd_per_hour[accelerator] == Decimal(GPU_USD_PER_HOUR[accelerator])
