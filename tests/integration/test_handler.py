"""The Lambda handler in-process: moto for S3 and Secrets Manager, the simulator over loopback."""

import io
import json
import logging

import boto3
import pytest

ACCOUNT = "acme-ai"

# A refused event publishes no metric; Powertools warns of that, which is expected here.
NO_METRICS = pytest.mark.filterwarnings("ignore:No application metrics to publish")


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


@pytest.fixture
def error_log():
    """The ERROR lines the app's Powertools logger writes, as Lambda would ship them."""
    from fwcost.observability import logger

    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("fwcost").addHandler(handler)
    yield lambda: [
        record["message"]
        for record in map(json.loads, lines.getvalue().splitlines())
        if record["level"] == "ERROR"
    ]
    logging.getLogger("fwcost").removeHandler(handler)


@NO_METRICS
def test_an_event_that_names_no_day_fails_loudly(lambda_env, lambda_context, error_log):
    from app import lambda_handler
    from fwcost.problems import RunError
    from fwcost.run_request import BadRequest

    with pytest.raises(RunError, match="names no day") as raised:
        lambda_handler({"hello": "world"}, lambda_context)
    assert isinstance(raised.value.__cause__, BadRequest)
    assert error_log() == [str(raised.value)]


def test_a_refused_api_key_fails_with_the_logged_sentence_saying_what_to_fix(
    lambda_env, load_event, lambda_context, error_log, monkeypatch
):
    # Given the secret holds a key Fireworks refuses
    from aws_lambda_powertools.utilities import parameters

    from app import lambda_handler
    from fwcost.fireworks import FireworksHTTPError
    from fwcost.problems import RunError

    wrong_key = "fw_revoked_key_0123456789"
    secret = boto3.client("secretsmanager").create_secret(
        Name="fwcost/revoked-key", SecretString=wrong_key
    )
    monkeypatch.setenv("FWCOST_API_KEY_SECRET", secret["ARN"])
    parameters.clear_caches()

    # When the schedule invokes the function
    with pytest.raises(RunError) as raised:
        lambda_handler(load_event("scheduled.json"), lambda_context)

    # Then it fails (Lambda retries, alarms fire) with the one sentence it logged
    message = str(raised.value)
    assert message.startswith("Fireworks refused the API key: GET /v1/accounts/acme-ai/")
    assert "Create a new API key in Fireworks" in message
    assert error_log() == [message]
    assert isinstance(raised.value.__cause__, FireworksHTTPError)  # the traceback keeps it
    assert wrong_key not in message


@NO_METRICS
def test_an_unknown_error_is_raised_as_it_came(lambda_env, load_event, lambda_context, monkeypatch):
    from app import lambda_handler

    def broken(*args, **kwargs):
        raise KeyError("unexpected")

    monkeypatch.setattr("fwcost.service.run", broken)
    with pytest.raises(KeyError, match="unexpected"):
        lambda_handler(load_event("scheduled.json"), lambda_context)


@NO_METRICS
def test_an_event_for_today_raises_naming_the_day_before_fetching_anything(
    lambda_env, lambda_context, simulator
):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app import lambda_handler
    from fwcost.problems import RunError
    from fwcost.run_request import BadRequest

    today = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles")).date()
    with pytest.raises(RunError) as caught:
        lambda_handler({"date": today.isoformat()}, lambda_context)

    assert f"report day {today} is not complete yet in America/Los_Angeles" in str(caught.value)
    assert isinstance(caught.value.__cause__, BadRequest)
    assert simulator.requests == []
