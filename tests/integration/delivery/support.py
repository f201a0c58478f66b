"""Delivery integration helpers: a fake Slack on loopback, known secrets, sample reports."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from fwcost.delivery import OutgoingReport

REGION = "us-east-1"
# Realistic-looking secret values: tests assert they never leak into errors, logs or outcomes.
WEBHOOK_OVERALL = "https://hooks.slack.com/services/T0SECRET/B0OVERALL/overallWebhookSecret0123"
WEBHOOK_SEARCH = "https://hooks.slack.com/services/T0SECRET/B0SEARCH/searchWebhookSecret4567"
BOT_TOKEN = "xoxb-1111-2222-botTokenSecretValue89"
SLACK_SECRETS = {
    "overall_webhook": WEBHOOK_OVERALL,
    "search_webhook": WEBHOOK_SEARCH,
    "bot_token": BOT_TOKEN,
}
SECRET_VALUES = [*SLACK_SECRETS.values(), "overallWebhookSecret0123", "searchWebhookSecret4567"]


_HISTORY = "/api/conversations.history"
# What Slack's webhook endpoint answers with each failing status.
_WEBHOOK_ERRORS = {
    403: "invalid_token",
    404: "no_service",
    410: "channel_is_archived",
    429: "rate_limited",
}


class Breakage(Enum):
    """How the fake breaks its answer, after it has done what the request asked (the worst
    case: Slack posted, the client cannot know)."""

    GARBAGE = "garbage"  # not HTTP at all: http.client.BadStatusLine
    CUT = "cut"  # headers promise a longer body than comes: http.client.IncompleteRead
    HANG_UP = "hang_up"  # closes without a word: http.client.RemoteDisconnected


@dataclass
class CapturedRequest:
    path: str
    authorization: str
    body: dict[str, Any]  # JSON, or form fields (slack_sdk sends a read's arguments as a form)
    status: int  # what the fake answered


@dataclass
class PostedMessage:
    """A bot message as the channel holds it (what conversations.history returns)."""

    ts: str
    text: str
    metadata: dict[str, Any] | None


@dataclass
class FakeSlack:
    """Captures webhook posts and chat.postMessage / chat.update calls, keeps each channel's
    bot messages (with their metadata) for conversations.history; fails on demand.

    Answers auth.test (as the bot `bot_name`) and conversations.info (the app is a member of
    every channel but those in `not_member`, where chat.* answer not_in_channel); every Web API
    answer lists `scopes` in the x-oauth-scopes header, as Slack does.
    """

    base_url: str = ""
    requests: list[CapturedRequest] = field(default_factory=list)
    # path fragment → statuses to answer (in order) before succeeding
    scripted: dict[str, list[int]] = field(default_factory=dict)
    # path fragment → status answered every time
    failing: dict[str, int] = field(default_factory=dict)
    # API method → Slack error code answered with ok=false
    api_errors: dict[str, str] = field(default_factory=dict)
    # path fragment → how the answer is broken (every time)
    broken: dict[str, Breakage] = field(default_factory=dict)
    retry_after: str = "1"  # the Retry-After header of every 429
    # channel → its bot messages, oldest first
    channels: dict[str, list[PostedMessage]] = field(default_factory=dict)
    history_page_size: int = 2  # small, so that paging through history is exercised
    scopes: str = "chat:write,channels:read,groups:read"
    bot_name: str = "fwcost"
    not_member: set[str] = field(default_factory=set)  # channel IDs the app is not in
    channel_names: dict[str, str] = field(default_factory=dict)  # channel ID → name
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def delivered(self, fragment: str = "") -> list[CapturedRequest]:
        """Posts that succeeded (landed), whose path contains `fragment` (reads aside)."""
        return [
            r
            for r in self.requests
            if r.status == 200 and fragment in r.path and r.path != _HISTORY
        ]

    def lookups(self) -> list[CapturedRequest]:
        """The conversations.history calls made."""
        return [r for r in self.requests if r.path == _HISTORY]

    def post(self, channel: str, text: str, metadata: dict[str, Any] | None) -> str:
        """Add a message to a channel (as another app or a person would); its ts."""
        with self.lock:
            messages = self.channels.setdefault(channel, [])
            ts = f"{int(time.time())}.{len(messages) + 1:06d}"
            messages.append(PostedMessage(ts, text, metadata))
        return ts

    def breakage(self, path: str) -> Breakage | None:
        return next((how for fragment, how in self.broken.items() if fragment in path), None)

    def answer(self, path: str) -> int:
        with self.lock:
            for fragment, statuses in self.scripted.items():
                if fragment in path and statuses:
                    return statuses.pop(0)
            for fragment, status in self.failing.items():
                if fragment in path:
                    return status
        return 200


@contextmanager
def serve_fake_slack() -> Iterator[FakeSlack]:
    """A FakeSlack listening on a loopback port until the block ends."""
    fake = FakeSlack()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(fake))
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            # slack_sdk sends conversations.info as a GET with its arguments in the query.
            path, _, query = self.path.partition("?")
            self._answer(path, dict(parse_qsl(query)))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                body: dict[str, Any] = dict(parse_qsl(raw.decode()))
            else:
                body = json.loads(raw or b"{}")
            self._answer(self.path, body)

        def _answer(self, path: str, body: dict[str, Any]) -> None:
            status = fake.answer(path)
            api_method = path.removeprefix("/api/")
            error = fake.api_errors.get(api_method)
            if api_method.startswith("chat.") and body.get("channel") in fake.not_member:
                error = "not_in_channel"
            if status == 200 and error:
                reply = {"ok": False, "error": error}
                self._reply(200, json.dumps(reply), body, ok=False)
                return
            if status == 429 and self.path.startswith("/api/"):
                self._reply(429, json.dumps({"ok": False, "error": "ratelimited"}), body)
            elif status != 200:
                self._reply(status, _WEBHOOK_ERRORS.get(status, "oops"), body)
            elif path == _HISTORY:
                self._reply(200, json.dumps(self._history(body)), body)
            elif path.startswith("/api/"):
                self._reply(200, json.dumps(self._api_success(api_method, body)), body)
            else:
                self._reply(200, "ok", body)

        def _api_success(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
            channel, metadata = body.get("channel", ""), body.get("metadata")
            if method == "chat.update":
                with fake.lock:
                    for message in fake.channels.get(channel, []):
                        if message.ts == body["ts"]:
                            message.text, message.metadata = body["text"], metadata
                return {"ok": True, "channel": channel, "ts": body["ts"]}
            if method == "auth.test":
                return {"ok": True, "team": "Acme", "team_id": "T0", "user": fake.bot_name,
                        "user_id": "U0BOT", "bot_id": "B0BOT"}  # fmt: skip
            if method == "conversations.info":
                return {"ok": True, "channel": {
                    "id": channel, "name": fake.channel_names.get(channel, "finops"),
                    "is_private": False, "is_archived": False,
                    "is_member": channel not in fake.not_member,
                }}  # fmt: skip
            return {
                "ok": True,
                "channel": channel,
                "ts": fake.post(channel, body["text"], metadata),
            }

        def _history(self, query: dict[str, str]) -> dict[str, Any]:
            """Newest first, after `oldest`, a page at a time; metadata only when asked for."""
            with fake.lock:
                messages = [
                    message
                    for message in reversed(fake.channels.get(query["channel"], []))
                    if float(message.ts) > float(query.get("oldest", "0"))
                ]
            start = int(query.get("cursor") or 0)
            page = messages[start : start + fake.history_page_size]
            with_metadata = query.get("include_all_metadata") in {"1", "true"}
            more = start + fake.history_page_size < len(messages)
            return {
                "ok": True,
                "messages": [
                    {"type": "message", "ts": message.ts, "text": message.text}
                    | ({"metadata": message.metadata} if with_metadata and message.metadata else {})
                    for message in page
                ],
                "has_more": more,
                "response_metadata": {
                    "next_cursor": str(start + fake.history_page_size) if more else ""
                },
            }

        def _reply(self, status: int, text: str, body: dict[str, Any], ok: bool = True) -> None:
            fake.requests.append(
                CapturedRequest(
                    self.path.partition("?")[0],
                    self.headers.get("Authorization", ""),
                    body,
                    status if ok else 299,  # an API error is not a delivery
                )
            )
            breakage = fake.breakage(self.path)
            if breakage is not None:
                self._break(breakage)
                return
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", fake.retry_after)
            if self.path.startswith("/api/"):
                self.send_header("x-oauth-scopes", fake.scopes)
            self.send_header("Content-Type", "application/json" if "{" in text else "text/plain")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text.encode())

        def _break(self, breakage: Breakage) -> None:
            if breakage is Breakage.GARBAGE:
                self.wfile.write(b"\x00\x01 this is not HTTP\r\n\r\n")
            elif breakage is Breakage.CUT:
                self.wfile.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 500\r\n\r\n{"ok": tr'
                )
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def log_message(self, format: str, *args: object) -> None:
            # The default writes each request line to stderr; the captured list is enough.
            pass

    return Handler


def sent_raw_messages() -> list[Any]:
    """What moto's SES accepted (SES v2 sends land in the v1 backend)."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def make_report(
    audience: str, *, csv: bytes | None = b"day,cost\n2026-11-21,12.50\n"
) -> OutgoingReport:
    return OutgoingReport(
        team=None if audience == "overall" else audience,
        subject=f"Fireworks costs 2026-11-21 — {audience}: $12.50",
        html=f"<html><body><h1>{audience}</h1><p>Total $12.50 ✓</p></body></html>",
        text=f"Fireworks costs for {audience}\nTotal: $12.50\nTop model: llama-v3p1-70b\nmore",
        slack={
            "text": f"Fireworks costs {audience}: $12.50",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{audience}*"}}],
        },
        csv_name="fwcost-acme-ai-2026-11-21.csv",
        csv_bytes=csv,
    )
