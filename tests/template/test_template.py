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


def when_given(policy: Any) -> Any:
    """A policy, or for a conditional one (Fn::If [condition, policy, AWS::NoValue]) its policy."""
    return policy["Fn::If"][1] if isinstance(policy, dict) and "Fn::If" in policy else policy


def function_policies(template: Template) -> list[Any]:
    return [when_given(policy) for policy in the_function(template)["Policies"]]


def inline_statements(template: Template) -> Iterator[Template]:
    """Every statement of every inline policy: SAM function policies and IAM resources."""
    for resource in resources_of_type(template, "AWS::Serverless::Function").values():
        for policy in map(when_given, resource["Properties"].get("Policies", [])):
            if isinstance(policy, dict) and "Statement" in policy:
                yield from policy["Statement"]
    for resource in resources_of_type(template, "AWS::IAM::Policy").values():
        yield from resource["Properties"]["PolicyDocument"]["Statement"]
    for resource in resources_of_type(template, "AWS::IAM::Role").values():
        for policy in map(when_given, resource["Properties"].get("Policies", [])):
            yield from policy["PolicyDocument"]["Statement"]


def statement(template: Template, sid: str) -> Template:
    [found] = [s for s in inline_statements(template) if s.get("Sid") == sid]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_reports_no_errors_or_warnings() -> None:
    matches = lint(TEMPLATE_PATH.read_text(), config=ManualArgs(regions=["us-east-1"]))

    assert [str(match) for match in matches] == []


def wildcard_is_allowed(statement: Template) -> bool:
    """ "*" only where IAM takes nothing else: PutMetricData limited to our namespace, and SES's
    read-only GetAccount (no resource type), which `fwcost check` reads the sandbox from."""
    actions = as_list(statement["Action"])
    if actions == ["ses:GetAccount"]:
        return True
    return actions == ["cloudwatch:PutMetricData"] and "cloudwatch:namespace" in statement.get(
        "Condition", {}
    ).get("StringEquals", {})


def test_no_wildcard_resource_except_namespaced_put_metric_data(template: Template) -> None:
    namespace = environment(template)["POWERTOOLS_METRICS_NAMESPACE"]
    statements = list(inline_statements(template))
    assert statements, "expected inline policy statements on the function"

    for statement in statements:
        if "*" not in as_list(statement["Resource"]):
            continue
        assert wildcard_is_allowed(statement), statement
        if "Condition" in statement:
            assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": namespace}}


def test_each_secret_is_readable_by_its_own_arn_only(template: Template) -> None:
    secret_policies = [
        policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
        for policy in function_policies(template)
        if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy
    ]

    assert sorted(secret_policies, key=str) == [
        {"Ref": "FireworksApiKeySecretArn"},
        {"Ref": "SlackSecretArn"},
    ]


def test_slack_is_optional_its_grant_and_setting_exist_only_with_a_secret(
    template: Template,
) -> None:
    # Given an email-only setup, SlackSecretArn may stay empty
    parameter = template["Parameters"]["SlackSecretArn"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "")
    assert template["Conditions"]["HasSlackSecret"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SlackSecretArn"}, ""]}]
    }

    # Then the secret's grant and the function's setting both depend on it
    [slack_grant] = [
        policy
        for policy in the_function(template)["Policies"]
        if "Fn::If" in policy and "AWSSecretsManagerGetSecretValuePolicy" in policy["Fn::If"][1]
    ]
    assert slack_grant["Fn::If"][0] == "HasSlackSecret"
    assert slack_grant["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert environment(template)["FWCOST_SLACK_SECRET"] == {
        "Fn::If": ["HasSlackSecret", {"Ref": "SlackSecretArn"}, {"Ref": "AWS::NoValue"}]
    }


def test_a_customer_managed_key_is_decryptable_only_when_given_and_via_secrets_manager(
    template: Template,
) -> None:
    parameter = template["Parameters"]["SecretsKmsKeyArn"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "")
    assert re.fullmatch(
        parameter["AllowedPattern"],
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    [kms_grant] = [
        policy["Fn::If"]
        for policy in the_function(template)["Policies"]
        if "Fn::If" in policy and policy["Fn::If"][0] == "HasSecretsKmsKey"
    ]
    assert "Statement" in kms_grant[1]
    assert (kms_grant[0], kms_grant[2]) == ("HasSecretsKmsKey", {"Ref": "AWS::NoValue"})
    decrypt = statement(template, "DecryptSecrets")
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Resource"] == {"Ref": "SecretsKmsKeyArn"}
    assert decrypt["Condition"] == {
        "StringEquals": {
            "kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"}
        }
    }


