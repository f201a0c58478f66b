"""`fwcost check` end to end: real HTTP to the simulator and the fake Slack, moto for AWS.

Each way to fail prints one failed line with its fix, exits 1, and shows no traceback.
"""

from __future__ import annotations

import email
import json
import re
from email.policy import default
from pathlib import Path

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from check.conftest import REGION, ROUTING, SENDER, Deployed
from fwcost.cli import main

Capture = pytest.CaptureFixture[str]


def check(deployed: Deployed, capsys: Capture, *args: str, **env: str) -> tuple[int, str]:
    code = main(["check", *args], {**deployed.env, **env})
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


def line(out: str, name: str) -> str:
    """A check's line with what is printed under it (detail, fix), up to the next line."""
    match = re.search(rf"^  [✓✗–] {re.escape(name)} .*?(?=^  [✓✗–] |^\S|\Z)", out, re.M | re.S)
    assert match, f"no line for {name!r} in:\n{out}"
    return " ".join(match.group(0).split())  # wrapped lines joined back


def failed(out: str) -> list[str]:
    return re.findall(r"^  ✗ (.+?)\s{2}", out, re.M)


def identities() -> dict[str, object]:
    return ses_backends[DEFAULT_ACCOUNT_ID][REGION].email_identities


def test_everything_in_place_passes_and_leaves_nothing_behind(
    deployed: Deployed, capsys: Capture
) -> None:
    code, out = check(deployed, capsys)

    assert code == 0, out
    assert failed(out) == []
    passing = ("settings", "timezone", "routing", "price book", "API key", "account",
               "billingUsage", "billing/summary", "usageCosts:query", "bucket", "access",
               "conditional writes", "sender", "sandbox", "quota", "secret", "bot token")  # fmt: skip
    for name in passing:
        assert line(out, name).startswith(f"✓ {name}"), out
    assert "fwcost check · account acme-ai · America/Los_Angeles" in out
    assert "every dimension the run asks for" in line(out, "billingUsage")
    assert "auth.test ok, team Acme, bot @fwcost, scope chat:write" in out
    assert "#finops (C0123ABCD): the app is a member" in out
    assert "#search-costs (C0SEARCH1): the app is a member" in out
    assert "all 3 recipients are verified" in line(out, "sandbox")
    assert "200 a day" in line(out, "quota")
    assert "a run sends to 3 recipients" in line(out, "quota")
    assert "All 19 checks passed. Exit status 0." in out
    assert "(--send-test" in out
    # The probe was written, refused a second time, and every version of it removed
    assert "refused (412)" in line(out, "conditional writes")
    assert deployed.s3_keys() == []


def test_a_revoked_key(deployed: Deployed, capsys: Capture) -> None:
    code, out = check(
        deployed, capsys, FWCOST_API_KEY_SECRET="", FWCOST_API_KEY="fw_revoked_key_Qa7f"
    )

    assert (code, failed(out)) == (1, ["API key"])
    assert "401: missing or invalid API key" in line(out, "API key")
    assert "(key …Qa7f)" in line(out, "API key")
    assert "Fix: Create a new API key in Fireworks" in line(out, "API key")
    assert line(out, "billingUsage").startswith("– billingUsage not judged")


def test_an_unknown_account(deployed: Deployed, capsys: Capture) -> None:
    code, out = check(deployed, capsys, "--account", "acme-typo")

    assert (code, failed(out)) == (1, ["account"])
    assert "404: account 'acme-typo' not found" in line(out, "account")
    assert "Fix: Check FWCOST_ACCOUNT_ID (or --account): the bare account id" in line(
        out, "account"
    )
    assert line(out, "API key").startswith("✓ API key accepted")


def test_a_key_that_is_not_an_account_admin(deployed: Deployed, capsys: Capture) -> None:
    code, out = check(
        deployed, capsys, FWCOST_API_KEY_SECRET="", FWCOST_API_KEY="fw_sim_readonly_key"
    )

    assert (code, failed(out)) == (1, ["usageCosts:query"])
    costs = line(out, "usageCosts:query")
    assert "403: scope ACCOUNT needs an account administrator's key" in costs
    assert "per-key dollars will be estimated from usage" in costs
    assert "Fix: use an API key of an account administrator" in costs
    assert "1 check degrades the report. Exit status 1." in out


