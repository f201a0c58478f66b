"""Faults in delivery: Slack asking for a ten-hour wait, answering garbage or hanging up after it
posted, SES throttling or rejecting, S3 refusing the ledger's receipts. The other destinations
are always delivered; the run fails loudly; its retry sends only what is missing."""

from __future__ import annotations

import json

from botocore.exceptions import ConnectionClosedError

from deployed import WEBHOOK_PATHS, sent_emails
from fake_slack import Breakage
from faults.lab import AwsFault, FaultLab, aws_error, is_claim_write, is_receipt_write
from faults.scenarios import (
    CLAIMS_REFUSED,
    RECEIPT_ANSWER_LOST,
    RECEIPT_WRITE_ONCE,
    RECEIPTS_DOWN,
    SES_REJECTED,
    SES_THROTTLED,
    SLACK_CUT,
    SLACK_GARBAGE,
    SLACK_RETRY_AFTER,
    WEBHOOK_CUT,
    Scenario,
)
from fwcost.delivery.slack import MAX_RETRY_AFTER_SECONDS
from fwcost.pipeline import RunFailed

OVERALL_WEBHOOK = WEBHOOK_PATHS["overall_webhook"]
EVERY_DESTINATION = 4  # overall → webhook, bot, email; search → its webhook
# S3's throttling answer: the ledger faults below refuse writes with it
S3_SLOW_DOWN = aws_error("PutObject", "SlowDown", "Please reduce your request rate.", 503)


def test_slack_asking_to_wait_ten_hours_fails_that_destination_at_once(lab: FaultLab) -> None:
    # Given Slack answering the overall webhook's post 429, Retry-After: 36000 (ten hours)
    lab.deploy(SLACK_RETRY_AFTER)
    lab.slack.scripted[OVERALL_WEBHOOK] = [429]
    lab.slack.retry_after = "36000"

    # When the schedule invokes the function
    first = lab.invoke()

    # Then that destination fails at once, loudly, without waiting; the others are delivered
    assert isinstance(first.error, RunFailed)
    assert "Slack asked to wait 36000 s" in first.message
    assert all(wait <= MAX_RETRY_AFTER_SECONDS for wait in lab.slack_sleeps)
    assert first.seconds < 60
    assert len(lab.arrivals()) == EVERY_DESTINATION - 1

    # And Lambda's retry delivers it
    assert lab.lambda_retries(first).result is not None
    lab.conclude(first)


def broken_answer_to_the_bot_post(lab: FaultLab, scenario: Scenario, breakage: Breakage) -> None:
    # Given Slack posting the bot message, then breaking its answer
    lab.deploy(scenario)
    lab.slack.broken["chat.postMessage"] = breakage

    # When the schedule invokes the function
    first = lab.invoke()

    # Then the run fails loudly for the bot post alone; every report is in place
    assert isinstance(first.error, RunFailed) and "slack-bot-C0123ABCD" in first.message
    assert len(lab.arrivals()) == EVERY_DESTINATION

    # And Lambda's retry finds the post by its metadata, records it, and posts nothing again
    lab.slack.broken.clear()
    retried = lab.lambda_retries(first)
    assert retried.result is not None and retried.result["delivered"] == 1
    assert len(lab.slack.lookups()) == 1
    lab.conclude(first)


def test_a_garbage_answer_after_the_bot_post_is_found_again_not_reposted(lab: FaultLab) -> None:
    broken_answer_to_the_bot_post(lab, SLACK_GARBAGE, Breakage.GARBAGE)


def test_an_answer_cut_after_the_bot_post_is_found_again_not_reposted(lab: FaultLab) -> None:
    broken_answer_to_the_bot_post(lab, SLACK_CUT, Breakage.CUT)


def test_an_answer_cut_after_a_webhook_post_is_resent_in_the_documented_window(
    lab: FaultLab,
) -> None:
    # Given Slack posting the overall webhook's message, then cutting its answer off
    lab.deploy(WEBHOOK_CUT)
    lab.slack.broken[OVERALL_WEBHOOK] = Breakage.CUT

    # When the schedule invokes the function
    first = lab.invoke()

    # Then the run fails loudly for that webhook; every report is in place
    assert isinstance(first.error, RunFailed) and "slack-webhook-overall_webhook" in first.message
    assert len(lab.arrivals()) == EVERY_DESTINATION

    # And Lambda's retry cannot look a webhook post up: it posts again (at-least-once, as
    # src/fwcost/delivery/ledger.py documents), which the lab counts apart from duplicates
    lab.slack.broken.clear()
    assert lab.lambda_retries(first).result is not None
    assert len(lab.slack.delivered(OVERALL_WEBHOOK)) == 2
    lab.conclude(first)


