"""The claim state machine of deliver_reports on the local ledger, and the run's deadline.

free → claimed → delivered; claimed by another live run → left to it; expired or this
invocation's own → taken over; a receipt that cannot be recorded → retried, then the claim
stays and the next run finds a bot post by its metadata instead of posting again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from delivery_helpers import (
    BOT,
    DAY,
    NOW,
    ROUTING,
    WEBHOOK,
    FakeClock,
    FlakyLedger,
    RecordingSender,
    report,
)

from fwcost.delivery import (
    CLAIM_LEASE,
    DeliveryFailed,
    DeliveryLedger,
    DeliveryOutcome,
    DeliveryState,
    Destination,
    LedgerKey,
    LedgerRecord,
    LocalLedger,
    OutgoingReport,
    Receipt,
    Senders,
    deliver_reports,
)
from fwcost.delivery.deliver import DEADLINE_MARGIN_SECONDS, LEDGER_RETRY_SECONDS, NOT_STARTED

BOT_KEY = LedgerKey("acme-ai", DAY, None, BOT)
WEBHOOK_KEY = LedgerKey("acme-ai", DAY, "search", WEBHOOK)


def deliver(
    ledger: DeliveryLedger,
    sender: RecordingSender,
    invocation_id: str,
    clock: FakeClock | None = None,
    sleeps: list[float] | None = None,
    **flags: bool,
) -> DeliveryOutcome:
    clock = clock or FakeClock()
    return deliver_reports(
        [report("overall"), report("search")],
        ROUTING,
        ledger,
        Senders(slack=sender, email=sender),
        DAY,
        "acme-ai",
        invocation_id=invocation_id,
        now=clock.now,
        seconds_left=clock.seconds_left if clock.deadline else None,
        sleep=(sleeps if sleeps is not None else []).append,
        **flags,
    )


def claim_by(ledger: LocalLedger, key: LedgerKey, run: str, claimed_at: datetime) -> None:
    record = LedgerRecord.claim(key, "Costs", run, claimed_at, None)
    assert ledger.write(record, replacing=None) is not None


def record_of(ledger: DeliveryLedger, key: LedgerKey) -> LedgerRecord:
    stored = ledger.read(key)
    assert stored is not None
    return stored.record


def test_a_delivery_is_claimed_before_it_is_sent_and_completed_after(tmp_path: Path) -> None:
    ledger = LocalLedger(tmp_path)
    seen_while_sending: list[LedgerRecord] = []

    class Watching(RecordingSender):
        def send(
            self,
            report: OutgoingReport,
            destination: Destination,
            previous: Receipt | None,
            key: LedgerKey,
        ) -> Receipt:
            seen_while_sending.append(record_of(ledger, key))
            return super().send(report, destination, previous, key)

    outcome = deliver(ledger, Watching(), "run-1")

    assert len(outcome.delivered) == 3
    for claim in seen_while_sending:
        assert (claim.state, claim.invocation_id) == (DeliveryState.CLAIMED, "run-1")
        assert (claim.claimed_at, claim.expires_at) == (NOW, NOW + CLAIM_LEASE)
        assert claim.receipt is None
    done = record_of(ledger, BOT_KEY)
    assert (done.state, done.invocation_id, done.delivered_at) == (
        DeliveryState.DELIVERED,
        "run-1",
        NOW,
    )
    assert done.receipt == Receipt(action="posted", channel="C0123ABCD", ts="1.0")


def test_a_live_claim_of_another_run_is_left_to_it_neither_delivered_nor_failed(
    tmp_path: Path,
) -> None:
    # Given a CLI run that claimed the bot post a minute ago and is still sending it
    ledger, sender = LocalLedger(tmp_path), RecordingSender()
    claim_by(ledger, BOT_KEY, "cli-run", NOW - timedelta(minutes=1))

    # When the function delivers the day
    outcome = deliver(ledger, sender, "lambda-run")

    # Then the bot post is left to the CLI run: not sent, not delivered, not a failure
    assert sender.sends_to(BOT) == 0
    assert [r.destination_id for r in outcome.claimed_elsewhere] == [BOT]
    assert outcome.claimed_elsewhere[0].detail == (
        "claimed by run cli-run until 2026-11-22T07:14:00+00:00: that run delivers it"
    )
    assert BOT not in {r.destination_id for r in outcome.delivered + outcome.failed}
    assert len(outcome.delivered) == 2
    outcome.raise_if_failed()  # nothing failed
    assert outcome.summary().splitlines()[0] == (
        "delivery: 2 delivered, 0 already delivered, 0 failed, 1 left to another run"
    )
    assert record_of(ledger, BOT_KEY).invocation_id == "cli-run"  # untouched


def test_a_forced_run_and_a_dry_run_leave_a_live_claim_alone_too(tmp_path: Path) -> None:
    ledger, sender = LocalLedger(tmp_path), RecordingSender()
    claim_by(ledger, BOT_KEY, "cli-run", NOW)

    forced = deliver(ledger, sender, "lambda-run", force=True)
    dry = deliver(ledger, sender, "lambda-run-2", dry_run=True)

    assert sender.sends_to(BOT) == 0
    assert [r.destination_id for r in forced.claimed_elsewhere] == [BOT]
    assert [r.destination_id for r in dry.claimed_elsewhere] == [BOT]
    assert BOT not in {plan.destination_id for plan in dry.planned}


@pytest.mark.parametrize(
    ("holder", "claimed_at"),
    [
        ("dead-run", NOW - CLAIM_LEASE),  # expired: its run died mid-send
        ("run-1", NOW),  # this very invocation's claim: Lambda retrying it
    ],
    ids=["expired", "own-invocation"],
)
def test_an_expired_or_own_claim_is_taken_over_after_looking_for_the_post(
    tmp_path: Path, holder: str, claimed_at: datetime
) -> None:
    # Given claims left by a run that never posted (it died before Slack got anything)
    ledger, sender = LocalLedger(tmp_path), RecordingSender()
    claim_by(ledger, BOT_KEY, holder, claimed_at)
    claim_by(ledger, WEBHOOK_KEY, holder, claimed_at)

    # When run-1 delivers the day
    outcome = deliver(ledger, sender, "run-1")

    # Then it looked for the bot post (nothing found), sent everything once, and recorded it
    assert sender.lookups == [BOT_KEY, WEBHOOK_KEY]
    assert (sender.sends_to(BOT), sender.sends_to(WEBHOOK)) == (1, 1)
    assert len(outcome.delivered) == 3
    for key in (BOT_KEY, WEBHOOK_KEY):
        record = record_of(ledger, key)
        assert (record.state, record.invocation_id) == (DeliveryState.DELIVERED, "run-1")


def test_a_ledger_write_failing_after_the_send_is_retried(tmp_path: Path) -> None:
    # Given S3 refusing the first write of each receipt
    ledger, sender, sleeps = FlakyLedger(LocalLedger(tmp_path), failures=1), RecordingSender(), []

    outcome = deliver(ledger, sender, "run-1", sleeps=sleeps)

    # Then the first receipt is written on the second try; nothing is sent twice
    assert len(outcome.delivered) == 3 and outcome.failed == []
    assert sleeps == [LEDGER_RETRY_SECONDS]
    assert len(sender.sent) == 3
    assert record_of(ledger, BOT_KEY).state is DeliveryState.DELIVERED


def test_a_ledger_that_keeps_failing_leaves_the_claim_and_the_next_run_finds_the_bot_post(
    tmp_path: Path,
) -> None:
    # Given a run that sends everything but can record none of it
    broken, sender, sleeps = FlakyLedger(LocalLedger(tmp_path), float("inf")), RecordingSender(), []
    first = deliver(broken, sender, "run-1", sleeps=sleeps)

    # Then each delivery failed, saying it was sent, after bounded, short retries
    assert len(first.failed) == 3 and first.delivered == []
    assert all("SENT but not recorded in the ledger (3 tries" in r.detail for r in first.failed)
    assert sleeps == [LEDGER_RETRY_SECONDS, 2 * LEDGER_RETRY_SECONDS] * 3
    with pytest.raises(DeliveryFailed):
        first.raise_if_failed()
    # ... and the claims stay, naming the run that sent
    stale = record_of(broken, BOT_KEY)
    assert (stale.state, stale.invocation_id) == (DeliveryState.CLAIMED, "run-1")

    # When Lambda retries the invocation with S3 back
    retried = deliver(broken.inner, sender, "run-1")

    # Then the bot post is found by its metadata and recorded, not posted again; a webhook or
    # an email can't be looked up, so they go again (the documented at-least-once window)
    assert sender.sends_to(BOT) == 1
    assert sender.sends_to(WEBHOOK) == 2
    [found] = [r for r in retried.delivered if r.destination_id == BOT]
    assert found.detail == (
        "posted (channel C0123ABCD, ts 1.0) (found, by its metadata, as sent by run run-1:"
        " recorded, not sent again)"
    )
    assert record_of(broken.inner, BOT_KEY).receipt == Receipt("posted", "C0123ABCD", "1.0")
    assert retried.failed == []


def test_a_failed_send_frees_the_claim_for_the_next_run_at_once(tmp_path: Path) -> None:
    # Given the bot channel failing
    ledger = LocalLedger(tmp_path)
    first = deliver(ledger, RecordingSender(failing={BOT}), "run-1")

    # Then the claim became a failed record holding the problem ...
    assert [r.detail for r in first.failed] == [f"{BOT}: it broke"]
    failed = record_of(ledger, BOT_KEY)
    assert (failed.state, failed.problem) == (DeliveryState.FAILED, "it broke")

    # ... so another run (not a retry of this one) sends it at once, after looking for it
    sender = RecordingSender()
    second = deliver(ledger, sender, "cli-run")
    assert [r.destination_id for r in second.delivered] == [BOT]
    assert sender.lookups == [BOT_KEY]
    assert record_of(ledger, BOT_KEY).state is DeliveryState.DELIVERED


def test_an_unreadable_ledger_sends_nothing_there(tmp_path: Path) -> None:
    ledger, sender = LocalLedger(tmp_path), RecordingSender()
    ledger.path(BOT_KEY).parent.mkdir(parents=True)
    ledger.path(BOT_KEY).write_text("{not json")

    outcome = deliver(ledger, sender, "run-1")

    assert sender.sends_to(BOT) == 0
    [failed] = outcome.failed
    assert failed.detail.startswith(f"{BOT}: not sent, the ledger failed: ledger record ")
    assert len(outcome.delivered) == 2


def test_deliveries_stop_starting_near_the_deadline_and_the_rest_fail_as_not_started(
    tmp_path: Path,
) -> None:
    # Given a run with 130 s left, each send taking 40 s
    clock = FakeClock(deadline=NOW.replace(minute=2, second=10))
    ledger, sender = LocalLedger(tmp_path), RecordingSender(clock=clock, send_seconds=40)

    outcome = deliver(ledger, sender, "run-1", clock=clock)

    # Then two start (130 s, then 90 s left); the third would start with 50 s < the margin
    assert DEADLINE_MARGIN_SECONDS == 60
    assert len(sender.sent) == len(outcome.delivered) == 2
    [late] = outcome.failed
    assert late.detail == f"{late.destination_id}: {NOT_STARTED}"
    assert ledger.read(LedgerKey("acme-ai", DAY, "search", late.destination_id)) is None
    with pytest.raises(DeliveryFailed, match="not started: the run's time ran out"):
        outcome.raise_if_failed()

    # When the retry has time, it sends only the one left
    retried = deliver(ledger, RecordingSender(), "run-1")
    assert [r.destination_id for r in retried.delivered] == [late.destination_id]


def test_ledger_paths_of_a_day_stay_as_before_and_periods_get_their_own() -> None:
    from fwcost.periods import Cadence

    day = LedgerKey("acme-ai", date(2026, 11, 21), None, "email-x")
    week = LedgerKey("acme-ai", date(2026, 11, 16), "search", "email-x", Cadence.WEEKLY)
    month = LedgerKey("acme-ai", date(2026, 10, 1), None, "email-x", Cadence.MONTHLY)
    revised = LedgerKey("acme-ai", date(2026, 10, 1), None, "email-x", Cadence.MONTHLY, 2)
    assert (
        day.relative_path() == "ledger/account=acme-ai/dt=2026-11-21/audience=overall/email-x.json"
    )
    assert week.relative_path() == "ledger/account=acme-ai/week=2026-W47/team=search/email-x.json"
    assert (
        month.relative_path()
        == "ledger/account=acme-ai/month=2026-10/audience=overall/email-x.json"
    )
    assert revised.relative_path() == (
        "ledger/account=acme-ai/month=2026-10/issue=2/audience=overall/email-x.json"
    )
    assert (day.period_key, week.period_key, revised.period_key) == (
        "2026-11-21",
        "2026-W47",
        "2026-10-issue-2",
    )


def test_a_period_record_reads_back_with_its_cadence_and_issue() -> None:
    from fwcost.delivery import LedgerRecord
    from fwcost.periods import Cadence

    key = LedgerKey("acme-ai", date(2026, 10, 1), "ads", "email-x", Cadence.MONTHLY, 2)
    record = LedgerRecord.claim(key, "statement", "run-1", datetime(2026, 11, 5, tzinfo=UTC), None)
    body = record.to_json()
    assert LedgerRecord.from_json(body, "test") == record
    daily = LedgerRecord.claim(
        LedgerKey("acme-ai", date(2026, 10, 1), None, "email-x"), "day", "run-1",
        datetime(2026, 11, 5, tzinfo=UTC), None,
    )  # fmt: skip
    assert b"cadence" not in daily.to_json()  # a day's record is as it was before periods
