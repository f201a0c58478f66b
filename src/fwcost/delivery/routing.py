"""Who receives which report: the routing configuration, loaded from JSON and validated once.

The JSON comes from a file (the CLI) or an SSM parameter's value (the Lambda); `source` names
where it came from so an error reads like
`routing (ssm:/fwcost/routing): routes.teams.search.slack[0]: unknown kind 'webhok'`.

Shape (see src/fwcost/routing.example.json, which the demo uses)::

    {
      "version": 1,
      "unknown_teams": "overall",          # or "skip"; default "overall"
      "routes": {
        "overall": {                        # required: the overall report goes here
          "slack": [
            {"kind": "bot", "channel": "C0123ABCD", "secret_key": "bot_token"},
            {"kind": "webhook", "secret_key": "finops_webhook"}
          ],
          "email": [
            {"from": "FinOps <costs@acme.ai>", "to": ["finops@acme.ai"],
             "cc": ["cto@acme.ai"], "attach_csv": true}
          ]
        },
        "teams": {                          # optional: one route per team report
          "search": {"slack": [{"kind": "webhook", "secret_key": "search_webhook"}]}
        }
      }
    }

- Slack destinations name a key of the Slack secret (a Secrets Manager secret holding a JSON
  object such as {"bot_token": "xoxb-...", "search_webhook": "https://hooks.slack.com/..."}).
  URLs and tokens are never written here, so this file can live in git and in SSM as a plain
  String parameter.
- A bot destination needs the channel ID (C…/G…), not its name: chat.update, which a forced
  re-run uses to edit the day's message, only accepts IDs.
- A bot needs the chat:write scope, and channels:history (groups:history for a private
  channel): a run that finds a delivery claimed but never recorded looks for the post there
  (by its metadata) rather than posting it twice.
- A team without its own route receives its report through the overall route
  (`"unknown_teams": "overall"`), or not at all (`"skip"`).
- Each destination may say which reports it gets: `"cadence": ["daily", "weekly", "monthly"]`
  (the daily report, the Monday digest, the month-end statement); without it, daily only, as
  before cadences. An unknown cadence is an error naming its close match.
- Keys starting with "_" are comments and ignored; any other unknown key is an error that names
  it and its likely fix (`unknown field 'atach_csv'; did you mean 'attach_csv'?`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, Literal

from fwcost.delivery.errors import RoutingError
from fwcost.delivery.model import (
    DEFAULT_CADENCES,
    OVERALL,
    Destination,
    EmailDestination,
    SlackBotDestination,
    SlackWebhookDestination,
)
from fwcost.periods.model import Cadence, parse_cadence

SUPPORTED_VERSION = 1
_SECRET_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
UnknownTeams = Literal["overall", "skip"]


@dataclass(frozen=True)
class Route:
    """The destinations of one audience's report."""

    slack: tuple[SlackWebhookDestination | SlackBotDestination, ...] = ()
    email: tuple[EmailDestination, ...] = ()

    @property
    def destinations(self) -> list[Destination]:
        return [*self.slack, *self.email]


@dataclass(frozen=True)
class RoutingConfig:
    """The validated routing configuration."""

    overall: Route
    teams: Mapping[str, Route] = field(default_factory=dict)
    unknown_teams: UnknownTeams = "overall"
    source: str = ""

    def routes_for(self, team: str | None, cadence: Cadence = Cadence.DAILY) -> list[Destination]:
        """Where the report of `team` (None: the overall report) goes, for reports of `cadence`."""
        route = self.overall if team is None else self.teams.get(team)
        if route is None:
            route = self.overall if self.unknown_teams == "overall" else Route()
        return [d for d in route.destinations if cadence in d.cadences]

    def email_senders(self) -> set[str]:
        """Every "from" address some email destination sends as (bare addresses)."""
        routes = [self.overall, *self.teams.values()]
        return {parseaddr(email.sender)[1] for route in routes for email in route.email}

    def secret_keys(self) -> set[str]:
        """Every key of the Slack secret some destination needs (to check the secret early)."""
        routes = [self.overall, *self.teams.values()]
        return {destination.secret_key for route in routes for destination in route.slack}


