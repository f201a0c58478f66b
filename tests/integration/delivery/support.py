"""Delivery integration helpers: known secrets, sample reports, and the fake Slack (which
lives in tests/fake_slack.py, shared with the fault-injection tier)."""

from __future__ import annotations

from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from fake_slack import Breakage, CapturedRequest, FakeSlack, PostedMessage, serve_fake_slack
from fwcost.delivery import Attachment, OutgoingReport

__all__ = [
    "BOT_TOKEN",
    "REGION",
    "SECRET_VALUES",
    "SLACK_SECRETS",
    "WEBHOOK_OVERALL",
    "WEBHOOK_SEARCH",
    "Breakage",
    "CapturedRequest",
    "FakeSlack",
    "PostedMessage",
    "make_report",
    "sent_raw_messages",
    "serve_fake_slack",
]

REGION = "us-east-1"
# Realistic-looking secret values: tests assert they never leak into errors, logs or outcomes.
WEBHOOK_OVERALL = "https://hooks.slack.com/services/T0SECRET/B0OVERALL/overallWebhookSecret0123"
WEBHOOK_SEARCH = "https://hooks.slack.com/services/T0SECRET/B0SEARCH/searchWebhookSecret4567"
BOT_TOKEN = "xoxb-1111-2222-botTokenSecretValue89"
SLACK_SECRETS = {
    "overall_webhook": WEBHOOK_OVERALL,
    "search_webhook": WEBHOOK_SEARCH,
    "bot_token": BOT_TOKEN,
}
SECRET_VALUES = [*SLACK_SECRETS.values(), "overallWebhookSecret0123", "searchWebhookSecret4567"]


def sent_raw_messages() -> list[Any]:
    """What moto's SES accepted (SES v2 sends land in the v1 backend)."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def make_report(
    audience: str, *, csv: bytes | None = b"day,cost\n2026-11-21,12.50\n"
) -> OutgoingReport:
    return OutgoingReport(
        team=None if audience == "overall" else audience,
        subject=f"Fireworks costs 2026-11-21 — {audience}: $12.50",
        html=f"<html><body><h1>{audience}</h1><p>Total $12.50 ✓</p></body></html>",
        text=f"Fireworks costs for {audience}\nTotal: $12.50\nTop model: llama-v3p1-70b\nmore",
        slack={
            "text": f"Fireworks costs {audience}: $12.50",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{audience}*"}}],
        },
        attachments=()
        if csv is None
        else (Attachment("fwcost-acme-ai-2026-11-21.csv", "text/csv", csv),),
    )
