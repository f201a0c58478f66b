"""The check's Settings section: every problem at once, and what the other sections may still use."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fwcost.check.model import Status
from fwcost.check.settings import check_settings

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)  # the day after Los Angeles left summer time
GOOD = {
    "FWCOST_ACCOUNT_ID": "acme-ai",
    "FWCOST_API_KEY": "fw_local_key_0123",
    "FWCOST_TIMEZONE": "America/Los_Angeles",
    "FWCOST_ARCHIVE_BUCKET": "acme-archive",
}


def statuses(loaded) -> dict[str, Status]:  # type: ignore[no-untyped-def]
    return {result.name: result.status for result in loaded.section.results}


def test_good_settings_pass_and_name_the_report_day_and_its_length() -> None:
    loaded = check_settings(GOOD, {}, NOW)

    assert not loaded.bad
    assert statuses(loaded) == {
        "settings": Status.PASSED,
        "timezone": Status.PASSED,
        "routing": Status.SKIPPED,  # none: deliver nowhere
        "price book": Status.PASSED,
    }
    [timezone] = [r for r in loaded.section.results if r.name == "timezone"]
    assert timezone.detail == (
        "America/Los_Angeles: yesterday, Sun 01 Nov, ran from Sun 07:00 to Mon 08:00 UTC (25 h)"
    )
    assert loaded.unusable(frozenset({"FWCOST_ACCOUNT_ID"})) is None


def test_every_problem_at_once_and_only_sections_needing_them_are_stopped() -> None:
    env = {**GOOD, "FWCOST_ACCOUNT_ID": "", "FWCOST_API_KEY_SECRET": "arn:x", "FWCOST_TOP_N": "0"}

    loaded = check_settings(env, {}, NOW)

    assert loaded.bad
    [settings] = [r for r in loaded.section.results if r.name == "settings"]
    assert "3 problems" in settings.detail
    assert "FWCOST_TOP_N: must be at least 1, got 0" in settings.detail
    assert "FWCOST_ACCOUNT_ID: required" in settings.detail
    assert "FWCOST_API_KEY / FWCOST_API_KEY_SECRET: set exactly one" in settings.detail
    assert loaded.settings is not None  # stand-ins let the rest be checked
    assert loaded.settings.archive_bucket == "acme-archive"
    assert loaded.unusable(frozenset({"FWCOST_API_KEY"})) == (
        "not judged: FWCOST_API_KEY invalid (see Settings)"
    )
    assert loaded.unusable(frozenset({"FWCOST_ARCHIVE_BUCKET"})) is None


def test_a_routing_file_that_does_not_parse_and_a_broken_price_book(tmp_path: Path) -> None:
    routing = tmp_path / "routing.json"
    routing.write_text(json.dumps({"routes": {"overall": {"email": [{"from": "x", "to": []}]}}}))
    prices = tmp_path / "prices.toml"
    prices.write_text("[models.x]\ninput = 'free'\n")

    loaded = check_settings(
        {**GOOD, "FWCOST_PRICE_BOOK": str(prices)}, {"FWCOST_ROUTING_FILE": str(routing)}, NOW
    )

    assert loaded.bad
    assert statuses(loaded)["routing"] is Status.FAILED
    assert statuses(loaded)["price book"] is Status.FAILED
    assert loaded.routing is None
    [routing_result] = [r for r in loaded.section.results if r.name == "routing"]
    assert f"routing (file:{routing}): routes.overall.email[0].to" in routing_result.detail
    assert "fwcost check --routing FILE" in routing_result.fix


def test_the_example_routing_is_summed_up() -> None:
    example = Path(__file__).parents[2] / "src" / "fwcost" / "routing.example.json"

    loaded = check_settings({**GOOD, "FWCOST_ROUTING_FILE": str(example)}, {}, NOW)

    [routing] = [r for r in loaded.section.results if r.name == "routing"]
    assert routing.status is Status.PASSED
    assert "overall + 2 teams, 3 Slack destinations (2 bot, 1 webhook), 2 email destinations" in (
        routing.detail
    )


def test_a_misspelt_setting_is_named_with_the_one_it_resembles():
    # Given a variable fwcost does not read next to valid settings
    env = {**GOOD, "FWCOST_TOPN": "3"}

    loaded = check_settings(env, {}, NOW)

    first = loaded.section.results[0]
    assert first.status is Status.FAILED
    assert "FWCOST_TOPN: not a setting; did you mean FWCOST_TOP_N?" in first.detail