@pytest.mark.parametrize("bucket", ["ArchiveBucket", "AccessLogBucket", "QueryResultsBucket"])
def test_bucket_policy_denies_requests_without_tls(template: Template, bucket: str) -> None:
    [policy] = [
        p
        for p in resources_of_type(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
    ]

    denials = [
        statement
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]

    assert len(denials) == 1
    assert denials[0]["Action"] == "s3:*"
    assert denials[0]["Principal"] == "*"
    assert {"Fn::GetAtt": [bucket, "Arn"]} in denials[0]["Resource"]
    assert {"Fn::Sub": f"${{{bucket}.Arn}}/*"} in denials[0]["Resource"]


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
    assert bucket["DeletionPolicy"] == "Retain"


def test_archive_history_is_locked_in_governance_mode_and_kept_long(template: Template) -> None:
    properties = template["Resources"]["ArchiveBucket"]["Properties"]
    parameters = template["Parameters"]

    # Every version is locked: an overwrite makes a new version and cannot remove the old one
    assert properties["ObjectLockEnabled"] is True
    assert properties["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {
            "DefaultRetention": {"Mode": "GOVERNANCE", "Days": {"Ref": "ObjectLockRetentionDays"}}
        },
    }
    # Old versions outlive their lock: lifecycle never expires them before it ends
    [rule] = [
        r
        for r in properties["LifecycleConfiguration"]["Rules"]
        if "NoncurrentVersionExpiration" in r
    ]
    assert rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "NoncurrentVersionRetentionDays"}
    }
    kept = parameters["NoncurrentVersionRetentionDays"]["Default"]
    locked = parameters["ObjectLockRetentionDays"]["Default"]
    assert kept >= locked >= 365
    assert kept >= 7 * 365


