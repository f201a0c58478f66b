"""The simulator over real HTTP: auth, errors, DST buckets, grouping, proto3 JSON, pagination,
scopes, and the three endpoints agreeing to the nano."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sim_http import CONFIG, COSTS, REPORT_DAY, SUMMARY, USAGE, day_range

from fwcost.simulator import RunningSimulator, SimulatedAccount

LA = ZoneInfo("America/Los_Angeles")
# The report day as a Los Angeles calendar day, in UTC.
LA_DAY = day_range("2026-11-21T08:00:00Z", "2026-11-22T08:00:00Z", timezone="America/Los_Angeles")


def money(value: dict[str, Any]) -> Decimal:
    return Decimal(value.get("units", "0")) + Decimal(value.get("nanos", 0)) / 10**9


def assert_status(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["message"]
    assert body["details"] == []
    return body


def all_pages(client: httpx.Client, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    token = ""
    while True:
        response = client.post(COSTS, json=query | ({"pageToken": token} if token else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        yield page
        token = page.get("nextPageToken", "")
        if not token:
            return


# ---- auth and addressing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer fw_wrong"}, {"Authorization": CONFIG.api_key}]
)
@pytest.mark.parametrize("path", [USAGE, SUMMARY])
def test_a_missing_or_wrong_bearer_key_is_401(
    sim: RunningSimulator, headers: dict[str, str], path: str
) -> None:
    response = httpx.get(sim.base_url + path, params=day_range(), headers=headers)
    assert_status(response, 401, 16)


def test_usage_costs_without_a_key_is_401(sim: RunningSimulator) -> None:
    response = httpx.post(sim.base_url + COSTS, json={})
    assert_status(response, 401, 16)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/accounts/other-account/billingUsage",
        "/v1/accounts/accounts/acme-ai/billingUsage",  # the resource name is not accepted
        "/v1/accounts/other-account/billing/summary",
    ],
)
def test_an_unknown_account_is_404(client: httpx.Client, path: str) -> None:
    assert_status(client.get(path, params=day_range()), 404, 5)


def test_an_unknown_account_on_usage_costs_is_404(client: httpx.Client) -> None:
    body = {"startTime": "2026-11-21T00:00:00Z", "endTime": "2026-11-22T00:00:00Z"}
    assert_status(client.post("/v1/accounts/nope/usageCosts:query", json=body), 404, 5)


# ---- request validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (day_range("2026-10-01T00:00:00Z", "2026-11-01T00:00:01Z"), "31 days"),
        (day_range("2026-11-22T00:00:00Z", "2026-11-21T00:00:00Z"), "after"),
        (day_range("2026-11-21T00:00:00Z", "2026-11-21T00:00:00Z"), "after"),
        ([("endTime", "2026-11-22T00:00:00Z")], "startTime is required"),
        ([("startTime", "2026-11-22T00:00:00Z")], "endTime is required"),
        (day_range("yesterday"), "RFC 3339"),
        (day_range("2026-11-21T00:00:00"), "offset"),
        (day_range(timezone="Mars/Olympus_Mons"), "IANA"),
        (day_range(usageType="EVERYTHING"), "usageType"),
        (day_range(groupBy="colour"), "colour"),
    ],
)
def test_bad_billing_usage_requests_are_400(client: httpx.Client, params: Any, words: str) -> None:
    body = assert_status(client.get(USAGE, params=params), 400, 3)
    assert words in body["message"]


def test_exactly_31_days_is_accepted(client: httpx.Client) -> None:
    params = day_range("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", usageType="TRAINING")
    assert client.get(USAGE, params=params).status_code == 200


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"startTime": "2026-10-01T00:00:00Z", "endTime": "2026-11-02T00:00:00Z"}, "31 days"),
        ({"startTime": None}, "startTime is required"),
        ({"startTime": "2026-11-22T00:00:00Z", "endTime": "2026-11-21T00:00:00Z"}, "after"),
        ({"groupBy": ["DAY", "HOUR"]}, "HOUR and DAY"),
        ({"groupBy": ["DAY", "MODEL", "API_KEY"]}, "up to two"),
        ({"groupBy": ["TEAM"]}, "TEAM"),
        ({"scope": "EVERYONE"}, "scope"),
        ({"pageSize": -1}, "pageSize"),
        ({"pageToken": "bm90LWEtdG9rZW4"}, "pageToken"),
        ({"timezone": "Nowhere/City"}, "IANA"),
    ],
)
def test_bad_usage_costs_requests_are_400(
    client: httpx.Client, body: dict[str, Any], words: str
) -> None:
    query = {"startTime": "2026-11-21T00:00:00Z", "endTime": "2026-11-22T00:00:00Z"} | body
    answer = assert_status(client.post(COSTS, json=query), 400, 3)
    assert words in answer["message"]


def test_a_usage_costs_body_that_is_not_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        COSTS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_status(response, 400, 3)


def test_summary_needs_an_end_date_after_the_start_date(client: httpx.Client) -> None:
    params = day_range("2026-11-21T00:00:00Z", "2026-11-21T23:00:00Z")
    assert_status(client.get(SUMMARY, params=params), 400, 3)


# ---- daily buckets and DST --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        ("2026-03-08", "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z"),  # 23 hours
        ("2026-11-01", "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z"),  # 25 hours
        ("2026-11-21", "2026-11-21T08:00:00Z", "2026-11-22T08:00:00Z"),  # 24 hours
    ],
)
def test_daily_buckets_are_local_days_even_across_dst(
    client: httpx.Client, day: str, start: str, end: str
) -> None:
    # Given a range of three Los Angeles days around the day in question
    params = day_range(
        f"{day}T00:00:00+14:00",
        f"{day}T23:59:00-12:00",
        timezone="America/Los_Angeles",
        groupBy="model_name",
    )
    # When billingUsage and the summary are asked for it in that timezone
    usage = client.get(USAGE, params=params).json()
    next_day = date.fromisoformat(day) + timedelta(days=1)
    summary_params = day_range(
        day, next_day.isoformat(), timezone="America/Los_Angeles", granularity="DAILY"
    )
    summary = client.get(SUMMARY, params=summary_params).json()
    # Then the day's bucket spans exactly its local midnights, in UTC Z form
    spans = {(row["startTime"], row["endTime"]) for row in usage["serverlessCosts"]}
    assert (start, end) in spans
    [bucket] = summary["usageBuckets"]
    assert (bucket["startTime"], bucket["endTime"]) == (start, end)


def test_days_the_range_cuts_are_left_out(client: httpx.Client) -> None:
    params = day_range("2026-11-20T12:00:00Z", "2026-11-23T12:00:00Z")
    rows = client.get(USAGE, params=params).json()["serverlessCosts"]
    assert {row["startTime"] for row in rows} == {"2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"}


# ---- grouping ---------------------------------------------------------------------------------

SERVERLESS_DIMS = [
    "model_name",
    "api_key_id",
    "api_key_name",
    "annotations.team",
    "annotations.project",
    "annotations.environment",
    "team",
]
DEDICATED_DIMS = [
    "deployment_name",
    "accelerator_type",
    "annotations.team",
    "annotations.project",
    "annotations.environment",
]
TRAINING_DIMS = [
    "job_id",
    "job_type",
    "usage_type",
    "accelerator_type",
    "base_model",
    "annotations.team",
]


@pytest.mark.parametrize(
    ("usage_type", "field", "dimension"),
    [("SERVERLESS", "serverlessCosts", d) for d in SERVERLESS_DIMS]
    + [("DEDICATED_DEPLOYMENT", "dedicatedCosts", d) for d in DEDICATED_DIMS]
    + [("TRAINING", "trainingCosts", d) for d in TRAINING_DIMS],
)
def test_every_documented_dimension_groups_rows(
    client: httpx.Client, usage_type: str, field: str, dimension: str
) -> None:
    params = day_range(
        "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z", usageType=usage_type, groupBy=dimension
    )
    rows = client.get(USAGE, params=params).json()[field]
    keys = [(row["usageType"], row["group"][dimension]) for row in rows]
    assert all(set(row["group"]) == {dimension} for row in rows)
    assert len(keys) == len(set(keys)), "one row per value and usage type"


def test_dimensions_that_do_not_apply_are_ignored(client: httpx.Client) -> None:
    thursday = day_range("2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z", groupBy="api_key_id")
    params = [*thursday, ("groupBy", "deployment_name")]
    body = client.get(USAGE, params=params).json()
    assert all(set(r["group"]) == {"api_key_id"} for r in body["serverlessCosts"])
    assert all(set(r["group"]) == {"deployment_name"} for r in body["dedicatedCosts"])
    # Neither applies to training: its rows are summed per day, with no group at all.
    assert [("group" in r) for r in body["trainingCosts"]] == [False]


def test_without_group_by_serverless_is_by_model_dedicated_by_deployment_and_accelerator(
    client: httpx.Client,
) -> None:
    body = client.get(USAGE, params=day_range()).json()
    assert all(set(r["group"]) == {"model_name"} for r in body["serverlessCosts"])
    assert all(r["modelName"] == r["group"]["model_name"] for r in body["serverlessCosts"])
    for row in body["dedicatedCosts"]:
        assert set(row["group"]) == {"deployment_name", "accelerator_type"}
        assert row["group"]["deployment_name"].endswith("/deployments/" + row["deploymentId"])
        assert row["acceleratorType"] in ("NVIDIA_H100_80GB", "NVIDIA_A100_80GB")
        assert {"baseModel", "placement"} <= set(row)


def test_grouped_by_key_rows_fill_the_deprecated_fields(client: httpx.Client) -> None:
    params = [*day_range(usageType="SERVERLESS", groupBy="model_name"), ("groupBy", "api_key_id")]
    rows = client.get(USAGE, params=params).json()["serverlessCosts"]
    keyed = [r for r in rows if r["group"]["api_key_id"]]
    assert keyed
    assert all(r["apiKeyId"] == r["group"]["api_key_id"] for r in keyed)
    assert all(r["modelName"] == r["group"]["model_name"] for r in rows)
    # Usage sent with no API key shows an empty key id, and no deprecated twin.
    keyless = [r for r in rows if not r["group"]["api_key_id"]]
    assert keyless
    assert all("apiKeyId" not in r for r in keyless)


def test_the_filter_parameter_is_accepted_but_not_applied(client: httpx.Client) -> None:
    plain = client.get(USAGE, params=day_range(groupBy="api_key_id"))
    filtered = client.get(USAGE, params=[*day_range(groupBy="api_key_id"), ("filter[api_key_id][values]", "key_nope")])  # fmt: skip
    assert filtered.status_code == 200
    assert filtered.content == plain.content


# ---- proto3 JSON ------------------------------------------------------------------------------

INT64_FIELDS = {
    "promptTokens",
    "completionTokens",
    "cachedPromptTokens",
    "uncachedPromptTokens",
    "acceleratorSeconds",
    "units",
}


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for name, item in value.items():
            if key != "group":  # map entries are printed even when empty
                yield name, item
            yield from _walk(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)


def test_int64_fields_are_strings_and_zero_fields_are_omitted(client: httpx.Client) -> None:
    # Given responses with every kind of row and line item
    usage = client.get(USAGE, params=day_range(groupBy="api_key_id")).json()
    summary = client.get(SUMMARY, params=day_range(granularity="DAILY")).json()
    costs = client.post(
        COSTS,
        json={
            "startTime": "2026-11-21T00:00:00Z",
            "endTime": "2026-11-22T00:00:00Z",
            "groupBy": ["API_KEY"],
            "pageSize": 1000,
        },
    ).json()
    seen = set()
    for name, value in [*_walk(usage), *_walk(summary), *_walk(costs)]:
        # Then no field is zero or empty, and int64s are strings of digits
        assert value not in (0, "", [], {}, "0", None), name
        if name in INT64_FIELDS:
            assert isinstance(value, str), (name, value)
            assert value.lstrip("-").isdigit(), (name, value)
            seen.add(name)
    assert seen == INT64_FIELDS
    audio = [r for r in usage["serverlessCosts"] if "audioInputSeconds" in r]
    assert audio
    assert all(isinstance(r["audioInputSeconds"], int | float) for r in audio)
    assert all("promptTokens" not in r for r in audio)


def test_some_rows_carry_cached_token_fields_and_some_do_not(client: httpx.Client) -> None:
    rows = client.get(USAGE, params=day_range(usageType="SERVERLESS")).json()["serverlessCosts"]
    cached = [r for r in rows if "cachedPromptTokens" in r]
    assert 0 < len(cached) < len(rows)
    for row in cached:
        total = int(row["cachedPromptTokens"]) + int(row["uncachedPromptTokens"])
        assert total == int(row["promptTokens"])


# ---- usageCosts:query: pagination and scopes --------------------------------------------------


def test_pagination_visits_every_row_exactly_once(client: httpx.Client) -> None:
    # Given a query with many rows, read 7 at a time
    query = {
        "startTime": "2026-11-19T00:00:00Z",
        "endTime": "2026-11-22T00:00:00Z",
        "scope": "ACCOUNT",
        "groupBy": ["DAY", "API_KEY"],
    }
    pages = list(all_pages(client, query | {"pageSize": 7}))
    # When read in one page
    [whole] = list(all_pages(client, query | {"pageSize": 1000}))
    # Then the small pages are the same rows in the same order, none twice
    rows = [row for page in pages for row in page.get("rows", [])]
    assert rows == whole["rows"]
    assert len(pages) == -(-len(rows) // 7) > 3
    keys = [(r["dimensions"]["startTime"], r["dimensions"]["apiKeyId"]) for r in rows]
    assert len(set(keys)) == len(keys)
    assert "nextPageToken" not in pages[-1]
    assert all(page["subtotal"] == whole["subtotal"] for page in pages)
    assert all(page["attributionCompleteness"] == "COMPLETE" for page in pages)


def test_the_default_page_size_is_100_and_the_maximum_1000(client: httpx.Client) -> None:
    query = {
        "startTime": "2026-10-22T00:00:00Z",
        "endTime": "2026-11-22T00:00:00Z",
        "groupBy": ["DAY", "API_KEY"],
    }
    assert len(client.post(COSTS, json=query).json()["rows"]) == 100
    assert len(client.post(COSTS, json=query | {"pageSize": 5000}).json()["rows"]) == 1000


def test_usage_with_no_key_is_unattributed(client: httpx.Client) -> None:
    query = {
        "startTime": "2026-11-21T00:00:00Z",
        "endTime": "2026-11-22T00:00:00Z",
        "groupBy": ["API_KEY", "USER"],
        "pageSize": 1000,
    }
    rows = client.post(COSTS, json=query).json()["rows"]
    [row] = [r for r in rows if r["dimensions"]["apiKeyId"] == "unattributed"]
    assert row["dimensions"]["user"] == "unattributed"
    assert row["dimensions"]["unattributedDimensions"] == ["API_KEY", "USER"]
    assert all(r["dimensions"]["apiKeyId"].startswith("key_") for r in rows if r is not row)


def test_the_readonly_key_is_refused_account_scope(readonly_client: httpx.Client) -> None:
    query = {
        "startTime": "2026-11-21T00:00:00Z",
        "endTime": "2026-11-22T00:00:00Z",
        "scope": "ACCOUNT",
        "groupBy": ["API_KEY"],
    }
    assert_status(readonly_client.post(COSTS, json=query), 403, 7)
    # It still reads billingUsage and the summary, and its own costs.
    assert readonly_client.get(USAGE, params=day_range()).status_code == 200
    assert readonly_client.get(SUMMARY, params=day_range()).status_code == 200
    own = readonly_client.post(COSTS, json=query | {"scope": "SELF"}).json()
    account = SimulatedAccount(CONFIG)
    assert {r["dimensions"]["apiKeyId"] for r in own["rows"]} == {account.readonly_key.key_id}


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", 23),
        ("2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z", 25),
    ],
)
def test_hour_buckets_add_up_to_the_dst_day(
    client: httpx.Client, start: str, end: str, hours: int
) -> None:
    query = {
        "startTime": start,
        "endTime": end,
        "timezone": "America/Los_Angeles",
        "pageSize": 1000,
    }
    by_hour = client.post(COSTS, json=query | {"groupBy": ["HOUR"]}).json()
    day = client.post(COSTS, json=query | {"groupBy": ["DAY"]}).json()
    assert len(by_hour["rows"]) == hours
    assert day["rows"][0]["dimensions"]["startTime"] == start

    assert sum(money(r["subtotal"]) for r in by_hour["rows"]) == money(day["rows"][0]["subtotal"])


# ---- the three endpoints agree ----------------------------------------------------------------


def _text_items(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in summary["lineItems"] if i["category"] == "Text Completion"]


@pytest.mark.parametrize("tz", ["America/Los_Angeles", "UTC", "Asia/Kolkata"])
def test_costs_agree_across_endpoints_to_the_nano(client: httpx.Client, tz: str) -> None:
    # Given the report day in a timezone, from every endpoint
    zone = ZoneInfo(tz)
    account = SimulatedAccount(CONFIG)
    from fwcost.dates import day_bounds, rfc3339

    bounds = day_bounds(REPORT_DAY, zone)
    start, end = rfc3339(bounds.start), rfc3339(bounds.end)
    summary = client.get(SUMMARY, params=day_range("2026-11-21", "2026-11-22", timezone=tz)).json()
    query = {"startTime": start, "endTime": end, "timezone": tz, "pageSize": 1000}
    by_key = client.post(COSTS, json=query | {"groupBy": ["DAY", "API_KEY"]}).json()
    by_model = client.post(COSTS, json=query | {"groupBy": ["MODEL"]}).json()
    usage = client.get(
        USAGE,
        params=day_range(start, end, timezone=tz, usageType="SERVERLESS", groupBy="model_name"),
    ).json()

    # Then per-key costs add up to the text-completion line items, to the nano
    text_total = sum(money(i["totalCost"]) for i in _text_items(summary))
    assert sum(money(r["subtotal"]) for r in by_key["rows"]) == text_total
    assert money(by_key["subtotal"]) == text_total == money(by_model["subtotal"])
    # and per model, once models billed by size bucket are pooled
    per_line: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    models = {m.name: m for m in account.models}
    for row in by_model["rows"]:
        model = models[row["dimensions"]["model"]]
        per_line[(model.line_key, model.line_value)] += money(row["subtotal"])
    billed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in _text_items(summary):
        billed[(item["groupingKey"], item["groupingValue"])] += money(item["totalCost"])
    assert per_line == billed
    # and billingUsage's tokens are the quantities the summary billed
    tokens = sum(
        int(r.get("promptTokens", 0)) + int(r.get("completionTokens", 0))
        for r in usage["serverlessCosts"]
    )
    assert tokens == round(sum(Decimal(str(i["quantity"])) for i in _text_items(summary)) * 10**6)
    # and the ground truth is the summary's total
    assert account.billed_total(REPORT_DAY, zone) == sum(
        money(i["totalCost"]) for i in summary["lineItems"]
    )


def test_the_summary_total_is_the_sum_of_its_days(client: httpx.Client) -> None:
    params = day_range(
        "2026-11-15T00:00:00Z",
        "2026-11-22T00:00:00Z",
        granularity="DAILY",
        timezone="America/Los_Angeles",
    )
    body = client.get(SUMMARY, params=params).json()
    account = SimulatedAccount(CONFIG)
    days = [date(2026, 11, d) for d in range(15, 22)]
    per_day = [sum(money(i["totalCost"]) for i in b["lineItems"]) for b in body["usageBuckets"]]
    assert per_day == [account.billed_total(d, LA) for d in days]
    assert sum(per_day) == sum(money(i["totalCost"]) for i in body["lineItems"])


def test_summary_dates_count_and_the_end_date_is_excluded(client: httpx.Client) -> None:
    # The reference's example: Oct 5 and Oct 6.
    params = day_range("2025-10-05T00:00:00Z", "2025-10-07T00:00:00Z", granularity="DAILY")
    buckets = client.get(SUMMARY, params=params).json()["usageBuckets"]
    assert [b["startTime"] for b in buckets] == ["2025-10-05T00:00:00Z", "2025-10-06T00:00:00Z"]
    late = day_range("2025-10-05T23:30:00-07:00", "2025-10-07T01:00:00+09:00", granularity="DAILY")
    assert client.get(SUMMARY, params=late).json()["usageBuckets"] == buckets


def test_summary_has_every_kind_of_line_item(client: httpx.Client) -> None:
    thursday = day_range("2026-11-19", "2026-11-20")  # the training job runs on Thursdays
    items = client.get(SUMMARY, params=thursday).json()["lineItems"]
    categories = {i["category"] for i in items}
    assert categories >= {
        "Text Completion",
        "Audio Transcription",
        "Dedicated Deployment",
        "Fine-Tuning",
        "Embeddings",
        "Image Generation",
    }
    batch = [i for i in items if i.get("secondaryGroupingKey") == "is_batch"]
    assert batch
    assert all(i["secondaryGroupingValue"] == "true" for i in batch)
    assert any(i["groupingKey"] == "model_bucket" for i in items)
    assert any(i["groupingKey"] == "model" and i["groupingValue"] == "kimi-k2p6" for i in items)
    unmetered = [i for i in items if i["category"] in ("Embeddings", "Image Generation")]
    assert all("series" not in i for i in unmetered)
    h100 = next(i for i in items if i.get("secondaryGroupingValue") == "NVIDIA_H100_80GB")
    assert money(h100["unitAmount"]) == Decimal("4.00")
    assert money(h100["totalCost"]) == Decimal("4.00") * Decimal(str(h100["quantity"]))


def test_an_unknown_method_is_404_and_a_wrong_verb_405(client: httpx.Client) -> None:
    assert_status(client.get("/v1/accounts/acme-ai/invoices"), 404, 5)
    assert_status(client.post(USAGE, json={}), 405, 12)
    assert_status(client.get(COSTS), 405, 12)
