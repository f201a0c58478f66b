"""The fan-out state machine (statemachine/fanout.asl.json), walked and executed step by step.

The stack is template.yaml with three accounts (FireworksAccounts), created in moto as the
deploy rehearsal does; the definition is executed by a small ASL interpreter (asl.py), each
task invoking the Lambda handler in-process with exactly the stack's environment for the
function, against three simulated accounts on loopback, a fake Slack, moto's S3 (archive and
ledger), Secrets Manager and SSM. One account's secret holds a key Fireworks refuses (401).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from asl import TaskError, all_states, execute, fill, reachable
from bench.fanout import backfill_transitions, daily_transitions
from delivery.support import FakeSlack, serve_fake_slack
from deploy.iam import Call, is_allowed, recorded_calls, requests_for, role_statements
from deploy.stack import Stack, apply_bucket_protection, deploy
from moto import mock_aws

from lambda_context import LambdaContext

pytestmark = [
    pytest.mark.slow,
    # The plan task records no metric (it fetches and sends nothing): Powertools warns of that.
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

REGION = "us-east-1"
DEFINITION_PATH = Path(__file__).resolve().parents[2] / "statemachine" / "fanout.asl.json"
SCHEDULED_TIME = "2026-11-22T08:00:00Z"
DAY = "2026-11-21"
ACCOUNTS = ("acme-ai", "acme-labs", "acme-qa")
ROUTING = {
    "version": 1,
    "unknown_teams": "skip",
    "routes": {
        "overall": {"slack": [{"kind": "webhook", "secret_key": "overall_webhook"}]},
        "teams": {"search": {"slack": [{"kind": "webhook", "secret_key": "search_webhook"}]}},
    },
}


def definition() -> dict[str, Any]:
    return dict(json.loads(DEFINITION_PATH.read_text()))


@dataclass
class World:
    stack: Stack
    slack: FakeSlack
    calls: list[Call]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from fwcost.simulator import SimulatorConfig, run_simulator

    labs = SimulatorConfig(account_id="acme-labs", api_key="fw_labs", keys=12, models=6, seed=11)
    qa = SimulatorConfig(account_id="acme-qa", api_key="fw_qa", keys=8, models=4, seed=5)
    with (
        pytest.MonkeyPatch.context() as patch,
        mock_aws(),
        run_simulator(SimulatorConfig(), more=[labs, qa]) as simulator,
        serve_fake_slack() as slack,
    ):
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        secrets = boto3.client("secretsmanager")

        def secret(name: str, value: str) -> str:
            return str(secrets.create_secret(Name=name, SecretString=value)["ARN"])

        webhooks = {
            "overall_webhook": f"{slack.base_url}/services/T0/B0/overallWebhookSecret0123",
            "search_webhook": f"{slack.base_url}/services/T0/B1/searchWebhookSecret4567",
        }
        labs_secret = secret("fwcost/labs", "fw_labs")
        qa_secret = secret("fwcost/qa", "fw_refused_by_fireworks")  # Fireworks answers 401
        boto3.client("sesv2").create_email_identity(EmailIdentity="costs@acme.ai")
        stack = deploy(
            "fwcost-accounts",
            {
                "FireworksAccountId": "acme-ai",
                "FireworksApiKeySecretArn": secret("fwcost/acme-ai", "fw_sim_admin_key"),
                "FireworksAccounts": json.dumps(
                    [
                        {"id": "acme-ai", "name": "Production"},
                        {"id": "acme-labs", "name": "Labs", "api_key_secret": labs_secret},
                        {"id": "acme-qa", "name": "QA", "api_key_secret": qa_secret},
                    ]
                ),
                "FireworksAccountSecretArns": f"{labs_secret},{qa_secret}",
                "SlackSecretArn": secret("fwcost/slack", json.dumps(webhooks)),
                "RoutingConfig": json.dumps(ROUTING),
                "EmailFromAddress": "costs@acme.ai",
                "FireworksBaseUrl": simulator.base_url,
            },
            REGION,
        )
        apply_bucket_protection(
            stack.outputs["ArchiveBucketName"],
            stack.template["Resources"]["ArchiveBucket"],
            stack.parameters,
        )
        yield World(stack, slack, [])


def invoker(world: World) -> Any:
    """lambda:invoke as Step Functions calls it: the handler with the stack's environment, a
    new request id per attempt; an exception becomes the task's Error and Cause as Lambda
    reports them ({"errorMessage", "errorType"})."""
    from aws_lambda_powertools.utilities import parameters

    from app import lambda_handler

    function_arn = world.stack.outputs["DailyReportFunctionArn"]

    def invoke(arn: str, payload: Any) -> Any:
        assert arn == function_arn
        context = LambdaContext(
            world.stack.function_name, invoked_function_arn=arn, aws_request_id=str(uuid.uuid4())
        )
        event = json.loads(json.dumps(payload))  # what crosses the wire is JSON
        with pytest.MonkeyPatch.context() as patch, recorded_calls() as calls:
            for name, value in world.stack.environment.items():
                patch.setenv(name, value)
            parameters.clear_caches()
            try:
                return json.loads(json.dumps(lambda_handler(event, context)))
            except Exception as error:
                kind = type(error).__name__
                cause = json.dumps({"errorMessage": str(error), "errorType": kind})
                raise TaskError(kind, cause) from error
            finally:
                world.calls += calls

    return invoke


def executable_definition(world: World) -> dict[str, Any]:
    """The definition with its DefinitionSubstitutions filled in, as Step Functions would."""
    [machine] = [
        r
        for r in world.stack.template["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    text = DEFINITION_PATH.read_text()
    for name in machine["Properties"]["DefinitionSubstitutions"]:
        assert name == "DailyReportFunctionArn"
        text = text.replace(f"${{{name}}}", world.stack.outputs["DailyReportFunctionArn"])
    return dict(json.loads(text))


def scheduled_input(world: World) -> dict[str, Any]:
    """The state machine's schedule Input, with Scheduler's placeholders filled in."""
    [schedule] = [
        r
        for r in world.stack.template["Resources"].values()
        if r["Type"] == "AWS::Scheduler::Schedule"
        and r["Properties"]["Target"]["Arn"] == {"Ref": "FanOutStateMachine"}
    ]
    text = schedule["Properties"]["Target"]["Input"]
    for placeholder, value in {
        "<aws.scheduler.scheduled-time>": SCHEDULED_TIME,
        "<aws.scheduler.schedule-arn>": "arn:aws:scheduler:us-east-1:123456789012:schedule/x",
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": "1",
    }.items():
        text = text.replace(placeholder, value)
    return dict(json.loads(text))


def archived(world: World, key: str) -> bytes:
    bucket = world.stack.outputs["ArchiveBucketName"]
    return bytes(boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def report_cents(world: World, account: str) -> Decimal:
    """The total of an account's own archived report (the CSV it sent, summed)."""
    body = archived(world, f"fireworks/account={account}/dt={DAY}/report/report.csv").decode()
    return sum(
        (Decimal(r["attributed_cost_usd"]) for r in csv.DictReader(io.StringIO(body))), Decimal(0)
    )


