"""The use case of a week's digest and a month's statement: archive → content → render → deliver.

Built from the archive: each day's attribution as archived (a day fetched before it was complete
counts as missing), the periods before it for comparison, and, for a statement only, the one
thing the archive cannot have: Fireworks' billing summary for the whole month, to reconcile.
A period with a missing day is refused (MissingDays names the days and the backfill command).

Exactly once, like a day's report: the ledger keys each delivery by the period, the audience and
the destination, so a second run sends nothing new. A statement also has an issue: when a day of
its month changed since it was issued (the days' fingerprint, periods/archive.py), the next run
keeps the earlier issue under revisions/ and issues the statement again, marked revised, with
what each team's charge was; the ledger keys it by its issue, so it goes out once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from fwcost import __version__
from fwcost.archive import ArchiveError
from fwcost.chargeback import XLSX_TYPE, chargeback_files
from fwcost.delivery import Attachment, OutgoingReport, SecondsLeft, deliver_reports
from fwcost.fireworks.client import PeriodBill
from fwcost.periods.archive import Issued, PeriodArchive, fingerprint
from fwcost.periods.content import (
    WEEKS_AVERAGED,
    PeriodContext,
    PeriodData,
    PeriodReport,
    build_reports,
    charged,
    team_cents,
)
from fwcost.periods.model import Cadence, MissingDays, Period
from fwcost.periods.reconcile import Reconciliation, reconcile
from fwcost.periods.render import render_period
from fwcost.pipeline import Dependencies, RunResult, fetched_early
from fwcost.publishing import report_files
from fwcost.report.attribution import AttributedDay
from fwcost.report.cents import cents_of
from fwcost.report.summary import Restatement

MONTHS_BEFORE = 5  # the statement's six months: five before and its own


class BillSource(Protocol):
    """Fireworks' billing summary over a whole period (FireworksClient)."""

    def fetch_period_bill(self, start: date, end: date, tz: ZoneInfo) -> PeriodBill: ...


@dataclass(frozen=True, slots=True)
class _Issue:
    number: int
    fingerprint: str
    new: bool  # not issued yet with these days: archive (and, for a statement, send) it
    previous: Issued | None  # the issue this one revises


def run_period(
    period: Period,
    deps: Dependencies,
    bills: BillSource | None,
    *,
    force: bool = False,
    dry_run: bool = False,
    seconds_left: SecondsLeft | None = None,
) -> RunResult:
    """A week's digest or a month's statement, overall and per team; fail loudly at the end."""
    archive = PeriodArchive(deps.archive)
    complete = deps.archive.complete_days()  # one listing of the account's days
    days, digests = _period_days(period, complete, deps)
    issue = _issue(archive.issued(period), fingerprint(digests))
    data = PeriodData(
        period=period,
        days=days,
        earlier=_earlier(period, complete, deps),
        month_so_far=_month_so_far(period, days, complete, deps),
        restated=_restated(period, days, deps),
    )
    total_days = [days[d] for d in period.days]
    bill = None
    reconciliation = None
    if period.cadence is Cadence.MONTHLY and bills is not None:
        bill = bills.fetch_period_bill(period.start, period.end, deps.timezone)
        reconciliation = _reconciliation(bill, total_days)
    attachments = statement_attachments(period, deps)
    reports = build_reports(
        data,
        _context(period, deps, archive),
        reconciliation=reconciliation,
        issue=issue.number,
        previous_issue=None
        if issue.previous is None
        else (issue.previous.written_at, issue.previous.team_cents),
        attachment_names=[a.name for a in attachments],
        max_team_reports=deps.report.max_team_reports,
    )
    outgoing = [_outgoing(report, attachments) for report in reports]
    errors: list[str] = []
    if not dry_run and issue.new:
        _archive(period, archive, reports, outgoing, issue, bill, deps, errors)
    outcome = None
    if deps.delivery is not None:
        outcome = deliver_reports(
            outgoing, deps.delivery.routing, deps.delivery.ledger, deps.delivery.senders,
            period.start, deps.archive.account_id, force=force, dry_run=dry_run,
            invocation_id=deps.invocation_id, seconds_left=seconds_left,
            cadence=period.cadence,
            issue=issue.number if period.cadence is Cadence.MONTHLY else 1,
        )  # fmt: skip
    overall = reports[0]
    return RunResult(
        kind=period.cadence.value,
        start=period.start,
        end=period.end,
        archived=[],
        requests=0 if bill is None else 1,
        restatements=list(data.restated),
        archive_url=archive.url(period),
        total=sum((d.total for d in total_days), Decimal(0)),
        billed=None if reconciliation is None else reconciliation.billed,
        total_cents=overall.cents,
        estimated_cents=overall.total.estimated_cents,
        reports=outgoing,
        delivery=outcome,
        archive_errors=errors,
        dry_run=dry_run,
    )


