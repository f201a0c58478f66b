"""deliver_reports end to end: fake Slack on loopback, moto SES v2, the ledger on moto S3."""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from delivery.support import Breakage, FakeSlack, make_report, sent_raw_messages
from fwcost.delivery import (
    DeliveryFailed,
    DeliveryOutcome,
    EmailDestination,
    LedgerKey,
    RoutingConfig,
    S3Ledger,
    Senders,
    SesEmailSender,
    SlackSender,
    deliver_reports,
    load_routing,
)

DAY = date(2026, 11, 21)
ROUTING = {
    "routes": {
        "overall": {
            "slack": [
                {"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"},
                {"kind": "webhook", "secret_key": "overall_webhook"},
            ],
            "email": [
                {
                    "from": "costs@acme.ai",
                    "to": ["finops@acme.ai"],
                    "cc": ["cto@acme.ai"],
                    "attach_csv": True,
                }
            ],
        },
        "teams": {
            "search": {
                "slack": [{"kind": "webhook", "secret_key": "search_webhook"}],
                "email": [{"from": "search-costs@acme.ai", "to": ["search-leads@acme.ai"]}],
            }
        },
    }
}
BOT = "slack-bot-C0123ABCD"
OVERALL_HOOK = "slack-webhook-overall_webhook"
SEARCH_HOOK = "slack-webhook-search_webhook"
FINOPS_MAIL = EmailDestination(
    ("finops@acme.ai",), ("cto@acme.ai",), "x@acme.ai", True
).destination_id
SEARCH_MAIL = EmailDestination(("search-leads@acme.ai",), (), "x@acme.ai", False).destination_id
# "ads" has no route of its own: it falls back to the overall route.
EVERY_PAIR = {
    ("overall", BOT), ("overall", OVERALL_HOOK), ("overall", FINOPS_MAIL),
    ("search", SEARCH_HOOK), ("search", SEARCH_MAIL),
    ("ads", BOT), ("ads", OVERALL_HOOK), ("ads", FINOPS_MAIL),
}  # fmt: skip


@pytest.fixture
def routing() -> RoutingConfig:
    return load_routing(json.dumps(ROUTING), "test")


@pytest.fixture
def senders(slack_sender: SlackSender, sesv2: Any) -> Senders:
    sesv2.create_email_identity(EmailIdentity="search-costs@acme.ai")
    return Senders(slack=slack_sender, email=SesEmailSender(sesv2))


@pytest.fixture
def ledger(s3: Any, ledger_bucket: str) -> S3Ledger:
    return S3Ledger(s3, ledger_bucket, prefix="fwcost")


_INVOCATIONS = itertools.count(1)  # each call is a new invocation, as in Lambda


def run(
    routing: RoutingConfig,
    ledger: S3Ledger,
    senders: Senders,
    **flags: bool,
) -> DeliveryOutcome:
    reports = [make_report("overall"), make_report("search"), make_report("ads")]
    return deliver_reports(
        reports,
        routing,
        ledger,
        senders,
        DAY,
        "acme-ai",
        invocation_id=f"req-{next(_INVOCATIONS)}",
        sleep=lambda seconds: None,  # a ledger write's retry needs no real wait here
        **flags,
    )


def pairs(results: list[Any]) -> set[tuple[str, str]]:
    return {(result.audience, result.destination_id) for result in results}


def landed(fake_slack: FakeSlack) -> Counter[str]:
    """How many deliveries landed where: Slack paths and SES recipients."""
    counts = Counter(request.path for request in fake_slack.delivered())
    counts.update(",".join(sorted(set(message.destinations))) for message in sent_raw_messages())
    return counts


EXPECTED_ONCE = Counter(
    {
        "/api/chat.postMessage": 2,  # overall + ads
        "/services/T0SECRET/B0OVERALL/overallWebhookSecret0123": 2,  # overall + ads
        "/services/T0SECRET/B0SEARCH/searchWebhookSecret4567": 1,
        "cto@acme.ai,finops@acme.ai": 2,  # overall + ads
        "search-leads@acme.ai": 1,
    }
)


def test_two_runs_deliver_each_report_to_each_destination_once(
    routing: RoutingConfig, ledger: S3Ledger, senders: Senders, fake_slack: FakeSlack
) -> None:
    first = run(routing, ledger, senders)
    second = run(routing, ledger, senders)

    assert pairs(first.delivered) == EVERY_PAIR
    assert first.failed == first.skipped == []
    assert pairs(second.skipped) == EVERY_PAIR
    assert second.delivered == second.failed == []
    assert landed(fake_slack) == EXPECTED_ONCE
    second.raise_if_failed()  # nothing failed: no exception


