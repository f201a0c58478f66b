"""What delivery speaks: the rendered reports it receives, where they go, and what came back.

Destinations are plain values loaded from the routing configuration. Secret values (webhook
URLs, bot tokens) never appear here: a Slack destination names the key of its secret only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Literal, Protocol
from urllib.parse import quote

from fwcost.periods.model import Cadence, Period

OVERALL = "overall"
# A destination with no "cadence" in the routing gets the daily report only, as before cadences.
DEFAULT_CADENCES = frozenset({Cadence.DAILY})


@dataclass(frozen=True)
class Attachment:
    """A file an email carries (when its route asks for attachments): the day's CSV, or a
    month's chargeback CSV and workbook."""

    name: str
    content_type: str  # e.g. "text/csv"
    body: bytes


@dataclass(frozen=True)
class OutgoingReport:
    """One rendered report for one audience, ready to send."""

    team: str | None  # None: the overall report
    subject: str  # email subject
    html: str
    text: str
    slack: dict[str, Any]  # Block Kit payload {"text": ..., "blocks": [...]}
    # Attached when the route asks for it (attach_csv): the day's CSV, e.g.
    # "fwcost-acme-ai-2026-11-21.csv"; a statement's chargeback CSV and workbook.
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        # The team names ledger keys and files: an empty one would make "which report was
        # this?" unanswerable.
        if self.team == "":
            raise ValueError("OutgoingReport.team must be a team name or None (overall)")

    @property
    def audience(self) -> str:
        """How logs and summaries name the report's readers."""
        return audience_name(self.team)


def audience_name(team: str | None) -> str:
    return OVERALL if team is None else team


def audience_segment(team: str | None) -> str:
    """A path segment for an audience (ledger records, delivered files), Hive-style.

    Teams have a key of their own: `team=<name_segment>` can never be `audience=overall`, so
    a team annotated "overall" or "audience=overall" cannot land on the overall report's files.
    """
    return f"audience={OVERALL}" if team is None else "team=" + name_segment(team)


# A file name may be 255 bytes; this leaves room for what is built around a segment
# ("team=", ".csv", an account and a day) and keeps keys far below S3's 1,024 bytes.
MAX_SEGMENT_BYTES = 100
_DIGEST_CHARS = 24  # 96 bits of SHA-256: no two names share a cut segment by chance or design
_HASH_MARK = "~"  # encoded in every other position, so only a cut segment carries it


def name_segment(name: str) -> str:
    """The path segment of a name (a team, an API key, a model): every key, folder and file
    name built from a name goes through here. For any non-empty name it is

    - safe: letters, digits, `.`, `_` and `-` stay; every other character is percent-encoded
      as UTF-8 (`/` %2F, `\\` %5C, `%` %25, `~` %7E, a line break %0A, an emoji %F0%9F...), so
      a segment holds no separator, control character, space or non-ASCII byte;
    - never a path step: `.` and `..` are encoded whole (%2E, %2E%2E);
    - distinct: decoding is unique, so two names never share a segment (percent-decode it to
      read the name back; a plain name such as `search` is its own segment);
    - bounded: at most MAX_SEGMENT_BYTES. A longer encoding keeps the characters that fit and
      ends in `~` and 24 hex digits of the name's SHA-256; `~` appears nowhere else, so a cut
      segment never equals a whole one.
    """
    if not name:
        raise ValueError("a name segment needs a non-empty name")
    encoded = _percent_encoded(name)
    if encoded in (".", ".."):
        return encoded.replace(".", "%2E")
    if len(encoded) <= MAX_SEGMENT_BYTES:
        return encoded
    room, head = MAX_SEGMENT_BYTES - len(_HASH_MARK) - _DIGEST_CHARS, ""
    for character in name:
        piece = _percent_encoded(character)
        if len(head) + len(piece) > room:
            break
        head += piece
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{head}{_HASH_MARK}{digest[:_DIGEST_CHARS]}"


def _percent_encoded(text: str) -> str:
    # surrogatepass: a lone surrogate (JSON may escape one) is still encoded, one way only.
    return quote(text, safe="", errors="surrogatepass").replace(_HASH_MARK, "%7E")


