"""Property: whatever the usage and the bill, every view adds up and nothing is negative."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from report_helpers import DAY, audio_row, gpu_row, key_cost, text_row
from report_helpers import line_items as report_line_items

from fwcost.model import DayUsage
from fwcost.report.attribution import attribute_day
from fwcost.report.cents import cents_of
from fwcost.report.pricebook import load_price_book
from fwcost.report.summary import summarize
from report_fixtures import demo_context

PRICES = load_price_book()
MODELS = ["kimi-k2p6", "gpt-oss-120b", "llama-v3p3-70b-instruct", "mystery-7b"]
TEAMS = ["search", "ads", "", "research"]
KEYS = ["key_a", "key_b", "key_c", "unattributed"]
ACCELERATORS = ["NVIDIA_H100_80GB", "NVIDIA_B200_180GB", "AMD_MI300X_192GB"]

money = st.decimals(min_value=0, max_value=5000, places=9, allow_nan=False, allow_infinity=False)
tokens = st.integers(min_value=0, max_value=50_000_000)

text_rows = st.builds(
    lambda m, k, t, p, c, cached, batch: text_row(
        m, k, t, p, c, cached=cached,
        usage_type="BATCH_INFERENCE_USAGE" if batch else "TEXT_COMPLETION_INFERENCE_USAGE",
    ),
    st.sampled_from(MODELS), st.sampled_from(KEYS), st.sampled_from(TEAMS),
    tokens, tokens, tokens, st.booleans(),
)  # fmt: skip
audio_rows = st.builds(
    audio_row, st.sampled_from(KEYS), st.sampled_from(TEAMS), st.floats(0, 100_000)
)
gpu_rows = st.builds(
    gpu_row,
    st.sampled_from(["dep-1", "dep-2", "dep-3"]),
    st.sampled_from(ACCELERATORS),
    st.sampled_from(TEAMS),
    st.integers(0, 86_400 * 8),
)
line_items = report_line_items(MODELS, ACCELERATORS, money)
key_costs = st.one_of(
    st.none(),
    st.lists(st.builds(lambda k, c: key_cost(k, str(c)), st.sampled_from(KEYS), money), max_size=5),
)


@settings(max_examples=150, deadline=None)
@given(
    serverless=st.lists(st.one_of(text_rows, audio_rows), max_size=12),
    dedicated=st.lists(gpu_rows, max_size=4),
    items=st.lists(line_items, max_size=8),
    keys=key_costs,
    has_summary=st.booleans(),
    top_n=st.integers(1, 4),
)
def test_every_view_sums_to_the_total_and_nothing_is_negative(
    serverless, dedicated, items, keys, has_summary, top_n
):
    usage = DayUsage(
        day=DAY,
        serverless=serverless,
        dedicated=dedicated,
        line_items=items if has_summary else [],
        key_costs=keys,
        has_summary=has_summary,
    )
    day = attribute_day(usage, PRICES)
    summary = summarize(day, {}, demo_context(DAY, top_n=top_n))

    if has_summary:
        assert day.billed_total == sum((i.total_cost for i in items), Decimal(0))
    assert day.total == (day.billed_total or 0) + day.estimated_total
    rows = [*day.serverless_costs, *day.dedicated_costs, *(r.cost for r in day.billed_only_rows)]
    assert sum(rows, Decimal(0)) == day.total
    assert all(cost >= 0 for cost in rows)
    assert day.total_cents == cents_of(day.total)
    for view in summary.views.values():
        assert sum(row.cents for row in view.rows) == view.total == day.total_cents, view.name
        assert all(row.cents >= 0 for row in view.rows), view.name