def reissue_restated(
    result: RunResult,
    deps: Dependencies,
    bills: BillSource | None,
    *,
    seconds_left: SecondsLeft | None = None,
) -> list[RunResult]:
    """The statements of closed months a run restated a day of, issued again (revised).

    A month whose statement was issued and whose days now differ is issued once more; one
    whose days are as issued sends nothing (run_period's fingerprint and the ledger)."""
    if result.dry_run:
        return []
    archive = PeriodArchive(deps.archive)
    months = sorted({Period.month_of(r.day) for r in result.restatements})
    return [
        run_period(month, deps, bills, seconds_left=seconds_left)
        for month in months
        if archive.issued(month) is not None
    ]


def statement_attachments(period: Period, deps: Dependencies) -> tuple[Attachment, ...]:
    """The files a month's statement carries and archives: the chargeback CSV and workbook,
    from the archived days' usage CSVs, unattributed spend placed as the statement places it.
    A digest carries none."""
    if period.cadence is not Cadence.MONTHLY:
        return ()
    files = chargeback_files(deps.archive, period.days, deps.report.unattributed, period.key)
    return (
        Attachment(f"chargeback-{period.key}.csv", "text/csv", files.csv),
        Attachment(f"chargeback-{period.key}.xlsx", XLSX_TYPE, files.xlsx),
    )


def _period_days(
    period: Period, complete: set[date], deps: Dependencies
) -> tuple[dict[date, AttributedDay], dict[str, str]]:
    """Each day's archived attribution and its digest (the fingerprint's part); MissingDays
    when one is not archived or was fetched before it was complete."""
    manifests = {d: deps.archive.read_manifest(d) for d in period.days if d in complete}
    missing = [
        d
        for d in period.days
        if manifests.get(d) is None or fetched_early(manifests[d], deps.settle)
    ]
    if missing:
        raise MissingDays(period, missing)
    days = _read_days(period.days, complete, deps)
    if missing := [d for d in period.days if d not in days]:
        raise MissingDays(period, missing)
    digests = {d.isoformat(): _attribution_digest(manifests[d] or {}) for d in period.days}
    return days, digests


def _attribution_digest(manifest: Mapping[str, Any]) -> str:
    """The SHA-256 of the day's attribution.json as its manifest lists it (else its CSV's)."""
    for entry in manifest.get("objects") or ():
        if str(entry.get("key", "")).endswith("/attribution.json"):
            return str(entry["sha256"])
    return str(manifest.get("csv_sha256", ""))


def _read_days(
    wanted: Sequence[date], complete: set[date], deps: Dependencies
) -> dict[date, AttributedDay]:
    found = {}
    for day in wanted:
        if day in complete and (document := deps.archive.read_attribution(day)) is not None:
            found[day] = AttributedDay.from_json(document)
    return found


def _earlier(
    period: Period, complete: set[date], deps: Dependencies
) -> list[tuple[Period, dict[date, AttributedDay]]]:
    """The weeks (4) or months (5) before the period, with their archived days."""
    count = WEEKS_AVERAGED if period.cadence is Cadence.WEEKLY else MONTHS_BEFORE
    return [(p, _read_days(p.days, complete, deps)) for p in period.earlier(count)]


