"""Webhook URLs and bot tokens never appear in errors, logs (std, Powertools) or outcomes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from delivery.support import SECRET_VALUES, SLACK_SECRETS, FakeSlack, make_report
from fwcost.delivery import (
    DeliveryFailed,
    DeliveryOutcome,
    S3Ledger,
    Senders,
    SesEmailSender,
    SlackRetryPolicy,
    SlackSender,
    deliver_reports,
    load_routing,
)

ROUTING = load_routing(
    json.dumps(
        {
            "routes": {
                "overall": {
                    "slack": [
                        {"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"},
                        {"kind": "webhook", "secret_key": "overall_webhook"},
                    ]
                },
                "teams": {
                    "search": {"slack": [{"kind": "webhook", "secret_key": "search_webhook"}]}
                },
            }
        }
    ),
    "test",
)


@pytest.fixture
def powertools_output() -> Iterator[io.StringIO]:
    """The app's own Powertools Logger, with one more handler writing its JSON lines here."""
    from fwcost.observability import logger

    app_logger = logging.getLogger("fwcost")
    saved = (app_logger.level, app_logger.propagate)
    output = io.StringIO()
    capture = logging.StreamHandler(output)
    capture.setFormatter(logger.registered_formatter)
    app_logger.addHandler(capture)
    logger.setLevel("DEBUG")
    app_logger.propagate = True  # so caplog sees the same records too
    yield output
    app_logger.removeHandler(capture)
    app_logger.setLevel(saved[0])
    app_logger.propagate = saved[1]


def deliver(senders: Senders, ledger: S3Ledger) -> DeliveryOutcome:
    reports = [make_report("overall"), make_report("search")]
    return deliver_reports(reports, ROUTING, ledger, senders, date(2026, 11, 21), "acme-ai")


def test_secret_values_never_leak(
    fake_slack: FakeSlack,
    retry_sleeps: list[float],
    sesv2: Any,
    s3: Any,
    ledger_bucket: str,
    powertools_output: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ledger = S3Ledger(s3, ledger_bucket)
    retry = SlackRetryPolicy(max_retries=1, backoff_factor_seconds=0.01)
    # Given Slack failing every way: retried 429s and 500s, an auth error ...
    fake_slack.scripted["/B0OVERALL/"] = [429]
    fake_slack.failing["/B0SEARCH/"] = 500
    fake_slack.api_errors["chat.postMessage"] = "invalid_auth"
    answering = SlackSender(
        SLACK_SECRETS,
        api_base_url=fake_slack.api_url,
        webhook_base_url=fake_slack.base_url,
        retry=retry,
    )
    # ... and a Slack nobody answers (connection refused, retried)
    unreachable = SlackSender(
        SLACK_SECRETS,
        api_base_url="http://127.0.0.1:9/api/",
        webhook_base_url="http://127.0.0.1:9",
        retry=retry,
    )
    email = SesEmailSender(sesv2)

    # When the day is delivered through both
    outcomes = [
        deliver(Senders(slack=sender, email=email), ledger) for sender in (answering, unreachable)
    ]
    errors = []
    for outcome in outcomes:
        with pytest.raises(DeliveryFailed) as raised:
            outcome.raise_if_failed()
        errors.append(str(raised.value))

    # Then no text anyone can see holds a secret value, though the logs did mention the requests
    ledger_records = [
        s3.get_object(Bucket=ledger_bucket, Key=item["Key"])["Body"].read().decode()
        for item in s3.list_objects_v2(Bucket=ledger_bucket).get("Contents", [])
    ]
    states = sorted(json.loads(record)["state"] for record in ledger_records)
    assert states == ["delivered", "failed", "failed"]  # the overall webhook, after its 429
    visible = [
        caplog.text,
        powertools_output.getvalue(),
        *errors,
        *(outcome.summary() for outcome in outcomes),
        *(repr(outcome) for outcome in outcomes),
        *ledger_records,
    ]
    for text in visible:
        for secret in SECRET_VALUES:
            assert secret not in text
    assert "***" in caplog.text  # slack_sdk did log the (masked) webhook paths
    assert "slack-webhook-search_webhook" in powertools_output.getvalue()
    assert len(outcomes[0].failed) == 2
    assert len(outcomes[1].failed) == 2  # the overall webhook was already in the ledger
