"""A deploy rehearsal: template.yaml created as a stack in moto's CloudFormation, then the
handler run in-process with exactly the environment the stack gave the function, against the
Fireworks simulator and a fake Slack on loopback, writing to the stack's bucket, reading the
stack's routing parameter and secrets, sending through moto's SES v2.

What it proves: the template's names, ARNs, environment and role agree with the code; every
AWS call the runs make is one the function's role allows (deploy.iam); the archive bucket's
Object Lock keeps what a forced run replaces, and moto refuses, as S3 does, a write into it
without a checksum, so the runs passing shows the code sends one. What it cannot: the resource
types moto's CloudFormation does not create are listed below, each with where else it is
checked; deploy.stack says what else of moto is worked around and how.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from delivery.support import FakeSlack, sent_raw_messages, serve_fake_slack
from deploy.iam import Call, Request, is_allowed, recorded_calls, requests_for, role_statements
from deploy.stack import (
    Stack,
    apply_bucket_protection,
    constraint_violations,
    deploy,
    load_template,
)
from moto import mock_aws

from lambda_context import LambdaContext

pytestmark = pytest.mark.slow  # two stacks, three runs: 30-45 s on a shared 2-core machine

REGION = "us-east-1"
ACCOUNT = "acme-ai"
API_KEY = "fw_sim_admin_key"
SENDER = "costs@acme.ai"
SCHEDULED_TIME = "2026-11-22T15:00:00Z"  # 07:00 in Los Angeles: the report day is the 21st
DAY = "2026-11-21"

# Resource types moto's CloudFormation skips (it warns and creates nothing), and where each is
# checked instead. A type joining or leaving this set is a change to look at, not to absorb.
NOT_CREATED_BY_MOTO = {
    # TLS-only access to both buckets, log delivery to the log bucket:
    # tests/template/test_template.py reads both policies.
    "AWS::S3::BucketPolicy",
    # The four alarms: tests/template/test_template.py (actions, metrics, dimensions).
    "AWS::CloudWatch::Alarm",
    # The Athena database and table: tests/template/test_athena_table.py (columns = CSV header).
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    # The Athena workgroup and named queries: tests/template/test_named_queries.py (each query
    # is its .sql file, which tests/integration/queries runs against the demo archive).
    "AWS::Athena::NamedQuery",
    "AWS::Athena::WorkGroup",
    # Async retries and the OnFailure queue: tests/template/test_template.py; the role's
    # sqs:SendMessage on the queue is in the translated template, checked there too.
    "AWS::Lambda::EventInvokeConfig",
    # The daily schedules: the function's Input, with Scheduler's placeholders filled in, is the
    # event these runs are invoked with (scheduled_event below); the state machine's (several
    # accounts) is the input tests/integration/test_state_machine.py executes.
    "AWS::Scheduler::Schedule",
    # The optional alarm email subscription: tests/template/test_template.py (its condition).
    "AWS::SNS::Subscription",
}

# Settings the code reads (fwcost.config.SETTINGS) that the template leaves unset, why.
NOT_SET_BY_THE_TEMPLATE = {
    "FWCOST_API_KEY": "local runs; Lambda reads the key from FWCOST_API_KEY_SECRET",
    "FWCOST_ARCHIVE_DIR": "local runs; Lambda archives to FWCOST_ARCHIVE_BUCKET",
    "FWCOST_ROUTING_FILE": "the CLI's; Lambda reads FWCOST_ROUTING_PARAMETER",
    "FWCOST_PRICE_BOOK": "a local file; the built-in price book ships in the layer",
    "FWCOST_SLACK_API_URL": "Slack's own URL is the default; overriding it is for tests",
    "FWCOST_TOP_N": "report tuning, left at the code's default",
    "FWCOST_WINDOW_DAYS": "request sizing, left at the code's default",
    "FWCOST_SETTLE_HOURS": "complete-day margin, left at the code's default",
    "FWCOST_MAX_TEAM_REPORTS": "team report cap, left at the code's default",
    "FWCOST_ANOMALY_MAD_MULTIPLIER": "anomaly rule, left at the code's default",
    "FWCOST_ANOMALY_MIN_RATIO": "anomaly rule, left at the code's default",
    "FWCOST_ANOMALY_DOLLAR_FLOOR": "anomaly rule, left at the code's default",
    "FWCOST_LINKS": "console links, the default: Lambda's role cannot presign for long",
    "FWCOST_LINK_EXPIRY_HOURS": "presigned links only, which Lambda's role cannot make",
    "FWCOST_ATHENA_WORKGROUP": "fwcost query's, from a terminal; the function runs no query",
    "FWCOST_ATHENA_DATABASE": "fwcost query's, from a terminal; the function runs no query",
    "FWCOST_EXPORT_DIFFERENCE_PERCENT": "export vs API threshold, left at the code's default",
}


@dataclass
class Run:
    result: dict[str, Any]
    calls: list[Call]


@dataclass
class Deployed:
    stack: Stack
    runs: list[Run]
    routing: dict[str, Any] | None


@dataclass
class World:
    """One moto account with the simulator and a fake Slack on loopback, shared by the module."""

    simulator_url: str
    fake_slack: FakeSlack
    api_key_secret: str
    slack_secret: str
    kms_key: str


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from fwcost.simulator import SimulatorConfig, run_simulator

    with (
        pytest.MonkeyPatch.context() as patch,
        mock_aws(),
        run_simulator(SimulatorConfig()) as simulator,
        serve_fake_slack() as fake_slack,
    ):
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        # The secrets and the SES identity exist before the stack, as the README asks.
        kms_key = boto3.client("kms").create_key(Description="fwcost secrets")["KeyMetadata"]["Arn"]
        secrets = boto3.client("secretsmanager")
        webhooks = {
            "overall_webhook": f"{fake_slack.base_url}/services/T0/B0/overallWebhookSecret0123",
            "search_webhook": f"{fake_slack.base_url}/services/T0/B1/searchWebhookSecret4567",
        }
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        yield World(
            simulator_url=simulator.base_url,
            fake_slack=fake_slack,
            api_key_secret=secrets.create_secret(
                Name="fwcost/fireworks-api-key", SecretString=API_KEY, KmsKeyId=kms_key
            )["ARN"],
            slack_secret=secrets.create_secret(
                Name="fwcost/slack", SecretString=json.dumps(webhooks), KmsKeyId=kms_key
            )["ARN"],
            kms_key=kms_key,
        )


ROUTING = {
    "version": 1,
    "unknown_teams": "skip",
    "routes": {
        "overall": {
            "slack": [{"kind": "webhook", "secret_key": "overall_webhook"}],
            "email": [{"from": f"FinOps <{SENDER}>", "to": ["finops@acme.ai"], "attach_csv": True}],
        },
        "teams": {"search": {"slack": [{"kind": "webhook", "secret_key": "search_webhook"}]}},
    },
}


@pytest.fixture(scope="module")
def full(world: World) -> Deployed:
    """Every optional parameter given: Slack, a KMS key, routing, budgets, alarm email, prefix."""
    stack = deploy(
        "fwcost",
        {
            "FireworksAccountId": ACCOUNT,
            "ReportTimezone": "America/Los_Angeles",
            "FireworksApiKeySecretArn": world.api_key_secret,
            "SlackSecretArn": world.slack_secret,
            "SecretsKmsKeyArn": world.kms_key,
            "RoutingConfig": json.dumps(ROUTING),
            "EmailFromAddress": SENDER,
            "MonthlyBudgets": '{"account": 30000, "teams": {"search": 8000}}',
            "AlarmEmail": "oncall@acme.ai",
            "ArchivePrefix": "finops/fireworks",
            "FireworksBaseUrl": world.simulator_url,
        },
        REGION,
    )
    protect_archive_bucket(stack)
    first = invoke(stack, scheduled_event(stack))
    forced = invoke(stack, {"date": DAY, "force": True})
    return Deployed(stack, [first, forced, invoke(stack, export_dropped(stack))], ROUTING)


@pytest.fixture(scope="module")
def minimal(world: World) -> Deployed:
    """Only the required parameters (the account as Fireworks writes it), and the simulator."""
    stack = deploy(
        "fwcost-minimal",
        {
            "FireworksAccountId": f"accounts/{ACCOUNT}",
            "FireworksApiKeySecretArn": world.api_key_secret,
            "EmailFromAddress": SENDER,
            "FireworksBaseUrl": world.simulator_url,
        },
        REGION,
    )
    protect_archive_bucket(stack)
    return Deployed(stack, [invoke(stack, scheduled_event(stack))], None)


def protect_archive_bucket(stack: Stack) -> None:
    apply_bucket_protection(
        stack.outputs["ArchiveBucketName"],
        stack.template["Resources"]["ArchiveBucket"],
        stack.parameters,
    )


def scheduled_event(stack: Stack) -> dict[str, Any]:
    """The daily schedule's Input as EventBridge Scheduler sends it, its placeholders filled in
    (the weekly and monthly schedules' Input names its report)."""
    [schedule] = [
        r
        for r in stack.template["Resources"].values()
        if r["Type"] == "AWS::Scheduler::Schedule"
        and r["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": ["DailyReportFunction", "Arn"]}
        and '"report"' not in r["Properties"]["Target"]["Input"]
    ]
    text = schedule["Properties"]["Target"]["Input"]
    for placeholder, value in {
        "<aws.scheduler.scheduled-time>": SCHEDULED_TIME,
        "<aws.scheduler.schedule-arn>": f"arn:aws:scheduler:{REGION}:123456789012:schedule/default/fwcost-daily",
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": "1",
    }.items():
        text = text.replace(placeholder, value)
    return dict(json.loads(text))


EXPORT_KEY = "imports/billing-2026-10.csv"


def export_dropped(stack: Stack) -> dict[str, Any]:
    """A firectl export put under imports/, and S3's Object Created event as EventBridge
    delivers it (the sample in events/, for the stack's bucket and that object)."""
    from fwcost.simulator.exports import export_lines

    bucket = stack.outputs["ArchiveBucketName"]
    body = "".join(export_lines(date(2026, 10, 1), date(2026, 10, 2), 50)).encode()
    boto3.client("s3").put_object(
        Bucket=bucket, Key=EXPORT_KEY, Body=body, ChecksumAlgorithm="SHA256"
    )
    event = json.loads((Path(__file__).parents[2] / "events" / "export-dropped.json").read_text())
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"] |= {"key": EXPORT_KEY, "size": len(body)}
    return dict(event)


def invoke(stack: Stack, event: dict[str, Any]) -> Run:
    """The handler, in-process, with exactly the stack's environment for the function."""
    from aws_lambda_powertools.utilities import parameters

    from app import lambda_handler

    context = LambdaContext(
        stack.function_name,
        invoked_function_arn=stack.outputs["DailyReportFunctionArn"],
        aws_request_id=str(uuid.uuid4()),
    )
    with pytest.MonkeyPatch.context() as patch, recorded_calls() as calls:
        for name in [n for n in os.environ if n.startswith(("FWCOST_", "POWERTOOLS_"))]:
            patch.delenv(name)
        for name, value in stack.environment.items():
            patch.setenv(name, value)
        parameters.clear_caches()  # a new function starts cold
        result = lambda_handler(event, context)
    return Run(dict(result), list(calls))


# --- the stack -------------------------------------------------------------------------------


def test_moto_creates_every_resource_but_the_listed_types(full: Deployed) -> None:
    # Every condition holds in the full stack, so every resource of the template is expected.
    assert set(full.stack.not_created().values()) == NOT_CREATED_BY_MOTO
    assert full.stack.skipped_by_moto == NOT_CREATED_BY_MOTO  # what moto itself warned about
    created_types = {
        full.stack.template["Resources"][logical_id]["Type"] for logical_id in full.stack.created
    }
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::IAM::Role",
        "AWS::S3::Bucket",
        "AWS::SSM::Parameter",
        "AWS::SQS::Queue",
        "AWS::SNS::Topic",
        "AWS::Logs::LogGroup",
        "AWS::Events::Rule",  # ImportDrop: exports dropped under imports/
        "AWS::Lambda::Permission",  # ... may invoke the function
        "AWS::StepFunctions::StateMachine",
    } == created_types


