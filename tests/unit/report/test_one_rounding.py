"""Property: dollars become cents once, so every figure anywhere is a sum of the same cents.

Over random days (teams, projects, environments, keys, models, deployments, sub-cent amounts,
billed-only line items, unattributed usage, top-N cut-offs with "Other" rows, and a week of
history for what-changed lines), read every labelled amount from the summary's structures, the
rendered plain-text report, the Slack payload and the CSV, and check that
(a) every table adds up to its total and every total is the day's total in cents;
(b) the same thing shows the same cents wherever it appears;
(c) the CSV's cost column sums to the total, and per team to the team's cents.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from html import unescape
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_helpers import PREFIX, audio_row, text_row, version_1
from report_helpers import line_items as report_line_items

from fwcost.archive import UsageCsv
from fwcost.model import DayUsage, DedicatedUsage, TrainingUsage
from fwcost.report.attribution import AttributedDay, HistoryDay, attribute_day
from fwcost.report.cents import cents_of, money
from fwcost.report.pricebook import load_price_book
from fwcost.report.render import render_email_text
from fwcost.report.slack_message import render_slack
from fwcost.report.summary import DailySummary, Dimension, RowKind, summarize, team_summaries
from report_fixtures import demo_context, demo_history, read_back

PRICES = load_price_book()
TODAY = date(2026, 11, 20)  # a Friday: the 8 days before hold 6 weekdays, its usual days
HISTORY_DAYS = 8  # enough for anomalies and gone quiet (3 usual days) and new (3), in the month
# Names are drawn from separate pools, so a label means one thing wherever it appears.
TEAMS = ["alpha", "beta", "gamma", ""]
PROJECTS = ["p-one", "p-two", ""]
ENVIRONMENTS = ["e-prod", "e-dev", ""]
KEYS = ["key_k1", "key_k2", "key_k3", "key_k4", "key_k5", "unattributed"]
MODELS = ["kimi-k2p6", "gpt-oss-120b", "llama-v3p3-70b-instruct", "mystery-7b"]
ACCELERATORS = ["NVIDIA_H100_80GB", "NVIDIA_B200_180GB"]
TITLES = ["BY TEAM", "TOP API KEYS", "MODELS AND DEPLOYMENTS", "PROJECTS", "ENVIRONMENTS"]
AMOUNT = r"(−?\$[\d,]+\.\d\d)"
OTHERS = re.compile(r"^\d+ (others|more)$")
SLACK_LISTS = {"*Top keys*": "keys", "*Top models and deployments*": "models"}

# ---- random days ---------------------------------------------------------------------------

dollars = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("0.03"), places=9),  # sub-cent and a few cents
    st.decimals(min_value=0, max_value=900, places=9),
)
tokens = st.integers(min_value=0, max_value=20_000_000)
annotations = st.tuples(
    st.sampled_from(TEAMS), st.sampled_from(PROJECTS), st.sampled_from(ENVIRONMENTS)
)
text_rows = st.builds(
    lambda model, key, where, prompt, completion, batch: text_row(
        model, key, where[0], prompt, completion, project=where[1], environment=where[2],
        usage_type="BATCH_INFERENCE_USAGE" if batch else "TEXT_COMPLETION_INFERENCE_USAGE",
    ),
    st.sampled_from(MODELS), st.sampled_from(KEYS), annotations, tokens, tokens, st.booleans(),
)  # fmt: skip
audio_rows = st.builds(
    lambda key, where, seconds: replace(
        audio_row(key, where[0], seconds), project=where[1], environment=where[2]
    ),
    st.sampled_from(KEYS), annotations, st.floats(0, 50_000),
)  # fmt: skip
gpu_rows = st.builds(
    lambda name, accelerator, where, seconds: DedicatedUsage(
        TODAY, name, accelerator, PREFIX + "base", "GLOBAL", *where, "DEDICATED", seconds
    ),
    st.sampled_from(["dep-a", "dep-b", "dep-c"]), st.sampled_from(ACCELERATORS), annotations,
    st.integers(0, 86_400 * 2),
)  # fmt: skip
training_rows = st.builds(
    lambda job, where, seconds: TrainingUsage(
        TODAY, job, "SFT", PREFIX + "base", ACCELERATORS[0], *where, "TRAINING", seconds
    ),
    st.sampled_from(["job-x", "job-y"]), annotations, st.integers(0, 86_400),
)  # fmt: skip
line_items = report_line_items(MODELS, ACCELERATORS, dollars)


def usage_of(day: date, rows: dict[str, list[Any]], items: list[Any], scale: Decimal) -> DayUsage:
    """The day's usage and bill at `scale` (earlier days are the same account, busier or not)."""
    factor = float(scale)
    return DayUsage(
        day=day,
        serverless=[
            replace(
                row,
                prompt_tokens=int(row.prompt_tokens * factor),
                cached_prompt_tokens=int(row.cached_prompt_tokens * factor),
                completion_tokens=int(row.completion_tokens * factor),
                audio_input_seconds=row.audio_input_seconds * factor,
            )
            for row in rows["serverless"]
        ],
        dedicated=[
            replace(row, accelerator_seconds=int(row.accelerator_seconds * factor))
            for row in rows["dedicated"]
        ],
        training=[
            replace(row, accelerator_seconds=int(row.accelerator_seconds * factor))
            for row in rows["training"]
        ],
        line_items=[
            replace(i, total_cost=(i.total_cost * scale).quantize(Decimal("1e-9"))) for i in items
        ],
        has_summary=True,
    )