def test_a_gateway_that_refuses_the_training_dimensions(
    deployed: Deployed, capsys: Capture
) -> None:
    from fwcost.fireworks.client import TRAINING_ONLY_DIMENSIONS
    from fwcost.simulator import SimulatorConfig, run_simulator

    older = SimulatorConfig(unknown_dimensions=TRAINING_ONLY_DIMENSIONS)
    with run_simulator(older) as simulator:
        code, out = check(deployed, capsys, FWCOST_FIREWORKS_BASE_URL=simulator.base_url)

    assert (code, failed(out)) == (1, ["billingUsage"])
    usage = line(out, "billingUsage")
    assert "400 for the training dimensions: groupBy 'job_id' is not a known dimension" in usage
    assert "the run asks again without job_id, job_type, usage_type, base_model" in usage
    assert "Fix:" in usage


def test_an_unverified_sender(deployed: Deployed, capsys: Capture) -> None:
    identities()[SENDER].verified_for_sending_status = False  # type: ignore[attr-defined]

    code, out = check(deployed, capsys)

    assert (code, failed(out)) == (1, ["sender"])
    assert "costs@acme.ai: the SES identity costs@acme.ai is not verified" in line(out, "sender")
    assert "Fix: finish verifying costs@acme.ai in SES us-east-1" in line(out, "sender")


def test_a_sender_ses_does_not_know(deployed: Deployed, capsys: Capture) -> None:
    boto3.client("sesv2", region_name=REGION).delete_email_identity(EmailIdentity=SENDER)

    code, out = check(deployed, capsys)

    assert (code, failed(out)) == (1, ["sender"])
    assert "neither it nor acme.ai is an SES identity in us-east-1" in line(out, "sender")


def test_the_sandbox_with_unverified_recipients(deployed: Deployed, capsys: Capture) -> None:
    identities()["finops@acme.ai"].verified_for_sending_status = False  # type: ignore[attr-defined]
    boto3.client("sesv2", region_name=REGION).delete_email_identity(
        EmailIdentity="search-leads@acme.ai"
    )

    code, out = check(deployed, capsys)

    assert (code, failed(out)) == (1, ["sandbox"])
    sandbox = line(out, "sandbox")
    assert "in the SES sandbox in us-east-1: 2 of 3 recipients are not verified" in sandbox
    assert "(finops@acme.ai, search-leads@acme.ai)" in sandbox
    assert "Fix: verify them in SES, or request production access" in sandbox

    # Production access lifts the sandbox: the same recipients are then fine
    deployed.ses_account.production_access = True
    code, out = check(deployed, capsys)
    assert (code, failed(out)) == (0, [])
    assert "production access" in line(out, "sandbox")


def test_a_quota_too_small_for_a_run(deployed: Deployed, capsys: Capture) -> None:
    deployed.ses_account.max_24_hour_send = 2

    code, out = check(deployed, capsys)

    assert (code, failed(out)) == (1, ["quota"])
    assert "2 a day (0 sent in the last 24 h), 1 a second" in line(out, "quota")
    assert "a run sends to 3 recipients" in line(out, "quota")
    assert "more than the 2 left" in line(out, "quota")


def test_ses_account_unreadable_leaves_sandbox_and_quota_unjudged(
    deployed: Deployed, capsys: Capture
) -> None:
    deployed.ses_account.denied = True

    code, out = check(deployed, capsys)

    assert (code, failed(out)) == (0, [])
    assert line(out, "sandbox").startswith("– sandbox not judged: SES GetAccount answered")
    assert line(out, "quota").startswith("– quota not judged")


def test_a_bot_that_is_not_in_a_routed_channel(deployed: Deployed, capsys: Capture) -> None:
    deployed.slack.not_member = {"C0SEARCH1"}

    code, out = check(deployed, capsys)

    assert (code, failed(out)) == (1, ["channel"])
    assert "#search-costs (C0SEARCH1): the app is not a member" in out
    assert "Fix: in #search-costs, type /invite @fwcost" in out
    assert "#finops (C0123ABCD): the app is a member" in out


