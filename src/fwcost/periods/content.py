"""What a week's digest and a month's statement say: built from archived days, in cents.

Every figure is a sum of the archived days' cents (report/cents.py), so a team's statement total
is exactly the sum of its daily attributions. A week or month is its days added up
(`add_up_days`), then shown with the daily report's views (summary.period_views).

The statement's team table adds up to the month's total to the cent: the teams, the spend no team
carries (a row of its own, or shared out over the teams by their spend: FWCOST_UNATTRIBUTED), and
a rounding row (each day's bill is rounded to the cent on its own). reconcile.py says how that
total meets Fireworks' billing summary for the month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from fwcost.links import ReportLinks
from fwcost.periods.model import Cadence, Period
from fwcost.periods.reconcile import Reconciliation
from fwcost.report.attribution import AttributedDay
from fwcost.report.cents import cents_of, money, signed_money
from fwcost.report.groups import Amount, DeploymentGroup, KeyGroup, TeamGroups
from fwcost.report.notices import Notice, NoticeKind, Segment, Severity, budget_notice
from fwcost.report.notices import revised_notice as revised_day_notice
from fwcost.report.summary import (
    BILLED_ONLY_LABEL,
    UNATTRIBUTED_TEAM_LABEL,
    BudgetState,
    BudgetStatus,
    Restatement,
    Row,
    RowKind,
    View,
    period_views,
)
from fwcost.report.unattributed import UnattributedSpend, spread_cents

WEEKS_AVERAGED = 4  # the digest compares the week with the 4 before it
NEW_LOOKBACK_WEEKS = 4  # new: spent this week and in none of the 4 weeks before
ROUNDING_LABEL = "Rounding"
ROUNDING_DETAIL = "each day's bill is rounded to the cent on its own"
SPREAD_DETAIL = "incl. {share} of spend with no team, shared by spend"
MOVER_SHARE = Decimal("0.25")  # a team's week is news when it moved this much (and the floor)


@dataclass(frozen=True, slots=True)
class PeriodContext:
    account_id: str
    timezone: str
    code_version: str
    archive_location: str  # the period's folder in the archive
    top_n: int
    unattributed: UnattributedSpend
    account_budget: Decimal | None = None  # monthly USD
    team_budgets: Mapping[str, Decimal] = field(default_factory=dict)
    mover_floor: Decimal = Decimal(20)  # USD: a team's weekly move below this is not news
    links: ReportLinks | None = None


@dataclass(frozen=True, slots=True)
class Revision:
    """A statement re-issued after its month was restated: what each team was charged before."""

    issue: int
    previous_written_at: str
    changes: tuple[tuple[str, int, int], ...]  # (team label, was, now) cents, teams that moved


@dataclass(frozen=True, slots=True)
class Statement:
    """The month-end parts of a report: who carries spend with no team, the rounding, the bill."""

    unattributed: UnattributedSpend
    share: int  # a team's: its share of spend with no team; overall: all of it (spread or not)
    rounding: int  # overall: the month's total less the teams' rows (each day rounded on its own)
    reconciliation: Reconciliation | None  # overall only
    restated: tuple[Restatement, ...]  # the month's days restated after their daily reports
    issue: int = 1
    revision: Revision | None = None
    attachment_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PeriodReport:
    """One audience's digest or statement: the period's content, every figure in cents."""

    period: Period
    team: str | None
    context: PeriodContext
    total: AttributedDay = field(repr=False)  # the period's days added up (a team: its slice)
    cents: int  # what this report totals: own spend, plus shares and rounding where they apply
    views: Mapping[str, View]
    days: tuple[tuple[date, int], ...]
    previous: int | None  # the period before, None when some of its days are not archived
    earlier: tuple[tuple[Period, int | None], ...]  # oldest first, the previous one last
    notices: tuple[Notice, ...]
    budgets: tuple[BudgetStatus, ...]
    statement: Statement | None = None  # monthly only
    account_cents: int = 0  # a team's report: the account's total, for its part of it

    @property
    def average(self) -> Decimal | None:
        """The periods before this one, averaged over those fully archived."""
        known = [cents for _, cents in self.earlier if cents is not None]
        return Decimal(sum(known)) / len(known) if known else None


# ---- the period's days added up -----------------------------------------------------------


def add_up_days(days: Sequence[AttributedDay], label: date) -> AttributedDay:
    """The days as one: every group's amounts summed, so each view adds up as a day's does."""
    teams: dict[str, TeamGroups] = {}
    billed_only: dict[str, Amount] = defaultdict(Amount)
    for day in days:
        for name, groups in day.teams.items():
            _add_groups(teams.setdefault(name, TeamGroups()), groups)
        for category, amount in day.billed_only.items():
            billed_only[category].add(amount)
    billed = [day.billed_total for day in days if day.billed_total is not None]
    return AttributedDay(
        day=label,
        teams=teams,
        billed_only=dict(billed_only),
        total=sum((day.total for day in days), Decimal(0)),
        total_cents=sum(day.total_cents for day in days),
        billed_total=sum(billed, Decimal(0)) if billed else None,
        estimated_total=sum((day.estimated_total for day in days), Decimal(0)),
        estimated_cents=sum(day.estimated_cents for day in days),
        key_source="usage_costs"
        if days and all(d.key_source == "usage_costs" for d in days)
        else "allocation",
        notes=list(dict.fromkeys(note for day in days for note in day.notes)),
        gaps=list(dict.fromkeys(f"{day.day}: {gap}" for day in days for gap in day.gaps)),
    )


def _add_groups(into: TeamGroups, groups: TeamGroups) -> None:
    into.amount.add(groups.amount)
    for mine, theirs in (
        (into.projects, groups.projects),
        (into.environments, groups.environments),
        (into.models, groups.models),
    ):
        for name, amount in theirs.items():
            mine.setdefault(name, Amount()).add(amount)
    for key_id, key in groups.keys.items():
        target = into.keys.setdefault(key_id, KeyGroup(key.name))
        target.name = target.name or key.name
        target.amount.add(key.amount)
    for name, deployment in groups.deployments.items():
        into.deployments.setdefault(
            name, DeploymentGroup(deployment.accelerator, deployment.kind)
        ).amount.add(deployment.amount)


def team_cents(day: AttributedDay) -> dict[str, int]:
    """Each named team's cents, and "" for what no team carries (no annotation, billed only)."""
    cents = {name: groups.amount.cents for name, groups in day.teams.items() if name}
    cents[""] = day.total_cents - sum(cents.values())
    return cents


