"""What changed: usual days by weekday, one line per event, budgets first and in plain words."""

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from report_helpers import rows_day

from fwcost.report.attribution import AttributedDay
from fwcost.report.notices import NoticeKind, Severity, what_changed
from fwcost.report.render import render_email_html, render_email_text
from fwcost.report.slack_message import render_slack
from fwcost.report.summary import Dimension, baseline, summarize
from report_fixtures import demo_context, read_back

SATURDAY = date(2026, 11, 21)
FRIDAY, WEDNESDAY = date(2026, 11, 20), date(2026, 11, 18)
Rows = list[tuple[str, str, str, str, str]]


def weeks_of(today: date, rows_on: Callable[[date], Rows], days: int = 28) -> dict:
    """The `days` before `today`, each day's usage rows from `rows_on`."""
    earlier = [today - timedelta(days=back) for back in range(1, days + 1)]
    return {day: rows_day(day, rows_on(day)) for day in earlier}


def office_week(day: date) -> Rows:
    """Team a: $100 on weekdays, $40 at weekends; its batch key runs on weekdays only."""
    if day.weekday() >= 5:
        return [("a", "key_app", "app", "gpt-oss-120b", "40")]
    return [
        ("a", "key_app", "app", "gpt-oss-120b", "70"),
        ("a", "key_batch", "batch", "gpt-oss-120b", "30"),
    ]


def context(day: date, **overrides: object):
    return demo_context(
        day, **{"team_budgets": {}, "account_budget": None, "restatements": (), **overrides}
    )


def report(today: AttributedDay, history: dict, **overrides: object):
    return summarize(today, read_back(history), context(today.day, **overrides))


# ---- the baseline knows weekdays -----------------------------------------------------------


def test_a_normal_weekend_dip_is_not_news():
    # Given four office weeks, and a Saturday like the other Saturdays (no batch key)
    history = weeks_of(SATURDAY, office_week)
    summary = report(rows_day(SATURDAY, office_week(SATURDAY)), history)

    # Then nothing is unusual and nothing went quiet: Saturdays are compared with Saturdays
    assert summary.anomalies == ()
    assert summary.arrivals == ()
    # (a dip it is: far below the last 7 days' average)
    assert summary.change.pct_vs_average is not None and summary.change.pct_vs_average < -30


def test_a_saturday_spike_is_flagged_against_saturdays():
    # Given office weeks, and a Saturday at $90: below any weekday, 2.25 times a Saturday
    history = weeks_of(SATURDAY, office_week)
    today = rows_day(SATURDAY, [("a", "key_app", "app", "gpt-oss-120b", "90")])

    summary = report(today, history)

    (anomaly,) = summary.anomalies
    assert (anomaly.dimension, anomaly.name, anomaly.median) == (Dimension.TEAM, "a", 4000)
    assert anomaly.baseline.weekday == SATURDAY.weekday()
    assert "a spent $90.00, 2.2× its usual Saturday ($40.00)" in render_email_text(summary)


def test_a_weekday_spike_is_still_caught():
    history = weeks_of(FRIDAY, office_week)
    today = rows_day(FRIDAY, [*office_week(FRIDAY), ("a", "key_app", "app", "kimi-k2p6", "150")])

    (anomaly,) = report(today, history).anomalies

    assert (anomaly.name, anomaly.cents, anomaly.median) == ("a", 25000, 10000)
    assert anomaly.baseline.usual_day == "Friday"


def test_going_quiet_on_a_weekday_is_news_for_a_week():
    # Given office weeks, and a Wednesday without the batch key
    history = weeks_of(WEDNESDAY, office_week)
    app_only = [("a", "key_app", "app", "gpt-oss-120b", "70")]

    summary = report(rows_day(WEDNESDAY, app_only), history)

    (quiet,) = summary.arrivals
    assert (quiet.dimension, quiet.name, quiet.new, quiet.cents) == (
        Dimension.KEY,
        "batch",
        False,
        3000,
    )
    assert "Key batch (a) went quiet (usually $30.00 a Wednesday)" in render_email_text(summary)
    # And while it stays quiet, it is said on its usual days for a week, then no more
    for day in (WEDNESDAY + timedelta(days=n) for n in range(1, 8)):
        history[day - timedelta(days=1)] = rows_day(day - timedelta(days=1), app_only)
        said = report(rows_day(day, app_only), history).arrivals != ()
        assert said == (day.weekday() < 5 and day < WEDNESDAY + timedelta(days=7)), day


def test_without_three_same_weekdays_the_day_is_compared_with_its_kind_of_day():
    history = weeks_of(SATURDAY, office_week, days=14)  # two Saturdays, two Fridays

    weekend = baseline(SATURDAY, history, 3)
    weekdays = baseline(FRIDAY, history, 3)  # one Friday before it

    assert weekend is not None and weekend.usual_day == "weekend day"
    assert len(weekend.days) == 4
    assert weekdays is not None and weekdays.usual_day == "weekday"
    assert len(weekdays.days) == 9
    assert baseline(SATURDAY, weeks_of(SATURDAY, office_week, days=5), 3) is None


# ---- one line per event --------------------------------------------------------------------


