"""What the report says: views that add up, change, trends, anomalies, budgets, restatements.

Every amount here is in cents. A figure that is a sum (a row, a total, month to date, the day
before) is an int: a sum of the attributed rows' cents (cents.py), so it shows the same cents
wherever it appears. A figure worked out from sums (an average, a median, a projection, a budget)
is a Decimal number of cents, rounded only when it is printed. Percentages come from cents.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from functools import partial
from statistics import median

from fwcost.config import (
    DEFAULT_ANOMALY_DOLLAR_FLOOR,
    DEFAULT_ANOMALY_MAD_MULTIPLIER,
    DEFAULT_ANOMALY_MIN_RATIO,
    DEFAULT_TOP_N,
)
from fwcost.dates import DayBounds
from fwcost.imports.day_export import Difference
from fwcost.links import ReportLinks
from fwcost.report.attribution import NO_BILL_NOTE, AttributedDay, HistoryDay
from fwcost.report.cents import cents_of
from fwcost.report.groups import ZERO, Amount, KeyGroup, TeamCents, TeamGroups

TREND_DAYS = 14
AVERAGE_DAYS = 7
# Unusual and gone-quiet spend compare a day with its usual days among the four weeks before it
# (within the 30 days of history a report reads, pipeline.HISTORY_DAYS).
BASELINE_DAYS = 28
MAD_TO_SIGMA = Decimal("1.4826")  # makes the MAD comparable to a standard deviation
SECONDS_PER_HOUR = Decimal(3600)
UNATTRIBUTED_TEAM_LABEL = "Unattributed"
BILLED_ONLY_LABEL = "Billed, not in usage data"


USERS_TITLE = "By user (firectl export, at list price)"


class RowKind(Enum):
    """How a renderer presents a row of a view."""

    ITEM = "item"  # a team, key, model...: ranked, and folded into OTHER beyond the top N
    UNATTRIBUTED = "unattributed"  # usage without the annotation the view is by
    BILLED_ONLY = "billed_only"  # a line item no usage row carries (e.g. embeddings)
    NOT_PER_KEY = "not_per_key"  # GPU time in the keys view, serverless in the deployments view
    OTHER = "other"  # the ITEM rows beyond the top N, folded into one


class Dimension(Enum):
    """What a what-changed fact is about."""

    ACCOUNT = "account"
    TEAM = "team"
    KEY = "key"
    MODEL = "model"
    DEPLOYMENT = "deployment"

    # Members are singletons compared by identity, so their identity hashes: Enum's own hashes
    # the name in Python, and a report hashes (dimension, name) pairs half a million times.
    __hash__ = object.__hash__


class BudgetState(Enum):
    OK = "ok"
    NEAR = "near"  # budget_warn_share of it spent, on pace to stay within it
    PROJECTED_OVER = "projected_over"  # the month-end pace is over it
    OVER = "over"  # spent


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    """Unusual: above median + k·MAD of the usual days, by a ratio and a dollar floor."""

    mad_multiplier: Decimal = DEFAULT_ANOMALY_MAD_MULTIPLIER
    min_ratio: Decimal = DEFAULT_ANOMALY_MIN_RATIO
    dollar_floor: Decimal = DEFAULT_ANOMALY_DOLLAR_FLOOR  # USD
    min_baseline_days: int = 3  # usual days needed to call anything unusual or gone quiet
    quiet_floor: Decimal = Decimal(1)  # average USD a usual day below which going quiet is not news


@dataclass(frozen=True, slots=True)
class Restatement:
    """A re-pulled earlier day whose exact total (USD) differs from its archived copy."""

    day: date
    old_total: Decimal
    new_total: Decimal

    @property
    def new_cents(self) -> int:
        """The day's total as its reports print it (a day's total cents are its total rounded)."""
        return cents_of(self.new_total)

    @property
    def delta_cents(self) -> int:
        return self.new_cents - cents_of(self.old_total)


@dataclass(frozen=True, slots=True)
class ReportContext:
    account_id: str
    timezone: str
    bounds: DayBounds
    archive_location: str  # s3://bucket/prefix/ or a folder: where the full CSV is
    code_version: str
    top_n: int = DEFAULT_TOP_N
    anomaly: AnomalySettings = field(default_factory=AnomalySettings)
    team_budgets: Mapping[str, Decimal] = field(default_factory=dict)  # monthly USD, per team
    account_budget: Decimal | None = None  # monthly USD
    budget_warn_share: Decimal = Decimal("0.8")
    restatements: Sequence[Restatement] = ()
    gaps: Sequence[str] = ()
    team: str | None = None  # set on a team's own slice
    links: ReportLinks | None = None  # to this report's archived copy and CSV (publishing)
    # From firectl exports imported for the day (fwcost.imports): each user's cents at list
    # price (the "users" view; none without an export), and where the export disagrees with
    # the API, whose figures the report keeps.
    users: Mapping[str, int] = field(default_factory=dict)
    export_differences: Sequence[Difference] = ()

    def __post_init__(self) -> None:
        if self.top_n < 1:
            raise ValueError(f"top_n must be at least 1, got {self.top_n}")
        budgets = {"account": self.account_budget, **self.team_budgets}
        for scope, budget in budgets.items():
            if budget is not None and budget <= 0:
                raise ValueError(f"monthly budget for {scope!r} must be positive, got {budget}")


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    cents: int
    kind: RowKind = RowKind.ITEM
    detail: str = ""  # e.g. shortened key id, "serverless · 96.2M tokens", "H100 · 23.0 h"
    team: str = ""
    change_pct: Decimal | None = None  # vs the trailing 7-day average
    trend: tuple[int | None, ...] = ()  # cents, 14 days, oldest first, today last
    count: int = 1  # rows folded into an "Other" row
    estimated: bool = False


@dataclass(frozen=True, slots=True)
class View:
    name: str
    title: str
    rows: tuple[Row, ...]
    total: int  # cents: the rows add up to it
    size: int  # how many rows the view had before the top N were kept

    @property
    def hidden(self) -> int:
        return sum(row.count for row in self.rows if row.kind is RowKind.OTHER)


@dataclass(frozen=True, slots=True)
class Totals:
    cents: int
    estimated_cents: int
    prompt_tokens: int
    cached_prompt_tokens: int
    completion_tokens: int
    gpu_hours: Decimal
    audio_minutes: Decimal
    deployments: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Change:
    """The day's cents against the day before and the trailing average (cents)."""

    previous: int | None  # the day before, None when missing
    average: Decimal | None  # trailing 7-day average of the days present
    average_days: int
    today: int

    @property
    def vs_previous(self) -> int | None:
        return None if self.previous is None else self.today - self.previous

    @property
    def vs_average(self) -> Decimal | None:
        return None if self.average is None else self.today - self.average

    @property
    def pct_vs_previous(self) -> Decimal | None:
        return _pct(self.today, self.previous)

    @property
    def pct_vs_average(self) -> Decimal | None:
        return _pct(self.today, self.average)