def charged(cents: Mapping[str, int], mode: UnattributedSpend) -> dict[str, int]:
    """What each team is charged: its own cents, plus its share of "" when spread. With no team
    spend to weigh by, nothing can be spread: "" stays a row of its own."""
    named = {team: value for team, value in sorted(cents.items()) if team}
    rest = cents.get("", 0)
    if mode is UnattributedSpend.SPREAD and rest and sum(named.values()) > 0:
        shares = spread_cents(named, rest)
        return {team: value + shares[team] for team, value in named.items()}
    return named | ({"": rest} if rest else {})


# ---- building a report --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodData:
    """What the archive holds for a period: its days, and the days of the periods before it."""

    period: Period
    days: Mapping[date, AttributedDay]  # every day of the period (missing days refused before)
    earlier: Sequence[tuple[Period, Mapping[date, AttributedDay]]]  # oldest first
    month_so_far: Mapping[date, AttributedDay]  # a digest: its last day's month, to that day
    restated: Sequence[Restatement] = ()


def build_reports(
    data: PeriodData,
    context: PeriodContext,
    *,
    reconciliation: Reconciliation | None = None,
    issue: int = 1,
    previous_issue: tuple[str, Mapping[str, int]] | None = None,
    attachment_names: Sequence[str] = (),
    max_team_reports: int = 50,
) -> list[PeriodReport]:
    """The overall report, then each named team's (the largest `max_team_reports` by spend)."""
    period = data.period
    total = add_up_days([data.days[d] for d in period.days], period.start)
    charges = charged(team_cents(total), context.unattributed)
    earlier = [(p, _earlier(p, days, context.unattributed)) for p, days in data.earlier]
    teams = sorted(
        (name for name in total.teams if name),
        key=lambda name: (-total.teams[name].amount.cents, name),
    )[:max_team_reports]
    statement = None
    if period.cadence is Cadence.MONTHLY:
        statement = Statement(
            unattributed=context.unattributed,
            share=team_cents(total)[""],
            rounding=_rounding(total),
            reconciliation=reconciliation,
            restated=tuple(data.restated),
            issue=issue,
            revision=_revision(issue, previous_issue, charges),
            attachment_names=tuple(attachment_names),
        )
    overall = PeriodReport(
        period=period,
        team=None,
        context=context,
        total=total,
        cents=total.total_cents + (statement.rounding if statement else 0),
        views=_overall_views(total, charges, statement, context.top_n, earlier),
        days=tuple((d, data.days[d].total_cents) for d in period.days),
        previous=_total_of(earlier[-1][1]) if earlier else None,
        earlier=tuple((p, _total_of(e)) for p, e in earlier),
        notices=tuple(_notices(data, None, context)),
        budgets=tuple(_budgets(data, None, context, charges)),
        statement=statement,
    )
    reports = [overall]
    for team in teams:
        reports.append(_team_report(team, data, context, total, charges, earlier, statement))
    return reports


