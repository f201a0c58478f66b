"""Turn a DailySummary into the HTML email and its plain-text part (Slack: slack_message.py).

Money arrives in cents (summary.py): every printed amount is a sum of the attributed rows' cents,
rounded once in cents.py, so tables add up and the same thing shows the same cents everywhere.
Only figures worked out from cents (averages, projections) are rounded here, by `money`, for
display. Text lives in Jinja2 templates; this module prepares display values
(unescaped) and each template escapes for its target (HTML autoescape).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from fwcost.links import Link, ReportLinks
from fwcost.report.cents import money, money_whole, signed_money
from fwcost.report.notices import (
    NoticeKind,
    Severity,
    incomplete_data,
    suspect_empty,
    what_changed,
)
from fwcost.report.summary import TREND_DAYS, DailySummary, RowKind, View, compact_number

SPARK_CHARS = "▁▂▃▄▅▆▇█"
MAX_NOTICES = 8
# The HTML email's marker for each kind of notice (the text part has "!" for an alert, else "-")
HTML_MARKERS = {
    NoticeKind.BUDGET_OVER: Markup("&#9679;"),
    NoticeKind.BUDGET_PROJECTED_OVER: Markup("&#9679;"),
    NoticeKind.BUDGET_NEAR: Markup("&#9679;"),
    NoticeKind.ANOMALY: Markup("&#9650;"),
    NoticeKind.NEW: Markup("&#10022;"),
    NoticeKind.QUIET: Markup("&#9662;"),
    NoticeKind.REVISED: Markup("&#8635;"),
    NoticeKind.EXPORT_DIFFERS: Markup("&#8800;"),
    NoticeKind.TEAMS_OMITTED: Markup("&#8226;"),
}
CHART_HEIGHT_PX = 80
MINI_CHART_HEIGHT_PX = 24  # a team's own 14 days in the overall email's By team table
# Names in the HTML email's tables. Longer names are clipped (the full name is the tooltip and is
# in the CSV). A word up to UNBROKEN characters never breaks; a longer one gets break
# opportunities after its punctuation and then every CHUNK characters, so a table column's
# narrowest width stays about UNBROKEN characters and an ordinary name is never squeezed apart.
NAME_MAX = 64
UNBROKEN = 18
CHUNK = 12
BREAK_AFTER = re.compile(r"(?<=[-_./:@|+=,;~)\]])")


def template_dir() -> Path:
    """fwcost/templates: in the repository a link to its top-level templates/ folder, in the
    wheel and the Lambda layer a copy (package data, see pyproject.toml)."""
    return Path(__file__).resolve().parents[1] / "templates"


@cache
def environment() -> jinja2.Environment:
    """One Environment for the process; StrictUndefined so a typo fails instead of printing ''."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir()),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        pct=signed_pct,
        clip=clip,
        ljust=lambda text, width: str(text).ljust(width),
        rjust=lambda text, width: str(text).rjust(width),
        breakable=breakable,
    )
    # Typed values, compared as such: `row.kind == RowKind.ITEM`, `n.severity == Severity.ALERT`
    env.globals.update(RowKind=RowKind, Severity=Severity, markers=HTML_MARKERS)
    return env


# ---- public API ----------------------------------------------------------------------------


def email_subject(s: DailySummary) -> str:
    # A team name is data of any length: clipped, so the day and the amount stay in view.
    scope = f"{clip(s.team, 60)} · " if s.team else ""
    if s.is_empty:
        return f"{scope}Fireworks AI spend, {day_short(s.day)}: no usage"
    change = s.change.pct_vs_average
    tail = f" ({signed_pct(change, 1)} vs 7-day avg)" if change is not None else ""
    flag = "" if s.has_bill else " (estimated, no bill)"
    return f"{scope}Fireworks AI spend, {day_short(s.day)}: {money(s.totals.cents)}{flag}{tail}"


