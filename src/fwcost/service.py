"""The one entry point the Lambda handler and the CLI share: settings + request → a run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from fwcost.config import Settings
from fwcost.observability import logger, metrics
from fwcost.pipeline import RunResult, run_backfill, run_report_day
from fwcost.run_request import RunRequest
from fwcost.wiring import build_dependencies, resolve_api_key


def run(
    request: RunRequest,
    settings: Settings,
    *,
    s3_client: Any = None,
    on_window: Callable[[date, date], None] | None = None,
) -> RunResult:
    deps, client = build_dependencies(
        settings, api_key=resolve_api_key(settings), s3_client=s3_client
    )
    with client:
        try:
            if request.kind == "backfill":
                result = run_backfill(request.start, request.end, deps, on_window)
            else:
                result = run_report_day(request.start, deps)
        finally:
            stats = client.stats
            metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=stats.requests)
            metrics.add_metric(name="ApiRetries", unit=MetricUnit.Count, value=stats.retries)
    metrics.add_metric(name="DaysArchived", unit=MetricUnit.Count, value=len(result.archived))
    if result.billed_total is not None:
        metrics.add_metric(
            name="BilledCostUSD", unit=MetricUnit.NoUnit, value=float(result.billed_total)
        )
    logger.info("run finished", extra=result.as_dict())
    return result