def _team_report(
    team: str,
    data: PeriodData,
    context: PeriodContext,
    total: AttributedDay,
    charges: Mapping[str, int],
    earlier: Sequence[tuple[Period, _Earlier | None]],
    statement: Statement | None,
) -> PeriodReport:
    period = data.period
    own = total.for_team(team)
    share = charges.get(team, 0) - own.total_cents
    team_statement = None
    if statement is not None:
        team_statement = replace(
            statement, share=share, rounding=0, reconciliation=None, restated=(),
            revision=_team_revision(statement.revision, team),
        )  # fmt: skip
    return PeriodReport(
        period=period,
        team=team,
        context=replace(context, links=None),
        total=own,
        cents=charges.get(team, own.total_cents),
        views=period_views(own, context.top_n),
        days=tuple((d, _team_day(data.days[d], team)) for d in period.days),
        previous=_team_of(earlier[-1][1], team) if earlier else None,
        earlier=tuple((p, _team_of(c, team)) for p, c in earlier),
        notices=tuple(_notices(data, team, context)),
        budgets=tuple(_budgets(data, team, context, charges)),
        statement=team_statement,
        account_cents=total.total_cents + (statement.rounding if statement else 0),
    )


def _team_day(day: AttributedDay, team: str) -> int:
    groups = day.teams.get(team)
    return groups.amount.cents if groups else 0


def _total_of(earlier: _Earlier | None) -> int | None:
    return None if earlier is None else earlier.total


def _team_of(earlier: _Earlier | None, team: str) -> int | None:
    return None if earlier is None else earlier.charges.get(team, 0)


@dataclass(frozen=True, slots=True)
class _Earlier:
    total: int
    charges: Mapping[str, int]  # as the period's own report would charge them


def _earlier(
    period: Period, days: Mapping[date, AttributedDay], mode: UnattributedSpend
) -> _Earlier | None:
    """An earlier period's total and charges; None when one of its days is not archived."""
    if any(day not in days for day in period.days):
        return None
    total = add_up_days([days[d] for d in period.days], period.start)
    return _Earlier(total.total_cents, charged(team_cents(total), mode))


def _rounding(total: AttributedDay) -> int:
    """The month's billed dollars, rounded once, less the days' billed cents (each rounded on
    its own): a few cents either way, its own row so that the table adds up to the bill."""
    if total.billed_total is None:
        return 0
    billed_cents = total.total_cents - total.estimated_cents
    return cents_of(total.billed_total) - billed_cents


def _overall_views(
    total: AttributedDay,
    charges: Mapping[str, int],
    statement: Statement | None,
    top_n: int,
    earlier: Sequence[tuple[Period, _Earlier | None]],
) -> dict[str, View]:
    views = period_views(total, top_n)
    before = earlier[-1] if earlier else None
    if statement is None:
        return views | {"teams": _vs_before(views["teams"], before)}
    if statement.rounding:  # every table adds up to the statement's total
        views = {name: _with_rounding(view, statement.rounding) for name, view in views.items()}
    return views | {"teams": _vs_before(_statement_teams(total, charges, statement), before)}


def _vs_before(view: View, before: tuple[Period, _Earlier | None] | None) -> View:
    """Each team's change on the period before (as that period charged it), in its detail."""
    period, earlier = before if before is not None else (None, None)
    if period is None or earlier is None:
        return view
    rows = []
    for row in view.rows:
        was = earlier.charges.get(row.label) if row.kind is RowKind.ITEM else None
        if was:
            pct = f"{(row.cents - was) / Decimal(was) * 100:+.1f}".replace("-", "−")
            change = f"{pct}% vs {period.short}"
            row = replace(row, detail=" · ".join(filter(None, [row.detail, change])))
        rows.append(row)
    return replace(view, rows=tuple(rows))