def render_email_html(s: DailySummary) -> str:
    return environment().get_template("daily.html.j2").render(**_display(s))


def render_email_text(s: DailySummary) -> str:
    return environment().get_template("daily.txt.j2").render(**_display(s))


# ---- formatting helpers (also Jinja filters) -----------------------------------------------


def signed_pct(value: Decimal | None, places: int = 0) -> str:
    if value is None:
        return "n/a"
    rounded = round(value, places)
    sign = "+" if rounded > 0 else ("−" if rounded < 0 else "±")
    return f"{sign}{abs(rounded):.{places}f}%"


def clip(text: object, width: int) -> str:
    value = str(text)
    return value if len(value) <= width else value[: width - 1] + "…"


def breakable(text: object, limit: int | None = NAME_MAX) -> Markup:
    """HTML for a name: escaped, clipped to `limit`, with <wbr> inside words too long to keep.

    <wbr> rather than CSS overflow-wrap:anywhere in table cells: `anywhere` lets a cell shrink
    to one character, so a busy table squeezed "research" into "resear/ch".
    """
    value = str(text) if limit is None else clip(text, limit)
    words = re.split(r"(\s+)", value)
    return Markup("").join(_break_word(word) for word in words)


def _break_word(word: str) -> Markup:
    if len(word) <= UNBROKEN:
        return escape(word)
    pieces = []
    for piece in BREAK_AFTER.split(word):
        if len(piece) <= UNBROKEN:
            pieces.append(piece)
        else:  # the last resort: a long run without punctuation
            pieces += [piece[start : start + CHUNK] for start in range(0, len(piece), CHUNK)]
    return Markup("<wbr>").join(escape(piece) for piece in pieces if piece)


def sparkline(values: Sequence[int | None]) -> str:
    """▁▂▃▄▅▆▇█ scaled to the largest value; a missing day is a middle dot."""
    present = [v for v in values if v is not None]
    top = Decimal(max(present, default=0))
    chars = []
    for value in values:
        if value is None:
            chars.append("·")
        elif top <= 0:
            chars.append(SPARK_CHARS[0])
        else:
            chars.append(SPARK_CHARS[min(int(value / top * 7 + Decimal("0.5")), 7)])
    return "".join(chars)


# ---- display model -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    amount: str
    height: int
    today: bool
    missing: bool
    weekend: bool


@dataclass(frozen=True, slots=True)
class DisplayRow:
    label: str
    amount: str
    kind: RowKind
    detail: str
    team: str
    change: str
    change_tone: str  # "up", "down" or ""
    spark: str
    bars: tuple[Bar, ...]  # the row's last 14 days (teams only), for the HTML's small charts
    estimated: bool


@dataclass(frozen=True, slots=True)
class DisplayView:
    name: str
    title: str
    rows: list[DisplayRow]
    total: str
    hidden: int


@dataclass(frozen=True, slots=True)
class DisplayLinks:
    """The report's links (its archived copy and CSV) and what the reader should know of them."""

    report: Link
    csv: Link
    note: str  # e.g. "Links work until Mon 7 Dec, 07:02 PST."; "" for local files


def display_links(links: ReportLinks | None, timezone: str) -> DisplayLinks | None:
    if links is None:
        return None
    note = ""
    if links.expires is not None:
        until = links.expires.astimezone(ZoneInfo(timezone))
        note = f"Links work until {until:%a} {until.day} {until:%b}, {until:%H:%M %Z}."
    elif links.needs_sign_in:
        note = "Links open the AWS console: sign in to the account that holds the archive."
    return DisplayLinks(links.report, links.csv, note)


