"""A week's digest and a month's statement as an HTML email, its text part and a Slack message.

The same look as the daily report: its Jinja environment, macros (templates/_email.html.j2),
money, bars and view rows (report/render.py), and its Slack building blocks (slack_message.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, PlainTextObject

from fwcost.dates import local_midnight
from fwcost.periods.content import PeriodReport, budget_notices
from fwcost.periods.model import Cadence, Period, span
from fwcost.report.cents import money, money_whole, signed_money
from fwcost.report.notices import Notice, restatement_text
from fwcost.report.render import (
    CHART_HEIGHT_PX,
    MAX_NOTICES,
    NAME_MAX,
    _bars,
    _display_view,
    change_text,
    clip,
    environment,
    signed_pct,
    sparkline,
)
from fwcost.report.slack_message import (
    SLACK_MAX_HEADER,
    Part,
    _mrkdwn,
    _section,
    escape_mrkdwn,
    fit_slack,
    slack_name,
)
from fwcost.report.summary import BudgetState, BudgetStatus
from fwcost.report.unattributed import UnattributedSpend

RATED = "rated amounts before credits, discounts and taxes"
KINDS = {Cadence.WEEKLY: "weekly digest", Cadence.MONTHLY: "monthly statement"}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    html: str
    text: str
    slack: dict[str, Any]


QUIET_WEEK = (
    "A quiet week: no team moved by a quarter, no key, model or team started or stopped, "
    "and no day was restated."
)


def render_period(report: PeriodReport) -> Rendered:
    display = _display(report)
    env = environment()
    return Rendered(
        subject=display["title"],
        html=env.get_template("period.html.j2").render(**display),
        text=env.get_template("period.txt.j2").render(**display),
        slack=_slack(report, display),
    )


def subject(report: PeriodReport) -> str:
    scope = f"{clip(report.team, 60)} · " if report.team else ""
    period = report.period
    if report.statement is not None:
        revised = " (revised)" if report.statement.issue > 1 else ""
        return f"{scope}Fireworks AI statement{revised}, {period.title}: {money(report.cents)}"
    change = _pct(report.cents, report.previous)
    tail = f" ({signed_pct(change, 1)} vs the week before)" if change is not None else ""
    return f"{scope}Fireworks AI {period.title}: {money(report.cents)}{tail}"


def _display(r: PeriodReport) -> dict[str, Any]:
    period, statement = r.period, r.statement
    notices = [*budget_notices(r), *r.notices] if statement is None else []
    previous_label = (
        "the week before" if period.cadence is Cadence.WEEKLY else f"{period.previous.start:%B}"
    )
    views = {name: _display_view(view, period.end) for name, view in r.views.items()}
    history = [*r.earlier, (period, r.cents)]
    return {
        "title": subject(r),
        "scope": r.team or "",
        "account": r.context.account_id,
        "kind": KINDS[period.cadence],
        "statement": statement,
        "revised": statement is not None and statement.issue > 1,
        "period_title": period.title,
        "span": _span(period, r.context.timezone),
        "total": money(r.cents),
        "vs_previous": change_text(
            None if r.previous is None else r.cents - r.previous, _pct(r.cents, r.previous)
        ),
        "vs_tone": _tone(None if r.previous is None else r.cents - r.previous),
        "previous_label": previous_label,
        "previous": money(r.previous) if r.previous is not None else "",
        "average": money(r.average) if r.average is not None else "",
        "average_label": f"{len([c for _, c in r.earlier if c is not None])}-week average",
        "own_line": _own_line(r),
        "budget_lines": [_budget_line(b, period) for b in r.budgets],
        "notices": notices[:MAX_NOTICES],
        "more_notices": max(len(notices) - MAX_NOTICES, 0),
        # A digest says so when nothing stood out, so a reader knows it looked.
        "quiet": QUIET_WEEK if statement is None and not notices else "",
        "warnings": [*r.total.gaps[:6]],
        "bars": _bars(list(r.days), date.min, CHART_HEIGHT_PX),
        "chart_height": CHART_HEIGHT_PX,
        "chart_note": _chart_note(r),
        "spark": sparkline([c for _, c in r.days]),
        "history_title": "Six months" if statement is not None else "Five weeks",
        "history": _history(history),
        "views": views,
        "team_view": views["teams"] if not r.team else None,
        "reconciliation": _reconciliation_lines(r),
        "reconciled": statement is not None
        and statement.reconciliation is not None
        and statement.reconciliation.reconciled,
        "restated": [restatement_text(x) for x in statement.restated] if statement else [],
        "revision": _revision_lines(r),
        "unattributed_line": _unattributed_line(r),
        "method": _method(r),
        "archive": r.context.archive_location,
        "version": r.context.code_version,
        "name_max": NAME_MAX,
        "links": None,
    }


def _pct(now: int, before: int | Decimal | None) -> Decimal | None:
    return None if not before else (now - before) / Decimal(before) * 100


def _tone(delta: int | None) -> str:
    return "" if not delta else ("up" if delta > 0 else "down")


def _span(period: Period, timezone: str) -> str:
    """1–31 Oct 2026, America/Los_Angeles days (745 hours: clocks went back)."""
    tz = ZoneInfo(timezone)
    start = local_midnight(period.start, tz).astimezone(UTC)
    end = local_midnight(period.end + timedelta(days=1), tz)
    hours = round((end.astimezone(UTC) - start).total_seconds() / 3600)
    usual = len(period.days) * 24
    dst = ""
    if hours != usual:
        dst = f" ({hours} hours: clocks went {'back' if hours > usual else 'forward'})"
    return f"{span(period.start, period.end)}, {timezone} days{dst}"


def _own_line(r: PeriodReport) -> str:
    """A team's report: its part of the account's, and in a statement, its own usage and its
    share of what no team carries."""
    if not r.team or not r.account_cents:
        return ""
    part = f"{Decimal(r.cents) / r.account_cents:.1%} of the account's {money(r.account_cents)}"
    s = r.statement
    if s is None or not s.share:
        return part + "."
    return (
        f"{part}: {money(r.cents - s.share)} of its own usage, plus {money(s.share)}, its share "
        "of the spend no team annotation carries, shared out by spend."
    )


def _budget_line(b: BudgetStatus, period: Period) -> str:
    who = b.scope or "The account"
    budget = money_whole(b.budget)
    if period.cadence is Cadence.MONTHLY:
        if b.state is BudgetState.OVER:
            return (
                f"{who}: {money(b.spent)}, over its {budget} budget by {money(b.spent - b.budget)}"
            )
        return (
            f"{who}: {b.share:.0%} of its {budget} budget, {money(b.budget - b.spent)} left unused"
        )
    month = f"{period.end:%B}"
    return (
        f"{who}: {money(b.spent)} of its {budget} {month} budget ({b.share:.0%}) to "
        f"{period.end.day} {period.end:%b}, on pace for {money_whole(b.projected)}"
    )


def _chart_note(r: PeriodReport) -> str:
    low = min(r.days, key=lambda dc: dc[1])
    high = max(r.days, key=lambda dc: dc[1])
    weekdays = [c for d, c in r.days if d.weekday() < 5]
    weekends = [c for d, c in r.days if d.weekday() >= 5]
    averages = " · ".join(
        f"{kind} {money_whole(Decimal(sum(values)) / len(values))} a day"
        for kind, values in (("weekdays", weekdays), ("weekends", weekends))
        if values
    )
    return (
        f"low {money_whole(low[1])} ({low[0]:%a} {low[0].day}) · high {money_whole(high[1])} "
        f"({high[0]:%a} {high[0].day}) · {averages} · pale: weekends"
    )


@dataclass(frozen=True, slots=True)
class HistoryBar:
    label: str
    amount: str
    width: int  # percent of the largest
    current: bool


def _history(series: list[tuple[Period, int | None]]) -> list[HistoryBar]:
    """The periods' bars, from the first one archived (a new deployment has none before)."""
    while len(series) > 1 and series[0][1] is None:
        series = series[1:]
    top = max((c for _, c in series if c is not None), default=0)
    bars = []
    for period, cents in series:
        width = 0 if cents is None or top <= 0 else max(int(cents * 100 / top), 1)
        label = f"{period.start:%b}" if period.cadence is Cadence.MONTHLY else f"W{period.key[-2:]}"
        amount = "not archived" if cents is None else money(cents)
        bars.append(HistoryBar(label, amount, width, period is series[-1][0]))
    return bars


