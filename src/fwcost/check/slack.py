"""The Slack section, when the routing posts to Slack: the secret's keys and their shapes, each
bot token (auth.test, chat:write) and its membership of every routed channel.

Incoming webhooks cannot be tried without posting: their URLs are checked for shape only
(`--send-test` posts to them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse, WebClient

from fwcost.check.model import CheckResult, Section, failed, passed, skipped
from fwcost.check.settings import ROUTING_SETTINGS, LoadedSettings
from fwcost.config import ConfigError
from fwcost.delivery import RoutingConfig, SlackBotDestination, SlackRetryPolicy
from fwcost.delivery.masking import SecretMasker
from fwcost.delivery.slack import describe_api_error
from fwcost.wiring import load_slack_secret

NEEDS = ROUTING_SETTINGS | {"FWCOST_SLACK_SECRET", "FWCOST_SLACK_API_URL"}
SECRET, BOT, CHANNEL = "secret", "bot token", "channel"
WEBHOOK_SHAPE = "https://hooks.slack.com/services/T…/B…/…"
BOT_TOKEN_PREFIX = "xoxb-"  # noqa: S105 - the shape of a bot token, not one
SCOPES_HEADER = "x-oauth-scopes"  # Slack lists a token's scopes on every Web API answer
WRITE_SCOPE, PUBLIC_WRITE_SCOPE = "chat:write", "chat:write.public"
TIMEOUT_SECONDS = 15
_logger = logging.getLogger(__name__)


def check_slack(loaded: LoadedSettings, remember_secret: Callable[[str], None]) -> Section | None:
    """None when nothing is posted to Slack (no routing, or no Slack destination)."""
    settings = loaded.settings
    if loaded.routing is None or settings is None or loaded.unusable(NEEDS):
        return None
    webhooks, bots = _destinations(loaded.routing)
    if not webhooks and not bots:
        return None
    try:
        secrets = load_slack_secret(settings)
    except (ConfigError, GetParameterError) as error:
        fix = (
            "set FWCOST_SLACK_SECRET to the secret holding the webhook URLs and bot tokens "
            "(a JSON object of key → value) and let the function's role read it"
        )
        return Section("Slack", "", (failed(SECRET, str(error), fix),))
    for value in secrets.values():
        remember_secret(value)
    results = [_shapes(webhooks, bots, secrets)]
    api_url = settings.slack_api_url + "/"
    masker = SecretMasker(secrets.values())
    for key in sorted({bot.secret_key for bot in bots}):
        token = secrets.get(key, "")
        if not token.startswith(BOT_TOKEN_PREFIX):
            continue  # the shape line above already failed it
        client = WebClient(
            token=token,
            base_url=api_url,
            timeout=TIMEOUT_SECONDS,
            logger=masker.private_logger("fwcost.check.slack_sdk", _logger),
            retry_handlers=SlackRetryPolicy().handlers(),
        )
        bot, result = _auth(client, key, masker)
        results.append(result)
        channels = [destination for destination in bots if destination.secret_key == key]
        for destination in channels:
            results.append(_channel(client, destination, bot, masker))
    return Section("Slack", settings.slack_api_url, tuple(results))


def _destinations(routing: RoutingConfig) -> tuple[set[str], list[SlackBotDestination]]:
    """The webhook keys, and each bot destination once."""
    webhooks: set[str] = set()
    bots: dict[str, SlackBotDestination] = {}
    for route in (routing.overall, *routing.teams.values()):
        for destination in route.slack:
            if isinstance(destination, SlackBotDestination):
                bots.setdefault(destination.destination_id, destination)
            else:
                webhooks.add(destination.secret_key)
    return webhooks, sorted(bots.values(), key=lambda bot: bot.channel)


def is_webhook_url(value: str) -> bool:
    parts = urlsplit(value)
    segments = parts.path.split("/")
    # "/services/T…/B…/secret": any host, so a proxy or a fake Slack serves as well
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and len(segments) == 5
        and segments[1] == "services"
        and all(segments[2:])
    )


def _shapes(
    webhooks: set[str], bots: list[SlackBotDestination], secrets: dict[str, str]
) -> CheckResult:
    bot_keys = {bot.secret_key for bot in bots}
    problems = [f"key '{key}' is missing" for key in sorted((webhooks | bot_keys) - secrets.keys())]
    problems += [
        f"key '{key}' does not hold an incoming-webhook URL ({WEBHOOK_SHAPE})"
        for key in sorted(webhooks & secrets.keys())
        if not is_webhook_url(secrets[key])
    ]
    problems += [
        f"key '{key}' does not hold a bot token ({BOT_TOKEN_PREFIX}…)"
        for key in sorted(bot_keys & secrets.keys())
        if not secrets[key].startswith(BOT_TOKEN_PREFIX)
    ]
    if problems:
        return failed(
            SECRET,
            "\n".join(problems),
            "put each value in the Slack secret (FWCOST_SLACK_SECRET) under the key the routing "
            f"names: webhook URLs as {WEBHOOK_SHAPE}, bot tokens as {BOT_TOKEN_PREFIX}…",
        )
    return passed(
        SECRET,
        f"{len(webhooks)} webhook key{'s' if len(webhooks) != 1 else ''} and "
        f"{len(bot_keys)} bot token key{'s' if len(bot_keys) != 1 else ''} present and shaped "
        "right (webhooks are tried only by posting: --send-test)",
    )


@dataclass(frozen=True, slots=True)
class _Bot:
    name: str  # the bot user's name, for "/invite @name"
    scopes: frozenset[str] | None  # None: Slack did not say


def _auth(client: WebClient, key: str, masker: SecretMasker) -> tuple[_Bot | None, CheckResult]:
    try:
        response = client.auth_test()
    except SlackApiError as error:
        fix = describe_api_error(error, SlackBotDestination(channel="", secret_key=key))
        return None, failed(BOT, f"'{key}': auth.test refused", fix)
    except (SlackClientError, OSError) as error:
        said = masker.mask(f"{type(error).__name__}: {error}")
        return None, failed(BOT, f"'{key}': auth.test failed: {said}", "check FWCOST_SLACK_API_URL")
    bot = _Bot(str(response.get("user") or "your app"), _scopes(response))
    who = f"'{key}': auth.test ok, team {response.get('team')}, bot @{bot.name}"
    if bot.scopes is None:
        return bot, passed(BOT, f"{who} (Slack did not list its scopes)")
    if WRITE_SCOPE not in bot.scopes:
        return bot, failed(
            BOT,
            f"{who}, but no {WRITE_SCOPE} scope (it has: {', '.join(sorted(bot.scopes)) or 'none'})",
            f"add {WRITE_SCOPE} to the app's Bot Token Scopes (OAuth & Permissions), reinstall it, "
            "and update the token in the Slack secret if it changed",
        )
    return bot, passed(BOT, f"{who}, scope {WRITE_SCOPE}")


def _scopes(response: SlackResponse) -> frozenset[str] | None:
    for name, value in response.headers.items():
        if name.lower() == SCOPES_HEADER:
            text = value[0] if isinstance(value, list) else str(value)
            return frozenset(scope.strip() for scope in text.split(",") if scope.strip())
    return None


def _channel(
    client: WebClient, destination: SlackBotDestination, bot: _Bot | None, masker: SecretMasker
) -> CheckResult:
    channel = destination.channel
    if bot is None:
        return skipped(CHANNEL, f"{channel}: not judged, the bot token did not authenticate")
    invite = f"/invite @{bot.name}"
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        code = error.response.get("error")
        if code == "missing_scope":
            return skipped(
                CHANNEL,
                f"{channel}: not judged, conversations.info needs the channels:read scope "
                "(groups:read for a private channel); --send-test posts to it instead",
            )
        if code == "channel_not_found":
            return failed(
                CHANNEL,
                f"{channel}: not found, or private and the app is not in it",
                f"check the channel ID in the routing; for a private channel, type {invite} in it",
            )
        fix = describe_api_error(error, destination)
        return failed(CHANNEL, f"{channel}: conversations.info refused", fix)
    except (SlackClientError, OSError) as error:
        said = masker.mask(f"{type(error).__name__}: {error}")
        return failed(CHANNEL, f"{channel}: {said}", "check FWCOST_SLACK_API_URL")
    name = f"#{info.get('name') or channel}"
    where = f"{name} ({channel})"
    if info.get("is_archived"):
        return failed(CHANNEL, f"{where} is archived", "unarchive it or route elsewhere")
    if info.get("is_member"):
        return passed(CHANNEL, f"{where}: the app is a member")
    public_write = bot.scopes is not None and PUBLIC_WRITE_SCOPE in bot.scopes
    if public_write and not info.get("is_private"):
        return passed(CHANNEL, f"{where}: not a member, but {PUBLIC_WRITE_SCOPE} lets it post")
    return failed(CHANNEL, f"{where}: the app is not a member", f"in {name}, type {invite}")