@dataclass(frozen=True)
class LedgerKey:
    """One delivery: an account's period (a day, week or month), one audience's report, one
    destination; a month's statement also by its issue (2 and on: revised).

    It keys the delivery's ledger record, and a Slack bot post carries it as message metadata,
    so a later run can find a post whose ledger record was never completed.
    """

    account_id: str
    day: date  # the report day; a week's or month's first day
    team: str | None  # None: the overall report
    destination_id: str
    cadence: Cadence = Cadence.DAILY
    issue: int = 1  # a statement re-issued after its month was restated: 2, 3...

    @property
    def audience(self) -> str:
        return audience_name(self.team)

    @property
    def period(self) -> Period:
        return Period.of(self.cadence, self.day)

    @property
    def period_key(self) -> str:
        """2026-11-21 (a day, as before periods), 2026-W47, 2026-10, 2026-10-issue-2."""
        return self.period.key + (f"-issue-{self.issue}" if self.issue > 1 else "")

    def relative_path(self) -> str:
        # A day's records keep their path (dt=...): deployments' existing records still count.
        issue = f"issue={self.issue}/" if self.issue > 1 else ""
        return (
            f"ledger/account={self.account_id}/{self.period.segment}/{issue}"
            f"{audience_segment(self.team)}/{self.destination_id}.json"
        )


@dataclass(frozen=True)
class SlackWebhookDestination:
    """An incoming webhook; its URL is the value of `secret_key` in the Slack secret."""

    secret_key: str
    cadences: frozenset[Cadence] = DEFAULT_CADENCES

    kind: ClassVar[Literal["slack"]] = "slack"

    @property
    def destination_id(self) -> str:
        return f"slack-webhook-{self.secret_key}"

    def describe(self) -> str:
        return f"Slack webhook (secret key '{self.secret_key}')"


@dataclass(frozen=True)
class SlackBotDestination:
    """A channel posted to with a bot token (the value of `secret_key` in the Slack secret)."""

    channel: str
    secret_key: str
    cadences: frozenset[Cadence] = DEFAULT_CADENCES

    kind: ClassVar[Literal["slack"]] = "slack"

    @property
    def destination_id(self) -> str:
        return f"slack-bot-{self.channel}"

    def describe(self) -> str:
        return f"Slack channel {self.channel} (bot token key '{self.secret_key}')"


@dataclass(frozen=True)
class EmailDestination:
    """One email per report, from one sender to a fixed list of recipients."""

    to: tuple[str, ...]
    cc: tuple[str, ...]
    sender: str  # "from" in the routing file
    attach_csv: bool  # attach the report's files (a day's CSV; a statement's CSV and XLSX)
    cadences: frozenset[Cadence] = DEFAULT_CADENCES

    kind: ClassVar[Literal["email"]] = "email"

    @property
    def destination_id(self) -> str:
        # The same people are the same destination, whatever the order or case in the file.
        recipients = "\n".join(sorted(address.lower() for address in self.to + self.cc))
        return "email-" + hashlib.sha256(recipients.encode()).hexdigest()[:12]

    def describe(self) -> str:
        described = "email to " + ", ".join(self.to)
        if self.cc:
            described += " cc " + ", ".join(self.cc)
        return described


Destination = SlackWebhookDestination | SlackBotDestination | EmailDestination


@dataclass(frozen=True)
class Receipt:
    """What a destination answered to one successful send."""

    action: Literal["posted", "updated", "sent", "written"]
    channel: str = ""  # Slack channel ID (bot posts)
    ts: str = ""  # Slack message timestamp (bot posts): what chat.update needs later
    message_id: str = ""  # SES message ID, or the file written by the FileSender

    def describe(self) -> str:
        """E.g. "posted (channel C0123ABCD, ts 1700000000.000100)"."""
        where = [
            f"{name} {value}"
            for name, value in (
                ("channel", self.channel),
                ("ts", self.ts),
                ("message", self.message_id),
            )
            if value
        ]
        return self.action + (f" ({', '.join(where)})" if where else "")


class Sender(Protocol):
    """Sends one report to one destination, or raises DeliveryError (secrets masked)."""

    def send(
        self,
        report: OutgoingReport,
        destination: Destination,
        previous: Receipt | None,
        key: LedgerKey,
    ) -> Receipt:
        """Send; `previous` is the earlier receipt for this report and destination when it is
        delivered again (a bot post is then edited rather than duplicated); `key` says which
        delivery this is (a bot post carries it as metadata)."""
        ...

    def find_sent(
        self, destination: Destination, key: LedgerKey, since: datetime
    ) -> Receipt | None:
        """What an earlier attempt, which never recorded its outcome, sent for `key` after
        `since`; None when nothing is found or this kind of destination cannot be searched
        (only Slack bot posts can: webhooks and email leave nothing to look up)."""
        ...
