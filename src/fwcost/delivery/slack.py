"""Posting Block Kit reports to Slack through slack_sdk: incoming webhooks and bot tokens.

slack_sdk's own retry handlers do the waiting, each a bounded number of times: 429 honouring
Retry-After up to MAX_RETRY_AFTER_SECONDS (a longer ask fails the delivery, for the run's retry
to send), 500/503, and connection errors that happened while the request was being sent, with
backoff. Webhook URLs and bot tokens
come from the Slack secret by key; they are masked out of every error and every log record
slack_sdk writes (it logs request URLs, and a webhook URL is itself the secret).

A bot post carries its delivery (account, day, audience, destination) as message metadata, so
a run that finds the delivery claimed by a run that never recorded the outcome can look the
post up with conversations.history instead of posting again. The bot then needs the
channels:history scope (groups:history for a private channel) besides chat:write.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException
from typing import Any, Literal
from urllib.error import URLError
from urllib.parse import urlsplit, urlunsplit

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse, WebClient
from slack_sdk.webhook import WebhookClient

from fwcost.delivery.errors import DeliveryError
from fwcost.delivery.masking import SecretMasker
from fwcost.delivery.model import (
    Destination,
    LedgerKey,
    OutgoingReport,
    Receipt,
    SlackBotDestination,
    SlackWebhookDestination,
    audience_segment,
)

_logger = logging.getLogger(__name__)

# The longest Retry-After a run waits for; Slack asking for more fails that delivery (the
# run's retry sends it) rather than sleeping past the function's timeout.
MAX_RETRY_AFTER_SECONDS = 30
# The event_type of the metadata on every bot post (Slack wants [a-z0-9_]).
METADATA_EVENT_TYPE = "fwcost_report"
_HISTORY_PAGE_SIZE = 200

# Slack's error codes a person can act on: (what it means, what to do). {channel} and {key}
# name the destination; the rest are reported as Slack said them.
_ARCHIVED = ("{channel} is archived", "unarchive it or route the report elsewhere")
_EXPLAINED: dict[str, tuple[str, str]] = {
    "not_in_channel": (
        "the app is not in {channel}",
        "invite it: /invite @<app name> in that channel",
    ),
    "channel_not_found": (
        "the app sees no {channel}",
        "check the channel ID in the routing; invite the app first to a private channel",
    ),
    "is_archived": _ARCHIVED,
    "channel_is_archived": _ARCHIVED,
    "invalid_auth": (
        "Slack refused the token under key '{key}'",
        "put a valid bot token (xoxb-…) under '{key}' in the Slack secret (FWCOST_SLACK_SECRET)",
    ),
    "not_authed": ("no token was sent", "put the bot token under '{key}' in the Slack secret"),
    "token_revoked": (
        "the token under key '{key}' was revoked",
        "reinstall the app and put its new token under '{key}' in the Slack secret",
    ),
    "account_inactive": (
        "the token under key '{key}' belongs to a removed app or user",
        "reinstall the app and put its new token under '{key}' in the Slack secret",
    ),
    "missing_scope": (
        "the app lacks the chat:write scope",
        "add chat:write in the app's OAuth settings, reinstall it and update '{key}'",
    ),
    "no_service": (
        "the webhook under key '{key}' was removed",
        "create a new webhook and put its URL under '{key}' in the Slack secret",
    ),
    "invalid_token": (
        "the webhook URL under key '{key}' is wrong or revoked",
        "put a working webhook URL under '{key}' in the Slack secret",
    ),
    "no_team": (
        "the webhook's workspace is gone",
        "put a new webhook URL under '{key}' in the Slack secret",
    ),
    "action_prohibited": (
        "a workspace admin restricted posting to {channel}",
        "ask them to allow the app, or route the report elsewhere",
    ),
    "ratelimited": ("Slack kept rate-limiting after retries", "retry the run later"),
    "rate_limited": ("Slack kept rate-limiting after retries", "retry the run later"),
}
_CODE_CHARS = 80  # a webhook answers its error code as plain text; a proxy may answer a page
_SLACK_FAILING = "Slack is failing after retries → retry the run later (https://slack-status.com)"


@dataclass(frozen=True)
class SlackRetryPolicy:
    """How many times slack_sdk retries each kind of failure, and the backoff between tries."""

    max_retries: int = 3
    backoff_factor_seconds: float = 0.5  # server/connection errors wait factor × 2^attempt

    def handlers(self) -> list[RetryHandler]:
        interval = BackoffRetryIntervalCalculator(backoff_factor=self.backoff_factor_seconds)
        return [
            _CappedRateLimitRetryHandler(max_retry_count=self.max_retries),
            ServerErrorRetryHandler(max_retry_count=self.max_retries, interval_calculator=interval),
            # Only errors raised while the request was being sent (urllib wraps them in
            # URLError): a connection reset or hang-up after it was sent (RemoteDisconnected)
            # may follow a post Slack made, and retrying it blindly would post twice. The run
            # fails that delivery instead, and its retry looks for the post first (bot posts).
            ConnectionErrorRetryHandler(
                max_retry_count=self.max_retries,
                interval_calculator=interval,
                error_types=[URLError],
            ),
        ]


class _CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retries a 429 only when Slack asks for a wait of at most MAX_RETRY_AFTER_SECONDS."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response.headers)
        return wait is not None and wait <= MAX_RETRY_AFTER_SECONDS


def _retry_after(headers: Mapping[str, Any]) -> int | None:
    """Retry-After in seconds (1 when Slack sent none, as slack_sdk assumes); None if unreadable.

    slack_sdk's retry handlers see each header as a list of values, its responses as a string.
    """
    for name, value in headers.items():
        if name.lower() == "retry-after":
            text = str(value[0] if isinstance(value, list) else value).strip()
            return int(text) if text.isdigit() else None
    return 1


def _wait_refused(destination_id: str, status: int, headers: Mapping[str, Any]) -> None:
    """Raise the failure of a 429 this run did not wait out (too long a wait, or unreadable)."""
    wait = _retry_after(headers)
    if status != 429 or (wait is not None and wait <= MAX_RETRY_AFTER_SECONDS):
        return  # not rate-limited, or waited for until the retries ran out: said elsewhere
    asked = f"{wait} s" if wait is not None else "an unreadable time"
    raise DeliveryError(
        destination_id,
        f"Slack asked to wait {asked}, more than the {MAX_RETRY_AFTER_SECONDS} s a run waits;"
        " retried next run",
    )


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
        self,
        report: OutgoingReport,
        destination: Destination,
        previous: Receipt | None,
        key: LedgerKey,
    ) -> Receipt:
        with self._masked_errors(destination):
            if isinstance(destination, SlackWebhookDestination):
                return self._post_webhook(report, destination)
            if isinstance(destination, SlackBotDestination):
                return self._post_bot(report, destination, previous, key)
        raise DeliveryError(destination.destination_id, "not a Slack destination")

    def find_sent(
        self, destination: Destination, key: LedgerKey, since: datetime
    ) -> Receipt | None:
        """The bot post carrying `key` as metadata, posted after `since`; webhooks: None."""
        if not isinstance(destination, SlackBotDestination):
            return None  # a webhook post cannot be looked up
        with self._masked_errors(destination):
            try:
                return self._find_post(destination, key, since)
            except SlackApiError as error:
                raise DeliveryError(
                    destination.destination_id,
                    "could not look for the post an unfinished run may have made"
                    f" (conversations.history), so none was made: Slack answered"
                    f" '{error.response.get('error') or error.response.status_code}';"
                    " the bot needs channels:history (groups:history for a private channel)",
                ) from None

    @contextmanager
    def _masked_errors(self, destination: Destination) -> Iterator[None]:
        """Turn whatever talking to Slack raises into a DeliveryError with secrets masked."""
        try:
            yield
        except DeliveryError as error:
            raise DeliveryError(error.destination_id, self._masker.mask(error.problem)) from None
        except (SlackClientError, OSError, ValueError, HTTPException) as error:
            # HTTPException: a garbled answer or a cut connection (BadStatusLine, IncompleteRead)
            # that urllib does not wrap. `from None`: a chained urllib error's text may quote
            # the URL.
            problem = self._masker.mask(f"{type(error).__name__}: {error}")
            raise DeliveryError(destination.destination_id, f"Slack failed: {problem}") from None

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
        _wait_refused(destination.destination_id, response.status_code, response.headers)
        if response.status_code != 200 or response.body != "ok":
            code = response.body.strip()[:_CODE_CHARS] or "(empty answer)"
            raise DeliveryError(
                destination.destination_id,
                describe_slack_error(code, response.status_code, destination),
            )
        return Receipt(action="posted")

    def _webhook_url(self, url: str) -> str:
        if self._webhook_base_url is None:
            return url
        base = urlsplit(self._webhook_base_url)
        original = urlsplit(url)
        return urlunsplit((base.scheme, base.netloc, original.path, original.query, ""))

    def _web_client(self, destination: SlackBotDestination) -> WebClient:
        return WebClient(
            token=self._secret(destination),
            base_url=self._api_base_url,
            timeout=self._timeout,
            logger=self._sdk_logger,
            retry_handlers=self._retry.handlers(),
        )

    def _post_bot(
        self,
        report: OutgoingReport,
        destination: SlackBotDestination,
        previous: Receipt | None,
        key: LedgerKey,
    ) -> Receipt:
        client = self._web_client(destination)
        message: dict[str, Any] = {
            "channel": destination.channel,
            "text": report.slack.get("text", report.subject),
            "blocks": report.slack.get("blocks", []),
            "metadata": _metadata(key),
        }
        try:
            if previous is not None and previous.ts and previous.channel == destination.channel:
                return self._update(client, message, previous.ts)
            response = client.chat_postMessage(**message)
        except SlackApiError as error:
            _wait_refused(
                destination.destination_id, error.response.status_code, error.response.headers
            )
            raise DeliveryError(
                destination.destination_id, describe_api_error(error, destination)
            ) from None
        return _receipt("posted", response)

    def _find_post(
        self, destination: SlackBotDestination, key: LedgerKey, since: datetime
    ) -> Receipt | None:
        wanted = _metadata(key)
        pages = self._web_client(destination).conversations_history(
            channel=destination.channel,
            oldest=f"{since.timestamp():.6f}",
            include_all_metadata=True,
            limit=_HISTORY_PAGE_SIZE,
        )
        for page in pages:  # slack_sdk follows the cursor from page to page
            for message in page.get("messages", []):
                if message.get("metadata") == wanted:
                    return Receipt(action="posted", channel=destination.channel, ts=message["ts"])
        return None

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


def _metadata(key: LedgerKey) -> dict[str, Any]:
    """What a bot post says it is, for a later run to find it (Slack message metadata)."""
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {
            "account": key.account_id,
            "day": key.period_key,  # a day as before; 2026-W47, 2026-10 for a digest, a statement
            # The ledger's audience segment: a team named "overall" is not the overall report.
            "audience": audience_segment(key.team),
            "destination": key.destination_id,
        },
    }


def _receipt(action: Literal["posted", "updated"], response: SlackResponse) -> Receipt:
    return Receipt(action=action, channel=str(response["channel"]), ts=str(response["ts"]))


def describe_api_error(
    error: SlackApiError, destination: SlackWebhookDestination | SlackBotDestination
) -> str:
    """A Web API refusal, described by describe_slack_error."""
    code = str(error.response.get("error") or "(no error code)")
    return describe_slack_error(code, error.response.status_code, destination)


def describe_slack_error(
    code: str, status: int, destination: SlackWebhookDestination | SlackBotDestination
) -> str:
    """Slack's refusal as "<code>: <what it means> → <what to do>", naming no secret value."""
    if status >= 500:
        return f"HTTP {status}: {_SLACK_FAILING}"
    channel = (
        f"channel {destination.channel}"
        if isinstance(destination, SlackBotDestination)
        else "the webhook's channel"
    )
    meaning, fix = _EXPLAINED.get(code, _unexplained(status, destination))
    names = {"channel": channel, "key": destination.secret_key}
    return f"{code}: {meaning.format(**names)} → {fix.format(**names)}"


def _unexplained(
    status: int, destination: SlackWebhookDestination | SlackBotDestination
) -> tuple[str, str]:
    if isinstance(destination, SlackBotDestination):
        return (
            f"Slack refused the post (HTTP {status})",
            "see https://api.slack.com/methods/chat.postMessage for what the code means",
        )
    return (
        f"the webhook answered HTTP {status}",
        "check the webhook under '{key}' in the Slack app's settings",
    )
