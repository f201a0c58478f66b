"""The use case: fetch → normalize → attribute → archive → report → deliver.

The Lambda handler and the CLI both call `run_report_day` and `run_backfill`; only the adapters
in `Dependencies` differ (S3 or a folder, Slack and SES or files).

Only complete days are fetched for a report (fwcost.dates): an archived day whose data was
fetched before its end plus the settle margin (a run for a day still in progress, a backfill
that reached into the future) counts as missing, so it is fetched again and rewritten.

A dry run fetches, renders and plans delivery like any run, and writes nothing into the
archive (no raw bodies, CSV, attribution, manifest, revisions, reports or ledger records): the
archive holds what was fetched and sent, and a preview is neither. It still reads the archive,
for the trends and for the revisions it would record.

Order and failure: the archive is read first (which days are complete): if it can't be read,
the run stops there, before fetching, since neither trends nor the delivery ledger (kept in the
same bucket) could be trusted. Raw responses are archived as soon as they arrive, then each
day's CSV, attribution and manifest. The report is rendered from memory, so a failing archive
write does not stop it from going out; delivery goes on past a failing destination; and
whatever failed is raised at the very end, so Lambda retries (the ledger skips what was
already delivered).
"""

from __future__ import annotations

import difflib
import gc
import hashlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from fwcost import __version__
from fwcost.archive import ArchiveError, DayArchive, usage_csv
from fwcost.archive.day_archive import ArchivedRequest
from fwcost.archive.links import ObjectLinks
from fwcost.config import (
    DEFAULT_EXPORT_DIFFERENCE_PERCENT,
    DEFAULT_MAX_TEAM_REPORTS,
    DEFAULT_TOP_N,
    ConfigError,
)
from fwcost.dates import (
    DEFAULT_SETTLE_HOURS,
    MAX_WINDOW_DAYS,
    day_bounds,
    day_runs,
    days_between,
    rfc3339,
    windows,
)
from fwcost.delivery import (
    DeliveryLedger,
    DeliveryOutcome,
    OutgoingReport,
    RoutingConfig,
    SecondsLeft,
    Senders,
    deliver_reports,
)
from fwcost.imports.day_export import export_of_day
from fwcost.links import Link
from fwcost.model import DayUsage, WindowPull
from fwcost.publishing import LinkTo, outgoing_reports, report_files
from fwcost.report.attribution import AttributedDay, HistoryDay, attribute_day
from fwcost.report.pricebook import PriceBook
from fwcost.report.summary import (
    AnomalySettings,
    ReportContext,
    Restatement,
    summarize,
)
from fwcost.report.unattributed import UnattributedSpend

# Earlier days a report compares against: the 14-day trend, the month to date, the usual days
# of the 28 before (summary.BASELINE_DAYS) and the teams a budget may name (check_budget_teams).
HISTORY_DAYS = 30


class UsageSource(Protocol):
    """What the pipeline needs from Fireworks (FireworksClient in production)."""

    def fetch_window(self, start: date, end: date, tz: ZoneInfo) -> WindowPull: ...


@dataclass(frozen=True, slots=True)
class ReportSettings:
    top_n: int = DEFAULT_TOP_N
    anomaly: AnomalySettings = field(default_factory=AnomalySettings)
    account_budget: Decimal | None = None
    team_budgets: Mapping[str, Decimal] = field(default_factory=dict)
    max_team_reports: int = DEFAULT_MAX_TEAM_REPORTS
    export_difference_percent: Decimal = DEFAULT_EXPORT_DIFFERENCE_PERCENT
    unattributed: UnattributedSpend = UnattributedSpend.ROW  # in a month's statement


@dataclass(frozen=True, slots=True)
class Delivery:
    routing: RoutingConfig
    ledger: DeliveryLedger
    senders: Senders


@dataclass(frozen=True, slots=True)
class Dependencies:
    source: UsageSource
    archive: DayArchive
    prices: PriceBook
    timezone: ZoneInfo
    report: ReportSettings = field(default_factory=ReportSettings)
    window_days: int = MAX_WINDOW_DAYS
    settle: timedelta = timedelta(hours=DEFAULT_SETTLE_HOURS)
    delivery: Delivery | None = None  # None: render and archive, deliver nowhere
    invocation_id: str = ""
    links: ObjectLinks | None = None  # None: reports name the archive folder, with no links


