"""Property: the columnar attribution gives exactly what the per-row one gave, for random days.

Same dollars to the nano (and the same Decimal exponents, which attribution.json prints), same
cents, same groups in the same order, same notes and price checks; and the vectorised rounding
rules (cents.split_cents_array, attribution.split_nanos_array) equal their scalar references.
"""

from dataclasses import replace
from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_attribution import reference_attribute_day
from report_helpers import DAY, audio_row, gpu_row, key_cost, text_row, training_row
from report_helpers import line_items as report_line_items

from fwcost.model import DayUsage
from fwcost.report.attribution import attribute_day, split_nanos, split_nanos_array
from fwcost.report.cents import split_cents, split_cents_array
from fwcost.report.pricebook import load_price_book

PRICES = load_price_book()
MODELS = ["kimi-k2p6", "gpt-oss-120b", "llama-v3p3-70b-instruct", "mystery-7b", "Kimi-K2.6"]
# Names that sort around each other and around the rounding order's "\uffff" (billed-only last).
NAMES = ["search", "ads", "", "research", "Ads", "=cmd", "\U0001f680 rocket", "zz\uffff"]
KEYS = ["key_a", "key_b", "key_c", "unattributed"]
ACCELERATORS = ["NVIDIA_H100_80GB", "NVIDIA_B200_180GB", "AMD_MI300X_192GB", "UNPRICED_GPU"]

money = st.decimals(min_value=0, max_value=5000, places=9, allow_nan=False, allow_infinity=False)
tokens = st.integers(min_value=0, max_value=50_000_000)
names = st.sampled_from(NAMES)

text_rows = st.builds(
    lambda m, k, t, p, e, prompt, completion, cached, batch, name: replace(
        text_row(
            m, k, t, prompt, completion, cached=cached, project=p, environment=e,
            usage_type="BATCH_INFERENCE_USAGE" if batch else "TEXT_COMPLETION_INFERENCE_USAGE",
        ),
        api_key_name=name,
    ),
    st.sampled_from(MODELS), st.sampled_from(KEYS), names, names, names,
    tokens, tokens, tokens, st.booleans(), st.sampled_from(["", "name-a", "name-b"]),
)  # fmt: skip
audio_rows = st.builds(
    lambda k, t, seconds, prompt: replace(audio_row(k, t, seconds), prompt_tokens=prompt),
    st.sampled_from(KEYS), names, st.floats(0, 100_000), st.sampled_from([0, 0, 1_000]),
)  # fmt: skip
gpu_rows = st.builds(
    gpu_row,
    st.sampled_from(["dep-1", "dep-2", "accounts/x/deployments/Dep.3"]),
    st.sampled_from(ACCELERATORS),
    names,
    st.integers(0, 86_400 * 8),
)
training_rows = st.builds(
    training_row,
    st.sampled_from(["job-x", "job-y"]),
    st.sampled_from(ACCELERATORS),
    names,
    st.integers(0, 86_400 * 8),
)
key_costs = st.one_of(
    st.none(),
    st.lists(st.builds(lambda k, c: key_cost(k, str(c)), st.sampled_from(KEYS), money), max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(
    serverless=st.lists(st.one_of(text_rows, text_rows, audio_rows), max_size=40),
    dedicated=st.lists(gpu_rows, max_size=5),
    training=st.lists(training_rows, max_size=3),
    items=st.lists(report_line_items(MODELS, ACCELERATORS, money), max_size=10),
    keys=key_costs,
    has_summary=st.booleans(),
)
def test_the_columnar_attribution_equals_the_per_row_reference(
    serverless, dedicated, training, items, keys, has_summary
):
    # Given any day
    usage = DayUsage(
        day=DAY, serverless=serverless, dedicated=dedicated, training=training,
        line_items=items if has_summary else [], key_costs=keys, has_summary=has_summary,
    )  # fmt: skip

    # When both attribute it
    day = attribute_day(usage, PRICES)
    expected = reference_attribute_day(usage, PRICES)

    # Then every archived figure, row cost (with its printed form) and row cent is the same
    got_json, want_json = day.to_json(), expected.to_json()
    got_checks, want_checks = got_json.pop("price_checks"), want_json.pop("price_checks")
    assert got_json == want_json
    assert [_no_estimate(c) for c in got_checks] == [_no_estimate(c) for c in want_checks]
    for got_check, want_check in zip(got_checks, want_checks, strict=True):
        _assert_same_estimate(got_check["price_book"], want_check["price_book"])
    for got, want in [
        (day.serverless_costs, expected.serverless_costs),
        (day.dedicated_costs, expected.dedicated_costs),
        (day.training_costs, expected.training_costs),
    ]:
        assert list(map(str, got)) == list(map(str, want))
    assert day.serverless_cents == expected.serverless_cents
    assert day.dedicated_cents == expected.dedicated_cents
    assert day.training_cents == expected.training_cents
    assert day.billed_only_rows == expected.billed_only_rows


def _no_estimate(check: dict) -> dict:
    return {name: value for name, value in check.items() if name != "price_book"}


def _assert_same_estimate(got: str | None, want: str | None) -> None:
    """A price check's price-book figure: the one figure allowed to differ, in its 28th digit.

    The per-row code summed the rows' 28-digit estimates one by one in a set's order (which
    PYTHONHASHSEED varies from process to process), rounding at each step; the columns sum them
    exactly and round once. It is an audit figure; reports print it to the cent.
    """
    if got is None or want is None:
        assert got == want
        return
    difference = abs(Decimal(got) - Decimal(want))
    assert difference <= abs(Decimal(want)).scaleb(-25) + Decimal("1e-25"), (got, want)


@settings(max_examples=500, deadline=None)
@given(
    amounts=st.lists(
        st.one_of(st.integers(-(10**13), 10**13), st.integers(0, 10**7)), min_size=1, max_size=60
    ),
    shift=st.integers(-60, 60),
    give_total=st.booleans(),
)
def test_split_cents_array_equals_split_cents(amounts, shift, give_total):
    total = None
    if give_total:
        total = sum(split_cents(amounts)) + max(-len(amounts), min(len(amounts), shift))
    assert split_cents_array(np.array(amounts, dtype=np.int64), total).tolist() == split_cents(
        amounts, total
    )


@settings(max_examples=500, deadline=None)
@given(
    total=st.decimals(
        min_value=-(10**7), max_value=10**7, places=9, allow_nan=False, allow_infinity=False
    ),
    weights=st.lists(
        st.one_of(st.floats(0, 1e12), st.sampled_from([0.0, 1.0, 1e-300])), min_size=1, max_size=50
    ),
)
def test_split_nanos_array_equals_split_nanos(total, weights):
    nanos = split_nanos_array(total, np.array(weights, dtype=np.float64)).tolist()
    assert [Decimal(value).scaleb(-9) for value in nanos] == split_nanos(total, weights)
