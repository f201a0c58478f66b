"""The delivery step of the daily run: every rendered report to every routed destination, once.

For each (report, destination):
1. with less than DEADLINE_MARGIN_SECONDS of the run's time left (Lambda's timeout), start
   nothing more: each delivery left is a failure "not started", which the run's retry sends;
2. read the ledger: skip what was delivered (unless forced), and leave a delivery another live
   run has claimed to that run;
3. claim it (a conditional write: losing the race means another run is sending it);
4. send it, or, when an earlier attempt claimed it and never recorded the outcome, first look
   for what that attempt sent (a Slack bot post, by its metadata) and record that instead;
5. record the receipt over the claim, a few tries with a short backoff; if that still fails,
   the claim stays and the run that takes it over looks before it sends (ledger.py says what
   remains at-least-once, and why).

A destination's failure, of any kind, is recorded for it and never stops the others; the
pipeline raises at the very end (RunResult.raise_if_failed) so the invocation fails and is
retried. A forced run skips what its own invocation already delivered, so Lambda retrying a
forced run resends only what failed.

A delivery claimed by another live run (a CLI run beside the function) goes in
`claimed_elsewhere`: neither delivered by this run nor failed. The run holding the claim
reports its outcome and fails loudly if it fails; one that dies holding it is retried by Lambda
with the same invocation id, which takes its own claim back at once (a CLI run's claim
expires after CLAIM_LEASE).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fwcost.delivery.email import build_message
from fwcost.delivery.errors import DeliveryError, DeliveryFailed, LedgerError
from fwcost.delivery.files import FileSender
from fwcost.delivery.ledger import DeliveryLedger, DeliveryState, LedgerRecord, Stored
from fwcost.delivery.model import (
    Destination,
    EmailDestination,
    LedgerKey,
    OutgoingReport,
    Receipt,
    Sender,
)
from fwcost.delivery.routing import RoutingConfig
from fwcost.periods.model import Cadence

_logger = logging.getLogger(__name__)
_PREVIEW_LINES = 3

# No delivery starts with less than this much of the run's time left: enough for one to finish
# (Slack's retries included, in the common case) and for the run to log and raise its summary.
DEADLINE_MARGIN_SECONDS = 60
NOT_STARTED = "not started: the run's time ran out (its retry delivers it)"
# Recording a receipt after the send: tries, and the first wait between them (then doubled).
LEDGER_WRITE_ATTEMPTS = 3
LEDGER_RETRY_SECONDS = 0.5
# A post is looked for from its claim's time minus this, in case the claimer's clock was behind.
_CLOCK_SKEW = timedelta(minutes=5)

SecondsLeft = Callable[[], float]  # how long the run may still take (Lambda's remaining time)


@dataclass(frozen=True)
class Senders:
    """Which Sender handles each kind of destination."""

    slack: Sender
    email: Sender

    @classmethod
    def to_folder(cls, folder: Path, *, by_account: bool = False) -> Senders:
        """Everything written to files under `folder` (the CLI demo); `by_account`: in a
        folder per account (several accounts and their roll-up)."""
        file_sender = FileSender(folder, by_account=by_account)
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
    attachment: str  # "name (N bytes), ..." or "" when nothing is attached
    first_lines: tuple[str, ...]


@dataclass
class DeliveryOutcome:
    """Everything delivery did (or, in a dry run, would do)."""

    dry_run: bool = False
    delivered: list[DeliveryResult] = field(default_factory=list)
    skipped: list[DeliveryResult] = field(default_factory=list)  # delivered by an earlier run
    claimed_elsewhere: list[DeliveryResult] = field(default_factory=list)  # another run's now
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
        left = len(self.claimed_elsewhere)
        lines = [
            f"delivery{' (dry run)' if self.dry_run else ''}: {len(self.delivered)} delivered,"
            f" {len(self.skipped)} already delivered, {len(self.failed)} failed"
            + (f", {left} left to another run" if left else "")
            + (f", {len(self.planned)} would be sent" if self.dry_run else "")
        ]
        for label, results in (
            ("delivered", self.delivered),
            ("skipped", self.skipped),
            ("left to another run", self.claimed_elsewhere),
        ):
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
    seconds_left: SecondsLeft | None = None,
    sleep: Callable[[float], None] = time.sleep,
    cadence: Cadence = Cadence.DAILY,
    issue: int = 1,
) -> DeliveryOutcome:
    """Deliver each report to each destination its audience is routed to, exactly once.

    `force` sends again what the ledger says was delivered (a bot post is edited in place).
    `dry_run` sends nothing and records nothing: the outcome's `planned` lists what would go
    where (already-delivered pairs are still reported as skipped, unless forced).
    `seconds_left` is the run's deadline (None: no deadline, the CLI).
    `cadence`: the reports are a day's, or a week's digest or a month's statement (its `issue`),
    whose period starts on `day`: each goes to the destinations taking that cadence.
    """
    outcome = DeliveryOutcome(dry_run=dry_run)
    run = _Run(
        outcome, ledger, senders, day, account_id, force, invocation_id, now, seconds_left, sleep,
        cadence, issue,
    )  # fmt: skip
    for report in reports:
        destinations = routing.routes_for(report.team, cadence)
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
    seconds_left: SecondsLeft | None
    sleep: Callable[[float], None]
    cadence: Cadence
    issue: int

    def deliver(self, report: OutgoingReport, destination: Destination) -> None:
        key = LedgerKey(
            self.account_id, self.day, report.team, destination.destination_id, self.cadence,
            self.issue,
        )  # fmt: skip
        if self.seconds_left is not None and self.seconds_left() < DEADLINE_MARGIN_SECONDS:
            self._failed(key, NOT_STARTED)
            return
        try:
            self._deliver(report, destination, key)
        except Exception as error:
            # The one broad except, on purpose: whatever goes wrong for one destination (a
            # sender's DeliveryError, an unreadable ledger, a bug in a renderer or a client) is
            # that destination's failure. Escaping here would skip every destination after it;
            # the run still fails loudly at the end (raise_if_failed) and its retry sends it.
            expected = isinstance(error, DeliveryError | LedgerError)
            self._failed(key, _describe(error), traceback=not expected)

    def _deliver(self, report: OutgoingReport, destination: Destination, key: LedgerKey) -> None:
        stored = self.ledger.read(key)
        if self._settled(stored):
            return
        if self.outcome.dry_run:
            self.outcome.planned.append(_plan(report, destination))
            return
        earlier = stored.record if stored else None
        claim = LedgerRecord.claim(key, report.subject, self.invocation_id, self.now(), earlier)
        version = self.ledger.write(claim, replacing=stored.version if stored else None)
        if version is None:
            detail = "claimed by another run a moment ago: that run delivers it"
            self.outcome.claimed_elsewhere.append(_result(key, detail))
            return
        receipt, how = self._send(report, destination, claim, version, earlier)
        self._record(claim, version, receipt, how)

    def _settled(self, stored: Stored | None) -> bool:
        """Whether the ledger says this is delivered, or another live run's (and note which)."""
        if stored is None:
            return False
        record = stored.record
        mine = bool(self.invocation_id) and record.invocation_id == self.invocation_id
        # Lambda retries an invocation with the same request id: a forced run's retry must
        # not resend what the first attempt already delivered.
        if record.receipt is not None and (
            not self.force or (record.state is DeliveryState.DELIVERED and mine)
        ):
            self.outcome.skipped.append(_already_delivered(record))
            return True
        if record.held_by_another_run(self.invocation_id, self.now()):
            detail = (
                f"claimed by run {record.invocation_id or '(unnamed)'} until"
                f" {record.expires_at.isoformat()}: that run delivers it"
            )
            self.outcome.claimed_elsewhere.append(_result(record.key, detail))
            return True
        return False

    def _send(
        self,
        report: OutgoingReport,
        destination: Destination,
        claim: LedgerRecord,
        version: str,
        earlier: LedgerRecord | None,
    ) -> tuple[Receipt, str]:
        """The receipt, and how it was obtained when not by an ordinary send."""
        sender = self.senders.for_destination(destination)
        try:
            if earlier is not None and _may_have_sent(earlier):
                since = earlier.claimed_at - _CLOCK_SKEW
                found = sender.find_sent(destination, claim.key, since)
                if found is not None:
                    how = f" (found, by its metadata, as sent by run {earlier.invocation_id}:"
                    return found, how + " recorded, not sent again)"
            return sender.send(report, destination, claim.receipt, claim.key), ""
        except Exception as error:
            # Free the claim for the next run at once (the loop records the failure).
            self._write_quietly(claim.failed(_describe(error)), version)
            raise

    def _record(self, claim: LedgerRecord, version: str, receipt: Receipt, how: str) -> None:
        """Complete the claim with the receipt; a failure here means sent but not recorded."""
        key = claim.key
        try:
            recorded = self._write_with_retries(claim.delivered(receipt, self.now()), version)
        except LedgerError as error:
            self._failed(
                key,
                f"SENT but not recorded in the ledger ({LEDGER_WRITE_ATTEMPTS} tries: {error});"
                " its claim stays, so the run that takes it over looks for it first where it"
                " can (a Slack bot post) and otherwise sends it again",
            )
            return
        if not recorded:
            how += " (its claim had expired and another run took it over: it may send it too)"
        detail = receipt.describe() + how
        _logger.info("delivered %s to %s: %s", key.audience, key.destination_id, detail)
        self.outcome.delivered.append(_result(key, detail))

    def _write_with_retries(self, record: LedgerRecord, replacing: str) -> bool:
        """Write over the claim; False when another run replaced the claim first."""
        attempt = 1
        while True:
            try:
                written = self.ledger.write(record, replacing=replacing)
                break
            except LedgerError:
                if attempt == LEDGER_WRITE_ATTEMPTS:
                    raise
                self.sleep(LEDGER_RETRY_SECONDS * 2 ** (attempt - 1))
                attempt += 1
        if written is not None:
            return True
        # The claim changed: perhaps an earlier try landed and only S3's answer was lost.
        current = self.ledger.read(record.key)
        return current is not None and current.record == record

    def _write_quietly(self, record: LedgerRecord, replacing: str) -> None:
        try:
            self.ledger.write(record, replacing=replacing)
        except LedgerError as error:
            _logger.warning(
                "could not mark the claim failed (it expires at %s): %s", record.expires_at, error
            )

    def _failed(self, key: LedgerKey, problem: str, *, traceback: bool = False) -> None:
        _logger.warning(
            "delivery failed: %s",
            problem,
            exc_info=traceback,
            extra={"destination": key.destination_id},
        )
        self.outcome.failed.append(_result(key, f"{key.destination_id}: {problem}"))


