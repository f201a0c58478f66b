"""FireworksClient.fetch_window against a scripted Fireworks: what is sent, what comes back."""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

from fireworks_fake import API_KEY, FakeFireworks, json_response, rpc_status
from fwcost.fireworks import (
    FireworksClient,
    FireworksError,
    FireworksHTTPError,
    FireworksParseError,
    normalize_account_id,
)

LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 11, 21)
ANNOTATIONS = ["annotations.team", "annotations.project", "annotations.environment"]
SERVERLESS = ["model_name", "api_key_id", "api_key_name"]
DEDICATED = ["deployment_name", "accelerator_type"]
TRAINING_ONLY = ["job_id", "job_type", "usage_type", "base_model"]


@pytest.fixture
def fake() -> FakeFireworks:
    return FakeFireworks()


def money(units: str, nanos: int = 0) -> dict[str, object]:
    return {"currencyCode": "USD", "units": units, "nanos": nanos}


# --- what is sent -------------------------------------------------------------------------


def test_one_billing_usage_query_asks_every_stream_at_its_finest_grouping(
    fake: FakeFireworks,
) -> None:
    fake.client().fetch_window(DAY, DAY, LA)

    # usageType omitted = every stream; each ignores the dimensions that do not apply to it.
    (request,) = fake.requests_to("usage")
    assert request.method == "GET"
    assert request.url.path == "/v1/accounts/acme-ai/billingUsage"
    assert request.url.params.multi_items() == [
        ("startTime", "2026-11-21T08:00:00Z"),  # local midnight in Los Angeles (PST)
        ("endTime", "2026-11-22T08:00:00Z"),
        ("timezone", "America/Los_Angeles"),
        *[("groupBy", dimension) for dimension in SERVERLESS],
        *[("groupBy", dimension) for dimension in DEDICATED],
        *[("groupBy", dimension) for dimension in TRAINING_ONLY],
        *[("groupBy", dimension) for dimension in ANNOTATIONS],
    ]
    query = request.url.query.decode()
    assert "groupBy=model_name&groupBy=api_key_id&groupBy=api_key_name" in query


def test_windows_over_a_dst_change_start_and_end_at_local_midnight(fake: FakeFireworks) -> None:
    # US daylight saving ends on 2026-11-01: that day lasts 25 hours in Los Angeles.
    fake.client().fetch_window(date(2026, 10, 31), date(2026, 11, 1), LA)

    params = fake.requests_to("usage")[0].url.params
    assert params["startTime"] == "2026-10-31T07:00:00Z"
    assert params["endTime"] == "2026-11-02T08:00:00Z"


def test_billing_summary_sends_dates_with_the_end_excluded(fake: FakeFireworks) -> None:
    fake.client().fetch_window(date(2026, 10, 5), date(2026, 10, 6), LA)

    (request,) = fake.requests_to("summary")
    assert request.url.path == "/v1/accounts/acme-ai/billing/summary"
    assert request.url.params.multi_items() == [
        ("startTime", "2026-10-05T00:00:00Z"),
        ("endTime", "2026-10-07T00:00:00Z"),
        ("granularity", "DAILY"),
        ("timezone", "America/Los_Angeles"),
    ]


def test_usage_costs_query_body_and_pagination(fake: FakeFireworks) -> None:
    # Given three pages chained by nextPageToken, the last one with an empty token
    def page(token: str, key: str, units: str) -> httpx.Response:
        row = {"dimensions": {"startTime": "2026-11-21T08:00:00Z", "apiKeyId": key}}
        return json_response(
            200, {"rows": [{**row, "subtotal": money(units)}], "nextPageToken": token}
        )

    fake.script(
        "usageCosts",
        page("tok-2", "key_a", "1"),
        page("tok-3", "key_b", "2"),
        page("", "key_c", "3"),
    )

    # When the window is pulled
    pull = fake.client().fetch_window(DAY, DAY, LA)

    # Then every page was asked for in turn, with the token of the page before
    bodies = [json.loads(request.content) for request in fake.requests_to("usageCosts")]
    first = {
        "startTime": "2026-11-21T08:00:00Z",
        "endTime": "2026-11-22T08:00:00Z",
        "scope": "ACCOUNT",
        "groupBy": ["DAY", "API_KEY"],
        "pageSize": 1000,
    }
    assert bodies == [first, {**first, "pageToken": "tok-2"}, {**first, "pageToken": "tok-3"}]
    assert all(r.method == "POST" for r in fake.requests_to("usageCosts"))
    assert fake.requests_to("usageCosts")[0].url.path == "/v1/accounts/acme-ai/usageCosts:query"
    # And each page is kept as its own raw response, and every row lands on its day
    names = [raw.name for raw in pull.raw if raw.name.startswith("usageCosts")]
    assert names == ["usageCosts-page-001", "usageCosts-page-002", "usageCosts-page-003"]
    key_costs = pull.days[DAY].key_costs
    assert key_costs is not None
    assert [(cost.api_key_id, cost.cost) for cost in key_costs] == [
        ("key_a", Decimal(1)),
        ("key_b", Decimal(2)),
        ("key_c", Decimal(3)),
    ]


