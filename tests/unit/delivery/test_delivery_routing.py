"""Routing configuration: shape, validation errors naming source and JSON path, fallbacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fwcost.delivery import (
    EmailDestination,
    RoutingError,
    SlackBotDestination,
    SlackWebhookDestination,
    load_routing,
)
from fwcost.periods import Cadence

EXAMPLE = Path(__file__).parents[3] / "src" / "fwcost" / "routing.example.json"


def routing_with(**overrides: Any) -> str:
    document: dict[str, Any] = {
        "routes": {
            "overall": {"slack": [{"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot"}]},
            "teams": {"search": {"slack": [{"kind": "webhook", "secret_key": "search_webhook"}]}},
        }
    }
    document.update(overrides)
    return json.dumps(document)


def test_the_example_file_loads_and_routes_teams() -> None:
    routing = load_routing(EXAMPLE.read_text(), str(EXAMPLE))

    daily, weekly, monthly = Cadence.DAILY, Cadence.WEEKLY, Cadence.MONTHLY
    bot = SlackBotDestination(
        channel="C0123ABCD", secret_key="bot_token", cadences=frozenset({daily, weekly})
    )
    email = EmailDestination(
        to=("finops@acme.ai",),
        cc=("cto@acme.ai",),
        sender="Fireworks costs <costs@acme.ai>",
        attach_csv=True,
        cadences=frozenset({daily, weekly, monthly}),
    )
    assert routing.routes_for(None) == [bot, email]
    assert routing.routes_for(None, monthly) == [email]
    assert routing.routes_for("search")[0] == SlackWebhookDestination(
        secret_key="search_webhook", cadences=frozenset({daily, weekly})
    )
    assert routing.secret_keys() == {"bot_token", "search_webhook"}


def test_an_unknown_team_falls_back_to_the_overall_route() -> None:
    routing = load_routing(routing_with(), "test")

    assert routing.routes_for("ads") == routing.routes_for(None)


def test_unknown_teams_can_be_skipped() -> None:
    routing = load_routing(routing_with(unknown_teams="skip"), "test")

    assert routing.routes_for("ads") == []
    assert routing.routes_for("search") != []


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (
            {"routes": {"overall": {}, "teams": {"search": {"slack": [{"kind": "webhok"}]}}}},
            "routing (ssm:/fwcost/routing): routes.teams.search.slack[0]: unknown kind 'webhok'",
        ),
        ({"routes": {}}, "routes: missing field 'overall'"),
        ({"routes": {"overall": {"sms": []}}}, "routes.overall: unknown field 'sms'"),
        # A misspelt key is an error that names it and its likely fix, never ignored
        (
            {"routes": {"overall": {"emails": []}}},
            "routes.overall: unknown field 'emails'; did you mean 'email'?",
        ),
        (
            {"unknown_team": "skip", "routes": {"overall": {}}},
            "$: unknown field 'unknown_team'; did you mean 'unknown_teams'?",
        ),
        (
            {
                "routes": {
                    "overall": {"email": [{"from": "a@b.co", "to": ["c@d.co"], "atach_csv": 1}]}
                }
            },
            "routes.overall.email[0]: unknown field 'atach_csv'; did you mean 'attach_csv'?",
        ),
        (
            {"routes": {"overall": {"slack": [{"kind": "webhook", "secretKey": "x"}]}}},
            "routes.overall.slack[0]: unknown field 'secretKey'; did you mean 'secret_key'?",
        ),
        (
            {
                "routes": {
                    "overall": {"slack": [{"kind": "bot", "channel": "#costs", "secret_key": "b"}]}
                }
            },
            "routes.overall.slack[0].channel: must be a channel ID such as 'C0123ABCD',"
            " not '#costs'",
        ),
        (
            {
                "routes": {
                    "overall": {
                        "slack": [{"kind": "webhook", "secret_key": "https://hooks.slack.com/x"}]
                    }
                }
            },
            "routes.overall.slack[0].secret_key: must name a key of the Slack secret",
        ),
        (
            {"routes": {"overall": {"email": [{"from": "costs@acme.ai", "to": ["finops"]}]}}},
            "routes.overall.email[0].to[0]: not an email address: 'finops'",
        ),
        (
            {"routes": {"overall": {"email": [{"from": "costs@acme.ai", "to": []}]}}},
            "routes.overall.email[0].to: needs at least one recipient",
        ),
        (
            {
                "routes": {
                    "overall": {
                        "email": [{"from": "c@acme.ai", "to": ["a@acme.ai"], "attach_csv": "yes"}]
                    }
                }
            },
            "routes.overall.email[0].attach_csv: must be true or false, not 'yes'",
        ),
        (
            {"routes": {"overall": {"slack": [{"kind": "webhook", "secret_key": "a"}] * 2}}},
            "routes.overall: destination slack-webhook-a is listed twice",
        ),
        ({"version": 2, "routes": {"overall": {}}}, "version: unsupported version 2"),
        ({"routes": {"overall": {}}, "unknown_teams": "drop"}, "unknown_teams: must be"),
    ],
)
def test_errors_name_the_source_and_the_json_path(document: Any, error: str) -> None:
    with pytest.raises(RoutingError) as raised:
        load_routing(json.dumps(document), "ssm:/fwcost/routing")

    assert str(raised.value).startswith("routing (ssm:/fwcost/routing): ")
    assert error.removeprefix("routing (ssm:/fwcost/routing): ") in str(raised.value)


def test_invalid_json_names_the_source() -> None:
    with pytest.raises(RoutingError, match=r"routing \(config/routing.json\): not valid JSON"):
        load_routing("{", "config/routing.json")


def test_comment_keys_are_ignored() -> None:
    routing = load_routing(json.dumps({"_comment": "x", "routes": {"overall": {"_why": 1}}}), "t")

    assert routing.routes_for(None) == []


def test_destination_ids_are_stable_and_recipient_order_does_not_matter() -> None:
    first = EmailDestination(("B@acme.ai", "a@acme.ai"), ("c@acme.ai",), "x@acme.ai", True)
    same_people = EmailDestination(("a@acme.ai",), ("c@acme.ai", "b@acme.ai"), "y@acme.ai", False)
    other_people = EmailDestination(("a@acme.ai",), (), "x@acme.ai", True)

    assert first.destination_id == same_people.destination_id
    assert first.destination_id != other_people.destination_id
    assert first.destination_id.startswith("email-")
    assert len(first.destination_id) == len("email-") + 12
    assert (
        SlackWebhookDestination("search_webhook").destination_id == "slack-webhook-search_webhook"
    )
    assert SlackBotDestination("C0123", "bot").destination_id == "slack-bot-C0123"


# ---- cadences: which destinations get the daily report, the weekly digest, the statement ----


def _routing_with_cadences(cadence: object) -> str:
    import json

    return json.dumps(
        {
            "routes": {
                "overall": {
                    "slack": [
                        {"kind": "webhook", "secret_key": "daily_only"},
                        {"kind": "webhook", "secret_key": "all", "cadence": cadence},
                    ]
                }
            }
        }
    )


def test_a_destination_without_cadence_gets_the_daily_report_only() -> None:
    from fwcost.periods import Cadence

    routing = load_routing(_routing_with_cadences(["daily", "weekly", "monthly"]), "test")
    daily = [d.destination_id for d in routing.routes_for(None)]
    weekly = [d.destination_id for d in routing.routes_for(None, Cadence.WEEKLY)]
    monthly = [d.destination_id for d in routing.routes_for("search", Cadence.MONTHLY)]
    assert daily == ["slack-webhook-daily_only", "slack-webhook-all"]
    assert weekly == monthly == ["slack-webhook-all"]


@pytest.mark.parametrize(
    ("cadence", "problem"),
    [
        (
            ["weekley"],
            "routes.overall.slack[1].cadence[0]: unknown cadence 'weekley'; did you mean 'weekly'?",
        ),
        ([], "routes.overall.slack[1].cadence: needs at least one of daily, weekly, monthly"),
        ("weekly", "routes.overall.slack[1].cadence: must be a list"),
    ],
)
def test_an_unknown_cadence_is_refused_naming_where_and_the_close_match(
    cadence: object, problem: str
) -> None:
    with pytest.raises(RoutingError) as raised:
        load_routing(_routing_with_cadences(cadence), "test")
    assert str(raised.value) == f"routing (test): {problem}"
