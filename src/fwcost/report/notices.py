"""What changed, and what a report lacks, as typed notices: the same values for every channel.

summary.py finds the facts (an unusual day, a budget's state, a revised day); here each is worded
once, as a Notice: its kind, its severity and its words, in segments that set names apart from
the words around them. The HTML, text and Slack renderers each choose a kind's marker, a
severity's colour and the escaping their channel needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from fwcost.imports.day_export import Difference
from fwcost.report.cents import money, money_whole, signed_money
from fwcost.report.summary import (
    Anomaly,
    Arrival,
    BudgetState,
    BudgetStatus,
    DailySummary,
    Dimension,
    OmittedTeams,
    Restatement,
)


class Severity(Enum):
    ALERT = "alert"  # a budget over, or on pace to be: the first notice, in the alert colour
    WARNING = "warning"  # unusual spend, a budget nearly spent, data missing
    INFO = "info"  # new, gone quiet, revised; teams without a report of their own


class NoticeKind(Enum):
    BUDGET_OVER = "budget_over"
    BUDGET_PROJECTED_OVER = "budget_projected_over"
    BUDGET_NEAR = "budget_near"
    ANOMALY = "anomaly"
    NEW = "new"
    QUIET = "quiet"
    REVISED = "revised"
    EXPORT_DIFFERS = "export_differs"  # an imported firectl export disagrees with the API
    TEAMS_OMITTED = "teams_omitted"
    # What the report lacks: shown apart, as "Incomplete data"
    NO_BILL = "no_bill"
    GAP = "gap"  # a part of the day's data Fireworks did not give
    MAYBE_LATE = "maybe_late"  # an empty day after days with spend
    MISSING_DAYS = "missing_days"  # earlier days with no archived data


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    strong: bool = False  # a name from the data: set apart; every segment is escaped alike


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    severity: Severity
    segments: tuple[Segment, ...]

    @property
    def plain(self) -> str:
        return "".join(segment.text for segment in self.segments)


WORDS = {  # (one, several)
    Dimension.TEAM: ("team", "teams"),
    Dimension.KEY: ("key", "keys"),
    Dimension.MODEL: ("model", "models"),
    Dimension.DEPLOYMENT: ("deployment", "deployments"),
}
SEVERITY_ORDER = (Severity.ALERT, Severity.WARNING, Severity.INFO)
BUDGET_KINDS = {  # the worst first
    BudgetState.OVER: (NoticeKind.BUDGET_OVER, Severity.ALERT),
    BudgetState.PROJECTED_OVER: (NoticeKind.BUDGET_PROJECTED_OVER, Severity.ALERT),
    BudgetState.NEAR: (NoticeKind.BUDGET_NEAR, Severity.WARNING),
}
BUDGET_ORDER = {state: rank for rank, state in enumerate(BUDGET_KINDS)}


def what_changed(s: DailySummary) -> list[Notice]:
    """The day's news, one line per event: budgets over (or on pace to be) first, then by
    severity, each severity in the order found."""
    month = f"{s.day:%B}"
    budgets = [b for b in s.budgets if b.state in BUDGET_KINDS]
    notices = [
        budget_notice(b, month) for b in sorted(budgets, key=lambda b: BUDGET_ORDER[b.state])
    ]
    notices += [_anomaly(a) for a in s.anomalies]
    notices += [_arrival(a) for a in s.arrivals]
    notices += [revised_notice(r) for r in s.restatements]
    if s.context.export_differences:
        notices.append(_export_differs(s.context.export_differences))
    return sorted(notices, key=lambda n: SEVERITY_ORDER.index(n.severity))


def incomplete_data(s: DailySummary) -> list[Notice]:
    """What is missing from this report, in plain words; shown before anything else, and never
    cut for room (teams without a report of their own are said here, not among the news)."""
    found = [] if s.omitted_teams is None else [_omitted(s.omitted_teams)]
    if not s.has_bill:
        found.append(
            _warning(
                NoticeKind.NO_BILL,
                "No bill for this day: Fireworks' billing summary did not answer, so every "
                "dollar here is a price-book estimate.",
            )
        )
    found += [_warning(NoticeKind.GAP, gap) for gap in s.gaps]
    if suspect_empty(s):
        found.append(
            _warning(
                NoticeKind.MAYBE_LATE,
                "Fireworks reported no usage and no charges for this day, although the days "
                f"before averaged {money(s.change.average or Decimal(0))} a day: its data may "
                "still be arriving (it can lag a day or more). Tomorrow's run fetches this day "
                "again and reports any change as a revision.",
            )
        )
    if s.missing_days:
        days = ", ".join(f"{d.day} {d:%b}" for d in s.missing_days[:6])
        more = f" and {len(s.missing_days) - 6} more" if len(s.missing_days) > 6 else ""
        found.append(
            _warning(
                NoticeKind.MISSING_DAYS,
                f"No archived data for {len(s.missing_days)} earlier day(s) ({days}{more}): "
                "averages, trends and month to date use the days present.",
            )
        )
    return found


def suspect_empty(s: DailySummary) -> bool:
    """An empty day after days with spend is more likely data still arriving than a quiet day."""
    return s.is_empty and bool(s.change.average)


def restatement_text(r: Restatement) -> str:
    """e.g. "21 Nov revised +$12.40"."""
    return f"{r.day.day} {r.day:%b} revised {signed_money(r.delta_cents)}"


def _warning(kind: NoticeKind, text: str) -> Notice:
    return Notice(kind, Severity.WARNING, (Segment(text),))


def budget_notice(b: BudgetStatus, month: str) -> Notice:
    """e.g. "ads is projected at $9,400 against its $8,000 November budget (118%)"."""
    kind, severity = BUDGET_KINDS[b.state]
    who = Segment(b.scope, True) if b.scope else Segment("The account")
    budget = f"{money_whole(b.budget)} {month} budget"
    if b.state is BudgetState.OVER:
        words = f" is over its {budget}: {money(b.spent)} spent{_days_left(b.days_left)}"
    elif b.state is BudgetState.PROJECTED_OVER:
        words = (
            f" is projected at {money_whole(b.projected)} against its {budget}"
            f" ({b.projected_share:.0%})"
        )
    else:
        words = (
            f" has spent {money(b.spent)} of its {budget} ({b.share:.0%}),"
            f" on pace for {money_whole(b.projected)}"
        )
    return Notice(kind, severity, (who, Segment(words)))


def _days_left(days: int) -> str:
    if days == 0:
        return ", on the month's last day"
    return f" with {days} day{'s' if days != 1 else ''} left"


def _anomaly(a: Anomaly) -> Notice:
    """e.g. "search spent $612.40, 2.9× its usual Sunday ($211.17) — mostly kimi-k2p6 via key
    prod-eng-12": the event and what drove it, on one line."""
    usual = a.baseline.usual_day
    if a.ratio:
        how = f"{a.ratio:.1f}× its usual {usual} ({money(a.median)})"
    else:
        how = f"up from nothing on a usual {usual}"
    spent = Segment(f" spent {money(a.cents)}, {how}")
    segments = (*_subject(a.dimension, a.name, a.team), spent, *_drivers(a))
    return Notice(NoticeKind.ANOMALY, Severity.WARNING, segments)


