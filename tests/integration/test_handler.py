"""The Lambda handler in-process: moto for S3 and Secrets Manager, the simulator over loopback."""

import json

import boto3
import pytest

ACCOUNT = "acme-ai"


@pytest.fixture
def lambda_env(monkeypatch, bucket, simulator):
    secret = boto3.client("secretsmanager").create_secret(
        Name="fwcost/fireworks-api-key", SecretString="fw_sim_admin_key"
    )
    for name, value in {
        "FWCOST_ACCOUNT_ID": ACCOUNT,
        "FWCOST_TIMEZONE": "America/Los_Angeles",
        "FWCOST_API_KEY_SECRET": secret["ARN"],
        "FWCOST_ARCHIVE_BUCKET": bucket,
        "FWCOST_ARCHIVE_PREFIX": "fireworks",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
        "POWERTOOLS_METRICS_NAMESPACE": "fwcost-test",
    }.items():
        monkeypatch.setenv(name, value)
    return bucket


def manifest(bucket, day):
    key = f"fireworks/account={ACCOUNT}/dt={day}/manifest.json"
    return json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_scheduled_event_archives_yesterday_in_the_report_timezone(
    lambda_env, load_event, lambda_context
):
    from app import lambda_handler

    event = load_event("scheduled.json")
    result = lambda_handler(event, lambda_context)

    # 15:00 UTC on 22 Nov is 07:00 in Los Angeles: the report day is the 21st there
    assert event["scheduled_time"] == "2026-11-22T15:00:00Z"
    assert (result["kind"], result["start"]) == ("report", "2026-11-21")
    assert manifest(lambda_env, "2026-11-21")["timezone"] == "America/Los_Angeles"


def test_rerun_and_backfill_events_write_complete_days(lambda_env, load_event, lambda_context):
    from app import lambda_handler

    rerun = load_event("rerun-day.json")
    lambda_handler(rerun, lambda_context)
    assert manifest(lambda_env, rerun["date"])["day"] == rerun["date"]

    backfill = load_event("backfill.json")
    result = lambda_handler(backfill, lambda_context)
    assert result["days_archived"] >= 1
    assert manifest(lambda_env, backfill["end"])["day"] == backfill["end"]


def test_an_event_that_names_no_day_fails_loudly(lambda_env, lambda_context):
    from app import lambda_handler
    from fwcost.run_request import BadRequest

    with pytest.raises(BadRequest, match="names no day"):
        lambda_handler({"hello": "world"}, lambda_context)


def test_an_event_for_today_raises_naming_the_day_before_fetching_anything(
    lambda_env, lambda_context, simulator
):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app import lambda_handler
    from fwcost.run_request import BadRequest

    today = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles")).date()
    with pytest.raises(BadRequest) as caught:
        lambda_handler({"date": today.isoformat()}, lambda_context)

    assert f"report day {today} is not complete yet in America/Los_Angeles" in str(caught.value)
    assert simulator.requests == []
