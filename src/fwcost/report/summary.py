"""What the report says: views that add up, change, trends, anomalies, budgets, restatements.

Every amount here is in cents. A figure that is a sum (a row, a total, month to date, the day
before) is an int: a sum of the attributed rows' cents (cents.py), so it shows the same cents
wherever it appears. A figure worked out from sums (an average, a median, a projection, a budget)
is a Decimal number of cents, rounded only when it is printed. Percentages come from cents.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from statistics import median

from fwcost.config import (
    DEFAULT_ANOMALY_DOLLAR_FLOOR,
    DEFAULT_ANOMALY_MAD_MULTIPLIER,
    DEFAULT_ANOMALY_MIN_RATIO,
    DEFAULT_TOP_N,
)
from fwcost.dates import DayBounds
from fwcost.links import ReportLinks
from fwcost.report.attribution import AttributedDay
from fwcost.report.cents import cents_of, money
from fwcost.report.groups import Amount, TeamGroups

TREND_DAYS = 14
AVERAGE_DAYS = 7
MAD_TO_SIGMA = Decimal("1.4826")  # makes the MAD comparable to a standard deviation
SECONDS_PER_HOUR = Decimal(3600)

# Row kinds: how a renderer should present a row.
ITEM, UNATTRIBUTED, BILLED_ONLY, NOT_PER_KEY, OTHER = (
    "item",
    "unattributed",
    "billed_only",
    "not_per_key",
    "other",
)
UNATTRIBUTED_TEAM_LABEL = "Unattributed"
BILLED_ONLY_LABEL = "Billed, not in usage data"


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    """Unusual: above median + k·MAD of the trailing days, by a ratio and a dollar floor."""

    mad_multiplier: Decimal = DEFAULT_ANOMALY_MAD_MULTIPLIER
    min_ratio: Decimal = DEFAULT_ANOMALY_MIN_RATIO
    dollar_floor: Decimal = DEFAULT_ANOMALY_DOLLAR_FLOOR  # USD
    min_history_days: int = 7
    quiet_floor: Decimal = Decimal(1)  # average USD a day below which going quiet is not news


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
    kind: str = ITEM
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
        return sum(row.count for row in self.rows if row.kind == OTHER)


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


@dataclass(frozen=True, slots=True)
class Anomaly:
    dimension: str  # "account", "team", "key", "model", "deployment"
    name: str
    cents: int
    median: Decimal  # cents
    team: str = ""
    driver_model: str = ""  # for a team: the model and key whose spend grew most
    driver_key: str = ""

    @property
    def ratio(self) -> Decimal | None:
        return None if self.median == 0 else self.cents / self.median


@dataclass(frozen=True, slots=True)
class Arrival:
    """A key, model or team that spent for the first time, or stopped spending."""

    dimension: str
    name: str
    new: bool  # False: gone quiet
    cents: int | Decimal  # today's cents (new) or its recent daily average (gone quiet)
    team: str = ""


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    scope: str  # team name, or "" for the whole account
    budget: Decimal  # cents, monthly
    spent: int  # cents: the sum of the month's days
    projected: Decimal  # cents
    days_left: int
    state: str  # "ok", "warn" or "over"

    @property
    def share(self) -> Decimal:
        return self.spent / self.budget if self.budget else Decimal(0)

    @property
    def projected_share(self) -> Decimal:
        return self.projected / self.budget if self.budget else Decimal(0)


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
    history: Mapping[date, AttributedDay] = field(repr=False, compare=False)

    @property
    def team(self) -> str | None:
        return self.context.team

    @property
    def is_empty(self) -> bool:
        return self.today.is_empty


def summarize(
    today: AttributedDay, history: Mapping[date, AttributedDay], context: ReportContext
) -> DailySummary:
    """The report's content for `today`; `history` holds earlier days (any may be missing)."""
    earlier = {day: value for day, value in history.items() if day < today.day}
    trailing = [today.day - timedelta(days=n) for n in range(TREND_DAYS, 0, -1)]
    month = _month_to_date(today, earlier, context)
    return DailySummary(
        day=today.day,
        context=context,
        totals=_totals(today),
        views=_views(today, earlier, context),
        change=_change(
            today.total_cents, [earlier[d].total_cents if d in earlier else None for d in trailing]
        ),
        month=month,
        trend=(
            *((d, earlier[d].total_cents if d in earlier else None) for d in trailing[1:]),
            (today.day, today.total_cents),
        ),
        anomalies=tuple(_anomalies(today, earlier, trailing, context.anomaly)),
        arrivals=tuple(_arrivals(today, earlier, trailing, context.anomaly)),
        budgets=tuple(_budgets(today, earlier, context, month)),
        restatements=tuple(sorted(context.restatements, key=lambda r: r.day)),
        gaps=tuple(dict.fromkeys([*context.gaps, *today.gaps])),
        missing_days=tuple(
            sorted({d for d in trailing if d not in earlier} | set(month.days_missing))
        ),
        has_bill=today.has_bill,
        key_source=today.key_source,
        notes=tuple(today.notes),
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

    With `limit`, only that many teams, the largest by the day's cost (see omitted_teams_note).
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
            ),
        )
        for team in teams
    }