def ses_refusing_once(
    lab: FaultLab, scenario: Scenario, code: str, said: str, status: int, named: str
) -> None:
    # Given SES refusing the first email, after the SDK's own retries
    lab.deploy(scenario)
    lab.aws.inject(AwsFault("sesv2.SendEmail", aws_error("SendEmail", code, said, status), times=1))

    # When the schedule invokes the function
    first = lab.invoke()

    # Then the run fails loudly, naming SES's answer; the Slack destinations are delivered
    assert isinstance(first.error, RunFailed) and named in first.message
    assert sent_emails() == [] and len(lab.arrivals()) == EVERY_DESTINATION - 1

    # And Lambda's retry sends the email, once
    assert lab.lambda_retries(first).result is not None
    lab.conclude(first)


def test_ses_throttling_one_email_fails_the_run_and_its_retry_sends_it(lab: FaultLab) -> None:
    ses_refusing_once(
        lab,
        SES_THROTTLED,
        "TooManyRequestsException",
        "Maximum sending rate exceeded.",
        429,
        named="SES is throttling",
    )


def test_ses_rejecting_one_email_fails_the_run_and_its_retry_sends_it(lab: FaultLab) -> None:
    ses_refusing_once(
        lab,
        SES_REJECTED,
        "MessageRejected",
        "Email address is not verified. The following identities failed the check in region"
        " US-EAST-1: finops@acme.ai",
        400,
        named="SES rejected the message",
    )


def test_a_receipt_write_refused_once_is_retried_within_the_run(lab: FaultLab) -> None:
    # Given S3 refusing the first ledger write that records a receipt after its send
    lab.deploy(RECEIPT_WRITE_ONCE)
    refusal = lab.aws.inject(
        AwsFault(
            "s3.PutObject",
            S3_SLOW_DOWN,
            when=is_receipt_write,
            times=1,
        )
    )

    # When the schedule invokes the function
    run = lab.invoke()

    # Then the run writes the receipt again and succeeds, each report sent once
    assert refusal.fired == 1
    assert run.result is not None and run.result["delivered"] == EVERY_DESTINATION
    lab.conclude(run)


def test_a_receipt_written_whose_answer_was_lost_is_found_in_place(lab: FaultLab) -> None:
    # Given S3 writing the first receipt, then the connection closing before its answer
    lab.deploy(RECEIPT_ANSWER_LOST)
    closed = lab.aws.inject(
        AwsFault(
            "s3.PutObject",
            lambda: ConnectionClosedError(endpoint_url="https://s3.amazonaws.com"),
            when=is_receipt_write,
            times=1,
            answer_lost=True,
        )
    )

    # When the schedule invokes the function
    run = lab.invoke()

    # Then the run tries the write again, is refused (the claim it named is gone), reads its
    # own receipt back, and goes on: nothing fails, nothing is sent twice
    assert closed.fired == 1
    assert run.result is not None and run.result["delivered"] == EVERY_DESTINATION
    first_record = "audience=overall/slack-webhook-overall_webhook.json"
    [versions] = [v for key, v in lab.archived().items() if key.endswith(first_record)]
    assert [json.loads(body)["state"] for body in versions] == ["claimed", "delivered"]
    lab.conclude(run)


def test_claims_refused_for_a_whole_invocation_send_nothing_and_the_retry_delivers(
    lab: FaultLab,
) -> None:
    # Given S3 refusing every ledger claim of the first invocation
    lab.deploy(CLAIMS_REFUSED)
    lab.aws.inject(
        AwsFault(
            "s3.PutObject",
            S3_SLOW_DOWN,
            when=is_claim_write,
        )
    )

    # When the schedule invokes the function
    first = lab.invoke()

    # Then nothing unclaimed is sent, and the run fails loudly naming each destination
    assert isinstance(first.error, RunFailed)
    assert first.message.count("SlowDown") == EVERY_DESTINATION
    assert lab.arrivals() == []

    # And Lambda's retry, S3 back, delivers each once
    lab.aws.clear()
    assert lab.lambda_retries(first).result is not None
    lab.conclude(first)


def test_receipts_refused_for_a_whole_invocation_leave_only_the_documented_resends(
    lab: FaultLab,
) -> None:
    # Given S3 refusing every receipt write of the first invocation (claims still go through)
    lab.deploy(RECEIPTS_DOWN)
    lab.monkeypatch.setattr("fwcost.delivery.deliver.LEDGER_RETRY_SECONDS", 0.01)
    lab.aws.inject(
        AwsFault(
            "s3.PutObject",
            S3_SLOW_DOWN,
            when=is_receipt_write,
        )
    )

    # When the schedule invokes the function
    first = lab.invoke()

    # Then every destination was tried and the run fails loudly, saying what is unrecorded
    assert isinstance(first.error, RunFailed)
    assert first.message.count("SENT but not recorded in the ledger") == EVERY_DESTINATION
    assert len(lab.arrivals()) == EVERY_DESTINATION

    # And Lambda's retry, S3 back, finds the bot post by its metadata and records it; the
    # webhooks and the email leave nothing to look up and are sent again (the documented
    # at-least-once window, counted apart from duplicates)
    lab.aws.clear()
    retried = lab.lambda_retries(first)
    assert retried.result is not None and retried.result["delivery_failures"] == 0
    assert len(lab.slack.delivered("chat.postMessage")) == 1
    assert len(lab.slack.lookups()) == 1
    lab.conclude(first)
