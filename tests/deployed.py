"""The function as `sam deploy` would leave it, in-process: moto (a versioned S3 bucket, SES v2,
Secrets Manager, SSM), the Fireworks simulator and a fake Slack on loopback, and the Lambda's
environment set. Shared by tests/integration (the handler delivering) and tests/faults.

    with deploy(monkeypatch, fake_slack) as deployment:
        invoke(lambda_context)                                   # a new invocation
        invoke(lambda_context, retry_of=lambda_context.aws_request_id)   # Lambda's retry of it
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from fake_slack import FakeSlack
from fwcost.simulator import RunningSimulator, SimulatorConfig, run_simulator

REGION = "us-east-1"
DAY = "2026-11-21"
FROM = "costs@acme.ai"
BUCKET = "fwcost-handler-archive"
BOT_TOKEN = "xoxb-1111-2222-botTokenSecretValue89"
# The webhooks' secret path parts: a webhook URL is a credential, its last part most of all.
WEBHOOK_PATHS = {
    "overall_webhook": "/services/T0/B0/overallWebhookSecret0123",
    "search_webhook": "/services/T0/B1/searchWebhookSecret4567",
}
# overall → webhook, bot and email (with the CSV); search → its webhook; other teams: nothing.
ROUTING: dict[str, Any] = {
    "version": 1,
    "routes": {
        "overall": {
            "slack": [
                {"kind": "webhook", "secret_key": "overall_webhook"},
                {"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"},
            ],
            "email": [
                {"from": FROM, "to": ["finops@acme.ai"], "cc": ["cto@acme.ai"], "attach_csv": True}
            ],
        },
        "teams": {"search": {"slack": [{"kind": "webhook", "secret_key": "search_webhook"}]}},
    },
    "unknown_teams": "skip",
}


@dataclass
class Deployment:
    s3: Any
    simulator: RunningSimulator
    fake_slack: FakeSlack
    routing: dict[str, Any]
    webhooks: dict[str, str]  # Slack secret key → webhook URL
    api_key: str
    bucket: str = BUCKET
    slack_secret: dict[str, str] = field(default_factory=dict)

    @property
    def secrets(self) -> list[str]:
        """Every credential value the deployment holds, and the secret parts of the webhooks."""
        parts = [url.rsplit("/", 1)[1] for url in self.webhooks.values()]
        return [self.api_key, *self.slack_secret.values(), *parts]


@contextmanager
def deploy(
    monkeypatch: pytest.MonkeyPatch,
    fake_slack: FakeSlack,
    *,
    simulator: SimulatorConfig | None = None,
    routing: dict[str, Any] | None = None,
    api_key: str | None = None,
    environment: Mapping[str, str | None] = {},
) -> Iterator[Deployment]:
    """Create the stack's resources in moto and set the function's environment.

    `api_key` is the key the secret holds (default: the simulator's administrator key);
    `environment` adds or, with None, removes variables (FWCOST_ARCHIVE_DIR instead of the
    bucket, FWCOST_BUDGETS...)."""
    config = simulator or SimulatorConfig()
    routing = ROUTING if routing is None else routing
    webhooks = {key: fake_slack.base_url + path for key, path in WEBHOOK_PATHS.items()}
    slack_secret = {**webhooks, "bot_token": BOT_TOKEN}
    key = api_key or config.api_key
    with mock_aws(), run_simulator(config) as running:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        secrets = boto3.client("secretsmanager", region_name=REGION)
        api_secret = secrets.create_secret(Name="fwcost/api-key", SecretString=key)["ARN"]
        slack_secret_arn = secrets.create_secret(
            Name="fwcost/slack", SecretString=json.dumps(slack_secret)
        )["ARN"]
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/fwcost/routing", Value=json.dumps(routing), Type="String"
        )
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=FROM)
        for name, value in {
            "FWCOST_ACCOUNT_ID": config.account_id,
            "FWCOST_TIMEZONE": "America/Los_Angeles",
            "FWCOST_API_KEY_SECRET": api_secret,
            "FWCOST_SLACK_SECRET": slack_secret_arn,
            "FWCOST_SLACK_API_URL": fake_slack.api_url,
            "FWCOST_ROUTING_PARAMETER": "/fwcost/routing",
            "FWCOST_ARCHIVE_BUCKET": BUCKET,
            "FWCOST_FIREWORKS_BASE_URL": running.base_url,
            "POWERTOOLS_METRICS_NAMESPACE": "fwcost-test",
            **environment,
        }.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        # Powertools caches secrets and parameters across invocations; tests start cold.
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()
        yield Deployment(s3, running, fake_slack, routing, webhooks, key, BUCKET, slack_secret)


def invoke(lambda_context: Any, *, retry_of: str | None = None, **event: Any) -> dict[str, Any]:
    """One invocation of {"date": DAY, **event}; Lambda gives each a new request id, and a
    retry the id it retries."""
    from app import lambda_handler

    lambda_context.aws_request_id = retry_of or str(uuid.uuid4())
    return dict(lambda_handler({"date": DAY, **event}, lambda_context))


def sent_emails() -> list[Any]:
    """What moto's SES accepted (SES v2 sends land in the v1 backend)."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def archive_keys(s3: Any, bucket: str = BUCKET) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]
