"""Turn a DailySummary into the HTML email, its plain-text part and a Slack Block Kit message.

Money arrives in cents (summary.py): every printed amount is a sum of the attributed rows' cents,
rounded once in cents.py, so tables add up and the same thing shows the same cents everywhere.
Only figures worked out from cents (averages, projections) are rounded here, by `money`, for
display. Text lives in Jinja2 templates; this module prepares display values
(unescaped) and each template escapes for its target (HTML autoescape, Slack mrkdwn filter).
"""

from __future__ import annotations

import json
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
from fwcost.report.summary import (
    TREND_DAYS,
    Anomaly,
    Arrival,
    BudgetStatus,
    DailySummary,
    Restatement,
    View,
    compact_number,
)

SPARK_CHARS = "▁▂▃▄▅▆▇█"
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 3000
SLACK_MAX_FIELD = 2000
SLACK_MAX_HEADER = 150
SLACK_MAX_TOTAL = 3800  # Slack truncates messages around 4,000 characters
MAX_NOTICES = 8
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
        money=money,
        money0=money_whole,
        signed_money=signed_money,
        pct=signed_pct,
        mrkdwn=escape_mrkdwn,
        clip=clip,
        ljust=lambda text, width: str(text).ljust(width),
        rjust=lambda text, width: str(text).rjust(width),
        number=compact_number,
        breakable=breakable,
    )
    return env


# ---- public API ----------------------------------------------------------------------------


def email_subject(s: DailySummary) -> str:
    # A team name is data of any length: clipped, so the day and the amount stay in view.
    scope = f"{clip(s.team, 60)} · " if s.team else ""
    if s.is_empty:
        return f"{scope}Fireworks AI spend, {_day_short(s.day)}: no usage"
    change = s.change.pct_vs_average
    tail = f" ({signed_pct(change, 1)} vs 7-day avg)" if change is not None else ""
    flag = "" if s.has_bill else " (estimated, no bill)"
    return f"{scope}Fireworks AI spend, {_day_short(s.day)}: {money(s.totals.cents)}{flag}{tail}"


def render_email_html(s: DailySummary) -> str:
    return environment().get_template("daily.html.j2").render(**_display(s))


def render_email_text(s: DailySummary) -> str:
    return environment().get_template("daily.txt.j2").render(**_display(s))


def render_slack(s: DailySummary) -> dict[str, Any]:
    """A Block Kit payload with a `text` fallback, trimmed to Slack's limits."""
    rendered = environment().get_template("daily.slack.json.j2").render(**_display(s))
    payload: dict[str, Any] = json.loads(rendered)
    return fit_slack(payload)


def slack_text_length(payload: dict[str, Any]) -> int:
    """All text a Slack message carries: the fallback plus every text object in its blocks."""
    return len(payload.get("text", "")) + sum(len(t) for t in _block_texts(payload["blocks"]))


def fit_slack(payload: dict[str, Any]) -> dict[str, Any]:
    """Drop optional blocks (marked in the template) from the end until the message fits.

    The note saying what was left out takes a block and some text itself, so it is counted
    before it is added: the result is never over Slack's limits by the note.
    """
    blocks: list[dict[str, Any]] = payload["blocks"]
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and len(text["text"]) > SLACK_MAX_SECTION:
            text["text"] = clip(text["text"], SLACK_MAX_SECTION)
    optional = [i for i, block in enumerate(blocks) if block.pop("block_id", "").startswith("opt")]
    dropped = 0
    while optional and _over_slack_limits(payload, with_note=dropped > 0):
        del blocks[optional.pop()]
        dropped += 1
    if dropped:
        blocks.insert(len(blocks) - 1, _left_out_note(dropped))
    return payload


def _left_out_note(dropped: int) -> dict[str, Any]:
    text = f"{dropped} section(s) left out to fit Slack; the email has them all."
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _over_slack_limits(payload: dict[str, Any], *, with_note: bool) -> bool:
    note_text = len(_left_out_note(999)["elements"][0]["text"]) if with_note else 0
    note_blocks = 1 if with_note else 0
    return (
        slack_text_length(payload) + note_text > SLACK_MAX_TOTAL
        or len(payload["blocks"]) + note_blocks > SLACK_MAX_BLOCKS
    )