def test_a_bot_without_chat_write(deployed: Deployed, capsys: Capture) -> None:
    deployed.slack.scopes = "channels:read,groups:read"

    code, out = check(deployed, capsys)

    assert (code, failed(out)) == (1, ["bot token"])
    assert "no chat:write scope (it has: channels:read, groups:read)" in line(out, "bot token")
    assert "Fix: add chat:write to the app's Bot Token Scopes" in line(out, "bot token")


def test_a_channel_the_bot_cannot_see_and_one_it_cannot_ask_about(
    deployed: Deployed, capsys: Capture
) -> None:
    deployed.slack.api_errors["conversations.info"] = "channel_not_found"
    code, out = check(deployed, capsys)
    assert (code, failed(out)) == (1, ["channel", "channel"])
    assert "C0123ABCD: not found, or private and the app is not in it" in out

    # Without channels:read membership is not judged, and the check says how to try it
    deployed.slack.api_errors["conversations.info"] = "missing_scope"
    code, out = check(deployed, capsys)
    assert (code, failed(out)) == (0, [])
    assert "not judged, conversations.info needs the channels:read scope" in out


def test_slack_secret_values_of_the_wrong_shape(deployed: Deployed, capsys: Capture) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    secrets.put_secret_value(
        SecretId=deployed.env["FWCOST_SLACK_SECRET"],
        SecretString=json.dumps({"overall_webhook": "#finops", "bot_token": "xoxp-user-1234"}),
    )

    code, out = check(deployed, capsys)

    assert (code, failed(out)) == (1, ["secret"])
    secret = line(out, "secret")
    assert "key 'overall_webhook' does not hold an incoming-webhook URL" in secret
    assert "key 'bot_token' does not hold a bot token (xoxb-…)" in secret
    assert "xoxp-user-1234" not in out


def test_bad_settings_exit_2_naming_every_problem_and_the_rest_is_still_checked(
    deployed: Deployed, capsys: Capture
) -> None:
    code, out = check(deployed, capsys, FWCOST_TIMEZONE="Nowhere/Land", FWCOST_TOP_N="zero")

    assert code == 2
    settings = line(out, "settings")
    assert "FWCOST_TIMEZONE: 'Nowhere/Land' is not an IANA timezone" in settings
    assert "FWCOST_TOP_N: 'zero' is not a whole number" in settings
    assert "2 problems" in settings
    # Fireworks needs the timezone (the report day is in it); the archive and Slack do not
    assert line(out, "billingUsage").startswith("– billingUsage not judged: FWCOST_TIMEZONE")
    assert line(out, "bucket").startswith("✓ bucket")
    assert line(out, "bot token").startswith("✓ bot token")
    assert "(the settings are invalid). Exit status 2." in out


def test_no_account_and_two_archives_still_checks_email_and_slack(
    deployed: Deployed, capsys: Capture, tmp_path: Path
) -> None:
    code, out = check(deployed, capsys, FWCOST_ACCOUNT_ID="", FWCOST_ARCHIVE_DIR=str(tmp_path))

    assert code == 2
    assert "FWCOST_ACCOUNT_ID: required" in line(out, "settings")
    assert "FWCOST_ARCHIVE_BUCKET / FWCOST_ARCHIVE_DIR: set exactly one" in line(out, "settings")
    assert line(out, "API key").startswith("– API key not judged: FWCOST_ACCOUNT_ID")
    assert line(out, "bucket").startswith("– bucket not judged")
    assert line(out, "sender").startswith("✓ sender")
    assert list(tmp_path.iterdir()) == []