def busy_week(day: date) -> Rows:
    return [
        ("search", "key_k1", "prod-eng-12", "kimi-k2p6", "50"),
        ("search", "key_k2", "ranker", "llama-v3p3-70b-instruct", "50"),
        ("search", "key_k2", "ranker", "qwen3-30b-a3b", "20"),
        ("ads", "key_k3", "growth-api", "kimi-k2p6", "30"),
    ]


def test_a_teams_spike_is_one_line_naming_its_model_and_key():
    # Given a day on which search's keys and three models all jump, and with them the account
    history = weeks_of(SATURDAY, busy_week)
    today = rows_day(
        SATURDAY,
        [
            ("search", "key_k1", "prod-eng-12", "kimi-k2p6", "400"),
            ("search", "key_k2", "ranker", "llama-v3p3-70b-instruct", "120"),
            ("search", "key_k2", "ranker", "qwen3-30b-a3b", "60"),
            ("ads", "key_k3", "growth-api", "kimi-k2p6", "30"),
        ],
    )

    summary = report(today, history)

    # Then one line says it, with what drove it
    (anomaly,) = summary.anomalies
    assert (anomaly.dimension, anomaly.driver_model, anomaly.driver_key) == (
        Dimension.TEAM,
        "kimi-k2p6",
        "prod-eng-12",
    )
    changed = render_email_text(summary).split("WHAT CHANGED\n")[1].split("\n\n")[0]
    assert " ".join(changed.split()) == (
        "- search spent $580.00, 4.8× its usual Saturday ($120.00) — mostly kimi-k2p6 via key "
        "prod-eng-12"
    )


def test_jumps_within_a_team_that_did_not_jump_are_one_line():
    # Given a team whose big steady deployment hides its key's jump on two models
    def week(day: date) -> Rows:
        return [
            ("ads", "", "", "ads-creative", "1000"),
            ("ads", "key_k1", "prod-ads-1", "kimi-k2p6", "50"),
            ("ads", "key_k1", "prod-ads-1", "llama-v3p3-70b-instruct", "30"),
        ]

    history = weeks_of(SATURDAY, week)
    today = rows_day(
        SATURDAY,
        [
            ("ads", "", "", "ads-creative", "1000"),
            ("ads", "key_k1", "prod-ads-1", "kimi-k2p6", "200"),
            ("ads", "key_k1", "prod-ads-1", "llama-v3p3-70b-instruct", "120"),
        ],
    )

    (line,) = what_changed(report(today, history))

    assert line.plain == (
        "Key prod-ads-1 (ads) spent $320.00, 4.0× its usual Saturday ($80.00)"
        " — with kimi-k2p6 and 1 more model up"
    )


# ---- budgets first, in plain words ---------------------------------------------------------


def budget_day(day: date) -> AttributedDay:
    return rows_day(day, [("ads", "key_k3", "growth-api", "kimi-k2p6", "100")])


def test_budgets_over_or_projected_over_come_first_in_plain_words():
    # Given $100 a day, 21 days into November, a spike today, and budgets ads is over
    # and the account is on pace to pass
    history = weeks_of(SATURDAY, lambda day: [("ads", "key_k3", "growth-api", "kimi-k2p6", "100")])
    today = rows_day(SATURDAY, [("ads", "key_k3", "growth-api", "kimi-k2p6", "400")])
    summary = report(
        today, history, team_budgets={"ads": Decimal(2000)}, account_budget=Decimal(3200)
    )

    notices = what_changed(summary)

    assert [(n.kind, n.severity) for n in notices] == [
        (NoticeKind.BUDGET_OVER, Severity.ALERT),
        (NoticeKind.BUDGET_PROJECTED_OVER, Severity.ALERT),
        (NoticeKind.ANOMALY, Severity.WARNING),
    ]
    assert notices[0].plain == (
        "ads is over its $2,000 November budget: $2,400.00 spent with 9 days left"
    )
    # $2,400 spent, and 9 days at the last 7 days' pace ($1,000 / 7) to go
    assert notices[1].plain == (
        "The account is projected at $3,686 against its $3,200 November budget (115%)"
    )
    # And each channel shows the first as an alert: "!" in text, :rotating_light: in Slack,
    # the alert colour in HTML
    text = render_email_text(summary)
    assert text.split("WHAT CHANGED\n")[1].startswith("  ! ads is over its $2,000 November")
    assert "\n  - ads spent $400.00" in text
    slack = render_slack(summary)
    changed = next(b["text"]["text"] for b in slack["blocks"] if "budget" in str(b))
    assert changed.startswith(":rotating_light: *ads* is over its $2,000 November budget")
    html = render_email_html(summary)
    first = re.search(r'<td class="up" style="[^"]*font-weight:700;">(.*?)</td>', html, re.S)
    assert first is not None and "over its $2,000 November budget" in first.group(1)


def test_the_last_days_of_a_month_count_right():
    # Given $100 a day through November against a $1,000 budget
    history = {day: budget_day(day) for day in (date(2026, 11, n) for n in range(1, 30))}
    budgets = {"ads": Decimal(1000)}
    penultimate, last = date(2026, 11, 29), date(2026, 11, 30)
    one_left = report(budget_day(penultimate), history, team_budgets=budgets)
    on_the_day = report(budget_day(last), history, team_budgets=budgets)
    assert what_changed(one_left)[0].plain.endswith("$2,900.00 spent with 1 day left")
    assert what_changed(on_the_day)[0].plain.endswith("$3,000.00 spent, on the month's last day")
