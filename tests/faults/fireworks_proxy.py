"""A loopback proxy in front of the Fireworks simulator for the faults it has no knob for: a body
trickled a byte at a time, and an answer whose numbers were tampered with (NaN, 1e400, negative
tokens, another currency). Everything else passes through unchanged, byte for byte.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

TRICKLE_EVERY_SECONDS = 0.02  # far under any read timeout: only a deadline per attempt ends it


@dataclass(frozen=True)
class Tamper:
    """In answers from a path containing `path_contains`, the first match of `pattern` (bytes)
    becomes `replacement`."""

    path_contains: str
    pattern: bytes
    replacement: bytes


@dataclass
class FireworksProxy:
    upstream: str
    base_url: str = ""
    tampers: list[Tamper] = field(default_factory=list)
    trickle: str | None = None  # path fragment whose answers are trickled
    tampered: int = 0  # answers changed
    trickled: int = 0  # answers trickled
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        """The fault clears: every answer passes through again."""
        with self.lock:
            self.tampers.clear()
            self.trickle = None

    def rewrite(self, path: str, body: bytes) -> bytes:
        with self.lock:
            for tamper in self.tampers:
                if tamper.path_contains in path:
                    changed = re.sub(tamper.pattern, tamper.replacement, body, count=1)
                    self.tampered += changed != body  # tests check the fault was injected
                    body = changed
        return body

    def trickles(self, path: str) -> bool:
        with self.lock:
            if self.trickle is not None and self.trickle in path:
                self.trickled += 1
                return True
        return False


@contextmanager
def serve_fireworks_proxy(upstream: str) -> Iterator[FireworksProxy]:
    proxy = FireworksProxy(upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(proxy))
    server.daemon_threads = True
    proxy.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.released.set()  # ends every trickle still running
        server.shutdown()
        server.server_close()


def _handler_for(proxy: FireworksProxy) -> type[BaseHTTPRequestHandler]:
    client = httpx.Client(base_url=proxy.upstream, timeout=60)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._forward()

        def do_POST(self) -> None:
            self._forward()

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() in {"authorization", "content-type", "accept"}
            }
            answer = client.request(self.command, self.path, content=body, headers=headers)
            content = proxy.rewrite(self.path, answer.content)
            self.send_response(answer.status_code)
            for name in ("Content-Type", "Retry-After"):
                if name in answer.headers:
                    self.send_header(name, answer.headers[name])
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if proxy.trickles(self.path):
                self._trickle(content)
            else:
                self.wfile.write(content)

        def _trickle(self, content: bytes) -> None:
            for byte in content:
                if proxy.released.wait(TRICKLE_EVERY_SECONDS):
                    break
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:  # the client gave up and hung up
                    break
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
