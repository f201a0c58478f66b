"""deliver_reports with the local ledger and the FileSender (the CLI's path), and the outcome."""

from __future__ import annotations

import email
import itertools
import json
from dataclasses import replace
from pathlib import Path

import pytest
from delivery_helpers import DAY, NOW, ROUTING, RecordingSender, report

from fwcost.delivery import (
    DeliveryFailed,
    DeliveryState,
    Destination,
    LedgerKey,
    LedgerRecord,
    LocalLedger,
    OutgoingReport,
    Receipt,
    RoutingConfig,
    Senders,
    deliver_reports,
)

_INVOCATIONS = itertools.count(1)  # each call is a new invocation, as in Lambda


def deliver(
    ledger: LocalLedger, sender: RecordingSender, routing: RoutingConfig = ROUTING, **flags: bool
):  # type: ignore[no-untyped-def]
    return deliver_reports(
        [report("overall"), report("search")],
        routing,
        ledger,
        Senders(slack=sender, email=sender),
        DAY,
        "acme-ai",
        invocation_id=f"run-{next(_INVOCATIONS)}",
        now=lambda: NOW,
        **flags,
    )


def test_second_run_skips_what_the_local_ledger_holds(tmp_path: Path) -> None:
    ledger, sender = LocalLedger(tmp_path), RecordingSender()

    first = deliver(ledger, sender)
    second = deliver(ledger, sender)

    assert len(sender.sent) == len(first.delivered) == 3
    assert second.delivered == []
    assert second.skipped[0].detail == (
        "already posted (channel C0123ABCD, ts 1.0) at 2026-11-22T07:00:00+00:00"
        " by invocation run-1"
    )
    record = tmp_path / "ledger/account=acme-ai/dt=2026-11-21/team=search"
    assert (record / "slack-webhook-search.json").exists()


def test_force_passes_the_earlier_receipt_and_overwrites_the_record(tmp_path: Path) -> None:
    ledger, sender = LocalLedger(tmp_path), RecordingSender()
    deliver(ledger, sender)

    deliver(ledger, sender, force=True)

    resent = sender.sent[3:]
    assert len(resent) == 3
    assert resent[0][2] == Receipt(action="posted", channel="C0123ABCD", ts="1.0")
    key = LedgerKey("acme-ai", DAY, None, "slack-bot-C0123ABCD")
    stored = ledger.read(key)
    assert stored is not None and stored.record.receipt is not None
    assert stored.record.receipt.ts == "4.0"


def test_a_failure_is_collected_and_raised_at_the_end(tmp_path: Path) -> None:
    sender = RecordingSender(failing={"slack-bot-C0123ABCD"})

    outcome = deliver(LocalLedger(tmp_path), sender)

    assert len(outcome.delivered) == 2
    with pytest.raises(DeliveryFailed) as raised:
        outcome.raise_if_failed()
    assert str(raised.value) == (
        "1 of 3 deliveries failed (delivered ones are in the ledger and will be skipped on"
        " retry):\n- overall → slack-bot-C0123ABCD: it broke"
    )


def test_any_exception_at_one_destination_is_its_failure_and_the_others_go_on(
    tmp_path: Path,
) -> None:
    # Given a sender with a bug for the bot destination only
    class BuggySender(RecordingSender):
        def send(
            self,
            report: OutgoingReport,
            destination: Destination,
            previous: Receipt | None,
            key: LedgerKey,
        ) -> Receipt:
            if destination.destination_id == "slack-bot-C0123ABCD":
                raise TypeError("bug\nsecond line")
            return super().send(report, destination, previous, key)

    # When the day is delivered
    sender = BuggySender()
    outcome = deliver(LocalLedger(tmp_path), sender)

    # Then the bug is that destination's one-line failure, the rest went out, the run fails
    assert len(sender.sent) == len(outcome.delivered) == 2
    [failed] = outcome.failed
    assert failed.detail == (
        "slack-bot-C0123ABCD: unexpected TypeError: bug (a bug? the traceback is in the log)"
    )
    with pytest.raises(DeliveryFailed, match="unexpected TypeError"):
        outcome.raise_if_failed()