def _reconciliation_lines(r: PeriodReport) -> list[str]:
    s = r.statement
    if s is None:
        return []
    if r.team:
        return [
            f"This statement is the team's part of the account's month, which adds up to the "
            f"cent to Fireworks' billing summary for {r.period.short} ({RATED})."
        ]
    rec = s.reconciliation
    lines = []
    if rec is None or rec.billed is None:
        why = rec.refused if rec is not None else "it was not fetched"
        return [f"Not reconciled: no billing summary for the month ({why})."]
    lines.append(
        f"Fireworks' billing summary for {r.period.title}: {money(rec.billed_cents or 0)}, "
        f"{RATED}, by category: "
        + "; ".join(f"{name} {money(cents)}" for name, cents in rec.categories)
        + "."
    )
    if rec.credits:
        lines.append(
            "Credits on the summary, not in the amounts above: "
            + "; ".join(f"{name} {money(cents)}" for name, cents in rec.credits)
            + "."
        )
    parts = [f"the days' attributions add up to {money(r.cents - s.rounding)}"]
    if s.rounding:
        parts.append(
            f"{signed_money(s.rounding)} rounding (each day's bill is rounded to the cent on its own)"
        )
    if rec.estimated_cents:
        parts.append(
            f"of which {money(rec.estimated_cents)} is usage not on the bill, counted at list price"
        )
    lines.append("This statement's total is " + money(r.cents) + ": " + ", ".join(parts) + ".")
    if rec.not_archived_cents:
        lines.append(
            f"Fireworks now bills {signed_money(rec.not_archived_cents)} against the archived "
            "days (late data since they were archived): re-run the month's days with fwcost "
            "backfill and this statement is re-issued, revised."
        )
    else:
        lines.append("Reconciled: the month's billed total matches the archived days to the cent.")
    return lines


