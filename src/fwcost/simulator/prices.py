"""The simulator's own price book: the "truth" its billing side rates usage with.

The product keeps its own price book; this one lives here so the simulated bill can disagree with
an estimate the way a real bill can. Prices follow the reference's late-2026 list.

A `Rate` is an exact price in nano-USD per unit, kept as a fraction so that every cost is an
exact integer number of nanos: the account only produces quantities for which that holds
(batch token counts are even, GPU seconds come in whole 15-minute slots).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

NANOS_PER_USD = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Rate:
    """nano-USD per unit as numerator / denominator."""

    numerator: int
    denominator: int = 1

    @classmethod
    def per_million_tokens(cls, usd: str, factor: Fraction = Fraction(1)) -> Rate:
        return cls.of(Fraction(Decimal(usd)) * NANOS_PER_USD / 1_000_000 * factor)

    @classmethod
    def per_unit(cls, usd: str, units: int = 1) -> Rate:
        return cls.of(Fraction(Decimal(usd)) * NANOS_PER_USD / units)

    @classmethod
    def of(cls, nanos_per_unit: Fraction) -> Rate:
        return cls(nanos_per_unit.numerator, nanos_per_unit.denominator)

    def cost_nanos(self, quantity: int) -> int:
        """The exact cost of `quantity` units; refuses quantities that would need rounding."""
        total, remainder = divmod(quantity * self.numerator, self.denominator)
        if remainder:
            raise ValueError(f"{quantity} units at {self} is not a whole number of nanos")
        return total


@dataclass(frozen=True, slots=True)
class TokenPrice:
    """$ per 1M tokens for uncached input, cached input and output."""

    input: str
    cached_input: str
    output: str

    def rates(self, batch: bool) -> tuple[Rate, Rate, Rate]:
        """Rates for (uncached prompt, cached prompt, completion) tokens; batch is 50% of both."""
        return _token_rates(self, batch)


@functools.cache
def _token_rates(price: TokenPrice, batch: bool) -> tuple[Rate, Rate, Rate]:
    # Cached: a large account builds ~100k streams over a handful of prices.
    factor = Fraction(1, 2) if batch else Fraction(1)
    return (
        Rate.per_million_tokens(price.input, factor),
        Rate.per_million_tokens(price.cached_input, factor),
        Rate.per_million_tokens(price.output, factor),
    )


def tier_price(usd_per_million: str) -> TokenPrice:
    """Size-tier pricing: the same price for input and output, cached input at 50% of input."""
    cached = str(Decimal(usd_per_million) / 2)
    return TokenPrice(usd_per_million, cached, usd_per_million)


@dataclass(frozen=True, slots=True)
class SizeTier:
    label: str  # the billing/summary groupingValue under groupingKey "model_bucket"
    price: TokenPrice


TIER_UNDER_4B = SizeTier("<4B", tier_price("0.10"))
TIER_4B_16B = SizeTier("4B-16B", tier_price("0.20"))
TIER_OVER_16B = SizeTier("16B+", tier_price("0.90"))
TIER_MOE_56B = SizeTier("MoE 0B-56B", tier_price("0.50"))
TIER_MOE_176B = SizeTier("MoE 56.1B-176B", tier_price("1.20"))
SIZE_TIERS = (TIER_UNDER_4B, TIER_4B_16B, TIER_OVER_16B, TIER_MOE_56B, TIER_MOE_176B)

# Named models with their own prices (reference §6, late 2026).
KIMI_K2P6 = TokenPrice("0.95", "0.16", "4.00")
GPT_OSS_120B = TokenPrice("0.15", "0.015", "0.60")
DEEPSEEK_V3P1 = TokenPrice("0.56", "0.28", "1.68")
GPT_OSS_20B = TokenPrice("0.07", "0.035", "0.30")

# whisper-v3: $0.0015 per audio minute, billed per second.
AUDIO_PER_SECOND = Rate.per_unit("0.0015", 60)

EMBEDDING_USD_PER_MILLION = "0.008"
IMAGE_USD_PER_STEP = "0.00035"

# On-demand GPUs, $ per GPU-hour, billed per second.
GPU_USD_PER_HOUR = {
    "NVIDIA_A100_80GB": "2.90",
    "NVIDIA_H100_80GB": "4.00",
    "NVIDIA_H200_141GB": "6.00",
}


def gpu_rate_per_second(accelerator_type: str) -> Rate:
    return Rate.per_unit(GPU_USD_PER_HOUR[accelerator_type], 3600)