def _display(s: DailySummary) -> dict[str, Any]:
    views = {name: _display_view(view, s.day) for name, view in s.views.items()}
    change = s.change
    notices = what_changed(s)
    return {
        "s": s,
        "scope": s.team or "",
        "account": s.context.account_id,
        "title": email_subject(s),
        "day_long": f"{s.day:%A} {s.day.day} {s.day:%B %Y}",
        "day_short": day_short(s.day),
        "day_label": day_label(s.day),
        "prev_label": day_label(s.day - timedelta(days=1)),
        "day_hours": day_hours(s),
        "day_span": _day_span(s),
        "empty": s.is_empty,
        "suspect_empty": suspect_empty(s),
        "total": money(s.totals.cents),
        "vs_avg": change_text(change.vs_average, change.pct_vs_average),
        "vs_avg_tone": _tone(change.vs_average),
        "avg": money(change.average) if change.average is not None else "",
        "avg_days": change.average_days,
        "vs_prev": change_text(change.vs_previous, change.pct_vs_previous),
        "prev": money(change.previous) if change.previous is not None else "",
        "month_total": money(s.month.cents),
        "month_name": f"{s.day:%B}",
        "projection": money_whole(s.month.projection),
        "month_missing": len(s.month.days_missing),
        "tokens": _tokens_text(s),
        "gpu": _gpu_text(s),
        "audio": f"{s.totals.audio_minutes:,.0f} audio minutes" if s.totals.audio_minutes else "",
        "notices": notices[:MAX_NOTICES],
        "more_notices": max(len(notices) - MAX_NOTICES, 0),
        "warnings": [notice.plain for notice in incomplete_data(s)],
        "bars": _bars(s.trend, s.day, CHART_HEIGHT_PX),
        "chart_height": CHART_HEIGHT_PX,
        "mini_chart_height": MINI_CHART_HEIGHT_PX,
        "name_max": NAME_MAX,
        "spark": sparkline([value for _, value in s.trend]),
        "trend_range": _trend_range(s),
        "views": views,
        "team_view": views["teams"] if not s.team else None,
        "method": _method_lines(s),
        "adds_up": adds_up_to(s),
        "checks": _price_check_lines(s),
        "archive": s.context.archive_location,
        "links": display_links(s.context.links, s.context.timezone),
        "version": s.context.code_version,
        "timezone": s.context.timezone,
    }