def _subject(dimension: Dimension, name: str, team: str) -> tuple[Segment, ...]:
    """A team by its name alone ("search spent ..."), anything else with its kind and team."""
    if dimension is Dimension.ACCOUNT:
        return (Segment("The account"),)
    if dimension is Dimension.TEAM:
        return (Segment(name, True),)
    owner = (Segment(f" ({team})"),) if team else ()
    return (Segment(f"{WORDS[dimension][0].title()} "), Segment(name, True), *owner)


def _drivers(a: Anomaly) -> tuple[Segment, ...]:
    if a.also:  # e.g. "— with kimi-k2p6 and 4 more models up"
        (dimension, name), rest = a.also[0], a.also[1:]
        kinds = {d for d, _ in rest}
        what = f" {WORDS[kinds.pop()][len(rest) > 1]}" if len(kinds) == 1 else ""
        more = f" and {len(rest)} more{what}" if rest else ""
        kind = "key " if dimension is Dimension.KEY else ""
        return (Segment(f" — with {kind}"), Segment(name, True), Segment(f"{more} up"))
    if a.driver_team:
        return (Segment(" — mostly "), Segment(a.driver_team, True))
    if not (a.driver_model or a.driver_key):
        return ()
    parts = [Segment(" — mostly ")]
    if a.driver_model:
        parts.append(Segment(a.driver_model, True))
    if a.driver_key:
        parts += [Segment(" via key " if a.driver_model else "key "), Segment(a.driver_key, True)]
    return tuple(parts)


def _arrival(a: Arrival) -> Notice:
    word = WORDS[a.dimension][0]
    lead = f"New {word} " if a.new else f"{word.title()} "
    body = [Segment(lead), Segment(a.name, True)]
    if a.team and a.dimension is not Dimension.TEAM:
        body.append(Segment(f" ({a.team})"))
    if a.new:
        body.append(Segment(f" spent {money(a.cents)} on its first day"))
        return Notice(NoticeKind.NEW, Severity.INFO, tuple(body))
    usual = a.baseline.usual_day if a.baseline else "day"
    body.append(Segment(f" went quiet (usually {money(a.cents)} a {usual})"))
    return Notice(NoticeKind.QUIET, Severity.INFO, tuple(body))


def revised_notice(r: Restatement) -> Notice:
    text = f"{restatement_text(r)} (now {money(r.new_cents)}, late data since it was reported)"
    return Notice(NoticeKind.REVISED, Severity.INFO, (Segment(text),))


def _export_differs(found: Sequence[Difference]) -> Notice:
    """e.g. "The firectl export of this day differs from the billing API: prompt tokens ..."."""
    text = (
        "The firectl export of this day differs from the billing API: "
        + "; ".join(d.text for d in found)
        + ". The report's figures are the API's."
    )
    return _warning(NoticeKind.EXPORT_DIFFERS, text)


def _omitted(omitted: OmittedTeams) -> Notice:
    largest = money(omitted.largest_cents)
    if omitted.count == 1:
        who = f"1 more team ({largest} today) has"
    else:
        who = f"{omitted.count} more teams (at most {largest} each) have"
    text = f"{who} no report of their own; raise FWCOST_MAX_TEAM_REPORTS to send them one."
    return Notice(NoticeKind.TEAMS_OMITTED, Severity.INFO, (Segment(text),))
