"""The errors people meet, through the CLI: one line saying what failed, why and what to do,
the documented exit code (1 run failed, 2 bad settings), no traceback without --debug, and
never a secret. Real parts: the simulator and refusing servers on loopback, closed ports, moto;
botocore's Stubber only for refusals moto can't produce (AccessDenied)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import httpx
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from botocore.stub import Stubber
from delivery.support import BOT_TOKEN, REGION, serve_fake_slack

from fwcost.cli import main
from fwcost.fireworks import FireworksClient, RetryPolicy

SIM_KEY = "fw_sim_admin_key"
SECRET_KEY = "fw_secret_key_0123456789abcdef"
DENIED = (
    "User: arn:aws:sts::123456789012:assumed-role/dev/me is not authorized to perform:"
    " {action} because no identity-based policy allows the {action} action"
)


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def one_line(self, *words: str) -> str:
        """The error line, checked: one line, no traceback, every word of the fix present."""
        assert "Traceback" not in self.err
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("fwcost: ")
        for word in words:
            assert word in lines[0]
        return lines[0]

    def shows(self, secret: str) -> bool:
        return secret in self.out or secret in self.err


@pytest.fixture
def fwcost(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Any:
    """Run the CLI in-process: fwcost("run", "--date", ..., env={...}) → Outcome."""

    def run(*argv: str, env: dict[str, str]) -> Outcome:
        code = main(list(argv), {"FWCOST_ACCOUNT_ID": "acme-ai", **env})
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def cold_powertools() -> Iterator[None]:
    """Powertools keeps providers (with their boto3 clients) and values between calls."""
    saved = dict(DEFAULT_PROVIDERS)
    DEFAULT_PROVIDERS.clear()
    parameters.clear_caches()
    yield
    DEFAULT_PROVIDERS.clear()
    DEFAULT_PROVIDERS.update(saved)


@pytest.fixture
def quick_fireworks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two tries, short waits and a short read time-out, so giving up takes a moment."""
    monkeypatch.setattr(
        "fwcost.wiring.FireworksClient",
        partial(
            FireworksClient,
            retry=RetryPolicy(max_attempts=2, base_delay_seconds=0.01),
            timeout=httpx.Timeout(0.3, connect=2.0),
        ),
    )


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with no AWS setup at all: no credentials, no region, no profile files."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def local(simulator: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "FWCOST_API_KEY": SIM_KEY,
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
        "FWCOST_ARCHIVE_DIR": str(tmp_path / "archive"),
        **extra,
    }