@dataclass(slots=True)
class FreshDay:
    usage: DayUsage
    attribution: AttributedDay
    csv_body: bytes
    training_offered: bool = True  # False: the API refused the training dimensions (older gateway)


@dataclass(slots=True)
class RefreshResult:
    days: dict[date, FreshDay] = field(default_factory=dict)
    restatements: list[Restatement] = field(default_factory=list)
    requests: int = 0
    archive_errors: list[str] = field(default_factory=list)


class RunFailed(RuntimeError):
    """The run finished what it could, but some of it failed; the message lists what."""


class UnknownBudgetTeams(ConfigError):
    """FWCOST_BUDGETS names a team no usage is annotated with: a typo, most likely (exit 2)."""


@dataclass(slots=True)
class RunResult:
    """What a run did, for the CLI's summary, the handler's return value and the metrics."""

    kind: str
    start: date
    end: date
    archived: list[date]
    requests: int
    restatements: list[Restatement]
    archive_url: str
    total: Decimal = Decimal(0)  # the report day's total: the bill plus any price-book estimate
    billed: Decimal | None = None  # Fireworks' rated total; None when the summary did not answer
    # The same in the report's cents (cents.split_cents), which is what a person is shown
    total_cents: int = 0
    estimated_cents: int = 0  # the part of total_cents from the price book, not the bill
    reports: list[OutgoingReport] = field(default_factory=list)
    delivery: DeliveryOutcome | None = None
    archive_errors: list[str] = field(default_factory=list)
    usage_rows: int = 0  # of the report day (all days for a backfill)
    tokens: int = 0
    dry_run: bool = False  # nothing was written into the archive
    failed_accounts: list[str] = field(default_factory=list)  # a roll-up's (fwcost.fanout)
    # Statements re-issued because this run restated a day of their closed month (periods/)
    followups: list[RunResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        delivery = self.delivery
        rollup = {"failed_accounts": self.failed_accounts} if self.kind == "rollup" else {}
        return rollup | {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days_archived": len(self.archived),
            "requests": self.requests,
            "restatements": [
                {"day": r.day.isoformat(), "old": str(r.old_total), "new": str(r.new_total)}
                for r in self.restatements
            ],
            "archive": self.archive_url,
            "total_usd": str(self.total),
            "billed_total_usd": None if self.billed is None else str(self.billed),
            "reports": [r.audience for r in self.reports],
            "delivered": len(delivery.delivered) if delivery else 0,
            "already_delivered": len(delivery.skipped) if delivery else 0,
            "delivery_failures": len(delivery.failed) if delivery else 0,
            "left_to_another_run": len(delivery.claimed_elsewhere) if delivery else 0,
            "archive_errors": self.archive_errors,
            "followups": [followup.as_dict() for followup in self.followups],
        }

    def problems(self) -> list[str]:
        found = [f"archive: {error}" for error in self.archive_errors]
        if self.delivery is not None:
            found += [
                f"delivery to {f.destination_id} ({f.audience}): {f.detail}"
                for f in self.delivery.failed
            ]
        return found + [problem for followup in self.followups for problem in followup.problems()]

    def raise_if_failed(self) -> None:
        problems = self.problems()
        if problems:
            raise RunFailed(
                f"{len(problems)} part(s) of the run failed:\n  " + "\n  ".join(problems)
            )


def run_report_day(
    day: date,
    deps: Dependencies,
    *,
    force: bool = False,
    dry_run: bool = False,
    seconds_left: SecondsLeft | None = None,
) -> RunResult:
    """The daily job for one report day: refresh, archive, report, deliver; fail loudly at the end.

    `seconds_left`: the run's remaining time (Lambda's); delivery starts nothing near its end."""
    archived = settled_days(day, deps)
    refreshed = refresh_days(days_to_fetch(day, archived), deps, rewrite={day}, dry_run=dry_run)
    return report_refreshed_day(
        day, refreshed, deps, force=force, dry_run=dry_run, seconds_left=seconds_left
    )


def report_refreshed_day(
    day: date,
    refreshed: RefreshResult,
    deps: Dependencies,
    *,
    force: bool = False,
    dry_run: bool = False,
    seconds_left: SecondsLeft | None = None,
) -> RunResult:
    """Report, archive the reports and deliver, for a day `refreshed` holds (the benchmark's entry).

    A dry run archives no report, so its reports link to none."""
    with without_cycle_collection():
        return _report_refreshed_day(day, refreshed, deps, force, dry_run, seconds_left)


def _report_refreshed_day(
    day: date,
    refreshed: RefreshResult,
    deps: Dependencies,
    force: bool,
    dry_run: bool,
    seconds_left: SecondsLeft | None,
) -> RunResult:
    today = refreshed.days[day]
    history = load_history(day, deps.archive, deps.archive.complete_days(), refreshed.days)
    check_budget_teams(deps.report.team_budgets, today.attribution, history)
    summary = summarize(today.attribution, history, _context(day, today, refreshed, deps))
    reports = outgoing_reports(
        summary,
        today.usage,
        today.attribution,
        account_id=deps.archive.account_id,
        timezone=deps.timezone.key,
        max_team_reports=deps.report.max_team_reports,
        link_to=None if dry_run else _link_to(day, deps),
        csv_body=today.csv_body,
    )
    if not dry_run:
        _archive_reports(day, reports, deps.archive, refreshed.archive_errors)
    outcome = None
    if deps.delivery is not None:
        outcome = deliver_reports(
            reports, deps.delivery.routing, deps.delivery.ledger, deps.delivery.senders, day,
            deps.archive.account_id, force=force, dry_run=dry_run, invocation_id=deps.invocation_id,
            seconds_left=seconds_left,
        )  # fmt: skip
    return RunResult(
        kind="report",
        start=day,
        end=day,
        archived=[] if dry_run else sorted(refreshed.days),
        requests=refreshed.requests,
        restatements=refreshed.restatements,
        archive_url=deps.archive.day_url(day),
        total=today.attribution.total,
        billed=today.attribution.billed_total,
        total_cents=today.attribution.total_cents,
        estimated_cents=today.attribution.estimated_cents,
        reports=reports,
        delivery=outcome,
        archive_errors=refreshed.archive_errors,
        usage_rows=_rows(today.usage),
        tokens=_tokens(today.usage),
        dry_run=dry_run,
    )


def run_backfill(
    start: date,
    end: date,
    deps: Dependencies,
    on_window: Callable[[date, date], None] | None = None,
) -> RunResult:
    """Archive every day from start to end (inclusive), one window of up to 31 days at a time."""
    days = set(days_between(start, end))
    refreshed = refresh_days(days, deps, rewrite=days, on_window=on_window)
    return RunResult(
        kind="backfill",
        start=start,
        end=end,
        archived=sorted(refreshed.days),
        requests=refreshed.requests,
        restatements=refreshed.restatements,
        archive_url=deps.archive.account_url(),
        archive_errors=refreshed.archive_errors,
        usage_rows=sum(_rows(fresh.usage) for fresh in refreshed.days.values()),
        tokens=sum(_tokens(fresh.usage) for fresh in refreshed.days.values()),
    )


def _rows(usage: DayUsage) -> int:
    return len(usage.serverless) + len(usage.dedicated) + len(usage.training)


def _tokens(usage: DayUsage) -> int:
    return sum(row.prompt_tokens + row.completion_tokens for row in usage.serverless)


def settled_days(report_day: date, deps: Dependencies) -> set[date]:
    """The archived days, less those of `report_day`'s history fetched before they were complete.

    Only the days a report reads back and does not fetch anyway (30 to 2 days before) are
    checked, a manifest read each; other days are taken as listed.
    """
    archived = deps.archive.complete_days()
    history = days_between(
        report_day - timedelta(days=HISTORY_DAYS), report_day - timedelta(days=2)
    )
    early = {
        day
        for day in history
        if day in archived and fetched_early(deps.archive.read_manifest(day), deps.settle)
    }
    return archived - early


def fetched_early(manifest: Mapping[str, Any] | None, settle: timedelta) -> bool:
    """Whether an archived day was fetched before it was complete: before its end plus `settle`.

    The earliest response of the fetch counts; a manifest that does not say is taken as early
    (fetching the day again costs one request set and writes a manifest that does say).
    """
    if manifest is None:
        return True
    try:
        fetched = [_instant(r["fetched_at"]) for r in manifest.get("requests") or ()]
        first = min(fetched or [_instant(manifest["written_at"])])
        return first < _instant(manifest["day_end"]) + settle
    except (KeyError, TypeError, ValueError):
        return True


def _instant(text: Any) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


def days_to_fetch(report_day: date, archived: set[date]) -> set[date]:
    """The report day, the day before (late data restates it), and history the archive lacks."""
    history = days_between(
        report_day - timedelta(days=HISTORY_DAYS), report_day - timedelta(days=2)
    )
    return {report_day, report_day - timedelta(days=1), *(set(history) - archived)}


def contiguous_windows(
    days: Iterable[date], tz: ZoneInfo, max_days: int = MAX_WINDOW_DAYS
) -> list[tuple[date, date]]:
    """Cut a set of days into runs of consecutive days, each at most max_days long."""
    return [cut for start, end in day_runs(days) for cut in windows(start, end, tz, max_days)]


def refresh_days(
    days: Iterable[date],
    deps: Dependencies,
    *,
    rewrite: set[date],
    on_window: Callable[[date, date], None] | None = None,
    dry_run: bool = False,
) -> RefreshResult:
    """Fetch `days`, archive them, and return what each holds.

    Days in `rewrite` are written whatever the archive has (a re-run replaces its objects);
    other days are written only when new or changed, and a change is kept as a restatement.
    An archive failure is recorded, not raised, so the report can still go out. A dry run
    writes nothing and still notes the restatements a run would record.
    """
    result = RefreshResult()
    for start, end in contiguous_windows(days, deps.timezone, deps.window_days):
        with without_cycle_collection():
            _refresh_window(start, end, deps, result, rewrite, dry_run)
        if on_window:
            on_window(start, end)
    return result


def _refresh_window(
    start: date, end: date, deps: Dependencies, result: RefreshResult, rewrite: set[date],
    dry_run: bool,
) -> None:  # fmt: skip
    pull = deps.source.fetch_window(start, end, deps.timezone)
    result.requests += len(pull.raw)
    archived_raw = None if dry_run else _archive_raw(start, end, pull, deps, result)
    days, training_offered = pull.days, pull.training_offered
    del pull  # its raw bodies are archived: freed before the days' work (a large day's: 0.5 GB)
    for day, usage in sorted(days.items()):
        attribution = attribute_day(usage, deps.prices)
        csv_body = usage_csv(usage, deps.archive.account_id, deps.timezone.key, attribution)
        fresh = result.days[day] = FreshDay(usage, attribution, csv_body, training_offered)
        if dry_run:
            _preview_day(fresh, deps, result)
        elif archived_raw is not None:
            _archive_day(fresh, archived_raw, deps, result, force=day in rewrite)


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a day's bulk work.

    A day's rows are millions of objects with no reference cycles (reference counting frees
    them); collecting would rescan the growing heap again and again: about a sixth of a
    100k-row day's time, measured. Whatever cycles the work makes are collected after it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _archive_raw(
    start: date, end: date, pull: WindowPull, deps: Dependencies, result: RefreshResult
) -> list[ArchivedRequest] | None:
    try:
        return deps.archive.write_raw(start, end, pull.raw)
    except ArchiveError as error:
        result.archive_errors.append(str(error))
        return None


