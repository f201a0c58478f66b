"""deliver_reports end to end: fake Slack on loopback, moto SES v2, the ledger on moto S3."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import date
from typing import Any

import pytest

from delivery.support import FakeSlack, make_report, sent_raw_messages
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
    routing: RoutingConfig, ledger: S3Ledger, senders: Senders, **flags: bool
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
        ledger.already_delivered(LedgerKey("acme-ai", DAY, team, BOT)).receipt.ts  # type: ignore[union-attr]
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
