import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from report_helpers import simple_day

from fwcost.report.notices import restatement_text
from fwcost.report.render import render_email_html, render_email_text
from fwcost.report.slack_message import render_slack
from fwcost.report.summary import (
    BudgetState,
    Dimension,
    Restatement,
    RowKind,
    short_key_id,
    summarize,
    team_summaries,
)
from report_fixtures import demo_context, demo_history, read_back

TODAY = date(2026, 11, 21)


def history_of(costs: dict[int, dict[str, str]]) -> dict:
    """days-before-today -> {team: cost}."""
    return read_back(
        {
            TODAY - timedelta(days=back): simple_day(TODAY - timedelta(days=back), teams)
            for back, teams in costs.items()
        }
    )


def steady(teams: dict[str, str], days: int = 14) -> dict:
    return history_of(dict.fromkeys(range(1, days + 1), teams))


def test_other_row_is_the_remainder_so_the_view_sums_to_the_total():
    teams = {f"team-{n}": str(10 * n + 1) for n in range(1, 9)}
    today = simple_day(TODAY, teams)
    summary = summarize(today, {}, demo_context(TODAY, top_n=3))
    rows = summary.views["teams"].rows
    assert [row.label for row in rows] == ["team-8", "team-7", "team-6", "5 others"]
    other = rows[-1]
    assert other.kind is RowKind.OTHER
    assert other.count == 5
    assert other.cents == today.total_cents - (81 + 71 + 61) * 100
    assert sum(row.cents for row in rows) == today.total_cents


def test_change_against_previous_day_and_trailing_seven_day_average():
    history = history_of({back: {"a": str(100 * (8 - back))} for back in range(1, 8)})
    summary = summarize(simple_day(TODAY, {"a": "800"}), history, demo_context(TODAY))
    change = summary.change
    assert change.previous == 70000  # cents
    assert change.average == 40000
    assert change.pct_vs_average == Decimal(100)
    assert change.vs_previous == 10000
    assert round(change.pct_vs_previous, 2) == Decimal("14.29")


def test_change_with_a_missing_previous_day_uses_the_days_present():
    history = history_of({2: {"a": "100"}, 3: {"a": "300"}})
    summary = summarize(simple_day(TODAY, {"a": "50"}), history, demo_context(TODAY))
    assert summary.change.previous is None
    assert summary.change.average == 20000
    assert summary.change.average_days == 2
    assert TODAY - timedelta(days=1) in summary.missing_days


def test_month_to_date_stops_at_the_month_boundary_and_projects_the_pace():
    today = date(2026, 11, 3)
    history = read_back(
        {
            date(2026, 10, 31): simple_day(date(2026, 10, 31), {"a": "300"}),
            date(2026, 11, 1): simple_day(date(2026, 11, 1), {"a": "100"}),
            date(2026, 11, 2): simple_day(date(2026, 11, 2), {"a": "200"}),
        }
    )
    summary = summarize(simple_day(today, {"a": "300"}), history, demo_context(today))
    month = summary.month
    assert month.cents == 60000
    assert month.days_missing == ()
    # pace: average of the last 7 days present (300, 200, 100, 300) for 27 days left
    assert month.projection == (600 + 225 * 27) * 100


def test_month_to_date_names_missing_days_and_the_last_day_projects_itself():
    today = date(2026, 12, 31)
    history = read_back({date(2026, 12, 1): simple_day(date(2026, 12, 1), {"a": "10"})})
    summary = summarize(simple_day(today, {"a": "5"}), history, demo_context(today))
    assert summary.month.cents == 1500
    assert len(summary.month.days_missing) == 29
    assert summary.month.projection == 1500


def test_anomaly_is_found_despite_an_earlier_spike():
    # Given four weeks of ordinary days around $100, one of its Saturdays a $1,000 spike
    costs = {back: {"a": str(100 + back % 3)} for back in range(1, 29)}
    costs[7] = {"a": "1000"}
    summary = summarize(simple_day(TODAY, {"a": "400"}), history_of(costs), demo_context(TODAY))
    teams = [a for a in summary.anomalies if a.dimension is Dimension.TEAM]
    assert [a.name for a in teams] == ["a"]
    # the median of the Saturdays (101, 102, 100 and the spike) shrugs the spike off
    assert teams[0].median == 10150
    assert teams[0].baseline.usual_day == "Saturday"