def _month_so_far(
    period: Period, days: Mapping[date, AttributedDay], complete: set[date], deps: Dependencies
) -> dict[date, AttributedDay]:
    """A digest's budget pace: its last day's month up to that day."""
    if period.cadence is not Cadence.WEEKLY:
        return {}
    month = Period.month_of(period.end)
    wanted = [d for d in month.days if d <= period.end]
    found = {d: days[d] for d in wanted if d in days}
    found |= _read_days([d for d in wanted if d not in days], complete, deps)
    return found


def _restated(
    period: Period, days: Mapping[date, AttributedDay], deps: Dependencies
) -> list[Restatement]:
    """The period's days changed since their daily report: first archived total against now."""
    found = []
    for day in period.days:
        revisions = deps.archive.revision_manifests(day)
        if revisions:
            first = Decimal(str(revisions[0].get("total_usd", "0")))
            if first != days[day].total:
                found.append(Restatement(day, first, days[day].total))
    return found


def _issue(issued: Issued | None, days_fingerprint: str) -> _Issue:
    if issued is None:
        return _Issue(1, days_fingerprint, True, None)
    if issued.fingerprint == days_fingerprint:
        return _Issue(issued.issue, days_fingerprint, False, None)
    return _Issue(issued.issue + 1, days_fingerprint, True, issued)


def _reconciliation(bill: PeriodBill, days: Sequence[AttributedDay]) -> Reconciliation:
    billed = [d.billed_total for d in days if d.billed_total is not None]
    estimated = sum(d.estimated_cents for d in days)
    archived = sum(billed, Decimal(0))
    return reconcile(
        bill.items,
        bill.refused,
        archived_billed=archived,
        estimated_cents=estimated,
        total_cents=cents_of(archived) + estimated,
    )


def _context(period: Period, deps: Dependencies, archive: PeriodArchive) -> PeriodContext:
    return PeriodContext(
        account_id=deps.archive.account_id,
        timezone=deps.timezone.key,
        code_version=__version__,
        archive_location=archive.url(period),
        top_n=deps.report.top_n,
        unattributed=deps.report.unattributed,
        account_budget=deps.report.account_budget,
        team_budgets=deps.report.team_budgets,
        mover_floor=deps.report.anomaly.dollar_floor,
    )


def _outgoing(report: PeriodReport, attachments: tuple[Attachment, ...]) -> OutgoingReport:
    rendered = render_period(report)
    return OutgoingReport(
        team=report.team,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        slack=rendered.slack,
        # The chargeback files hold every team's rows: the overall statement carries them.
        attachments=attachments if report.team is None else (),
    )


def period_files(reports: Sequence[OutgoingReport]) -> dict[str, bytes]:
    """report.html, report.txt, slack.json (then teams/<segment>/...), and the attachments
    under their own names (chargeback-YYYY-MM.csv, .xlsx)."""
    return report_files(reports, attachment_name=lambda attachment: attachment.name)


def _archive(
    period: Period,
    archive: PeriodArchive,
    reports: Sequence[PeriodReport],
    outgoing: Sequence[OutgoingReport],
    issue: _Issue,
    bill: PeriodBill | None,
    deps: Dependencies,
    errors: list[str],
) -> None:
    """Keep the issue it replaces, then write this one (reports, the bill, manifest last)."""
    overall = reports[0]
    extra = {}
    if bill is not None:
        extra["billing-summary.json"] = deps.archive.scrubbed(bill.raw.body)
    try:
        if issue.previous is not None:
            archive.keep_revision(period, issue.previous)
        archive.write(
            period,
            reports=period_files(outgoing),
            extra=extra,
            details={
                "timezone": deps.timezone.key,
                "code_version": __version__,
                "issue": issue.number,
                "fingerprint": issue.fingerprint,
                "unattributed": deps.report.unattributed.value,
                "total_cents": overall.cents,
                "team_cents": charged(team_cents(overall.total), deps.report.unattributed),
            },
        )
    except ArchiveError as error:
        errors.append(str(error))
