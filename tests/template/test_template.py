"""Security and wiring properties of template.yaml, read as data (no AWS, no sam build).

cfn-lint's decoder reads the YAML short forms (!Ref, !Sub, !GetAtt) into their long JSON forms
({"Ref": ...}, {"Fn::Sub": ...}), so the assertions below match what CloudFormation receives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from cfnlint.config import ManualArgs
from cfnlint.decode import decode_str

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

Template = dict[str, Any]

# What a secret looks like when it leaks into a literal: Slack webhooks and tokens, bearer keys,
# AWS access keys, or a long run of key-like characters.
SECRET_LOOKING = re.compile(
    r"hooks\.slack\.com|xox[abposr]-|^sk-|^fw_|AKIA[0-9A-Z]{16}|[A-Za-z0-9+/_=-]{32,}",
)
SECRET_ARN_PATTERN_PREFIX = "^arn:aws[a-z-]*:secretsmanager:"


@pytest.fixture(scope="module")
def template() -> Template:
    parsed, errors = decode_str(TEMPLATE_PATH.read_text())
    assert not errors, errors
    return json.loads(json.dumps(parsed))  # plain dicts, no cfn-lint node types


def resources_of_type(template: Template, resource_type: str) -> dict[str, Template]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def the_function(template: Template) -> Template:
    return template["Resources"]["DailyReportFunction"]["Properties"]


def environment(template: Template) -> dict[str, Any]:
    return template["Globals"]["Function"]["Environment"]["Variables"]


def inline_statements(template: Template) -> Iterator[Template]:
    """Every statement of every inline policy: SAM function policies and IAM resources."""
    for resource in resources_of_type(template, "AWS::Serverless::Function").values():
        for policy in resource["Properties"].get("Policies", []):
            if isinstance(policy, dict) and "Statement" in policy:
                yield from policy["Statement"]
    for resource in resources_of_type(template, "AWS::IAM::Policy").values():
        yield from resource["Properties"]["PolicyDocument"]["Statement"]
    for resource in resources_of_type(template, "AWS::IAM::Role").values():
        for policy in resource["Properties"].get("Policies", []):
            yield from policy["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_reports_no_errors_or_warnings() -> None:
    matches = lint(TEMPLATE_PATH.read_text(), config=ManualArgs(regions=["us-east-1"]))

    assert [str(match) for match in matches] == []


def test_no_wildcard_resource_except_namespaced_put_metric_data(template: Template) -> None:
    namespace = environment(template)["POWERTOOLS_METRICS_NAMESPACE"]
    statements = list(inline_statements(template))
    assert statements, "expected inline policy statements on the function"

    for statement in statements:
        if "*" not in as_list(statement["Resource"]):
            continue
        assert as_list(statement["Action"]) == ["cloudwatch:PutMetricData"], statement
        assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": namespace}}


def test_each_secret_is_readable_by_its_own_arn_only(template: Template) -> None:
    secret_policies = [
        policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
        for policy in the_function(template)["Policies"]
        if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy
    ]

    assert sorted(secret_policies, key=str) == [
        {"Ref": "FireworksApiKeySecretArn"},
        {"Ref": "SlackSecretArn"},
    ]


def test_bucket_policy_denies_requests_without_tls(template: Template) -> None:
    (policy,) = resources_of_type(template, "AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": "ArchiveBucket"}

    denials = [
        statement
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]

    assert len(denials) == 1
    assert denials[0]["Action"] == "s3:*"
    assert denials[0]["Principal"] == "*"
    assert {"Fn::GetAtt": ["ArchiveBucket", "Arn"]} in denials[0]["Resource"]
    assert {"Fn::Sub": "${ArchiveBucket.Arn}/*"} in denials[0]["Resource"]


def test_archive_bucket_is_private_encrypted_versioned_and_owner_enforced(
    template: Template,
) -> None:
    bucket = template["Resources"]["ArchiveBucket"]
    properties = bucket["Properties"]

    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    lifecycle_rules = properties["LifecycleConfiguration"]["Rules"]
    assert any("NoncurrentVersionExpiration" in rule for rule in lifecycle_rules)
    assert bucket["DeletionPolicy"] == "Retain"


def test_secret_parameters_are_secret_arns_not_secrets(template: Template) -> None:
    parameters = template["Parameters"]

    for name in ("FireworksApiKeySecretArn", "SlackSecretArn"):
        assert parameters[name]["AllowedPattern"].startswith(SECRET_ARN_PATTERN_PREFIX)
        assert "Default" not in parameters[name]
    for name, parameter in parameters.items():
        default = str(parameter.get("Default", ""))
        assert not SECRET_LOOKING.search(default), f"{name} default looks like a secret"
        if re.search(r"key|token|secret|webhook|password", name, re.IGNORECASE):
            assert name.endswith("Arn"), f"{name} should carry a secret's ARN, not the secret"


def test_environment_holds_no_secret_values(template: Template) -> None:
    env = environment(template)

    for name, value in env.items():
        if isinstance(value, str):
            assert not SECRET_LOOKING.search(value), f"{name} looks like a secret"
    assert env["FWCOST_API_KEY_SECRET"] == {"Ref": "FireworksApiKeySecretArn"}
    assert env["FWCOST_SLACK_SECRET"] == {"Ref": "SlackSecretArn"}


def test_environment_carries_every_setting_the_code_reads(template: Template) -> None:
    env = environment(template)

    assert {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        "FWCOST_ACCOUNT_ID",
        "FWCOST_TIMEZONE",
        "FWCOST_API_KEY_SECRET",
        "FWCOST_SLACK_SECRET",
        "FWCOST_ARCHIVE_BUCKET",
        "FWCOST_ARCHIVE_PREFIX",
        "FWCOST_FIREWORKS_BASE_URL",
        "FWCOST_ROUTING_PARAMETER",
    } <= env.keys()
    # Templates ship inside the layer's fwcost package, so no path setting is needed.
    assert "FWCOST_TEMPLATES_DIR" not in env


def test_function_runs_on_arm64_python_313_with_tracing(template: Template) -> None:
    function_globals = template["Globals"]["Function"]

    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    assert function_globals["LoggingConfig"]["LogFormat"] == "JSON"
    assert function_globals["Layers"] == [{"Ref": "FwcostLayer"}]
    assert the_function(template)["Handler"] == "app.lambda_handler"
    assert the_function(template)["CodeUri"] == "functions/daily_report/"


def test_reserved_concurrency_is_one(template: Template) -> None:
    assert the_function(template)["ReservedConcurrentExecutions"] == 1


def test_schedule_retries_then_dead_letters_and_runs_in_report_timezone(
    template: Template,
) -> None:
    (event,) = the_function(template)["Events"].values()
    assert event["Type"] == "ScheduleV2"
    schedule = event["Properties"]

    assert schedule["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert schedule["ScheduleExpressionTimezone"] == {"Ref": "ReportTimezone"}
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert 60 <= schedule["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
    dlq = schedule["DeadLetterConfig"]["Arn"]["Fn::GetAtt"]
    assert template["Resources"][dlq[0]]["Type"] == "AWS::SQS::Queue"


def test_schedule_input_matches_the_sample_event(template: Template) -> None:
    (event,) = the_function(template)["Events"].values()
    schedule_input = json.loads(event["Properties"]["Input"])
    sample = json.loads((REPO_ROOT / "events" / "scheduled.json").read_text())

    assert schedule_input.keys() == sample.keys()
    assert schedule_input["scheduled_time"] == "<aws.scheduler.scheduled-time>"


def test_async_failures_go_to_the_failure_queue(template: Template) -> None:
    invoke_config = the_function(template)["EventInvokeConfig"]

    assert invoke_config["MaximumRetryAttempts"] == 2
    on_failure = invoke_config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}


def test_queues_are_encrypted(template: Template) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")

    assert set(queues) == {"ScheduleDlq", "FailureQueue"}
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def alarms_on(template: Template, namespace: str, metric: str) -> list[Template]:
    return [
        alarm["Properties"]
        for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"]["Namespace"] == namespace
        and alarm["Properties"]["MetricName"] == metric
    ]


def test_every_alarm_notifies_the_alarm_topic(template: Template) -> None:
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")

    assert alarms
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_function_errors_alarm(template: Template) -> None:
    (alarm,) = alarms_on(template, "AWS/Lambda", "Errors")

    assert alarm["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": "DailyReportFunction"}}
    ]


def test_both_failure_queues_have_a_depth_alarm(template: Template) -> None:
    alarms = alarms_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")

    watched = {alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for alarm in alarms}
    assert watched == {"ScheduleDlq", "FailureQueue"}


def test_missing_daily_report_is_an_alarm(template: Template) -> None:
    env = environment(template)
    (alarm,) = alarms_on(template, env["POWERTOOLS_METRICS_NAMESPACE"], "ReportsDelivered")

    assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 86400
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 1
    assert alarm["TreatMissingData"] == "breaching"


def test_alarm_email_subscription_is_optional(template: Template) -> None:
    (subscription,) = resources_of_type(template, "AWS::SNS::Subscription").values()

    assert subscription["Condition"] == "HasAlarmEmail"
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""


def test_function_logs_to_a_log_group_with_retention(template: Template) -> None:
    assert the_function(template)["LoggingConfig"]["LogGroup"] == {"Ref": "DailyReportLogGroup"}
    log_group = template["Resources"]["DailyReportLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def test_routing_config_lives_in_its_own_parameter(template: Template) -> None:
    parameter = template["Resources"]["RoutingParameter"]["Properties"]

    assert parameter["Value"] == {"Ref": "RoutingConfig"}
    assert environment(template)["FWCOST_ROUTING_PARAMETER"] == {"Ref": "RoutingParameter"}


def test_outputs_have_their_stable_names(template: Template) -> None:
    assert set(template["Outputs"]) >= {
        "DailyReportFunctionName",
        "DailyReportFunctionArn",
        "ArchiveBucketName",
        "AlarmTopicArn",
        "FailureQueueUrl",
        "ScheduleDlqUrl",
        "RoutingParameterName",
        "AthenaTable",
    }


def test_layer_is_built_by_its_makefile_for_arm64(template: Template) -> None:
    layer = template["Resources"]["FwcostLayer"]

    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"] == "layers/fwcost/"
    makefile = (REPO_ROOT / "layers" / "fwcost" / "Makefile").read_text()
    assert "build-FwcostLayer:" in makefile


def test_layer_requirements_are_pinned_and_leave_out_the_runtime_sdk() -> None:
    lines = (REPO_ROOT / "layers" / "fwcost" / "requirements.txt").read_text().splitlines()
    requirements = [line for line in lines if line.strip() and not line.startswith("#")]
    names = {line.split("==")[0].lower().replace("_", "-") for line in requirements}

    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.]*", line) for line in requirements)
    assert {"httpx", "jinja2", "aws-lambda-powertools", "aws-xray-sdk", "slack-sdk"} <= names
    assert not names & {"boto3", "botocore", "s3transfer"}


def test_sam_expansion_grants_no_wildcard_resources(
    template: Template, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the template as the SAM transform expands it (policy templates, the scheduler's role,
    # the OnFailure destination's policy); local paths stand in as S3 URIs, as after sam package
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    packaged = json.loads(json.dumps(template))
    packaged["Resources"]["DailyReportFunction"]["Properties"]["CodeUri"] = "s3://b/function.zip"
    packaged["Resources"]["FwcostLayer"]["Properties"]["ContentUri"] = "s3://b/layer.zip"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    # When it is translated
    expanded = transform(packaged, {}, NoManagedPolicies())

    # Then every role statement names its resources, but PutMetricData with its condition
    statements = list(inline_statements(expanded))
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    assert {"sqs:SendMessage", "lambda:InvokeFunction"} <= actions
    for statement in statements:
        if "*" in as_list(statement["Resource"]):
            assert as_list(statement["Action"]) == ["cloudwatch:PutMetricData"], statement
            assert "cloudwatch:namespace" in statement["Condition"]["StringEquals"]


def test_every_key_the_code_writes_is_covered_by_the_function_s3_grant(template: Template) -> None:
    from datetime import date
    from fnmatch import fnmatch
    from unittest.mock import Mock

    from fwcost.archive import DayArchive, S3Store
    from fwcost.delivery import LedgerKey, S3Ledger

    # Given the keys the archive and the ledger write, with the template's default prefix
    prefix = template["Parameters"]["ArchivePrefix"]["Default"]
    day = date(2026, 11, 21)
    archive_key = (
        DayArchive(S3Store(Mock(), "b"), prefix, "acme-ai").day_prefix(day) + "/manifest.json"
    )
    ledger_key = S3Ledger(Mock(), "b", prefix).object_key(
        LedgerKey("acme-ai", day, "search", "email-1")
    )

    # When the function role's S3 object grant is resolved for that prefix
    statements = [
        statement
        for policy in template["Resources"]["DailyReportFunction"]["Properties"]["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
        if statement.get("Sid") == "ArchiveAndLedgerObjects"
    ]
    [grant] = statements
    patterns = [
        resource["Fn::Sub"]
        .replace("arn:${AWS::Partition}:s3:::${ArchiveBucket}/", "")
        .replace("${ArchivePrefix}", prefix)
        for resource in grant["Resource"]
    ]

    # Then both kinds of key are covered, by a pattern no wider than the prefix
    for key in (archive_key, ledger_key):
        assert any(fnmatch(key, pattern) for pattern in patterns), (key, patterns)
    assert patterns == [f"{prefix}/*"]