def _display_view(view: View, day: date) -> DisplayView:
    trend_days = [day - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    rows = []
    for row in view.rows:
        rows.append(
            DisplayRow(
                label=row.label,
                amount=money(row.cents),
                kind=row.kind,
                detail=row.detail,
                team=row.team,
                change=signed_pct(row.change_pct) if row.change_pct is not None else "",
                change_tone=_tone(row.change_pct, threshold=Decimal(10)),
                spark=sparkline(row.trend) if row.trend else "",
                bars=_bars(list(zip(trend_days, row.trend, strict=True)), day, MINI_CHART_HEIGHT_PX)
                if row.trend
                else (),
                estimated=row.estimated,
            )
        )
    return DisplayView(view.name, view.title, rows, money(view.total), view.hidden)


def _tone(delta: int | Decimal | None, threshold: Decimal = Decimal(0)) -> str:
    if delta is None or abs(Decimal(delta)) <= threshold:
        return ""
    return "up" if delta > 0 else "down"


def change_text(delta: int | Decimal | None, pct: Decimal | None) -> str:
    if delta is None:
        return ""
    arrow = "▲" if delta > 0 else ("▼" if delta < 0 else "")
    pct_text = f" ({signed_pct(pct, 1)})" if pct is not None else ""
    return f"{arrow} {signed_money(delta)}{pct_text}".strip()


def day_short(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def day_label(day: date) -> str:
    """A day named as a date, e.g. "Sat 28 Nov": a report can be for any day, not only yesterday."""
    return f"{day:%a} {day.day} {day:%b}"


def day_hours(s: DailySummary) -> str:
    # Subtract in UTC: aware datetimes sharing one tzinfo subtract as wall-clock times.
    bounds = s.context.bounds
    hours = round(
        (bounds.end.astimezone(UTC) - bounds.start.astimezone(UTC)).total_seconds() / 3600
    )
    if hours == 25:
        return "25 hours: clocks went back"
    if hours == 23:
        return "23 hours: clocks went forward"
    return ""


def _day_span(s: DailySummary) -> str:
    start = s.context.bounds.start.astimezone(UTC)
    end = s.context.bounds.end.astimezone(UTC)
    return f"{start:%H:%M} UTC {start.day} {start:%b} to {end:%H:%M} UTC {end.day} {end:%b}"


def _tokens_text(s: DailySummary) -> str:
    t = s.totals
    if not t.tokens:
        return "no serverless tokens"
    cached = (
        f", {t.cached_prompt_tokens / t.prompt_tokens:.0%} cached"
        if t.prompt_tokens and t.cached_prompt_tokens
        else ""
    )
    return (
        f"{compact_number(t.tokens)} tokens ({compact_number(t.prompt_tokens)} in{cached}"
        f" · {compact_number(t.completion_tokens)} out)"
    )


def _gpu_text(s: DailySummary) -> str:
    t = s.totals
    if not t.gpu_hours:
        return "no GPU deployments"
    plural = "s" if t.deployments != 1 else ""
    return f"{t.gpu_hours:,.1f} GPU hours on {t.deployments} deployment{plural}"


def _trend_range(s: DailySummary) -> str:
    values = [value for _, value in s.trend if value is not None]
    if not values:
        return ""
    return (
        f"low {money_whole(min(values))} · high {money_whole(max(values))}"
        f" · average {money_whole(Decimal(sum(values)) / len(values))}"
    )


def _bars(
    series: Sequence[tuple[date, int | None]], today: date, height_px: int
) -> tuple[Bar, ...]:
    """A bar chart's bars, scaled to the series' highest day."""
    top = max((value for _, value in series if value is not None), default=0)
    bars = []
    for day, value in series:
        height = 0
        if value is not None and top > 0:
            height = max(int(value / Decimal(top) * height_px), 2 if value > 0 else 0)
        bars.append(
            Bar(
                label=str(day.day),
                amount=money_whole(value) if value is not None else "no data",
                height=height,
                today=day == today,
                missing=value is None,
                weekend=day.weekday() >= 5,
            )
        )
    return tuple(bars)


def _method_lines(s: DailySummary) -> list[str]:
    lines = []
    if s.has_bill:
        # What is exact and what is estimated, in words a finance reader can use.
        lines.append(
            f"Every table adds up to {money(s.totals.cents)}: {adds_up_to(s)}, before credits, "
            "discounts and taxes. Fireworks bills per model and per GPU deployment, not per "
            "team or key, so each bill line is split among those who used it: by their tokens, "
            "weighted by list price, or by their GPU hours. The totals are exact; the split is "
            "an estimate."
        )
    lines += s.notes
    if s.totals.estimated_cents and s.has_bill:
        lines.append(
            f"{money(s.totals.estimated_cents)} of the total is usage not on the bill, counted "
            "at list price."
        )
    return lines


def adds_up_to(s: DailySummary) -> str:
    whose = "this team's share of " if s.team else ""
    extra = " plus usage not on the bill, at list price" if s.totals.estimated_cents else ""
    return f"{whose}what Fireworks billed for the day{extra}"


def _price_check_lines(s: DailySummary) -> list[str]:
    """Where list prices (the price book) and the bill differ most, so the split can be
    judged; lines that agree to the percent are left out."""
    lines = []
    for label, billed, book in sorted(s.price_checks, key=lambda c: -abs(c[1] - c[2])):
        gap = (book - billed) / billed * 100 if billed else None
        if gap is not None and round(gap) == 0:
            continue
        shown = signed_pct(gap) if gap is not None else "n/a"
        lines.append(f"{label} billed {money(billed)}, {money(book)} at list price ({shown})")
    return lines[:3]
