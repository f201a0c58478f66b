"""SlackSender against a fake Slack on loopback: webhooks, bot posts and edits, retries, errors."""

from __future__ import annotations

import pytest

from delivery.support import BOT_TOKEN, SECRET_VALUES, FakeSlack, make_report
from fwcost.delivery import (
    DeliveryError,
    Receipt,
    SlackBotDestination,
    SlackSender,
    SlackWebhookDestination,
)

SEARCH_WEBHOOK = SlackWebhookDestination(secret_key="search_webhook")
BOT_CHANNEL = SlackBotDestination(channel="C0123ABCD", secret_key="bot_token")


def assert_no_secret(text: str) -> None:
    for secret in SECRET_VALUES:
        assert secret not in text


def test_webhook_posts_the_block_kit_payload_once(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    report = make_report("search")

    receipt = slack_sender.send(report, SEARCH_WEBHOOK, None)

    assert receipt == Receipt(action="posted")
    [post] = fake_slack.delivered()
    assert post.path == "/services/T0SECRET/B0SEARCH/searchWebhookSecret4567"
    assert post.body == report.slack


def test_bot_posts_with_the_token_and_returns_channel_and_ts(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    report = make_report("overall")

    receipt = slack_sender.send(report, BOT_CHANNEL, None)

    [post] = fake_slack.delivered()
    assert post.path == "/api/chat.postMessage"
    assert post.authorization == f"Bearer {BOT_TOKEN}"
    assert post.body["channel"] == "C0123ABCD"
    assert post.body["blocks"] == report.slack["blocks"]
    assert post.body["text"] == report.slack["text"]
    assert receipt.action == "posted"
    assert receipt.channel == "C0123ABCD"
    assert receipt.ts


def test_bot_with_an_earlier_receipt_edits_that_message(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    earlier = Receipt(action="posted", channel="C0123ABCD", ts="1700000000.000100")

    receipt = slack_sender.send(make_report("overall"), BOT_CHANNEL, earlier)

    [update] = fake_slack.delivered()
    assert update.path == "/api/chat.update"
    assert update.body["ts"] == "1700000000.000100"
    assert receipt == Receipt(action="updated", channel="C0123ABCD", ts="1700000000.000100")


def test_bot_posts_anew_when_the_earlier_message_was_deleted(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.api_errors["chat.update"] = "message_not_found"
    earlier = Receipt(action="posted", channel="C0123ABCD", ts="1700000000.000100")

    receipt = slack_sender.send(make_report("overall"), BOT_CHANNEL, earlier)

    assert [r.path for r in fake_slack.delivered()] == ["/api/chat.postMessage"]
    assert receipt.action == "posted"


@pytest.mark.parametrize(
    ("destination", "path"),
    [(SEARCH_WEBHOOK, "/services/"), (BOT_CHANNEL, "/api/chat.postMessage")],
)
def test_rate_limit_then_server_error_then_success_lands_exactly_one_post(
    slack_sender: SlackSender,
    fake_slack: FakeSlack,
    retry_sleeps: list[float],
    destination: SlackWebhookDestination | SlackBotDestination,
    path: str,
) -> None:
    # Given Slack answers 429 (Retry-After: 1), then 500, then accepts
    fake_slack.scripted[path] = [429, 500]

    # When one report is sent
    slack_sender.send(make_report("search"), destination, None)

    # Then three attempts were made, one landed, and the first wait honoured Retry-After
    assert [r.status for r in fake_slack.requests] == [429, 500, 200]
    assert len(fake_slack.delivered()) == 1
    assert 1 <= retry_sleeps[0] < 2
    assert len(retry_sleeps) == 2


@pytest.mark.parametrize(
    ("destination", "path"),
    [(SEARCH_WEBHOOK, "/services/"), (BOT_CHANNEL, "/api/chat.postMessage")],
)
def test_server_errors_beyond_the_retry_budget_fail_naming_the_destination(
    slack_sender: SlackSender,
    fake_slack: FakeSlack,
    destination: SlackWebhookDestination | SlackBotDestination,
    path: str,
) -> None:
    fake_slack.failing[path] = 500

    with pytest.raises(DeliveryError) as raised:
        slack_sender.send(make_report("search"), destination, None)

    assert len(fake_slack.requests) == 3  # the first try and two retries, then it gives up
    assert str(raised.value).startswith(f"{destination.destination_id}: ")
    assert "500" in str(raised.value)
    assert_no_secret(str(raised.value))


def test_a_revoked_webhook_says_to_update_the_secret(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.failing["/services/"] = 404

    with pytest.raises(DeliveryError) as raised:
        slack_sender.send(make_report("search"), SEARCH_WEBHOOK, None)

    assert str(raised.value) == (
        "slack-webhook-search_webhook: no_service: the webhook under key 'search_webhook' was"
        " removed → create a new webhook and put its URL under 'search_webhook' in the Slack secret"
    )


@pytest.mark.parametrize(
    ("code", "explained"),
    [
        (
            "not_in_channel",
            "the app is not in channel C0123ABCD → invite it: /invite @<app name> in that channel",
        ),
        (
            "channel_not_found",
            "the app sees no channel C0123ABCD → check the channel ID in the routing;"
            " invite the app first to a private channel",
        ),
        (
            "invalid_auth",
            "Slack refused the token under key 'bot_token' → put a valid bot token (xoxb-…)"
            " under 'bot_token' in the Slack secret (FWCOST_SLACK_SECRET)",
        ),
        (
            "some_new_error",
            "Slack refused the post (HTTP 200) → see"
            " https://api.slack.com/methods/chat.postMessage for what the code means",
        ),
    ],
)
def test_an_api_error_gives_slacks_code_what_it_means_and_what_to_do(
    slack_sender: SlackSender, fake_slack: FakeSlack, code: str, explained: str
) -> None:
    fake_slack.api_errors["chat.postMessage"] = code

    with pytest.raises(DeliveryError) as raised:
        slack_sender.send(make_report("overall"), BOT_CHANNEL, None)

    assert str(raised.value) == f"slack-bot-C0123ABCD: {code}: {explained}"
    assert_no_secret(str(raised.value))


def test_an_unreachable_slack_fails_without_quoting_the_webhook_url(
    retry_sleeps: list[float],
) -> None:
    # Given a webhook host nobody listens on (port 9 on loopback refuses connections)
    sender = SlackSender(
        {
            "search_webhook": "https://hooks.slack.com/services/T0SECRET/B0SEARCH/searchWebhookSecret4567"
        },
        webhook_base_url="http://127.0.0.1:9",
    )

    with pytest.raises(DeliveryError) as raised:
        sender.send(make_report("search"), SEARCH_WEBHOOK, None)

    assert "slack-webhook-search_webhook" in str(raised.value)
    assert_no_secret(str(raised.value))
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_a_missing_secret_key_names_the_key_not_the_values(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    destination = SlackWebhookDestination(secret_key="ads_webhook")

    with pytest.raises(DeliveryError, match="the Slack secret has no key 'ads_webhook'") as raised:
        slack_sender.send(make_report("ads"), destination, None)

    assert_no_secret(str(raised.value))
    assert fake_slack.requests == []