def test_parameters_pass_cloudformation_s_constraints_but_the_loopback_simulator_url(
    full: Deployed, minimal: Deployed
) -> None:
    template = load_template()

    # The simulator speaks plain HTTP on loopback; the template accepts https only, rightly.
    for deployed in (full, minimal):
        assert set(constraint_violations(template, deployed.stack.given)) == {"FireworksBaseUrl"}


def test_function_environment_is_exactly_the_settings_the_code_reads(full: Deployed) -> None:
    from fwcost.config import SETTINGS_BY_NAME

    names = set(full.stack.environment)
    assert {n for n in names if not n.startswith("FWCOST_")} == {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }
    assert NOT_SET_BY_THE_TEMPLATE.keys() <= SETTINGS_BY_NAME.keys()
    assert {n for n in names if n.startswith("FWCOST_")} == (
        SETTINGS_BY_NAME.keys() - NOT_SET_BY_THE_TEMPLATE.keys()
    )


def test_without_a_slack_secret_the_function_has_neither_its_setting_nor_its_grant(
    full: Deployed, minimal: Deployed
) -> None:
    assert full.stack.environment["FWCOST_SLACK_SECRET"] == full.stack.parameters["SlackSecretArn"]
    assert "FWCOST_SLACK_SECRET" not in minimal.stack.environment
    minimal_resources = {
        r
        for s in role_statements(minimal.stack.created["DailyReportFunctionRole"])
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert full.stack.parameters["SlackSecretArn"] not in minimal_resources
    assert not any("kms" in str(r) for r in minimal_resources)


# --- the runs --------------------------------------------------------------------------------


def archive_keys(stack: Stack) -> list[str]:
    pages = (
        boto3.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=stack.outputs["ArchiveBucketName"])
    )
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_the_scheduled_run_archives_into_the_stack_s_bucket_under_its_prefix(
    full: Deployed,
) -> None:
    first = full.runs[0].result
    prefix = full.stack.parameters["ArchivePrefix"]
    keys = archive_keys(full.stack)

    assert (first["kind"], first["start"]) == ("report", DAY)
    # (but the export a person dropped under imports/ for the import run)
    assert keys and all(key.startswith(f"{prefix}/") for key in keys if key != EXPORT_KEY)
    day = f"{prefix}/account={ACCOUNT}/dt={DAY}"
    assert {f"{day}/manifest.json", f"{day}/csv/usage.csv", f"{day}/attribution.json"} <= set(keys)
    assert any(key.startswith(f"{day}/raw/") for key in keys)
    assert first["archive"] == f"s3://{full.stack.outputs['ArchiveBucketName']}/{day}"