def test_force_edits_bot_posts_and_resends_the_rest(
    routing: RoutingConfig, ledger: S3Ledger, senders: Senders, fake_slack: FakeSlack
) -> None:
    # Given a day already delivered, the ledger holding each bot post's ts
    run(routing, ledger, senders)
    posted_ts = {
        ledger.read(LedgerKey("acme-ai", DAY, team, BOT)).record.receipt.ts  # type: ignore[union-attr]
        for team in (None, "ads")
    }

    # When it is forced again
    forced = run(routing, ledger, senders, force=True)

    # Then every pair is delivered again, bot posts are edited in place (same ts), not duplicated
    assert pairs(forced.delivered) == EVERY_PAIR
    updates = [r for r in fake_slack.delivered() if r.path == "/api/chat.update"]
    assert {update.body["ts"] for update in updates} == posted_ts
    assert len(updates) == 2
    counts = landed(fake_slack)
    assert counts["/api/chat.postMessage"] == 2  # no new posts
    assert counts["/services/T0SECRET/B0SEARCH/searchWebhookSecret4567"] == 2  # webhooks repost
    assert counts["search-leads@acme.ai"] == 2  # an email cannot be edited: sent again
    bot_details = [r.detail for r in forced.delivered if r.destination_id == BOT]
    assert all(detail.startswith("updated") for detail in bot_details)


def break_search_webhook(fake_slack: FakeSlack, sesv2: Any) -> None:
    fake_slack.failing["/B0SEARCH/"] = 500


def break_bot(fake_slack: FakeSlack, sesv2: Any) -> None:
    fake_slack.api_errors["chat.postMessage"] = "channel_not_found"


def break_search_email(fake_slack: FakeSlack, sesv2: Any) -> None:
    sesv2.delete_email_identity(EmailIdentity="search-costs@acme.ai")


def repair(fake_slack: FakeSlack, sesv2: Any) -> None:
    fake_slack.failing.clear()
    fake_slack.api_errors.clear()
    sesv2.create_email_identity(EmailIdentity="search-costs@acme.ai")


@pytest.mark.parametrize(
    ("break_it", "broken"),
    [
        (break_search_webhook, {("search", SEARCH_HOOK)}),
        (break_bot, {("overall", BOT), ("ads", BOT)}),
        (break_search_email, {("search", SEARCH_MAIL)}),
    ],
    ids=["slack-500-forever", "slack-api-error", "ses-rejected"],
)
def test_one_destination_failing_does_not_stop_the_others_and_a_rerun_sends_only_it(
    routing: RoutingConfig,
    ledger: S3Ledger,
    senders: Senders,
    fake_slack: FakeSlack,
    sesv2: Any,
    break_it: Any,
    broken: set[tuple[str, str]],
) -> None:
    # Given one destination that fails
    break_it(fake_slack, sesv2)

    # When the day is delivered
    first = run(routing, ledger, senders)

    # Then everything else was delivered, the failure is reported and raised at the end
    assert pairs(first.failed) == broken
    assert pairs(first.delivered) == EVERY_PAIR - broken
    with pytest.raises(DeliveryFailed) as raised:
        first.raise_if_failed()
    for _, destination_id in broken:
        assert destination_id in str(raised.value)

    # When the destination recovers and the run is retried
    repair(fake_slack, sesv2)
    second = run(routing, ledger, senders)

    # Then exactly the missing deliveries are made, and everything landed once
    assert pairs(second.delivered) == broken
    assert pairs(second.skipped) == EVERY_PAIR - broken
    assert landed(fake_slack) == EXPECTED_ONCE


def test_dry_run_sends_nothing_and_records_nothing(
    routing: RoutingConfig, ledger: S3Ledger, senders: Senders, fake_slack: FakeSlack, s3: Any
) -> None:
    outcome = run(routing, ledger, senders, dry_run=True)

    assert fake_slack.requests == []
    assert sent_raw_messages() == []
    assert s3.list_objects_v2(Bucket="fwcost-archive-delivery").get("KeyCount") == 0
    assert {(plan.audience, plan.destination_id) for plan in outcome.planned} == EVERY_PAIR
    assert outcome.delivered == outcome.failed == outcome.skipped == []
    summary = outcome.summary()
    assert "would send search → slack-webhook-search_webhook" in summary
    assert "| Fireworks costs for search" in summary
    assert "attaching fwcost-acme-ai-2026-11-21.csv (26 bytes)" in summary


@pytest.fixture
def atomic_s3_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 applies a conditional PUT atomically; moto checks the condition, then writes, with
    no lock between. Serialize moto's PUTs so it behaves like S3 under concurrent runs."""
    from moto.s3.responses import S3Response

    lock, put_object = threading.Lock(), S3Response.put_object

    def atomic_put_object(self: S3Response) -> Any:
        with lock:
            return put_object(self)

    monkeypatch.setattr(S3Response, "put_object", atomic_put_object)


