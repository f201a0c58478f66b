"""The check inside the function: events/check.json through the handler, against moto and the
simulator; and that no secret reaches the output, the logs or the return value."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from check.conftest import Deployed
from fwcost.check import CheckFailed

# The check sends no report, so it publishes no metric; Powertools warns of that, as expected.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def lambda_env(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    for name, value in deployed.env.items():
        monkeypatch.setenv(name, value)
    return deployed


def test_the_check_event_returns_every_result_as_json(
    lambda_env: Deployed, load_event: Any, lambda_context: Any
) -> None:
    from app import lambda_handler

    result = lambda_handler(load_event("check.json"), lambda_context)

    assert (result["ok"], result["exit_status"]) == (True, 0)
    sections = {section["title"]: section["checks"] for section in result["sections"]}
    assert list(sections) == ["Settings", "Fireworks", "Archive", "Email", "Slack"]
    assert {check["status"] for checks in sections.values() for check in checks} == {"passed"}
    assert result["counts"]["passed"] == 19
    assert lambda_env.s3_keys() == []  # the probe under fireworks/_check/ is gone


def test_a_failed_check_fails_the_invocation_with_the_report_as_its_message(
    lambda_env: Deployed, load_event: Any, lambda_context: Any
) -> None:
    from app import lambda_handler

    lambda_env.slack.not_member = {"C0123ABCD"}

    with pytest.raises(CheckFailed) as failure:
        lambda_handler(load_event("check.json"), lambda_context)

    message = str(failure.value)
    assert "✗ channel" in message
    assert "in #finops, type /invite @fwcost" in message
    assert (
        message.rstrip().endswith("1 check failed. Exit status 1.") or "Exit status 1." in message
    )


def test_bad_settings_in_the_function_are_reported_by_the_check(
    lambda_env: Deployed,
    load_event: Any,
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app import lambda_handler

    monkeypatch.setenv("FWCOST_WINDOW_DAYS", "99")

    with pytest.raises(CheckFailed, match="FWCOST_WINDOW_DAYS: must be at most 31") as failure:
        lambda_handler(load_event("check.json"), lambda_context)

    assert "Exit status 2." in str(failure.value)
    assert "✓ billingUsage" in str(failure.value)  # the rest was still checked


def test_send_test_in_the_function(lambda_env: Deployed, lambda_context: Any) -> None:
    from app import lambda_handler

    result = lambda_handler({"check": True, "send_test": True}, lambda_context)

    assert result["sent_test"] is True
    [tests] = [s for s in result["sections"] if s["title"] == "Test messages"]
    assert len(tests["checks"]) == 5  # webhook, two bot channels, two email routes
    assert {check["status"] for check in tests["checks"]} == {"passed"}


def test_no_secret_is_ever_printed_logged_or_returned(
    lambda_env: Deployed,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app import lambda_handler
    from fwcost.cli import main

    caplog.set_level(logging.DEBUG, logger="fwcost")
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    caplog.set_level(logging.INFO)
    outputs: list[str] = []

    # Everything passing, with test messages sent; then with Slack refusing the bot token and
    # a webhook, and Fireworks refusing a wrong key (which is a secret too)
    outputs.append(str(lambda_handler({"check": True, "send_test": True}, lambda_context)))
    code = main(["-v", "check", "--send-test"], lambda_env.env)
    assert code == 0
    lambda_env.slack.api_errors["auth.test"] = "invalid_auth"
    lambda_env.slack.failing["/services/T0/B0/"] = 403
    wrong_key = "fw_wrong_secret_key_9Zx2"
    code = main(
        ["-v", "check", "--send-test"],
        {**lambda_env.env, "FWCOST_API_KEY_SECRET": "", "FWCOST_API_KEY": wrong_key},
    )
    assert code == 1
    monkeypatch.setenv("FWCOST_API_KEY", wrong_key)
    monkeypatch.delenv("FWCOST_API_KEY_SECRET")
    with pytest.raises(CheckFailed) as failure:
        lambda_handler({"check": True, "send_test": True}, lambda_context)
    outputs.append(str(failure.value))

    out, err = capsys.readouterr()
    everything = "\n".join([*outputs, out, err, caplog.text])
    assert "…9Zx2" in everything  # the wrong key is named by its last 4 characters only
    assert "invalid_auth" in everything and "invalid_token" in everything
    for secret in [*lambda_env.secrets, wrong_key]:
        assert secret not in everything, secret
