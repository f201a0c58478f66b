"""Faults in what the function is asked: a day not over yet, a misspelt flag, a bad setting.
Each is refused loudly before anything is fetched or sent, and leaves nothing in the way of the
run that follows."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from deployed import DAY
from faults.lab import SCHEDULED, FaultLab
from faults.scenarios import EMPTY_TEAM_BUDGET, FUTURE_DATE, MISSPELT_DRY_RUN, TODAY
from fwcost.problems import RunError

# A refused run has no metrics to publish (Lambda's own Errors metric counts it).
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")  # the deployment's FWCOST_TIMEZONE


def assert_refused_before_anything(lab: FaultLab, *, day: str = DAY) -> None:
    assert lab.deployed.simulator.requests == [], "Fireworks was asked"
    assert lab.arrivals(day) == [], "something was delivered"
    assert not any("/ledger/" in key for key in lab.archived()), "a delivery was claimed"


def test_a_run_for_today_is_refused_and_the_next_morning_delivers_it(lab: FaultLab) -> None:
    # Given the deployed function, and today's date where the reports are made
    lab.deploy(TODAY)
    today = datetime.now(LOS_ANGELES).date()

    # When it is asked for today, and Lambda retries as it fails
    refused = lab.invoke({"date": today.isoformat()})
    last = lab.lambda_retries(refused)

    # Then every try is refused, saying when the day may be reported; nothing was fetched
    assert isinstance(refused.error, RunError) and last.loud
    assert f"report day {today} is not complete yet" in refused.message
    assert_refused_before_anything(lab, day=today.isoformat())

    # And the next morning's schedule reports the whole day, once
    morning = datetime.combine(today + timedelta(days=1), time(7), LOS_ANGELES)
    lab.clock_at(morning)
    scheduled = lab.invoke({"scheduled_time": morning.astimezone(UTC).isoformat()})
    assert scheduled.result is not None and scheduled.result["start"] == today.isoformat()
    lab.conclude(refused, day=today.isoformat())


def test_a_run_for_next_week_is_refused_and_the_schedule_goes_on(lab: FaultLab) -> None:
    # Given the deployed function
    lab.deploy(FUTURE_DATE)
    next_week = datetime.now(LOS_ANGELES).date() + timedelta(days=7)

    # When it is asked for a day next week
    refused = lab.invoke({"date": next_week.isoformat()})

    # Then it is refused before anything is fetched
    assert isinstance(refused.error, RunError)
    assert f"report day {next_week} is not complete yet" in refused.message
    assert_refused_before_anything(lab, day=next_week.isoformat())

    # And the schedule's next run delivers its day, once
    assert lab.invoke(SCHEDULED).result is not None
    lab.conclude(refused)


def test_a_misspelt_dry_run_flag_is_refused_so_nothing_is_delivered_for_real(
    lab: FaultLab,
) -> None:
    # Given the deployed function
    lab.deploy(MISSPELT_DRY_RUN)

    # When someone asks for a dry run, misspelling the flag
    refused = lab.invoke({"date": DAY, "dryRun": True})

    # Then the event is refused, naming the key and its fix: the run is not taken for real
    assert isinstance(refused.error, RunError)
    assert '"dryRun": unknown key; did you mean "dry_run"?' in refused.message
    assert_refused_before_anything(lab)

    # And the corrected dry run delivers nothing, and the schedule then delivers once
    dry_run = lab.invoke({"date": DAY, "dry_run": True})
    assert dry_run.result is not None and lab.arrivals() == []
    assert lab.invoke(SCHEDULED).result is not None
    lab.conclude(refused)


def test_a_budget_for_a_team_without_a_name_is_refused_as_a_setting(lab: FaultLab) -> None:
    # Given a deployment whose budgets name a team ""
    lab.deploy(EMPTY_TEAM_BUDGET, environment={"FWCOST_BUDGETS": '{"teams": {"": 100}}'})

    # When the schedule invokes it, and Lambda retries as it fails
    refused = lab.invoke(SCHEDULED)
    last = lab.lambda_retries(refused)

    # Then each try is refused, naming the setting; nothing was fetched or sent
    assert isinstance(refused.error, RunError) and last.loud
    assert 'FWCOST_BUDGETS: a team name in "teams" is empty' in refused.message
    assert_refused_before_anything(lab)

    # And once the setting is fixed, the next run delivers the day once
    lab.monkeypatch.setenv("FWCOST_BUDGETS", '{"teams": {"search": 100}}')
    assert lab.invoke(SCHEDULED).result is not None
    lab.conclude(refused)