def _with_rounding(view: View, cents: int) -> View:
    row = Row(ROUNDING_LABEL, cents, RowKind.NOT_PER_KEY, detail=ROUNDING_DETAIL)
    return replace(view, rows=(*view.rows, row), total=view.total + cents)


def _statement_teams(
    total: AttributedDay, charges: Mapping[str, int], statement: Statement
) -> View:
    """Every team, never folded: a statement charges each. Then the rows no team carries (unless
    spread) and the rounding, so that the rows add up to the month's total."""
    rows = []
    for team, cents in charges.items():
        if not team:
            continue
        share = cents - total.teams[team].amount.cents if team in total.teams else cents
        rows.append(
            Row(team, cents, detail=SPREAD_DETAIL.format(share=money(share)) if share else "")
        )
    rows.sort(key=lambda row: (-row.cents, row.label))
    if "" in charges:
        if "" in total.teams:
            rows.append(
                Row(
                    UNATTRIBUTED_TEAM_LABEL,
                    total.teams[""].amount.cents,
                    RowKind.UNATTRIBUTED,
                    detail="no team annotation",
                )
            )
        rows += [
            Row(f"{BILLED_ONLY_LABEL} ({category})", amount.cents, RowKind.BILLED_ONLY)
            for category, amount in sorted(total.billed_only.items())
        ]
    if statement.rounding:
        rows.append(
            Row(ROUNDING_LABEL, statement.rounding, RowKind.NOT_PER_KEY, detail=ROUNDING_DETAIL)
        )
    cents = sum(row.cents for row in rows)
    return View("teams", "By team", tuple(rows), cents, len(rows))


def _revision(
    issue: int, previous: tuple[str, Mapping[str, int]] | None, charges: Mapping[str, int]
) -> Revision | None:
    if issue <= 1 or previous is None:
        return None
    written_at, before = previous
    changes = tuple(
        (team or UNATTRIBUTED_TEAM_LABEL, before.get(team, 0), charges.get(team, 0))
        for team in sorted(set(before) | set(charges))
        if before.get(team, 0) != charges.get(team, 0)
    )
    return Revision(issue, written_at, changes)


def _team_revision(revision: Revision | None, team: str) -> Revision | None:
    if revision is None:
        return None
    return replace(revision, changes=tuple(c for c in revision.changes if c[0] == team))


# ---- what changed, budgets ----------------------------------------------------------------


def _notices(data: PeriodData, team: str | None, context: PeriodContext) -> list[Notice]:
    """A digest's news: teams that moved against the week before, new keys, models and teams,
    keys and teams gone quiet, restated days. A statement lists its restated days apart."""
    if data.period.cadence is not Cadence.WEEKLY:
        return []
    found = _movers(data, team, context)
    found += _arrivals(data, team)
    if team is None:
        found += [revised_day_notice(r) for r in data.restated]
    return found


def _subjects(days: Iterable[AttributedDay], team: str | None) -> dict[tuple[str, str], int]:
    """(kind, name) -> cents over the days: keys by name, models, and (overall) teams."""
    found: dict[tuple[str, str], int] = defaultdict(int)
    for day in days:
        for name, groups in day.teams.items():
            if team is not None and name != team:
                continue
            if team is None and name:
                found[("team", name)] += groups.amount.cents
            for key_id, key in groups.keys.items():
                if key_id and key_id != "unattributed":
                    found[("key", key.name or key_id)] += key.amount.cents
            for model, amount in groups.models.items():
                found[("model", model)] += amount.cents
    return found


