"""Several accounts: the plan of a fan-out, and the roll-up that follows the accounts' runs.

Each account runs alone, as one run of the daily pipeline (pipeline.py) with its own key: in
Lambda one task of the state machine's Map (statemachine/fanout.asl.json), locally one after
the other (service.run_accounts). Neither knows of the others, so one failing stops nothing.
The roll-up then reads each account's archived attribution of the day (no Fireworks access),
renders one consolidated report, archives it under account=_rollup/ and delivers it like an
account's overall report: the same routing (the overall route), the same ledger, keyed by
ROLLUP_ACCOUNT_ID, which no Fireworks account id can be, so it is delivered exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fwcost.archive import ArchiveError, DayArchive, ObjectStore
from fwcost.config import ROLLUP_ACCOUNT_ID, Account
from fwcost.dates import windows
from fwcost.delivery import Attachment, OutgoingReport, deliver_reports
from fwcost.pipeline import Delivery, RunResult
from fwcost.publishing import report_files
from fwcost.report.attribution import AttributedDay
from fwcost.report.rollup import (
    AccountLine,
    Rollup,
    build_rollup,
    render_rollup_html,
    render_rollup_slack,
    render_rollup_text,
    rollup_csv,
    rollup_subject,
)
from fwcost.run_request import AccountOutcome, PlanRequest, RollupRequest


@dataclass(frozen=True, slots=True)
class RollupDependencies:
    store: ObjectStore  # the archive the accounts' runs wrote
    prefix: str
    timezone: ZoneInfo
    accounts: tuple[Account, ...]  # for their display names
    delivery: Delivery | None = None
    invocation_id: str = ""


def plan(
    request: PlanRequest, accounts: tuple[Account, ...], tz: ZoneInfo, window_days: int
) -> dict[str, Any]:
    """What the state machine fans out: a report day over the accounts (then a roll-up when
    there are several), or a backfill cut into windows, each account's."""
    run = request.run
    ids = [run.account] if run.account else [account.id for account in accounts]
    if run.kind == "report":
        return {
            "kind": "report",
            "date": run.start.isoformat(),
            "force": run.force,
            "dry_run": run.dry_run,
            "accounts": ids,
            # the roll-up reads the accounts' archived days, which a dry run does not write
            "rollup": len(ids) > 1 and not run.dry_run,
        }
    cuts = windows(run.start, run.end, tz, window_days)
    return {
        "kind": "backfill",
        "windows": [
            {"account": account, "start": start.isoformat(), "end": end.isoformat()}
            for account in ids
            for start, end in cuts
        ],
    }


def run_rollup(request: RollupRequest, deps: RollupDependencies) -> tuple[RunResult, Rollup]:
    """The consolidated report of the accounts' day, archived and delivered; what it did."""
    day = request.day
    archive = DayArchive(deps.store, deps.prefix, ROLLUP_ACCOUNT_ID)
    lines = [_line(outcome, request, deps) for outcome in request.outcomes]
    rollup = build_rollup(day, deps.timezone.key, lines, archive.day_url(day))
    report = OutgoingReport(
        team=None,
        subject=rollup_subject(rollup),
        html=render_rollup_html(rollup),
        text=render_rollup_text(rollup),
        slack=render_rollup_slack(rollup),
        attachments=(
            Attachment(
                f"fwcost-all-accounts-{day.isoformat()}.csv", "text/csv", rollup_csv(rollup)
            ),
        ),
    )
    errors = []
    if not request.dry_run:
        try:
            archive.write_reports(day, report_files([report]))
        except ArchiveError as error:
            errors.append(str(error))
    outcome = None
    if deps.delivery is not None:
        outcome = deliver_reports(
            [report], deps.delivery.routing, deps.delivery.ledger, deps.delivery.senders, day,
            ROLLUP_ACCOUNT_ID, force=request.force, dry_run=request.dry_run,
            invocation_id=deps.invocation_id,
        )  # fmt: skip
    result = RunResult(
        kind="rollup",
        start=day,
        end=day,
        archived=[],
        requests=0,
        restatements=[],
        archive_url=archive.day_url(day),
        total=sum((line.day.total for line in rollup.ran if line.day), Decimal(0)),
        total_cents=rollup.total_cents,
        reports=[report],
        delivery=outcome,
        archive_errors=errors,
        dry_run=request.dry_run,
        failed_accounts=[line.id for line in rollup.failed],
    )
    return result, rollup


def _line(outcome: AccountOutcome, request: RollupRequest, deps: RollupDependencies) -> AccountLine:
    """An account's line: its archived day, or why there is none (an archive that cannot be
    read fails the roll-up, ArchiveError: its retry reads it again)."""
    label = next((a.label for a in deps.accounts if a.id == outcome.account), outcome.account)
    if outcome.failure:
        return AccountLine(outcome.account, label, None, outcome.failure)
    document = DayArchive(deps.store, deps.prefix, outcome.account).read_attribution(request.day)
    if document is None:
        failure = f"its run archived no attribution for {request.day}"
        return AccountLine(outcome.account, label, None, failure)
    return AccountLine(outcome.account, label, AttributedDay.from_json(document))
