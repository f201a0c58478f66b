"""Faults in Fireworks: failing past the retries, a trickled body, numbers that cannot be true,
and a gateway that echoes the API key. A day whose data cannot be trusted is never reported."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from faults.fireworks_proxy import Tamper
from faults.lab import SMALL_ACCOUNT, FaultLab
from faults.scenarios import (
    ECHOED_KEY,
    FIREWORKS_500,
    FIREWORKS_EUR,
    FIREWORKS_HUGE,
    FIREWORKS_NAN,
    FIREWORKS_NEGATIVE,
    FIREWORKS_TRICKLE,
    Scenario,
)
from fwcost.fireworks import FireworksParseError
from fwcost.fireworks.client import RetryPolicy
from fwcost.problems import RunError
from fwcost.simulator import Fault


def assert_nothing_sent(lab: FaultLab) -> None:
    assert lab.arrivals() == [], "something was delivered"
    assert not any("/ledger/" in key for key in lab.archived()), "a delivery was claimed"


def test_fireworks_failing_past_the_retries_fails_the_run_and_its_retry_delivers(
    lab: FaultLab,
) -> None:
    # Given Fireworks answering billingUsage 500 as often as the client tries in one run
    attempts = RetryPolicy().max_attempts
    failing = Fault("500", times=attempts, path_contains="billingUsage")
    lab.deploy(FIREWORKS_500, simulator=replace(SMALL_ACCOUNT, faults=[failing]))
    lab.fireworks_time_runs_fast()

    # When the schedule invokes the function
    first = lab.invoke()

    # Then the run fails loudly after the client's retries, having sent nothing
    assert isinstance(first.error, RunError)
    assert "Fireworks kept failing" in first.message
    assert f"failed after {attempts} attempts" in first.message
    assert_nothing_sent(lab)

    # And Lambda's retry, Fireworks back, delivers the day once
    assert lab.lambda_retries(first).result is not None
    lab.conclude(first)


def test_a_trickled_body_ends_each_attempt_at_its_deadline_and_the_retry_delivers(
    lab: FaultLab,
) -> None:
    # Given Fireworks sending billingUsage's body a byte every 20 ms (each read in time)
    lab.deploy(FIREWORKS_TRICKLE)
    proxy = lab.fireworks_proxy()
    proxy.trickle = "billingUsage"
    lab.fireworks_time_runs_fast()  # the policy's 60 s an attempt, in 0.6 s

    # When the schedule invokes the function
    first = lab.invoke()

    # Then the attempts end at their deadline and the run fails loudly, having sent nothing
    assert isinstance(first.error, RunError) and proxy.trickled >= 1
    assert "Fireworks did not answer in time" in first.message
    assert "still arriving after 60 s" in first.message
    assert_nothing_sent(lab)

    # And once the answers flow again, Lambda's retry delivers the day once
    proxy.clear()
    assert lab.lambda_retries(first).result is not None
    lab.conclude(first)


@dataclass(frozen=True)
class Untrue:
    scenario: Scenario
    tamper: Tamper
    said: str  # what the error must say about the value


UNTRUE_NUMBERS = [
    Untrue(
        FIREWORKS_NAN,
        # In a day's bucket: the window's totals beside the buckets are not read
        Tamper("billing/summary", rb'("usageBuckets":.*?"quantity":)[0-9.]+', rb"\1NaN"),
        "quantity: NaN is not a finite number",
    ),
    Untrue(
        FIREWORKS_HUGE,
        Tamper("billingUsage", rb'"promptTokens":"[0-9]+"', b'"promptTokens":1e400'),
        "promptTokens: 1E+400 is beyond int64",
    ),
    Untrue(
        FIREWORKS_NEGATIVE,
        Tamper("billingUsage", rb'"completionTokens":"[0-9]+"', b'"completionTokens":"-42"'),
        "completionTokens: -42 is negative",
    ),
    Untrue(
        FIREWORKS_EUR,
        Tamper(
            "billing/summary",
            rb'("usageBuckets":.*?"totalCost":\{"currencyCode":)"USD"',
            rb'\1"EUR"',
        ),
        "currencyCode: 'EUR' is not USD",
    ),
]


@pytest.mark.parametrize("untrue", UNTRUE_NUMBERS, ids=lambda untrue: untrue.scenario.name)
def test_a_number_that_cannot_be_true_fails_the_run_by_name_until_fireworks_fixes_it(
    lab: FaultLab, untrue: Untrue
) -> None:
    # Given Fireworks answering with one value that cannot be true
    lab.deploy(untrue.scenario)
    proxy = lab.fireworks_proxy()
    proxy.tampers.append(untrue.tamper)

    # When the schedule invokes the function, and Lambda retries it twice
    first = lab.invoke()
    last = lab.lambda_retries(first)

    # Then every try fails loudly, naming the response, the row and the field; nothing is sent
    assert isinstance(first.error, FireworksParseError) and last.loud
    assert untrue.said in first.message and proxy.tampered >= 3
    assert_nothing_sent(lab)

    # And once Fireworks answers true numbers, the next scheduled run delivers the day once
    proxy.clear()
    assert lab.invoke().result is not None
    lab.conclude(first)


def test_an_api_key_echoed_in_a_refusal_is_found_nowhere(lab: FaultLab) -> None:
    # Given a gateway that echoes the request's headers in its refusals, and a key that may
    # not read usageCosts for the whole account (a 403, which the run goes on without)
    echoing = replace(SMALL_ACCOUNT, echo_headers_on_error=True)
    lab.deploy(ECHOED_KEY, simulator=echoing, api_key=echoing.readonly_api_key)

    # When the schedule invokes the function
    run = lab.invoke()

    # Then the day is delivered, per-key dollars estimated, and the refusal archived scrubbed
    assert run.result is not None, run.message
    refusals = [
        body for key, versions in lab.archived().items() if "usageCosts" in key for body in versions
    ]
    assert refusals and all(b"request headers" in body and b"***" in body for body in refusals)
    lab.conclude(run)