def _arrivals(data: PeriodData, team: str | None) -> list[Notice]:
    earlier = [d for _, days in data.earlier[-NEW_LOOKBACK_WEEKS:] for d in days.values()]
    if len({d.day for d in earlier}) < 7 * NEW_LOOKBACK_WEEKS // 2:
        return []  # too little history to call anything new or gone
    now = _subjects(data.days.values(), team)
    before = _subjects(earlier, team)
    last_week = _subjects(data.earlier[-1][1].values(), team) if data.earlier else {}
    found = []
    for (kind, name), cents in sorted(now.items(), key=lambda item: -item[1]):
        if cents > 0 and before.get((kind, name), 0) <= 0:
            words = f" spent {money(cents)} in its first week"
            found.append(_info(NoticeKind.NEW, f"New {kind} ", name, words))
    for (kind, name), cents in sorted(last_week.items(), key=lambda item: -item[1]):
        if kind != "model" and cents >= 100 and now.get((kind, name), 0) <= 0:
            words = f" went quiet ({money(cents)} the week before, nothing this week)"
            found.append(_info(NoticeKind.QUIET, f"{kind.title()} ", name, words))
    return found


def _info(kind: NoticeKind, lead: str, name: str, words: str) -> Notice:
    return Notice(kind, Severity.INFO, (Segment(lead), Segment(name, True), Segment(words)))


def _movers(data: PeriodData, team: str | None, context: PeriodContext) -> list[Notice]:
    """Teams (a team's report: the team) whose week moved a quarter or more, and the floor."""
    if not data.earlier:
        return []
    previous_period, previous_days = data.earlier[-1]
    earlier = _earlier(previous_period, previous_days, UnattributedSpend.ROW)
    if earlier is None:
        return []
    before = earlier.charges
    now = team_cents(add_up_days(list(data.days.values()), data.period.start))
    floor = context.mover_floor * 100
    found = []
    names = [team] if team is not None else sorted(name for name in now if name)
    for name in names:
        was, cents = before.get(name, 0), now.get(name, 0)
        if was and abs(cents - was) >= floor and abs(cents - was) >= was * MOVER_SHARE:
            pct = (cents - was) / Decimal(was) * 100
            words = (
                f" spent {money(cents)}, {signed_money(cents - was)} "
                f"({f'{pct:+.0f}'.replace('-', '−')}%) on the week before ({money(was)})"
            )
            severity = Severity.WARNING if cents > was else Severity.INFO
            found.append(
                Notice(NoticeKind.ANOMALY, severity, (Segment(name, True), Segment(words)))
            )
    return found


def _budgets(
    data: PeriodData, team: str | None, context: PeriodContext, charges: Mapping[str, int]
) -> list[BudgetStatus]:
    """A statement: each budget against the month's charge. A digest: the month of the week's
    last day, spent to that day and on pace (the week's daily average for the days left)."""
    wanted: list[tuple[str, Decimal]] = []
    if team is None and context.account_budget is not None:
        wanted.append(("", context.account_budget))
    for name, budget in sorted(context.team_budgets.items()):
        if team is None or name == team:
            wanted.append((name, budget))
    found = []
    for scope, budget_usd in wanted:
        budget = budget_usd * 100
        if data.period.cadence is Cadence.MONTHLY:
            spent = sum(charges.values()) if not scope else charges.get(scope, 0)
            projected, days_left = Decimal(spent), 0
        else:
            spent = sum(_scope_cents(day, scope) for day in data.month_so_far.values())
            week = [_scope_cents(data.days[d], scope) for d in data.period.days]
            month = Period.month_of(data.period.end)
            days_left = (month.end - data.period.end).days
            projected = spent + Decimal(sum(week)) / len(week) * days_left
        found.append(
            BudgetStatus(
                scope, budget, spent, projected, days_left, _state(spent, projected, budget)
            )
        )
    return found


def _scope_cents(day: AttributedDay, scope: str) -> int:
    return day.total_cents if not scope else _team_day(day, scope)


def _state(spent: int, projected: Decimal, budget: Decimal) -> BudgetState:
    if spent >= budget:
        return BudgetState.OVER
    if projected > budget:
        return BudgetState.PROJECTED_OVER
    if spent >= budget * Decimal("0.8"):
        return BudgetState.NEAR
    return BudgetState.OK


def budget_notices(report: PeriodReport) -> list[Notice]:
    """A digest's budgets worth saying (nearly spent, on pace to be over, over), worst first."""
    month = f"{report.period.end:%B}"
    order = (BudgetState.OVER, BudgetState.PROJECTED_OVER, BudgetState.NEAR)
    budgets = [b for b in report.budgets if b.state in order]
    return [budget_notice(b, month) for b in sorted(budgets, key=lambda b: order.index(b.state))]