# ---- reading amounts back ------------------------------------------------------------------


def cents(text: str) -> int:
    return int(text.replace("−", "-").replace("$", "").replace(",", "").replace(".", ""))


def text_tables(text: str) -> dict[str, tuple[list[tuple[str, int]], int]]:
    """Each table of the plain-text report: its (label, cents) rows and its Total line."""
    lines = text.splitlines()
    tables = {}
    for start, title in enumerate(lines):
        if title not in TITLES:
            continue
        rows = []
        for line in lines[start + 1 :]:
            found = re.match(rf"^  (.{{38}}) +{AMOUNT}", line)
            assert found, f"unreadable row in {title}: {line!r}"
            label = found.group(1).strip().removesuffix(" (est.)")
            if label == "Total":
                tables[title] = (rows, cents(found.group(2)))
                break
            rows.append((label, cents(found.group(2))))
    return tables


def what_changed(text: str) -> list[tuple[str, str, int]]:
    """(dimension, name, cents) of each what-changed line that names a thing's spend."""
    lines = text.split("WHAT CHANGED\n", 1)[1].split("\n\n", 1)[0] if "WHAT CHANGED" in text else ""
    bullets = re.sub(r"\n    ", " ", lines).splitlines()
    found = []
    for bullet in bullets:
        # "search spent $1.00, ...", "Key k (team) spent ...", "New model m spent ..."
        spent = re.match(
            r"^  [-!] (?:(?:New )?(team|key|model|deployment) )?(\S+)(?: \([^)]*\))? spent "
            + AMOUNT,
            bullet,
            re.IGNORECASE,
        )
        if spent and spent.group(2) != "The":
            dimension = (spent.group(1) or "team").lower()
            found.append((dimension, spent.group(2), cents(spent.group(3))))
        account = re.match(rf"^  [-!] The account spent {AMOUNT}", bullet)
        if account:
            found.append(("account", "", cents(account.group(1))))
    return found


def slack_sections(payload: dict[str, Any]) -> dict[str, list[tuple[str, int]]]:
    """(label, cents) of the Slack team table and of the top keys' and models' lines."""
    sections: dict[str, list[tuple[str, int]]] = {}
    for block in payload["blocks"]:
        body = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        title, _, rest = body.partition("\n")
        if title == "*By team*":
            rows, label = [], ""
            for line in unescape(rest.strip("`")).split("\n"):
                found = re.match(rf"^(.*?) +{AMOUNT}", line)
                if found is None:  # a long name, its figures on the next line
                    label = line
                    continue
                rows.append((found.group(1) or label, cents(found.group(2))))
            sections[title] = rows
        lead, _, items = body.partition("  ")
        if lead in SLACK_LISTS:
            rows = [re.match(rf"^(.+) {AMOUNT}$", item) for item in items.split(" · ")]
            assert all(rows), body
            sections[lead] = [(unescape(m.group(1)), cents(m.group(2))) for m in rows if m]
    return sections


def csv_cents(body: bytes) -> dict[str | None, int]:
    """The CSV's cost column in cents, summed per team (None: the billed-only rows)."""
    per_team: dict[str | None, int] = defaultdict(int)
    for row in csv.DictReader(io.StringIO(body.decode())):
        team = None if row["usage_kind"] == "billed_only" else row["team"]
        per_team[team] += cents(row["attributed_cost_usd"])
    return per_team


def same_everywhere(sightings: dict[Any, set[int]]) -> None:
    for thing, values in sightings.items():
        assert len(values) == 1, f"{thing} shows as {sorted(values)} cents"


