"""The Settings section: environment settings, timezone, routing and price book, every problem
at once, and what the other sections may still check when some of them are broken."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from fwcost.check.model import CheckResult, Section, Status, failed, passed, skipped
from fwcost.config import (
    SETTINGS_BY_NAME,
    ConfigError,
    InvalidSettings,
    SettingProblem,
    Settings,
    load_settings,
)
from fwcost.dates import local_midnight, yesterday
from fwcost.delivery import RoutingConfig, RoutingError, SlackBotDestination
from fwcost.report.pricebook import PriceBookError, load_price_book
from fwcost.wiring import check_email_senders, load_routing_config

# When a setting is broken, what stands in for it so that Settings can still be built for the
# sections that do not need it (sections that do are skipped). The pairs of which exactly one
# must be set get one stand-in between them; any other broken setting takes its default.
_STAND_INS: dict[str, dict[str, str]] = {
    "FWCOST_ACCOUNT_ID": {"FWCOST_ACCOUNT_ID": "unset"},
    "FWCOST_API_KEY": {"FWCOST_API_KEY": "unset", "FWCOST_API_KEY_SECRET": ""},
    "FWCOST_API_KEY_SECRET": {"FWCOST_API_KEY": "unset", "FWCOST_API_KEY_SECRET": ""},
    "FWCOST_ARCHIVE_BUCKET": {"FWCOST_ARCHIVE_BUCKET": "", "FWCOST_ARCHIVE_DIR": "unset"},
    "FWCOST_ARCHIVE_DIR": {"FWCOST_ARCHIVE_BUCKET": "", "FWCOST_ARCHIVE_DIR": "unset"},
}
ROUTING_SETTINGS = frozenset({"FWCOST_ROUTING_FILE", "FWCOST_ROUTING_PARAMETER"})


@dataclass(frozen=True)
class LoadedSettings:
    """What the Settings section read, for the sections after it."""

    section: Section
    settings: Settings | None  # None: unreadable even with stand-ins (every other check skips)
    broken: frozenset[str]  # settings whose values are invalid: sections needing one skip
    routing: RoutingConfig | None  # None: no routing, or it did not load
    source: str  # where the settings came from, for the heading

    @property
    def bad(self) -> bool:
        return any(result.status is Status.FAILED for result in self.section.results)

    def unusable(self, needed: frozenset[str]) -> str | None:
        """Why a section needing these settings cannot run, or None when it can."""
        if self.settings is None:
            return "not judged: the settings could not be read"
        if broken := sorted(needed & self.broken):
            return f"not judged: {', '.join(broken)} invalid (see Settings)"
        return None


def check_settings(
    env: Mapping[str, str], overrides: Mapping[str, str | None], now: datetime
) -> LoadedSettings:
    values = {name: value for name, value in env.items() if name.startswith("FWCOST_")}
    values.update({name: value for name, value in overrides.items() if value is not None})
    present = [name for name in SETTINGS_BY_NAME if values.get(name, "").strip()]
    source = "settings from the environment" + (" and flags" if any(overrides.values()) else "")
    try:
        settings: Settings | None = load_settings(env, overrides)
        problems: list[SettingProblem] = []
    except InvalidSettings as error:
        problems = list(error.problems)
        settings = _with_stand_ins(env, overrides, problems)
    broken = frozenset(name for problem in problems for name in problem.names)
    lines = [str(problem) for problem in problems] + _unknown_names(values)
    if lines:
        first = failed(
            "settings",
            f"{len(present)} set, {len(lines)} problem{'s' if len(lines) > 1 else ''}:\n"
            + "\n".join(lines),
            "set or correct each setting named (Lambda: the stack's parameters), then check again",
        )
    else:
        first = passed("settings", f"{len(present)} set, 0 problems")
    results = [first, _timezone(settings, broken, now)]
    routing, routing_result = _routing(settings, broken)
    results += [routing_result, _price_book(settings, broken)]
    return LoadedSettings(
        Section("Settings", "", tuple(results)), settings, broken, routing, source
    )


def _unknown_names(values: Mapping[str, str]) -> list[str]:
    """FWCOST_ variables fwcost does not read: a misspelt setting is otherwise silently unused."""
    lines = []
    for name in sorted(values.keys() - SETTINGS_BY_NAME.keys()):
        close = difflib.get_close_matches(name, SETTINGS_BY_NAME, n=1)
        lines.append(f"{name}: not a setting" + (f"; did you mean {close[0]}?" if close else ""))
    return lines


def _with_stand_ins(
    env: Mapping[str, str], overrides: Mapping[str, str | None], problems: list[SettingProblem]
) -> Settings | None:
    stand_ins: dict[str, str | None] = dict(overrides)
    for name in {name for problem in problems for name in problem.names}:
        stand_ins.update(_STAND_INS.get(name, {name: ""}))
    try:
        return load_settings(env, stand_ins)
    except InvalidSettings:
        return None


def _timezone(settings: Settings | None, broken: frozenset[str], now: datetime) -> CheckResult:
    if settings is None or "FWCOST_TIMEZONE" in broken:
        return skipped("timezone", "not judged: FWCOST_TIMEZONE invalid (see settings above)")
    tz = settings.timezone
    day = yesterday(now, tz)
    start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    hours = (end - start).total_seconds() / 3600
    return passed(
        "timezone",
        f"{tz.key}: yesterday, {day:%a %d %b}, ran from {start:%a %H:%M} to {end:%a %H:%M} UTC"
        f" ({hours:g} h)",
    )


def _routing(
    settings: Settings | None, broken: frozenset[str]
) -> tuple[RoutingConfig | None, CheckResult]:
    if settings is None or broken & ROUTING_SETTINGS:
        return None, skipped("routing", "not judged: the routing settings are invalid (above)")
    try:
        routing = load_routing_config(settings)
        if routing is None:
            return None, skipped(
                "routing",
                "none (FWCOST_ROUTING_FILE / FWCOST_ROUTING_PARAMETER unset): reports are "
                "archived and delivered nowhere",
            )
        check_email_senders(routing, settings.email_identity)
    except (RoutingError, ConfigError, GetParameterError, OSError) as error:
        return None, failed(
            "routing",
            str(error),
            "correct the routing (its shape: src/fwcost/delivery/routing.py), then "
            "`fwcost check --routing FILE` before uploading it",
        )
    return routing, passed("routing", describe_routing(routing))


def describe_routing(routing: RoutingConfig) -> str:
    routes = [routing.overall, *routing.teams.values()]
    slack = [destination for route in routes for destination in route.slack]
    bots = sum(isinstance(destination, SlackBotDestination) for destination in slack)
    emails = sum(len(route.email) for route in routes)
    teams = len(routing.teams)
    audiences = f"overall + {teams} team{'s' if teams != 1 else ''}" if teams else "overall only"
    return (
        f"{routing.source}: {audiences}, {len(slack)} Slack destination"
        f"{'s' if len(slack) != 1 else ''} ({bots} bot, {len(slack) - bots} webhook), "
        f"{emails} email destination{'s' if emails != 1 else ''}"
    )


def _price_book(settings: Settings | None, broken: frozenset[str]) -> CheckResult:
    if settings is None or "FWCOST_PRICE_BOOK" in broken:
        return skipped("price book", "not judged: FWCOST_PRICE_BOOK invalid (above)")
    try:
        book = load_price_book(settings.price_book)
    except PriceBookError as error:
        return failed(
            "price book",
            str(error),
            "correct the entry named (or unset FWCOST_PRICE_BOOK for the built-in one)",
        )
    where = "built-in" if settings.price_book is None else str(settings.price_book)
    return passed(
        "price book",
        f"{where}, {len(book.models)} models, {len(book.gpu_usd_per_hour)} GPU types",
    )
