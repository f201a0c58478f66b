"""The roll-up: one report across several accounts' days, built from their archived attribution.

Every figure is a sum of the accounts' own cents (attribution.json's `total_cents` and each
team's `cents`), never rounded again: an account's line in the roll-up is its own report's
total to the cent, the overall total is the sum of those lines, and a team's line is the sum
of its cents in each account, shown split by account. An account whose run failed is named
and left out of the totals, which then say how many accounts they cover.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from fwcost.archive.csv_export import text_cell
from fwcost.report.attribution import AttributedDay
from fwcost.report.cents import cents_text, money
from fwcost.report.render import day_short, environment
from fwcost.report.slack_message import Part, escape_mrkdwn, fit_slack, slack_name
from fwcost.report.summary import BILLED_ONLY_LABEL, UNATTRIBUTED_TEAM_LABEL

TEAM_ROWS = 15  # teams shown; the rest are one "N more teams" row, so the table still adds up
SLACK_TEAM_ROWS = 8
FAILURE_MAX = 300  # characters of an account's failure shown


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One account of the roll-up: its day's attribution, or why its run failed."""

    id: str
    label: str
    day: AttributedDay | None
    failure: str = ""

    @property
    def cents(self) -> int:
        return self.day.total_cents if self.day else 0


@dataclass(frozen=True, slots=True)
class TeamLine:
    """A team (or an unattributed or billed-only row) summed over the accounts it is in."""

    label: str
    cents: int
    by_account: tuple[tuple[str, int], ...]  # (account label, cents), largest first
    plain: bool  # False: "Unattributed" or "Billed, not in usage data", shown in italics


@dataclass(frozen=True, slots=True)
class Rollup:
    day: date
    timezone: str
    accounts: tuple[AccountLine, ...]  # in the configured order
    teams: tuple[TeamLine, ...]  # largest first; past TEAM_ROWS, one row for the rest
    archive_location: str

    @property
    def total_cents(self) -> int:
        return sum(line.cents for line in self.ran)

    @property
    def ran(self) -> tuple[AccountLine, ...]:
        return tuple(line for line in self.accounts if line.day is not None)

    @property
    def failed(self) -> tuple[AccountLine, ...]:
        return tuple(line for line in self.accounts if line.day is None)

    @property
    def covered(self) -> str:
        """Which accounts the totals cover, e.g. "2 of 3 accounts"."""
        if self.failed:
            return f"{len(self.ran)} of {len(self.accounts)} accounts"
        return f"{len(self.accounts)} account{'s' if len(self.accounts) > 1 else ''}"

    @property
    def has_estimates(self) -> bool:
        return any(
            line.day.estimated_cents or not line.day.has_bill for line in self.ran if line.day
        )


def build_rollup(
    day: date, timezone: str, accounts: Sequence[AccountLine], archive_location: str
) -> Rollup:
    return Rollup(day, timezone, tuple(accounts), _teams(accounts), archive_location)


def _teams(accounts: Sequence[AccountLine]) -> tuple[TeamLine, ...]:
    split: dict[tuple[str, bool], dict[str, int]] = {}
    for line in accounts:
        if line.day is None:
            continue
        rows = [
            (team or UNATTRIBUTED_TEAM_LABEL, bool(team), g.amount.cents)
            for team, g in line.day.teams.items()
        ]
        rows += [
            (f"{BILLED_ONLY_LABEL} ({category})", False, amount.cents)
            for category, amount in line.day.billed_only.items()
        ]
        for label, plain, cents in rows:
            shares = split.setdefault((label, plain), {})
            shares[line.label] = shares.get(line.label, 0) + cents
    teams = sorted(
        (
            TeamLine(label, sum(s.values()), _largest_first(s), plain)
            for (label, plain), s in split.items()
        ),
        key=lambda team: (not team.plain, -team.cents, team.label),
    )
    if len(teams) <= TEAM_ROWS:
        return tuple(teams)
    shown, rest = teams[: TEAM_ROWS - 1], teams[TEAM_ROWS - 1 :]
    others: dict[str, int] = {}
    for team in rest:
        for account, cents in team.by_account:
            others[account] = others.get(account, 0) + cents
    more = TeamLine(f"{len(rest)} more", sum(others.values()), _largest_first(others), False)
    return (*shown, more)