def test_the_run_delivers_by_the_stack_s_routing_and_records_each_in_the_ledger(
    full: Deployed, world: World
) -> None:
    from fwcost.dates import parse_date
    from fwcost.delivery import LedgerKey, S3Ledger, load_routing

    first, forced, _ = (run.result for run in full.runs)
    routing = load_routing(json.dumps(full.routing), "rehearsal")
    bucket = full.stack.outputs["ArchiveBucketName"]
    ledger = S3Ledger(boto3.client("s3"), bucket, full.stack.parameters["ArchivePrefix"])
    expected = {
        ledger.object_key(LedgerKey(ACCOUNT, parse_date(DAY, "day"), team, d.destination_id))
        for team in (None, "search")
        for d in routing.routes_for(team)
    }

    # overall → its webhook and one email; search → its webhook; the forced run sends again
    assert (first["delivered"], forced["delivered"]) == (3, 3)
    assert {k for k in archive_keys(full.stack) if "/ledger/" in k} == expected
    records = [
        json.loads(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        for key in expected
    ]
    assert {(r["account_id"], r["day"]) for r in records} == {(ACCOUNT, DAY)}
    webhook_posts = world.fake_slack.delivered("/services/")
    assert sorted(p.path.split("/")[3] for p in webhook_posts) == ["B0", "B0", "B1", "B1"]
    emails = sent_raw_messages()
    assert [(SENDER in m.source, set(m.destinations)) for m in emails] == [
        (True, {"finops@acme.ai"})
    ] * 2


def test_an_export_dropped_under_imports_is_imported_into_the_archive_by_the_function(
    full: Deployed,
) -> None:
    [imported] = full.runs[2].result["imports"]
    prefix = f"{full.stack.parameters['ArchivePrefix']}/account={ACCOUNT}"
    keys = set(archive_keys(full.stack))

    assert imported["name"] == f"s3://{full.stack.outputs['ArchiveBucketName']}/{EXPORT_KEY}"
    assert f"{prefix}/imports/sha256={imported['sha256']}/export.csv" in keys
    assert f"{prefix}/imports/sha256={imported['sha256']}/manifest.json" in keys
    assert {day["source"] for day in imported["days"].values()} == {"export"}
    assert f"{prefix}/dt=2026-10-01/manifest.json" in keys


def test_with_only_the_required_parameters_a_run_archives_and_delivers_nowhere(
    minimal: Deployed, world: World
) -> None:
    [run] = minimal.runs
    routing = boto3.client("ssm").get_parameter(Name=minimal.stack.outputs["RoutingParameterName"])

    # The placeholder routing is valid routing with no destination, and "accounts/" is stripped
    assert json.loads(routing["Parameter"]["Value"])["routes"] == {"overall": {}}
    assert (run.result["delivered"], run.result["delivery_failures"]) == (0, 0)
    day = f"fireworks/account={ACCOUNT}/dt={run.result['start']}"
    assert f"{day}/manifest.json" in archive_keys(minimal.stack)
    assert not any("/ledger/" in key for key in archive_keys(minimal.stack))


@pytest.mark.parametrize("which", ["full", "minimal"])
def test_every_aws_call_of_the_runs_is_allowed_by_the_stack_s_function_role(
    which: str, request: pytest.FixtureRequest
) -> None:
    deployed: Deployed = request.getfixturevalue(which)
    statements = role_statements(deployed.stack.created["DailyReportFunctionRole"])
    calls = [call for run in deployed.runs for call in run.calls]
    requests = [r for call in calls for r in requests_for(call, REGION, "123456789012")]

    assert [r for r in requests if not is_allowed(statements, r)] == []
    # ... and the runs made every kind of call the product makes (email: when routed)
    operations = {(c.service, c.operation) for c in calls}
    assert {("s3", "GetObject"), ("s3", "PutObject"), ("s3", "ListObjectsV2")} <= operations
    assert ("secretsmanager", "GetSecretValue") in operations
    assert ("ssm", "GetParameter") in operations
    if which == "full":
        assert ("sesv2", "SendEmail") in operations


def test_the_role_refuses_what_the_function_must_not_do(full: Deployed) -> None:
    statements = role_statements(full.stack.created["DailyReportFunctionRole"])
    bucket = full.stack.outputs["ArchiveBucketName"]
    identity = f"arn:aws:ses:{REGION}:123456789012:identity"
    via_secrets_manager = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}

    assert is_allowed(
        statements,
        Request("kms:Decrypt", full.stack.parameters["SecretsKmsKeyArn"], via_secrets_manager),
    )
    for refused in (
        Request("kms:Decrypt", full.stack.parameters["SecretsKmsKeyArn"]),  # not via Secrets Mgr
        Request("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": "other/"}),
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/other/key.json"),
        Request("s3:DeleteObject", f"arn:aws:s3:::{bucket}/finops/fireworks/x.json"),
        Request(
            "ses:SendEmail", f"{identity}/ceo@acme.ai", {"ses:FromAddress": "ceo@other.example"}
        ),
        Request(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbCdEf",
        ),
    ):
        assert not is_allowed(statements, refused), refused


def test_object_lock_keeps_every_version_the_forced_run_replaced(full: Deployed) -> None:
    s3 = boto3.client("s3")
    bucket = full.stack.outputs["ArchiveBucketName"]
    manifest = f"{full.stack.parameters['ArchivePrefix']}/account={ACCOUNT}/dt={DAY}/manifest.json"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=manifest)["Versions"]
    # S3 lists a key's versions newest first; their LastModified has whole seconds, which two
    # quick runs can share, so it cannot tell which came first
    oldest = versions[-1]
    retention_days = int(full.stack.parameters["ObjectLockRetentionDays"])

    # The forced run wrote the day's manifest again: a new version, the first one kept, locked
    assert len(versions) >= 2
    assert not oldest["IsLatest"]
    head = s3.head_object(Bucket=bucket, Key=manifest, VersionId=oldest["VersionId"])
    assert head["ObjectLockMode"] == "GOVERNANCE"
    locked_for = head["ObjectLockRetainUntilDate"] - datetime.now(UTC)
    assert timedelta(days=retention_days - 1) < locked_for <= timedelta(days=retention_days)
    with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key=manifest, VersionId=oldest["VersionId"])