def test_routing_flag_checks_a_file_before_it_is_uploaded(
    deployed: Deployed, capsys: Capture, tmp_path: Path
) -> None:
    broken = tmp_path / "routing.json"
    broken.write_text(json.dumps({"routes": {"overall": {"slack": [{"kind": "webhok"}]}}}))

    code, out = check(deployed, capsys, "--routing", str(broken))

    assert (code, failed(out)) == (2, ["routing"])
    assert f"routing (file:{broken}): routes.overall.slack[0]: unknown kind 'webhok'" in line(
        out, "routing"
    )

    # A good file replaces the SSM parameter's routing: here email only, so no Slack section
    email_only = {"routes": {"overall": {"email": ROUTING["routes"]["overall"]["email"]}}}  # type: ignore[index]
    broken.write_text(json.dumps(email_only))
    code, out = check(deployed, capsys, "--routing", str(broken))
    assert (code, failed(out)) == (0, [])
    assert "\nSlack" not in out
    assert "1 email destination" in line(out, "routing")


def test_a_sender_outside_the_deployment_identity_is_a_settings_error(
    deployed: Deployed, capsys: Capture
) -> None:
    code, out = check(deployed, capsys, FWCOST_EMAIL_FROM="reports@other.example")

    assert (code, failed(out)) == (2, ["routing"])
    assert "may send only as reports@other.example" in line(out, "routing")


def test_a_missing_bucket(deployed: Deployed, capsys: Capture) -> None:
    code, out = check(deployed, capsys, "--bucket", "fwcost-no-such-bucket")

    assert (code, failed(out)) == (1, ["bucket"])
    assert "no bucket named fwcost-no-such-bucket" in line(out, "bucket")
    assert "Fix: check FWCOST_ARCHIVE_BUCKET" in line(out, "bucket")


def test_a_folder_archive_is_probed_and_left_as_found(
    deployed: Deployed, capsys: Capture, tmp_path: Path
) -> None:
    code, out = check(deployed, capsys, "--out", str(tmp_path / "archive"))
    assert (code, failed(out)) == (0, [])
    assert "is writable" in line(out, "folder")
    assert list(tmp_path.iterdir()) == []  # not even the folders made for the probe

    (tmp_path / "a-file").write_text("in the way")
    code, out = check(deployed, capsys, "--out", str(tmp_path / "a-file"))
    assert (code, failed(out)) == (1, ["folder"])
    assert "is not writable" in line(out, "folder")


def test_send_test_reaches_every_destination_and_records_nothing(
    deployed: Deployed, capsys: Capture
) -> None:
    from delivery.support import sent_raw_messages

    code, out = check(deployed, capsys, "--send-test")

    assert (code, failed(out)) == (0, [])
    slack = deployed.slack.delivered()
    posts = [
        r
        for r in slack
        if r.path in ("/services/T0/B0/overallWebhookSecret0123", "/api/chat.postMessage")
    ]
    assert len(posts) == 3  # the webhook and both bot channels
    assert all(post.body["text"].startswith("TEST — fwcost check") for post in posts)
    emails = [email.message_from_string(m.raw_data, policy=default) for m in sent_raw_messages()]
    assert sorted(m["To"] for m in emails) == ["finops@acme.ai", "search-leads@acme.ai"]
    for message in emails:
        assert message["Subject"].startswith("TEST — fwcost check")
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert text.splitlines()[0] == "TEST — fwcost check"
    for destination in (
        "slack-webhook-overall_webhook",
        "slack-bot-C0123ABCD",
        "slack-bot-C0SEARCH1",
    ):
        assert line(out, destination).startswith(f"✓ {destination}")
    assert deployed.s3_keys() == []  # no ledger record, no probe


def test_send_test_reports_each_destination_that_fails(deployed: Deployed, capsys: Capture) -> None:
    deployed.slack.failing["/services/T0/B0/"] = 404
    deployed.slack.not_member = {"C0SEARCH1"}

    code, out = check(deployed, capsys, "--send-test")

    assert code == 1
    assert failed(out) == ["channel", "slack-webhook-overall_webhook", "slack-bot-C0SEARCH1"]
    assert "no_service: the webhook under key 'overall_webhook' was removed" in line(
        out, "slack-webhook-overall_webhook"
    )
    assert "not_in_channel: the app is not in channel C0SEARCH1" in line(out, "slack-bot-C0SEARCH1")
    assert line(out, "slack-bot-C0123ABCD").startswith("✓")