def _archive_day(
    fresh: FreshDay,
    raw: list[ArchivedRequest],
    deps: Dependencies,
    result: RefreshResult,
    *,
    force: bool,
) -> None:
    day, digest = fresh.usage.day, _sha256(fresh.csv_body)
    try:
        previous = deps.archive.read_manifest(day)
        unchanged = previous is not None and previous.get("csv_sha256") == digest
        if unchanged and not force and not fetched_early(previous, deps.settle):
            return  # the archived copy stands (rewritten if fetched early: its fetch time)
        if previous is not None and not unchanged:
            deps.archive.keep_revision(day, previous)
            _note_restatement(previous, fresh, result)
        deps.archive.write_day(
            day,
            csv_body=fresh.csv_body,
            attribution=fresh.attribution.to_json(),
            requests=raw,
            details=manifest_details(fresh, deps.timezone, digest),
            csv_sha256=digest,
        )
    except ArchiveError as error:
        result.archive_errors.append(str(error))


def _preview_day(fresh: FreshDay, deps: Dependencies, result: RefreshResult) -> None:
    """A dry run's view of an archived day: the restatement a run would record, nothing written."""
    try:
        previous = deps.archive.read_manifest(fresh.usage.day)
    except ArchiveError as error:
        result.archive_errors.append(str(error))
        return
    if previous is not None and previous.get("csv_sha256") != _sha256(fresh.csv_body):
        _note_restatement(previous, fresh, result)


