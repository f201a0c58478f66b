"""Fixtures shared by every tier: fake AWS credentials, a moto bucket, sample records."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_context import LambdaContext

# Powertools reads these when fwcost.observability is first imported, as Lambda sets them
# before the handler module loads: set them before any test imports the package.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "fwcost-test")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "fwcost")

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


@pytest.fixture(autouse=True)
def app_logger_level() -> Iterator[None]:
    """The CLI quiets the app's logger for a terminal; each test starts from the configured level."""
    from fwcost.observability import logger

    level = logger.log_level
    yield
    logger.setLevel(level)


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
