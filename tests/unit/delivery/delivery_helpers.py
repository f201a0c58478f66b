"""Stand-ins for the delivery unit tests: a recording sender, a fake clock, a flaky ledger."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from fwcost.delivery import (
    Attachment,
    DeliveryError,
    DeliveryState,
    Destination,
    LedgerError,
    LedgerKey,
    LedgerRecord,
    LocalLedger,
    OutgoingReport,
    Receipt,
    SlackBotDestination,
    Stored,
    load_routing,
)

DAY = date(2026, 11, 21)
NOW = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
BOT = "slack-bot-C0123ABCD"
WEBHOOK = "slack-webhook-search"
ROUTING = load_routing(
    json.dumps(
        {
            "routes": {
                "overall": {
                    "slack": [{"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot"}],
                    "email": [
                        {"from": "costs@acme.ai", "to": ["finops@acme.ai"], "attach_csv": True}
                    ],
                },
                "teams": {"search": {"slack": [{"kind": "webhook", "secret_key": "search"}]}},
            },
        }
    ),
    "test",
)


def report(audience: str) -> OutgoingReport:
    return OutgoingReport(
        team=None if audience == "overall" else audience,
        subject=f"Costs {audience}",
        html="<p>hi</p>",
        text="line 1\nline 2\nline 3\nline 4",
        slack={"text": f"costs {audience}", "blocks": []},
        attachments=(Attachment("day.csv", "text/csv", b"a,b\n"),),
    )


@dataclass
class FakeClock:
    """Wall-clock time and the run's deadline, moved on by hand (no sleeping)."""

    at: datetime = NOW
    deadline: datetime | None = None

    def now(self) -> datetime:
        return self.at

    def seconds_left(self) -> float:
        assert self.deadline is not None
        return (self.deadline - self.at).total_seconds()

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class RecordingSender:
    """Records sends; keeps bot posts findable by their delivery key, as Slack's message
    metadata does (webhooks and email cannot be looked up); fails for the IDs in `failing`."""

    failing: set[str] = field(default_factory=set)
    sent: list[tuple[str, str, Receipt | None]] = field(default_factory=list)
    posts: dict[LedgerKey, Receipt] = field(default_factory=dict)
    lookups: list[LedgerKey] = field(default_factory=list)
    clock: FakeClock | None = None
    send_seconds: float = 0  # how long each send takes on `clock`

    def send(
        self,
        report: OutgoingReport,
        destination: Destination,
        previous: Receipt | None,
        key: LedgerKey,
    ) -> Receipt:
        if self.clock is not None:
            self.clock.advance(self.send_seconds)
        if destination.destination_id in self.failing:
            raise DeliveryError(destination.destination_id, "it broke")
        self.sent.append((report.audience, destination.destination_id, previous))
        receipt = Receipt(action="posted", channel="C0123ABCD", ts=f"{len(self.sent)}.0")
        if isinstance(destination, SlackBotDestination):
            self.posts[key] = receipt
        return receipt

    def find_sent(
        self, destination: Destination, key: LedgerKey, since: datetime
    ) -> Receipt | None:
        self.lookups.append(key)
        return self.posts.get(key) if isinstance(destination, SlackBotDestination) else None

    def sends_to(self, destination_id: str) -> int:
        return sum(1 for _, sent_to, _ in self.sent if sent_to == destination_id)


@dataclass
class FlakyLedger:
    """A LocalLedger whose writes of `delivered` records fail, `failures` times (S3 down)."""

    inner: LocalLedger
    failures: float  # how many delivered-record writes fail before one succeeds (inf: all)
    failed_writes: int = 0

    def read(self, key: LedgerKey) -> Stored | None:
        return self.inner.read(key)

    def write(self, record: LedgerRecord, *, replacing: str | None) -> str | None:
        if record.state is DeliveryState.DELIVERED and self.failed_writes < self.failures:
            self.failed_writes += 1
            raise LedgerError("could not write the record: S3 is unreachable")
        return self.inner.write(record, replacing=replacing)
