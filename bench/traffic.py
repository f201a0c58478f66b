"""HTTP requests per run, counted in the simulator's own request log, and latency-bound wall time."""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fwcost.archive import DayArchive, LocalStore
from fwcost.fireworks import FireworksClient
from fwcost.pipeline import Dependencies, run_backfill, run_report_day
from fwcost.report.pricebook import load_price_book
from fwcost.simulator import RecordedRequest, RunningSimulator, SimulatorConfig, run_simulator

LATENCY_SECONDS = 0.3
BACKFILL_DAYS = 365


@dataclass(frozen=True, slots=True)
class RequestCount:
    label: str
    days: int  # days fetched
    requests: int
    by_endpoint: dict[str, int]
    usage_windows: int  # billingUsage requests; each one covers every usage type
    seconds: float


@dataclass(frozen=True, slots=True)
class Traffic:
    config: SimulatorConfig
    counts: list[RequestCount]
    latency_seconds: float
    latency_run_seconds: float  # a daily run's wall time at that simulated latency
    processing_seconds: float  # the same daily run with no latency


def measure_traffic(report_day: date, timezone: str = "UTC") -> Traffic:
    """First run (empty archive), then daily runs, then a 365-day backfill into a new archive."""
    config = SimulatorConfig()
    tz = ZoneInfo(timezone)
    counts: list[RequestCount] = []
    with tempfile.TemporaryDirectory() as scratch, run_simulator(config) as sim:
        archive = Path(scratch) / "daily"
        counts.append(
            _count(
                "first run, empty archive",
                sim,
                lambda d: run_report_day(report_day, d),
                archive,
                tz,
            )
        )
        daily = _count(
            "daily run, archive holds the trailing days",
            sim,
            lambda d: run_report_day(report_day + timedelta(days=1), d),
            archive,
            tz,
        )
        counts.append(daily)
        start = report_day - timedelta(days=BACKFILL_DAYS - 1)
        counts.append(
            _count(
                f"{BACKFILL_DAYS}-day backfill",
                sim,
                lambda d: run_backfill(start, report_day, d),
                Path(scratch) / "backfill",
                tz,
            )
        )
        slow = replace(config, latency_seconds=LATENCY_SECONDS)
        with run_simulator(slow) as slow_sim:
            latency_run = _count(
                "daily run at latency",
                slow_sim,
                lambda d: run_report_day(report_day + timedelta(days=2), d),
                archive,
                tz,
            )
    return Traffic(config, counts, LATENCY_SECONDS, latency_run.seconds, daily.seconds)


def _count(label, sim: RunningSimulator, run, archive_root: Path, tz: ZoneInfo) -> RequestCount:  # type: ignore[no-untyped-def]
    before = len(sim.requests)
    with FireworksClient(
        api_key=sim.config.api_key, account_id=sim.config.account_id, base_url=sim.base_url
    ) as client:
        deps = Dependencies(
            source=client,
            archive=DayArchive(LocalStore(archive_root), "fireworks", sim.config.account_id),
            prices=load_price_book(),
            timezone=tz,
        )
        started = time.perf_counter()
        result = run(deps)
        seconds = time.perf_counter() - started
    result.raise_if_failed()
    made = sim.requests[before:]
    return RequestCount(
        label=label,
        days=len(result.archived),
        requests=len(made),
        by_endpoint=dict(Counter(_endpoint(request) for request in made)),
        usage_windows=sum(_endpoint(request) == "billingUsage" for request in made),
        seconds=seconds,
    )


def _endpoint(request: RecordedRequest) -> str:
    return request.path.rsplit("/", 1)[-1]
