"""The one rounding: exact nano-dollar amounts to whole cents that add up to the total."""

from decimal import Decimal

import pytest

from fwcost.report.cents import (
    cents_of,
    cents_text,
    money,
    money_whole,
    nanos_of,
    signed_money,
    split_cents,
)

CENT_NANOS = 10_000_000


def test_largest_remainders_get_the_missing_cents():
    # 0.335 + 0.335 + 0.33 = 1.00: floors give 0.99, the cent goes to the first largest remainder
    nanos = [nanos_of(Decimal(v)) for v in ("0.335", "0.335", "0.33")]
    assert split_cents(nanos) == [34, 33, 33]


def test_equal_remainders_go_to_the_earlier_amount():
    # Three thirds of 1 cent: 0 + 0 + 0 floors, 1 cent missing, all remainders equal
    third = CENT_NANOS // 3
    assert split_cents([third, third, third + 1]) == [0, 0, 1]  # the largest remainder first
    assert split_cents([third, third, third], 1) == [1, 0, 0]  # then the earliest


def test_sub_cent_amounts_still_add_up_to_the_rounded_total():
    # 250 rows of $0.004 = $1.00: exactly 100 of them show a cent
    cents = split_cents([4_000_000] * 250)
    assert sum(cents) == 100
    assert set(cents) == {0, 1}


def test_the_default_total_is_the_sum_rounded_half_away_from_zero():
    assert sum(split_cents([CENT_NANOS // 2])) == 1
    assert sum(split_cents([-(CENT_NANOS // 2)])) == -1
    assert split_cents([]) == []


def test_negative_amounts_round_down_and_up_like_positive_ones():
    nanos = [nanos_of(Decimal(v)) for v in ("-0.334", "1.006", "0.004")]
    cents = split_cents(nanos)
    assert sum(cents) == cents_of(Decimal("0.676")) == 68
    assert all(abs(c * CENT_NANOS - n) < CENT_NANOS for c, n in zip(cents, nanos, strict=True))


def test_a_total_out_of_reach_is_refused():
    with pytest.raises(ValueError, match="each part may only gain one cent"):
        split_cents([CENT_NANOS, CENT_NANOS], 5)


def test_formatting_cents():
    assert money(123456) == "$1,234.56"
    assert money(-5) == "−$0.05"
    assert money(Decimal("1234.5")) == "$12.35"  # a worked-out figure rounds half up
    assert money_whole(123450) == "$1,235"
    assert signed_money(0) == "+$0.00"
    assert signed_money(-120) == "−$1.20"
    assert cents_text(123456) == "1234.56"
    assert cents_text(-5) == "-0.05"
    assert cents_text(0) == "0.00"
