"""Delivery integration fixtures: a fake Slack on loopback, moto SES v2 and a versioned bucket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from delivery.support import REGION, SLACK_SECRETS, FakeSlack, serve_fake_slack
from fake_slack import record_slack_sleeps
from fwcost.delivery import SlackRetryPolicy, SlackSender


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with serve_fake_slack() as fake:
        yield fake


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """slack_sdk's retry waits, recorded instead of slept (keeps tests fast, checks Retry-After)."""
    return record_slack_sleeps(monkeypatch)


@pytest.fixture
def slack_sender(fake_slack: FakeSlack, retry_sleeps: list[float]) -> SlackSender:
    return SlackSender(
        SLACK_SECRETS,
        api_base_url=fake_slack.api_url,
        webhook_base_url=fake_slack.base_url,
        retry=SlackRetryPolicy(max_retries=2, backoff_factor_seconds=0.01),
        timeout_seconds=5,
    )


@pytest.fixture(autouse=True)
def delivery_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may ever reach a real AWS account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def delivery_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def sesv2(delivery_aws: None) -> Any:
    """SES v2 with costs@acme.ai verified (and nothing else)."""
    client = boto3.client("sesv2", region_name=REGION)
    client.create_email_identity(EmailIdentity="costs@acme.ai")
    return client


@pytest.fixture
def s3(delivery_aws: None) -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def ledger_bucket(s3: Any) -> str:
    """A versioned bucket, as the archive bucket is."""
    s3.create_bucket(Bucket="fwcost-archive-delivery")
    s3.put_bucket_versioning(
        Bucket="fwcost-archive-delivery", VersioningConfiguration={"Status": "Enabled"}
    )
    return "fwcost-archive-delivery"
