"""The Lambda handler delivering for real: simulator over loopback, moto (S3, SES v2, Secrets
Manager, SSM) and a fake Slack on loopback. What issue 4 asks the whole product to show."""

from __future__ import annotations

import email
import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from delivery.support import BOT_TOKEN, REGION, FakeSlack
from fwcost.archive import ArchiveError
from fwcost.pipeline import RunFailed
from fwcost.problems import RunError

DAY = "2026-11-21"
FROM = "costs@acme.ai"
API_KEY = "fw_sim_admin_key"
BUCKET = "fwcost-handler-archive"


@pytest.fixture
def deployed(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, retry_sleeps: list[float]
) -> Iterator[dict[str, Any]]:
    """What `sam deploy` would create, in moto, with the Lambda's environment set."""
    from fwcost.simulator import SimulatorConfig, run_simulator

    webhooks = {
        "overall_webhook": f"{fake_slack.base_url}/services/T0/B0/overallWebhookSecret0123",
        "search_webhook": f"{fake_slack.base_url}/services/T0/B1/searchWebhookSecret4567",
        "bot_token": BOT_TOKEN,
    }
    routing = {
        "version": 1,
        "routes": {
            "overall": {
                "slack": [
                    {"kind": "webhook", "secret_key": "overall_webhook"},
                    {"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"},
                ],
                "email": [
                    {
                        "from": FROM,
                        "to": ["finops@acme.ai"],
                        "cc": ["cto@acme.ai"],
                        "attach_csv": True,
                    }
                ],
            },
            "teams": {"search": {"slack": [{"kind": "webhook", "secret_key": "search_webhook"}]}},
        },
        "unknown_teams": "skip",
    }
    with mock_aws(), run_simulator(SimulatorConfig()) as simulator:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        secrets = boto3.client("secretsmanager", region_name=REGION)
        api_secret = secrets.create_secret(Name="fwcost/api-key", SecretString=API_KEY)["ARN"]
        slack_secret = secrets.create_secret(
            Name="fwcost/slack", SecretString=json.dumps(webhooks)
        )["ARN"]
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/fwcost/routing", Value=json.dumps(routing), Type="String"
        )
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=FROM)
        for name, value in {
            "FWCOST_ACCOUNT_ID": "acme-ai",
            "FWCOST_TIMEZONE": "America/Los_Angeles",
            "FWCOST_API_KEY_SECRET": api_secret,
            "FWCOST_SLACK_SECRET": slack_secret,
            "FWCOST_SLACK_API_URL": fake_slack.api_url,
            "FWCOST_ROUTING_PARAMETER": "/fwcost/routing",
            "FWCOST_ARCHIVE_BUCKET": BUCKET,
            "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
            "POWERTOOLS_METRICS_NAMESPACE": "fwcost-test",
        }.items():
            monkeypatch.setenv(name, value)
        # Powertools caches secrets and parameters across invocations; tests start cold.
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()
        yield {"s3": s3, "secrets": [API_KEY, BOT_TOKEN, *webhooks.values()]}


def invoke(lambda_context: Any, *, retry_of: str | None = None, **event: Any) -> dict[str, Any]:
    """One invocation; Lambda gives each a new request id, and a retry the id it retries."""
    from app import lambda_handler

    lambda_context.aws_request_id = retry_of or str(uuid.uuid4())
    return dict(lambda_handler({"date": DAY, **event}, lambda_context))


def sent_emails() -> list[Any]:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def archive_keys(s3: Any) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_invoked_twice_each_destination_gets_its_report_once(deployed, fake_slack, lambda_context):
    first = invoke(lambda_context)
    posts, emails = len(fake_slack.delivered()), len(sent_emails())
    second = invoke(lambda_context)

    # overall → webhook, bot, email; search → its webhook ("unknown_teams": "skip")
    assert (first["delivered"], second["delivered"], second["already_delivered"]) == (4, 0, 4)
    assert (posts, emails) == (3, 1)
    assert len(fake_slack.delivered()) == posts
    assert len(sent_emails()) == emails


def test_force_resends_and_edits_the_bot_message(deployed, fake_slack, lambda_context):
    invoke(lambda_context)
    invoke(lambda_context, force=True)
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert len(fake_slack.delivered("chat.update")) == 1  # edited, not posted twice
    assert len(sent_emails()) == 2


def test_slack_down_fails_the_run_keeps_the_archive_and_the_retry_posts_only_what_is_missing(
    deployed, fake_slack, lambda_context
):
    # Given the overall webhook answers 500 whatever the retries do
    fake_slack.failing["/services/T0/B0/"] = 500

    # When the day runs, it fails loudly, after delivering everything else
    with pytest.raises(RunFailed, match="slack-webhook-overall_webhook"):
        invoke(lambda_context)
    assert any(k.endswith(f"dt={DAY}/manifest.json") for k in archive_keys(deployed["s3"]))
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert len(fake_slack.delivered("/services/T0/B1/")) == 1
    assert len(sent_emails()) == 1

    # Then Lambda's retry, with Slack back, posts exactly the missing message
    fake_slack.failing.clear()
    retried = invoke(lambda_context, retry_of=lambda_context.aws_request_id)
    assert (retried["delivered"], retried["already_delivered"]) == (1, 3)
    assert len(fake_slack.delivered("/services/T0/B0/")) == 1
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert len(sent_emails()) == 1