def _revision_lines(r: PeriodReport) -> list[str]:
    s = r.statement
    if s is None or s.revision is None:
        return []
    head = (
        f"Revised (issue {s.revision.issue}): days of {r.period.short} changed after the "
        f"statement of {s.revision.previous_written_at[:10]} was issued."
    )
    changes = [
        f"{team}: {money(now)}, was {money(was)} ({signed_money(now - was)})"
        for team, was, now in s.revision.changes
    ]
    return [head, *(changes or ["No team's charge moved; only the detail changed."])]


def _unattributed_line(r: PeriodReport) -> str:
    s = r.statement
    if s is None or r.team:
        return ""
    if s.unattributed is UnattributedSpend.SPREAD:
        return (
            f"Spend with no team ({money(s.share)}: usage without a team annotation and lines "
            "billed without usage data) is shared out over the teams in proportion to their "
            "spend (FWCOST_UNATTRIBUTED=spread)."
        )
    return (
        f"Spend with no team ({money(s.share)}) is shown as rows of its own, not charged to any "
        "team (FWCOST_UNATTRIBUTED=row)."
    )


def _method(r: PeriodReport) -> list[str]:
    lines = [
        f"Built from the archived days of {r.period.title}: each figure is the sum of the days' "
        f"cents as their daily reports attributed them ({RATED}). Fireworks bills per model "
        "and GPU deployment, so each bill line is split among those who used it."
    ]
    if r.statement is not None and r.statement.attachment_names:
        lines.append(
            "Attached: " + " and ".join(r.statement.attachment_names) + ": every team × project "
            "× environment × key × model × deployment line of the month, in cents that add up "
            "to the days' total; the workbook has a summary sheet with a chart and a sheet per "
            "team. Archived with their SHA-256 beside this statement."
        )
    return lines


def notice_mrkdwn(notice: Notice) -> str:
    return "".join(_mrkdwn(segment) for segment in notice.segments)


def _slack(r: PeriodReport, display: dict[str, Any]) -> dict[str, Any]:
    header = f"{KINDS[r.period.cadence].capitalize()} · {r.period.title}"
    if r.team:
        header = f"{clip(r.team, 40)} · {header}"
    parts = [Part(HeaderBlock(text=PlainTextObject(text=clip(header, SLACK_MAX_HEADER))))]
    if display["revised"]:
        parts.append(_section("*Revised.* " + escape_mrkdwn(" ".join(display["revision"]))))
    headline = f"*{display['total']}* {escape_mrkdwn(display['vs_previous'])}"
    if display["previous"]:
        headline += f" vs {escape_mrkdwn(display['previous_label'])} ({display['previous']})"
    if display["average"] and r.statement is None:
        headline += f"\n{escape_mrkdwn(display['average_label'])}: {display['average']}"
    headline += f"\n`{display['spark']}`"
    parts.append(_section(headline))
    if display["budget_lines"]:
        parts.append(_section("\n".join(escape_mrkdwn(x) for x in display["budget_lines"])))
    for notice in display["notices"]:
        parts.append(_section("• " + notice_mrkdwn(notice), optional=True))
    if display["quiet"]:
        parts.append(_section(display["quiet"], optional=True))
    view = display["views"]["teams" if not r.team else "models"]
    lines = [f"{slack_name(row.label, 40)}  {row.amount}" for row in view.rows[:8]]
    parts.append(_section(f"*{escape_mrkdwn(view.title)}*\n" + "\n".join(lines), optional=True))
    if display["reconciliation"]:
        parts.append(_section(escape_mrkdwn(display["reconciliation"][-1]), optional=True))
    context = f"{escape_mrkdwn(display['span'])} · the email has every table · fwcost {display['version']}"
    parts.append(Part(ContextBlock(elements=[MarkdownTextObject(text=context)])))
    return fit_slack(display["title"], parts)