def load_routing(text: str, source: str) -> RoutingConfig:
    """Parse and validate routing JSON; `source` is e.g. "config/routing.json" or "ssm:/x"."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RoutingError(f"routing ({source}): not valid JSON: {error}") from None
    try:
        return _parse_config(document, source)
    except _PathError as error:
        raise RoutingError(f"routing ({source}): {error.path}: {error.problem}") from None


class _PathError(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _parse_config(document: object, source: str) -> RoutingConfig:
    root = _object(document, "$", required={"routes"}, optional={"version", "unknown_teams"})
    version = root.get("version", SUPPORTED_VERSION)
    if version != SUPPORTED_VERSION:
        raise _PathError("version", f"unsupported version {version!r} (expected 1)")
    unknown_teams = root.get("unknown_teams", "overall")
    if unknown_teams not in ("overall", "skip"):
        raise _PathError("unknown_teams", f"must be 'overall' or 'skip', not {unknown_teams!r}")
    routes = _object(root["routes"], "routes", required={"overall"}, optional={"teams"})
    overall = _parse_route(routes["overall"], "routes.overall")
    teams_document = routes.get("teams", {})
    if not isinstance(teams_document, dict):
        raise _PathError("routes.teams", "must be an object mapping team names to routes")
    teams: dict[str, Route] = {}
    for team, route_document in teams_document.items():
        if not team or team == OVERALL:
            raise _PathError(f"routes.teams.{team}", "team name must be non-empty, not 'overall'")
        teams[team] = _parse_route(route_document, f"routes.teams.{team}")
    return RoutingConfig(overall=overall, teams=teams, unknown_teams=unknown_teams, source=source)


def _parse_route(document: object, path: str) -> Route:
    route = _object(document, path, required=set(), optional={"slack", "email"})
    slack = tuple(
        _parse_slack(item, f"{path}.slack[{index}]")
        for index, item in enumerate(_list(route.get("slack", []), f"{path}.slack"))
    )
    email = tuple(
        _parse_email(item, f"{path}.email[{index}]")
        for index, item in enumerate(_list(route.get("email", []), f"{path}.email"))
    )
    parsed = Route(slack=slack, email=email)
    seen: set[str] = set()
    for destination in parsed.destinations:
        if destination.destination_id in seen:
            raise _PathError(path, f"destination {destination.destination_id} is listed twice")
        seen.add(destination.destination_id)
    return parsed


def _parse_slack(document: object, path: str) -> SlackWebhookDestination | SlackBotDestination:
    if not isinstance(document, dict):
        raise _PathError(path, "must be an object")
    kind = document.get("kind")
    if kind == "webhook":
        fields = _object(document, path, required={"kind", "secret_key"}, optional={"cadence"})
        return SlackWebhookDestination(
            secret_key=_secret_key(fields["secret_key"], path),
            cadences=_cadences(fields, path),
        )
    if kind == "bot":
        fields = _object(
            document, path, required={"kind", "channel", "secret_key"}, optional={"cadence"}
        )
        return SlackBotDestination(
            channel=_channel(fields["channel"], f"{path}.channel"),
            secret_key=_secret_key(fields["secret_key"], path),
            cadences=_cadences(fields, path),
        )
    raise _PathError(path, f"unknown kind {kind!r} (expected 'webhook' or 'bot')")


def _parse_email(document: object, path: str) -> EmailDestination:
    fields = _object(
        document, path, required={"from", "to"}, optional={"cc", "attach_csv", "cadence"}
    )
    to = _addresses(fields["to"], f"{path}.to")
    if not to:
        raise _PathError(f"{path}.to", "needs at least one recipient")
    attach_csv = fields.get("attach_csv", False)
    if not isinstance(attach_csv, bool):
        raise _PathError(f"{path}.attach_csv", f"must be true or false, not {attach_csv!r}")
    sender = fields["from"]
    if not isinstance(sender, str) or not _is_address(sender):
        raise _PathError(f"{path}.from", f"not an email address: {sender!r}")
    return EmailDestination(
        to=to,
        cc=_addresses(fields.get("cc", []), f"{path}.cc"),
        sender=sender,
        attach_csv=attach_csv,
        cadences=_cadences(fields, path),
    )


def _cadences(fields: dict[str, Any], path: str) -> frozenset[Cadence]:
    """Which reports a destination gets: "cadence": ["daily", "weekly"]; daily when absent."""
    if "cadence" not in fields:
        return DEFAULT_CADENCES
    items = _list(fields["cadence"], f"{path}.cadence")
    if not items:
        raise _PathError(f"{path}.cadence", "needs at least one of daily, weekly, monthly")
    cadences = []
    for index, item in enumerate(items):
        try:
            cadences.append(parse_cadence(item, f"{path}.cadence[{index}]"))
        except ValueError as error:
            where, _, problem = str(error).partition(": ")
            raise _PathError(where, problem) from None
    return frozenset(cadences)


def _object(document: object, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise _PathError(path, "must be an object")
    fields = {key: value for key, value in document.items() if not key.startswith("_")}
    # Unknown first: a misspelt field ("secretKey") is named with its fix, not reported as the
    # field it was meant to be missing; and it is never ignored, which would change who gets what.
    unknown = sorted(fields.keys() - required - optional)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(required | optional), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise _PathError(path, f"unknown field '{unknown[0]}'{hint}")
    missing = sorted(required - fields.keys())
    if missing:
        raise _PathError(path, f"missing field '{missing[0]}'")
    return fields


def _list(document: object, path: str) -> list[object]:
    if not isinstance(document, list):
        raise _PathError(path, "must be a list")
    return document


def _secret_key(value: object, path: str) -> str:
    if not isinstance(value, str) or not _SECRET_KEY.match(value):
        raise _PathError(
            f"{path}.secret_key",
            f"must name a key of the Slack secret (letters, digits, _ . -), not {value!r};"
            " put the URL or token in the secret, never here",
        )
    return value


def _channel(value: object, path: str) -> str:
    if not isinstance(value, str) or not _CHANNEL_ID.match(value):
        raise _PathError(
            path,
            f"must be a channel ID such as 'C0123ABCD', not {value!r}"
            " (chat.update needs the ID; copy it from the channel's details)",
        )
    return value


def _addresses(value: object, path: str) -> tuple[str, ...]:
    items = _list(value, path)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not _is_address(item):
            raise _PathError(f"{path}[{index}]", f"not an email address: {item!r}")
    return tuple(str(item) for item in items)


def _is_address(text: str) -> bool:
    _, address = parseaddr(text)
    local, _, domain = address.partition("@")
    return bool(local) and "." in domain
