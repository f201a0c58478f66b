"""What can go wrong talking to Fireworks, in words a person can act on.

No message built here may contain the API key or any other credential: callers pass texts
through `redact` first (a server could echo the Authorization header back in an error body).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from fwcost.scrub import Scrubber

if TYPE_CHECKING:
    from fwcost.model import RawResponse


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a status Fireworks refused with means, and what a person can do about it."""

    meaning: str
    fix: str


# The refusals a person can fix; 400 and the rest get texts built from what was sent.
REFUSALS: dict[int, Refusal] = {
    401: Refusal(
        "Fireworks refused the API key",
        "Create a new API key in Fireworks and put it in FWCOST_API_KEY,"
        " or in the secret FWCOST_API_KEY_SECRET names",
    ),
    403: Refusal(
        "the API key may not read billing data",
        "Use an account admin's API key (FWCOST_API_KEY, or the secret FWCOST_API_KEY_SECRET"
        " names)",
    ),
    404: Refusal(
        "Fireworks knows no such account",
        "Check FWCOST_ACCOUNT_ID (or --account): the bare account id, e.g. 'my-account'",
    ),
}
MESSAGE_EXCERPT_CHARS = 300


class Failure(Enum):
    """What the last attempt of a request that ran out of retries met."""

    UNREACHABLE = "unreachable"  # no connection: DNS, refused, or no answer to connect
    TIMEOUT = "timeout"  # connected, but no answer in time
    FAILING = "failing"  # 429/5xx, a malformed body, or a connection dropped mid-answer


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
        refusal: Refusal,
        raw: RawResponse | None = None,
    ) -> None:
        self.status = status
        self.method = method
        self.endpoint = endpoint
        self.message = message
        self.meaning = refusal.meaning
        self.hint = refusal.fix
        self.raw = raw  # the refusal as received, for the archive when the run goes on
        super().__init__(f"{self.meaning}: {self.answer}. {self.hint}")

    @property
    def answer(self) -> str:
        """The request and what Fireworks said, e.g. "GET /v1/... answered 401 (bad key)"."""
        return (
            f"{self.method} {self.endpoint} answered {self.status} ({self.message or 'no message'})"
        )


class FireworksGaveUp(FireworksError):
    """Every attempt at one request failed in a way another try might have fixed."""

    def __init__(self, message: str, *, last_failure: Failure, base_url: str) -> None:
        super().__init__(message)
        self.last_failure = last_failure
        self.base_url = base_url


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


def refusal_for(status: int, sent: str) -> Refusal:
    """What a non-retryable status means; `sent` describes the request where that helps."""
    if status in REFUSALS:
        return REFUSALS[status]
    if status == 400:
        return Refusal(
            "Fireworks rejected a request",
            f"The API may have changed: report this with the request as sent ({sent})",
        )
    return Refusal(f"Fireworks answered {status}", f"Unexpected status; the request was {sent}")


def redact(text: str, secret: str) -> str:
    """`text` without `secret` (the API key) or anything shaped like a credential (fwcost.scrub)."""
    return Scrubber((secret,)).scrub_text(text)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= MESSAGE_EXCERPT_CHARS:
        return flat
    return flat[:MESSAGE_EXCERPT_CHARS] + "…"
