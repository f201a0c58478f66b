import json
import os
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from report_helpers import simple_day
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from fwcost.links import Link, ReportLinks
from fwcost.model import DayUsage
from fwcost.report.attribution import AttributedDay, attribute_day
from fwcost.report.groups import Amount
from fwcost.report.pricebook import load_price_book
from fwcost.report.render import (
    NAME_MAX,
    UNBROKEN,
    breakable,
    email_subject,
    render_email_html,
    render_email_text,
    sparkline,
)
from fwcost.report.slack_message import (
    SLACK_MAX_BLOCKS,
    SLACK_MAX_SECTION,
    Part,
    escape_mrkdwn,
    fit_slack,
    render_slack,
    slack_text_length,
)
from fwcost.report.summary import DailySummary, Restatement, summarize, team_summaries
from fwcost.simulator.catalog import HOSTILE_NAMES
from report_fixtures import demo_context, demo_history, demo_usage, read_back

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
UPDATE = os.environ.get("FWCOST_UPDATE_GOLDEN") == "1"
DEMO_DAY = date(2026, 11, 1)
EVIL = "<!channel> & <https://x|click>"


@pytest.fixture(scope="module")
def demo() -> DailySummary:
    today, history = demo_history(DEMO_DAY)
    return summarize(today, read_back(history), demo_context(DEMO_DAY))


def assert_valid_slack(payload: dict) -> None:
    assert payload["text"].strip()
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= SLACK_MAX_BLOCKS
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()
        if raw["type"] == "section" and "text" in raw:
            assert len(raw["text"]["text"]) <= SLACK_MAX_SECTION
        for field in raw.get("fields", []):
            assert len(field["text"]) <= 2000
    assert slack_text_length(payload) <= 3900


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual)
    assert path.exists(), f"{path} missing: run with FWCOST_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(), f"{name} changed: review, then FWCOST_UPDATE_GOLDEN=1"


def test_text_matches_golden(demo):
    check_golden("daily.txt", render_email_text(demo))