def test_dry_run_lists_what_would_go_where_and_sends_nothing(tmp_path: Path) -> None:
    sender = RecordingSender()

    outcome = deliver(LocalLedger(tmp_path / "ledger"), sender, dry_run=True)

    assert sender.sent == []
    assert not (tmp_path / "ledger").exists()
    [plan] = [p for p in outcome.planned if p.destination_id.startswith("email-")]
    assert plan.recipient == "email to finops@acme.ai"
    assert plan.attachment == "day.csv (4 bytes)"
    assert plan.first_lines == ("line 1", "line 2", "line 3")
    assert outcome.summary().splitlines()[0] == (
        "delivery (dry run): 0 delivered, 0 already delivered, 0 failed, 3 would be sent"
    )


def test_the_file_sender_writes_slack_json_and_eml_through_the_same_path(tmp_path: Path) -> None:
    outcome = deliver_reports(
        [report("overall"), report("search")],
        ROUTING,
        LocalLedger(tmp_path / "state"),
        Senders.to_folder(tmp_path / "out"),
        DAY,
        "acme-ai",
    )

    assert len(outcome.delivered) == 3
    overall = tmp_path / "out" / "audience=overall"
    slack = json.loads((overall / "slack-bot-C0123ABCD.json").read_text())
    assert slack == {
        "destination": "Slack channel C0123ABCD (bot token key 'bot')",
        "payload": {"text": "costs overall", "blocks": []},
    }
    [eml] = overall.glob("email-*.eml")
    message = email.message_from_bytes(eml.read_bytes())
    assert message["To"] == "finops@acme.ai"
    assert [part.get_filename() for part in message.walk() if part.get_filename()] == ["day.csv"]
    assert (tmp_path / "out" / "team=search" / "slack-webhook-search.json").exists()


def test_local_ledger_writes_are_conditional_on_what_was_read(tmp_path: Path) -> None:
    ledger = LocalLedger(tmp_path)
    key = LedgerKey("acme-ai", DAY, "../etc", "slack-bot-C1")
    first = LedgerRecord.claim(key, "s", "run-1", NOW, None)
    second = LedgerRecord.claim(key, "s", "run-2", NOW, None)

    created = ledger.write(first, replacing=None)
    assert created is not None
    assert ledger.write(second, replacing=None) is None  # "x": the first claim wins
    assert ledger.write(second, replacing="not-the-version-read") is None
    delivered = first.delivered(Receipt("posted"), NOW)
    assert ledger.write(delivered, replacing=created) is not None
    assert ledger.write(second, replacing=created) is None  # a stale version is refused
    stored = ledger.read(key)
    assert stored is not None and stored.record == delivered
    assert stored.record.state is DeliveryState.DELIVERED
    assert ledger.path(key).is_relative_to(tmp_path)
    assert "team=..%2Fetc" in str(ledger.path(key))


def test_an_empty_team_name_is_refused() -> None:
    with pytest.raises(ValueError, match="team must be a team name or None"):
        report("")


def test_a_team_annotated_overall_is_its_own_audience(tmp_path: Path) -> None:
    # Given the overall report and the report of a team whose annotation is literally "overall"
    ledger, sender = LocalLedger(tmp_path), RecordingSender()
    team_overall = replace(report("search"), team="overall")

    # When both are delivered (the team has no route, so it falls back to the overall one)
    outcome = deliver_reports(
        [report("overall"), team_overall],
        ROUTING,
        ledger,
        Senders(slack=sender, email=sender),
        DAY,
        "acme-ai",
        invocation_id="run-overall-team",
        now=lambda: NOW,
    )

    # Then each went out once, under ledger records of its own
    assert outcome.skipped == []
    assert len(outcome.delivered) == 2 * len(ROUTING.routes_for(None))
    day = tmp_path / "ledger/account=acme-ai/dt=2026-11-21"
    assert sorted(path.name for path in day.iterdir()) == ["audience=overall", "team=overall"]
