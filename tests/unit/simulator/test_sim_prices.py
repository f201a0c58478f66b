"""The simulator's price book rates in exact nanos, and Money is encoded as proto3 JSON."""

from __future__ import annotations

from fractions import Fraction

import pytest

from fwcost.simulator import prices
from fwcost.simulator.prices import Rate
from fwcost.simulator.wire import money


def test_named_model_rates_are_nanos_per_token() -> None:
    uncached, cached, output = prices.KIMI_K2P6.rates(batch=False)
    assert (uncached.cost_nanos(1), cached.cost_nanos(1), output.cost_nanos(1)) == (950, 160, 4000)


def test_batch_halves_every_rate_and_needs_even_counts() -> None:
    _, cached, _ = prices.GPT_OSS_120B.rates(batch=True)
    assert Fraction(cached.numerator, cached.denominator) == Fraction(15, 2)
    assert cached.cost_nanos(2) == 15
    with pytest.raises(ValueError, match="whole number of nanos"):
        cached.cost_nanos(1)


def test_size_tiers_cache_at_half_the_input_price() -> None:
    assert prices.TIER_OVER_16B.price == prices.TokenPrice("0.90", "0.45", "0.90")


def test_gpu_time_is_exact_per_quarter_hour() -> None:
    assert prices.gpu_rate_per_second("NVIDIA_A100_80GB").cost_nanos(900) == 725_000_000
    assert prices.gpu_rate_per_second("NVIDIA_H100_80GB").cost_nanos(3600) == 4_000_000_000


def test_audio_is_billed_per_second_at_the_minute_price() -> None:
    assert prices.AUDIO_PER_SECOND.cost_nanos(60) == 1_500_000
    assert Rate.per_unit("0.0015", 60) == prices.AUDIO_PER_SECOND


@pytest.mark.parametrize(
    ("nanos", "expected"),
    [
        (12_500_000_000, {"currencyCode": "USD", "units": "12", "nanos": 500_000_000}),
        (3_000_000_000, {"currencyCode": "USD", "units": "3"}),
        (7, {"currencyCode": "USD", "nanos": 7}),
        (0, {"currencyCode": "USD"}),
        (-1_250_000_000, {"currencyCode": "USD", "units": "-1", "nanos": -250_000_000}),
    ],
)
def test_money_has_int64_units_as_strings_same_sign_nanos_and_no_zeros(
    nanos: int, expected: dict[str, object]
) -> None:
    assert money(nanos) == expected
