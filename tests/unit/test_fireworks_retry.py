"""Retries: what is retried, how long the client waits, and when it gives up."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from fireworks_fake import API_KEY, FakeFireworks, json_response, rpc_status
from fwcost.fireworks import (
    Failure,
    FireworksError,
    FireworksGaveUp,
    FireworksHTTPError,
    RetryPolicy,
)

UTC_ZONE = ZoneInfo("UTC")
DAY = date(2026, 11, 21)
SERVERLESS_ROW = {"serverlessCosts": [{"startTime": "2026-11-21T00:00:00Z", "promptTokens": "5"}]}


@pytest.fixture
def fake() -> FakeFireworks:
    return FakeFireworks()


def pull_prompt_tokens(fake: FakeFireworks, retry: RetryPolicy | None = None) -> list[int]:
    pull = fake.client(retry).fetch_window(DAY, DAY, UTC_ZONE)
    return [row.prompt_tokens for row in pull.days[DAY].serverless]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_retryable_status_is_retried_then_succeeds(fake: FakeFireworks, status: int) -> None:
    fake.script("usage", rpc_status(status, "try again"), json_response(200, SERVERLESS_ROW))
    client = fake.client()

    pull = client.fetch_window(DAY, DAY, UTC_ZONE)

    assert [row.prompt_tokens for row in pull.days[DAY].serverless] == [5]
    assert len(fake.requests_to("usage")) == 2
    assert pull.raw[0].attempts == 2
    assert pull.raw[0].status == 200
    assert client.stats.retries == 1
    assert len(fake.clock.sleeps) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("connection refused"),
        httpx.ReadError("connection reset by peer"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
def test_timeouts_and_broken_connections_are_retried(
    fake: FakeFireworks, failure: Exception
) -> None:
    fake.script("usage", failure, json_response(200, SERVERLESS_ROW))

    assert pull_prompt_tokens(fake) == [5]
    assert len(fake.requests_to("usage")) == 2


@pytest.mark.parametrize(
    "body",
    [b'{"serverlessCosts": [{"startTime": "2026-11', b"<html>502 Bad Gateway</html>", b"[]", b""],
)
def test_a_malformed_success_body_is_retried(fake: FakeFireworks, body: bytes) -> None:
    fake.script("usage", httpx.Response(200, content=body), json_response(200, SERVERLESS_ROW))

    assert pull_prompt_tokens(fake) == [5]
    assert len(fake.requests_to("usage")) == 2


def test_a_body_that_stays_malformed_ends_in_an_error_naming_it(fake: FakeFireworks) -> None:
    fake.script("summary", *[httpx.Response(200, content=b"{truncated")] * 3)

    with pytest.raises(FireworksError, match="failed after 3 attempts") as caught:
        pull_prompt_tokens(fake, RetryPolicy(max_attempts=3))

    assert "malformed body" in str(caught.value)
    assert "/billing/summary" in str(caught.value)


def test_attempts_are_bounded(fake: FakeFireworks) -> None:
    fake.script("usageCosts", *[rpc_status(503, "overloaded")] * 10)

    with pytest.raises(FireworksError) as caught:
        pull_prompt_tokens(fake, RetryPolicy(max_attempts=4))

    assert not isinstance(caught.value, FireworksHTTPError)
    assert isinstance(caught.value, FireworksGaveUp)
    assert caught.value.last_failure is Failure.FAILING
    message = str(caught.value)
    assert "POST /v1/accounts/acme-ai/usageCosts:query failed after 4 attempts" in message
    assert "last cause: 503: overloaded" in message
    assert len(fake.requests_to("usageCosts")) == 4
    assert len(fake.clock.sleeps) == 3


def test_retry_after_in_seconds_is_honoured(fake: FakeFireworks) -> None:
    fake.script(
        "usage",
        json_response(429, {"message": "slow down"}, {"Retry-After": "7"}),
        json_response(200, SERVERLESS_ROW),
    )

    assert pull_prompt_tokens(fake) == [5]
    assert fake.clock.sleeps == [7.0]


@pytest.mark.parametrize(("header", "expected"), [("2.5", [2.5]), ("soon", None), ("-3", None)])
def test_an_odd_retry_after_is_read_or_falls_back_to_backoff(
    fake: FakeFireworks, header: str, expected: list[float] | None
) -> None:
    fake.script(
        "usage",
        json_response(503, {"message": "busy"}, {"Retry-After": header}),
        json_response(200, SERVERLESS_ROW),
    )

    assert pull_prompt_tokens(fake) == [5]
    (slept,) = fake.clock.sleeps
    if expected is None:
        assert slept == random.Random(1234).uniform(0, 0.5)  # the first full-jitter draw
    else:
        assert fake.clock.sleeps == expected


def test_retry_after_as_an_http_date_is_honoured(fake: FakeFireworks) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    fake.script(
        "usage",
        json_response(503, {"message": "maintenance"}, {"Retry-After": later}),
        json_response(200, SERVERLESS_ROW),
    )

    assert pull_prompt_tokens(fake) == [5]
    (slept,) = fake.clock.sleeps
    assert 35 <= slept <= 40  # the date has one-second resolution, and the test takes time


def test_a_retry_after_beyond_the_budget_gives_up_at_once(fake: FakeFireworks) -> None:
    fake.script("usage", json_response(429, {"message": "quota"}, {"Retry-After": "120"}))

    with pytest.raises(FireworksError) as caught:
        pull_prompt_tokens(fake, RetryPolicy(max_total_seconds=90))

    message = str(caught.value)
    assert "Fireworks asked to retry after 120.0 s" in message
    assert "only 90.0 s of the 90 s retry budget remain" in message
    assert "last cause: 429: quota" in message
    assert len(fake.requests_to("usage")) == 1
    assert fake.clock.sleeps == []


def test_the_total_time_budget_bounds_slow_failures(fake: FakeFireworks) -> None:
    # Given answers that each take 20 s of the clock and always fail
    def slow_failure(request: httpx.Request) -> httpx.Response:
        fake.clock.now += 20
        return rpc_status(502, "bad gateway")

    fake.script("usage", *[slow_failure] * 10)

    # When the budget is 50 s, far less than 10 attempts would need
    with pytest.raises(FireworksError, match="retry budget") as caught:
        pull_prompt_tokens(fake, RetryPolicy(max_attempts=10, max_total_seconds=50))

    # Then it stops once the next wait would not fit
    assert len(fake.requests_to("usage")) == 3
    assert "gave up after 3 attempts" in str(caught.value)


def test_backoff_is_full_jitter_within_exponential_bounds(fake: FakeFireworks) -> None:
    # Given a policy of 1 s doubling up to 8 s, and a seeded rng
    policy = RetryPolicy(max_attempts=6, base_delay_seconds=1, max_delay_seconds=8)
    fake.script("usage", *[rpc_status(500, "boom")] * 5, json_response(200, SERVERLESS_ROW))

    # When five retries happen
    assert pull_prompt_tokens(fake, policy) == [5]

    # Then each wait is drawn uniformly from [0, min(8, 2^(n-1))], reproducibly
    ceilings = [1, 2, 4, 8, 8]
    assert all(0 <= s <= c for s, c in zip(fake.clock.sleeps, ceilings, strict=True))
    seeded = random.Random(1234)
    assert fake.clock.sleeps == [seeded.uniform(0, c) for c in ceilings]


def test_full_jitter_spreads_over_the_whole_interval() -> None:
    policy = RetryPolicy(base_delay_seconds=0.5, max_delay_seconds=20)
    rng = random.Random(99)

    delays = [policy.backoff(4, rng) for _ in range(2000)]

    assert all(0 <= delay <= 4.0 for delay in delays)
    assert min(delays) < 0.1  # not "exponential plus a little jitter"
    assert max(delays) > 3.9


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 418])
def test_other_statuses_are_not_retried(fake: FakeFireworks, status: int) -> None:
    fake.script("usage", *[rpc_status(status, "no")] * 2)

    with pytest.raises(FireworksHTTPError) as caught:
        pull_prompt_tokens(fake)

    assert caught.value.status == status
    # A 400 is asked once more without the training dimensions: another request, not a retry.
    assert len(fake.requests_to("usage")) == (2 if status == 400 else 1)
    assert fake.clock.sleeps == []


def test_retry_errors_never_show_the_key(fake: FakeFireworks) -> None:
    fake.script("usage", *[rpc_status(503, f"echo {API_KEY}")] * 2)

    with pytest.raises(FireworksError) as caught:
        pull_prompt_tokens(fake, RetryPolicy(max_attempts=2))

    assert API_KEY not in str(caught.value)
    assert "echo ***" in str(caught.value)


def test_a_policy_that_cannot_try_is_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
