"""A team budget must name a team the usage knows: a misspelt one fails the run, exit 2."""

from datetime import date, timedelta

import pytest
from report_helpers import simple_day

from fwcost.pipeline import HISTORY_DAYS, UnknownBudgetTeams, check_budget_teams
from fwcost.problems import ExitCode, problem_for
from report_fixtures import read_back

DAY = date(2026, 11, 21)


def history(days_back_by_team: dict[str, int]) -> dict:
    """Each team's one day of spend, `days back` before DAY."""
    return read_back(
        {
            DAY - timedelta(days=back): simple_day(DAY - timedelta(days=back), {team: "5"})
            for team, back in days_back_by_team.items()
        }
    )


def test_teams_seen_today_or_in_the_history_a_report_reads_may_have_budgets():
    seen = history({"research": HISTORY_DAYS, "ads & growth": 1})
    check_budget_teams(
        {"search", "research", "ads & growth"}, simple_day(DAY, {"search": "1"}), seen
    )


def test_a_misspelt_team_fails_the_run_naming_it_and_the_teams_it_is_close_to():
    today = simple_day(DAY, {"search": "1", "research": "2", "ads": "3"})

    with pytest.raises(UnknownBudgetTeams) as raised:
        check_budget_teams({"serach": 1, "search": 2, "marketing": 3}, today, {})

    message = str(raised.value)
    assert message.startswith(
        "FWCOST_BUDGETS: no usage annotated team=<name> on 2026-11-21 or in the 30 days before "
        "it, for the budget of 'marketing', 'serach' (did you mean 'search' or 'research'?)."
    )
    assert "a new team's budget can be set once its usage appears" in message
    problem = problem_for(raised.value)
    assert problem is not None and problem.exit_code is ExitCode.BAD_SETTINGS
