"""GET billing/summary: rated line items per calendar day and for the whole range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fwcost.dates import day_bounds, rfc3339
from fwcost.simulator.account import SimulatedAccount
from fwcost.simulator.catalog import LineKey
from fwcost.simulator.wire import date_part, invalid, money

MAX_SUMMARY_DAYS = 366  # billing/summary documents no cap; this only bounds the work


def summary_days(start_text: str | None, end_text: str | None) -> list[date]:
    """Only the date part counts and the end date is excluded (the Oct 5/6 example)."""
    first = date_part(start_text, "startTime")
    stop = date_part(end_text, "endTime")
    if stop <= first:
        raise invalid(f"endTime's date {stop} must be after startTime's date {first}")
    if (stop - first).days > MAX_SUMMARY_DAYS:
        raise invalid(f"the range {first} .. {stop} exceeds {MAX_SUMMARY_DAYS} days")
    return [first + timedelta(days=n) for n in range((stop - first).days)]


def billing_summary(
    account: SimulatedAccount, days: Sequence[date], tz: ZoneInfo, daily: bool
) -> dict[str, Any]:
    overall: dict[LineKey, tuple[int, int]] = {}
    buckets = []
    for day in days:
        bounds = day_bounds(day, tz)
        items = account.line_items(bounds.start, bounds.end)
        for line, (raw, cost) in items.items():
            previous_raw, previous_cost = overall.get(line, (0, 0))
            overall[line] = (previous_raw + raw, previous_cost + cost)
        bucket: dict[str, Any] = {
            "startTime": rfc3339(bounds.start),
            "endTime": rfc3339(bounds.end),
        }
        if items:
            bucket["lineItems"] = line_items_json(items)
        buckets.append(bucket)
    response: dict[str, Any] = {}
    if overall:
        response["lineItems"] = line_items_json(overall)
    if daily and buckets:
        response["usageBuckets"] = buckets
    return response


def line_items_json(items: Mapping[LineKey, tuple[int, int]]) -> list[dict[str, Any]]:
    return [
        _line_item(line, raw, cost) for line, (raw, cost) in sorted(items.items(), key=_line_order)
    ]


def _line_order(item: tuple[LineKey, tuple[int, int]]) -> tuple[str, ...]:
    line = item[0]
    return line.category, line.grouping_value, line.secondary_key, line.secondary_value


def _line_item(line: LineKey, raw: int, cost: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "category": line.category,
        "groupingKey": line.grouping_key,
        "groupingValue": line.grouping_value,
    }
    if line.secondary_key:
        item["secondaryGroupingKey"] = line.secondary_key
        item["secondaryGroupingValue"] = line.secondary_value
    if line.series:
        item["series"] = line.series
    # unitAmount is the price per reported unit; for models with separate input/cached/output
    # prices it is the blended rate, rounded to the nano. totalCost is always exact.
    unit = (Decimal(cost) * line.unit_divisor / raw).quantize(Decimal(1), ROUND_HALF_EVEN)
    item["quantity"] = raw / line.unit_divisor
    item["unitAmount"] = money(int(unit))
    item["totalCost"] = money(cost)
    return item