def omitted_teams_note(summary: DailySummary, limit: int) -> str | None:
    """The overall report's line for the teams beyond `limit`, which get no report of their own."""
    omitted = _teams_by_cost(summary)[limit:]
    if not omitted:
        return None
    largest = money(max(_team_cents(summary.today, team) for team in omitted))
    if len(omitted) == 1:
        who = f"1 more team ({largest} today) has"
    else:
        who = f"{len(omitted)} more teams (at most {largest} each) have"
    return f"{who} no report of their own; raise FWCOST_MAX_TEAM_REPORTS to send them one."


def _teams_by_cost(summary: DailySummary) -> list[str]:
    """Named teams with spend or a budget, the day's largest first (then by name)."""
    teams = {name for name in summary.today.teams if name} | set(summary.context.team_budgets)
    return sorted(teams, key=lambda team: (-_team_cents(summary.today, team), team))


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


def _month_to_date(
    today: AttributedDay, earlier: Mapping[date, AttributedDay], context: ReportContext
) -> MonthToDate:
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
    today: AttributedDay,
    earlier: Mapping[date, AttributedDay],
    days_left: int,
    cents_of_day: Callable[[AttributedDay], int] = lambda day: day.total_cents,
) -> Decimal:
    """Month-end pace in cents: spent so far plus the last 7 days' average per day left.

    The 7 days may cross into last month, so the first of the month still projects sensibly.
    """
    week = [today.day - timedelta(days=n) for n in range(AVERAGE_DAYS)]
    values = [cents_of_day(today)] + [cents_of_day(earlier[d]) for d in week[1:] if d in earlier]
    return spent + Decimal(sum(values)) / len(values) * days_left


# ---- views ---------------------------------------------------------------------------------


def _views(
    today: AttributedDay, earlier: Mapping[date, AttributedDay], context: ReportContext
) -> dict[str, View]:
    trailing = [today.day - timedelta(days=n) for n in range(TREND_DAYS - 1, 0, -1)]

    def history_of(cents_of_day: Callable[[AttributedDay], int]) -> tuple[int | None, ...]:
        return (
            *(cents_of_day(earlier[d]) if d in earlier else None for d in trailing),
            cents_of_day(today),
        )

    builder = _ViewBuilder(today, context.top_n, history_of)
    return {
        "teams": builder.teams(),
        "projects": builder.by_annotation("projects", "Projects", "(no project)"),
        "environments": builder.by_annotation("environments", "Environments", "(no environment)"),
        "keys": builder.keys(),
        "models": builder.models(),
        "deployments": builder.deployments(),
    }