# ---- formatting helpers (also Jinja filters) -----------------------------------------------


def signed_pct(value: Decimal | None, places: int = 0) -> str:
    if value is None:
        return "n/a"
    rounded = round(value, places)
    sign = "+" if rounded > 0 else ("−" if rounded < 0 else "±")
    return f"{sign}{abs(rounded):.{places}f}%"


def escape_mrkdwn(text: object) -> str:
    """Slack's three control characters, so `<!channel>` or `<url|x>` in a name stay text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    kind: str
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
class Segment:
    text: str
    strong: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    tone: str  # "alert", "new", "quiet", "budget", "revised"
    segments: list[Segment]

    @property
    def plain(self) -> str:
        return "".join(segment.text for segment in self.segments)


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
    notices = _notices(s)
    return {
        "s": s,
        "scope": s.team or "",
        "account": s.context.account_id,
        "title": email_subject(s),
        "day_long": f"{s.day:%A} {s.day.day} {s.day:%B %Y}",
        "day_short": _day_short(s.day),
        "day_label": _day_label(s.day),
        "prev_label": _day_label(s.day - timedelta(days=1)),
        "day_hours": _day_hours(s),
        "day_span": _day_span(s),
        "empty": s.is_empty,
        "suspect_empty": _suspect_empty(s),
        "total": money(s.totals.cents),
        "vs_avg": _change_text(change.vs_average, change.pct_vs_average),
        "vs_avg_tone": _tone(change.vs_average),
        "avg": money(change.average) if change.average is not None else "",
        "avg_days": change.average_days,
        "vs_prev": _change_text(change.vs_previous, change.pct_vs_previous),
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
        "warnings": _warnings(s),
        "bars": _bars(s.trend, s.day, CHART_HEIGHT_PX),
        "chart_height": CHART_HEIGHT_PX,
        "mini_chart_height": MINI_CHART_HEIGHT_PX,
        "name_max": NAME_MAX,
        "spark": sparkline([value for _, value in s.trend]),
        "trend_range": _trend_range(s),
        "views": views,
        "team_view": views["teams"] if not s.team else None,
        "method": _method_lines(s),
        "adds_up": _adds_up_to(s),
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


def _change_text(delta: int | Decimal | None, pct: Decimal | None) -> str:
    if delta is None:
        return ""
    arrow = "▲" if delta > 0 else ("▼" if delta < 0 else "")
    pct_text = f" ({signed_pct(pct, 1)})" if pct is not None else ""
    return f"{arrow} {signed_money(delta)}{pct_text}".strip()


def _day_short(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _day_label(day: date) -> str:
    """A day named as a date, e.g. "Sat 28 Nov": a report can be for any day, not only yesterday."""
    return f"{day:%a} {day.day} {day:%b}"


def _day_hours(s: DailySummary) -> str:
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


def _notices(s: DailySummary) -> list[Notice]:
    notices = [_anomaly_notice(a) for a in s.anomalies]
    notices += [_arrival_notice(a) for a in s.arrivals]
    notices += [_budget_notice(b) for b in s.budgets if b.state != "ok"]
    notices += [_restatement_notice(r) for r in s.restatements]
    return notices


def _anomaly_notice(a: Anomaly) -> Notice:
    ratio = f"{a.ratio:.1f}× its 14-day median" if a.ratio else "from nothing on a usual day"
    spent = f" spent {money(a.cents)}, {ratio} ({money(a.median)})"
    if a.dimension == "account":
        return Notice("alert", [Segment("The account", True), Segment(spent)])
    subject = [Segment(f"{_dimension_word(a.dimension)} "), Segment(a.name, True)]
    if a.team and a.dimension != "team":
        subject.append(Segment(f" ({a.team})"))
    drivers = _drivers(a)
    return Notice("alert", [*subject, Segment(spent), *drivers])


def _drivers(a: Anomaly) -> list[Segment]:
    if not (a.driver_model or a.driver_key):
        return []
    parts = [Segment(" — mostly ")]
    if a.driver_model:
        parts.append(Segment(a.driver_model, True))
    if a.driver_key:
        parts += [Segment(" via key " if a.driver_model else "key "), Segment(a.driver_key, True)]
    return parts


def _arrival_notice(a: Arrival) -> Notice:
    word = _dimension_word(a.dimension)
    lead = f"New {word.lower()} " if a.new else f"{word} "
    body = [Segment(lead), Segment(a.name, True)]
    if a.team and a.dimension != "team":
        body.append(Segment(f" ({a.team})"))
    if a.new:
        body.append(Segment(f" spent {money(a.cents)} on its first day"))
        return Notice("new", body)
    body.append(Segment(f" went quiet (usually {money(a.cents)} a day)"))
    return Notice("quiet", body)


def _budget_notice(b: BudgetStatus) -> Notice:
    who = [Segment("Budget: "), Segment(b.scope or "the account", True)]
    state = "over budget" if b.state == "over" else f"at {b.share:.0%}"
    text = (
        f" {state} of {money_whole(b.budget)} with {b.days_left} days left,"
        f" projected {b.projected_share:.0%} ({money_whole(b.projected)})"
    )
    return Notice("budget", [*who, Segment(text)])


def _restatement_notice(r: Restatement) -> Notice:
    text = f"{restatement_text(r)} (now {money(r.new_cents)}, late data since it was reported)"
    return Notice("revised", [Segment(text)])


def restatement_text(r: Restatement) -> str:
    """e.g. "21 Nov revised +$12.40"."""
    return f"{r.day.day} {r.day:%b} revised {signed_money(r.delta_cents)}"


def _dimension_word(dimension: str) -> str:
    return {"team": "Team", "key": "Key", "model": "Model", "deployment": "Deployment"}.get(
        dimension, dimension.title()
    )


def _suspect_empty(s: DailySummary) -> bool:
    """An empty day after days with spend is more likely data still arriving than a quiet day."""
    return s.is_empty and bool(s.change.average)


def _warnings(s: DailySummary) -> list[str]:
    """What is missing from this report, in plain words; shown prominently."""
    found = []
    if not s.has_bill:
        found.append(
            "No bill for this day: Fireworks' billing summary did not answer, so every dollar "
            "here is a price-book estimate."
        )
    found += list(s.gaps)
    if _suspect_empty(s):
        found.append(
            "Fireworks reported no usage and no charges for this day, although the days before "
            f"averaged {money(s.change.average or Decimal(0))} a day: its data may still be arriving "
            "(it can lag a day or more). Tomorrow's run fetches this day again and reports any "
            "change as a revision."
        )
    if s.missing_days:
        days = ", ".join(f"{d.day} {d:%b}" for d in s.missing_days[:6])
        more = f" and {len(s.missing_days) - 6} more" if len(s.missing_days) > 6 else ""
        found.append(
            f"No archived data for {len(s.missing_days)} earlier day(s) ({days}{more}): "
            "averages, trends and month to date use the days present."
        )
    return found


def _method_lines(s: DailySummary) -> list[str]:
    lines = []
    if s.has_bill:
        # What is exact and what is estimated, in words a finance reader can use.
        lines.append(
            f"Every table adds up to {money(s.totals.cents)}: {_adds_up_to(s)}, before credits, "
            "discounts and taxes. Fireworks bills per model and per GPU deployment, not per "
            "team or key, so each bill line is split among those who used it: by their tokens, "
            "weighted by list price, or by their GPU hours. The totals are exact; the split is "
            "an estimate."
        )
    lines += [note for note in s.notes if not note.startswith("NO BILL")]
    if s.totals.estimated_cents and s.has_bill:
        lines.append(
            f"{money(s.totals.estimated_cents)} of the total is usage not on the bill, counted "
            "at list price."
        )
    return lines


def _adds_up_to(s: DailySummary) -> str:
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


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            texts.append(block["text"]["text"])
        texts += [field["text"] for field in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", []) if "text" in e]
    return texts