def keyed(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A local run with the known secret key (so tests can look for it in what is printed)."""
    return {"FWCOST_API_KEY": SECRET_KEY, "FWCOST_ARCHIVE_DIR": str(tmp_path), **extra}


def routing_file(tmp_path: Path, overall: dict[str, Any]) -> str:
    path = tmp_path / "routing.json"
    document = {"version": 1, "unknown_teams": "skip", "routes": {"overall": overall}}
    path.write_text(json.dumps(document))
    return str(path)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def refusing_fireworks() -> Iterator[Any]:
    """A Fireworks that refuses every request with `server.status`, quoting the caller's
    Authorization header back in its message (so a leak of the key would show); with
    `server.hang` set, it never answers (until the test ends)."""

    class Refuse(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.server.hang:  # type: ignore[attr-defined]
                self.server.released.wait(timeout=10)  # type: ignore[attr-defined]
                self.close_connection = True
                return
            said = f"denied for {self.headers.get('Authorization')}"
            body = json.dumps({"code": 16, "message": said, "details": []}).encode()
            self.send_response(self.server.status)  # type: ignore[attr-defined]
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    server.daemon_threads = True
    server.hang = False  # type: ignore[attr-defined]
    server.released = threading.Event()  # type: ignore[attr-defined]
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.released.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


# Fireworks


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, ["Fireworks refused the API key", "answered 401", "Create a new API key"]),
        (403, ["the API key may not read billing data", "Use an account admin's API key"]),
    ],
)
def test_a_refused_api_key_is_exit_2_and_says_which_key_to_use(
    fwcost: Any, refusing_fireworks: Any, tmp_path: Path, status: int, words: list[str]
) -> None:
    refusing_fireworks.status = status
    env = keyed(tmp_path, FWCOST_FIREWORKS_BASE_URL=refusing_fireworks.base_url)

    outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 2
    line = outcome.one_line(*words, "FWCOST_API_KEY")
    assert "denied for Bearer ***" in line  # Fireworks' own words, the key masked
    assert not outcome.shows(SECRET_KEY)


def test_an_unknown_account_is_exit_2_naming_the_setting(
    fwcost: Any, simulator: Any, tmp_path: Path
) -> None:
    outcome = fwcost(
        "run", "--date", "2026-11-21", env=local(simulator, tmp_path, FWCOST_ACCOUNT_ID="acme-aj")
    )

    assert outcome.code == 2
    outcome.one_line("Fireworks knows no such account", "'acme-aj' not found", "FWCOST_ACCOUNT_ID")
    assert not outcome.shows(SIM_KEY)


@pytest.mark.parametrize(
    ("base_url", "cause"),
    [
        (f"http://127.0.0.1:{closed_port()}", "Connection refused"),
        ("http://fwcost-no-such-host.invalid", "ConnectError"),  # the name does not resolve
    ],
)
def test_an_unreachable_fireworks_is_exit_1_naming_the_address(
    fwcost: Any, quick_fireworks: None, tmp_path: Path, base_url: str, cause: str
) -> None:
    env = keyed(tmp_path, FWCOST_FIREWORKS_BASE_URL=base_url)

    outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 1
    outcome.one_line(
        f"cannot reach Fireworks at {base_url}",
        "after 2 attempts",
        cause,
        "FWCOST_FIREWORKS_BASE_URL",
    )
    assert not outcome.shows(SECRET_KEY)


def test_a_fireworks_that_never_answers_is_exit_1_with_what_to_lower(
    fwcost: Any, quick_fireworks: None, refusing_fireworks: Any, tmp_path: Path
) -> None:
    refusing_fireworks.hang = True
    env = keyed(tmp_path, FWCOST_FIREWORKS_BASE_URL=refusing_fireworks.base_url)

    outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 1
    outcome.one_line("Fireworks did not answer in time", "ReadTimeout", "FWCOST_WINDOW_DAYS")


# AWS


def test_a_bucket_without_aws_credentials_is_exit_2_with_how_to_log_in_or_go_local(
    fwcost: Any, simulator: Any, no_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)  # a region, so credentials are what lacks
    env = {"FWCOST_API_KEY": SIM_KEY, "FWCOST_FIREWORKS_BASE_URL": simulator.base_url}

    outcome = fwcost("run", "--date", "2026-11-21", "--bucket", "fwcost-archive", env=env)

    assert outcome.code == 2
    outcome.one_line("no AWS credentials", "aws sso login", "AWS_PROFILE", "--out DIR")
    assert simulator.requests == []


def test_a_secret_without_a_region_is_exit_2_naming_the_setting_and_aws_region(
    fwcost: Any, no_aws: None, tmp_path: Path
) -> None:
    env = {"FWCOST_API_KEY_SECRET": "fwcost/api-key", "FWCOST_ARCHIVE_DIR": str(tmp_path)}

    outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 2
    outcome.one_line(
        "FWCOST_API_KEY_SECRET: reading secret 'fwcost/api-key': no AWS region", "Set AWS_REGION"
    )


def test_a_missing_bucket_is_exit_2_naming_it(fwcost: Any, simulator: Any, aws: None) -> None:
    env = {"FWCOST_API_KEY": SIM_KEY, "FWCOST_FIREWORKS_BASE_URL": simulator.base_url}

    outcome = fwcost("run", "--date", "2026-11-21", "--bucket", "no-such-fwcost-bucket", env=env)

    assert outcome.code == 2
    outcome.one_line(
        "no S3 bucket 'no-such-fwcost-bucket'", "does not exist", "FWCOST_ARCHIVE_BUCKET"
    )
    assert simulator.requests == []


def test_a_missing_api_key_secret_is_exit_2_naming_setting_and_secret(
    fwcost: Any, aws: None, tmp_path: Path
) -> None:
    env = {"FWCOST_API_KEY_SECRET": "fwcost/nope", "FWCOST_ARCHIVE_DIR": str(tmp_path)}

    outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 2
    outcome.one_line("FWCOST_API_KEY_SECRET: no secret 'fwcost/nope'", "AWS_REGION")


def test_a_missing_slack_secret_is_exit_2_naming_setting_and_secret(
    fwcost: Any, aws: None, tmp_path: Path
) -> None:
    routing = routing_file(tmp_path, {"slack": [{"kind": "webhook", "secret_key": "finops"}]})
    env = keyed(tmp_path, FWCOST_ROUTING_FILE=routing, FWCOST_SLACK_SECRET="fwcost/slack-nope")

    outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 2
    outcome.one_line("FWCOST_SLACK_SECRET: no secret 'fwcost/slack-nope'")


def test_a_missing_routing_parameter_is_exit_2_naming_setting_and_parameter(
    fwcost: Any, aws: None, tmp_path: Path
) -> None:
    env = keyed(tmp_path, FWCOST_ROUTING_PARAMETER="/fwcost/nope")

    outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 2
    outcome.one_line(
        "FWCOST_ROUTING_PARAMETER: no parameter '/fwcost/nope'", "Parameter /fwcost/nope not found"
    )


def stubbed(service: str, operation: str, code: str, action: str) -> Any:
    client = boto3.client(service, region_name=REGION)
    stubber = Stubber(client)
    stubber.add_client_error(operation, code, DENIED.format(action=action), http_status_code=403)
    stubber.activate()
    return client


def test_access_denied_on_the_bucket_is_exit_1_naming_the_operation(
    fwcost: Any, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = stubbed("s3", "list_objects_v2", "AccessDenied", "s3:ListBucket")
    monkeypatch.setattr(
        "fwcost.wiring._default_session", lambda: SimpleNamespace(client=lambda name: s3)
    )
    env = {"FWCOST_API_KEY": SIM_KEY, "FWCOST_FIREWORKS_BASE_URL": simulator.base_url}

    outcome = fwcost("run", "--date", "2026-11-21", "--bucket", "fwcost-archive", env=env)

    assert outcome.code == 1
    outcome.one_line(
        "AWS denied ListObjectsV2",
        "not authorized to perform: s3:ListBucket",
        "Grant that permission",
    )


@pytest.mark.parametrize(
    ("setting", "name", "service", "operation", "action"),
    [
        ("FWCOST_API_KEY_SECRET", "fwcost/api-key", "secretsmanager", "GetSecretValue", "secretsmanager:GetSecretValue"),
        ("FWCOST_ROUTING_PARAMETER", "/fwcost/routing", "ssm", "GetParameter", "ssm:GetParameter"),
    ],
)  # fmt: skip
def test_access_denied_on_a_secret_or_parameter_is_exit_1_naming_the_setting(
    fwcost: Any, tmp_path: Path, setting: str, name: str, service: str, operation: str, action: str
) -> None:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

    snake = "get_secret_value" if service == "secretsmanager" else "get_parameter"
    client = stubbed(service, snake, "AccessDeniedException", action)
    if service == "secretsmanager":
        DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_client=client)
        env = {setting: name}
    else:
        DEFAULT_PROVIDERS["ssm"] = SSMProvider(boto3_client=client)
        env = {setting: name, "FWCOST_API_KEY": SECRET_KEY}

    outcome = fwcost(
        "run", "--date", "2026-11-21", env={**env, "FWCOST_ARCHIVE_DIR": str(tmp_path)}
    )

    assert outcome.code == 1
    kind = "secret" if service == "secretsmanager" else "parameter"
    outcome.one_line(
        f"{setting}: reading {kind} '{name}': AWS denied {operation}",
        f"not authorized to perform: {action}",
        "Grant that permission",
    )


# Delivery: each failed destination says what to do in the run's summary


def test_an_unverified_ses_sender_fails_the_run_saying_to_verify_it(
    fwcost: Any, simulator: Any, aws: None, tmp_path: Path
) -> None:
    routing = routing_file(
        tmp_path, {"email": [{"from": "costs@acme.ai", "to": ["finops@acme.ai"]}]}
    )

    outcome = fwcost(
        "run", "--date", "2026-11-21", env=local(simulator, tmp_path, FWCOST_ROUTING_FILE=routing)
    )

    assert outcome.code == 1
    assert "FAILED overall → email-" in outcome.out
    assert "verify the identity costs@acme.ai (or its domain) in SES" in outcome.out
    assert "Traceback" not in outcome.err
    assert outcome.err.startswith("fwcost: 1 part(s) of the run failed:")
    assert "verify the identity costs@acme.ai" in outcome.err


def test_ses_access_denied_fails_the_run_saying_which_permission(
    fwcost: Any, simulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sesv2 = stubbed("sesv2", "send_email", "AccessDeniedException", "ses:SendEmail")
    monkeypatch.setattr(
        "fwcost.wiring._default_session", lambda: SimpleNamespace(client=lambda name: sesv2)
    )
    routing = routing_file(
        tmp_path, {"email": [{"from": "costs@acme.ai", "to": ["finops@acme.ai"]}]}
    )

    outcome = fwcost(
        "run", "--date", "2026-11-21", env=local(simulator, tmp_path, FWCOST_ROUTING_FILE=routing)
    )

    assert outcome.code == 1
    assert "may not send as costs@acme.ai: grant it ses:SendEmail" in outcome.out
    assert "Traceback" not in outcome.err


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        ("not_in_channel", "the app is not in channel C0123ABCD → invite it: /invite @"),
        ("channel_not_found", "the app sees no channel C0123ABCD → check the channel ID"),
        ("invalid_auth", "Slack refused the token under key 'bot_token' → put a valid bot token"),
    ],
)
def test_a_slack_refusal_fails_the_run_saying_what_to_do_without_the_token(
    fwcost: Any, simulator: Any, aws: None, tmp_path: Path, code: str, fix: str
) -> None:
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="fwcost/slack", SecretString=json.dumps({"bot_token": BOT_TOKEN})
    )
    routing = routing_file(
        tmp_path, {"slack": [{"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"}]}
    )
    with serve_fake_slack() as slack:
        slack.api_errors["chat.postMessage"] = code
        env = local(
            simulator,
            tmp_path,
            FWCOST_ROUTING_FILE=routing,
            FWCOST_SLACK_SECRET=secret["ARN"],
            FWCOST_SLACK_API_URL=slack.api_url,
        )
        outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 1
    assert f"FAILED overall → slack-bot-C0123ABCD: {code}: {fix}" in outcome.out
    assert "Traceback" not in outcome.err
    assert not outcome.shows(BOT_TOKEN)


# The CLI's own behaviour


def test_debug_adds_the_traceback_before_the_same_line(
    fwcost: Any, simulator: Any, tmp_path: Path
) -> None:
    env = local(simulator, tmp_path, FWCOST_API_KEY=SECRET_KEY)

    plain = fwcost("run", "--date", "2026-11-21", env=env)
    debug = fwcost("--debug", "run", "--date", "2026-11-21", env=env)

    assert plain.code == debug.code == 2
    line = plain.one_line("Fireworks refused the API key")
    assert debug.err.startswith("Traceback (most recent call last):")
    assert "FireworksHTTPError" in debug.err
    assert debug.err.strip().splitlines()[-1] == line
    assert not debug.shows(SECRET_KEY)


def test_an_unexpected_error_is_one_line_pointing_to_debug_without_the_key(
    fwcost: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"boom near {SECRET_KEY}\nand a second line")

    monkeypatch.setattr("fwcost.service.run", broken)
    env = keyed(tmp_path)

    outcome = fwcost("run", "--date", "2026-11-21", env=env)

    assert outcome.code == 1
    assert outcome.one_line() == (
        "fwcost: unexpected RuntimeError: boom near ***. Run with --debug for the traceback"
    )


def test_a_dry_run_previews_slack_and_email_routing_without_any_aws_setup(
    fwcost: Any, simulator: Any, no_aws: None, tmp_path: Path
) -> None:
    # Given Slack and email routes, and neither a Slack secret nor AWS credentials or region
    routing = routing_file(
        tmp_path,
        {
            "slack": [
                {"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"},
                {"kind": "webhook", "secret_key": "finops"},
            ],
            "email": [{"from": "costs@acme.ai", "to": ["finops@acme.ai"]}],
        },
    )
    env = local(simulator, tmp_path, FWCOST_ROUTING_FILE=routing)

    # When the day is dry-run
    outcome = fwcost(
        "run", "--date", "2026-11-21", "--dry-run", "--out", str(tmp_path / "a"), env=env
    )

    # Then the plan names every destination and nothing was sent or recorded
    assert outcome.code == 0, outcome.err
    assert "3 would be sent" in outcome.out
    for destination in ("slack-bot-C0123ABCD", "slack-webhook-finops", "email-"):
        assert f"would send overall → {destination}" in outcome.out
    assert not list((tmp_path / "a").rglob("ledger"))
