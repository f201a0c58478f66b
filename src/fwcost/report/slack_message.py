"""The Slack message: the day at a glance, built with slack_sdk's Block Kit models.

The day and month to date, what changed (one line per event, budgets first), the top teams as a
small table (a team's own message: its top keys and models), the top keys on one line, and a
context line linking the day's full report and CSV. The email has everything else.

Names come from the data: each is escaped for mrkdwn (& < >), so `<!channel>` in a team name stays
text, put on one line, and clipped only so that the message always fits Slack's limits (at
NAME_MAX characters, counted escaped). Blocks that may be left out to fit are marked optional;
`fit_slack` drops them, the last first, and says so.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from fwcost.links import Link
from fwcost.report.cents import money, money_whole
from fwcost.report.notices import (
    Notice,
    NoticeKind,
    Segment,
    incomplete_data,
    suspect_empty,
    what_changed,
)
from fwcost.report.render import (
    MAX_NOTICES,
    NAME_MAX,
    adds_up_to,
    change_text,
    day_hours,
    day_label,
    day_short,
    display_links,
    signed_pct,
    sparkline,
)
from fwcost.report.summary import DailySummary, Row, RowKind, View

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 3000
SLACK_MAX_HEADER = 150
SLACK_MAX_TOTAL = 3800  # Slack truncates messages around 4,000 characters
TEAM_ROWS = 8  # teams in the table, at most (fewer when FWCOST_TOP_N is lower)
TOP_NAMES = 3  # keys (and a team's models) named on their one line
LABEL_WIDTH = 24  # the team table's name column: a longer name takes a line of its own
WARNING_MAX = 400  # characters of one incomplete-data line
ICONS = {
    NoticeKind.BUDGET_OVER: ":rotating_light:",
    NoticeKind.BUDGET_PROJECTED_OVER: ":rotating_light:",
    NoticeKind.BUDGET_NEAR: ":moneybag:",
    NoticeKind.ANOMALY: ":warning:",
    NoticeKind.NEW: ":new:",
    NoticeKind.QUIET: ":zzz:",
    NoticeKind.REVISED: ":memo:",
    NoticeKind.EXPORT_DIFFERS: ":scales:",
    NoticeKind.TEAMS_OMITTED: ":information_source:",
}


@dataclass(frozen=True, slots=True)
class Part:
    block: Block
    optional: bool = False  # may be left out, the last first, to fit Slack's limits


def render_slack(s: DailySummary) -> dict[str, Any]:
    """A Block Kit payload with a `text` fallback, within Slack's limits."""
    text = _fallback(s)
    head = [_header(s), *_incomplete_data(s), _headline(s)]
    foot = [_context(s)]
    # What changed gets the room the rest leaves; the tables after it are optional.
    room = SLACK_MAX_TOTAL - len(text) - _length(head + foot) - len(_left_out_text(99))
    body = _what_changed(what_changed(s), min(room, SLACK_MAX_SECTION))
    if not s.is_empty:
        body.append(Part(DividerBlock()))
        if not s.team:
            body.append(_team_table(s))
        body += _top_line("Top keys", s.views["keys"])
        if s.team:
            body += _top_line("Top models and deployments", s.views["models"])
        if "users" in s.views:
            body += _top_line("Top users (firectl export, list price)", s.views["users"])
    return fit_slack(text, [*head, *body, *foot])


def fit_slack(text: str, parts: Sequence[Part]) -> dict[str, Any]:
    """The payload, with optional blocks dropped from the end until it fits Slack's limits.

    The note saying what was left out takes a block and some text itself, so it is counted
    before it is added: the result is never over Slack's limits by the note. Each block is
    validated by slack_sdk as it is serialized (`to_dict`).
    """
    blocks = [(part.block.to_dict(), part.optional) for part in parts]
    dropped = 0
    while _over_limits(text, [block for block, _ in blocks], with_note=dropped > 0):
        optional = [index for index, (_, is_optional) in enumerate(blocks) if is_optional]
        if not optional:
            break
        del blocks[optional[-1]]
        dropped += 1
    payload_blocks = [block for block, _ in blocks]
    if dropped:
        payload_blocks.insert(len(payload_blocks) - 1, _left_out_note(dropped).to_dict())
    return {"text": text, "blocks": payload_blocks}


def slack_text_length(payload: dict[str, Any]) -> int:
    """All text a Slack message carries: the fallback plus every text object in its blocks."""
    return len(payload.get("text", "")) + sum(len(t) for t in _block_texts(payload["blocks"]))


