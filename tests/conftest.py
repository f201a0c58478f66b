"""Fixtures shared by every tier: fake AWS credentials, a moto bucket, sample records."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from fwcost.model import DayUsage, DedicatedUsage, LineItem, RawResponse, ServerlessUsage

REGION = "us-east-1"
EVENTS = Path(__file__).resolve().parents[1] / "events"
RunningSimulator = Any  # fwcost.simulator's running server, imported lazily by the fixture


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may ever reach a real AWS account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def bucket(aws: None) -> str:
    """A versioned bucket, as template.yaml declares the archive bucket."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="fwcost-archive-test")
    s3.put_bucket_versioning(
        Bucket="fwcost-archive-test", VersioningConfiguration={"Status": "Enabled"}
    )
    return "fwcost-archive-test"


def raw_response(name: str, body: bytes) -> RawResponse:
    return RawResponse(
        name=name,
        method="GET",
        path="/v1/accounts/acme-ai/billingUsage",
        params=(("startTime", "2026-11-21T00:00:00Z"), ("usageType", "SERVERLESS")),
        request_body=b"",
        status=200,
        body=body,
        fetched_at=datetime(2026, 11, 22, 7, 0, 1, tzinfo=UTC),
        elapsed_seconds=0.25,
        attempts=1,
    )


def sample_day(day: date = date(2026, 11, 21)) -> DayUsage:
    """A small but complete day: annotated and unannotated serverless usage, one deployment."""
    return DayUsage(
        day=day,
        serverless=[
            ServerlessUsage(day, "accounts/fireworks/models/kimi-k2p6", "key_4nMFyHCSZP4CRKqa",
                            "prod-eng", "search", "ranker", "prod", "TEXT_COMPLETION_INFERENCE_USAGE",
                            1_842_301, 400_000, 412_980, 0.0),
            ServerlessUsage(day, "accounts/fireworks/models/gpt-oss-120b", "key_9QxAa1b2c3d4e1bT",
                            "batch, \"nightly\"", "", "", "", "TEXT_COMPLETION_INFERENCE_USAGE",
                            10_000, 0, 2_000, 0.0),
        ],
        dedicated=[
            DedicatedUsage(day, "ranker-h100", "NVIDIA_H100_80GB", "accounts/fireworks/models/qwen3-8b",
                           "US_IOWA_1", "search", "ranker", "prod", "DEDICATED_DEPLOYMENT_USAGE", 86_400),
        ],
        line_items=[
            LineItem(day, "Text Completion", "model", "kimi-k2p6", "", "", "", 2.2, Decimal("3.40"),
                     Decimal("3.40")),
        ],
    )  # fmt: skip


@dataclass
class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "fwcost-daily-report"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fwcost-daily-report"
    aws_request_id: str = "0f6d6d5c-7a1b-4c1e-9c55-3b1f7b7f0001"


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def load_event() -> Callable[[str], dict[str, Any]]:
    """The sample events in events/, the same files `sam local invoke` would use."""

    def load(name: str) -> dict[str, Any]:
        return dict(json.loads((EVENTS / name).read_text()))

    return load


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    from fwcost.simulator import SimulatorConfig, run_simulator

    with run_simulator(SimulatorConfig()) as running:
        yield running
