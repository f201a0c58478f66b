"""The delivery step of the daily run: every rendered report to every routed destination, once.

For each (report, destination): skip it if the ledger says it was delivered (unless forced),
send it, and record it in the ledger at once, so a retry after a partial failure sends only
what is missing. One destination failing does not stop the others, nor does a ledger that
cannot be read or written for one of them; the pipeline raises at the very end (RunResult.
raise_if_failed, which also lists these failures) so the invocation fails and is retried. A forced run skips what its own
invocation already sent, so Lambda retrying a forced run resends only what failed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from fwcost.delivery.email import build_message
from fwcost.delivery.errors import DeliveryError, DeliveryFailed
from fwcost.delivery.files import FileSender
from fwcost.delivery.ledger import DeliveryLedger, LedgerEntry, LedgerKey
from fwcost.delivery.model import Destination, EmailDestination, OutgoingReport, Sender
from fwcost.delivery.routing import RoutingConfig

_logger = logging.getLogger(__name__)
_PREVIEW_LINES = 3


@dataclass(frozen=True)
class Senders:
    """Which Sender handles each kind of destination."""

    slack: Sender
    email: Sender

    @classmethod
    def to_folder(cls, folder: Path) -> Senders:
        """Everything written to files under `folder` (the CLI demo)."""
        file_sender = FileSender(folder)
        return cls(slack=file_sender, email=file_sender)

    def for_destination(self, destination: Destination) -> Sender:
        return self.email if destination.kind == "email" else self.slack


@dataclass(frozen=True)
class DeliveryResult:
    """One (report, destination) pair and what happened to it, in words (no secrets)."""

    audience: str
    destination_id: str
    detail: str


@dataclass(frozen=True)
class PlannedSend:
    """What a dry run would have sent, and to whom."""

    audience: str
    destination_id: str
    recipient: str
    subject: str
    size_bytes: int  # the Slack JSON payload or the whole MIME message
    attachment: str  # "name (N bytes)" or "" when nothing is attached
    first_lines: tuple[str, ...]


@dataclass
class DeliveryOutcome:
    """Everything delivery did (or, in a dry run, would do)."""

    dry_run: bool = False
    delivered: list[DeliveryResult] = field(default_factory=list)
    skipped: list[DeliveryResult] = field(default_factory=list)
    failed: list[DeliveryResult] = field(default_factory=list)
    planned: list[PlannedSend] = field(default_factory=list)

    def raise_if_failed(self) -> None:
        """Raise DeliveryFailed naming every failed destination (call last, so Lambda retries)."""
        if not self.failed:
            return
        lines = [f"- {result.audience} → {result.detail}" for result in self.failed]
        raise DeliveryFailed(
            f"{len(self.failed)} of {len(self.failed) + len(self.delivered)} deliveries failed"
            " (delivered ones are in the ledger and will be skipped on retry):\n" + "\n".join(lines)
        )

    def summary(self) -> str:
        """A human-readable account of the step, for the CLI and the run's log."""
        lines = [
            f"delivery{' (dry run)' if self.dry_run else ''}: {len(self.delivered)} delivered,"
            f" {len(self.skipped)} already delivered, {len(self.failed)} failed"
            + (f", {len(self.planned)} would be sent" if self.dry_run else "")
        ]
        for label, results in (("delivered", self.delivered), ("skipped", self.skipped)):
            lines += [f"  {label} {r.audience} → {r.destination_id}: {r.detail}" for r in results]
        lines += [f"  FAILED {r.audience} → {r.detail}" for r in self.failed]
        for plan in self.planned:
            attached = f", attaching {plan.attachment}" if plan.attachment else ""
            lines.append(
                f"  would send {plan.audience} → {plan.destination_id} ({plan.recipient}):"
                f" {plan.subject!r}, {plan.size_bytes} bytes{attached}"
            )
            lines += [f"    | {line}" for line in plan.first_lines]
        return "\n".join(lines)


