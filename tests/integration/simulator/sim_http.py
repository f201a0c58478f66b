"""Constants and small helpers for the simulator's HTTP tests."""

from __future__ import annotations

from datetime import date

from fwcost.simulator import SimulatorConfig

REPORT_DAY = date(2026, 11, 21)
CONFIG = SimulatorConfig(spike_day=REPORT_DAY, new_key_day=REPORT_DAY)
USAGE = "/v1/accounts/acme-ai/billingUsage"
SUMMARY = "/v1/accounts/acme-ai/billing/summary"
COSTS = "/v1/accounts/acme-ai/usageCosts:query"


def day_range(
    start: str = "2026-11-21T00:00:00Z", end: str = "2026-11-22T00:00:00Z", **extra: str
) -> list[tuple[str, str]]:
    return [("startTime", start), ("endTime", end), *extra.items()]