class _ViewBuilder:
    def __init__(
        self,
        today: AttributedDay,
        top_n: int,
        history_of: Callable[[Callable[[AttributedDay], int]], tuple[int | None, ...]],
    ) -> None:
        self.today = today
        self.top_n = top_n
        self.history_of = history_of

    def _billed_only_rows(self) -> list[Row]:
        return [
            Row(f"{BILLED_ONLY_LABEL} ({category})", amount.cents, BILLED_ONLY)
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
                    ITEM if name else UNATTRIBUTED,
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
            Row(name or empty_label, amount.cents, ITEM if name else UNATTRIBUTED)
            for name, amount in _merge(self.today.teams.values(), attribute).items()
        ]
        return self._fold(attribute, title, rows + self._billed_only_rows())

    def keys(self) -> View:
        merged: dict[str, Amount] = defaultdict(Amount)
        names: dict[str, str] = {}
        team_cents: dict[str, dict[str, int]] = defaultdict(dict)
        for team, groups in self.today.teams.items():
            for key_id, key in groups.keys.items():
                merged[key_id].add(key.amount)
                names[key_id] = names.get(key_id) or key.name
                team_cents[key_id][team] = key.amount.cents
        rows = []
        for key_id, amount in merged.items():
            if not key_id:
                rows.append(Row("Not per key", amount.cents, NOT_PER_KEY, detail="GPU time"))
                continue
            teams = team_cents[key_id]
            main_team = max(teams, key=lambda t: (teams[t], t))
            rows.append(
                Row(
                    names[key_id] or short_key_id(key_id),
                    amount.cents,
                    UNATTRIBUTED if key_id == "unattributed" else ITEM,
                    detail=short_key_id(key_id),
                    team=main_team or UNATTRIBUTED_TEAM_LABEL,
                    estimated=bool(amount.estimated),
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
            rows.append(Row("Serverless and other", rest, NOT_PER_KEY))
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
            (row for row in rows if row.kind == ITEM), key=lambda r: (-r.cents, r.label)
        )
        special = sorted((row for row in rows if row.kind != ITEM), key=lambda r: -r.cents)
        shown = ordinary[: self.top_n] + special
        hidden = len(ordinary) - self.top_n
        if hidden > 0:
            rest = self.today.total_cents - sum(row.cents for row in shown)
            shown.insert(self.top_n, Row(f"{hidden} others", rest, OTHER, count=hidden))
        return View(name, title, tuple(shown), self.today.total_cents, len(rows))


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


def _team_cents(day: AttributedDay, team: str) -> int:
    groups = day.teams.get(team)
    return groups.amount.cents if groups else 0


def _average(values: Sequence[int | None]) -> Decimal | None:
    """The trailing 7 days' average of the days present, in cents."""
    present = [value for value in values[-AVERAGE_DAYS:] if value is not None]
    return Decimal(sum(present)) / len(present) if present else None


def _median(values: Iterable[int | Decimal]) -> Decimal:
    return Decimal(median(Decimal(value) for value in values))


# ---- anomalies, arrivals, budgets ----------------------------------------------------------


def _subjects(day: AttributedDay) -> dict[tuple[str, str], tuple[int, str]]:
    """(dimension, name) -> (cents, owning team) for everything a change can be noticed on.

    Keys and deployments belong to the first team seen with them; models to no team.
    """
    found: dict[tuple[str, str], tuple[int, str]] = {}

    def add(subject: tuple[str, str], cents: int, team: str) -> None:
        before, owner = found.get(subject, (0, team))
        found[subject] = (before + cents, owner)

    for team, groups in day.teams.items():
        if team:
            add(("team", team), groups.amount.cents, team)
        for key_id, key in groups.keys.items():
            if key_id and key_id != "unattributed":
                add(("key", key_id), key.amount.cents, team)
        for model, amount in groups.models.items():
            add(("model", model), amount.cents, "")
        for name, deployment in groups.deployments.items():
            add(("deployment", name), deployment.amount.cents, team)
    return found


def _key_names(day: AttributedDay) -> dict[str, str]:
    return {
        key_id: key.name
        for groups in day.teams.values()
        for key_id, key in groups.keys.items()
        if key.name
    }


def _anomalies(
    today: AttributedDay,
    earlier: Mapping[date, AttributedDay],
    trailing: Sequence[date],
    settings: AnomalySettings,
) -> list[Anomaly]:
    present = [earlier[d] for d in trailing if d in earlier]
    if len(present) < settings.min_history_days:
        return []
    past = [_subjects(day) for day in present]
    names = _key_names(today)
    subjects = {("account", ""): (today.total_cents, "")} | _subjects(today)
    floor_cents = settings.dollar_floor * 100
    found = []
    for (dimension, name), (cents, team) in subjects.items():
        if dimension == "account":
            values = [day.total_cents for day in present]
        else:
            values = [p.get((dimension, name), (0, ""))[0] for p in past]
        middle = _median(values)
        spread = _median(abs(v - middle) for v in values) * MAD_TO_SIGMA
        if (
            cents > middle + settings.mad_multiplier * spread
            and cents >= middle * settings.min_ratio
            and cents - middle >= floor_cents
        ):
            label = names.get(name, name) if dimension == "key" else name
            found.append(Anomaly(dimension, label, cents, middle, team))
    return _explained(found, today, present, names)


def _explained(
    found: list[Anomaly],
    today: AttributedDay,
    present: Sequence[AttributedDay],
    names: Mapping[str, str],
) -> list[Anomaly]:
    """Say which model and key drove each team's jump, and drop the lines that repeat it."""
    teams = {a.name: a for a in found if a.dimension == "team"}
    for team, anomaly in teams.items():
        groups = today.teams[team]
        past = [day.teams.get(team) or TeamGroups() for day in present]
        model = _biggest_rise(
            {m: a.cents for m, a in groups.models.items()},
            [{m: a.cents for m, a in p.models.items()} for p in past],
        )
        key = _biggest_rise(
            {k: g.amount.cents for k, g in groups.keys.items() if k},
            [{k: g.amount.cents for k, g in p.keys.items()} for p in past],
        )
        teams[team] = replace(anomaly, driver_model=model, driver_key=names.get(key, key))
    explained_models = {a.driver_model for a in teams.values()}
    kept = [
        teams.get(a.name, a) if a.dimension == "team" else a
        for a in found
        if not (a.dimension == "account" and teams)
        and not (a.dimension == "key" and a.team in teams)
        and not (a.dimension == "model" and a.name in explained_models)
    ]
    return sorted(kept, key=lambda a: (a.dimension != "account", -(a.cents - a.median)))


def _biggest_rise(today: Mapping[str, int], past: Sequence[Mapping[str, int]]) -> str:
    rises = {name: cents - _median(p.get(name, 0) for p in past) for name, cents in today.items()}
    best = max(rises, key=lambda name: (rises[name], name), default="")
    return best if best and rises[best] > 0 else ""


def _arrivals(
    today: AttributedDay,
    earlier: Mapping[date, AttributedDay],
    trailing: Sequence[date],
    settings: AnomalySettings,
) -> list[Arrival]:
    present = [earlier[d] for d in trailing if d in earlier]
    if len(present) < 3:  # too little history to call anything new
        return []
    now = {k: v for k, v in _subjects(today).items() if v[0] > 0 and k[0] != "deployment"}
    seen = [_subjects(day) for day in present]
    names = _key_names(today)
    for day in present:
        names = _key_names(day) | names
    found = []
    for (dimension, name), (cents, team) in now.items():
        if not any(past.get((dimension, name), (0, ""))[0] > 0 for past in seen):
            label = names.get(name, name) if dimension == "key" else name
            found.append(Arrival(dimension, label, True, cents, team))
    last_week = seen[-AVERAGE_DAYS:]
    regulars: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for past in last_week:
        for subject, value in past.items():
            if value[0] > 0 and subject[0] != "deployment":
                regulars[subject].append(value)
    quiet_floor_cents = settings.quiet_floor * 100
    for (dimension, name), values in regulars.items():
        usual = Decimal(sum(v for v, _ in values)) / len(last_week)
        if (dimension, name) not in now and len(values) >= 3 and usual >= quiet_floor_cents:
            label = names.get(name, name) if dimension == "key" else name
            found.append(Arrival(dimension, label, False, usual, values[-1][1]))
    order = {"team": 0, "key": 1, "model": 2}
    return sorted(found, key=lambda a: (not a.new, order.get(a.dimension, 3), -a.cents, a.name))


def _budgets(
    today: AttributedDay,
    earlier: Mapping[date, AttributedDay],
    context: ReportContext,
    month: MonthToDate,
) -> list[BudgetStatus]:
    days = [month.month_start + timedelta(days=n) for n in range(today.day.day - 1)]
    days_left = month.days_in_month - today.day.day
    wanted: list[tuple[str, Decimal, Callable[[AttributedDay], int]]] = []
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
            state = "over"
        elif projected > budget or spent >= budget * context.budget_warn_share:
            state = "warn"
        else:
            state = "ok"
        found.append(BudgetStatus(scope, budget, spent, projected, days_left, state))
    return found