# --- the definition, read ------------------------------------------------------------------


def test_every_state_is_reachable_and_every_map_is_bounded() -> None:
    machine = definition()

    assert reachable(machine) == {name for name, _ in all_states(machine)}
    maps = {name: state for name, state in all_states(machine) if state["Type"] == "Map"}
    assert {name: state["MaxConcurrency"] for name, state in maps.items()} == {
        "Accounts": 4,
        "Windows": 2,  # Fireworks' rate limits: docs/scaling.md
    }
    for name, state in all_states(machine):
        if state["Type"] == "Task":
            retried = {e for rule in state["Retry"] for e in rule["ErrorEquals"]}
            assert "Lambda.TooManyRequestsException" in retried, name
            assert all(rule["BackoffRate"] >= 2 for rule in state["Retry"]), name


def test_every_task_payload_as_filled_in_is_an_event_the_function_accepts() -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from fwcost.run_request import task_from_event

    # Given each Task's Parameters filled in from the state it receives in an execution
    states = dict(all_states(definition()))
    planned = {"kind": "report", "date": DAY, "force": False, "dry_run": False,
               "accounts": list(ACCOUNTS), "rollup": True}  # fmt: skip
    item = {"Map": {"Item": {"Index": 0, "Value": "acme-labs"}}}
    failure = {"Error": "RunError", "Cause": json.dumps({"errorMessage": "401"})}
    outcomes = [{"account": "acme-ai"}, {"account": "acme-qa", "failure": failure}]
    payloads = {
        "Plan": fill(states["Plan"]["Parameters"], {"scheduled_time": SCHEDULED_TIME}, {}),
        "RunAccount": fill(
            states["RunAccount"]["Parameters"],
            fill(states["Accounts"]["ItemSelector"], planned, item),
            item,
        ),
        "RunWindow": fill(
            states["RunWindow"]["Parameters"],
            {"account": "acme-labs", "start": "2026-10-01", "end": "2026-10-31"},
            {},
        ),
        "RollUp": fill(states["RollUp"]["Parameters"], planned | {"outcomes": outcomes}, {}),
    }

    # Then each is a task the request parser accepts (it refuses any unknown key)
    assert payloads.keys() == {n for n, s in states.items() if s["Type"] == "Task"}
    later = datetime(2026, 11, 29, tzinfo=UTC)
    for name, parameters in payloads.items():
        task = task_from_event(
            parameters["Payload"], ZoneInfo("UTC"), now=later, settle=timedelta(hours=1)
        )
        assert task is not None, name


def test_the_definition_passes_cfn_lint_s_state_machine_schema(tmp_path: Path) -> None:
    import subprocess
    import sys

    # cfn-lint checks a definition only inline: the file inlined into a minimal template
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/fanout",
                    "Definition": definition(),
                    "DefinitionSubstitutions": {
                        "DailyReportFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f"
                    },
                },
            }
        },
    }
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(template))
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    linted = subprocess.run([cfn_lint, str(path)], capture_output=True, text=True, check=False)
    assert linted.returncode == 0, linted.stdout