def test_archive_bucket_access_is_logged_to_a_hardened_log_bucket(template: Template) -> None:
    logging_config = template["Resources"]["ArchiveBucket"]["Properties"]["LoggingConfiguration"]
    log_bucket = template["Resources"]["AccessLogBucket"]
    log_properties = log_bucket["Properties"]

    assert logging_config["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
    assert template["Resources"]["ArchiveBucket"]["DependsOn"] == "AccessLogBucketPolicy"
    assert "LoggingConfiguration" not in log_properties  # it would log its own log writes
    assert "ObjectLockEnabled" not in log_properties  # S3 refuses a locked log destination
    assert log_properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = log_properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # all logs accept
    assert log_properties["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    [expiry] = log_properties["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == {"Ref": "AccessLogRetentionInDays"}
    assert log_bucket["DeletionPolicy"] == "Retain"

    # The log service may write under the log prefix only, for this account's buckets only
    policy = template["Resources"]["AccessLogBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "AccessLogBucket"}
    [delivery] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    prefix = logging_config["LogFilePrefix"]
    assert delivery["Resource"] == {"Fn::Sub": f"${{AccessLogBucket.Arn}}/{prefix}*"}
    assert delivery["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


def test_secret_parameters_are_secret_arns_not_secrets(template: Template) -> None:
    parameters = template["Parameters"]
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fwcost/slack-AbC123"

    assert parameters["FireworksApiKeySecretArn"]["AllowedPattern"].startswith(
        SECRET_ARN_PATTERN_PREFIX
    )
    assert "Default" not in parameters["FireworksApiKeySecretArn"]
    for name in ("FireworksApiKeySecretArn", "SlackSecretArn"):
        assert re.fullmatch(parameters[name]["AllowedPattern"], arn)
        assert not re.fullmatch(parameters[name]["AllowedPattern"], "xoxb-1111-2222-token")
    for name, parameter in parameters.items():
        default = str(parameter.get("Default", ""))
        assert not SECRET_LOOKING.search(default), f"{name} default looks like a secret"
        if re.search(r"key|token|secret|webhook|password", name, re.IGNORECASE):
            assert name.endswith(("Arn", "Arns")), f"{name} should carry secrets' ARNs, not secrets"


def test_environment_holds_no_secret_values(template: Template) -> None:
    env = environment(template)

    for name, value in env.items():
        if isinstance(value, str):
            assert not SECRET_LOOKING.search(value), f"{name} looks like a secret"
    assert env["FWCOST_API_KEY_SECRET"] == {"Ref": "FireworksApiKeySecretArn"}
    assert env["FWCOST_SLACK_SECRET"]["Fn::If"][1] == {"Ref": "SlackSecretArn"}


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


def test_account_id_parameter_accepts_what_the_code_accepts(template: Template) -> None:
    from fwcost.config import ConfigError, load_settings

    pattern = template["Parameters"]["FireworksAccountId"]["AllowedPattern"]
    base = {"FWCOST_API_KEY": "fw_x", "FWCOST_ARCHIVE_DIR": "/tmp/fwcost"}

    for accepted in ("my-account", "accounts/my-account", "a", "acme-ai-2"):
        assert re.fullmatch(pattern, accepted), accepted
        assert load_settings({**base, "FWCOST_ACCOUNT_ID": accepted}).account_id == (
            accepted.removeprefix("accounts/")
        )
    for refused in ("My-Account", "accounts/", "account/x", "-x", "x_y", "accounts/accounts/x"):
        assert not re.fullmatch(pattern, refused), refused
        with pytest.raises(ConfigError):
            load_settings({**base, "FWCOST_ACCOUNT_ID": refused})


def test_list_bucket_is_limited_to_the_archive_prefix(template: Template) -> None:
    listing = statement(template, "ArchiveListing")

    assert listing["Action"] == "s3:ListBucket"
    assert listing["Resource"] == {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}
    # IfExists: S3's own ListBucket check for a GetObject of a missing key has no s3:prefix
    assert listing["Condition"] == {
        "StringLikeIfExists": {"s3:prefix": {"Fn::Sub": "${ArchivePrefix}/*"}}
    }


def test_email_may_be_sent_as_the_sender_or_its_domain_to_sandbox_recipients(
    template: Template,
) -> None:
    send = statement(template, "SendReportEmail")

    assert sorted(send["Action"]) == ["ses:SendEmail", "ses:SendRawEmail"]
    # Every identity of the account: in the SES sandbox recipients are authorized too
    assert send["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"
    }
    # ... and who the function may send as is what the condition limits
    assert send["Condition"] == {
        "StringLike": {
            "ses:FromAddress": [
                {"Ref": "EmailFromAddress"},
                {
                    "Fn::Sub": [
                        "*@${Domain}",
                        {
                            "Domain": {
                                "Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "EmailFromAddress"}]}]
                            }
                        },
                    ]
                },
            ]
        }
    }


def test_timeout_holds_a_daily_run_whose_fetches_use_their_whole_retry_budget(
    template: Template,
) -> None:
    from fwcost.fireworks.client import DEFAULT_TIMEOUT, RetryPolicy

    # One request: its retry budget, then one last attempt that may wait a full read timeout
    assert DEFAULT_TIMEOUT.read is not None
    worst_request = RetryPolicy().max_total_seconds + DEFAULT_TIMEOUT.read
    # A daily run: two windows at worst (a first run, a gap), requests of a window concurrent,
    # plus processing and delivery (the template's comment has the sum)
    worst_daily_fetch = 2 * worst_request
    timeout = template["Globals"]["Function"]["Timeout"]

    assert worst_daily_fetch + 100 <= timeout <= 900


def test_function_runs_on_arm64_python_313_with_tracing(template: Template) -> None:
    function_globals = template["Globals"]["Function"]

    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Architectures"] == ["arm64"]
    assert function_globals["Tracing"] == "Active"
    assert function_globals["LoggingConfig"]["LogFormat"] == "JSON"
    assert function_globals["Layers"] == [{"Ref": "FwcostLayer"}]
    assert the_function(template)["Handler"] == "app.lambda_handler"
    assert the_function(template)["CodeUri"] == "functions/daily_report/"


def test_reserved_concurrency_is_one_or_room_for_the_accounts_map(template: Template) -> None:
    # One account: one run at a time. Several: the state machine's Map, plus a manual run.
    definition = json.loads((REPO_ROOT / "statemachine" / "fanout.asl.json").read_text())
    many, one = the_function(template)["ReservedConcurrentExecutions"]["Fn::If"][1:]
    assert one == 1
    assert many == definition["States"]["Accounts"]["MaxConcurrency"] + 1


def test_one_schedule_fires_the_function_for_one_account_the_state_machine_for_several(
    template: Template,
) -> None:
    function_schedule = the_function(template)["Events"]["Daily"]["Properties"]
    machine = template["Resources"]["FanOutStateMachine"]["Properties"]
    machine_schedule = machine["Events"]["Daily"]["Properties"]

    assert template["Conditions"]["HasManyAccounts"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "FireworksAccounts"}, ""]}]
    }
    assert function_schedule["State"] == {"Fn::If": ["HasManyAccounts", "DISABLED", "ENABLED"]}
    assert machine_schedule["State"] == {"Fn::If": ["HasManyAccounts", "ENABLED", "DISABLED"]}
    for same in ("ScheduleExpression", "ScheduleExpressionTimezone", "Input", "RetryPolicy"):
        assert machine_schedule[same] == function_schedule[same], same
    assert machine_schedule["DeadLetterConfig"] == function_schedule["DeadLetterConfig"]
    # The state machine invokes this function only, named in its definition by substitution
    assert machine["Policies"] == [
        {"LambdaInvokePolicy": {"FunctionName": {"Ref": "DailyReportFunction"}}}
    ]
    assert machine["DefinitionSubstitutions"] == {
        "DailyReportFunctionArn": {"Fn::GetAtt": ["DailyReportFunction", "Arn"]}
    }
    assert environment(template)["FWCOST_ACCOUNTS"] == {"Ref": "FireworksAccounts"}


