"""The one rounding: exact nano-dollar amounts to whole cents that add up to the total."""

from decimal import Decimal

import pytest

from fwcost.report.cents import (
    cents_from_text,
    cents_of,
    cents_text,
    money,
    money_whole,
    nanos_of,
    signed_money,
    split_cents,
)

CENT_NANOS = 10_000_000


def test_each_part_gets_the_cents_its_running_total_adds():
    # Running sums 0.335, 0.67, 1.00 round to 34, 67, 100 cents
    nanos = [nanos_of(Decimal(v)) for v in ("0.335", "0.335", "0.33")]
    assert split_cents(nanos) == [34, 33, 33]


def test_a_run_of_parts_stays_within_a_cent_of_its_exact_sum():
    # 33 sub-cent rows of one key between two others: the key's cents are its exact sum's
    key = [1_090_909] * 33  # $0.0109... each, $0.36 together
    nanos = [123_456_789, *key, 987_654_321]
    cents = split_cents(nanos)
    assert abs(sum(cents[1:34]) * CENT_NANOS - sum(key)) < CENT_NANOS
    assert all(abs(c * CENT_NANOS - n) < CENT_NANOS for c, n in zip(cents, nanos, strict=True))


def test_a_given_total_is_reached_with_every_part_within_a_cent():
    # Three thirds of a cent whose group was given 1 cent a level up
    third = CENT_NANOS // 3
    cents = split_cents([third, third, third], 1)
    assert sum(cents) == 1
    assert all(c in (0, 1) for c in cents)


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
    with pytest.raises(ValueError, match="each part may only move by a cent"):
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


@pytest.mark.parametrize("cents", [0, 5, -5, 100, 123456, -123456, 10**15])
def test_cents_text_reads_back_to_the_same_cents(cents):
    assert cents_from_text(cents_text(cents)) == cents


@pytest.mark.parametrize("text", ["", "12", "12.3", "12.345", "1_0.00", " 1.00", "+1.00", "1e2"])
def test_anything_but_dollars_with_two_decimals_is_refused(text):
    with pytest.raises(ValueError, match="not an amount in dollars with two decimals"):
        cents_from_text(text)