@dataclass(frozen=True, slots=True)
class MonthToDate:
    month_start: date
    cents: int  # the sum of the days' total cents
    days_missing: tuple[date, ...]
    projection: Decimal  # cents
    days_in_month: int


Subject = tuple[Dimension, str]  # a team, key id or name, model or deployment; "" the account


@dataclass(frozen=True, slots=True)
class Baseline:
    """The earlier days a day's spend is compared with: its usual days.

    The same weekday's days when there are enough of them, else the same kind of day's (weekdays
    or weekend days), so a quiet Saturday is compared with Saturdays, not with busy Fridays.
    """

    days: tuple[date, ...]
    weekday: int | None  # 0 = Monday: the same weekday; None: every day of the same kind
    weekend: bool

    @property
    def usual_day(self) -> str:
        """What the day was compared with, for "2.2× its usual Sunday"."""
        if self.weekday is not None:
            return calendar.day_name[self.weekday]
        return "weekend day" if self.weekend else "weekday"


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One unusual event, on one line: a lower-level rise it explains is folded into it."""

    dimension: Dimension
    name: str
    cents: int
    median: Decimal  # cents, of its usual days
    baseline: Baseline
    team: str = ""
    # What drove it: for a team, the model and key whose spend grew most; for the account, the team
    driver_model: str = ""
    driver_key: str = ""
    driver_team: str = ""
    also: tuple[Subject, ...] = ()  # the jumps within the same team that this line stands for

    @property
    def ratio(self) -> Decimal | None:
        return None if self.median == 0 else self.cents / self.median


@dataclass(frozen=True, slots=True)
class Arrival:
    """A key, model or team that spent for the first time, or stopped spending."""

    dimension: Dimension
    name: str
    new: bool  # False: gone quiet
    cents: int | Decimal  # today's cents (new) or its usual day's average (gone quiet)
    team: str = ""
    baseline: Baseline | None = None  # gone quiet: the usual days it spent on


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    scope: str  # team name, or "" for the whole account
    budget: Decimal  # cents, monthly
    spent: int  # cents: the sum of the month's days
    projected: Decimal  # cents
    days_left: int
    state: BudgetState

    @property
    def share(self) -> Decimal:
        return self.spent / self.budget if self.budget else Decimal(0)

    @property
    def projected_share(self) -> Decimal:
        return self.projected / self.budget if self.budget else Decimal(0)


@dataclass(frozen=True, slots=True)
class OmittedTeams:
    """The teams beyond FWCOST_MAX_TEAM_REPORTS, which get no report of their own."""

    count: int
    largest_cents: int  # the most any of them spent on the day


@dataclass(frozen=True, slots=True)
class DailySummary:
    day: date
    context: ReportContext
    totals: Totals
    views: dict[str, View]
    change: Change
    month: MonthToDate
    trend: tuple[tuple[date, int | None], ...]  # cents
    anomalies: tuple[Anomaly, ...]
    arrivals: tuple[Arrival, ...]
    budgets: tuple[BudgetStatus, ...]
    restatements: tuple[Restatement, ...]
    gaps: tuple[str, ...]
    missing_days: tuple[date, ...]  # trailing or month-to-date days with no archived data
    has_bill: bool
    key_source: str
    notes: tuple[str, ...]
    # (label, billed cents, price book in cents): billed is the sum of the covered rows' cents
    price_checks: tuple[tuple[str, int, Decimal], ...]
    unbilled: tuple[tuple[str, Decimal], ...]  # (label, estimate in cents) usage with no item
    today: AttributedDay = field(repr=False, compare=False)
    history: Mapping[date, HistoryDay] = field(repr=False, compare=False)
    omitted_teams: OmittedTeams | None = None  # the overall report's: see omitted_teams

    @property
    def team(self) -> str | None:
        return self.context.team

    @property
    def is_empty(self) -> bool:
        return self.today.is_empty


def summarize(
    today: AttributedDay, history: Mapping[date, HistoryDay], context: ReportContext
) -> DailySummary:
    """The report's content for `today`; `history` holds earlier days (any may be missing).

    Today is compared with its history as one of them (`now`): cents, the same on both sides.
    """
    earlier = {day: value for day, value in history.items() if day < today.day}
    now = HistoryDay.of(today)
    trailing = [today.day - timedelta(days=n) for n in range(TREND_DAYS, 0, -1)]
    month = _month_to_date(now, earlier)
    subjects = _subjects_once()
    return DailySummary(
        day=today.day,
        context=context,
        totals=_totals(today),
        views=_views(today, now, earlier, context),
        change=_change(
            today.total_cents, [earlier[d].total_cents if d in earlier else None for d in trailing]
        ),
        month=month,
        trend=(
            *((d, earlier[d].total_cents if d in earlier else None) for d in trailing[1:]),
            (today.day, today.total_cents),
        ),
        anomalies=tuple(_anomalies(now, earlier, context.anomaly, subjects)),
        arrivals=tuple(_arrivals(now, earlier, trailing, context.anomaly, subjects)),
        budgets=tuple(_budgets(now, earlier, context, month)),
        restatements=tuple(sorted(context.restatements, key=lambda r: r.day)),
        gaps=tuple(dict.fromkeys([*context.gaps, *today.gaps])),
        missing_days=tuple(
            sorted({d for d in trailing if d not in earlier} | set(month.days_missing))
        ),
        has_bill=today.has_bill,
        key_source=today.key_source,
        # No bill is a typed fact (has_bill), worded with what the report lacks, not a note.
        notes=tuple(note for note in today.notes if note != NO_BILL_NOTE),
        price_checks=tuple(
            (c.label, c.billed_cents, c.price_book * 100)
            for c in today.price_checks
            if c.billed_cents is not None and c.price_book is not None
        ),
        unbilled=tuple(
            (c.label, c.price_book * 100)
            for c in today.price_checks
            if c.billed is None and c.price_book is not None
        ),
        today=today,
        history=earlier,
    )


def team_summaries(summary: DailySummary, limit: int | None = None) -> dict[str, DailySummary]:
    """Each named team's slice alone: its own totals, views, trend and budget, nobody else's.

    With `limit`, only that many teams, the largest by the day's cost (see omitted_teams).
    """
    context = summary.context
    teams = sorted(_teams_by_cost(summary)[:limit])
    return {
        team: summarize(
            summary.today.for_team(team),
            {day: value.for_team(team) for day, value in summary.history.items()},
            replace(
                context,
                team=team,
                team_budgets={team: context.team_budgets[team]}
                if team in context.team_budgets
                else {},
                account_budget=None,
                restatements=(),
                links=None,  # the overall report's links are not the team's
                users={},  # an export names no team: its users are the account's
                export_differences=(),
            ),
        )
        for team in teams
    }


def omitted_teams(summary: DailySummary, limit: int) -> OmittedTeams | None:
    """The teams beyond `limit`, which get no report of their own (team_summaries' `limit`)."""
    omitted = _teams_by_cost(summary)[limit:]
    if not omitted:
        return None
    cents = _cents_by_team(summary.today)
    return OmittedTeams(len(omitted), max(cents.get(team, 0) for team in omitted))


def _teams_by_cost(summary: DailySummary) -> list[str]:
    """Named teams with spend or a budget, the day's largest first (then by name)."""
    cents = _cents_by_team(summary.today)
    teams = {name for name in cents if name} | set(summary.context.team_budgets)
    return sorted(teams, key=lambda team: (-cents.get(team, 0), team))


def _cents_by_team(day: AttributedDay) -> dict[str, int]:
    return {team: groups.amount.cents for team, groups in day.teams.items()}


def short_key_id(key_id: str) -> str:
    """`key_4nMFyHCSZP4CRKqa` -> `key_4nMF…Kqa`: enough to recognise, short enough to scan."""
    prefix = "key_" if key_id.startswith("key_") else ""
    body = key_id[len(prefix) :]
    if len(body) <= 9:
        return key_id
    return f"{prefix}{body[:4]}…{body[-3:]}"


# ---- totals and change ---------------------------------------------------------------------


def _totals(today: AttributedDay) -> Totals:
    amount = _sum_amounts(groups.amount for groups in today.teams.values())
    deployments = {name for groups in today.teams.values() for name in groups.deployments}
    return Totals(
        cents=today.total_cents,
        estimated_cents=today.estimated_cents,
        prompt_tokens=amount.prompt_tokens,
        cached_prompt_tokens=amount.cached_prompt_tokens,
        completion_tokens=amount.completion_tokens,
        gpu_hours=Decimal(amount.gpu_seconds) / SECONDS_PER_HOUR,
        audio_minutes=Decimal(str(amount.audio_seconds)) / 60,
        deployments=len(deployments),
    )


def _change(today: int, trailing: Sequence[int | None]) -> Change:
    """Trailing is oldest first and ends the day before today."""
    last_week = [value for value in trailing[-AVERAGE_DAYS:] if value is not None]
    return Change(
        previous=trailing[-1] if trailing else None,
        average=_average(trailing),
        average_days=len(last_week),
        today=today,
    )


def _pct(now: int, before: int | Decimal | None) -> Decimal | None:
    if before is None or before == 0:
        return None
    return (now - before) / Decimal(before) * 100


def _month_to_date(today: HistoryDay, earlier: Mapping[date, HistoryDay]) -> MonthToDate:
    start = today.day.replace(day=1)
    days = [start + timedelta(days=n) for n in range(today.day.day - 1)]
    missing = tuple(day for day in days if day not in earlier)
    spent = today.total_cents + sum(earlier[d].total_cents for d in days if d in earlier)
    days_in_month = calendar.monthrange(today.day.year, today.day.month)[1]
    return MonthToDate(
        month_start=start,
        cents=spent,
        days_missing=missing,
        projection=_project(spent, today, earlier, days_in_month - today.day.day),
        days_in_month=days_in_month,
    )


def _project(
    spent: int,
    today: HistoryDay,
    earlier: Mapping[date, HistoryDay],
    days_left: int,
    cents_of_day: Callable[[HistoryDay], int] = lambda day: day.total_cents,
) -> Decimal:
    """Month-end pace in cents: spent so far plus the last 7 days' average per day left.

    The 7 days may cross into last month, so the first of the month still projects sensibly.
    """
    week = [today.day - timedelta(days=n) for n in range(AVERAGE_DAYS)]
    values = [cents_of_day(today)] + [cents_of_day(earlier[d]) for d in week[1:] if d in earlier]
    return spent + Decimal(sum(values)) / len(values) * days_left


# ---- views ---------------------------------------------------------------------------------


def _views(
    today: AttributedDay,
    now: HistoryDay,
    earlier: Mapping[date, HistoryDay],
    context: ReportContext,
) -> dict[str, View]:
    trailing = [today.day - timedelta(days=n) for n in range(TREND_DAYS - 1, 0, -1)]

    def history_of(cents_of_day: Callable[[HistoryDay], int]) -> tuple[int | None, ...]:
        return (
            *(cents_of_day(earlier[d]) if d in earlier else None for d in trailing),
            cents_of_day(now),
        )

    views = _base_views(_ViewBuilder(today, context.top_n, history_of))
    if context.users:
        views["users"] = _users_view(context.users, context.top_n)
    return views


def period_views(total: AttributedDay, top_n: int) -> dict[str, View]:
    """The same six views for a week's or month's days added up (fwcost.periods), no trends."""
    return _base_views(_ViewBuilder(total, top_n, lambda cents_of_day: ()))


def _base_views(builder: _ViewBuilder) -> dict[str, View]:
    return {
        "teams": builder.teams(),
        "projects": builder.by_annotation("projects", "Projects", "(no project)"),
        "environments": builder.by_annotation("environments", "Environments", "(no environment)"),
        "keys": builder.keys(),
        "models": builder.models(),
        "deployments": builder.deployments(),
    }


def _users_view(users: Mapping[str, int], top_n: int) -> View:
    """Each user's cents from the day's firectl export: list-price estimates, so the view adds
    up to the export's own total, not to the bill (its title says so)."""
    rows = [
        Row(email or "(no email)", cents, RowKind.ITEM if email else RowKind.UNATTRIBUTED,
            estimated=True)
        for email, cents in users.items()
    ]  # fmt: skip
    ordinary = sorted(
        (r for r in rows if r.kind is RowKind.ITEM), key=lambda r: (-r.cents, r.label)
    )
    shown = ordinary[:top_n] + [r for r in rows if r.kind is not RowKind.ITEM]
    total = sum(users.values())
    if (hidden := len(ordinary) - top_n) > 0:
        rest = total - sum(row.cents for row in shown)
        shown.insert(top_n, Row(f"{hidden} others", rest, RowKind.OTHER, count=hidden))
    return View("users", USERS_TITLE, tuple(shown), total, len(rows))


class _ViewBuilder:
    def __init__(
        self,
        today: AttributedDay,
        top_n: int,
        history_of: Callable[[Callable[[HistoryDay], int]], tuple[int | None, ...]],
    ) -> None:
        self.today = today
        self.top_n = top_n
        self.history_of = history_of

    def _billed_only_rows(self) -> list[Row]:
        return [
            Row(f"{BILLED_ONLY_LABEL} ({category})", amount.cents, RowKind.BILLED_ONLY)
            for category, amount in sorted(self.today.billed_only.items())
        ]

    def teams(self) -> View:
        rows = []
        for name, groups in self.today.teams.items():
            trend = self.history_of(partial(_team_cents, team=name))
            rows.append(
                Row(
                    name or UNATTRIBUTED_TEAM_LABEL,
                    groups.amount.cents,
                    RowKind.ITEM if name else RowKind.UNATTRIBUTED,
                    detail="" if name else "no team annotation",
                    team=name,
                    change_pct=_pct(groups.amount.cents, _average(trend[:-1])),
                    trend=trend,
                    estimated=bool(groups.amount.estimated),
                )
            )
        return self._fold("teams", "By team", rows + self._billed_only_rows())

    def by_annotation(self, attribute: str, title: str, empty_label: str) -> View:
        rows = [
            Row(name or empty_label, amount.cents, RowKind.ITEM if name else RowKind.UNATTRIBUTED)
            for name, amount in _merge(self.today.teams.values(), attribute).items()
        ]
        return self._fold(attribute, title, rows + self._billed_only_rows())

    def keys(self) -> View:
        in_teams: dict[str, list[tuple[str, KeyGroup]]] = defaultdict(list)
        for team, groups in self.today.teams.items():
            for key_id, key in groups.keys.items():
                in_teams[key_id].append((team, key))
        rows = []
        for key_id, seen in in_teams.items():
            cents, name, main_team, estimated = _key_across_teams(seen)
            if not key_id:
                rows.append(Row("Not per key", cents, RowKind.NOT_PER_KEY, detail="GPU time"))
                continue
            short_id = short_key_id(key_id)
            rows.append(
                Row(
                    name or short_id,
                    cents,
                    RowKind.UNATTRIBUTED if key_id == "unattributed" else RowKind.ITEM,
                    detail=short_id,
                    team=main_team or UNATTRIBUTED_TEAM_LABEL,
                    estimated=estimated,
                )
            )
        return self._fold("keys", "Top API keys", rows + self._billed_only_rows())

    def models(self) -> View:
        rows = []
        for name, amount in _merge(self.today.teams.values(), "models").items():
            rows.append(
                Row(
                    name,
                    amount.cents,
                    detail=_usage_detail(amount),
                    estimated=bool(amount.estimated),
                )
            )
        rows += self._deployment_rows()
        return self._fold("models", "Models and deployments", rows + self._billed_only_rows())

    def deployments(self) -> View:
        rows = self._deployment_rows()
        rest = self.today.total_cents - sum(row.cents for row in rows)
        if rest:
            rows.append(Row("Serverless and other", rest, RowKind.NOT_PER_KEY))
        return self._fold("deployments", "GPU deployments", rows)

    def _deployment_rows(self) -> list[Row]:
        merged: dict[str, tuple[str, str, Amount]] = {}
        for groups in self.today.teams.values():
            for name, group in groups.deployments.items():
                _, _, amount = merged.setdefault(name, (group.accelerator, group.kind, Amount()))
                amount.add(group.amount)
        return [
            Row(
                name,
                amount.cents,
                detail=f"{'training · ' if kind == 'training' else ''}{_accelerator_label(acc)}"
                f" · {Decimal(amount.gpu_seconds) / SECONDS_PER_HOUR:.1f} h",
                estimated=bool(amount.estimated),
            )
            for name, (acc, kind, amount) in merged.items()
        ]

    def _fold(self, name: str, title: str, rows: list[Row]) -> View:
        """Keep the top N ordinary rows; fold the rest into "Other", computed as the remainder."""
        ordinary = sorted(
            (row for row in rows if row.kind is RowKind.ITEM), key=lambda r: (-r.cents, r.label)
        )
        special = sorted(
            (row for row in rows if row.kind is not RowKind.ITEM), key=lambda r: -r.cents
        )
        shown = ordinary[: self.top_n] + special
        hidden = len(ordinary) - self.top_n
        if hidden > 0:
            rest = self.today.total_cents - sum(row.cents for row in shown)
            shown.insert(self.top_n, Row(f"{hidden} others", rest, RowKind.OTHER, count=hidden))
        return View(name, title, tuple(shown), self.today.total_cents, len(rows))


def _key_across_teams(seen: Sequence[tuple[str, KeyGroup]]) -> tuple[int, str, str, bool]:
    """A key's cents, name (the first team's that names it), main team (the one it spent most
    in) and whether any of it is estimated, from its groups in each team that used it."""
    if len(seen) == 1:  # nearly every key: one team's
        ((team, key),) = seen
        return key.amount.cents, key.name, team, bool(key.amount.estimated)
    cents = sum(key.amount.cents for _, key in seen)
    name = next((key.name for _, key in seen if key.name), "")
    main_team = max(seen, key=lambda seen_in: (seen_in[1].amount.cents, seen_in[0]))[0]
    estimated = sum((key.amount.estimated for _, key in seen), ZERO)
    return cents, name, main_team, bool(estimated)


def _merge(teams: Iterable[TeamGroups], attribute: str) -> dict[str, Amount]:
    merged: dict[str, Amount] = defaultdict(Amount)
    for groups in teams:
        for name, amount in getattr(groups, attribute).items():
            merged[name].add(amount)
    return merged


def _sum_amounts(amounts: Iterable[Amount]) -> Amount:
    total = Amount()
    for amount in amounts:
        total.add(amount)
    return total


def _usage_detail(amount: Amount) -> str:
    parts = []
    if amount.prompt_tokens or amount.completion_tokens:
        parts.append(f"{compact_number(amount.prompt_tokens + amount.completion_tokens)} tokens")
    if amount.audio_seconds:
        parts.append(f"{amount.audio_seconds / 60:,.0f} audio min")
    return "serverless · " + (", ".join(parts) or "no tokens")


def _accelerator_label(accelerator: str) -> str:
    """NVIDIA_H100_80GB -> NVIDIA H100 80GB."""
    return accelerator.replace("_", " ") or "unknown accelerator"


def compact_number(value: int | Decimal | float) -> str:
    """412_800_000 -> 412.8M; keeps small numbers whole."""
    number = float(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= limit:
            return f"{number / limit:.1f}{suffix}"
    return f"{number:.0f}"


def _team_cents(day: HistoryDay, team: str) -> int:
    groups = day.teams.get(team)
    return groups.cents if groups else 0


def _average(values: Sequence[int | None]) -> Decimal | None:
    """The trailing 7 days' average of the days present, in cents."""
    present = [value for value in values[-AVERAGE_DAYS:] if value is not None]
    return Decimal(sum(present)) / len(present) if present else None


def _median(values: Iterable[int | Decimal]) -> Decimal:
    return Decimal(median(Decimal(value) for value in values))


# ---- anomalies, arrivals, budgets ----------------------------------------------------------


def baseline(day: date, earlier: Collection[date], min_days: int) -> Baseline | None:
    """`day`'s usual days among the BASELINE_DAYS before it, the latest first.

    The same weekday's days when at least `min_days` of them are archived, else the same kind of
    day's (weekdays, or weekend days); None when neither has `min_days`.
    """
    weekend = _is_weekend(day)
    window = [day - timedelta(days=n) for n in range(1, BASELINE_DAYS + 1)]
    present = [d for d in window if d in earlier]
    same_weekday = tuple(d for d in present if d.weekday() == day.weekday())
    if len(same_weekday) >= min_days:
        return Baseline(same_weekday, day.weekday(), weekend)
    same_kind = tuple(d for d in present if _is_weekend(d) == weekend)
    if len(same_kind) >= min_days:
        return Baseline(same_kind, None, weekend)
    return None


def _is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def _subjects(day: HistoryDay) -> dict[Subject, tuple[int, str]]:
    """Subject -> (cents, owning team) for everything a change can be noticed on.

    Keys and deployments belong to the first team seen with them; models to no team. In the
    order they are first seen, team by team (a tie in what changed keeps that order).
    """
    found: dict[Subject, tuple[int, str]] = {}
    for team, groups in day.teams.items():
        spend = {(Dimension.TEAM, team): (groups.cents, team)} if team else {}
        spend |= {
            (Dimension.KEY, key_id): (cents, team)
            for key_id, cents in groups.keys.items()
            if key_id and key_id != "unattributed"
        }
        spend |= {(Dimension.MODEL, model): (cents, "") for model, cents in groups.models.items()}
        spend |= {
            (Dimension.DEPLOYMENT, name): (cents, team)
            for name, cents in groups.deployments.items()
        }
        # Seen before: its cents add up, and it keeps its place and its first owner.
        both = {
            subject: (found[subject][0] + spend[subject][0], found[subject][1])
            for subject in found.keys() & spend.keys()
        }
        found |= spend
        found |= both
    return found


def _subjects_once() -> Callable[[HistoryDay], dict[Subject, tuple[int, str]]]:
    """_subjects, worked out once a day: the unusual, the new and the gone quiet look at the
    same days."""
    known: dict[date, dict[Subject, tuple[int, str]]] = {}

    def subjects(day: HistoryDay) -> dict[Subject, tuple[int, str]]:
        if day.day not in known:
            known[day.day] = _subjects(day)
        return known[day.day]

    return subjects


NOT_SPENT = (0, "")  # a subject's (cents, team) on a day it is not in


def _cents_in(groups: TeamCents | None, subject: Subject) -> int:
    """A subject's cents within one team's groups; a team's (or the account's) is the team's own."""
    if groups is None:
        return 0
    dimension, name = subject
    if dimension is Dimension.KEY:
        return groups.keys.get(name, 0)
    if dimension is Dimension.MODEL:
        return groups.models.get(name, 0)
    if dimension is Dimension.DEPLOYMENT:
        return groups.deployments.get(name, 0)
    return groups.cents


def _cents_on(day: HistoryDay, subject: Subject) -> int:
    """A subject's cents on a day, as _subjects(day) has them, for a subject looked up alone."""
    dimension, name = subject
    if dimension is Dimension.TEAM:
        return _team_cents(day, name)
    return sum(_cents_in(groups, subject) for groups in day.teams.values())


def _key_name(key_id: str, days: Iterable[HistoryDay]) -> str:
    """A key's name on the first of `days` that names it (within a day, the last team's), else
    its id. Looked up only for the keys a report names, not merged for every key of 30 days."""
    for day in days:
        for groups in reversed(day.teams.values()):
            if name := groups.key_names.get(key_id):
                return name
    return key_id


def _anomalies(
    today: HistoryDay,
    earlier: Mapping[date, HistoryDay],
    settings: AnomalySettings,
    subjects: Callable[[HistoryDay], dict[Subject, tuple[int, str]]],
) -> list[Anomaly]:
    usual = baseline(today.day, earlier, settings.min_baseline_days)
    if usual is None:
        return []
    days = [earlier[d] for d in usual.days]
    past = [subjects(day) for day in days]
    current = {(Dimension.ACCOUNT, ""): (today.total_cents, "")} | subjects(today)
    floor_cents = settings.dollar_floor * 100
    found: dict[Subject, tuple[int, Decimal, str]] = {}
    for subject, (cents, team) in current.items():
        if subject[0] is Dimension.ACCOUNT:
            values = [day.total_cents for day in days]
        else:
            values = [p.get(subject, NOT_SPENT)[0] for p in past]
        if cents - min(values) < floor_cents:
            continue  # the median is no less than the least day: it did not rise by the floor
        middle = _median(values)
        spread = _median(abs(v - middle) for v in values) * MAD_TO_SIGMA
        if (
            cents > middle + settings.mad_multiplier * spread
            and cents >= middle * settings.min_ratio
            and cents - middle >= floor_cents
        ):
            found[subject] = (cents, middle, team)
    return _one_line_per_event(found, today, days, usual)


def _one_line_per_event(
    found: Mapping[Subject, tuple[int, Decimal, str]],
    today: HistoryDay,
    days: Sequence[HistoryDay],
    usual: Baseline,
) -> list[Anomaly]:
    """One line per event, naming what drove it.

    A team's jump is one line, naming the model and key within it that grew most; a key's,
    model's or deployment's jump (or the account's) that lies mostly (half its rise or more)
    within the teams that jumped is part of theirs. The other jumps that lie mostly within one
    team are one line for that team: its key (else deployment, else model) that rose most, with
    the others named after it. The account's jump is a line of its own only when no other line
    holds most of it.
    """
    teams = [name for dimension, name in found if dimension is Dimension.TEAM]
    lines = []
    by_team: dict[str, list[Anomaly]] = defaultdict(list)
    account: Anomaly | None = None
    account_home = None
    for subject, (cents, middle, team) in found.items():
        dimension, name = subject
        anomaly = Anomaly(dimension, name, cents, middle, usual, team)
        if dimension is Dimension.TEAM:
            lines.append(_team_drivers(anomaly, today, days))
            continue
        if sum(_rise(subject, t, today, days) for t in teams) * 2 >= cents - middle:
            continue  # part of the jumping teams' lines
        home = _home_team(subject, cents - middle, today, days)
        if dimension is Dimension.KEY:
            anomaly = replace(anomaly, name=_key_name(name, [today]))
        if dimension is Dimension.ACCOUNT:
            account, account_home = anomaly, home
            if home is not None:
                account = replace(anomaly, driver_team=home or UNATTRIBUTED_TEAM_LABEL)
        elif home is None:
            lines.append(anomaly)
        else:
            by_team[home].append(anomaly)
    lines += [_one_line(group) for group in by_team.values()]
    if account is not None and account_home not in by_team:
        lines.append(account)
    return sorted(
        lines, key=lambda a: (a.dimension is not Dimension.ACCOUNT, -(a.cents - a.median))
    )


def _home_team(
    subject: Subject, rise: Decimal, today: HistoryDay, days: Sequence[HistoryDay]
) -> str | None:
    """The team holding half or more of a subject's rise, if one does."""
    rises = {team: _rise(subject, team, today, days) for team in today.teams}
    home = max(rises, key=lambda team: (rises[team], team), default=None)
    return home if home is not None and rises[home] * 2 >= rise else None


LEADS = (Dimension.KEY, Dimension.DEPLOYMENT, Dimension.MODEL)  # which jump a team's line names


def _one_line(group: Sequence[Anomaly]) -> Anomaly:
    """A team's jumps as one: its key (else deployment, else model) that rose most, then the rest."""
    ranked = sorted(group, key=lambda a: (LEADS.index(a.dimension), -(a.cents - a.median)))
    lead, rest = ranked[0], sorted(ranked[1:], key=lambda a: -(a.cents - a.median))
    return replace(lead, also=tuple((a.dimension, a.name) for a in rest))


def _rise(subject: Subject, team: str, today: HistoryDay, days: Sequence[HistoryDay]) -> Decimal:
    """How far a subject's cents within `team` are above their median on the usual days."""
    now = _cents_in(today.teams.get(team), subject)
    return now - _median(_cents_in(day.teams.get(team), subject) for day in days)


def _team_drivers(anomaly: Anomaly, today: HistoryDay, days: Sequence[HistoryDay]) -> Anomaly:
    groups = today.teams[anomaly.name]
    past = [day.teams.get(anomaly.name) for day in days]
    model = _biggest_rise(groups.models, [p.models if p else {} for p in past])
    key = _biggest_rise(
        {k: cents for k, cents in groups.keys.items() if k}, [p.keys if p else {} for p in past]
    )
    return replace(anomaly, driver_model=model, driver_key=_key_name(key, [today]))


def _biggest_rise(today: Mapping[str, int], past: Sequence[Mapping[str, int]]) -> str:
    rises = {name: cents - _median(p.get(name, 0) for p in past) for name, cents in today.items()}
    best = max(rises, key=lambda name: (rises[name], name), default="")
    return best if best and rises[best] > 0 else ""


def _arrivals(
    today: HistoryDay,
    earlier: Mapping[date, HistoryDay],
    trailing: Sequence[date],
    settings: AnomalySettings,
    subjects: Callable[[HistoryDay], dict[Subject, tuple[int, str]]],
) -> list[Arrival]:
    # A key's name today, else the first it had in the history read (a renamed key gone quiet
    # is called by its oldest name there).
    named_on = [today, *(earlier[day] for day in sorted(earlier))]

    def name_of(key_id: str) -> str:
        return _key_name(key_id, named_on)

    found = _new(today, [earlier[d] for d in trailing if d in earlier], name_of, subjects)
    found += _gone_quiet(today, earlier, settings, name_of, subjects)
    order = {Dimension.TEAM: 0, Dimension.KEY: 1, Dimension.MODEL: 2}
    return sorted(found, key=lambda a: (not a.new, order.get(a.dimension, 3), -a.cents, a.name))


def _new(
    today: HistoryDay,
    present: Sequence[HistoryDay],
    name_of: Callable[[str], str],
    subjects: Callable[[HistoryDay], dict[Subject, tuple[int, str]]],
) -> list[Arrival]:
    """What spent today and on none of the trailing days (at least 3 of them archived)."""
    if len(present) < 3:  # too little history to call anything new
        return []
    # Nearly everything that spends today spent on the latest of the days too: one look-up
    # each there, and only the rest looked up day by day.
    latest = subjects(present[-1])
    found = []
    for subject, (cents, team) in subjects(today).items():
        dimension, name = subject
        if cents <= 0 or dimension is Dimension.DEPLOYMENT:
            continue
        if latest.get(subject, NOT_SPENT)[0] <= 0 and not any(
            _cents_on(day, subject) > 0 for day in present[:-1]
        ):
            label = name_of(name) if dimension is Dimension.KEY else name
            found.append(Arrival(dimension, label, True, cents, team))
    return found


def _gone_quiet(
    today: HistoryDay,
    earlier: Mapping[date, HistoryDay],
    settings: AnomalySettings,
    name_of: Callable[[str], str],
    subjects: Callable[[HistoryDay], dict[Subject, tuple[int, str]]],
) -> list[Arrival]:
    """What usually spends on a day like today, spent nothing today, and spent in the week
    before: said while its silence is under a week old.

    "Usually" is on more than half of today's usual days (`baseline`: the same weekday's, else
    the same kind of day's), averaging `quiet_floor` or more on them, so a key that only runs on
    weekdays is not missed on a Saturday.
    """
    usual = baseline(today.day, earlier, settings.min_baseline_days)
    if usual is None:
        return []
    last_week = [today.day - timedelta(days=n) for n in range(1, 8)]
    spent_today = {subject for subject, (value, _) in subjects(today).items() if value > 0}

    def cents(subject: Subject, day: date) -> int:
        return _cents_on(earlier[day], subject) if day in earlier else 0

    candidates = {
        subject
        for day in usual.days
        for subject in subjects(earlier[day]).keys() - spent_today  # few: most spend today
        if cents(subject, day) > 0 and subject[0] is not Dimension.DEPLOYMENT
    }
    floor_cents = settings.quiet_floor * 100
    found = []
    for subject in sorted(candidates, key=lambda s: (s[0].value, s[1])):
        spent_on = [d for d in usual.days if cents(subject, d) > 0]
        average = Decimal(sum(cents(subject, d) for d in spent_on)) / len(usual.days)
        latest = next((d for d in last_week if cents(subject, d) > 0), None)
        if len(spent_on) * 2 <= len(usual.days) or average < floor_cents or latest is None:
            continue
        dimension, name = subject
        label = name_of(name) if dimension is Dimension.KEY else name
        team = "" if dimension is Dimension.MODEL else subjects(earlier[latest])[subject][1]
        found.append(Arrival(dimension, label, False, average, team, usual))
    return found


def _budgets(
    today: HistoryDay,
    earlier: Mapping[date, HistoryDay],
    context: ReportContext,
    month: MonthToDate,
) -> list[BudgetStatus]:
    days = [month.month_start + timedelta(days=n) for n in range(today.day.day - 1)]
    days_left = month.days_in_month - today.day.day
    wanted: list[tuple[str, Decimal, Callable[[HistoryDay], int]]] = []
    if context.account_budget is not None:
        wanted.append(("", context.account_budget, lambda day: day.total_cents))
    for team, budget in sorted(context.team_budgets.items()):
        wanted.append((team, budget, partial(_team_cents, team=team)))
    found = []
    for scope, budget_usd, cents_of_day in wanted:
        budget = budget_usd * 100
        spent = cents_of_day(today) + sum(cents_of_day(earlier[d]) for d in days if d in earlier)
        projected = _project(spent, today, earlier, days_left, cents_of_day)
        if spent >= budget:
            state = BudgetState.OVER
        elif projected > budget:
            state = BudgetState.PROJECTED_OVER
        elif spent >= budget * context.budget_warn_share:
            state = BudgetState.NEAR
        else:
            state = BudgetState.OK
        found.append(BudgetStatus(scope, budget, spent, projected, days_left, state))
    return found