def _note_restatement(previous: Mapping[str, Any], fresh: FreshDay, result: RefreshResult) -> None:
    """A changed day whose total moved is news for the report ("28 Nov revised +$12.40")."""
    old_total = Decimal(str(previous.get("total_usd", "0")))
    if old_total != fresh.attribution.total:
        result.restatements.append(Restatement(fresh.usage.day, old_total, fresh.attribution.total))


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def manifest_details(fresh: FreshDay, tz: ZoneInfo, csv_sha256: str) -> dict[str, Any]:
    usage, attribution = fresh.usage, fresh.attribution
    bounds = day_bounds(usage.day, tz)
    return {
        "timezone": tz.key,
        "day_start": rfc3339(bounds.start),
        "day_end": rfc3339(bounds.end),
        "hours": bounds.hours,
        "code_version": __version__,
        "total_usd": str(attribution.total),
        "billed_total_usd": None
        if attribution.billed_total is None
        else str(attribution.billed_total),
        "csv_sha256": csv_sha256,
        "rows": {
            "serverless": len(usage.serverless),
            "dedicated": len(usage.dedicated),
            "training": len(usage.training),
            "line_items": len(usage.line_items),
            "key_costs": len(usage.key_costs or ()),
        },
        "gaps": usage.gaps,
        "has_summary": usage.has_summary,
        "per_key_costs": usage.key_costs is not None,
        # "No training rows" means none only where the API offers training usage at all.
        "training_usage_offered": fresh.training_offered,
    }