ROLLUP_CSV_COLUMNS = (
    "day",
    "account_id",
    "account_name",
    "team",
    "category",
    "attributed_cost_usd",
)


def rollup_csv(r: Rollup) -> bytes:
    """The roll-up's figures, one row per account and team (and billed-only category): the
    cents column sums to the roll-up's total. Text cells neutralised as the usage CSV's."""
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(ROLLUP_CSV_COLUMNS)
    for line in r.ran:
        assert line.day is not None
        head = (r.day.isoformat(), line.id, text_cell(line.label))
        for team, groups in sorted(line.day.teams.items()):
            writer.writerow((*head, text_cell(team), "", cents_text(groups.amount.cents)))
        for category, amount in sorted(line.day.billed_only.items()):
            writer.writerow((*head, "", text_cell(category), cents_text(amount.cents)))
    return lines.getvalue().encode()


def _largest_first(shares: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(shares.items(), key=lambda share: (-share[1], share[0])))


# ---- rendering -----------------------------------------------------------------------------


def rollup_subject(r: Rollup) -> str:
    failed = (
        f" · {len(r.failed)} account{'s' if len(r.failed) > 1 else ''} failed" if r.failed else ""
    )
    return f"All accounts · Fireworks AI spend, {day_short(r.day)}: {money(r.total_cents)}{failed}"


def split_text(team: TeamLine) -> str:
    return " · ".join(f"{account} {money(cents)}" for account, cents in team.by_account)


def _display(r: Rollup) -> dict[str, Any]:
    return {
        "r": r,
        "title": rollup_subject(r),
        "day_long": f"{r.day:%A} {r.day.day} {r.day:%B %Y}",
        "total": money(r.total_cents),
        "covered": r.covered,
        "failures": [(line.label, _clip(line.failure)) for line in r.failed],
        "accounts": [(line.label, line.id, money(line.cents)) for line in r.ran],
        "teams": [
            (team.label, team.plain, money(team.cents), split_text(team)) for team in r.teams
        ],
        "note": _note(r),
    }


def _clip(text: str) -> str:
    return text if len(text) <= FAILURE_MAX else text[: FAILURE_MAX - 1] + "…"


def _note(r: Rollup) -> str:
    estimated = (
        " Some of it is a price-book estimate: see the account's report." if r.has_estimates else ""
    )
    return (
        "Each account's line is its own daily report's total, to the cent; a team in several "
        "accounts is their sum. The breakdowns are in each account's report." + estimated
    )


def render_rollup_html(r: Rollup) -> str:
    return environment().get_template("rollup.html.j2").render(**_display(r))


def render_rollup_text(r: Rollup) -> str:
    return environment().get_template("rollup.txt.j2").render(**_display(r))


def render_rollup_slack(r: Rollup) -> dict[str, Any]:
    d = _display(r)
    parts = [
        Part(
            HeaderBlock(
                text=slack_name(f"Fireworks AI spend, all accounts, {day_short(r.day)}", 150)
            )
        )
    ]
    parts.append(
        Part(SectionBlock(text=MarkdownTextObject(text=f"*{d['total']}* across {d['covered']}")))
    )
    for label, failure in d["failures"]:
        said = f":rotating_light: *{escape_mrkdwn(slack_name(label))}*: its run failed, not in the totals: {escape_mrkdwn(failure)}"
        parts.append(Part(SectionBlock(text=MarkdownTextObject(text=said))))
    accounts = "\n".join(
        f"{escape_mrkdwn(slack_name(label))}: {amount}" for label, _, amount in d["accounts"]
    )
    if accounts:
        parts.append(Part(SectionBlock(text=MarkdownTextObject(text=f"*By account*\n{accounts}"))))
    teams = "\n".join(
        f"{escape_mrkdwn(slack_name(label))}: {amount} ({escape_mrkdwn(split)})"
        for label, _, amount, split in d["teams"][:SLACK_TEAM_ROWS]
    )
    if teams:
        parts.append(
            Part(
                SectionBlock(text=MarkdownTextObject(text=f"*By team*\n{teams}"[:3000])),
                optional=True,
            )
        )
    parts.append(Part(ContextBlock(elements=[MarkdownTextObject(text=escape_mrkdwn(d["note"]))])))
    return fit_slack(rollup_subject(r), parts)
