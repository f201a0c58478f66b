"""The simulator over HTTP: a threaded loopback server with auth, latency, faults and a log."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from fwcost.simulator.account import SimulatedAccount
from fwcost.simulator.config import Fault, SimulatorConfig
from fwcost.simulator.costs import parse_cost_query, usage_costs
from fwcost.simulator.summary import billing_summary, summary_days
from fwcost.simulator.usage import UsageQuery, billing_usage, kinds_for, validate_group_by
from fwcost.simulator.wire import (
    GRPC_PERMISSION_DENIED,
    ApiError,
    invalid,
    parse_timezone,
    parse_window,
)

ROUTE = re.compile(
    r"^/v1/accounts/(?P<account>[^/]+)/(?P<method>billingUsage|billing/summary|usageCosts:query)$"
)
METHODS = {"billingUsage": "GET", "billing/summary": "GET", "usageCosts:query": "POST"}
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 429: 8, 500: 13, 503: 14}
FAULT_MESSAGES = {
    "429": "rate limit exceeded (simulated)",
    "500": "internal error (simulated)",
    "503": "service unavailable (simulated)",
}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server saw it, minus the Authorization header."""

    method: str
    path: str
    query: list[tuple[str, str]]
    json: Any
    headers: dict[str, str]


@dataclass
class RunningSimulator:
    base_url: str
    config: SimulatorConfig  # the first account's, whose latency and faults the server applies
    account: SimulatedAccount
    requests: list[RecordedRequest] = field(default_factory=list)
    # Every account served, by id (the first one and run_simulator's `more`), each its own key
    accounts: dict[str, SimulatedAccount] = field(default_factory=dict)