def load_history(
    report_day: date, archive: DayArchive, archived: set[date], fresh: Mapping[date, FreshDay]
) -> dict[date, HistoryDay]:
    """The cents of each earlier day (what a report reads of it): freshly fetched, else as
    archived (complete days only)."""
    history: dict[date, HistoryDay] = {}
    for day in days_between(
        report_day - timedelta(days=HISTORY_DAYS), report_day - timedelta(days=1)
    ):
        if day in fresh:
            history[day] = HistoryDay.of(fresh[day].attribution)
        elif day in archived and (document := archive.read_attribution(day)) is not None:
            history[day] = HistoryDay.from_json(document)
    return history


def check_budget_teams(
    budgets: Collection[str], today: AttributedDay, history: Mapping[date, HistoryDay]
) -> None:
    """Refuse a team budget for a team no usage was annotated with on the report day or in the
    HISTORY_DAYS before it (the history a report reads): its budget could never be tracked.

    A new team's budget is refused too until its first usage: a team not seen yet cannot be told
    from a misspelt one. The error names each such team and the known teams its name is close to.
    """
    known = {team for team in today.teams if team}
    known |= {team for day in history.values() for team in day.teams if team}
    unknown = sorted(set(budgets) - known)
    if not unknown:
        return
    named = []
    for team in unknown:
        close = difflib.get_close_matches(team, sorted(known), n=3)
        hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
        named.append(f"{team!r}{hint}")
    raise UnknownBudgetTeams(
        f"FWCOST_BUDGETS: no usage annotated team=<name> on {today.day} or in the "
        f"{HISTORY_DAYS} days before it, for the budget of {', '.join(named)}. Fix the team's "
        "name; a new team's budget can be set once its usage appears"
    )


def _context(
    day: date, today: FreshDay, refreshed: RefreshResult, deps: Dependencies
) -> ReportContext:
    users, differences = export_of_day(
        day, deps.archive, deps.prices, today.usage, deps.report.export_difference_percent
    )
    return ReportContext(
        users=users,
        export_differences=differences,
        account_id=deps.archive.account_id,
        timezone=deps.timezone.key,
        bounds=day_bounds(day, deps.timezone),
        archive_location=deps.archive.day_url(day),
        code_version=__version__,
        top_n=deps.report.top_n,
        anomaly=deps.report.anomaly,
        team_budgets=deps.report.team_budgets,
        account_budget=deps.report.account_budget,
        restatements=[r for r in refreshed.restatements if r.day != day],
        gaps=today.usage.gaps,
    )


def _link_to(day: date, deps: Dependencies) -> LinkTo | None:
    """Links to the day's report/ files, made before they are written (the layout says where)."""
    links = deps.links
    if links is None:
        return None

    def link(name: str, label: str) -> Link:
        return links.link(deps.archive.report_key(day, name), label)

    return link


def _archive_reports(
    day: date, reports: list[OutgoingReport], archive: DayArchive, errors: list[str]
) -> None:
    try:
        archive.write_reports(day, report_files(reports))
    except ArchiveError as error:
        errors.append(str(error))