def test_a_repeated_page_token_stops_the_pagination(fake: FakeFireworks) -> None:
    looping = json_response(200, {"rows": [], "nextPageToken": "same"})
    fake.script("usageCosts", looping, json_response(200, {"rows": [], "nextPageToken": "same"}))

    with pytest.raises(FireworksError, match="page token 'same' twice"):
        fake.client().fetch_window(DAY, DAY, LA)
    assert len(fake.requests_to("usageCosts")) == 2


def test_requests_carry_the_key_only_in_the_authorization_header(fake: FakeFireworks) -> None:
    pull = fake.client().fetch_window(DAY, DAY, LA)

    assert len(fake.requests) == 3
    for request in fake.requests:
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        assert API_KEY not in str(request.url)
        assert API_KEY.encode() not in request.content
    for raw in pull.raw:
        assert API_KEY not in repr(raw.params)
        assert API_KEY.encode() not in raw.request_body


def test_all_requests_of_a_window_are_in_flight_together(fake: FakeFireworks) -> None:
    # Every request waits until all three have arrived: sent one by one, the barrier would break.
    barrier = threading.Barrier(3, timeout=5)

    def wait_for_the_others(request: httpx.Request) -> httpx.Response:
        barrier.wait()
        return json_response(200, {})

    for endpoint in ("usage", "summary", "usageCosts"):
        fake.script(endpoint, wait_for_the_others)

    pull = fake.client().fetch_window(DAY, DAY, LA)

    assert len(pull.raw) == 3


def test_account_ids_are_accepted_with_or_without_the_resource_prefix(fake: FakeFireworks) -> None:
    fake.client(account_id="accounts/acme-ai").fetch_window(DAY, DAY, LA)

    assert {request.url.path.split("/")[3] for request in fake.requests} == {"acme-ai"}
    assert normalize_account_id("acme-ai") == "acme-ai"
    assert normalize_account_id(" accounts/acme-ai ") == "acme-ai"


@pytest.mark.parametrize("bad", ["", "accounts/", "acme/ai", "accounts/acme/ai", "acme ai"])
def test_malformed_account_ids_are_refused_clearly(bad: str) -> None:
    with pytest.raises(ValueError, match="account id"):
        normalize_account_id(bad)


def test_windows_longer_than_the_api_allows_are_refused(fake: FakeFireworks) -> None:
    client = fake.client()
    with pytest.raises(ValueError, match="more than 31 days"):
        client.fetch_window(date(2026, 1, 1), date(2026, 2, 1), LA)
    with pytest.raises(ValueError, match="before its start"):
        client.fetch_window(DAY, date(2026, 11, 20), LA)
    assert fake.requests == []


# --- what comes back ----------------------------------------------------------------------