@pytest.mark.parametrize("name", ["Daily", "Weekly", "Monthly"])
def test_schedule_retries_then_dead_letters_and_runs_in_report_timezone(
    template: Template, name: str
) -> None:
    event = the_function(template)["Events"][name]
    assert event["Type"] == "ScheduleV2"
    schedule = event["Properties"]

    assert schedule["ScheduleExpressionTimezone"] == {"Ref": "ReportTimezone"}
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert 60 <= schedule["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
    dlq = schedule["DeadLetterConfig"]["Arn"]["Fn::GetAtt"]
    assert template["Resources"][dlq[0]]["Type"] == "AWS::SQS::Queue"


@pytest.mark.parametrize(
    ("name", "sample"),
    [
        ("Daily", "scheduled.json"),
        ("Weekly", "scheduled-weekly.json"),
        ("Monthly", "scheduled-monthly.json"),
    ],
)
def test_schedule_input_matches_the_sample_event(
    template: Template, name: str, sample: str
) -> None:
    event = the_function(template)["Events"][name]
    schedule_input = json.loads(event["Properties"]["Input"])
    document = json.loads((REPO_ROOT / "events" / sample).read_text())

    assert schedule_input.keys() == document.keys()
    assert schedule_input["scheduled_time"] == "<aws.scheduler.scheduled-time>"
    assert schedule_input.get("report") == document.get("report")


def test_the_daily_schedule_is_its_parameter_the_weekly_monday_the_monthly_its_day(
    template: Template,
) -> None:
    events = the_function(template)["Events"]
    assert events["Daily"]["Properties"]["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    weekly = events["Weekly"]["Properties"]["ScheduleExpression"]
    assert weekly == {"Ref": "WeeklyScheduleExpression"}
    assert template["Parameters"]["WeeklyScheduleExpression"]["Default"].endswith("MON *)")
    monthly = events["Monthly"]["Properties"]["ScheduleExpression"]
    assert monthly == {"Fn::Sub": "cron(45 7 ${StatementDayOfMonth} * ? *)"}
    assert template["Parameters"]["StatementDayOfMonth"]["Default"] == 3


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

    condition, given, _placeholder = parameter["Value"]["Fn::If"]
    assert (condition, given) == ("HasRoutingConfig", {"Ref": "RoutingConfig"})
    assert parameter["Type"] == "String"
    assert environment(template)["FWCOST_ROUTING_PARAMETER"] == {"Ref": "RoutingParameter"}


def test_routing_is_optional_and_its_placeholder_is_routing_that_delivers_nowhere(
    template: Template,
) -> None:
    from fwcost.delivery import load_routing

    # Given RoutingConfig left empty, to be uploaded from a file after the deploy
    routing_config = template["Parameters"]["RoutingConfig"]
    assert routing_config["Default"] == ""
    assert re.fullmatch(routing_config["AllowedPattern"], "")
    assert "put-parameter" in routing_config["Description"]

    # When the code reads the placeholder the parameter then holds
    placeholder = template["Resources"]["RoutingParameter"]["Properties"]["Value"]["Fn::If"][2]
    routing = load_routing(placeholder, "ssm:placeholder")

    # Then it is valid routing with no destination: the run archives and sends nothing
    assert routing.routes_for(None) == []
    assert routing.teams == {}
    assert routing.unknown_teams == "overall"


def test_outputs_have_their_stable_names(template: Template) -> None:
    assert set(template["Outputs"]) >= {
        "AccessLogBucketName",
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
    packaged["Resources"]["FanOutStateMachine"]["Properties"]["DefinitionUri"] = "s3://b/sm.json"

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
            assert wildcard_is_allowed(statement), statement


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


def test_an_export_dropped_under_imports_reaches_the_function_and_nothing_else_does(
    template: Template,
) -> None:
    from fwcost.run_request import DROP_PREFIX

    # S3's Object Created events of the archive bucket, under the drop prefix only
    rule = the_function(template)["Events"]["ImportDrop"]
    assert rule["Type"] == "EventBridgeRule"
    pattern = rule["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "ArchiveBucket"}]
    assert pattern["detail"]["object"]["key"] == [{"prefix": DROP_PREFIX}]
    bucket = template["Resources"]["ArchiveBucket"]["Properties"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"]
    # and the archive, where the function writes, can never be under it
    pattern = re.compile(template["Parameters"]["ArchivePrefix"]["AllowedPattern"])
    assert pattern.match("fireworks") and pattern.match("imports-archive")
    assert not pattern.match("imports") and not pattern.match("imports/fireworks")
