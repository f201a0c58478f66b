"""Dollars become cents once, here: the one rounding rule behind every figure a report prints.

Attribution shares the day's bill out exactly, to the nano-dollar (Fireworks' Money precision).
Each attributed unit (a usage row's dollars, a line item billed with no usage) then becomes whole
cents by `split_cents`, once, against the day's total rounded to the cent. Every figure after that
(a table's rows and total, a what-changed line, a budget, month to date, the CSV's cost column) is
a sum of those cents, so the same thing shows the same cents wherever it appears and every table
adds up exactly to the total. Averages, medians, projections and budgets are worked out from cents
and may fall between two cents: `money` in render.py rounds those for display, half up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where attribution runs, not by every report's import
    import numpy as np
    from numpy.typing import NDArray

NANOS_PER_DOLLAR = 1_000_000_000
NANOS_PER_CENT = 10_000_000
CENT = Decimal("0.01")
ONE = Decimal(1)


def nanos_of(dollars: Decimal) -> int:
    """Whole nano-dollars (amounts here are exact to the nano already; a finer digit rounds)."""
    return int((dollars * NANOS_PER_DOLLAR).to_integral_value(ROUND_HALF_UP))


def cents_of(dollars: Decimal) -> int:
    """One amount alone in whole cents, half a cent away from zero: a day's total, a total of old."""
    return int(dollars.quantize(CENT, ROUND_HALF_UP).scaleb(2))


def split_cents(nanos: Sequence[int], total_cents: int | None = None) -> list[int]:
    """Whole cents for each exact amount (in nanos), adding up exactly to `total_cents`.

    `total_cents` defaults to the amounts' sum rounded to the cent, half away from zero.

    Running total (cumulative rounding): the first k amounts together get the cents of their
    exact sum, rounded, so part k gets round(P_k) − round(P_k−1). Every part ends within a cent
    of its exact value and the parts add up to the whole exactly; and every run of consecutive
    parts is also within a cent of its exact sum. The caller orders the amounts so that the
    groups a reader compares with their exact sums are runs: attribution sorts usage rows by
    team, project, environment, key, model. Largest remainder (each part rounded down, the
    missing cents to the largest remainders) keeps parts within a cent too, but a group's error
    grows with its size. Measured on the 100,000-row bench day, worst gap from the exact dollars:
    team 93 → 0.8 cents, environment 111 → 0.7, key 8.8 (a $0.41 key) → 1.0; a model, whose rows
    are spread over teams and so are not one run, 20 → 22 cents either way.
    """
    parts, previous, running = [], 0, 0
    for amount in nanos:
        running += amount
        rounded = _round_nanos(running)
        parts.append(rounded - previous)
        previous = rounded
    extra = 0 if total_cents is None else total_cents - previous
    if abs(extra) > len(nanos):
        raise ValueError(
            f"{total_cents} cents cannot be split over amounts summing to {running} nano-dollars: "
            "each part may only move by a cent"
        )
    # A total decided a level up: the cents it adds or takes go to the parts furthest below (or
    # above) their exact value, so each part stays within a cent of it.
    step = 1 if extra > 0 else -1
    errors = [part * NANOS_PER_CENT - amount for part, amount in zip(parts, nanos, strict=True)]
    for index in sorted(range(len(parts)), key=lambda i: step * errors[i])[: abs(extra)]:
        parts[index] += step
    return parts


def split_cents_array(
    nanos: NDArray[np.int64], total_cents: int | None = None
) -> NDArray[np.int64]:
    """`split_cents` over a numpy column: the same rule, the same cents, vectorised.

    The running total is an int64 cumulative sum, exact while the amounts' absolute sum stays
    below 2^62 nano-dollars (about $4.6 billion); past that the scalar rule does it.
    """
    import numpy as np

    if len(nanos) == 0 or float(np.abs(nanos).sum(dtype=np.float64)) >= 2.0**62:
        return np.array(split_cents(nanos.tolist(), total_cents), dtype=np.int64)
    running = np.cumsum(nanos)
    rounded = np.sign(running) * ((np.abs(running) + NANOS_PER_CENT // 2) // NANOS_PER_CENT)
    parts = np.diff(rounded, prepend=0)
    extra = 0 if total_cents is None else total_cents - int(rounded[-1])
    if abs(extra) > len(nanos):
        split_cents(nanos.tolist(), total_cents)  # raises, with the reason
    if extra:
        step = 1 if extra > 0 else -1
        errors = parts * NANOS_PER_CENT - nanos
        parts[np.argsort(step * errors, kind="stable")[: abs(extra)]] += step
    split: NDArray[np.int64] = parts
    return split


def money(cents: int | Decimal) -> str:
    """$1,234.56 (−$0.05 below zero). Whole cents print as they are; a figure worked out from
    cents (an average, a projection) is rounded to the cent, half up."""
    whole_cents = cents if isinstance(cents, int) else int(cents.quantize(ONE, ROUND_HALF_UP))
    dollars, part = divmod(abs(whole_cents), 100)
    return f"{'−' if whole_cents < 0 else ''}${dollars:,}.{part:02d}"


def money_whole(cents: int | Decimal) -> str:
    """$1,235: to the dollar, half up, for projections, budgets and chart labels."""
    dollars = (Decimal(cents) / 100).quantize(ONE, ROUND_HALF_UP)
    return f"{'−' if dollars < 0 else ''}${abs(dollars):,.0f}"


def signed_money(cents: int | Decimal) -> str:
    """+$1.20, −$0.05, +$0.00."""
    text = money(cents)
    return text if text.startswith("−") else "+" + text


def cents_text(cents: int) -> str:
    """Whole cents as a plain dollar figure with two decimals: 123456 -> 1234.56, -5 -> -0.05."""
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{part:02d}"


def cents_from_text(text: str) -> int:
    """cents_text read back: 1234.56 -> 123456, -0.05 -> -5; anything else is a ValueError."""
    if not _CENTS_TEXT.fullmatch(text):
        raise ValueError(f"{text!r} is not an amount in dollars with two decimals")
    return int(text[:-3] + text[-2:])


_CENTS_TEXT = re.compile(r"-?[0-9]+\.[0-9][0-9]")


def _round_nanos(nanos: int) -> int:
    """Nano-dollars to whole cents, half a cent away from zero (like `cents_of`)."""
    sign = -1 if nanos < 0 else 1
    return sign * ((abs(nanos) + NANOS_PER_CENT // 2) // NANOS_PER_CENT)
