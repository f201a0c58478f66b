"""SlackSender against a fake Slack on loopback: webhooks, bot posts and edits, retries, errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from delivery.support import BOT_TOKEN, SECRET_VALUES, Breakage, FakeSlack, make_report
from fwcost.delivery import (
    DeliveryError,
    LedgerKey,
    Receipt,
    SlackBotDestination,
    SlackSender,
    SlackWebhookDestination,
)
from fwcost.delivery.slack import MAX_RETRY_AFTER_SECONDS

SEARCH_WEBHOOK = SlackWebhookDestination(secret_key="search_webhook")
BOT_CHANNEL = SlackBotDestination(channel="C0123ABCD", secret_key="bot_token")
KEY = LedgerKey("acme-ai", date(2026, 11, 21), None, BOT_CHANNEL.destination_id)


def assert_no_secret(text: str) -> None:
    for secret in SECRET_VALUES:
        assert secret not in text


def test_webhook_posts_the_block_kit_payload_once(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    report = make_report("search")

    receipt = slack_sender.send(report, SEARCH_WEBHOOK, None, KEY)

    assert receipt == Receipt(action="posted")
    [post] = fake_slack.delivered()
    assert post.path == "/services/T0SECRET/B0SEARCH/searchWebhookSecret4567"
    assert post.body == report.slack


def test_bot_posts_with_the_token_and_returns_channel_and_ts(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    report = make_report("overall")

    receipt = slack_sender.send(report, BOT_CHANNEL, None, KEY)

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

    receipt = slack_sender.send(make_report("overall"), BOT_CHANNEL, earlier, KEY)

    [update] = fake_slack.delivered()
    assert update.path == "/api/chat.update"
    assert update.body["ts"] == "1700000000.000100"
    assert receipt == Receipt(action="updated", channel="C0123ABCD", ts="1700000000.000100")


def test_bot_posts_anew_when_the_earlier_message_was_deleted(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.api_errors["chat.update"] = "message_not_found"
    earlier = Receipt(action="posted", channel="C0123ABCD", ts="1700000000.000100")

    receipt = slack_sender.send(make_report("overall"), BOT_CHANNEL, earlier, KEY)

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
    slack_sender.send(make_report("search"), destination, None, KEY)

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
        slack_sender.send(make_report("search"), destination, None, KEY)

    assert len(fake_slack.requests) == 3  # the first try and two retries, then it gives up
    assert str(raised.value).startswith(f"{destination.destination_id}: ")
    assert "500" in str(raised.value)
    assert_no_secret(str(raised.value))


def test_a_revoked_webhook_says_to_update_the_secret(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.failing["/services/"] = 404

    with pytest.raises(DeliveryError) as raised:
        slack_sender.send(make_report("search"), SEARCH_WEBHOOK, None, KEY)

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
        slack_sender.send(make_report("overall"), BOT_CHANNEL, None, KEY)

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
        sender.send(make_report("search"), SEARCH_WEBHOOK, None, KEY)

    assert "slack-webhook-search_webhook" in str(raised.value)
    assert_no_secret(str(raised.value))
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_a_missing_secret_key_names_the_key_not_the_values(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    destination = SlackWebhookDestination(secret_key="ads_webhook")

    with pytest.raises(DeliveryError, match="the Slack secret has no key 'ads_webhook'") as raised:
        slack_sender.send(make_report("ads"), destination, None, KEY)

    assert_no_secret(str(raised.value))
    assert fake_slack.requests == []


def test_a_bot_post_and_its_edit_carry_the_delivery_as_metadata(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    posted = slack_sender.send(make_report("overall"), BOT_CHANNEL, None, KEY)
    slack_sender.send(make_report("overall"), BOT_CHANNEL, posted, KEY)

    expected = {
        "event_type": "fwcost_report",
        "event_payload": {
            "account": "acme-ai",
            "day": "2026-11-21",
            "audience": "audience=overall",
            "destination": "slack-bot-C0123ABCD",
        },
    }
    post, update = fake_slack.delivered()
    assert post.body["metadata"] == update.body["metadata"] == expected
    [message] = fake_slack.channels["C0123ABCD"]
    assert message.metadata == expected


@pytest.mark.parametrize(
    ("destination", "path"),
    [(SEARCH_WEBHOOK, "/services/"), (BOT_CHANNEL, "/api/chat.postMessage")],
)
def test_a_retry_after_beyond_the_cap_fails_at_once_instead_of_sleeping(
    slack_sender: SlackSender,
    fake_slack: FakeSlack,
    retry_sleeps: list[float],
    destination: SlackWebhookDestination | SlackBotDestination,
    path: str,
) -> None:
    # Given Slack rate-limiting with Retry-After: 10 hours
    fake_slack.scripted[path] = [429]
    fake_slack.retry_after = "36000"

    with pytest.raises(DeliveryError) as raised:
        slack_sender.send(make_report("search"), destination, None, KEY)

    # Then nothing was slept or retried, and the failure says why and what happens next
    assert retry_sleeps == []
    assert len(fake_slack.requests) == 1
    assert str(raised.value) == (
        f"{destination.destination_id}: Slack asked to wait 36000 s, more than the"
        f" {MAX_RETRY_AFTER_SECONDS} s a run waits; retried next run"
    )


def test_a_retry_after_within_the_cap_is_waited_for(
    slack_sender: SlackSender, fake_slack: FakeSlack, retry_sleeps: list[float]
) -> None:
    fake_slack.scripted["/services/"] = [429]
    fake_slack.retry_after = str(MAX_RETRY_AFTER_SECONDS)

    slack_sender.send(make_report("search"), SEARCH_WEBHOOK, None, KEY)

    assert MAX_RETRY_AFTER_SECONDS <= retry_sleeps[0] < MAX_RETRY_AFTER_SECONDS + 1
    assert len(fake_slack.delivered()) == 1


def test_short_waits_that_never_end_fail_as_rate_limited_not_as_too_long(
    slack_sender: SlackSender, fake_slack: FakeSlack, retry_sleeps: list[float]
) -> None:
    fake_slack.failing["/services/"] = 429  # Retry-After: 1, every time

    with pytest.raises(DeliveryError) as raised:
        slack_sender.send(make_report("search"), SEARCH_WEBHOOK, None, KEY)

    assert len(retry_sleeps) == 2  # the retry budget, spent
    assert "rate_limited: Slack kept rate-limiting after retries" in str(raised.value)
    assert "more than" not in str(raised.value)


@pytest.mark.parametrize(
    ("breakage", "error"),
    [
        (Breakage.GARBAGE, "BadStatusLine"),
        (Breakage.CUT, "IncompleteRead"),
        (Breakage.HANG_UP, "RemoteDisconnected"),
    ],
)
@pytest.mark.parametrize(
    ("destination", "path"),
    [(SEARCH_WEBHOOK, "/services/"), (BOT_CHANNEL, "/api/chat.postMessage")],
)
def test_a_garbled_or_cut_answer_is_a_delivery_error_and_is_not_retried_blindly(
    slack_sender: SlackSender,
    fake_slack: FakeSlack,
    destination: SlackWebhookDestination | SlackBotDestination,
    path: str,
    breakage: Breakage,
    error: str,
) -> None:
    # Given Slack takes the post, then its answer is garbage or the connection is cut
    fake_slack.broken[path] = breakage

    with pytest.raises(DeliveryError) as raised:
        slack_sender.send(make_report("search"), destination, None, KEY)

    # Then it is one masked DeliveryError, and the post (which landed) was not sent twice
    assert str(raised.value).startswith(f"{destination.destination_id}: Slack failed: {error}")
    assert_no_secret(str(raised.value))
    assert len(fake_slack.delivered()) == 1


def test_find_sent_pages_through_history_to_the_post_with_its_metadata(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    # Given the report posted, then the team's report and other messages after it
    since = datetime.now(UTC) - timedelta(minutes=1)
    posted = slack_sender.send(make_report("overall"), BOT_CHANNEL, None, KEY)
    team_key = replace(KEY, team="overall")  # a team named "overall" is another audience
    slack_sender.send(make_report("overall"), BOT_CHANNEL, None, team_key)
    for text in ("lunch?", "deploy done", "thanks"):
        fake_slack.post("C0123ABCD", text, None)

    found = slack_sender.find_sent(BOT_CHANNEL, KEY, since)

    assert found == posted
    [lookup, *more_pages] = fake_slack.lookups()
    assert lookup.body["include_all_metadata"] in {"1", "true"}
    assert float(lookup.body["oldest"]) == pytest.approx(since.timestamp())
    assert len(more_pages) == 2  # 5 messages newest first, 2 a page: found on the third
    assert slack_sender.find_sent(BOT_CHANNEL, KEY, datetime.now(UTC) + timedelta(hours=1)) is None
    assert slack_sender.find_sent(SEARCH_WEBHOOK, KEY, since) is None  # webhooks: no lookup


def test_a_lookup_slack_refuses_says_which_scope_the_bot_needs(
    slack_sender: SlackSender, fake_slack: FakeSlack
) -> None:
    fake_slack.api_errors["conversations.history"] = "missing_scope"

    with pytest.raises(DeliveryError, match="channels:history") as raised:
        slack_sender.find_sent(BOT_CHANNEL, KEY, datetime.now(UTC))

    assert "'missing_scope'" in str(raised.value)
    assert "so none was made" in str(raised.value)
