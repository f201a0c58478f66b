"""The use case: fetch → normalize → attribute → archive → report → deliver.

The Lambda handler and the CLI both call `run_report_day` and `run_backfill`; only the adapters
in `Dependencies` differ (S3 or a folder, Slack and SES or files).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from fwcost import __version__
from fwcost.archive import DayArchive, RowCosts, usage_csv
from fwcost.archive.day_archive import ArchivedRequest
from fwcost.dates import day_bounds, days_between, rfc3339, windows
from fwcost.model import DayUsage, WindowPull

# Earlier days a report compares against: the trailing 14-day trend and the month to date.
HISTORY_DAYS = 30


class UsageSource(Protocol):
    def fetch_window(self, start: date, end: date, tz: ZoneInfo) -> WindowPull: ...


class Attribution(Protocol):
    """A day's dollars per group, as the report module computes them."""

    @property
    def total(self) -> Decimal: ...

    def row_costs(self) -> RowCosts: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Restatement:
    """An archived day whose re-pulled numbers differ from what the archive held."""

    day: date
    old_total: Decimal
    new_total: Decimal


@dataclass(slots=True)
class ArchivedDay:
    usage: DayUsage
    attribution: Attribution
    manifest: dict[str, Any]


@dataclass(slots=True)
class RefreshResult:
    days: dict[date, ArchivedDay] = field(default_factory=dict)
    restatements: list[Restatement] = field(default_factory=list)
    requests: int = 0


@dataclass(frozen=True, slots=True)
class Dependencies:
    source: UsageSource
    archive: DayArchive
    attribute: Callable[[DayUsage], Attribution]
    timezone: ZoneInfo


def days_to_fetch(report_day: date, archive: DayArchive) -> set[date]:
    """The report day, the day before (late data restates it), and history the archive lacks."""
    wanted = {report_day, report_day - timedelta(days=1)}
    history = days_between(
        report_day - timedelta(days=HISTORY_DAYS), report_day - timedelta(days=2)
    )
    wanted.update(day for day in history if archive.read_manifest(day) is None)
    return wanted


def contiguous_windows(days: Iterable[date]) -> list[tuple[date, date]]:
    """Cut a set of days into runs of consecutive days, each at most 31 days long."""
    ordered = sorted(set(days))
    runs: list[tuple[date, date]] = []
    for day in ordered:
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return [cut for start, end in runs for cut in windows(start, end)]


def refresh_days(
    days: Iterable[date],
    deps: Dependencies,
    *,
    rewrite: set[date],
    on_window: Callable[[date, date], None] | None = None,
) -> RefreshResult:
    """Fetch `days`, archive them, and return what each holds.

    Days in `rewrite` are written whatever the archive has (a re-run replaces its objects);
    other days are written only when new or changed, and a change is kept as a restatement.
    """
    result = RefreshResult()
    for start, end in contiguous_windows(days):
        pull = deps.source.fetch_window(start, end, deps.timezone)
        result.requests += len(pull.raw)
        archived_raw = deps.archive.write_raw(start, end, pull.raw)  # raw first: never lost
        for day, usage in sorted(pull.days.items()):
            archived = _archive_day(day, usage, archived_raw, deps, result, force=day in rewrite)
            result.days[day] = archived
        if on_window:
            on_window(start, end)
    return result


def _archive_day(
    day: date,
    usage: DayUsage,
    raw: list[ArchivedRequest],
    deps: Dependencies,
    result: RefreshResult,
    *,
    force: bool,
) -> ArchivedDay:
    attribution = deps.attribute(usage)
    tz_name = deps.timezone.key
    csv_body = usage_csv(usage, deps.archive.account_id, tz_name, attribution.row_costs())
    previous = deps.archive.read_manifest(day)
    if previous is not None:
        old_total = Decimal(str(previous.get("billed_total_usd", "0")))
        if previous.get("csv_sha256") == _sha256(csv_body) and not force:
            return ArchivedDay(usage, attribution, previous)
        if previous.get("csv_sha256") != _sha256(csv_body):
            deps.archive.keep_revision(day, previous)
            if old_total != attribution.total:
                result.restatements.append(Restatement(day, old_total, attribution.total))
    bounds = day_bounds(day, deps.timezone)
    manifest = deps.archive.write_day(
        day,
        csv_body=csv_body,
        attribution=attribution.to_json(),
        requests=raw,
        details={
            "timezone": tz_name,
            "day_start": rfc3339(bounds.start),
            "day_end": rfc3339(bounds.end),
            "hours": bounds.hours,
            "code_version": __version__,
            "billed_total_usd": str(attribution.total),
            "csv_sha256": _sha256(csv_body),
            "rows": _row_counts(usage),
            "gaps": usage.gaps,
            "has_summary": usage.has_summary,
            "per_key_costs": usage.key_costs is not None,
        },
    )
    return ArchivedDay(usage, attribution, manifest)


def load_history(
    report_day: date, archive: DayArchive, fresh: Mapping[date, ArchivedDay]
) -> dict[date, dict[str, Any]]:
    """Attribution documents of the days before the report day: fresh ones, else archived ones."""
    history: dict[date, dict[str, Any]] = {}
    for day in days_between(
        report_day - timedelta(days=HISTORY_DAYS), report_day - timedelta(days=1)
    ):
        if day in fresh:
            history[day] = fresh[day].attribution.to_json()
        elif (document := archive.read_attribution(day)) is not None:
            history[day] = document
    return history


def _row_counts(usage: DayUsage) -> dict[str, int]:
    return {
        "serverless": len(usage.serverless),
        "dedicated": len(usage.dedicated),
        "training": len(usage.training),
        "line_items": len(usage.line_items),
        "key_costs": len(usage.key_costs or ()),
    }


def _sha256(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()


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
    billed_total: Decimal | None = None
    report_files: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days_archived": len(self.archived),
            "requests": self.requests,
            "restatements": [
                {"day": r.day.isoformat(), "old": str(r.old_total), "new": str(r.new_total)}
                for r in self.restatements
            ],
            "archive": self.archive_url,
            "billed_total_usd": None if self.billed_total is None else str(self.billed_total),
        }


def run_report_day(day: date, deps: Dependencies) -> RunResult:
    """The daily job for one report day: refresh what is needed, archive it, report on it."""
    refreshed = refresh_days(days_to_fetch(day, deps.archive), deps, rewrite={day})
    today = refreshed.days[day]
    return RunResult(
        kind="report",
        start=day,
        end=day,
        archived=sorted(d for d, a in refreshed.days.items() if a.manifest),
        requests=refreshed.requests,
        restatements=refreshed.restatements,
        archive_url=deps.archive.day_url(day),
        billed_total=today.attribution.total,
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
        archive_url=deps.archive.store.url(deps.archive.day_prefix(start).rsplit("/", 1)[0]),
    )
