"""The deployed import path under moto: an export put under imports/ in the archive bucket, S3's
Object Created event routed by template.yaml's own ImportDrop pattern through moto's
EventBridge, and the handler invoked with the event that arrives."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import boto3
import pytest
from deploy.stack import load_template

from fwcost.simulator.exports import export_lines

ACCOUNT = "acme-ai"


def import_drop_pattern(bucket: str) -> dict[str, Any]:
    pattern = load_template()["Resources"]["DailyReportFunction"]["Properties"]["Events"][
        "ImportDrop"
    ]["Properties"]["Pattern"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "ArchiveBucket"}]
    pattern["detail"]["bucket"]["name"] = [bucket]
    return dict(pattern)


@pytest.fixture
def delivered(bucket: str):
    """What the ImportDrop rule delivers, caught in a queue: S3 → EventBridge → the rule."""
    s3, events, sqs = boto3.client("s3"), boto3.client("events"), boto3.client("sqs")
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    queue = sqs.create_queue(QueueName="import-drop")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name="ImportDrop", EventPattern=json.dumps(import_drop_pattern(bucket)))
    events.put_targets(Rule="ImportDrop", Targets=[{"Id": "fn", "Arn": arn["QueueArn"]}])

    def receive() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    return receive


@pytest.fixture
def lambda_env(monkeypatch, bucket):
    for name, value in {
        "FWCOST_ACCOUNT_ID": ACCOUNT,
        "FWCOST_TIMEZONE": "America/Los_Angeles",
        "FWCOST_API_KEY_SECRET": "fwcost/fireworks-api-key",  # an import never reads it
        "FWCOST_ARCHIVE_BUCKET": bucket,
        "FWCOST_ARCHIVE_PREFIX": "fireworks",
    }.items():
        monkeypatch.setenv(name, value)


def test_an_export_put_under_imports_is_imported_by_the_handler_and_its_writes_trigger_nothing(
    bucket, delivered, lambda_env, lambda_context
):
    from app import lambda_handler

    # Given an export put under imports/ and another object put elsewhere
    body = "".join(export_lines(date(2025, 10, 1), date(2025, 10, 1), 100)).encode()
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="imports/october.csv", Body=body)
    s3.put_object(Bucket=bucket, Key="fireworks/elsewhere.csv", Body=body)
    [event] = delivered()
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")

    # When the function is invoked with the event the rule delivered
    result = lambda_handler(event, lambda_context)

    # Then the export is archived under the archive prefix, its days marked from export
    sha = hashlib.sha256(body).hexdigest()
    [imported] = result["imports"]
    assert (imported["name"], imported["sha256"]) == (f"s3://{bucket}/imports/october.csv", sha)
    root = f"fireworks/account={ACCOUNT}"
    copy = s3.get_object(Bucket=bucket, Key=f"{root}/imports/sha256={sha}/export.csv")
    assert copy["Body"].read() == body
    manifest = s3.get_object(Bucket=bucket, Key=f"{root}/dt=2025-10-01/manifest.json")
    assert json.loads(manifest["Body"].read())["source"] == "export"
    # and none of the function's own writes reached the rule
    assert delivered() == []


# A refused event ends before any metric: Powertools warns that it has none to publish.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"detail-type": "Object Deleted"}, 'not "Object Deleted"'),
        (
            {"detail": {"bucket": {"name": "b"}, "object": {"key": "fireworks/x.csv"}}},
            "'fireworks/x.csv'",
        ),
        ({"detail": {"bucket": {"name": "b"}}}, "no detail.object.key"),
    ],
)
def test_an_s3_event_that_is_not_an_export_created_under_imports_is_refused(
    change, refusal, load_event, lambda_env, lambda_context
):
    from app import lambda_handler
    from fwcost.problems import RunError

    with pytest.raises(RunError, match=refusal):
        lambda_handler(load_event("export-dropped.json") | change, lambda_context)
