"""Lambda entry point: event → run request → the daily pipeline → a short summary.

{"check": true} runs `fwcost check` instead, with the function's own role and settings; an S3
event of an export put under imports/ imports it (fwcost.imports).
The state machine's tasks (several accounts) come here too: {"plan": ...}, one account's run
({"date": ..., "account": ...}) and {"rollup": ...} (fwcost.run_request, fwcost.fanout).

Failures raise, on purpose: Lambda's async retries, the on-failure destination and the
alarms depend on a failed run ending in an error. A known problem (fwcost.problems) is logged
and raised as one sentence saying what to fix; anything else is raised as it came.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from fwcost.observability import capture_lambda_handler, logger, metrics


@logger.inject_lambda_context(log_event=True)
@capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(context.aws_request_id)
    try:
        return _run(event, context)
    except Exception as error:
        from fwcost.problems import RunError, problem_for

        problem = problem_for(error)
        if problem is None:
            raise
        logger.error(problem.sentence)
        raise RunError(problem.sentence) from error


def _run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Imported here, not at module load, to keep the cold start close to boto3's own import.
    from fwcost.config import load_settings
    from fwcost.run_request import (
        PlanRequest,
        RollupRequest,
        check_request_from_event,
        import_request_from_event,
        task_from_event,
    )
    from fwcost.service import plan_fanout, rollup, run, run_import

    check = check_request_from_event(event)
    if check is not None:
        return _check(check.send_test, context.aws_request_id)
    dropped = import_request_from_event(event)
    if dropped is not None:  # an export put under imports/ in the archive bucket
        settings = load_settings(os.environ, needs_api_key=False)
        imported = run_import(dropped.uris, settings, emit_metrics=True)
        return {"imports": [result.as_dict() for result in imported]}
    settings = load_settings(os.environ)
    request = task_from_event(
        event, settings.timezone, now=datetime.now(UTC), settle=settings.settle
    )
    if isinstance(request, PlanRequest):
        return plan_fanout(request, settings)
    if isinstance(request, RollupRequest):
        logger.append_keys(run_kind="rollup", first_day=str(request.day))
        result, _ = rollup(request, settings, invocation_id=context.aws_request_id)
        result.raise_if_failed()
        return result.as_dict()
    if request.note:
        logger.warning(request.note)
    logger.append_keys(
        account_id=request.account or settings.account_id,
        run_kind=request.kind,
        first_day=str(request.start),
    )
    result = run(
        request,
        settings,
        invocation_id=context.aws_request_id,
        seconds_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    result.raise_if_failed()  # after the metrics and the log line, so both record the failure
    return result.as_dict()


def _check(send_test: bool, request_id: str) -> dict[str, Any]:
    """`fwcost check` with this function's role and settings (bad settings are one of its checks).

    A failed check raises CheckFailed, whose message is the report as the CLI prints it: the
    invocation then fails (`sam remote invoke` shows the report as errorMessage), as exit status
    1 does on a terminal. The result as JSON is in the log line "check finished" either way.
    """
    from fwcost.check import raise_if_failed, run_check

    report = run_check(os.environ, run_id=request_id, send_test=send_test)
    logger.info("check finished", extra={"check": report.as_dict()})
    raise_if_failed(report)
    return report.as_dict()
