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
    pattern: re.Pattern[bytes]
    anchors: tuple[bytes, ...] = ()  # when given, the pattern is tried only if one occurs


# A pattern that starts with a literal is tried at once: the regex engine skips ahead to that
# literal as fast as bytes.find would (faster, for a short one), so an anchor scan first would
# only add a pass over the body. The Bearer pattern starts with a character class, which the
# engine tries at each byte (ten times slower over a large body): it waits for its anchors.
_SHAPES = (
    _Shape(
        re.compile(rb"(?P<scheme>[Bb](?:earer|EARER)\s+)[A-Za-z0-9._~+/=-]{8,}"),
        anchors=(b"earer", b"EARER"),
    ),
    _Shape(re.compile(rb"fw_[A-Za-z0-9]{20,}")),
    _Shape(re.compile(rb"xox[bpas]-[A-Za-z0-9-]{10,}")),
    _Shape(re.compile(rb"https?:(?:\\?/){2}hooks\.slack\.com(?:[^\s\"'<>\\]|\\/)*")),
    _Shape(re.compile(rb"A[KS]IA[A-Z0-9]{16}(?![A-Z0-9])")),
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
            if found := scrubbed.count(secret):
                scrubbed, count = scrubbed.replace(secret, SCRUBBED), count + found
        for shape in _SHAPES:
            if shape.anchors and not any(anchor in scrubbed for anchor in shape.anchors):
                continue
            replaced, found = shape.pattern.subn(_replacement, scrubbed)
            if found:
                scrubbed, count = replaced, count + found
        return Scrubbed(scrubbed, count) if count else Scrubbed(body, 0)

    def scrub_text(self, text: str) -> str:
        scrubbed = self.scrub(text.encode("utf-8", "surrogatepass"))
        return scrubbed.body.decode("utf-8", "surrogatepass") if scrubbed.count else text


def _replacement(match: re.Match[bytes]) -> bytes:
    scheme = match.groupdict().get("scheme")
    return (scheme or b"") + SCRUBBED
