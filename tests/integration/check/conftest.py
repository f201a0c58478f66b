"""`fwcost check` fixtures: what `sam deploy` would create, in moto, beside the Fireworks simulator
and the fake Slack on loopback, with every check set up to pass."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from delivery.support import BOT_TOKEN, REGION, FakeSlack, serve_fake_slack
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.ses.models import ses_backends
from moto.sesv2.responses import SESV2Response

API_KEY = "fw_sim_admin_key"
BUCKET = "fwcost-check-archive"
SENDER = "costs@acme.ai"
RECIPIENTS = ("finops@acme.ai", "cto@acme.ai", "search-leads@acme.ai")
ROUTING = {
    "version": 1,
    "routes": {
        "overall": {
            "slack": [
                {"kind": "webhook", "secret_key": "overall_webhook"},
                {"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"},
            ],
            "email": [{"from": f"FinOps <{SENDER}>", "to": ["finops@acme.ai"],
                       "cc": ["cto@acme.ai"], "attach_csv": True}],
        },
        "teams": {
            "search": {
                "slack": [{"kind": "bot", "channel": "C0SEARCH1", "secret_key": "bot_token"}],
                "email": [{"from": SENDER, "to": ["search-leads@acme.ai"]}],
            }
        },
    },
}  # fmt: skip


@dataclass
class SesAccount:
    """What SES v2 GetAccount answers: moto 5 does not implement it (see ses_account)."""

    production_access: bool = False
    max_24_hour_send: float = 200.0
    max_send_rate: float = 1.0
    denied: bool = False


@dataclass
class Deployed:
    env: dict[str, str]
    secrets: list[str]  # every secret value, to assert none leaks
    slack: FakeSlack
    simulator: Any
    ses_account: SesAccount

    def s3_keys(self) -> list[str]:
        """Every object version and delete marker in the bucket."""
        listing = boto3.client("s3", region_name=REGION).list_object_versions(Bucket=BUCKET)
        return [v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]


def verify_identity(name: str) -> None:
    """moto creates every SES v2 identity unverified and offers no way to verify it: set it."""
    ses_backends[DEFAULT_ACCOUNT_ID][REGION].email_identities[
        name
    ].verified_for_sending_status = True


@pytest.fixture
def ses_account(monkeypatch: pytest.MonkeyPatch) -> SesAccount:
    """Teach moto's SES v2 the GetAccount call, answered from a SesAccount the test can change
    (SentLast24Hours: what moto's backend counts as sent)."""
    account = SesAccount()

    def get_account(self: SESV2Response) -> Any:
        if account.denied:
            raise JsonRESTError("AccessDeniedException", "not authorized to ses:GetAccount")
        sent = self.sesv2_backend.core_backend.sent_message_count
        return json.dumps({
            "ProductionAccessEnabled": account.production_access,
            "SendingEnabled": True,
            "SendQuota": {"Max24HourSend": account.max_24_hour_send,
                          "MaxSendRate": account.max_send_rate, "SentLast24Hours": float(sent)},
        })  # fmt: skip

    monkeypatch.setattr(SESV2Response, "get_account", get_account, raising=False)
    return account


@pytest.fixture
def deployed(ses_account: SesAccount) -> Iterator[Deployed]:
    from aws_lambda_powertools.utilities import parameters

    from fwcost.simulator import SimulatorConfig, run_simulator

    with mock_aws(), run_simulator(SimulatorConfig()) as simulator, serve_fake_slack() as slack:
        slack.channel_names = {"C0123ABCD": "finops", "C0SEARCH1": "search-costs"}
        webhook = f"{slack.base_url}/services/T0/B0/overallWebhookSecret0123"
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        secrets = boto3.client("secretsmanager", region_name=REGION)
        api_secret = secrets.create_secret(Name="fwcost/api-key", SecretString=API_KEY)["ARN"]
        slack_secret = secrets.create_secret(
            Name="fwcost/slack",
            SecretString=json.dumps({"overall_webhook": webhook, "bot_token": BOT_TOKEN}),
        )["ARN"]
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/fwcost/routing", Value=json.dumps(ROUTING), Type="String"
        )
        sesv2 = boto3.client("sesv2", region_name=REGION)
        for identity in (SENDER, *RECIPIENTS):
            sesv2.create_email_identity(EmailIdentity=identity)
            verify_identity(identity)
        env = {
            "FWCOST_ACCOUNT_ID": "acme-ai",
            "FWCOST_TIMEZONE": "America/Los_Angeles",
            "FWCOST_API_KEY_SECRET": api_secret,
            "FWCOST_SLACK_SECRET": slack_secret,
            "FWCOST_SLACK_API_URL": slack.api_url,
            "FWCOST_ROUTING_PARAMETER": "/fwcost/routing",
            "FWCOST_ARCHIVE_BUCKET": BUCKET,
            "FWCOST_EMAIL_FROM": SENDER,
            "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
        }
        # Powertools caches secrets and parameters across invocations; tests start cold.
        parameters.clear_caches()
        yield Deployed(
            env,
            [API_KEY, BOT_TOKEN, webhook, "overallWebhookSecret0123"],
            slack,
            simulator,
            ses_account,
        )
        parameters.clear_caches()