# --- the flow, executed ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def scheduled(world: World) -> Any:
    return execute(executable_definition(world), scheduled_input(world), invoker(world))


def test_the_scheduled_execution_runs_each_account_and_the_roll_up_names_the_failed_one(
    world: World, scheduled: Any
) -> None:
    # The execution fails loudly, after everything else went out
    assert (scheduled.status, scheduled.error) == ("FAILED", "AccountFailed")
    assert scheduled.visited[-3:] == ["RollUp", "AnyAccountFailed", "AccountsFailed"]
    runs = [p.get("account") for p in scheduled.payloads if "date" in p]
    # QA's run was tried three times (two retries with backoff), then caught
    assert runs == ["acme-ai", "acme-labs", "acme-qa", "acme-qa", "acme-qa"]
    assert [delay for state, delay in scheduled.retries] == [60, 120]
    # ... and its transitions are those docs/scaling.md prices (bench.fanout), plus the retries
    assert len(scheduled.visited) == daily_transitions(len(ACCOUNTS))
    [rollup] = [p for p in scheduled.payloads if "rollup" in p]
    assert rollup["rollup"] == DAY
    assert [o["account"] for o in rollup["accounts"]] == list(ACCOUNTS)
    assert "401" in rollup["accounts"][2]["failure"]["Cause"]

    # Slack: each good account's overall and search reports, and the roll-up naming QA
    posts = [p.body for p in world.slack.delivered("/services/T0/B0/")]
    texts = [json.dumps(p) for p in posts]
    assert len(posts) == 3
    assert sum("All accounts" in text for text in texts) == 1
    [rolled] = [text for text in texts if "All accounts" in text]
    assert "QA" in rolled and "2 of 3 accounts" in rolled
    assert "acme-qa" not in " ".join(t for t in texts if "All accounts" not in t)
    assert len(world.slack.delivered("/services/T0/B1/")) == 2  # search, in each good account


def test_the_roll_up_s_account_lines_are_each_account_s_own_report_to_the_cent(
    world: World, scheduled: Any
) -> None:
    body = archived(world, f"fireworks/account=_rollup/dt={DAY}/report/report.csv").decode()
    rows = list(csv.DictReader(io.StringIO(body)))

    for account in ("acme-ai", "acme-labs"):
        mine = sum(Decimal(r["attributed_cost_usd"]) for r in rows if r["account_id"] == account)
        assert mine == report_cents(world, account) > 0
    assert {r["account_id"] for r in rows} == {"acme-ai", "acme-labs"}
    text = archived(world, f"fireworks/account=_rollup/dt={DAY}/report/report.txt").decode()
    total = report_cents(world, "acme-ai") + report_cents(world, "acme-labs")
    assert f"${total:,.2f}" in text


def test_the_roll_up_is_recorded_in_the_ledger_under_its_own_identity(
    world: World, scheduled: Any
) -> None:
    bucket = world.stack.outputs["ArchiveBucketName"]
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix="fireworks/ledger/")
    accounts = {key["Key"].split("/")[2] for key in listed["Contents"]}

    assert accounts == {"account=acme-ai", "account=acme-labs", "account=_rollup"}


def test_every_aws_call_of_the_tasks_is_allowed_by_the_function_s_role(
    world: World, scheduled: Any
) -> None:
    statements = role_statements(world.stack.created["DailyReportFunctionRole"])
    requests = [r for call in world.calls for r in requests_for(call, REGION, "123456789012")]

    assert [r for r in requests if not is_allowed(statements, r)] == []
    secrets_read = {r.resource for r in requests if r.action == "secretsmanager:GetSecretValue"}
    assert len(secrets_read) == 4  # the default account's key, two others' and Slack's


def test_the_schedule_doubled_delivers_nothing_twice(world: World, scheduled: Any) -> None:
    before = len(world.slack.delivered("/services/"))

    again = execute(executable_definition(world), scheduled_input(world), invoker(world))

    assert (again.status, again.error) == ("FAILED", "AccountFailed")  # QA still refused
    assert len(world.slack.delivered("/services/")) == before


def test_a_long_backfill_runs_as_a_map_over_windows(world: World) -> None:
    execution = execute(
        executable_definition(world),
        {"start": "2026-09-01", "end": "2026-10-20", "account": "acme-labs"},
        invoker(world),
    )

    assert execution.status == "SUCCEEDED"
    windows = [p for p in execution.payloads if "start" in p]
    assert len(execution.visited) == backfill_transitions(len(windows))
    assert windows == [
        {"account": "acme-labs", "start": "2026-09-01", "end": "2026-10-01"},
        {"account": "acme-labs", "start": "2026-10-02", "end": "2026-10-20"},
    ]
    days = archived(world, "fireworks/account=acme-labs/dt=2026-10-20/manifest.json")
    assert json.loads(days)["day"] == "2026-10-20"
