"""Scrubbing credentials out of text that is kept: archived response bodies, error messages.

A gateway that echoes request headers in an error body, or a message that quotes a token, must
not put a secret into the audit archive, a report or a log. Scrubbed are the secrets the run
knows (the Fireworks API key) and anything shaped like a credential:

- `Bearer <token>`, `bearer ...`, `BEARER ...` (the word kept, a token of 8+ characters replaced);
- Fireworks keys `fw_` + 20 or more letters and digits;
- Slack tokens `xoxb-`, `xoxp-`, `xoxa-`, `xoxs-` and incoming-webhook URLs on hooks.slack.com
  (also with JSON's escaped slashes, `https:\\/\\/hooks.slack.com\\/...`);
- AWS access key ids `AKIA...` / `ASIA...` (20 characters).

Each is replaced by `***` (SCRUBBED), so a scrubbed JSON body stays JSON. A body with none of
them is returned as is, the same bytes. Both err on the side of scrubbing: a known secret is
scrubbed wherever it occurs, and a name that merely looks like a key (`fw_` and 20 letters) is
scrubbed too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SCRUBBED = b"***"  # as delivery masks Slack secrets; needs no escaping in JSON


@dataclass(frozen=True, slots=True)
class _Shape:
    anchors: tuple[bytes, ...]  # the pattern is tried only when one of these occurs
    pattern: re.Pattern[bytes]


# Each pattern starts with a literal so the regex engine skips ahead fast, and is tried only
# when its anchor occurs (bytes.find beats any pattern over a large body that holds none).
_SHAPES = (
    _Shape(
        (b"earer", b"EARER"),
        re.compile(rb"(?P<scheme>[Bb](?:earer|EARER)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    ),
    _Shape((b"fw_",), re.compile(rb"fw_[A-Za-z0-9]{20,}")),
    _Shape((b"xox",), re.compile(rb"xox[bpas]-[A-Za-z0-9-]{10,}")),
    _Shape(
        (b"hooks.slack.com",),
        re.compile(rb"https?:(?:\\?/){2}hooks\.slack\.com(?:[^\s\"'<>\\]|\\/)*"),
    ),
    _Shape((b"AKIA", b"ASIA"), re.compile(rb"A[KS]IA[A-Z0-9]{16}(?![A-Z0-9])")),
)


@dataclass(frozen=True, slots=True)
class Scrubbed:
    body: bytes
    count: int  # how many credentials were replaced; 0: `body` is the input, unchanged


class Scrubber:
    """Scrubs the given secrets and every credential shape (module docstring)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is scrubbed whole.
        self._secrets = sorted(
            {secret.encode() for secret in secrets if secret},
            key=len,
            reverse=True,
        )

    def scrub(self, body: bytes) -> Scrubbed:
        scrubbed, count = body, 0
        for secret in self._secrets:
            if secret in scrubbed:
                count += scrubbed.count(secret)
                scrubbed = scrubbed.replace(secret, SCRUBBED)
        for shape in _SHAPES:
            if any(anchor in scrubbed for anchor in shape.anchors):
                scrubbed, found = shape.pattern.subn(_replacement, scrubbed)
                count += found
        return Scrubbed(scrubbed, count) if count else Scrubbed(body, 0)

    def scrub_text(self, text: str) -> str:
        scrubbed = self.scrub(text.encode("utf-8", "surrogatepass"))
        return scrubbed.body.decode("utf-8", "surrogatepass") if scrubbed.count else text


def _replacement(match: re.Match[bytes]) -> bytes:
    scheme = match.groupdict().get("scheme")
    return (scheme or b"") + SCRUBBED