def _may_have_sent(earlier: LedgerRecord) -> bool:
    """An attempt that claimed a first delivery and never recorded one: it may have sent it
    (and died, or failed to record it, or failed in a way that leaves the outcome unknown)."""
    return earlier.state is not DeliveryState.DELIVERED and earlier.receipt is None


def _result(key: LedgerKey, detail: str) -> DeliveryResult:
    return DeliveryResult(key.audience, key.destination_id, detail)


def _describe(error: Exception) -> str:
    """One line for a destination's failure, without secrets (senders mask their own)."""
    if isinstance(error, DeliveryError):
        return error.problem
    if isinstance(error, LedgerError):
        return f"not sent, the ledger failed: {error}"
    said = str(error).splitlines()[0] if str(error) else ""
    return f"unexpected {type(error).__name__}: {said} (a bug? the traceback is in the log)"


def _already_delivered(record: LedgerRecord) -> DeliveryResult:
    assert record.receipt is not None and record.delivered_at is not None
    detail = f"already {record.receipt.describe()} at {record.delivered_at.isoformat()}"
    if record.state is DeliveryState.DELIVERED:
        detail += f" by invocation {record.invocation_id or '(unknown)'}"
    else:  # a forced resend since, claimed or failed
        detail += f" (run {record.invocation_id} resending it: {record.state})"
    return _result(record.key, detail)


def _plan(report: OutgoingReport, destination: Destination) -> PlannedSend:
    attachment = ""
    if isinstance(destination, EmailDestination):
        size = len(build_message(report, destination).as_bytes())
        if destination.attach_csv:
            attachment = ", ".join(f"{a.name} ({len(a.body)} bytes)" for a in report.attachments)
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
