"""The simulator's knobs over real HTTP: faults, latency, the request log, determinism, scale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sim_http import CONFIG, COSTS, SUMMARY, USAGE, day_range

from fwcost.simulator import Fault, RunningSimulator, SimulatorConfig, run_simulator

AUTH = {"Authorization": f"Bearer {CONFIG.api_key}"}


def get(sim: RunningSimulator, path: str = USAGE) -> httpx.Response:
    return httpx.get(sim.base_url + path, params=day_range(), headers=AUTH)


def test_429_comes_with_retry_after_for_the_first_matching_requests() -> None:
    config = replace(CONFIG, faults=[Fault("429", times=2, path_contains="summary", retry_after=3)])
    with run_simulator(config) as sim:
        # Requests to other paths are not affected
        assert get(sim, USAGE).status_code == 200
        first, second, third = (get(sim, SUMMARY) for _ in range(3))
    for refused in (first, second):
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "3"
        assert refused.json()["code"] == 8
    assert third.status_code == 200


def test_429_without_a_given_delay_says_retry_after_one_second() -> None:
    with run_simulator(replace(CONFIG, faults=[Fault("429", times=1)])) as sim:
        assert get(sim).headers["Retry-After"] == "1"


@pytest.mark.parametrize(("kind", "code"), [("500", 13), ("503", 14)])
def test_server_errors_fire_then_stop(kind: str, code: int) -> None:
    with run_simulator(replace(CONFIG, faults=[Fault(kind, times=1)])) as sim:
        failed, recovered = get(sim), get(sim)
    assert failed.status_code == int(kind)
    assert failed.json() == {"code": code, "message": failed.json()["message"], "details": []}
    assert recovered.status_code == 200


def test_malformed_is_a_200_with_truncated_json() -> None:
    with run_simulator(replace(CONFIG, faults=[Fault("malformed", times=1)])) as sim:
        broken, whole = get(sim), get(sim)
    assert broken.status_code == 200
    assert whole.content.startswith(broken.content)
    assert 0 < len(broken.content) < len(whole.content)
    with pytest.raises(json.JSONDecodeError):
        broken.json()


def test_drop_closes_the_connection_without_a_response() -> None:
    faults = [Fault("drop", times=1, path_contains="usageCosts")]
    with run_simulator(replace(CONFIG, faults=faults)) as sim:
        body = {"startTime": "2026-11-21T00:00:00Z", "endTime": "2026-11-22T00:00:00Z"}
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(sim.base_url + COSTS, json=body, headers=AUTH)
        assert httpx.post(sim.base_url + COSTS, json=body, headers=AUTH).status_code == 200


def test_faults_fire_in_order_and_each_only_its_times() -> None:
    faults = [Fault("503", times=1), Fault("429", times=1, retry_after=0)]
    with run_simulator(replace(CONFIG, faults=faults)) as sim:
        statuses = [get(sim).status_code for _ in range(4)]
    assert statuses == [503, 429, 200, 200]


def test_bad_faults_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="kind"):
        Fault("418", times=1)
    with pytest.raises(ValueError, match="times"):
        Fault("500", times=0)


def test_concurrent_requests_overlap_their_latency() -> None:
    # Given 0.5 s of latency per request
    latency, requests = 0.5, 6
    with run_simulator(replace(CONFIG, latency_seconds=latency)) as sim:
        limits = httpx.Limits(max_connections=requests)
        with httpx.Client(base_url=sim.base_url, headers=AUTH, limits=limits) as http:
            began = time.monotonic()
            # When six requests are sent at once
            with ThreadPoolExecutor(requests) as pool:
                responses = list(
                    pool.map(lambda _: http.get(SUMMARY, params=day_range()), range(requests))
                )
            elapsed = time.monotonic() - began
    # Then they were served side by side: one after another would take 3 s
    assert [r.status_code for r in responses] == [200] * requests
    assert latency <= elapsed < latency * requests * 0.8


def test_requests_are_recorded_without_the_authorization_header() -> None:
    with run_simulator(CONFIG) as sim:
        params = [*day_range(), ("groupBy", "model_name"), ("groupBy", "api_key_id")]
        httpx.get(sim.base_url + USAGE, params=params, headers=AUTH | {"X-Trace": "abc"})
        body = {"startTime": "2026-11-21T00:00:00Z", "endTime": "2026-11-22T00:00:00Z"}
        httpx.post(sim.base_url + COSTS, json=body, headers=AUTH)
        usage, costs = sim.requests
    assert (usage.method, usage.path, usage.query) == ("GET", USAGE, params)
    assert usage.json is None
    assert usage.headers["X-Trace"] == "abc"
    assert all(name.lower() != "authorization" for name in usage.headers)
    assert (costs.method, costs.path, costs.json) == ("POST", COSTS, body)


def _bodies(config: SimulatorConfig) -> list[bytes]:
    with run_simulator(config) as sim, httpx.Client(base_url=sim.base_url, headers=AUTH) as http:
        query = {
            "startTime": "2026-11-14T00:00:00Z",
            "endTime": "2026-11-22T00:00:00Z",
            "groupBy": ["DAY", "API_KEY"],
            "pageSize": 50,
        }
        return [
            http.get(USAGE, params=day_range("2026-11-14T00:00:00Z", groupBy="api_key_id")).content,
            http.get(
                SUMMARY, params=day_range("2026-11-14", "2026-11-22", granularity="DAILY")
            ).content,
            http.post(COSTS, json=query).content,
        ]


def test_the_same_config_gives_the_same_bytes() -> None:
    first = _bodies(CONFIG)
    assert first == _bodies(CONFIG)
    assert all(
        body != other for body, other in zip(first, _bodies(replace(CONFIG, seed=8)), strict=True)
    )


def test_the_server_threads_are_daemons_and_stop_with_the_context() -> None:
    with run_simulator(CONFIG) as sim:
        assert get(sim).status_code == 200
    assert not any(t.name == "fw-simulator" for t in threading.enumerate())
    with pytest.raises(httpx.ConnectError):
        get(sim)


@pytest.mark.slow
def test_for_rows_100k_serves_about_100k_rows_a_day() -> None:
    config = SimulatorConfig.for_rows(100_000)
    with run_simulator(config) as sim:
        params = day_range(usageType="SERVERLESS", groupBy="model_name")
        params.append(("groupBy", "api_key_id"))
        response = httpx.get(sim.base_url + USAGE, params=params, headers=AUTH, timeout=120)
    rows = response.json()["serverlessCosts"]
    assert 90_000 <= len(rows) <= 110_000


def test_the_command_line_serves_in_the_foreground() -> None:
    # Given the simulator started as `python -m fwcost.simulator` on a free port
    command = [sys.executable, "-m", "fwcost.simulator", "--port", "0", "--latency", "0"]
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parents[3] / "src")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        # When its first line names the base URL
        first_line = process.stdout.readline()
        base_url = first_line.rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert "acme-ai" in process.stdout.readline()
        # Then it answers like the in-process simulator
        assert httpx.get(base_url + SUMMARY, params=day_range(), headers=AUTH).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
