"""Real HTTP responses of billingUsage and billing/summary checked against the OpenAPI subset.

Validation uses jsonschema (already a dev dependency) on the operations' 200 response schemas,
with the whole spec registered so its $refs resolve. OpenAPI 3.1 schemas are JSON Schema
2020-12, so no OpenAPI-specific validator is needed; jsonschema leaves `int64`, `int32` and
`double` unchecked, so this module adds format checkers for them (an int64 must be a JSON string
of digits, as proto3 JSON sends it) and a strict date-time one.

The subset sets no additionalProperties, so fields newer than the spec pass; the tests also pin
every field name to the spec's properties or to the short list of newer fields the reference
names, so the simulator cannot drift into inventing fields.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sim_http import SUMMARY, USAGE, day_range

SPEC_PATH = Path(__file__).parents[2] / "contract" / "fireworks-billing-openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
SPEC_URI = "urn:fireworks-billing-openapi"
INT64 = re.compile(r"^-?[0-9]+$")

# Fields the reference documents beyond the OpenAPI subset (newer schema, third-party code).
NEWER_FIELDS = {
    "gatewayAccountUsage": {"trainingCosts"},
    "AccountUsageServerlessUsage": {"cachedPromptTokens", "uncachedPromptTokens"},
    "gatewayGetBillingSummaryResponse": {"usageBuckets"},
    "gatewayLineItem": {"series"},
}
TRAINING_FIELDS = {
    "jobId",
    "jobType",
    "baseModel",
    "acceleratorType",
    "acceleratorSeconds",
    "startTime",
    "endTime",
    "usageType",
    "group",
}

format_checker = FormatChecker()


@format_checker.checks("int64")
def _int64(value: object) -> bool:
    if isinstance(value, str):
        return bool(INT64.match(value)) and -(2**63) <= int(value) < 2**63
    return isinstance(value, int)


@format_checker.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@format_checker.checks("double")
def _double(value: object) -> bool:
    return not isinstance(value, bool)


@format_checker.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value).tzinfo is not None


def _response_validator(path: str) -> Draft202012Validator:
    operation = SPEC["paths"][path]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, DRAFT202012))
    rooted = {"$ref": SPEC_URI + schema["$ref"]}
    return Draft202012Validator(rooted, registry=registry, format_checker=format_checker)


USAGE_VALIDATOR = _response_validator("/v1/accounts/{account_id}/billingUsage")
SUMMARY_VALIDATOR = _response_validator("/v1/accounts/{account_id}/billing/summary")


def _allowed(schema_name: str) -> set[str]:
    properties = set(SPEC["components"]["schemas"][schema_name]["properties"])
    return properties | NEWER_FIELDS.get(schema_name, set())


def _assert_valid(validator: Draft202012Validator, body: Any) -> None:
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def _assert_usage_fields(body: dict[str, Any]) -> None:
    assert set(body) <= _allowed("gatewayAccountUsage")
    for row in body.get("serverlessCosts", []):
        assert set(row) <= _allowed("AccountUsageServerlessUsage"), row
    for row in body.get("dedicatedCosts", []):
        assert set(row) <= _allowed("AccountUsageDedicatedDeploymentUsage"), row
    for row in body.get("trainingCosts", []):
        assert set(row) <= TRAINING_FIELDS, row


def _assert_line_item_fields(items: list[dict[str, Any]]) -> None:
    for item in items:
        assert set(item) <= _allowed("gatewayLineItem"), item
        for money in (item["unitAmount"], item["totalCost"]):
            assert set(money) <= _allowed("typeMoney")


GROUPINGS = [
    [],
    ["model_name"],
    ["model_name", "api_key_id", "api_key_name"],
    ["annotations.team", "annotations.project", "annotations.environment"],
    ["deployment_name", "accelerator_type"],
    ["job_id", "job_type", "usage_type", "accelerator_type", "base_model"],
]


@pytest.mark.parametrize("group_by", GROUPINGS, ids=lambda g: "+".join(g) or "default")
@pytest.mark.parametrize("usage_type", [None, "SERVERLESS", "DEDICATED_DEPLOYMENT", "TRAINING"])
def test_billing_usage_matches_the_spec(
    client: httpx.Client, group_by: list[str], usage_type: str | None
) -> None:
    params = day_range(
        "2026-11-17T00:00:00Z", "2026-11-22T00:00:00Z", timezone="America/Los_Angeles"
    )
    params += [("groupBy", dimension) for dimension in group_by]
    if usage_type:
        params.append(("usageType", usage_type))

    response = client.get(USAGE, params=params)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body, "a five-day range of an active account has rows"
    _assert_valid(USAGE_VALIDATOR, body)
    _assert_usage_fields(body)


@pytest.mark.parametrize("granularity", [None, "DAILY"])
def test_billing_summary_matches_the_spec(client: httpx.Client, granularity: str | None) -> None:
    params = day_range("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z")
    if granularity:
        params.append(("granularity", granularity))

    response = client.get(SUMMARY, params=params)

    assert response.status_code == 200, response.text
    body = response.json()
    _assert_valid(SUMMARY_VALIDATOR, body)
    assert set(body) <= _allowed("gatewayGetBillingSummaryResponse")
    _assert_line_item_fields(body["lineItems"])
    for bucket in body.get("usageBuckets", []):
        assert set(bucket) == {"startTime", "endTime", "lineItems"}
        _assert_valid(SUMMARY_VALIDATOR, {"lineItems": bucket["lineItems"]})
        _assert_line_item_fields(bucket["lineItems"])
    assert ("usageBuckets" in body) == (granularity == "DAILY")


@pytest.mark.parametrize(
    "row",
    [{"promptTokens": 12}, {"promptTokens": "12.5"}, {"startTime": "2026-11-21T00:00:00"}],
)
def test_the_validator_bites(row: dict[str, Any]) -> None:
    # The format checkers must reject these, or the tests above prove little about formats.
    assert list(USAGE_VALIDATOR.iter_errors({"serverlessCosts": [row]}))


def test_the_validator_rejects_money_units_that_are_not_int64() -> None:
    item = {"totalCost": {"currencyCode": "USD", "units": "1.5"}}
    assert list(SUMMARY_VALIDATOR.iter_errors({"lineItems": [item]}))
