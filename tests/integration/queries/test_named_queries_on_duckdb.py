"""Every named query, run by DuckDB on the demo's archive, against the report's own figures.

The archive is the real demo's (tests/integration/queries/conftest.py): the same CSV files
Athena reads through the Glue table, including a day revised by the report run (its earlier
CSV kept under revisions/, which the table must not read). The expected figures come from each
day's attribution.json, the figures the reports print, and from the report itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from demo_archive import FIRST_DAY, REPORT_DAY, DemoArchive, cents, days

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def test_cost_per_team_per_day_is_each_days_team_figures(demo: DemoArchive) -> None:
    # When the cost per team per day is asked for the whole archive
    rows = demo.run("team_daily_cost", first_day=str(FIRST_DAY), last_day=str(REPORT_DAY))

    # Then each day has exactly the report's teams, at the report's cents
    found: dict[date, dict[str, int]] = defaultdict(dict)
    for row in rows:
        found[date.fromisoformat(row["day"])][row["team"]] = cents(row["cost_usd"])
    assert sorted(found) == days(FIRST_DAY, REPORT_DAY)
    for day, teams in found.items():
        assert teams == demo.team_cents(day), day
        # and add up to the day's total: the revised 28th at its revised total, not both CSVs
        assert sum(teams.values()) == demo.attribution(day)["total_cents"], day


def test_cost_per_team_per_day_keeps_to_the_days_asked(demo: DemoArchive) -> None:
    rows = demo.run("team_daily_cost", first_day="2026-11-10", last_day="2026-11-12")

    assert {row["day"] for row in rows} == {"2026-11-10", "2026-11-11", "2026-11-12"}


def test_month_chargeback_is_the_sum_of_the_days_per_team_project_and_environment(
    demo: DemoArchive,
) -> None:
    # When November's chargeback is asked (the archive starts on 30 October)
    rows = demo.run("monthly_chargeback", first_day="2026-11-01", last_day="2026-11-30")
    november = days(NOVEMBER[0], REPORT_DAY)

    # Then each team's cents are the sum of its days' cents, and so per project and environment
    assert {row["month"] for row in rows} == {"2026-11"}
    assert all(cents(row["cost_usd"]) == int(row["cost_cents"]) for row in rows)
    by_team: dict[str, int] = defaultdict(int)
    by_project: dict[tuple[str, str], int] = defaultdict(int)
    by_environment: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        by_team[row["team"]] += int(row["cost_cents"])
        by_project[row["team"], row["project"]] += int(row["cost_cents"])
        by_environment[row["team"], row["environment"]] += int(row["cost_cents"])
    expected_teams: dict[str, int] = defaultdict(int)
    expected_projects: dict[tuple[str, str], int] = defaultdict(int)
    expected_environments: dict[tuple[str, str], int] = defaultdict(int)
    for day in november:
        for team, team_cents in demo.team_cents(day).items():
            expected_teams[team] += team_cents
        for team, figures in demo.attribution(day)["teams"].items():
            label = team or "(unattributed)"
            for project, p in figures["projects"].items():
                expected_projects[label, project] += p["cents"]
            for environment, e in figures["environments"].items():
                expected_environments[label, environment] += e["cents"]
    assert by_team == expected_teams
    assert {k: v for k, v in by_project.items() if k[0] != "(billed, not in usage data)"} == (
        expected_projects
    )
    assert {k: v for k, v in by_environment.items() if k[0] != "(billed, not in usage data)"} == (
        expected_environments
    )
    # and the month's total is the report's month to date
    report = " ".join((demo.out / "report.txt").read_text().split())
    month_to_date = sum(by_team.values())
    assert f"Month to date ${Decimal(month_to_date) / 100:,.2f}" in report


def test_a_chargeback_over_two_months_has_a_row_set_per_month(demo: DemoArchive) -> None:
    rows = demo.run("monthly_chargeback", first_day=str(FIRST_DAY), last_day=str(REPORT_DAY))

    october = sum(int(row["cost_cents"]) for row in rows if row["month"] == "2026-10")
    assert {row["month"] for row in rows} == {"2026-10", "2026-11"}
    assert october == sum(
        demo.attribution(day)["total_cents"] for day in days(FIRST_DAY, date(2026, 10, 31))
    )


def test_a_keys_trend_is_its_cents_day_by_day_by_name_or_by_id(demo: DemoArchive) -> None:
    names = demo.key_names()
    key_id = next(key_id for key_id, name in names.items() if name == "prod-ads-1")
    window = {"first_day": "2026-11-01", "last_day": str(REPORT_DAY)}

    # When the trend of a key is asked by its name, then by its id
    by_name = demo.run("key_trend", api_key="prod-ads-1", **window)
    by_id = demo.run("key_trend", api_key=key_id, **window)

    # Then both are the key's cents on each day, the change the difference from the day before
    assert by_name == by_id
    expected = {
        day: demo.key_cents(day)[key_id]
        for day in days(NOVEMBER[0], REPORT_DAY)
        if key_id in demo.key_cents(day)
    }
    assert {date.fromisoformat(r["day"]): cents(r["cost_usd"]) for r in by_name} == expected
    assert {(r["api_key_id"], r["api_key_name"], r["team"]) for r in by_name} == {
        (key_id, "prod-ads-1", "ads")
    }
    assert by_name[0]["change_usd"] == ""
    for before, after in pairwise(by_name):
        assert cents(after["change_usd"]) == cents(after["cost_usd"]) - cents(before["cost_usd"])


def test_the_weeks_biggest_movers_are_this_weeks_cents_against_last_weeks(
    demo: DemoArchive,
) -> None:
    # When the movers of the week ending on the report day are asked
    rows = demo.run("weekly_movers", week_end=str(REPORT_DAY))

    # Then for teams and for keys, each week is the sum of its seven days' cents
    this_week = days(REPORT_DAY - timedelta(days=6), REPORT_DAY)
    last_week = days(REPORT_DAY - timedelta(days=13), REPORT_DAY - timedelta(days=7))
    names = demo.key_names()
    for kind, figures in (("team", demo.team_cents), ("key", demo.key_cents)):
        weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for index, week in enumerate((last_week, this_week)):
            for day in week:
                for name, day_cents in figures(day).items():
                    weeks[names.get(name, name)][index] += day_cents
        movers = [row for row in rows if row["kind"] == kind]
        # the largest changes, up or down, first (ten at most)
        expected = sorted(weeks.items(), key=lambda item: (-abs(item[1][1] - item[1][0]), item[0]))
        assert [row["name"] for row in movers] == [name for name, _ in expected[:10]], kind
        for row in movers:
            last, this = weeks[row["name"]]
            assert (cents(row["last_week_usd"]), cents(row["this_week_usd"])) == (last, this)
            assert cents(row["change_usd"]) == this - last
        assert [int(row["place"]) for row in movers] == list(range(1, len(movers) + 1))


def test_the_unattributed_share_is_the_reports_unattributed_row(demo: DemoArchive) -> None:
    # When the unattributed share of November is asked
    rows = demo.run("unattributed_share", first_day="2026-11-01", last_day="2026-11-30")
    *per_day, period = rows

    # Then each day's unattributed spend is the report's Unattributed row, apart from billed-only
    for row in per_day:
        day = date.fromisoformat(row["day"])
        teams = demo.team_cents(day)
        total = demo.attribution(day)["total_cents"]
        assert cents(row["unattributed_usd"]) == teams.get("(unattributed)", 0), day
        assert cents(row["billed_not_in_usage_usd"]) == teams.get("(billed, not in usage data)", 0)
        assert cents(row["total_usd"]) == total
        share = Decimal(100 * teams["(unattributed)"]) / total
        assert abs(Decimal(row["unattributed_pct"]) - share) <= Decimal("0.005")
    assert [row["day"] for row in per_day] == [str(d) for d in days(NOVEMBER[0], REPORT_DAY)]
    # and the last row sums the period
    assert period["day"] == "all days"
    assert cents(period["unattributed_usd"]) == sum(cents(r["unattributed_usd"]) for r in per_day)
    # as the report day's own report prints it
    report = (demo.out / "report.txt").read_text()
    unattributed = re.search(r"^  Unattributed +\$([\d,.]+)", report, re.MULTILINE)
    assert unattributed is not None
    assert per_day[-1]["unattributed_usd"] == unattributed[1].replace(",", "")
