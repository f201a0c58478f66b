"""A scripted Fireworks behind httpx.MockTransport, plus a fake clock: unit tests, no sockets.

Each endpoint ("usage" for billingUsage, "summary", "usageCosts") has
a queue of scripted answers (an httpx.Response, an exception to raise, or a callable taking the
request); when the queue is empty it answers 200 with an empty JSON object.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from typing import Any

import httpx

from fwcost.fireworks import FireworksClient, RetryPolicy

API_KEY = "fw_TESTSECRET_do_not_leak_42"
ACCOUNT = "acme-ai"
BASE_URL = "https://fireworks.test"

Script = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


def rpc_status(status: int, message: str) -> httpx.Response:
    return json_response(status, {"code": status, "message": message, "details": []})


class FakeClock:
    """A monotonic clock that only moves when someone sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class FakeFireworks:
    def __init__(self) -> None:
        self.scripts: dict[str, list[Script]] = {}
        self.requests: list[httpx.Request] = []
        self.clock = FakeClock()
        self._lock = threading.Lock()

    def script(self, endpoint: str, *answers: Script) -> None:
        self.scripts.setdefault(endpoint, []).extend(answers)

    def requests_to(self, endpoint: str) -> list[httpx.Request]:
        return [request for request in self.requests if endpoint_of(request) == endpoint]

    def handle(self, request: httpx.Request) -> httpx.Response:
        endpoint = endpoint_of(request)
        with self._lock:
            self.requests.append(request)
            queue = self.scripts.get(endpoint, [])
            answer: Script = queue.pop(0) if queue else json_response(200, {})
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    def client(self, retry: RetryPolicy | None = None, **overrides: Any) -> FireworksClient:
        options: dict[str, Any] = {
            "base_url": BASE_URL,
            "api_key": API_KEY,
            "account_id": ACCOUNT,
            "http": httpx.Client(transport=httpx.MockTransport(self.handle)),
            "retry": retry or RetryPolicy(),
            "sleep": self.clock.sleep,
            "rng": random.Random(1234),
            "clock": self.clock,
        }
        options.update(overrides)
        return FireworksClient(**options)


def endpoint_of(request: httpx.Request) -> str:
    path = request.url.path
    if path.endswith("/billingUsage"):
        return "usage"
    if path.endswith("/billing/summary"):
        return "summary"
    if path.endswith("/usageCosts:query"):
        return "usageCosts"
    raise AssertionError(f"unexpected request {request.method} {path}")