def test_every_day_of_the_window_is_present_and_raw_bodies_are_kept_verbatim(
    fake: FakeFireworks,
) -> None:
    body = b'{"serverlessCosts": [],   "unknownTopLevel": 1}'
    fake.script("usage", httpx.Response(200, content=body))

    pull = fake.client().fetch_window(date(2026, 11, 19), DAY, LA)

    assert list(pull.days) == [date(2026, 11, 19), date(2026, 11, 20), DAY]
    for day_usage in pull.days.values():
        assert day_usage.serverless == day_usage.dedicated == day_usage.training == []
        assert day_usage.line_items == []
        assert day_usage.key_costs == []
        assert day_usage.gaps == []
        assert day_usage.has_summary
    assert [raw.name for raw in pull.raw] == [
        "billingUsage",
        "billing-summary",
        "usageCosts-page-001",
    ]
    usage = pull.raw[0]
    assert usage.body == body
    assert (usage.method, usage.status, usage.attempts) == ("GET", 200, 1)
    assert usage.path == "/v1/accounts/acme-ai/billingUsage"
    assert usage.params[2] == ("timezone", "America/Los_Angeles")
    assert usage.request_body == b""
    assert pull.training_offered


def test_rows_of_every_stream_land_on_their_local_day(fake: FakeFireworks) -> None:
    # Given an answer holding all three streams
    everything = {
        "serverlessCosts": [
            {
                "startTime": "2026-11-20T08:00:00Z",
                "promptTokens": "10",
                "group": {"model_name": "m"},
            },
            {
                "startTime": "2026-11-21T08:00:00Z",
                "promptTokens": "20",
                "group": {"model_name": "m"},
            },
        ],
        "dedicatedCosts": [
            {
                "startTime": "2026-11-21T08:00:00Z",
                "acceleratorSeconds": "3600",
                "deploymentId": "d",
            },
        ],
        "trainingCosts": [
            {"startTime": "2026-11-20T08:00:00Z", "acceleratorSeconds": "60", "jobId": "j"},
        ],
    }
    fake.script("usage", json_response(200, everything))

    # When a two-day window is pulled
    pull = fake.client().fetch_window(date(2026, 11, 20), DAY, LA)

    # Then each row is counted once, on its day
    first, second = pull.days[date(2026, 11, 20)], pull.days[DAY]
    assert [row.prompt_tokens for row in first.serverless] == [10]
    assert [row.prompt_tokens for row in second.serverless] == [20]
    assert first.dedicated == []
    assert [row.accelerator_seconds for row in second.dedicated] == [3600]
    assert [row.job_id for row in first.training] == ["j"]
    assert second.training == []


def test_summary_buckets_are_assigned_to_their_days(fake: FakeFireworks) -> None:
    item = {"category": "Text Completion", "totalCost": money("2", 500000000)}
    fake.script(
        "summary",
        json_response(
            200,
            {
                "lineItems": [{"category": "window total", "totalCost": money("99")}],
                "usageBuckets": [
                    {"startTime": "2026-11-20T00:00:00Z", "lineItems": [item]},
                    {"startTime": "2026-11-21T00:00:00Z", "lineItems": [item, item]},
                ],
            },
        ),
    )

    pull = fake.client().fetch_window(date(2026, 11, 20), DAY, LA)

    assert [i.total_cost for i in pull.days[date(2026, 11, 20)].line_items] == [Decimal("2.5")]
    assert len(pull.days[DAY].line_items) == 2
    assert all(day.has_summary and not day.gaps for day in pull.days.values())


def test_summary_without_buckets_serves_a_one_day_window(fake: FakeFireworks) -> None:
    fake.script(
        "summary",
        json_response(
            200, {"lineItems": [{"category": "Text Completion", "totalCost": money("7")}]}
        ),
    )

    pull = fake.client().fetch_window(DAY, DAY, LA)

    assert [item.total_cost for item in pull.days[DAY].line_items] == [Decimal(7)]
    assert pull.days[DAY].has_summary


def test_summary_without_buckets_on_several_days_is_a_gap(fake: FakeFireworks) -> None:
    fake.script(
        "summary",
        json_response(
            200, {"lineItems": [{"category": "Text Completion", "totalCost": money("7")}]}
        ),
    )

    pull = fake.client().fetch_window(date(2026, 11, 20), DAY, LA)

    for day_usage in pull.days.values():
        assert not day_usage.has_summary
        assert day_usage.line_items == []
        (gap,) = day_usage.gaps
        assert "without daily buckets" in gap


def test_an_empty_summary_means_nothing_was_billed(fake: FakeFireworks) -> None:
    pull = fake.client().fetch_window(date(2026, 11, 20), DAY, LA)

    assert all(day.has_summary and not day.gaps for day in pull.days.values())


