"""What can go wrong talking to Fireworks, in words a person can act on.

No message built here may contain the API key or any other credential: callers pass texts
through `redact` first (a server could echo the Authorization header back in an error body).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fwcost.scrub import Scrubber

if TYPE_CHECKING:
    from fwcost.model import RawResponse

# What a person can do about each refusal; 400 gets its own text built from what was sent.
HINTS: dict[int, str] = {
    401: "the API key is invalid or revoked: create a new key and update the secret",
    403: "this key cannot read billing data (usageCosts:query needs an account admin key)",
    404: "no such account: check the account id (the bare id, e.g. 'my-account')",
}
MESSAGE_EXCERPT_CHARS = 300


class FireworksError(Exception):
    """Fireworks could not be asked or did not answer usefully; the run cannot trust its data."""


class FireworksParseError(FireworksError):
    """A 200 response whose JSON does not fit the documented shape (e.g. a non-numeric int64)."""


class FireworksHTTPError(FireworksError):
    """Fireworks refused a request with a status that retrying will not fix (400/401/403/404...)."""

    def __init__(
        self,
        *,
        status: int,
        method: str,
        endpoint: str,
        message: str,
        hint: str,
        raw: RawResponse | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.endpoint = endpoint
        self.message = message
        self.hint = hint
        self.raw = raw  # the refusal as received, for the archive when the run goes on
        said = message or "(no message)"
        super().__init__(f"{method} {endpoint} answered {status}: {said}. {hint}")


def fireworks_message(body: bytes) -> str:
    """Fireworks' own words: google.rpc.Status.message if the body is one, else an excerpt."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        status: Any = json.loads(text)
    except ValueError:
        status = None
    if isinstance(status, dict):
        message = status.get("message")
        if not message and isinstance(status.get("error"), dict):  # some gateways nest it
            message = status["error"].get("message")
        if isinstance(message, str) and message:
            return _excerpt(message)
    return _excerpt(text)


def hint_for(status: int, sent: str) -> str:
    """What a person can do about a non-retryable status; `sent` describes the request for 400."""
    if status == 400:
        return f"Fireworks rejected the request as sent ({sent})"
    return HINTS.get(status, f"unexpected status {status}; the request was {sent}")


def redact(text: str, secret: str) -> str:
    """`text` without `secret` (the API key) or anything shaped like a credential (fwcost.scrub)."""
    return Scrubber((secret,)).scrub_text(text)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= MESSAGE_EXCERPT_CHARS:
        return flat
    return flat[:MESSAGE_EXCERPT_CHARS] + "…"
