"""Where the rendered reports are written beside the archive: the overall one, then each team's."""

from dataclasses import replace
from datetime import date

from fwcost.config import DEFAULT_MAX_TEAM_REPORTS
from fwcost.delivery.model import OutgoingReport
from fwcost.links import Link
from fwcost.model import DayUsage, ServerlessUsage
from fwcost.publishing import outgoing_reports, report_files
from fwcost.report.attribution import AttributedDay, attribute_day
from fwcost.report.cents import money
from fwcost.report.pricebook import load_price_book
from fwcost.report.summary import DailySummary, summarize
from report_fixtures import demo_context


def rendered(team: str | None) -> OutgoingReport:
    name = team or "everyone"
    return OutgoingReport(
        team=team,
        subject=f"costs for {name}",
        html=f"<p>{name}</p>",
        text=name,
        slack={"text": name, "blocks": []},
    )


def test_each_team_gets_a_folder_and_a_team_named_overall_cannot_replace_the_overall_report() -> (
    None
):
    files = report_files([rendered(None), rendered("overall"), rendered("a/b")])

    assert files["report.html"] == b"<p>everyone</p>"
    assert files["teams/overall/report.html"] == b"<p>overall</p>"
    assert files["teams/a%2Fb/report.txt"] == b"a/b"  # a slash in a name stays in one folder
    assert len(files) == 9  # html, text and Slack JSON for each of the three


# ---- at most FWCOST_MAX_TEAM_REPORTS team reports --------------------------------------------


DAY = date(2026, 11, 21)


def spend(team: int) -> ServerlessUsage:
    """One team's usage: team n sends (n + 1) million prompt tokens."""
    return ServerlessUsage(
        DAY, "accounts/fireworks/models/gpt-oss-120b", f"key_{team:04d}", "", f"team-{team:04d}",
        "", "", "TEXT_COMPLETION_INFERENCE_USAGE", 1_000_000 * (team + 1), 0, 0, 0.0,
    )  # fmt: skip


def day_with_teams(count: int) -> tuple[DailySummary, DayUsage, AttributedDay]:
    """`count` teams, team-0000 the smallest; each spends more than the one before."""
    usage = DayUsage(DAY, serverless=[spend(n) for n in range(count)])
    attribution = attribute_day(usage, load_price_book(None))
    context = demo_context(DAY, team_budgets={}, account_budget=None, restatements=())
    return summarize(attribution, {}, context), usage, attribution


def test_a_thousand_teams_get_fifty_reports_and_the_overall_one_says_why_the_rest_have_none():
    summary, usage, attribution = day_with_teams(1000)

    reports = outgoing_reports(
        summary, usage, attribution, account_id="acme-ai", timezone="America/Los_Angeles"
    )

    # The overall report and the 50 largest teams' (not 1,000 reports, each to a channel)
    assert len(reports) == 1 + DEFAULT_MAX_TEAM_REPORTS == 51
    assert [r.team for r in reports[1:]] == [f"team-{n:04d}" for n in range(950, 1000)]
    largest_left_out = money(attribution.teams["team-0949"].amount.cents)
    note = (
        f"950 more teams (at most {largest_left_out} each) have no report of their own; "
        "raise FWCOST_MAX_TEAM_REPORTS to send them one."
    )
    assert note in " ".join(reports[0].text.split())  # the plain text wraps its lines
    assert note in reports[0].html.replace("<wbr>", "")  # break points the HTML may add
    assert all(note not in r.text for r in reports[1:])


def test_the_cap_is_a_setting_and_a_day_within_it_has_no_note():
    summary, usage, attribution = day_with_teams(3)
    every = outgoing_reports(summary, usage, attribution, account_id="a", timezone="UTC")
    assert [r.team for r in every] == [None, "team-0000", "team-0001", "team-0002"]
    assert "FWCOST_MAX_TEAM_REPORTS" not in every[0].text

    one = outgoing_reports(
        summary, usage, attribution, account_id="a", timezone="UTC", max_team_reports=1
    )
    assert [r.team for r in one] == [None, "team-0002"]
    assert "2 more teams" in " ".join(one[0].text.split())

    two = outgoing_reports(
        summary, usage, attribution, account_id="a", timezone="UTC", max_team_reports=2
    )
    assert "1 more team ($0.15 today) has no report of their own" in " ".join(two[0].text.split())

    none = outgoing_reports(
        summary, usage, attribution, account_id="a", timezone="UTC", max_team_reports=0
    )
    assert [r.team for r in none] == [None]


# ---- each report links its own archived copy and CSV -------------------------------------------


def test_each_audience_links_its_own_report_and_csv_which_report_files_holds():
    # Given two teams, one with a name that is not a plain path segment
    usage = DayUsage(DAY, serverless=[spend(0), replace(spend(1), team="a/b")])
    attribution = attribute_day(usage, load_price_book(None))
    context = demo_context(DAY, team_budgets={}, account_budget=None, restatements=())
    asked: list[tuple[str, str]] = []

    def link_to(name: str, label: str) -> Link:
        asked.append((name, label))
        return Link(f"https://example.test/{name}", label)

    # When the reports are rendered with links
    reports = outgoing_reports(
        summarize(attribution, {}, context), usage, attribution,
        account_id="acme-ai", timezone="UTC", link_to=link_to,
    )  # fmt: skip

    # Then each links the files report_files writes for it: its own report and CSV
    files = report_files(reports)
    assert sorted(asked) == [
        ("report.csv", "CSV"),
        ("report.html", "Full report"),
        ("teams/a%2Fb/report.csv", "CSV"),
        ("teams/a%2Fb/report.html", "Full report"),
        ("teams/team-0000/report.csv", "CSV"),
        ("teams/team-0000/report.html", "Full report"),
    ]
    assert {name for name, _ in asked} <= set(files)
    by_team = {report.team: report for report in reports}
    assert "https://example.test/teams/a%2Fb/report.html" in by_team["a/b"].text
    assert "https://example.test/teams/team-0000/" not in by_team["a/b"].text
    assert "https://example.test/report.html" in by_team[None].text
    # and a team's CSV holds its own rows only
    team_csv = files["teams/a%2Fb/report.csv"].decode()
    assert "a/b" in team_csv and "team-0000" not in team_csv