def test_lambda_retrying_a_forced_run_resends_only_what_failed(
    deployed, fake_slack, lambda_context
):
    # Given the day was delivered, then re-run with force while the overall webhook is down
    invoke(lambda_context)
    fake_slack.failing["/services/T0/B0/"] = 500
    with pytest.raises(RunFailed):
        invoke(lambda_context, force=True)
    forced_run = lambda_context.aws_request_id
    emails_after_forced_run = len(sent_emails())

    # When Lambda retries that invocation (same request id, same event) with Slack back
    fake_slack.failing.clear()
    retried = invoke(lambda_context, retry_of=forced_run, force=True)

    # Then only the webhook that failed is sent; the email is not sent a third time
    assert (retried["delivered"], retried["already_delivered"]) == (1, 3)
    assert len(sent_emails()) == emails_after_forced_run == 2
    assert len(fake_slack.delivered("/services/T0/B0/")) == 2


def test_receipts_the_ledger_cannot_record_fail_the_run_and_its_retry_does_not_repost_the_bot(
    deployed, fake_slack, lambda_context, monkeypatch
):
    from fwcost.delivery import DeliveryState, LedgerError, S3Ledger

    # Given S3 refusing every write of a receipt (claims still go through)
    write = S3Ledger.write

    def receipts_refused(self, record, *, replacing):
        if record.state is DeliveryState.DELIVERED:
            raise LedgerError("could not write the record: S3 is unreachable")
        return write(self, record, replacing=replacing)

    monkeypatch.setattr(S3Ledger, "write", receipts_refused)
    monkeypatch.setattr("fwcost.delivery.deliver.LEDGER_RETRY_SECONDS", 0)

    # When the day runs, every destination is still tried, and the run fails saying so
    with pytest.raises(RunFailed, match="SENT but not recorded in the ledger"):
        invoke(lambda_context)
    assert len(fake_slack.delivered()) == 3
    assert len(sent_emails()) == 1

    # Then Lambda's retry, with S3 back, finds the bot post by its metadata instead of posting
    # again; the webhooks and the email cannot be looked up and go again (at-least-once)
    monkeypatch.setattr(S3Ledger, "write", write)
    retried = invoke(lambda_context, retry_of=lambda_context.aws_request_id)
    assert (retried["delivered"], retried["delivery_failures"]) == (4, 0)
    assert len(fake_slack.delivered("chat.postMessage")) == 1
    assert len(fake_slack.lookups()) == 1
    assert len(fake_slack.delivered("/services/")) == 4
    assert len(sent_emails()) == 2


def test_a_run_short_of_time_starts_no_delivery_and_its_retry_sends_them(
    deployed, fake_slack, lambda_context
):
    # Given an invocation with less than the margin left when delivery begins
    from fwcost.delivery.deliver import DEADLINE_MARGIN_SECONDS

    lambda_context.remaining_millis = (DEADLINE_MARGIN_SECONDS - 1) * 1000

    # When it runs, it archives, starts no delivery and fails loudly, naming each one
    with pytest.raises(RunFailed, match="not started: the run's time ran out") as raised:
        invoke(lambda_context)
    assert str(raised.value).count("not started") == 4
    assert fake_slack.delivered() == [] and sent_emails() == []
    assert any(k.endswith(f"dt={DAY}/manifest.json") for k in archive_keys(deployed["s3"]))

    # Then the retry, with its time, delivers each once
    lambda_context.remaining_millis = 300_000
    retried = invoke(lambda_context, retry_of=lambda_context.aws_request_id)
    assert retried["delivered"] == 4
    assert (len(fake_slack.delivered()), len(sent_emails())) == (3, 1)


def test_ses_receives_a_well_formed_multipart_email_with_the_csv(deployed, lambda_context):
    invoke(lambda_context)
    [sent] = sent_emails()
    message = email.message_from_string(sent.raw_data)

    assert message["From"] == FROM
    assert message["To"] == "finops@acme.ai"
    assert message["Cc"] == "cto@acme.ai"
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    text, html = alternative.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert "Fireworks" in html.get_payload(decode=True).decode()
    assert attachment.get_filename() == f"fwcost-acme-ai-{DAY}.csv"
    assert attachment.get_payload(decode=True).decode().startswith("day,timezone,account_id")


def test_a_missing_archive_bucket_fails_loudly_and_sends_nothing(
    deployed, fake_slack, lambda_context, monkeypatch
):
    # The ledger lives in the archive bucket: with it unreachable, exactly-once can't be kept.
    monkeypatch.setenv("FWCOST_ARCHIVE_BUCKET", "no-such-fwcost-bucket")
    with pytest.raises(RunError, match=r"no S3 bucket 'no-such-fwcost-bucket'") as raised:
        invoke(lambda_context)
    assert isinstance(raised.value.__cause__, ArchiveError)
    assert fake_slack.delivered() == []
    assert sent_emails() == []


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """Every JSON line the app's Powertools logger writes, as Lambda would ship it."""
    from fwcost.observability import logger

    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("fwcost").addHandler(handler)
    yield lines
    logging.getLogger("fwcost").removeHandler(handler)


def test_no_secret_in_any_log_line_report_or_archived_object(
    deployed, lambda_context, app_log, capsys
):
    invoke(lambda_context)
    logs = capsys.readouterr()  # metrics are printed (EMF) to stdout at the end of the invocation
    log_lines = app_log.getvalue()
    assert '"message":"run finished"' in log_lines  # the log lines were seen
    assert '"correlation_id":"' in log_lines
    emf = [json.loads(line) for line in logs.out.splitlines() if line.startswith('{"_aws"')]
    names = {
        m["Name"]
        for record in emf
        for d in record["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    }
    assert {
        "ApiRequests",
        "ApiRetries",
        "CostUSD",
        "Tokens",
        "UsageRows",
        "ReportsDelivered",
        "Deliveries",
    } <= names
    s3 = deployed["s3"]
    stored = [
        s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode() for key in archive_keys(s3)
    ]
    for secret in deployed["secrets"]:
        assert secret not in log_lines
        assert secret not in logs.out
        assert secret not in logs.err
        for body in stored:
            assert secret not in body
