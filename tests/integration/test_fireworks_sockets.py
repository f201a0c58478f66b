"""The client over real loopback sockets: timeouts and dropped connections, retried.

A tiny scripted server stands in for Fireworks where only real sockets tell the truth: a read
that never comes back, a connection closed without a response, a connection reset, a body
trickled a byte at a time (each read in time, the whole far too slow).
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import httpx
import pytest

from fwcost.fireworks import Failure, FireworksClient, FireworksError, FireworksGaveUp, RetryPolicy

DAY = date(2026, 11, 21)
ROWS = {"serverlessCosts": [{"startTime": "2026-11-21T00:00:00Z", "promptTokens": "9"}]}
READ_TIMEOUT = 0.3
TRICKLE_EVERY = 0.2  # seconds between bytes: under the read timeout, so only a deadline helps


class ScriptedFireworks(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.serverless_script: list[str] = []  # "hang", "drop", "reset", "trickle"; then answers
        self.serverless_requests = 0
        self.release = threading.Event()  # ends every "hang" when the test is over
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedFireworks

    def do_GET(self) -> None:
        if "/billingUsage" not in self.path:
            self._answer({})
            return
        with self.server.lock:
            self.server.serverless_requests += 1
            script = self.server.serverless_script
            behaviour = script.pop(0) if script else "answer"
        if behaviour == "hang":
            self.server.release.wait(timeout=10)
            self.close_connection = True
        elif behaviour == "drop":
            self.close_connection = True  # close without a single byte of response
        elif behaviour == "trickle":
            self._trickle(json.dumps(ROWS).encode())
        elif behaviour == "reset":
            linger_zero = struct.pack("ii", 1, 0)  # close with RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_zero)
            self.close_connection = True
        else:
            self._answer(ROWS)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer({})

    def _answer(self, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        for byte in body:
            if self.server.release.wait(TRICKLE_EVERY):
                break
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:  # the client gave up and closed the connection
                break
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def server() -> Iterator[ScriptedFireworks]:
    scripted = ScriptedFireworks()
    thread = threading.Thread(target=scripted.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield scripted
    scripted.release.set()
    scripted.shutdown()
    scripted.server_close()


def client_for(
    server: ScriptedFireworks, sleeps: list[float], attempts: int = 6, attempt_seconds: float = 60
) -> FireworksClient:
    return FireworksClient(
        base_url=server.base_url,
        api_key="fw_loopback_secret",
        account_id="accounts/acme-ai",
        retry=RetryPolicy(max_attempts=attempts, attempt_seconds=attempt_seconds),
        timeout=httpx.Timeout(READ_TIMEOUT, connect=2.0),
        sleep=sleeps.append,  # waits between retries are not what these tests are about
        rng=random.Random(5),
    )


@pytest.mark.parametrize("failure", ["hang", "drop", "reset"])
def test_a_failed_exchange_on_a_real_socket_is_retried(
    server: ScriptedFireworks, failure: str
) -> None:
    # Given a server whose first serverless answer times out, is dropped, or is reset
    server.serverless_script = [failure]
    sleeps: list[float] = []

    # When a day is pulled
    with client_for(server, sleeps) as client:
        pull = client.fetch_window(DAY, DAY, ZoneInfo("UTC"))

    # Then the client asked again and got the rows
    assert [row.prompt_tokens for row in pull.days[DAY].serverless] == [9]
    assert server.serverless_requests == 2
    assert pull.raw[0].attempts == 2
    assert len(sleeps) == 1
    assert client.stats.retries == 1


def test_a_server_that_never_answers_ends_in_an_error_naming_the_timeout(
    server: ScriptedFireworks,
) -> None:
    server.serverless_script = ["hang", "hang"]

    with client_for(server, [], attempts=2) as client, pytest.raises(FireworksError) as caught:
        client.fetch_window(DAY, DAY, ZoneInfo("UTC"))

    message = str(caught.value)
    assert "GET /v1/accounts/acme-ai/billingUsage failed after 2 attempts" in message
    assert "ReadTimeout" in message
    assert "fw_loopback_secret" not in message
    assert isinstance(caught.value, FireworksGaveUp)
    assert caught.value.last_failure is Failure.TIMEOUT


def test_a_connection_dropped_every_time_ends_as_fireworks_failing(
    server: ScriptedFireworks,
) -> None:
    server.serverless_script = ["drop", "drop"]

    with client_for(server, [], attempts=2) as client, pytest.raises(FireworksGaveUp) as caught:
        client.fetch_window(DAY, DAY, ZoneInfo("UTC"))

    assert caught.value.last_failure is Failure.FAILING


def test_a_port_nobody_listens_on_ends_as_unreachable_naming_the_host() -> None:
    # Given a loopback port that was just free: connecting to it is refused
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = FireworksClient(
        base_url=f"http://127.0.0.1:{port}",
        api_key="fw_loopback_secret",
        account_id="acme-ai",
        retry=RetryPolicy(max_attempts=2),
        sleep=lambda seconds: None,
    )

    with client, pytest.raises(FireworksGaveUp) as caught:
        client.fetch_window(DAY, DAY, ZoneInfo("UTC"))

    assert caught.value.last_failure is Failure.UNREACHABLE
    assert caught.value.base_url == f"http://127.0.0.1:{port}"
    assert "ConnectError" in str(caught.value)


def test_a_body_trickled_byte_by_byte_ends_the_attempt_at_its_deadline_and_is_retried(
    server: ScriptedFireworks,
) -> None:
    # Given a server that sends its first answer one byte every 0.2 s (each read is in time)
    server.serverless_script = ["trickle"]
    sleeps: list[float] = []

    # When a day is pulled with a 1-second attempt deadline
    started = time.monotonic()
    with client_for(server, sleeps, attempt_seconds=1.0) as client:
        pull = client.fetch_window(DAY, DAY, ZoneInfo("UTC"))
    elapsed = time.monotonic() - started

    # Then the slow attempt was cut at about a second (the whole body needs ~20 s) and the
    # second attempt got the rows
    assert [row.prompt_tokens for row in pull.days[DAY].serverless] == [9]
    assert server.serverless_requests == 2
    assert pull.raw[0].attempts == 2
    assert elapsed < 1.0 + TRICKLE_EVERY + READ_TIMEOUT + 1.0  # deadline, a read, slack


def test_a_server_that_always_trickles_ends_in_an_error_naming_the_deadline(
    server: ScriptedFireworks,
) -> None:
    server.serverless_script = ["trickle", "trickle"]

    with (
        client_for(server, [], attempts=2, attempt_seconds=0.5) as client,
        pytest.raises(FireworksError) as caught,
    ):
        client.fetch_window(DAY, DAY, ZoneInfo("UTC"))

    message = str(caught.value)
    assert "GET /v1/accounts/acme-ai/billingUsage failed after 2 attempts" in message
    assert "the response was still arriving after 0.5 s" in message
