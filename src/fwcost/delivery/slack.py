"""Posting Block Kit reports to Slack through slack_sdk: incoming webhooks and bot tokens.

slack_sdk's own retry handlers do the waiting: 429 honouring Retry-After, 500/503 and
connection errors with backoff, each a bounded number of times. Webhook URLs and bot tokens
come from the Slack secret by key; they are masked out of every error and every log record
slack_sdk writes (it logs request URLs, and a webhook URL is itself the secret).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.web import SlackResponse, WebClient
from slack_sdk.webhook import WebhookClient

from fwcost.delivery.errors import DeliveryError
from fwcost.delivery.masking import SecretMasker
from fwcost.delivery.model import (
    Destination,
    OutgoingReport,
    Receipt,
    SlackBotDestination,
    SlackWebhookDestination,
)

_logger = logging.getLogger(__name__)

# What to do about the errors Slack answers most; the rest are reported as Slack said them.
_HINTS = {
    "not_in_channel": "invite the bot to the channel",
    "channel_not_found": "check the channel ID and that the bot can see the channel",
    "is_archived": "the channel is archived: unarchive it or route elsewhere",
    "channel_is_archived": "the channel is archived: unarchive it or route elsewhere",
    "invalid_auth": "the bot token is invalid: update it in the Slack secret",
    "not_authed": "the bot token is missing: update it in the Slack secret",
    "token_revoked": "the bot token was revoked: update it in the Slack secret",
    "account_inactive": "the bot token's app was removed: reinstall it and update the secret",
    "missing_scope": "give the Slack app the chat:write scope and reinstall it",
    "no_service": "the webhook was removed: create a new one and update the Slack secret",
    "invalid_token": "the webhook URL is wrong or revoked: update it in the Slack secret",
    "no_team": "the webhook's workspace is gone: update the webhook in the Slack secret",
    "action_prohibited": "a workspace admin restricted posting to this channel",
    "ratelimited": "Slack kept rate-limiting after retries: the run can be retried later",
}


@dataclass(frozen=True)
class SlackRetryPolicy:
    """How many times slack_sdk retries each kind of failure, and the backoff between tries."""

    max_retries: int = 3
    backoff_factor_seconds: float = 0.5  # server/connection errors wait factor × 2^attempt

    def handlers(self) -> list[RetryHandler]:
        interval = BackoffRetryIntervalCalculator(backoff_factor=self.backoff_factor_seconds)
        return [
            RateLimitErrorRetryHandler(max_retry_count=self.max_retries),
            ServerErrorRetryHandler(max_retry_count=self.max_retries, interval_calculator=interval),
            ConnectionErrorRetryHandler(
                max_retry_count=self.max_retries, interval_calculator=interval
            ),
        ]


def load_slack_secrets(secret_string: str, source: str) -> dict[str, str]:
    """Parse the Slack secret (a JSON object of key → URL/token); errors never quote values."""
    try:
        document = json.loads(secret_string)
    except json.JSONDecodeError:
        raise ValueError(f"Slack secret ({source}) is not a JSON object") from None
    if not isinstance(document, dict):
        raise ValueError(f"Slack secret ({source}) is not a JSON object")
    not_strings = sorted(key for key, value in document.items() if not isinstance(value, str))
    if not_strings:
        raise ValueError(f"Slack secret ({source}): keys {not_strings} must hold strings")
    return {str(key): str(value) for key, value in document.items()}


class SlackSender:
    """Sends reports to Slack destinations; a Sender for destinations of kind "slack"."""

    def __init__(
        self,
        secrets: Mapping[str, str],
        *,
        api_base_url: str = WebClient.BASE_URL,
        webhook_base_url: str | None = None,
        retry: SlackRetryPolicy | None = None,
        timeout_seconds: int = 15,
    ) -> None:
        """`api_base_url` replaces https://slack.com/api/; `webhook_base_url` (scheme and
        host, e.g. "http://127.0.0.1:8080") replaces the host of every webhook URL: both let
        tests and the demo point at a fake Slack."""
        self._secrets = dict(secrets)
        self._api_base_url = api_base_url
        self._webhook_base_url = webhook_base_url
        self._retry = retry or SlackRetryPolicy()
        self._timeout = timeout_seconds
        self._masker = SecretMasker(self._secrets.values())
        self._sdk_logger = self._masker.private_logger("fwcost.delivery.slack_sdk", _logger)

    def send(
        self, report: OutgoingReport, destination: Destination, previous: Receipt | None
    ) -> Receipt:
        try:
            if isinstance(destination, SlackWebhookDestination):
                return self._post_webhook(report, destination)
            if isinstance(destination, SlackBotDestination):
                return self._post_bot(report, destination, previous)
        except DeliveryError as error:
            raise DeliveryError(error.destination_id, self._masker.mask(error.problem)) from None
        except (SlackClientError, OSError, ValueError) as error:
            # `from None`: a chained urllib error's text may quote the URL.
            problem = self._masker.mask(f"{type(error).__name__}: {error}")
            raise DeliveryError(destination.destination_id, f"Slack failed: {problem}") from None
        raise DeliveryError(destination.destination_id, "not a Slack destination")

    def _secret(self, destination: SlackWebhookDestination | SlackBotDestination) -> str:
        value = self._secrets.get(destination.secret_key)
        if not value:
            raise DeliveryError(
                destination.destination_id,
                f"the Slack secret has no key '{destination.secret_key}': add it"
                f" (keys present: {sorted(self._secrets)})",
            )
        return value

    def _post_webhook(
        self, report: OutgoingReport, destination: SlackWebhookDestination
    ) -> Receipt:
        client = WebhookClient(
            url=self._webhook_url(self._secret(destination)),
            timeout=self._timeout,
            logger=self._sdk_logger,
            retry_handlers=self._retry.handlers(),
        )
        response = client.send_dict(report.slack)
        if response.status_code != 200 or response.body != "ok":
            error = response.body.strip() or "(empty answer)"
            hint = _HINTS.get(error, "see the Slack status page or the webhook's settings")
            raise DeliveryError(
                destination.destination_id,
                f"Slack webhook answered HTTP {response.status_code} '{error}': {hint}",
            )
        return Receipt(action="posted")

    def _webhook_url(self, url: str) -> str:
        if self._webhook_base_url is None:
            return url
        base = urlsplit(self._webhook_base_url)
        original = urlsplit(url)
        return urlunsplit((base.scheme, base.netloc, original.path, original.query, ""))

    def _post_bot(
        self, report: OutgoingReport, destination: SlackBotDestination, previous: Receipt | None
    ) -> Receipt:
        client = WebClient(
            token=self._secret(destination),
            base_url=self._api_base_url,
            timeout=self._timeout,
            logger=self._sdk_logger,
            retry_handlers=self._retry.handlers(),
        )
        message: dict[str, Any] = {
            "channel": destination.channel,
            "text": report.slack.get("text", report.subject),
            "blocks": report.slack.get("blocks", []),
        }
        try:
            if previous is not None and previous.ts and previous.channel == destination.channel:
                return self._update(client, message, previous.ts)
            response = client.chat_postMessage(**message)
        except SlackApiError as error:
            raise DeliveryError(destination.destination_id, describe_api_error(error)) from None
        return _receipt("posted", response)

    def _update(self, client: WebClient, message: dict[str, Any], ts: str) -> Receipt:
        """Edit the day's earlier post; post anew if someone deleted it."""
        try:
            response = client.chat_update(ts=ts, **message)
        except SlackApiError as error:
            if error.response.get("error") != "message_not_found":
                raise
            _logger.info("earlier Slack message %s was deleted; posting a new one", ts)
            return _receipt("posted", client.chat_postMessage(**message))
        return _receipt("updated", response)


def _receipt(action: Literal["posted", "updated"], response: SlackResponse) -> Receipt:
    return Receipt(action=action, channel=str(response["channel"]), ts=str(response["ts"]))


def describe_api_error(error: SlackApiError) -> str:
    status = error.response.status_code
    if status >= 500:
        return (
            f"Slack API answered HTTP {status} after retries: Slack is failing"
            " (see https://slack-status.com); the run can be retried later"
        )
    code = str(error.response.get("error") or f"HTTP {status}")
    hint = _HINTS.get(code, "see https://api.slack.com/methods for what it means")
    return f"Slack API answered '{code}': {hint}"