# ---- the property --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    serverless=st.lists(st.one_of(text_rows, text_rows, audio_rows), min_size=1, max_size=14),
    dedicated=st.lists(gpu_rows, max_size=4),
    training=st.lists(training_rows, max_size=2),
    items=st.lists(line_items, min_size=1, max_size=9),
    top_n=st.integers(1, 4),
    # earlier days at a steady fraction of today's bill (so today may stand out), or at random
    history_scales=st.one_of(
        st.builds(
            lambda base, jitter: [base + Decimal(j) / 100 for j in jitter],
            st.sampled_from([Decimal("0.1"), Decimal("0.4"), Decimal("0.9")]),
            st.lists(st.integers(0, 3), min_size=HISTORY_DAYS, max_size=HISTORY_DAYS),
        ),
        st.lists(st.decimals(0, 1, places=2), min_size=HISTORY_DAYS, max_size=HISTORY_DAYS),
    ),
    new_key=st.sampled_from(KEYS),
    archived_before_cents=st.booleans(),
)
def test_every_figure_is_a_sum_of_the_same_cents(
    serverless, dedicated, training, items, top_n, history_scales, new_key, archived_before_cents
):
    # Given a day, and a history of the same usage at other scales without one key (so it is new),
    # read back from attribution.json as written now or before cents (version 1)
    rows = {"serverless": serverless, "dedicated": dedicated, "training": training}
    usage = usage_of(TODAY, rows, items, Decimal(1))
    day = attribute_day(usage, PRICES)
    older = {**rows, "serverless": [r for r in serverless if r.api_key_id != new_key]}
    history = {}
    for back, scale in enumerate(history_scales, start=1):
        earlier = TODAY - timedelta(days=back)
        document = attribute_day(usage_of(earlier, older, items, scale), PRICES).to_json()
        archived = version_1(document) if archived_before_cents else document
        history[earlier] = HistoryDay.from_json(archived)
        # what a report reads of a day is what the day's full reading holds
        assert history[earlier] == HistoryDay.of(AttributedDay.from_json(archived))
    context = demo_context(
        TODAY,
        top_n=top_n,
        team_budgets={"alpha": Decimal(50), "beta": Decimal(5000)},
        account_budget=Decimal(100),
    )

    # When the summary, its team slices, the reports and the CSV are made
    summary = summarize(day, history, context)
    teams = team_summaries(summary)
    csv_file = UsageCsv(usage, "acme-ai", "UTC", day)

    # Then (a), (b) and (c)
    total = cents_of(day.total)
    assert day.total_cents == total
    check_summary(summary, day, history, total)
    for team, piece in teams.items():
        check_team_slice(summary, piece, team)
    check_rendered(summary, total)
    for piece in teams.values():
        check_rendered(piece, piece.totals.cents)
    check_csv(csv_file, summary, teams)


def test_the_demo_day_shows_each_thing_at_the_same_cents_everywhere():
    # Given the demo day: a team's spike and a new key in what changed, budgets, a month of days
    today, archived = demo_history(date(2026, 11, 1))
    history = read_back(archived)
    summary = summarize(today, history, demo_context(today.day))
    assert {a.dimension for a in summary.anomalies} == {Dimension.TEAM}
    assert any(a.new and a.dimension is Dimension.KEY for a in summary.arrivals)
    # Then every figure of the overall report and each team's is a sum of the same cents
    check_summary(summary, today, history, cents_of(today.total))
    check_rendered(summary, cents_of(today.total))
    for team, piece in team_summaries(summary).items():
        check_team_slice(summary, piece, team)
        check_rendered(piece, piece.totals.cents)


def check_summary(
    summary: DailySummary, day: AttributedDay, history: dict[date, HistoryDay], total: int
) -> None:
    # (a) every view adds up to the day's total in cents
    assert summary.totals.cents == total
    for view in summary.views.values():
        assert sum(row.cents for row in view.rows) == view.total == total, view.name
    # (b) a label means one thing: the same cents in every view it appears in (billed-only rows
    # in five views, deployments in two)
    sightings: dict[str, set[int]] = defaultdict(set)
    for view in summary.views.values():
        for row in view.rows:
            if row.kind is not RowKind.OTHER:
                sightings[row.label].add(row.cents)
    same_everywhere(sightings)
    shown = {label: next(iter(values)) for label, values in sightings.items()}
    # what changed: an anomaly's or a new thing's cents are the cents its row shows
    for anomaly in summary.anomalies:
        expected = total if anomaly.dimension is Dimension.ACCOUNT else shown.get(anomaly.name)
        assert expected in (None, anomaly.cents), anomaly
    for arrival in summary.arrivals:
        if arrival.new:
            assert shown.get(arrival.name) in (None, arrival.cents), arrival
    # the day before, month to date and budgets are sums of the days' cents
    yesterday = history[summary.day - timedelta(days=1)]
    assert summary.change.previous == yesterday.total_cents
    assert summary.trend[-1] == (summary.day, total)
    month = [d for d in history.values() if d.day.month == summary.day.month]
    assert summary.month.cents == total + sum(d.total_cents for d in month)
    for budget in summary.budgets:
        if budget.scope == "":
            assert budget.spent == summary.month.cents
        else:
            team_days = [day.for_team(budget.scope), *(d.for_team(budget.scope) for d in month)]
            assert budget.spent == sum(d.total_cents for d in team_days)
    # price checks: the bill's line items, the estimates and billed-only rows share out the total
    billed_only = sum(amount.cents for amount in day.billed_only.values())
    checked = sum(check.billed_cents or 0 for check in day.price_checks)
    assert checked + day.estimated_cents + billed_only == total