class _FaultBook:
    """How many more times each configured fault fires (shared by all handler threads)."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        self._faults = faults
        self._remaining = [fault.times for fault in faults]
        self._lock = threading.Lock()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if self._remaining[index] and fault.path_contains in path:
                    self._remaining[index] -= 1
                    return fault
        return None


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, port: int, config: SimulatorConfig, accounts: Sequence[SimulatedAccount]
    ) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        host, bound_port = self.server_address[:2]
        by_id = {account.config.account_id: account for account in accounts}
        self.sim = RunningSimulator(
            f"http://{host!s}:{bound_port}", config, accounts[0], accounts=by_id
        )
        self.faults = _FaultBook(config.faults)
        self.log_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients with connection pools expect
    timeout = 30  # drop idle keep-alive connections rather than hold a thread forever
    server: SimulatorServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is sim.requests."""

    def _serve(self) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qsl(url.query, keep_blank_values=True)
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = self._record(path, query, raw_body)
        sim = self.server.sim
        if sim.config.latency_seconds:
            time.sleep(sim.config.latency_seconds)
        fault = self.server.faults.take(path)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind != "malformed":
            self._fault(fault)
            return
        try:
            status, payload = 200, self._dispatch(path, query, body)
        except ApiError as error:
            status, payload = error.status, self._refusal(error.code, error.message)
        encoded = json.dumps(payload, separators=(",", ":"), check_circular=False).encode()
        if fault is not None:  # malformed: a 200 whose JSON stops half way
            status, encoded = 200, encoded[: max(1, len(encoded) // 2)]
        self._send(status, encoded)

    def _record(self, path: str, query: list[tuple[str, str]], raw_body: bytes) -> Any:
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = raw_body.decode("utf-8", "replace")
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        with self.server.log_lock:
            self.server.sim.requests.append(
                RecordedRequest(self.command, path, query, body, headers)
            )
        return body

    def _fault(self, fault: Fault) -> None:
        status = int(fault.kind)
        extra = {}
        if fault.kind == "429":
            retry_after = 1 if fault.retry_after is None else fault.retry_after
            extra["Retry-After"] = f"{retry_after:g}"
        body = self._refusal(GRPC_CODES[status], FAULT_MESSAGES[fault.kind])
        self._send(status, json.dumps(body).encode(), extra)

    def _refusal(self, code: int, message: str) -> dict[str, Any]:
        """A google.rpc.Status body; with echo_headers_on_error, a careless gateway's, which
        repeats the request headers (the API key included) in its message and a field."""
        if not self.server.sim.config.echo_headers_on_error:
            return _status_body(code, message)
        headers = dict(self.headers.items())
        echoed = "; ".join(f"{name}: {value}" for name, value in headers.items())
        return _status_body(code, f"{message} (request headers: {echoed})") | {
            "requestHeaders": headers
        }

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _caller_key_id(self, account: SimulatedAccount) -> str:
        config = account.config
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip() == config.api_key:
            return account.admin_key.key_id
        if scheme.lower() == "bearer" and token.strip() == config.readonly_api_key:
            return account.readonly_key.key_id
        raise ApiError(401, GRPC_CODES[401], "missing or invalid API key (Authorization: Bearer)")

    def _dispatch(self, path: str, query: list[tuple[str, str]], body: Any) -> dict[str, Any]:
        sim = self.server.sim
        match = ROUTE.match(path)
        account = sim.accounts.get(match["account"]) if match else None
        # A key is checked against the account asked for (else the first): 401 before 404
        caller = self._caller_key_id(account or sim.account)
        if match is None:
            raise ApiError(404, GRPC_CODES[404], f"no such method: {path}")
        if account is None:
            raise ApiError(404, GRPC_CODES[404], f"account {match['account']!r} not found")
        method = match["method"]
        if self.command != METHODS[method]:
            raise ApiError(405, GRPC_CODES[405], f"{method} takes {METHODS[method]}")
        if method == "billingUsage":
            return _billing_usage(account, query)
        if method == "billing/summary":
            return _billing_summary(account, query)
        return _usage_costs(account, body, caller)


def _status_body(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "details": []}


def _single(query: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in query if key == name]
    if len(values) > 1:
        raise invalid(f"{name} given {len(values)} times; give it once")
    return values[0] if values else None


def _billing_usage(account: SimulatedAccount, query: list[tuple[str, str]]) -> dict[str, Any]:
    start, end = parse_window(_single(query, "startTime"), _single(query, "endTime"))
    group_by = tuple(value for key, value in query if key == "groupBy" and value)
    validate_group_by(group_by, unknown=account.config.unknown_dimensions)
    # filter[...] parameters are accepted and not applied, as the newer docs say of the gateway.
    usage = UsageQuery(
        start,
        end,
        kinds_for(_single(query, "usageType")),
        parse_timezone(_single(query, "timezone")),
        group_by,
    )
    return billing_usage(account, usage)


def _billing_summary(account: SimulatedAccount, query: list[tuple[str, str]]) -> dict[str, Any]:
    days = summary_days(_single(query, "startTime"), _single(query, "endTime"))
    granularity = _single(query, "granularity") or "GRANULARITY_UNSPECIFIED"
    if granularity not in ("DAILY", "GRANULARITY_UNSPECIFIED"):
        raise invalid(f"granularity must be DAILY or omitted, got {granularity!r}")
    tz = parse_timezone(_single(query, "timezone"))
    return billing_summary(account, days, tz, daily=granularity == "DAILY")


def _usage_costs(account: SimulatedAccount, body: Any, caller: str) -> dict[str, Any]:
    cost_query = parse_cost_query(body)
    if cost_query.scope == "ACCOUNT" and caller != account.admin_key.key_id:
        raise ApiError(
            403,
            GRPC_PERMISSION_DENIED,
            "scope ACCOUNT needs an account administrator's key; use scope SELF",
        )
    return usage_costs(account, cost_query, caller)


@contextmanager
def run_simulator(
    config: SimulatorConfig, port: int = 0, *, more: Sequence[SimulatorConfig] = ()
) -> Iterator[RunningSimulator]:
    """Serve the simulator on 127.0.0.1 (an ephemeral port by default) in a daemon thread.

    `more`: further accounts on the same server, each with its own id, key and data (their
    latency and faults are `config`'s)."""
    accounts = [SimulatedAccount(c) for c in (config, *more)]
    if len({account.config.account_id for account in accounts}) < len(accounts):
        raise ValueError("each simulated account needs an account_id of its own")
    server = SimulatorServer(port, config, accounts)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fw-simulator", daemon=True
    )
    thread.start()
    try:
        yield server.sim
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