def test_usage_costs_refused_with_403_leaves_per_key_dollars_out_and_says_why(
    fake: FakeFireworks,
) -> None:
    fake.script("usageCosts", rpc_status(403, "permission denied: ACCOUNT scope needs admin"))

    pull = fake.client().fetch_window(date(2026, 11, 20), DAY, LA)

    for day_usage in pull.days.values():
        assert day_usage.key_costs is None
        assert day_usage.has_summary
        (gap,) = day_usage.gaps
        assert "usageCosts:query refused (403)" in gap
        assert "not an account admin" in gap
        assert "permission denied: ACCOUNT scope needs admin" in gap
    assert pull.raw[-1].name == "usageCosts-page-001"
    assert pull.raw[-1].status == 403


def test_usage_costs_rejected_with_400_degrades_the_same_way(fake: FakeFireworks) -> None:
    fake.script("usageCosts", rpc_status(400, "startTime is more than 100 days ago"))

    pull = fake.client().fetch_window(DAY, DAY, LA)

    assert pull.days[DAY].key_costs is None
    assert "more than 100 days ago" in pull.days[DAY].gaps[0]


def test_incomplete_cost_attribution_is_reported_as_a_gap(fake: FakeFireworks) -> None:
    fake.script("usageCosts", json_response(200, {"attributionCompleteness": "INCOMPLETE"}))

    pull = fake.client().fetch_window(DAY, DAY, LA)

    assert pull.days[DAY].key_costs == []
    assert "INCOMPLETE" in pull.days[DAY].gaps[0]


def test_summary_refused_with_403_leaves_the_day_without_a_billed_total(
    fake: FakeFireworks,
) -> None:
    fake.script("summary", rpc_status(403, "caller may not read billing"))

    pull = fake.client().fetch_window(DAY, DAY, LA)

    day_usage = pull.days[DAY]
    assert not day_usage.has_summary
    assert day_usage.key_costs == []
    (gap,) = day_usage.gaps
    assert "billing/summary refused (403)" in gap
    assert "caller may not read billing" in gap


def test_a_gateway_without_training_usage_is_asked_again_without_its_dimensions(
    fake: FakeFireworks,
) -> None:
    # Given an older gateway that refuses the training dimensions, then answers without them
    fake.script(
        "usage",
        rpc_status(400, "groupBy: unknown dimension job_id"),
        json_response(200, {"serverlessCosts": [{"startTime": "2026-11-21T08:00:00Z"}]}),
    )

    pull = fake.client().fetch_window(DAY, DAY, LA)

    # Then the day has its inference usage, no gap, and the manifest can say training was absent
    assert not pull.training_offered
    assert len(pull.days[DAY].serverless) == 1
    assert pull.days[DAY].training == []
    assert pull.days[DAY].gaps == []
    refused, retried = fake.requests_to("usage")
    assert "job_id" in refused.url.params.get_list("groupBy")
    group_by = retried.url.params.get_list("groupBy")
    assert group_by == [*SERVERLESS, *DEDICATED, *ANNOTATIONS]
    assert [(raw.name, raw.status) for raw in pull.raw[:2]] == [
        ("billingUsage", 400),
        ("billingUsage-without-training", 200),
    ]


def test_a_400_for_usage_without_training_dimensions_too_fails_the_run(
    fake: FakeFireworks,
) -> None:
    fake.script("usage", *[rpc_status(400, "groupBy: unknown dimension api_key_name")] * 2)

    with pytest.raises(FireworksHTTPError) as caught:
        fake.client().fetch_window(DAY, DAY, LA)

    assert caught.value.status == 400
    assert "groupBy=api_key_name" in caught.value.hint
    assert "groupBy=job_id" not in caught.value.hint  # names the second, narrower request
    assert len(fake.requests_to("usage")) == 2