def deliver_reports(
    reports: Sequence[OutgoingReport],
    routing: RoutingConfig,
    ledger: DeliveryLedger,
    senders: Senders,
    day: date,
    account_id: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    invocation_id: str = "",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DeliveryOutcome:
    """Deliver each report to each destination its audience is routed to, exactly once.

    `force` sends again what the ledger says was delivered (a bot post is edited in place).
    `dry_run` sends nothing and records nothing: the outcome's `planned` lists what would go
    where (already-delivered pairs are still reported as skipped, unless forced).
    """
    outcome = DeliveryOutcome(dry_run=dry_run)
    run = _Run(outcome, ledger, senders, day, account_id, force, invocation_id, now)
    for report in reports:
        destinations = routing.routes_for(report.team)
        if not destinations:
            _logger.info("no route for audience %r: its report is not delivered", report.audience)
        for destination in destinations:
            run.deliver(report, destination)
    _logger.info(run.outcome.summary())
    return run.outcome


@dataclass
class _Run:
    """One deliver_reports call: its settings and the outcome it builds up."""

    outcome: DeliveryOutcome
    ledger: DeliveryLedger
    senders: Senders
    day: date
    account_id: str
    force: bool
    invocation_id: str
    now: Callable[[], datetime]

    def deliver(self, report: OutgoingReport, destination: Destination) -> None:
        key = LedgerKey(self.account_id, self.day, report.team, destination.destination_id)
        try:
            previous = self.ledger.already_delivered(key)
        except Exception as error:  # any ledger failure: not knowing means not sending
            self._failed(
                key, f"ledger unreadable, not sent (exactly once can't be checked): {error}"
            )
            return
        if previous is not None and (not self.force or self._sent_by_this_invocation(previous)):
            self.outcome.skipped.append(_already_delivered(previous))
        elif self.outcome.dry_run:
            self.outcome.planned.append(_plan(report, destination))
        else:
            self._send(report, destination, key, previous)

    def _send(
        self,
        report: OutgoingReport,
        destination: Destination,
        key: LedgerKey,
        previous: LedgerEntry | None,
    ) -> None:
        sender = self.senders.for_destination(destination)
        try:
            receipt = sender.send(report, destination, previous.receipt if previous else None)
        except DeliveryError as error:
            # Senders raise DeliveryError with secrets already masked; anything else is a bug
            # and stops the run loudly.
            self._failed(key, str(error))
            return
        entry = LedgerEntry(key, report.subject, self.now(), self.invocation_id, receipt)
        # Recorded at once, so a failure further on cannot make a retry send this one again.
        try:
            first_record = self.ledger.record(entry, overwrite=previous is not None)
        except Exception as error:  # sent, but a retry would not know: say so loudly
            self._failed(
                key, f"SENT but not recorded in the ledger, a retry may resend it: {error}"
            )
            return
        detail = receipt.describe()
        if not first_record:
            detail += " (another run had already recorded this delivery)"
        _logger.info("delivered %s to %s: %s", key.audience, key.destination_id, detail)
        self.outcome.delivered.append(DeliveryResult(key.audience, key.destination_id, detail))

    def _sent_by_this_invocation(self, entry: LedgerEntry) -> bool:
        # Lambda retries an invocation with the same request id: a forced run's retry must
        # not resend what the first attempt already delivered.
        return bool(self.invocation_id) and entry.invocation_id == self.invocation_id

    def _failed(self, key: LedgerKey, problem: str) -> None:
        _logger.warning("delivery failed: %s", problem, extra={"destination": key.destination_id})
        self.outcome.failed.append(DeliveryResult(key.audience, key.destination_id, problem))


def _already_delivered(entry: LedgerEntry) -> DeliveryResult:
    detail = (
        f"already {entry.receipt.describe()} at {entry.delivered_at.isoformat()}"
        f" by invocation {entry.invocation_id or '(unknown)'}"
    )
    return DeliveryResult(entry.key.audience, entry.key.destination_id, detail)


def _plan(report: OutgoingReport, destination: Destination) -> PlannedSend:
    attachment = ""
    if isinstance(destination, EmailDestination):
        size = len(build_message(report, destination).as_bytes())
        if destination.attach_csv and report.csv_bytes is not None:
            attachment = f"{report.csv_name} ({len(report.csv_bytes)} bytes)"
    else:
        size = len(json.dumps(report.slack).encode())
    return PlannedSend(
        audience=report.audience,
        destination_id=destination.destination_id,
        recipient=destination.describe(),
        subject=report.subject,
        size_bytes=size,
        attachment=attachment,
        first_lines=tuple(report.text.splitlines()[:_PREVIEW_LINES]),
    )