def check_team_slice(summary: DailySummary, piece: DailySummary, team: str) -> None:
    # A team's own report totals the team's cents, its row in the overall teams table
    groups = summary.today.teams.get(team)
    assert piece.totals.cents == (groups.amount.cents if groups else 0)
    for view in piece.views.values():
        assert sum(row.cents for row in view.rows) == view.total == piece.totals.cents
    shown = [
        row
        for row in summary.views["teams"].rows
        if row.team == team and row.kind is not RowKind.OTHER
    ]
    for row in shown:  # unless the team is folded into "N others"
        assert row.cents == piece.totals.cents
        # its 14 days are the overall report's 14 days of that team
        assert tuple(cents for _, cents in piece.trend) == row.trend
    # a key only this team uses shows the same cents in both reports
    overall_keys = {
        r.label: r.cents for r in summary.views["keys"].rows if r.kind is not RowKind.OTHER
    }
    other_teams_keys = {
        key.name
        for name, groups in summary.today.teams.items()
        if name != team
        for key in groups.keys.values()
    }
    for row in piece.views["keys"].rows:
        if (
            row.kind is RowKind.ITEM
            and row.label in overall_keys
            and row.label not in other_teams_keys
        ):
            assert row.cents == overall_keys[row.label], row.label


def check_rendered(summary: DailySummary, total: int) -> None:
    text = render_email_text(summary)
    payload = render_slack(summary)
    if summary.is_empty:  # a team with a budget and no usage: no tables to add up
        assert total == 0
        return
    # (a) every printed table adds up to its printed total, which is the day's total
    tables = text_tables(text)
    assert set(tables) >= set(TITLES[1:]), text
    for title, (rows, table_total) in tables.items():
        assert sum(c for _, c in rows) == table_total == total, title
    slack = slack_sections(payload)
    assert ("*By team*" in slack) == (summary.team is None), payload
    if "*By team*" in slack:  # every team row, the rest folded, Unattributed and Not in usage
        assert sum(c for _, c in slack["*By team*"]) == total
    for title, view in SLACK_LISTS.items():  # the ranked rows: no GPU time, nothing billed-only
        kinds = (RowKind.ITEM, RowKind.OTHER, RowKind.UNATTRIBUTED)
        ranked = [row for row in summary.views[view].rows if row.kind in kinds]
        if summary.team is None and view == "models":
            assert title not in slack  # the team table says where the money went
        elif ranked:
            assert sum(c for _, c in slack[title]) == sum(row.cents for row in ranked), title
        else:
            assert title not in slack, title
    fallback = re.search(rf"Fireworks AI spend, [^:]+: {AMOUNT}", payload["text"])
    assert fallback and cents(fallback.group(1)) == total
    # (b) the same label shows the same cents in every table, every channel and what changed
    sightings: dict[str, set[int]] = defaultdict(set)
    for rows, _ in tables.values():
        for label, amount in rows:
            if not OTHERS.match(label):
                sightings[label].add(amount)
    billed_only = [row for row in summary.views["keys"].rows if row.kind is RowKind.BILLED_ONLY]
    for rows in slack.values():
        for label, amount in rows:
            if label == "Not in usage":  # billed-only rows, one line in the team table
                assert amount == sum(row.cents for row in billed_only)
            elif not OTHERS.match(label):
                sightings[label].add(amount)
    for dimension, name, amount in what_changed(text):
        sightings["Total" if dimension == "account" else name].add(amount)
    sightings["Total"].add(total)
    same_everywhere(sightings)
    assert money(total) in text


def check_csv(csv_file: UsageCsv, summary: DailySummary, teams: dict[str, DailySummary]) -> None:
    # (c) the cost column sums to the day's total, and per team to the team's cents
    per_team = csv_cents(csv_file.body())
    assert sum(per_team.values()) == summary.totals.cents
    for team, groups in summary.today.teams.items():
        assert per_team[team] == groups.amount.cents
    assert per_team[None] == sum(amount.cents for amount in summary.today.billed_only.values())
    for team, piece in teams.items():
        assert sum(csv_cents(csv_file.body(team)).values()) == piece.totals.cents
