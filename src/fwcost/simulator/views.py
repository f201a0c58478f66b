"""The three endpoints' responses as JSON-ready dicts, from parsed requests (no HTTP here).

Everything is proto3 JSON: int64 as strings, zero and empty fields omitted, Money as
google.type.Money. Request problems raise ApiError, which the server turns into google.rpc.Status.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fwcost.dates import day_bounds, local_midnight, rfc3339
from fwcost.simulator.account import SimulatedAccount
from fwcost.simulator.catalog import ANNOTATIONS, Kind, LineKey, Stream
from fwcost.simulator.prices import NANOS_PER_USD

MAX_WINDOW = timedelta(days=31)
MAX_SUMMARY_DAYS = 366  # billing/summary documents no cap; this only bounds the work
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
GRPC_INVALID_ARGUMENT = 3
GRPC_PERMISSION_DENIED = 7

SERVERLESS_DIMENSIONS = ("model_name", "api_key_id", "api_key_name")
DEDICATED_DIMENSIONS = ("deployment_name", "accelerator_type")
TRAINING_DIMENSIONS = ("job_id", "job_type", "usage_type", "accelerator_type", "base_model")
# Annotation dimensions are documented as annotations.<name>; the bare <name> is accepted too.
ANNOTATION_DIMENSIONS = tuple(f"annotations.{name}" for name in ANNOTATIONS) + ANNOTATIONS
DEFAULT_GROUP_BY = {
    Kind.TEXT: ("model_name",),
    Kind.AUDIO: ("model_name",),
    Kind.DEDICATED: ("deployment_name", "accelerator_type"),
    Kind.TRAINING: ("job_id", "accelerator_type"),
}
STREAM_KINDS = {
    "SERVERLESS": (Kind.TEXT, Kind.AUDIO),
    "DEDICATED_DEPLOYMENT": (Kind.DEDICATED,),
    "TRAINING": (Kind.TRAINING,),
}
KIND_BY_NAME = {kind.value: kind for kind in Kind}
ALL_METERED = (Kind.TEXT, Kind.AUDIO, Kind.DEDICATED, Kind.TRAINING)
RESPONSE_FIELD = {
    Kind.TEXT: "serverlessCosts",
    Kind.AUDIO: "serverlessCosts",
    Kind.DEDICATED: "dedicatedCosts",
    Kind.TRAINING: "trainingCosts",
}
COST_DIMENSIONS = ("HOUR", "DAY", "MODEL", "USER", "API_KEY")
UNATTRIBUTED = "unattributed"


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


def _date_part(value: str | None, name: str) -> date:
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


# ---- billingUsage -----------------------------------------------------------------------------


APPLICABLE = {
    Kind.TEXT: set(SERVERLESS_DIMENSIONS + ANNOTATION_DIMENSIONS),
    Kind.AUDIO: set(SERVERLESS_DIMENSIONS + ANNOTATION_DIMENSIONS),
    Kind.DEDICATED: set(DEDICATED_DIMENSIONS + ANNOTATION_DIMENSIONS),
    Kind.TRAINING: set(TRAINING_DIMENSIONS + ANNOTATION_DIMENSIONS),
}


def validate_group_by(group_by: Sequence[str]) -> None:
    known = set(SERVERLESS_DIMENSIONS + DEDICATED_DIMENSIONS + TRAINING_DIMENSIONS)
    known |= set(ANNOTATION_DIMENSIONS)
    for dimension in group_by:
        if dimension not in known:
            raise invalid(
                f"groupBy {dimension!r} is not a known dimension; use one of {sorted(known)}"
            )


def kinds_for(usage_type: str | None) -> tuple[Kind, ...]:
    if usage_type in (None, "", "USAGE_TYPE_UNSPECIFIED"):
        return ALL_METERED
    if usage_type not in STREAM_KINDS:
        raise invalid(f"usageType must be one of {list(STREAM_KINDS)}, got {usage_type!r}")
    return STREAM_KINDS[usage_type]


@dataclass(frozen=True, slots=True)
class UsageQuery:
    start: datetime
    end: datetime
    kinds: tuple[Kind, ...]
    tz: ZoneInfo
    group_by: tuple[str, ...]


def billing_usage(account: SimulatedAccount, query: UsageQuery) -> dict[str, Any]:
    response: dict[str, list[dict[str, Any]]] = {}
    # Per kind, the requested dimensions that apply to it (the defaults when none was asked).
    dims_by_kind = {
        kind.value: tuple(
            d for d in query.group_by or DEFAULT_GROUP_BY[kind] if d in APPLICABLE[kind]
        )
        for kind in query.kinds
    }
    for day in local_days_inside(query.start, query.end, query.tz):
        bounds = day_bounds(day, query.tz)
        span = (rfc3339(bounds.start), rfc3339(bounds.end))
        groups: dict[tuple[str, str, tuple[str, ...]], list[int]] = {}
        # The loop runs once per stream (100k at scale): plain strings and lists, no enums.
        streams = zip(
            account.kind_names,
            account.usage_types,
            account.dimensions,
            account.day_quantities(day, query.tz),
            strict=True,
        )
        for kind_name, usage_type, dimensions, quantities in streams:
            dims = dims_by_kind.get(kind_name)
            if quantities is None or dims is None:
                continue
            slot = (kind_name, usage_type, tuple([dimensions[d] for d in dims]))
            total = groups.get(slot)
            # Cached quantity lists are shared, so sums always make new lists.
            groups[slot] = (
                quantities
                if total is None
                else [a + b for a, b in zip(total, quantities, strict=True)]
            )
        # Rows keep the account's stream order: stable, and no 100k-row sort per request.
        for (kind_name, usage_type, values), totals in groups.items():
            kind = KIND_BY_NAME[kind_name]
            group = dict(zip(dims_by_kind[kind_name], values, strict=True))
            row = _usage_row(kind, usage_type, group, totals, span)
            response.setdefault(RESPONSE_FIELD[kind], []).append(row)
    _add_deployment_facts(account, response)
    return response


def _usage_row(
    kind: Kind, usage_type: str, group: dict[str, str], totals: list[int], span: tuple[str, str]
) -> dict[str, Any]:
    if kind is Kind.TEXT or kind is Kind.AUDIO:
        row = _serverless_row(kind, group, totals, span)
    elif kind is Kind.DEDICATED:
        row = _gpu_row(group, span, totals[0], "deploymentId", "deployment_name")
    else:
        row = _gpu_row(group, span, totals[0], "jobId", "job_id")
        for dimension, field in (("job_type", "jobType"), ("base_model", "baseModel")):
            if group.get(dimension):
                row[field] = group[dimension]
    row["usageType"] = usage_type
    if group:
        row["group"] = group
    return row


def _serverless_row(
    kind: Kind, group: dict[str, str], totals: list[int], span: tuple[str, str]
) -> dict[str, Any]:
    row: dict[str, Any] = {"startTime": span[0], "endTime": span[1]}
    model_name, api_key_id = group.get("model_name"), group.get("api_key_id")
    if model_name:
        row["modelName"] = model_name  # deprecated twin of group.model_name
    if api_key_id:
        row["apiKeyId"] = api_key_id  # deprecated twin of group.api_key_id
    if kind is Kind.AUDIO:
        row["audioInputSeconds"] = totals[0]
        return row
    uncached, cached, completion = totals
    if uncached or cached:
        row["promptTokens"] = str(uncached + cached)
    if completion:
        row["completionTokens"] = str(completion)
    if cached:
        row["cachedPromptTokens"] = str(cached)
        row["uncachedPromptTokens"] = str(uncached)
    return row


def _gpu_row(
    group: dict[str, str], span: tuple[str, str], seconds: int, id_field: str, id_dimension: str
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if group.get(id_dimension):
        row[id_field] = group[id_dimension].rsplit("/", 1)[-1]
    if group.get("accelerator_type"):
        row["acceleratorType"] = group["accelerator_type"]
    if seconds:
        row["acceleratorSeconds"] = str(seconds)
    row["startTime"], row["endTime"] = span
    return row


def _add_deployment_facts(account: SimulatedAccount, response: Mapping[str, Any]) -> None:
    """Fill baseModel and placement on dedicated rows whose deployment is known."""
    facts = {s.deployment.deployment_id: s.deployment for s in account.streams if s.deployment}
    for row in response.get("dedicatedCosts", []):
        deployment = facts.get(row.get("deploymentId", ""))
        if deployment:
            row["baseModel"] = deployment.base_model
            row["placement"] = deployment.placement


# ---- billing/summary --------------------------------------------------------------------------


def summary_days(start_text: str | None, end_text: str | None) -> list[date]:
    """Only the date part counts and the end date is excluded (the Oct 5/6 example)."""
    first = _date_part(start_text, "startTime")
    stop = _date_part(end_text, "endTime")
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


# ---- usageCosts:query -------------------------------------------------------------------------


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