def test_two_runs_at_once_send_each_destination_exactly_once(
    routing: RoutingConfig,
    ledger: S3Ledger,
    senders: Senders,
    fake_slack: FakeSlack,
    atomic_s3_writes: None,
) -> None:
    # Given the function and a CLI run delivering the same day at the same moment
    start = threading.Barrier(2)
    outcomes: list[DeliveryOutcome] = []

    def one_run() -> None:
        start.wait()
        outcomes.append(run(routing, ledger, senders))

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()

    # Then every destination got each report once, delivered by one run or the other, and
    # the other run left it (claimed by the first, or already delivered): neither failed
    assert landed(fake_slack) == EXPECTED_ONCE
    first, second = outcomes
    assert pairs(first.delivered) | pairs(second.delivered) == EVERY_PAIR
    assert not pairs(first.delivered) & pairs(second.delivered)

    for this, other in ((first, second), (second, first)):
        left = pairs(this.claimed_elsewhere) | pairs(this.skipped)
        assert left == pairs(other.delivered)
        assert this.failed == []


def refuse_receipt_writes(s3: Any, times: int) -> list[int]:
    """S3 answers 500 to the next `times` writes of a receipt (after botocore's own retries)."""
    refused: list[int] = []

    @dataclass
    class Answer:
        status_code: int = 500

    def hook(params: dict[str, Any], **_: Any) -> tuple[Answer, dict[str, Any]] | None:
        if b'"state": "delivered"' not in params["body"].getvalue() or len(refused) >= times:
            return None
        refused.append(1)
        error = {"Code": "InternalError", "Message": "We encountered an internal error."}
        return Answer(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}

    s3.meta.events.register("before-call.s3.PutObject", hook)
    return refused


def test_a_receipt_s3_refuses_once_is_written_on_a_retry_and_nothing_is_sent_twice(
    routing: RoutingConfig, ledger: S3Ledger, senders: Senders, fake_slack: FakeSlack, s3: Any
) -> None:
    refused = refuse_receipt_writes(s3, times=1)

    first = run(routing, ledger, senders)
    second = run(routing, ledger, senders)

    assert refused == [1]
    assert pairs(first.delivered) == pairs(second.skipped) == EVERY_PAIR
    assert first.failed == second.failed == []
    assert landed(fake_slack) == EXPECTED_ONCE


@pytest.mark.parametrize("breakage", list(Breakage), ids=lambda breakage: breakage.value)
def test_a_broken_slack_answer_fails_only_there_and_the_retry_finds_the_bot_post(
    routing: RoutingConfig,
    ledger: S3Ledger,
    senders: Senders,
    fake_slack: FakeSlack,
    breakage: Breakage,
) -> None:
    # Given Slack posts to the bot channel but answers garbage or cuts the connection
    fake_slack.broken["/api/chat.postMessage"] = breakage

    # When the day is delivered
    first = run(routing, ledger, senders)

    # Then only the bot posts failed (one masked line each); everything else went out
    assert pairs(first.failed) == {("overall", BOT), ("ads", BOT)}
    assert all(": Slack failed: " in result.detail for result in first.failed)
    assert pairs(first.delivered) == EVERY_PAIR - pairs(first.failed)

    # When the run is retried, with Slack answering properly again and chatter in the channel
    fake_slack.broken.clear()
    for text in ("lunch?", "deploy done", "thanks"):
        fake_slack.post("C0123ABCD", text, None)
    second = run(routing, ledger, senders)

    # Then each bot post is found by its metadata and recorded: nothing was posted twice
    assert pairs(second.delivered) == {("overall", BOT), ("ads", BOT)}
    assert all("found, by its metadata" in result.detail for result in second.delivered)
    assert landed(fake_slack) == EXPECTED_ONCE


def test_a_webhook_whose_answer_was_lost_is_posted_again(
    routing: RoutingConfig, ledger: S3Ledger, senders: Senders, fake_slack: FakeSlack
) -> None:
    # The documented at-least-once edge: a webhook post leaves nothing to look up.
    fake_slack.broken["/B0SEARCH/"] = Breakage.HANG_UP
    first = run(routing, ledger, senders)
    fake_slack.broken.clear()
    second = run(routing, ledger, senders)

    assert pairs(first.failed) == pairs(second.delivered) == {("search", SEARCH_HOOK)}
    assert landed(fake_slack)["/services/T0SECRET/B0SEARCH/searchWebhookSecret4567"] == 2
