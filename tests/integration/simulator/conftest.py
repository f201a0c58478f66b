"""A running simulator and clients for it, shared by the simulator's HTTP tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sim_http import CONFIG

from fwcost.simulator import RunningSimulator, run_simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    with run_simulator(CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def client(sim: RunningSimulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {CONFIG.api_key}"}
    with httpx.Client(base_url=sim.base_url, headers=headers, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def readonly_client(sim: RunningSimulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {CONFIG.readonly_api_key}"}
    with httpx.Client(base_url=sim.base_url, headers=headers, timeout=30) as http:
        yield http