def test_slack_matches_golden(demo):
    payload = render_slack(demo)
    assert_valid_slack(payload)
    check_golden("daily.slack.json", json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def test_subject(demo):
    assert (
        email_subject(demo) == "Fireworks AI spend, Sun 1 Nov 2026: $534.12 (+46.7% vs 7-day avg)"
    )


def slack_lines(payload: dict) -> list[str]:
    """The message's lines as Slack shows them (a header is one, a divider none)."""
    lines = []
    for block in payload["blocks"]:
        for text in _all_texts([block]):
            lines += text.split("\n")
    return lines


def test_slack_is_the_day_at_a_glance(demo):
    # Given the demo day: a budget on pace to pass, a team's spike, a new key, a revised day
    payload = render_slack(demo)
    lines = slack_lines(payload)

    # Then about a dozen lines say it: the day, the month, what changed, the teams, the keys
    assert len(payload["blocks"]) == 7
    assert len(lines) == 16
    assert lines[:3] == [
        "Fireworks AI spend · Sun 1 Nov 2026",
        "*Sun 1 Nov*  *$534.12*  ▲ +$170.12 (+46.7%) vs 7-day avg",
        "*November to date*  $534.12 · on pace for $12,171",
    ]
    assert lines[3].startswith(":rotating_light: *ads &amp; growth* is projected at $1,526")
    assert lines[4].startswith(":warning: *search* spent $374.42, 2.6× its usual Sunday")
    # the team table: its rows labelled, a row for what is billed but not in usage, no Total
    table = lines[lines.index("*By team*") + 1 :][:6]
    assert [row.split("  ")[0].strip("`") for row in table] == [
        "search",
        "research",
        "ads &amp; growth",
        "support",
        "Unattributed",
        "Not in usage",
    ]
    assert table[-1].endswith("$52.26         Embeddings```")
    assert lines[-2] == (
        "*Top keys*  prod-eng-12 $265.21 · growth-api $30.24 · ci-runner-7 $17.17 · 6 more $32.86"
    )
    assert lines[-1].startswith(
        "Archived at s3://acme-fwcost-archive/fireworks/account=acme-ai/dt=2026-11-01/ · "
    )


def test_slack_names_are_whole_unless_slack_needs_them_clipped():
    # Given a 60-character team, a 300-character one, one with a line break, and two kinds of
    # line items with no usage
    long_name, huge_name = "very-long-team-name-" * 3, "x" * 300
    today = simple_day(DEMO_DAY, {long_name: "30", huge_name: "20", "two\nlines": "10"})
    today.billed_only = {
        "Image Generation": Amount(Decimal("1.90"), 190),
        "Embeddings": Amount(Decimal("0.11"), 11),
    }
    today.total, today.total_cents = today.total + Decimal("2.01"), today.total_cents + 201
    summary = summarize(today, {}, demo_context(DEMO_DAY))

    payload = render_slack(summary)

    assert_valid_slack(payload)
    table = next(t for t in _all_texts(payload["blocks"]) if t.startswith("*By team*"))
    rows = table.removeprefix("*By team*\n```").removesuffix("```").split("\n")
    # a long name whole, on a line of its own; a huge one clipped at NAME_MAX; no line break
    assert long_name in rows and "x" * (NAME_MAX - 1) + "…" in rows
    assert any(row.startswith("two lines ") for row in rows)
    assert re.fullmatch(r"Not in usage +\$2\.01 +Embeddings, Image Generation", rows[-1])


def test_slack_keeps_within_its_limits_however_much_there_is_to_say(demo):
    # Given twenty long gaps in the data and twenty revised days, on top of the demo's news
    gaps = tuple(f"gap {n}: " + "the usage endpoint said something long " * 12 for n in range(20))
    revised = tuple(
        Restatement(DEMO_DAY - timedelta(days=n), Decimal(100), Decimal(n)) for n in range(2, 22)
    )
    summary = replace(demo, gaps=gaps, restatements=revised)

    payload = render_slack(summary)

    # Then the message is valid and within Slack's limits, and says what it left to the email
    assert_valid_slack(payload)
    texts = " ".join(_all_texts(payload["blocks"]))
    assert "more in the email" in texts
    assert "gap 0: the usage endpoint" in texts and "gap 19" not in texts


def test_every_team_slice_renders_valid_slack(demo):
    for team, piece in team_summaries(demo).items():
        payload = render_slack(piece)
        assert_valid_slack(payload)
        assert payload["blocks"][0]["text"]["text"].startswith(escape_mrkdwn(team))


def test_stress_200_keys_with_long_names_fits_slack():
    long_team = "a-team-whose-name-goes-on-and-on-and-on-and-on-" * 3
    extra = [
        (
            f"key_Str3ss{n:04d}abcdefghijk",
            "a-very-long-api-key-name-" * 4 + str(n),
            f"{long_team}{n % 40}",
        )
        for n in range(200)
    ]
    usage = demo_usage(DEMO_DAY, extra_keys=extra)
    day = attribute_day(usage, load_price_book())
    summary = summarize(day, {}, demo_context(DEMO_DAY))
    assert summary.views["keys"].size > 200
    for piece in [summary, *team_summaries(summary).values()]:
        payload = render_slack(piece)
        assert_valid_slack(payload)
    text = str(render_slack(summary))
    assert "others" in text
    assert "Archived at s3://" in text


def test_user_strings_are_escaped_for_slack_and_html():
    today = simple_day(DEMO_DAY, {EVIL: "12.50", "plain": "1"})
    summary = summarize(today, {}, demo_context(DEMO_DAY))
    for piece in [summary, team_summaries(summary)[EVIL]]:
        slack = json.dumps(render_slack(piece), ensure_ascii=False)
        assert "<!channel>" not in slack
        assert "<https://x|click>" not in slack
        assert "&lt;!channel&gt; &amp; &lt;https://x|click&gt;" in slack
        html = render_email_html(piece)
        assert "<!channel>" not in html
        assert "<https://x" not in html
        assert "&lt;!channel&gt; &amp; &lt;https://x|click&gt;" in html
        assert EVIL in render_email_text(piece)  # plain text shows it as it is


def test_a_day_with_no_usage_says_so_plainly():
    day = attribute_day(DayUsage(day=DEMO_DAY), load_price_book())
    summary = summarize(day, {}, demo_context(DEMO_DAY, restatements=()))
    text = render_email_text(summary)
    assert "No Fireworks usage or charges on Sun 1 Nov 2026." in text
    assert "This is not an error." in text
    assert "BY TEAM" not in text
    payload = render_slack(summary)
    assert_valid_slack(payload)
    assert "No Fireworks usage or charges" in json.dumps(payload)
    assert "no usage" in email_subject(summary)
    assert "No Fireworks usage or charges" in render_email_html(summary)


def test_missing_data_is_named_with_what_the_numbers_lack():
    usage = demo_usage(DEMO_DAY)
    usage.has_summary = False
    usage.line_items = []
    usage.key_costs = None
    usage.gaps = ["usageCosts:query was refused (403): per-key dollars are estimates."]
    day = attribute_day(usage, load_price_book())
    summary = summarize(day, {}, demo_context(DEMO_DAY, restatements=()))
    for output in (render_email_text(summary), render_email_html(summary)):
        assert "No bill for this day" in output
        assert "usageCosts:query was refused (403)" in output
        assert "No archived data for 14 earlier day(s)" in output
    slack = json.dumps(render_slack(summary), ensure_ascii=False)
    assert "Incomplete data" in slack
    assert "No bill for this day" in slack
    assert "(estimated, no bill)" in email_subject(summary)


def test_archived_days_render_like_fresh_ones(demo):
    again = AttributedDay.from_json(demo.today.to_json())
    summary = summarize(again, demo.history, demo.context)
    assert render_email_text(summary) == render_email_text(demo)


def test_sparkline_marks_missing_days():
    assert sparkline([0, None, 400, 800]) == "▁·▅█"


def test_reports_name_their_day_as_a_date_not_yesterday(demo):
    later = DEMO_DAY + timedelta(days=27)
    summary = summarize(
        attribute_day(demo_usage(later), load_price_book()), {}, demo_context(later)
    )
    text, html = render_email_text(summary), render_email_html(summary)
    for output in (text, html, render_email_text(demo), render_email_html(demo)):
        assert "yesterday" not in output.lower()
    assert "\nSat 28 Nov " in text
    assert "Sat 28 Nov" in html
    assert "vs Sat 31 Oct ($293.41)" in render_email_text(demo)
    assert "Sat 28 Nov 2026" in email_subject(summary)


def test_breakable_keeps_ordinary_names_whole_and_escaped():
    assert breakable("ads & growth") == "ads &amp; growth"
    assert breakable("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    assert "<wbr>" not in breakable("a" * UNBROKEN + " characteristically")


def test_breakable_breaks_long_words_after_punctuation_then_in_chunks():
    assert str(breakable("analytics_pipeline_nightly_batch_backfill_v2")) == (
        "analytics_<wbr>pipeline_<wbr>nightly_<wbr>batch_<wbr>backfill_<wbr>v2"
    )
    pieces = str(breakable("x" * 40)).split("<wbr>")
    assert "".join(pieces) == "x" * 40
    assert max(map(len, pieces)) <= UNBROKEN


def test_breakable_clips_very_long_names():
    shown = str(breakable("<&>" * 100)).replace("<wbr>", "")
    assert shown.endswith("…")
    assert len(shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")) == NAME_MAX
    assert str(breakable("y" * 100, None)).replace("<wbr>", "") == "y" * 100


def test_mrkdwn_escape():
    assert escape_mrkdwn(EVIL) == "&lt;!channel&gt; &amp; &lt;https://x|click&gt;"


def section(text: str, *, optional: bool = False) -> Part:
    return Part(SectionBlock(text=MarkdownTextObject(text=text)), optional)


def test_fit_slack_drops_optional_sections_from_the_end_and_says_so():
    big = "x" * 1500
    footer = Part(ContextBlock(elements=[MarkdownTextObject(text="footer")]))
    parts = [section("headline"), *(section(big, optional=True) for _ in range(3)), footer]

    fitted = fit_slack("fallback", parts)

    texts = [b.get("text", {}).get("text") for b in fitted["blocks"]]
    assert texts.count(big) == 2
    assert (
        fitted["blocks"][-2]["elements"][0]["text"]
        == "1 section(s) left out to fit Slack; the email has them all."
    )
    assert fitted["blocks"][-1]["elements"][0]["text"] == "footer"
    assert_valid_slack(fitted)


def test_fit_slack_counts_its_own_note_against_the_block_limit():
    # Given 51 short blocks, a few of them optional: only the block count is over
    parts = [section(f"row {n}", optional=10 <= n < 13) for n in range(49)]
    parts += [Part(DividerBlock()), Part(ContextBlock(elements=[MarkdownTextObject(text="f")]))]

    fitted = fit_slack("fallback", parts)

    # Then two optional blocks go (one for the excess, one for the note) and the limit holds
    assert len(fitted["blocks"]) == 50
    assert fitted["blocks"][-2]["elements"][0]["text"].startswith("2 section(s) left out")
    assert_valid_slack(fitted)


def test_fit_slack_refuses_a_block_slack_would_refuse():
    too_many_fields = SectionBlock(fields=[MarkdownTextObject(text=str(n)) for n in range(11)])
    with pytest.raises(SlackObjectFormationError, match="fields"):
        fit_slack("fallback", [Part(too_many_fields)])


def test_html_is_email_safe(demo):
    html = render_email_html(demo)
    lowered = html.lower()
    for forbidden in ("<script", "<img", "<link", "src=", "url(", "@import", "http://", "https://"):
        assert forbidden not in lowered, forbidden
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "max-width:640px" in html


def hostile_summary() -> DailySummary:
    """A day on which every hostile name is a team, an API key name and a model."""
    extra = [(f"key_Host1le{n:04d}abcdefgh", name, name) for n, name in enumerate(HOSTILE_NAMES)]
    usage = demo_usage(DEMO_DAY, extra_keys=extra)
    names = iter(HOSTILE_NAMES)
    usage.serverless = [
        replace(row, model=next(names)) if row.api_key_id.startswith("key_Host1le") else row
        for row in usage.serverless
    ]
    return summarize(attribute_day(usage, load_price_book()), {}, demo_context(DEMO_DAY))


def test_hostile_names_stay_plain_text_in_slack_html_and_text():
    summary = hostile_summary()
    pieces = [summary, *team_summaries(summary).values()]
    assert len(pieces) > len(HOSTILE_NAMES)

    for piece in pieces:
        # Slack: valid, and no name can open a control sequence (mention, link, channel ping)
        payload = render_slack(piece)
        assert_valid_slack(payload)
        texts = [payload["text"], *_all_texts(payload["blocks"])]
        assert not any("<" in text or ">" in text for text in texts), piece.team
        # HTML: every name is text (nothing it holds becomes markup)
        html = render_email_html(piece)
        assert "<script" not in html and "<!channel>" not in html and "<@U123ABC>" not in html
        # Text: rendered, whatever the names hold
        assert render_email_text(piece)
    slack = json.dumps(render_slack(team_summaries(summary)["<!channel>"]), ensure_ascii=False)
    assert "&lt;!channel&gt;" in slack
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in render_email_html(
        team_summaries(summary)["<script>alert(1)</script>"]
    )


def _all_texts(blocks: list[dict]) -> list[str]:
    found = []
    for block in blocks:
        for part in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(part, dict) and "text" in part:
                found.append(part["text"])
    return found


# ---- links to the archived report and CSV ---------------------------------------------------


def with_links(summary: DailySummary, links: ReportLinks) -> DailySummary:
    return replace(summary, context=replace(summary.context, links=links))


def test_presigned_links_are_printed_with_the_moment_they_stop_working(demo):
    # Given links that expire at 15:00 UTC on Mon 7 Dec (07:00 in the report's Los Angeles)
    expires = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    links = ReportLinks(
        Link("https://b.s3.amazonaws.com/r.html?X-Amz-Expires=604800&a=1", "Full report", expires),
        Link("https://b.s3.amazonaws.com/d.csv?X-Amz-Expires=604800", "CSV", expires),
    )
    summary = with_links(demo, links)

    text, html = render_email_text(summary), render_email_html(summary)

    # Then both parts link the report and the CSV and say until when, in the report's zone
    assert "Full report: https://b.s3.amazonaws.com/r.html?X-Amz-Expires=604800&a=1" in text
    assert "CSV: https://b.s3.amazonaws.com/d.csv?X-Amz-Expires=604800" in text
    assert "Links work until Mon 7 Dec, 07:00 PST." in text
    assert 'href="https://b.s3.amazonaws.com/r.html?X-Amz-Expires=604800&amp;a=1"' in html
    assert 'href="https://b.s3.amazonaws.com/d.csv?X-Amz-Expires=604800"' in html
    assert "Links work until Mon 7 Dec, 07:00 PST." in html
    # and the note under a table's "others" row links the CSV too
    assert 'the <a class="link" href="https://b.s3.amazonaws.com/d.csv' in html
    # Slack links both, its URLs escaped as Slack asks, and says until when
    (context,) = render_slack(summary)["blocks"][-1]["elements"]
    assert context["text"].startswith(
        "<https://b.s3.amazonaws.com/r.html?X-Amz-Expires=604800&amp;a=1|Full report> · "
        "<https://b.s3.amazonaws.com/d.csv?X-Amz-Expires=604800|CSV> · "
        "Links work until Mon 7 Dec, 07:00 PST · Adds up to"
    )


def test_console_links_say_they_need_a_sign_in_and_no_links_leave_the_archive_named(demo):
    console = ReportLinks(
        Link("https://console.aws.amazon.com/s3/object/b?prefix=r.html", "Full report", None, True),
        Link("https://console.aws.amazon.com/s3/object/b?prefix=d.csv", "CSV", None, True),
    )
    text = render_email_text(with_links(demo, console))
    assert "Full report: https://console.aws.amazon.com/s3/object/b?prefix=r.html" in text
    assert "Links open the AWS console: sign in to the account that holds the archive." in text

    slack = render_slack(with_links(demo, console))["blocks"][-1]["elements"][0]["text"]
    assert "|Full report> · " in slack
    assert "Links open the AWS console: sign in to the account that holds the archive" in slack

    plain = render_email_text(demo)
    assert "Full report:" not in plain and "Links " not in plain
    assert "Archived at s3://acme-fwcost-archive/" in plain
    assert "|Full report>" not in str(render_slack(demo))


def test_the_footer_says_in_plain_words_what_is_exact_and_what_is_estimated(demo):
    text = " ".join(render_email_text(demo).split())
    assert "what Fireworks billed for the day, before credits, discounts and taxes" in text
    assert "The totals are exact; the split is an estimate." in text
    for jargon in ("IPF", "proportional fitting", "usage-cost query", "price book vs bill"):
        assert jargon.lower() not in text.lower()