def test_no_anomaly_below_the_ratio_or_the_dollar_floor():
    history = steady({"big": "100", "small": "1"})
    today = simple_day(TODAY, {"big": "130", "small": "10"})
    summary = summarize(today, history, demo_context(TODAY))
    assert summary.anomalies == ()


def test_no_anomalies_without_enough_history():
    history = steady({"a": "100"}, days=3)
    summary = summarize(simple_day(TODAY, {"a": "1000"}), history, demo_context(TODAY))
    assert summary.anomalies == ()


def test_new_and_gone_quiet_keys_models_and_teams():
    history = steady({"old": "10", "fading": "5"})
    today = simple_day(TODAY, {"old": "10", "fresh": "3"}, models={"fresh": "brand-new-model"})
    summary = summarize(today, history, demo_context(TODAY))
    found = {(a.dimension.value, a.name, a.new) for a in summary.arrivals}
    assert ("team", "fresh", True) in found
    assert ("key", "fresh-key", True) in found
    assert ("model", "brand-new-model", True) in found
    assert ("team", "fading", False) in found
    assert ("key", "fading-key", False) in found
    assert not any(a.name == "old" for a in summary.arrivals)


@pytest.mark.parametrize(
    ("budget", "state"),
    [
        ("100000", BudgetState.OK),
        ("2900", BudgetState.PROJECTED_OVER),
        ("2000", BudgetState.OVER),
    ],
)
def test_budget_states(budget, state):
    history = history_of({back: {"a": "100"} for back in range(1, 21)})
    context = demo_context(TODAY, team_budgets={"a": Decimal(budget)}, account_budget=None)
    summary = summarize(simple_day(TODAY, {"a": "100"}), history, context)
    (status,) = summary.budgets
    assert status.spent == 210000
    assert status.projected == 300000
    assert status.days_left == 9
    assert status.state is state


def test_a_budget_nearly_spent_but_on_pace_to_hold_is_near():
    # Given $100 a day for 29 days of a 30-day month against $3,050: 95 % spent, $3,000 projected
    day = date(2026, 11, 29)
    history = read_back(
        {
            day - timedelta(days=back): simple_day(day - timedelta(days=back), {"a": "100"})
            for back in range(1, 29)
        }
    )
    context = demo_context(day, team_budgets={"a": Decimal(3050)}, account_budget=None)
    (status,) = summarize(simple_day(day, {"a": "100"}), history, context).budgets
    assert (status.spent, status.projected) == (290000, 300000)
    assert status.state is BudgetState.NEAR


def test_restatement_wording():
    up = Restatement(date(2026, 11, 21), Decimal("1133.77"), Decimal("1146.17"))
    down = Restatement(date(2026, 10, 3), Decimal("10"), Decimal("7"))
    assert restatement_text(up) == "21 Nov revised +$12.40"
    assert restatement_text(down) == "3 Oct revised −$3.00"


def test_short_key_id():
    assert short_key_id("key_4nMFyHCSZP4CRKqa") == "key_4nMF…Kqa"
    assert short_key_id("key_short") == "key_short"


def team_words(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")


def test_team_slice_shows_no_other_teams_names_or_numbers():
    today, history = demo_history(date(2026, 11, 1))
    summary = summarize(today, read_back(history), demo_context(today.day))
    slices = team_summaries(summary)
    assert set(slices) == {"search", "research", "ads & growth", "support"}
    for team, piece in slices.items():
        others = [t for t in slices if t != team]
        other_keys = [
            key.name
            for name, groups in today.teams.items()
            if name != team
            for key in groups.keys.values()
            if key.name
        ]
        assert piece.totals.cents == today.teams[team].amount.cents
        for view in piece.views.values():
            assert sum(row.cents for row in view.rows) == piece.totals.cents
        outputs = [render_email_text(piece), render_email_html(piece), str(render_slack(piece))]
        for output in outputs:
            for other in [*others, *other_keys, "Embeddings", "Unattributed"]:
                assert not team_words(other).search(output.replace("&amp;", "&")), (team, other)
            assert "$645.34" not in output  # the account total


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [({"top_n": 0}, "top_n must be at least 1"), ({"account_budget": Decimal(0)}, "'account'")],
)
def test_context_is_validated(overrides, problem):
    with pytest.raises(ValueError, match=problem):
        demo_context(TODAY, **overrides)
