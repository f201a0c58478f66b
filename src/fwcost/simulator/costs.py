"""POST usageCosts:query: rated serverless text-completion dollars, grouped and paginated."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fwcost.dates import day_bounds, local_midnight, rfc3339
from fwcost.simulator.account import SimulatedAccount
from fwcost.simulator.catalog import Kind, Stream
from fwcost.simulator.wire import (
    invalid,
    money,
    parse_timezone,
    parse_window,
)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
COST_DIMENSIONS = ("HOUR", "DAY", "MODEL", "USER", "API_KEY")
UNATTRIBUTED = "unattributed"


@dataclass(frozen=True, slots=True)
class CostQuery:
    start: datetime
    end: datetime
    scope: str
    group_by: tuple[str, ...]
    tz: ZoneInfo
    page_size: int
    offset: int
    fingerprint: str


def parse_cost_query(body: Any) -> CostQuery:
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    start, end = parse_window(body.get("startTime"), body.get("endTime"))
    scope = body.get("scope") or "ACCOUNT"
    if scope not in ("ACCOUNT", "SELF"):
        raise invalid(f"scope must be ACCOUNT or SELF, got {scope!r}")
    group_by = _cost_group_by(body.get("groupBy") or [])
    page_size = body.get("pageSize") or DEFAULT_PAGE_SIZE
    if isinstance(page_size, str) and page_size.isdigit():  # proto3 JSON parsers accept these
        page_size = int(page_size) or DEFAULT_PAGE_SIZE
    if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 0:
        raise invalid(f"pageSize must be a positive integer, got {page_size!r}")
    tz = parse_timezone(body.get("timezone"))
    fingerprint = _fingerprint(body)
    offset = _decode_token(body.get("pageToken") or "", fingerprint)
    return CostQuery(
        start, end, scope, group_by, tz, min(page_size, MAX_PAGE_SIZE), offset, fingerprint
    )


def _cost_group_by(group_by: Any) -> tuple[str, ...]:
    if not isinstance(group_by, list) or not all(isinstance(d, str) for d in group_by):
        raise invalid("groupBy must be a list of strings")
    unknown = [d for d in group_by if d not in COST_DIMENSIONS]
    if unknown:
        raise invalid(f"groupBy {unknown} not supported; use up to two of {list(COST_DIMENSIONS)}")
    if len(group_by) > 2 or len(set(group_by)) != len(group_by):
        raise invalid(f"groupBy takes up to two distinct dimensions, got {group_by}")
    if {"HOUR", "DAY"} <= set(group_by):
        raise invalid("groupBy cannot combine HOUR and DAY")
    return tuple(group_by)


def _fingerprint(body: Mapping[str, Any]) -> str:
    query = {k: v for k, v in body.items() if k not in ("pageToken", "pageSize")}
    digest = hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def _encode_token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{fingerprint}:{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        owner, offset = base64.urlsafe_b64decode(padded).decode().split(":")
        if owner != fingerprint:
            raise ValueError(owner)
        return int(offset)
    except ValueError:
        raise invalid("pageToken is not valid for this query (was the query changed?)") from None


def usage_costs(account: SimulatedAccount, query: CostQuery, caller_key_id: str) -> dict[str, Any]:
    rows = _cost_rows(account, query, caller_key_id)
    page = rows[query.offset : query.offset + query.page_size]
    response: dict[str, Any] = {
        "rows": [
            {"dimensions": dims, "subtotal": money(cost)} if dims else {"subtotal": money(cost)}
            for dims, cost in page
        ],
        "subtotal": money(sum(cost for _, cost in rows)),
    }
    if not response["rows"]:
        del response["rows"]
    if query.offset + query.page_size < len(rows):
        response["nextPageToken"] = _encode_token(query.offset + query.page_size, query.fingerprint)
    response["attributionCompleteness"] = "COMPLETE"
    response["evaluationTime"] = rfc3339(query.end)
    return response


def _time_buckets(query: CostQuery) -> Iterator[tuple[datetime, datetime, str | None]]:
    """[start, end) pieces of the range, clipped to it, with the bucket's startTime label."""
    if not {"HOUR", "DAY"} & set(query.group_by):
        yield query.start, query.end, None
        return
    day = query.start.astimezone(query.tz).date()
    while local_midnight(day, query.tz) < query.end:
        bounds = day_bounds(day, query.tz)
        # In UTC: arithmetic on datetimes sharing a zone is wall-clock, blind to DST.
        edge, day_end = bounds.start.astimezone(UTC), bounds.end.astimezone(UTC)
        step = timedelta(hours=1) if "HOUR" in query.group_by else day_end - edge
        while edge < day_end:
            stop = min(edge + step, day_end)
            if stop > query.start and edge < query.end:
                yield max(edge, query.start), min(stop, query.end), rfc3339(edge)
            edge = stop
        day += timedelta(days=1)


def _cost_rows(
    account: SimulatedAccount, query: CostQuery, caller_key_id: str
) -> list[tuple[dict[str, Any], int]]:
    rows: list[tuple[dict[str, Any], int]] = []
    for start, end, label in _time_buckets(query):
        groups: dict[tuple[str, ...], int] = {}
        for stream, quantities in zip(account.streams, account.quantities(start, end), strict=True):
            if quantities is None or stream.kind is not Kind.TEXT:
                continue
            key_id = stream.key.key_id if stream.key else ""
            if query.scope == "SELF" and key_id != caller_key_id:
                continue
            values = tuple(
                _cost_value(stream, d) for d in query.group_by if d not in ("HOUR", "DAY")
            )
            groups[values] = groups.get(values, 0) + account.stream_cost_nanos(stream, quantities)
        rows += [
            (_cost_dimensions(query, label, values), cost)
            for values, cost in sorted(groups.items())
        ]
    return rows


def _cost_value(stream: Stream, dimension: str) -> str:
    if dimension == "MODEL":
        assert stream.model is not None
        return stream.model.name
    if stream.key is None:
        return UNATTRIBUTED
    return stream.key.user if dimension == "USER" else stream.key.key_id


def _cost_dimensions(query: CostQuery, label: str | None, values: Iterable[str]) -> dict[str, Any]:
    dims: dict[str, Any] = {}
    if label is not None:
        dims["startTime"] = label
    names = {"MODEL": "model", "USER": "user", "API_KEY": "apiKeyId"}
    value_dims = [d for d in query.group_by if d in names]
    unattributed = []
    for dimension, value in zip(value_dims, values, strict=True):
        dims[names[dimension]] = value
        if value == UNATTRIBUTED:
            unattributed.append(dimension)
    if unattributed:
        dims["unattributedDimensions"] = unattributed
    return dims
