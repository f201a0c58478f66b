"""The roll-up's figures: sums of the accounts' own cents, never rounded again."""

from datetime import date
from decimal import Decimal

from fwcost.report.attribution import AttributedDay
from fwcost.report.groups import Amount, TeamGroups
from fwcost.report.rollup import (
    TEAM_ROWS,
    AccountLine,
    build_rollup,
    render_rollup_html,
    render_rollup_slack,
    render_rollup_text,
    rollup_csv,
    rollup_subject,
)

DAY = date(2026, 11, 21)


def day_of(teams: dict[str, int], billed_only: dict[str, int] | None = None) -> AttributedDay:
    def amount(cents: int) -> Amount:
        return Amount(cost=Decimal(cents) / 100, cents=cents)

    cents = sum(teams.values()) + sum((billed_only or {}).values())
    return AttributedDay(
        day=DAY,
        teams={team: TeamGroups(amount=amount(c)) for team, c in teams.items()},
        billed_only={category: amount(c) for category, c in (billed_only or {}).items()},
        total=Decimal(cents) / 100,
        total_cents=cents,
        billed_total=Decimal(cents) / 100,
        estimated_total=Decimal(0),
        estimated_cents=0,
        key_source="usage_costs",
    )


def test_teams_are_summed_across_accounts_and_split_by_account():
    rollup = build_rollup(
        DAY,
        "UTC",
        [
            AccountLine("prod", "Production", day_of({"search": 1001, "": 7}, {"Embeddings": 3})),
            AccountLine("labs", "Labs", day_of({"search": 250, "ads": 99})),
            AccountLine("qa", "QA", None, "Fireworks refused the API key"),
        ],
        "s3://b/fireworks/account=_rollup/dt=2026-11-21",
    )

    assert rollup.total_cents == 1011 + 349
    assert [(t.label, t.cents, t.by_account) for t in rollup.teams] == [
        ("search", 1251, (("Production", 1001), ("Labs", 250))),
        ("ads", 99, (("Labs", 99),)),
        ("Unattributed", 7, (("Production", 7),)),
        ("Billed, not in usage data (Embeddings)", 3, (("Production", 3),)),
    ]
    assert sum(team.cents for team in rollup.teams) == rollup.total_cents
    assert rollup.covered == "2 of 3 accounts"
    assert rollup_subject(rollup).endswith(": $13.60 · 1 account failed")
    for rendered in (render_rollup_text(rollup), render_rollup_html(rollup)):
        assert "Fireworks refused the API key" in rendered
        assert "$12.51" in rendered and "$10.11" in rendered
    slack = str(render_rollup_slack(rollup))
    assert "QA" in slack and "$13.60" in slack
    rows = rollup_csv(rollup).decode().splitlines()
    assert rows[0] == "day,account_id,account_name,team,category,attributed_cost_usd"
    assert sum(Decimal(row.rsplit(",", 1)[1]) for row in rows[1:]) == Decimal("13.60")


def test_past_the_shown_teams_one_row_holds_the_rest_so_the_table_adds_up():
    teams = {f"team-{n:02}": 100 + n for n in range(TEAM_ROWS + 5)}
    rollup = build_rollup(DAY, "UTC", [AccountLine("prod", "prod", day_of(teams))], "here")

    assert len(rollup.teams) == TEAM_ROWS
    assert rollup.teams[-1].label == "6 more"
    assert sum(team.cents for team in rollup.teams) == rollup.total_cents


def test_a_hostile_account_or_team_name_stays_text_everywhere():
    name = '=HYPERLINK("x") <!channel>'
    rollup = build_rollup(DAY, "UTC", [AccountLine("prod", name, day_of({name: 5}))], "here")

    assert "<!channel>" not in str(render_rollup_slack(rollup))
    assert "<!channel>" not in render_rollup_html(rollup)
    assert "'=HYPERLINK" in rollup_csv(rollup).decode()