@pytest.mark.parametrize(
    ("endpoint", "status", "hint"),
    [
        ("usage", 401, "Create a new API key in Fireworks"),
        ("summary", 401, "Create a new API key in Fireworks"),
        ("usageCosts", 401, "Create a new API key in Fireworks"),
        ("usage", 404, "Check FWCOST_ACCOUNT_ID"),
        ("summary", 404, "Check FWCOST_ACCOUNT_ID"),
        ("usage", 403, "Use an account admin's API key"),
    ],
)
def test_fatal_refusals_raise_a_typed_error_with_a_hint(
    fake: FakeFireworks, endpoint: str, status: int, hint: str
) -> None:
    fake.script(endpoint, rpc_status(status, f"fireworks says {status}"))

    with pytest.raises(FireworksHTTPError) as caught:
        fake.client().fetch_window(DAY, DAY, LA)

    error = caught.value
    assert error.status == status
    assert error.endpoint.startswith("/v1/accounts/acme-ai/")
    assert error.message == f"fireworks says {status}"
    assert hint in error.hint
    assert hint in str(error)
    assert f"fireworks says {status}" in str(error)
    assert len(fake.requests_to(endpoint)) == 1  # never retried


def test_a_400_names_what_was_sent(fake: FakeFireworks) -> None:
    fake.script("summary", rpc_status(400, "startTime: invalid date"))

    with pytest.raises(FireworksHTTPError) as caught:
        fake.client().fetch_window(DAY, DAY, LA)

    error = caught.value
    assert error.status == 400
    assert error.message == "startTime: invalid date"
    assert "granularity=DAILY" in error.hint
    assert "timezone=America%2FLos_Angeles" in error.hint


def test_an_error_body_that_is_not_a_status_is_quoted_in_short(fake: FakeFireworks) -> None:
    fake.script("usage", httpx.Response(401, content=b"<html>Unauthorized" + b"!" * 1000))

    with pytest.raises(FireworksHTTPError) as caught:
        fake.client().fetch_window(DAY, DAY, LA)

    assert caught.value.message.startswith("<html>Unauthorized!!!")
    assert len(caught.value.message) < 400


def test_the_api_key_never_appears_in_errors(fake: FakeFireworks) -> None:
    # Given a server that echoes the Authorization header back in its refusal
    fake.script(
        "usage",
        lambda request: rpc_status(401, f"bad credentials: {request.headers['Authorization']}"),
    )

    with pytest.raises(FireworksHTTPError) as caught:
        fake.client().fetch_window(DAY, DAY, LA)

    assert API_KEY not in str(caught.value)
    assert API_KEY not in caught.value.message
    assert API_KEY not in caught.value.hint
    assert "bad credentials: Bearer ***" in caught.value.message


def test_stats_count_every_attempt_by_endpoint(fake: FakeFireworks) -> None:
    fake.script("summary", rpc_status(503, "busy"))
    fake.script("usageCosts", json_response(200, {"nextPageToken": "2"}))
    client = fake.client()

    client.fetch_window(DAY, DAY, LA)

    stats = client.stats
    assert stats.requests == 5
    assert stats.retries == 1
    assert stats.by_endpoint == {"billingUsage": 1, "billing/summary": 2, "usageCosts:query": 2}


def test_a_client_it_created_is_closed_with_it() -> None:
    with FireworksClient(api_key=API_KEY, account_id="acme-ai") as client:
        assert client.base_url == "https://api.fireworks.ai"
    assert client._http.is_closed


def test_an_empty_key_or_a_schemeless_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="API key is empty"):
        FireworksClient(api_key="", account_id="acme-ai")
    with pytest.raises(ValueError, match="base_url"):
        FireworksClient(api_key=API_KEY, account_id="acme-ai", base_url="api.fireworks.ai")


def test_a_number_out_of_range_fails_the_pull_at_once_naming_the_row_and_field(
    fake: FakeFireworks,
) -> None:
    # Given a billingUsage answer whose second row has NaN tokens (Python's json reads NaN)
    rows = [
        {"startTime": "2026-11-21T00:00:00Z", "promptTokens": "5"},
        {"startTime": "2026-11-21T00:00:00Z", "completionTokens": float("nan")},
    ]
    fake.script("usage", json_response(200, {"serverlessCosts": rows}))

    # When the day is pulled, Then the error names the row and field and nothing is retried
    with pytest.raises(FireworksParseError) as caught:
        fake.client().fetch_window(DAY, DAY, ZoneInfo("UTC"))
    assert str(caught.value) == (
        "billingUsage: serverlessCosts[1].completionTokens: NaN is not a finite number"
    )
    assert len(fake.requests_to("usage")) == 1