def escape_mrkdwn(text: object) -> str:
    """Slack's three control characters, so `<!channel>` or `<url|x>` in a name stay text."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_name(text: str, limit: int = NAME_MAX) -> str:
    """A name from the data, on one line, clipped so that escaped it takes at most `limit`
    characters (unescaped: the caller pads, then escapes)."""
    line = "".join(" " if _breaks_lines(char) else char for char in text)
    if len(escape_mrkdwn(line)) <= limit:
        return line
    size, kept = 1, []  # 1: the ellipsis
    for char in line:
        size += len(escape_mrkdwn(char))
        if size > limit:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _breaks_lines(char: str) -> bool:
    """Control characters (newline, tab, escape...) and line or paragraph separators."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp")


# ---- blocks --------------------------------------------------------------------------------


def _fallback(s: DailySummary) -> str:
    """The notification's text."""
    scope = f"{escape_mrkdwn(slack_name(s.team, 40))} · " if s.team else ""
    if s.is_empty:
        return f"{scope}Fireworks AI spend, {day_short(s.day)}: no usage"
    pct = s.change.pct_vs_average
    tail = f" ({signed_pct(pct)} vs 7-day avg)" if pct is not None else ""
    return f"{scope}Fireworks AI spend, {day_short(s.day)}: {money(s.totals.cents)}{tail}"


def _header(s: DailySummary) -> Part:
    tail = f"Fireworks AI spend · {day_short(s.day)}"
    if not s.team:
        return Part(HeaderBlock(text=PlainTextObject(text=tail)))
    scope = slack_name(s.team, SLACK_MAX_HEADER - len(tail) - len(" · "))
    return Part(HeaderBlock(text=PlainTextObject(text=f"{escape_mrkdwn(scope)} · {tail}")))


def _incomplete_data(s: DailySummary) -> list[Part]:
    lines = [f"• {escape_mrkdwn(slack_name(n.plain, WARNING_MAX))}" for n in incomplete_data(s)]
    if not lines:
        return []
    kept = _lines_within(lines, SLACK_MAX_SECTION // 2)
    return [_section("\n".join([":warning: *Incomplete data*", *kept]))]


def _headline(s: DailySummary) -> Part:
    month = f"*{s.day:%B} to date*  {money(s.month.cents)}"
    if s.is_empty:
        team = f" for team {escape_mrkdwn(slack_name(s.team))}" if s.team else ""
        why = "" if suspect_empty(s) else "; this is not an error"
        return _section(
            f"No Fireworks usage or charges{team} on {day_short(s.day)}. Nothing was billed "
            f"and no usage was recorded{why}.\n{month}"
        )
    estimated = "" if s.has_bill else " _(estimated, no bill)_"
    change = change_text(s.change.vs_average, s.change.pct_vs_average)
    versus = f"  {change} vs 7-day avg" if change else ""
    return _section(
        f"*{day_label(s.day)}*{estimated}  *{money(s.totals.cents)}*{versus}\n"
        f"{month} · on pace for {money_whole(s.month.projection)}"
    )


def _what_changed(notices: Sequence[Notice], room: int) -> list[Part]:
    """One line per notice, budgets first: as many as `room` holds, at most MAX_NOTICES."""
    lines = [f"{ICONS[n.kind]} {''.join(map(_mrkdwn, n.segments))}" for n in notices]
    return [_section("\n".join(_lines_within(lines, room)))] if lines else []


def _lines_within(lines: Sequence[str], room: int) -> list[str]:
    """The first lines that fit in `room` characters (at most MAX_NOTICES), then how many more."""
    kept: list[str] = []
    for line in lines[:MAX_NOTICES]:
        if len("\n".join([*kept, line, _more_text(len(lines))])) > room:
            break
        kept.append(line)
    return [*kept, _more_text(len(lines) - len(kept))] if len(kept) < len(lines) else kept


def _more_text(count: int) -> str:
    return f"_and {count} more in the email_"


def _mrkdwn(segment: Segment) -> str:
    if segment.strong:
        return f"*{escape_mrkdwn(slack_name(segment.text))}*"
    return escape_mrkdwn(segment.text)


def _team_table(s: DailySummary) -> Part:
    """The top teams, then the rest folded, Unattributed and what is billed but not in usage,
    as an aligned table whose rows add up to the day's total."""
    rows = _table_rows(s.views["teams"], min(s.context.top_n, TEAM_ROWS))
    billed_only = [row for row in s.views["teams"].rows if row.kind is RowKind.BILLED_ONLY]
    if billed_only:
        categories = ", ".join(slack_name(category) for category in sorted(s.today.billed_only))
        rows.append(("Not in usage", money(sum(row.cents for row in billed_only)), "", categories))
    width = max((len(label) for label, *_ in rows if len(label) <= LABEL_WIDTH), default=0)
    amount_width = max(len(amount) for _, amount, *_ in rows)
    change_width = max(len(change) for _, _, change, _ in rows)
    lines = []
    for label, amount, change, tail in rows:
        figures = f"{amount.rjust(amount_width)}  {change.rjust(change_width)}  {tail}".rstrip()
        if len(label) > width:
            lines += [label, f"{'':{width}}  {figures}"]
        else:
            lines.append(f"{label:{width}}  {figures}")
    return _section("*By team*\n```" + escape_mrkdwn("\n".join(lines)) + "```", optional=True)


def _table_rows(view: View, count: int) -> list[tuple[str, str, str, str]]:
    """(label, amount, change vs the 7-day average, 14 days) of the top `count` teams, the rest
    as one "N others" row, and Unattributed."""
    ranked = [row for row in view.rows if row.kind is RowKind.ITEM]
    rest = ranked[count:] + [row for row in view.rows if row.kind is RowKind.OTHER]
    rows = [_table_row(row) for row in ranked[:count]]
    if rest:
        others = sum(row.count for row in rest)
        rows.append((f"{others} others", money(sum(row.cents for row in rest)), "", ""))
    return rows + [_table_row(row) for row in view.rows if row.kind is RowKind.UNATTRIBUTED]


def _table_row(row: Row) -> tuple[str, str, str, str]:
    change = signed_pct(row.change_pct) if row.change_pct is not None else ""
    return slack_name(row.label), money(row.cents), change, sparkline(row.trend)


def _top_line(title: str, view: View) -> list[Part]:
    """e.g. "*Top keys*  prod-eng-12 $292.91 · growth-api $54.96 · ranker-batch $21.56 ·
    6 more $75.57": the view's ranked rows, without GPU time or what is not in usage (none: no
    line)."""
    ranked = [row for row in view.rows if row.kind is RowKind.ITEM]
    rest = ranked[TOP_NAMES:] + [
        row for row in view.rows if row.kind in (RowKind.OTHER, RowKind.UNATTRIBUTED)
    ]
    items = [
        f"{escape_mrkdwn(slack_name(row.label))} {money(row.cents)}" for row in ranked[:TOP_NAMES]
    ]
    if rest:
        count = sum(row.count for row in rest)
        items.append(f"{count} more {money(sum(row.cents for row in rest))}")
    return [_section(f"*{title}*  " + " · ".join(items), optional=True)] if items else []


def _context(s: DailySummary) -> Part:
    if s.has_bill:
        adds_up = f"Adds up to {adds_up_to(s)}"
    else:
        adds_up = "*Estimated from the price book: no bill for this day*"
    hours = f" ({day_hours(s)})" if day_hours(s) else ""
    parts = [
        *_full_report(s),
        adds_up,
        f"{escape_mrkdwn(s.context.timezone)} day{hours}",
        f"fwcost {escape_mrkdwn(s.context.code_version)}",
    ]
    return Part(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(parts))]))


