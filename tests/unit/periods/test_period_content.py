"""A period's content from archived days: sums of the days' cents, spread, rounding, revisions."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from fwcost.model import LineItem
from fwcost.periods.content import (
    PeriodContext,
    PeriodData,
    add_up_days,
    build_reports,
    charged,
    team_cents,
)
from fwcost.periods.model import Period
from fwcost.periods.reconcile import reconcile
from fwcost.periods.render import render_period
from fwcost.report.attribution import AttributedDay
from fwcost.report.cents import cents_of
from fwcost.report.summary import RowKind
from fwcost.report.unattributed import UnattributedSpend
from report_fixtures import demo_history

MONTH = Period.month(2026, 10)


@pytest.fixture(scope="module")
def days() -> dict[date, AttributedDay]:
    today, history = demo_history(date(2026, 11, 1), days=62)
    return {**history, today.day: today}


def context(mode: UnattributedSpend = UnattributedSpend.ROW) -> PeriodContext:
    return PeriodContext(
        account_id="acme-ai",
        timezone="America/Los_Angeles",
        code_version="0.1.0",
        archive_location="s3://bucket/statements/month=2026-10",
        top_n=5,
        unattributed=mode,
        team_budgets={"search": Decimal(100)},
    )


def data(days: dict[date, AttributedDay], period: Period = MONTH) -> PeriodData:
    return PeriodData(
        period=period,
        days={d: days[d] for d in period.days},
        earlier=[(p, {d: days[d] for d in p.days if d in days}) for p in period.earlier(2)],
        month_so_far={d: days[d] for d in Period.month_of(period.end).days if d <= period.end},
    )


def test_a_month_is_its_days_added_up_group_by_group(days):
    total = add_up_days([days[d] for d in MONTH.days], MONTH.start)
    assert total.total_cents == sum(days[d].total_cents for d in MONTH.days)
    for team, groups in total.teams.items():
        assert groups.amount.cents == sum(
            days[d].teams[team].amount.cents for d in MONTH.days if team in days[d].teams
        )
        for breakdown in groups.breakdowns():
            assert sum(amount.cents for amount in breakdown) == groups.amount.cents


def test_spread_shares_what_no_team_carries_by_spend_to_the_cent():
    cents = {"search": 7_000, "ads": 3_000, "": 1_001}
    spread = charged(cents, UnattributedSpend.SPREAD)
    assert spread == {"ads": 3_300, "search": 7_701} and sum(spread.values()) == 11_001
    assert charged(cents, UnattributedSpend.ROW) == {"ads": 3_000, "search": 7_000, "": 1_001}
    assert charged({"": 500}, UnattributedSpend.SPREAD) == {"": 500}  # nobody to share with


@pytest.mark.parametrize("mode", list(UnattributedSpend))
def test_the_statement_table_adds_up_to_the_bill_rounded_once(days, mode):
    [overall, *teams] = build_reports(data(days), context(mode))
    table = overall.views["teams"]
    total = add_up_days([days[d] for d in MONTH.days], MONTH.start)
    assert total.billed_total is not None
    assert table.total == overall.cents == cents_of(total.billed_total) + total.estimated_cents
    assert sum(row.cents for row in table.rows) == table.total
    named = [row for row in table.rows if row.kind is RowKind.ITEM]
    assert len(named) == len([t for t in total.teams if t])  # every team, never folded
    if mode is UnattributedSpend.SPREAD:
        assert not any(row.kind is RowKind.UNATTRIBUTED for row in table.rows)
    for report in teams:
        assert report.team is not None
        assert report.cents == charged(team_cents(total), mode)[report.team]


def test_a_revised_statement_says_what_each_team_was_charged(days):
    before = {"search": 1, "ads": 2}
    [overall, *_] = build_reports(
        data(days), context(), issue=2, previous_issue=("2026-11-03T07:45:00+00:00", before)
    )
    assert overall.statement is not None and overall.statement.revision is not None
    changes = {team: (was, now) for team, was, now in overall.statement.revision.changes}
    assert changes["search"][0] == 1 and changes["ads"][0] == 2
    rendered = render_period(overall)
    assert rendered.subject.startswith("Fireworks AI statement (revised), October 2026")
    assert "Revised (issue 2)" in rendered.text


def test_a_digest_compares_with_the_week_before_and_paces_the_budget(days):
    week = Period.iso_week(date(2026, 10, 21))
    [overall, *_] = build_reports(data(days, week), context())
    before = sum(days[d].total_cents for d in week.previous.days)
    assert overall.previous == before
    [budget] = overall.budgets
    spent = sum(
        days[d].teams["search"].amount.cents
        for d in Period.month(2026, 10).days
        if d <= week.end and "search" in days[d].teams
    )
    assert (budget.scope, budget.spent, budget.days_left) == ("search", spent, 6)
    text = " ".join(render_period(overall).text.split())
    assert "search is over its $100 October budget" in text
    assert "vs the week before" in text


def test_reconciliation_lists_categories_to_the_cent_and_credits_apart():
    def item(category: str, cost: str) -> LineItem:
        return LineItem(
            date(2026, 10, 1), category, "", "", "", "", "", 1.0, Decimal(0), Decimal(cost)
        )

    items = [
        item("Text Completion", "10.004"),
        item("Text Completion", "0.003"),
        item("Dedicated Deployment", "20.004"),
        item("Promotional credit", "-5"),
    ]
    rec = reconcile(
        items, "", archived_billed=Decimal("30.011"), estimated_cents=0, total_cents=3001
    )
    assert rec.billed == Decimal("30.011") and rec.billed_cents == 3001
    assert rec.categories == (("Dedicated Deployment", 2000), ("Text Completion", 1001))
    assert rec.credits == (("Promotional credit", -500),)
    assert rec.reconciled and rec.not_archived_cents == 0
    late = reconcile(items, "", archived_billed=Decimal("29"), estimated_cents=0, total_cents=2900)
    assert late.not_archived_cents == 101 and not late.reconciled
    refused = reconcile([], "billing/summary refused (403)", archived_billed=Decimal(1),
                        estimated_cents=0, total_cents=100)  # fmt: skip
    assert refused.billed is None and not refused.reconciled


def test_the_statement_html_is_one_document_with_every_table(days):
    [overall, *_] = build_reports(data(days), context())
    html = render_period(overall).html
    assert html.startswith("<!doctype html>") and html.count("<html") == 1
    for title in ("Charged per team", "Top API keys", "Models and deployments", "Projects"):
        assert title in html
    assert "Not reconciled: no billing summary for the month" in html  # none was fetched


def test_every_table_of_the_statement_adds_up_to_its_total(days):
    [overall, *_] = build_reports(data(days), context())
    for view in overall.views.values():
        assert view.total == overall.cents
        assert sum(row.cents for row in view.rows) == view.total


def test_each_team_is_compared_with_the_period_before(days):
    week = Period.iso_week(date(2026, 10, 21))
    [overall, *_] = build_reports(data(days, week), context())
    search = next(row for row in overall.views["teams"].rows if row.label == "search")
    was = sum(days[d].teams["search"].amount.cents for d in week.previous.days)
    pct = f"{(search.cents - was) / Decimal(was) * 100:+.1f}".replace("-", "−")
    assert search.detail == f"{pct}% vs week 42"


def test_a_team_that_moved_a_quarter_and_the_floor_is_news_in_the_digest(days):
    week = Period.iso_week(date(2026, 10, 21))
    moved = {d: AttributedDay.from_json(day.to_json()) for d, day in days.items()}
    for d in week.days:  # search spends three times its usual this week
        extra = moved[d].teams["search"].amount.cents * 2
        moved[d].teams["search"].amount.cents += extra
        moved[d].total_cents += extra
    [overall, *_] = build_reports(data(moved, week), context())
    said = [notice.plain for notice in overall.notices]
    assert any(line.startswith("search spent $") and "on the week before" in line for line in said)
    assert not any(line.startswith("research spent") for line in said)


def test_a_digest_with_nothing_to_say_says_it_was_a_quiet_week(days):
    week = Period.iso_week(date(2026, 10, 21))
    reports = build_reports(data(days, week), context())
    quiet = [r for r in reports if not r.notices and not r.budgets]
    loud = [r for r in reports if r.notices or r.budgets]
    assert quiet and loud
    for report in quiet:
        rendered = render_period(report)
        for body in (rendered.html, rendered.text, json.dumps(rendered.slack)):
            assert "A quiet week: no team moved by a quarter" in " ".join(body.split())
    for report in loud:
        assert "A quiet week" not in render_period(report).text
    # a statement has no news section, so no such line either
    [statement, *_] = build_reports(data(days), context())
    assert "A quiet week" not in render_period(statement).text
