"""What crosses the wire for every endpoint: request refusals (google.rpc.Status), parsing of
times and timezones, and google.type.Money.

Everything is proto3 JSON: int64 as strings, zero and empty fields omitted.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fwcost.dates import day_bounds, local_midnight
from fwcost.simulator.prices import NANOS_PER_USD

MAX_WINDOW = timedelta(days=31)
GRPC_INVALID_ARGUMENT = 3
GRPC_PERMISSION_DENIED = 7


class ApiError(Exception):
    """A request the API refuses: HTTP status, google.rpc code and a message naming the problem."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> ApiError:
    return ApiError(400, GRPC_INVALID_ARGUMENT, message)


# ---- parsing ----------------------------------------------------------------------------------


def parse_instant(value: str | None, name: str) -> datetime:
    if not value:
        raise invalid(f"{name} is required (RFC 3339, e.g. 2026-11-21T00:00:00Z)")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(f"{name} must be an RFC 3339 timestamp, got {value!r}") from None
    if instant.tzinfo is None:
        raise invalid(f"{name} must carry an offset or Z, got {value!r}")
    return instant


def parse_window(start_text: str | None, end_text: str | None) -> tuple[datetime, datetime]:
    """startTime/endTime of billingUsage and usageCosts:query: end after start, at most 31 days."""
    start = parse_instant(start_text, "startTime")
    end = parse_instant(end_text, "endTime")
    if end <= start:
        raise invalid(f"endTime {end_text} must be after startTime {start_text}")
    if end - start > MAX_WINDOW:
        raise invalid(
            f"the range {start_text} .. {end_text} exceeds 31 days; split it into windows"
        )
    return start, end


def parse_timezone(name: str | None) -> ZoneInfo:
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(
            f"timezone must be an IANA name like America/Los_Angeles, got {name!r}"
        ) from None


def date_part(value: str | None, name: str) -> date:
    if not value:
        raise invalid(f"{name} is required (e.g. 2025-10-05T00:00:00Z)")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise invalid(f"{name} must start with a date like 2025-10-05, got {value!r}") from None


def local_days_inside(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    """The local calendar days of tz lying wholly inside [start, end)."""
    day = start.astimezone(tz).date()
    days = []
    while local_midnight(day, tz) < end:
        bounds = day_bounds(day, tz)
        if bounds.start >= start and bounds.end <= end:
            days.append(day)
        day += timedelta(days=1)
    return days


# ---- money ------------------------------------------------------------------------------------


def money(nanos: int) -> dict[str, Any]:
    """google.type.Money from nano-USD: units and nanos share the sign; zeros are omitted."""
    units = abs(nanos) // NANOS_PER_USD
    rest = abs(nanos) % NANOS_PER_USD
    sign = -1 if nanos < 0 else 1
    result: dict[str, Any] = {"currencyCode": "USD"}
    if units:
        result["units"] = str(sign * units)
    if rest:
        result["nanos"] = sign * rest
    return result