def _full_report(s: DailySummary) -> list[str]:
    """Links to the day's full report and CSV as archived, and what to know of them; without
    links (FWCOST_LINKS=none, a dry run), the archive folder."""
    links = display_links(s.context.links, s.context.timezone)
    if links is None:
        return [f"Archived at {escape_mrkdwn(slack_name(s.context.archive_location, 400))}"]
    shown = [_link(links.report), _link(links.csv)]
    return [*shown, escape_mrkdwn(links.note.rstrip("."))] if links.note else shown


def _link(link: Link) -> str:
    """A mrkdwn link; the URL escaped as Slack asks, and never able to end the link early."""
    url = escape_mrkdwn(link.url).replace("|", "%7C")
    return f"<{url}|{escape_mrkdwn(link.label)}>"


def _section(text: str, *, optional: bool = False) -> Part:
    return Part(SectionBlock(text=MarkdownTextObject(text=text)), optional)


def _left_out_text(dropped: int) -> str:
    return f"{dropped} section(s) left out to fit Slack; the email has them all."


def _left_out_note(dropped: int) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_left_out_text(dropped))])


def _over_limits(text: str, blocks: list[dict[str, Any]], *, with_note: bool) -> bool:
    note_text = len(_left_out_text(999)) if with_note else 0
    note_blocks = 1 if with_note else 0
    return (
        slack_text_length({"text": text, "blocks": blocks}) + note_text > SLACK_MAX_TOTAL
        or len(blocks) + note_blocks > SLACK_MAX_BLOCKS
    )


def _length(parts: Sequence[Part]) -> int:
    return slack_text_length({"blocks": [part.block.to_dict() for part in parts]})


def _block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            texts.append(block["text"]["text"])
        texts += [field["text"] for field in block.get("fields", [])]
        texts += [e["text"] for e in block.get("elements", []) if "text" in e]
    return texts
