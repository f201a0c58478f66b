"""What delivery speaks: the rendered reports it receives, where they go, and what came back.

Destinations are plain values loaded from the routing configuration. Secret values (webhook
URLs, bot tokens) never appear here: a Slack destination names the key of its secret only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol
from urllib.parse import quote

OVERALL = "overall"


@dataclass(frozen=True)
class OutgoingReport:
    """One rendered report for one audience, ready to send."""

    team: str | None  # None: the overall report
    subject: str  # email subject
    html: str
    text: str
    slack: dict[str, Any]  # Block Kit payload {"text": ..., "blocks": [...]}
    csv_name: str  # e.g. "fwcost-acme-ai-2026-11-21.csv"
    csv_bytes: bytes | None  # the day's normalized CSV (attached when the route asks for it)

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
    """A path segment for an audience that is safe in an S3 key and a file name.

    Hive-style so "." or ".." can never become a path component, and teams have a key of their
    own: a team annotated "overall" cannot land on the overall report's ledger record or files.
    """
    return f"audience={OVERALL}" if team is None else "team=" + quote(team, safe="")


@dataclass(frozen=True)
class SlackWebhookDestination:
    """An incoming webhook; its URL is the value of `secret_key` in the Slack secret."""

    secret_key: str

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
    attach_csv: bool

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
        self, report: OutgoingReport, destination: Destination, previous: Receipt | None
    ) -> Receipt:
        """Send; `previous` is the earlier receipt for this report and destination when a
        forced re-run delivers again (a bot post is then edited rather than duplicated)."""
        ...
