"""The one entry point the Lambda handler and the CLI share: settings + request → a run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from fwcost.config import Settings
from fwcost.delivery import SecondsLeft, Senders
from fwcost.fanout import plan, run_rollup
from fwcost.imports.importer import ImportResult, import_export
from fwcost.observability import logger, metrics
from fwcost.periods import Cadence, Period
from fwcost.periods.pipeline import reissue_restated, run_period
from fwcost.pipeline import RunResult, run_backfill, run_report_day
from fwcost.problems import problem_for
from fwcost.report.rollup import Rollup
from fwcost.run_request import AccountOutcome, PlanRequest, RollupRequest, RunRequest
from fwcost.wiring import (
    build_dependencies,
    build_import_dependencies,
    build_rollup_dependencies,
    resolve_api_key,
)


def run(
    request: RunRequest,
    settings: Settings,
    *,
    senders: Senders | None = None,
    invocation_id: str = "",
    on_window: Callable[[date, date], None] | None = None,
    emit_metrics: bool = True,
    seconds_left: SecondsLeft | None = None,
) -> RunResult:
    """Run the request and record its metrics (Lambda; a terminal wants none).

    `seconds_left`: the invocation's remaining time (Lambda); None for the CLI, which has no
    deadline.

    The caller raises `result.raise_if_failed()`, after it has reported what the run did.
    A request naming an account (FWCOST_ACCOUNTS) runs that account, with its key.

    A report or backfill that restates a day of a month whose statement was issued re-issues
    that statement, revised (its result in `followups`).
    """
    if request.account is not None:
        settings = settings.for_account(request.account)
    deps, client = build_dependencies(
        settings,
        api_key=resolve_api_key(settings),
        senders=senders,
        invocation_id=invocation_id,
        dry_run=request.dry_run,
    )
    with client:
        try:
            if request.kind == "backfill":
                result = run_backfill(request.start, request.end, deps, on_window)
            elif request.kind in ("weekly", "monthly"):
                period = Period.of(Cadence(request.kind), request.start)
                result = run_period(
                    period, deps, client, force=request.force, dry_run=request.dry_run,
                    seconds_left=seconds_left,
                )  # fmt: skip
            else:
                result = run_report_day(
                    request.start,
                    deps,
                    force=request.force,
                    dry_run=request.dry_run,
                    seconds_left=seconds_left,
                )
            if request.kind in ("report", "backfill"):
                result.followups = reissue_restated(result, deps, client, seconds_left=seconds_left)
        finally:
            if emit_metrics:
                stats = client.stats
                metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=stats.requests)
                metrics.add_metric(name="ApiRetries", unit=MetricUnit.Count, value=stats.retries)
    if emit_metrics:
        _record_metrics(result)
    logger.info("run finished", extra={"run": result.as_dict()})
    return result


def run_import(
    names: Sequence[str], settings: Settings, *, emit_metrics: bool = False
) -> list[ImportResult]:
    """Import each export file (a path or s3:// URI), one after another, each all or nothing:
    the first bad file stops the rest (the files before it stay imported)."""
    deps, open_export = build_import_dependencies(settings)
    results = []
    for name in names:
        result = import_export(open_export(name), deps)
        logger.info("export imported", extra={"import": result.as_dict()})
        results.append(result)
    if emit_metrics:
        rows = sum(result.rows for result in results if result.already_imported_at is None)
        metrics.add_metric(name="ExportRowsImported", unit=MetricUnit.Count, value=rows)
    return results


def plan_fanout(request: PlanRequest, settings: Settings) -> dict[str, Any]:
    """The state machine's first task: the day and accounts, or the windows, to fan out."""
    if request.run.account is not None:
        settings.for_account(request.run.account)  # refuses an account not configured
    return plan(request, settings.accounts, settings.timezone, settings.window_days)


def rollup(
    request: RollupRequest,
    settings: Settings,
    *,
    senders: Senders | None = None,
    invocation_id: str = "",
    emit_metrics: bool = True,
) -> tuple[RunResult, Rollup]:
    """The roll-up across the accounts' archived day (fwcost.fanout), and its metrics."""
    deps = build_rollup_dependencies(
        settings, senders=senders, invocation_id=invocation_id, dry_run=request.dry_run
    )
    result, report = run_rollup(request, deps)
    if emit_metrics:
        _record_metrics(result)
    logger.info("roll-up finished", extra={"run": result.as_dict()})
    return result, report


def run_accounts(
    request: RunRequest,
    settings: Settings,
    accounts: list[str],
    *,
    senders: Senders | None = None,
    invocation_id: str = "",
    on_account: Callable[[str, RunResult | Exception], None] | None = None,
) -> tuple[RunResult, Rollup] | None:
    """What the state machine does, in one process (the CLI): each account's run alone, one
    failing stopping none of the others, then the roll-up of a report day (None for a backfill
    or a dry run: the roll-up reads the accounts' archived days, which a dry run does not write).

    `on_account` hears of each account's result, or of the error its run raised.
    """
    outcomes = []
    for account in accounts:
        try:
            result = run(
                replace(request, account=account),
                settings,
                senders=senders,
                invocation_id=f"{invocation_id}-{account}",
                emit_metrics=False,
            )
            result.raise_if_failed()
            outcomes.append(AccountOutcome(account))
        except Exception as error:  # isolation: the account is named failed, the others go on
            problem = problem_for(error)
            outcomes.append(AccountOutcome(account, problem.sentence if problem else repr(error)))
            if on_account:
                on_account(account, error)
            continue
        if on_account:
            on_account(account, result)
    if request.kind != "report" or request.dry_run:
        return None
    ask = RollupRequest(request.start, tuple(outcomes), request.force, request.dry_run)
    return rollup(ask, settings, senders=senders, invocation_id=invocation_id, emit_metrics=False)


def _record_metrics(result: RunResult) -> None:
    metrics.add_metric(name="DaysArchived", unit=MetricUnit.Count, value=len(result.archived))
    metrics.add_metric(
        name="ArchiveFailures", unit=MetricUnit.Count, value=len(result.archive_errors)
    )
    if result.kind == "report":
        metrics.add_metric(name="CostUSD", unit=MetricUnit.NoUnit, value=float(result.total))
    metrics.add_metric(name="UsageRows", unit=MetricUnit.Count, value=result.usage_rows)
    metrics.add_metric(name="Tokens", unit=MetricUnit.Count, value=result.tokens)
    if result.delivery is None:
        return
    # ReportsDelivered feeds the "no report delivered today" alarm in template.yaml.
    metrics.add_metric(
        name="ReportsDelivered", unit=MetricUnit.Count, value=len(result.delivery.delivered)
    )
    metrics.add_metric(
        name="DeliveryFailures", unit=MetricUnit.Count, value=len(result.delivery.failed)
    )
    for outcome, items in (
        ("delivered", result.delivery.delivered),
        ("failed", result.delivery.failed),
    ):
        for item in items:
            with single_metric(
                name="Deliveries", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
            ) as metric:
                metric.add_dimension(name="destination", value=item.destination_id)
                metric.add_dimension(name="outcome", value=outcome)
