"""GET billingUsage: quantities per local day, grouped by the requested dimensions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fwcost.dates import day_bounds, rfc3339
from fwcost.simulator.account import SimulatedAccount
from fwcost.simulator.catalog import ANNOTATIONS, Kind
from fwcost.simulator.wire import invalid, local_days_inside

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


APPLICABLE = {
    Kind.TEXT: set(SERVERLESS_DIMENSIONS + ANNOTATION_DIMENSIONS),
    Kind.AUDIO: set(SERVERLESS_DIMENSIONS + ANNOTATION_DIMENSIONS),
    Kind.DEDICATED: set(DEDICATED_DIMENSIONS + ANNOTATION_DIMENSIONS),
    Kind.TRAINING: set(TRAINING_DIMENSIONS + ANNOTATION_DIMENSIONS),
}


def validate_group_by(group_by: Sequence[str], unknown: Sequence[str] = ()) -> None:
    """A 400 for a dimension no stream has, or one this gateway does not know (`unknown`)."""
    known = set(SERVERLESS_DIMENSIONS + DEDICATED_DIMENSIONS + TRAINING_DIMENSIONS)
    known |= set(ANNOTATION_DIMENSIONS)
    known -= set(unknown)
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
