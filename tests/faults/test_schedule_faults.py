"""Faults in how the function is invoked: twice, twice at once, forced and retried, and with too
little of its time left."""

from __future__ import annotations

from deployed import DAY, WEBHOOK_PATHS, sent_emails
from faults.lab import SCHEDULED, FaultLab
from faults.scenarios import CONCURRENT_RUNS, DEADLINE, DOUBLED_SCHEDULE, FORCED_RERUN_RETRIED
from fwcost.delivery.deliver import DEADLINE_MARGIN_SECONDS, NOT_STARTED
from fwcost.pipeline import RunFailed

EVERY_DESTINATION = 4  # overall → webhook, bot, email; search → its webhook


def test_a_doubled_schedule_delivers_each_report_once(lab: FaultLab) -> None:
    # Given the deployed function
    lab.deploy(DOUBLED_SCHEDULE)

    # When the schedule invokes it twice for the same morning (two request ids)
    first = lab.invoke(SCHEDULED)
    second = lab.invoke(SCHEDULED)

    # Then the second finds everything delivered and sends nothing
    assert first.result is not None and second.result is not None
    assert first.result["delivered"] == second.result["already_delivered"] == EVERY_DESTINATION
    assert second.result["delivered"] == 0
    lab.conclude(first)


def test_the_function_and_a_cli_run_at_once_deliver_each_report_once(lab: FaultLab) -> None:
    # Given the deployed function (reserved concurrency 1 keeps two of its runs apart, so the
    # race to expect is an operator's `fwcost run` with the same settings)
    lab.deploy(CONCURRENT_RUNS)

    # When the schedule's run and the operator's start at the same moment
    function, cli = lab.at_the_same_time(
        lambda: lab.invoke(SCHEDULED), lambda: lab.cli("run", "--date", DAY)
    )

    # Then both succeed, and between them each destination was delivered once: what one run
    # claimed, the other left to it (S3's conditional writes decide)
    assert function.result is not None and cli == 0, function.message
    ran_by_cli = EVERY_DESTINATION - function.result["delivered"]
    assert f"delivery: {ran_by_cli} delivered" in lab.output()
    lab.conclude(function)


def test_a_run_short_of_time_starts_no_delivery_and_its_retry_delivers(lab: FaultLab) -> None:
    # Given an invocation with 59 s left when delivery would start (it keeps 60 s in hand)
    lab.deploy(DEADLINE)
    assert DEADLINE_MARGIN_SECONDS == 60

    # When the schedule invokes the function
    first = lab.invoke(SCHEDULED, seconds_left=59)

    # Then it archives the day, starts no delivery and fails loudly, naming each one
    assert isinstance(first.error, RunFailed)
    assert first.message.count(NOT_STARTED) == EVERY_DESTINATION
    assert lab.arrivals() == [] and sent_emails() == []
    assert any(key.endswith(f"dt={DAY}/manifest.json") for key in lab.archived())

    # And Lambda's retry, with its time, delivers each once
    assert lab.lambda_retries(first).result is not None
    lab.conclude(first)


def test_lambda_retrying_a_forced_run_edits_the_bot_post_and_resends_only_once(
    lab: FaultLab,
) -> None:
    # Given a day delivered by the schedule
    lab.deploy(FORCED_RERUN_RETRIED)
    assert lab.invoke(SCHEDULED).result is not None

    # When it is re-run with force while the overall webhook fails
    lab.slack.failing[WEBHOOK_PATHS["overall_webhook"]] = 500
    forced = lab.invoke({"date": DAY, "force": True})

    # Then the forced run fails loudly, having resent what it could
    assert isinstance(forced.error, RunFailed) and "slack-webhook-overall_webhook" in forced.message

    # And Lambda's retry of the forced invocation, Slack back, sends only that webhook: the bot
    # post was edited (not posted again), the email went out once more, not twice
    lab.slack.failing.clear()
    retried = lab.lambda_retries(forced)
    assert retried.result is not None
    assert (retried.result["delivered"], retried.result["already_delivered"]) == (1, 3)
    assert len(lab.slack.delivered("chat.postMessage")) == 1
    assert len(lab.slack.delivered("chat.update")) == 1
    assert len(sent_emails()) == 2
    lab.conclude(forced, forced_runs=1)
