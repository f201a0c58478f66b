"""The Lambda handler sending the weekly digest and the month's statement: the simulator over
loopback, moto (S3, SES v2, Secrets Manager, SSM) and the fake Slack, with cadences in the
routing. The archive is what the backfill event leaves, as the daily runs would."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from deployed import FROM, Deployment, archive_keys, deploy, sent_emails
from fake_slack import FakeSlack

ROUTING: dict[str, Any] = {
    "routes": {
        "overall": {
            "slack": [
                {"kind": "webhook", "secret_key": "overall_webhook"},
                {
                    "kind": "bot",
                    "channel": "C0123ABCD",
                    "secret_key": "bot_token",
                    "cadence": ["weekly", "monthly"],
                },
            ],
            "email": [
                {
                    "from": FROM,
                    "to": ["finance@acme.ai"],
                    "attach_csv": True,
                    "cadence": ["monthly"],
                }
            ],
        },
        "teams": {
            "search": {
                "slack": [
                    {"kind": "webhook", "secret_key": "search_webhook", "cadence": ["weekly"]}
                ]
            }
        },
    },
    "unknown_teams": "skip",
}


@pytest.fixture
def deployed(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, retry_sleeps: list[float]
) -> Iterator[Deployment]:
    with deploy(monkeypatch, fake_slack, routing=ROUTING) as deployment:
        yield deployment


def handle(event: dict[str, Any], lambda_context: Any) -> dict[str, Any]:
    from app import lambda_handler

    lambda_context.aws_request_id = str(uuid.uuid4())
    return dict(lambda_handler(event, lambda_context))


def test_the_statement_goes_to_monthly_destinations_once_and_the_digest_to_weekly_ones(
    deployed, fake_slack, lambda_context
):
    handle({"start": "2026-10-01", "end": "2026-10-31"}, lambda_context)
    assert fake_slack.delivered() == []  # a backfill delivers nothing

    # The month's statement: the bot (monthly) and the email (monthly); not the daily webhook
    first = handle({"report": "monthly", "month": "2026-10"}, lambda_context)
    assert (first["kind"], first["start"], first["end"]) == ("monthly", "2026-10-01", "2026-10-31")
    assert first["delivered"] == 2
    [post] = fake_slack.delivered("chat.postMessage")
    assert post.body["metadata"]["event_payload"]["day"] == "2026-10"
    assert "October 2026" in json.dumps(post.body["blocks"])
    [mail] = sent_emails()
    assert "Fireworks AI statement, October 2026" in mail.raw_data
    keys = archive_keys(deployed.s3)
    assert "fireworks/account=acme-ai/statements/month=2026-10/manifest.json" in keys
    assert (
        "fireworks/ledger/account=acme-ai/month=2026-10/audience=overall/slack-bot-C0123ABCD.json"
        in keys
    )

    # A second invocation for the same month sends nothing new
    second = handle({"report": "monthly", "month": "2026-10"}, lambda_context)
    assert (second["delivered"], second["already_delivered"]) == (0, 2)
    assert len(fake_slack.delivered()) == 1 and len(sent_emails()) == 1

    # The week: the bot (weekly) and search's own webhook (weekly); the daily webhook, no
    weekly = handle({"report": "weekly", "date": "2026-10-26"}, lambda_context)
    assert (weekly["start"], weekly["end"]) == ("2026-10-19", "2026-10-25")
    assert weekly["delivered"] == 2
    assert len(fake_slack.delivered("/services/T0/B1/")) == 1  # search's webhook
    assert fake_slack.delivered("/services/T0/B0/") == []  # the overall webhook is daily only
    assert len(fake_slack.delivered("chat.postMessage")) == 2


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # refused: no metric
def test_a_weekly_event_for_a_week_not_over_fails_saying_when_it_can_run(deployed, lambda_context):
    from fwcost.problems import RunError

    with pytest.raises(RunError, match="not complete yet"):
        handle({"report": "weekly", "date": "2099-01-05"}, lambda_context)


def test_a_month_with_days_missing_fails_naming_the_backfill(deployed, lambda_context):
    from fwcost.problems import RunError

    handle({"start": "2026-10-01", "end": "2026-10-20"}, lambda_context)
    with pytest.raises(RunError, match="missing 11 archived day") as raised:
        handle({"report": "monthly", "month": "2026-10"}, lambda_context)
    assert '{"start": "2026-10-21", "end": "2026-10-31"}' in str(raised.value)
