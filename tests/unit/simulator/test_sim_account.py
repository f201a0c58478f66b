"""The synthetic account: its cast, its closed-form usage across DST, its special days, scale."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fwcost.dates import day_bounds
from fwcost.simulator import Fault, SimulatedAccount, SimulatorConfig
from fwcost.simulator.catalog import HOSTILE_NAMES, SPIKE_TEAM, TEAMS, Activity, Kind

LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 11, 18)  # a Wednesday
CONFIG = SimulatorConfig(new_key_day=DAY, spike_day=DAY, home_timezone="America/Los_Angeles")
ACCOUNT = SimulatedAccount(CONFIG)


def _text_tokens(account: SimulatedAccount, day: date, tz: ZoneInfo, **match: str) -> int:
    total = 0
    for stream, quantities in zip(account.streams, account.day_quantities(day, tz), strict=True):
        if quantities and stream.kind is Kind.TEXT:
            key = stream.key
            facts = {"team": stream.team, "key_id": key.key_id if key else ""}
            if all(facts[name] == value for name, value in match.items()):
                total += sum(quantities)
    return total


def test_the_cast_looks_like_fireworks() -> None:
    assert len(ACCOUNT.keys) == CONFIG.keys
    assert len({key.key_id for key in ACCOUNT.keys}) == CONFIG.keys
    assert all(re.fullmatch(r"key_[0-9A-Za-z]{16}", key.key_id) for key in ACCOUNT.keys)
    assert ACCOUNT.keys[0].name == "prod-search-1"
    assert {key.team for key in ACCOUNT.keys} == {*TEAMS, ""}
    assert {key.environment for key in ACCOUNT.keys} == {"prod", "staging", "dev", ""}
    assert len(ACCOUNT.models) == CONFIG.models
    assert ACCOUNT.models[0].name == "accounts/fireworks/models/kimi-k2p6"
    accelerators = {s.deployment.accelerator_type for s in ACCOUNT.streams if s.deployment}
    assert accelerators == {"NVIDIA_H100_80GB", "NVIDIA_A100_80GB"}
    assert any(s.deployment and not s.team for s in ACCOUNT.streams), "one unannotated deployment"
    assert any(s.kind is Kind.TEXT and s.key is None for s in ACCOUNT.streams), "keyless usage"


def test_fine_tuned_models_share_size_bucket_line_items() -> None:
    account = SimulatedAccount(replace(CONFIG, models=20))
    buckets = [m.line_value for m in account.models if m.line_key == "model_bucket"]
    assert len(buckets) == 10
    assert len(set(buckets)) < len(buckets)


def test_the_same_seed_builds_the_same_account_and_another_seed_does_not() -> None:
    again = SimulatedAccount(CONFIG)
    assert again.keys == ACCOUNT.keys
    assert again.day_quantities(DAY, LA) == ACCOUNT.day_quantities(DAY, LA)
    other = SimulatedAccount(replace(CONFIG, seed=8))
    assert other.keys != ACCOUNT.keys


@pytest.mark.parametrize(("day", "hours"), [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25)])
@pytest.mark.parametrize("home", ["UTC", "America/Los_Angeles", "Asia/Kathmandu"])
def test_a_dst_day_is_exactly_the_sum_of_its_hours(day: date, hours: int, home: str) -> None:
    # Given an account living in some timezone, and a Los Angeles DST day
    account = SimulatedAccount(replace(CONFIG, home_timezone=home))
    bounds = day_bounds(day, LA)
    start = bounds.start.astimezone(UTC)
    assert bounds.end.astimezone(UTC) - start == timedelta(hours=hours)
    # When the day is metered whole and hour by hour
    whole = account.quantities(bounds.start, bounds.end)
    parts = [
        account.quantities(start + timedelta(hours=h), start + timedelta(hours=h + 1))
        for h in range(hours)
    ]
    # Then the hours add up to the day, stream by stream and measure by measure
    for index, total in enumerate(whole):
        pieces = [part[index] for part in parts if part[index] is not None]
        summed = [sum(values) for values in zip(*pieces, strict=True)] if pieces else None
        assert summed == total


def test_a_25_hour_day_has_more_gpu_time_than_a_24_hour_one() -> None:
    # The always-on deployment meters every hour of the day, so the extra hour shows.
    account = SimulatedAccount(replace(CONFIG, home_timezone="America/Los_Angeles"))
    index = next(
        i
        for i, s in enumerate(account.streams)
        if s.deployment and s.deployment.deployment_id == "search-ranker-prod"
    )
    long_day = account.day_quantities(date(2026, 11, 1), LA)[index]
    plain_day = account.day_quantities(date(2026, 11, 8), LA)[index]
    assert long_day is not None
    assert plain_day is not None
    # The first local hour of the day runs one replica of two GPUs.
    assert long_day[0] - plain_day[0] == 2 * 3600


def test_the_newcomer_key_starts_on_new_key_day_and_the_quiet_key_stops_before() -> None:
    newcomer = ACCOUNT.key_by_activity(Activity.NEWCOMER).key_id
    quiet = ACCOUNT.key_by_activity(Activity.QUIET).key_id
    before = DAY - timedelta(days=1)
    assert _text_tokens(ACCOUNT, before, LA, key_id=newcomer) == 0
    assert _text_tokens(ACCOUNT, DAY, LA, key_id=newcomer) > 0
    assert _text_tokens(ACCOUNT, DAY - timedelta(days=3), LA, key_id=quiet) > 0
    assert _text_tokens(ACCOUNT, DAY - timedelta(days=2), LA, key_id=quiet) == 0
    assert _text_tokens(ACCOUNT, DAY, LA, key_id=quiet) == 0


def test_without_a_new_key_day_the_newcomer_appears_on_the_15th() -> None:
    account = SimulatedAccount(replace(CONFIG, new_key_day=None))
    newcomer = account.key_by_activity(Activity.NEWCOMER).key_id
    assert _text_tokens(account, date(2026, 11, 14), LA, key_id=newcomer) == 0
    assert _text_tokens(account, date(2026, 11, 15), LA, key_id=newcomer) > 0


def test_on_spike_day_the_spike_teams_costliest_stream_triples_and_nothing_else_moves() -> None:
    calm = SimulatedAccount(replace(CONFIG, spike_day=None))
    spike = ACCOUNT.spike_stream
    assert spike is not None and ACCOUNT.streams[spike].team == SPIKE_TEAM
    spiked, usual = ACCOUNT.day_quantities(DAY, LA), calm.day_quantities(DAY, LA)
    assert 2.9 < sum(spiked[spike] or []) / sum(usual[spike] or [1]) < 3.1
    assert [q for i, q in enumerate(spiked) if i != spike] == [
        q for i, q in enumerate(usual) if i != spike
    ]
    before = DAY - timedelta(days=1)
    assert ACCOUNT.day_quantities(before, LA) == calm.day_quantities(before, LA)


def test_a_late_batch_day_lacks_its_batch_usage_and_only_it() -> None:
    # Given the same account before and after the day's batch usage arrived
    arrived = ACCOUNT.day_quantities(DAY, LA)
    late = SimulatedAccount(replace(CONFIG, late_batch_day=DAY))
    early = late.day_quantities(DAY, LA)
    batch = [i for i, stream in enumerate(ACCOUNT.streams) if stream.batch]
    # Then only batch streams differ, absent until they arrive; other days are untouched
    assert batch and all(early[i] is None and arrived[i] for i in batch)
    assert [q for i, q in enumerate(early) if i not in batch] == [
        q for i, q in enumerate(arrived) if i not in batch
    ]
    before = DAY - timedelta(days=1)
    assert late.day_quantities(before, LA) == ACCOUNT.day_quantities(before, LA)


def test_weekends_are_quieter_than_weekdays() -> None:
    saturday, friday = date(2026, 11, 21), date(2026, 11, 20)
    assert _text_tokens(ACCOUNT, saturday, LA) < 0.7 * _text_tokens(ACCOUNT, friday, LA)


def test_billed_total_is_the_sum_of_the_days_line_items() -> None:
    bounds = day_bounds(DAY, LA)
    items = ACCOUNT.line_items(bounds.start, bounds.end)
    assert ACCOUNT.billed_total(DAY, LA) * 10**9 == sum(cost for _, cost in items.values())
    # and a week is the sum of its days
    week = ACCOUNT.line_items(bounds.start, bounds.start + timedelta(days=7))
    days = sum(ACCOUNT.billed_total(DAY + timedelta(days=n), LA) for n in range(7))
    assert days * 10**9 == sum(cost for _, cost in week.values())


def test_key_costs_add_up_to_the_text_completion_line_items() -> None:
    bounds = day_bounds(DAY, LA)
    text = sum(
        cost
        for line, (_, cost) in ACCOUNT.line_items(bounds.start, bounds.end).items()
        if line.category == "Text Completion"
    )
    assert sum(ACCOUNT.key_costs_nanos(bounds.start, bounds.end).values()) == text


@pytest.mark.parametrize("rows", [1_000, 10_000])
def test_for_rows_gives_about_that_many_key_model_pairs_a_day(rows: int) -> None:
    account = SimulatedAccount(SimulatorConfig.for_rows(rows))
    quantities = account.day_quantities(date(2026, 11, 19), ZoneInfo("UTC"))
    pairs = {
        (s.key.key_id if s.key else "", s.model.name)
        for s, q in zip(account.streams, quantities, strict=True)
        if q and s.model
    }
    assert 0.9 * rows <= len(pairs) <= 1.1 * rows


def test_for_rows_keeps_overrides() -> None:
    config = SimulatorConfig.for_rows(10_000, seed=3, keys=50)
    assert (config.seed, config.keys) == (3, 50)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"keys": 5}, "keys"),
        ({"models": 1}, "models"),
        ({"latency_seconds": -1}, "latency"),
        ({"readonly_api_key": "fw_sim_admin_key"}, "differ"),
        ({"home_timezone": "Moon/Base"}, "IANA"),
        ({"hostile_names": ["ok", ""]}, "empty name"),
    ],
)
def test_bad_configs_are_refused_with_the_setting_named(
    changes: dict[str, object], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        SimulatorConfig(**changes)


def test_faults_given_as_a_list_are_kept_as_a_tuple() -> None:
    config = SimulatorConfig(faults=[Fault("500", times=1)])
    assert config.faults == (Fault("500", times=1),)


def test_the_ground_truth_needs_no_clock() -> None:
    # Any instant range works, including one long before the growth epoch.
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert any(ACCOUNT.quantities(start, start + timedelta(hours=1)))


def test_hostile_names_rename_the_same_account_without_changing_its_dollars() -> None:
    # Given the plain account and the same one under hostile names (no spike: it is by team)
    plain_config = replace(CONFIG, spike_day=None, keys=len(HOSTILE_NAMES) + 8)
    hostile = SimulatedAccount(replace(plain_config, hostile_names=HOSTILE_NAMES))
    plain = SimulatedAccount(plain_config)

    # Then every name is some key's team, fine-tuned models carry names too, and nothing else moved
    assert {key.team for key in hostile.keys} == {*HOSTILE_NAMES, ""}
    fine_tuned = [m.name for m in hostile.models if m.line_key == "model_bucket"]
    assert [name.rsplit("/", 1)[0] for name in fine_tuned] == ["accounts/acme-ai/models"] * 2
    assert {name.removeprefix("accounts/acme-ai/models/") for name in fine_tuned} < {*HOSTILE_NAMES}
    assert [k.key_id for k in hostile.keys] == [k.key_id for k in plain.keys]
    assert hostile.billed_total(DAY, LA) == plain.billed_total(DAY, LA)
    assert hostile.day_quantities(DAY, LA) == plain.day_quantities(DAY, LA)
