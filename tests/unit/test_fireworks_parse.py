"""Parsing Fireworks' proto3-JSON into fwcost.model records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fwcost.fireworks.errors import fireworks_message
from fwcost.fireworks.parse import (
    MAX_MONEY_UNITS,
    FireworksParseError,
    MalformedBodyError,
    ReportWindow,
    decode_json,
    parse_dedicated,
    parse_int64,
    parse_money,
    parse_serverless,
    parse_summary,
    parse_training,
    parse_usage_costs,
)
from fwcost.model import DedicatedUsage, KeyCost, ServerlessUsage, TrainingUsage

UTC_ZONE = ZoneInfo("UTC")
LA = ZoneInfo("America/Los_Angeles")
MAY_28 = date(2026, 5, 28)
SAMPLE_ROW = (
    b'{"serverlessCosts": [{"startTime":"2026-05-28T00:00:00Z","endTime":"2026-05-29T00:00:00Z",'
    b'"promptTokens":"1842301","completionTokens":"412980","audioInputSeconds":0,'
    b'"usageType":"TEXT_COMPLETION_INFERENCE_USAGE","group":{"api_key_id":"key_4nMFyHCSZP4CRKqa",'
    b'"api_key_name":"prod-eng","model_name":"accounts/fireworks/models/kimi-k2.6"}}]}'
)


def one_day(tz: ZoneInfo = UTC_ZONE, day: date = MAY_28) -> ReportWindow:
    return ReportWindow(day, day, tz)


def serverless(row: dict[str, Any]) -> ServerlessUsage:
    (parsed,) = parse_serverless({"serverlessCosts": [row]}, one_day(), "src")
    return parsed


def test_the_reference_sample_row() -> None:
    (row,) = parse_serverless(decode_json(SAMPLE_ROW), one_day(), "billingUsage")

    assert row == ServerlessUsage(
        day=MAY_28,
        model="accounts/fireworks/models/kimi-k2.6",
        api_key_id="key_4nMFyHCSZP4CRKqa",
        api_key_name="prod-eng",
        team="",
        project="",
        environment="",
        usage_type="TEXT_COMPLETION_INFERENCE_USAGE",
        prompt_tokens=1842301,
        cached_prompt_tokens=0,
        completion_tokens=412980,
        audio_input_seconds=0.0,
        cost_nano_usd=None,
    )


def test_a_row_with_only_a_start_time_gets_zero_defaults() -> None:
    row = serverless({"startTime": "2026-05-28T00:00:00Z"})

    assert (row.model, row.api_key_id, row.usage_type) == ("", "", "")
    assert (row.prompt_tokens, row.completion_tokens, row.cached_prompt_tokens) == (0, 0, 0)
    assert row.audio_input_seconds == 0.0


def test_unknown_fields_are_ignored() -> None:
    row = serverless(
        {
            "startTime": "2026-05-28T00:00:00Z",
            "promptTokens": "3",
            "brandNewField": {"nested": [1, 2]},
            "group": {"model_name": "m", "region": "us"},
        }
    )

    assert (row.model, row.prompt_tokens) == ("m", 3)


@pytest.mark.parametrize(("value", "expected"), [("42", 42), (42, 42), ("-7", -7), (None, 0)])
def test_int64_accepts_strings_and_numbers(value: object, expected: int) -> None:
    assert parse_int64(value, "field") == expected


def test_int64_beyond_float_precision_stays_exact() -> None:
    assert parse_int64("9007199254740993", "field") == 9007199254740993


@pytest.mark.parametrize("value", ["abc", "1.5", "", True, [1]])
def test_a_non_numeric_int64_names_the_field_and_row(value: object) -> None:
    rows = [{"startTime": "2026-05-28T00:00:00Z"}, {"startTime": "2026-05-28T00:00:00Z"}]
    rows[1]["completionTokens"] = value  # type: ignore[assignment]

    with pytest.raises(FireworksParseError) as caught:
        parse_serverless({"serverlessCosts": rows}, one_day(), "billingUsage")

    assert "billingUsage: serverlessCosts[1].completionTokens" in str(caught.value)
    assert "must be an integer" in str(caught.value)


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        ({"currencyCode": "USD", "units": "12", "nanos": 500000000}, Decimal("12.5")),
        ({"units": "-12", "nanos": -500000000}, Decimal("-12.5")),
        ({"nanos": -250000000}, Decimal("-0.25")),
        ({"units": "3"}, Decimal(3)),
        ({"units": 3, "nanos": 1}, Decimal("3.000000001")),
        ({"currencyCode": "", "units": "1"}, Decimal(1)),  # proto3 omits an empty code: USD
        ({}, Decimal(0)),
        (None, Decimal(0)),
        (
            {"units": str(MAX_MONEY_UNITS), "nanos": 999999999},
            Decimal("1000000000000.999999999"),
        ),
    ],
)
def test_money_becomes_an_exact_decimal(money: object, expected: Decimal) -> None:
    amount = parse_money(money, "totalCost")

    assert amount == expected
    assert isinstance(amount, Decimal)


def test_money_rejects_garbage() -> None:
    with pytest.raises(FireworksParseError, match=r"lineItems\[0\].totalCost.units"):
        parse_money({"units": "twelve"}, "lineItems[0].totalCost")
    with pytest.raises(FireworksParseError, match="must be a Money object"):
        parse_money("12.50", "totalCost")


@pytest.mark.parametrize("prefix", ["", "annotations."])
def test_annotations_are_read_in_either_key_form(prefix: str) -> None:
    group = {
        f"{prefix}team": "search",
        f"{prefix}project": "ranker",
        f"{prefix}environment": "prod",
    }

    row = serverless({"startTime": "2026-05-28T00:00:00Z", "group": group})

    assert (row.team, row.project, row.environment) == ("search", "ranker", "prod")


def test_deprecated_fields_are_used_only_when_group_lacks_them() -> None:
    old = serverless(
        {"startTime": "2026-05-28T00:00:00Z", "modelName": "old-model", "apiKeyId": "key_old"}
    )
    both = serverless(
        {
            "startTime": "2026-05-28T00:00:00Z",
            "modelName": "old-model",
            "apiKeyId": "key_old",
            "group": {"model_name": "new-model", "api_key_id": "key_new"},
        }
    )

    assert (old.model, old.api_key_id) == ("old-model", "key_old")
    assert (both.model, both.api_key_id) == ("new-model", "key_new")


def test_newer_serverless_fields_are_read_when_present() -> None:
    row = serverless(
        {
            "startTime": "2026-05-28T00:00:00Z",
            "promptTokens": "100",
            "cachedPromptTokens": "40",
            "uncachedPromptTokens": "60",
            "audioInputSeconds": 12.5,
            "costNanoUsd": 1234567,
        }
    )

    assert (row.prompt_tokens, row.cached_prompt_tokens) == (100, 40)
    assert row.audio_input_seconds == 12.5
    assert row.cost_nano_usd == 1234567


def test_a_prompt_given_only_as_cached_and_uncached_parts_is_their_sum() -> None:
    row = serverless(
        {
            "startTime": "2026-05-28T00:00:00Z",
            "cachedPromptTokens": "40",
            "uncachedPromptTokens": "60",
        }
    )

    assert (row.prompt_tokens, row.cached_prompt_tokens) == (100, 40)


def test_a_dedicated_row() -> None:
    document = {
        "dedicatedCosts": [
            {
                "deploymentId": "old-id",
                "acceleratorType": "NVIDIA_H100_80GB",
                "acceleratorSeconds": "86400",
                "startTime": "2026-05-28T00:00:00Z",
                "endTime": "2026-05-29T00:00:00Z",
                "baseModel": "accounts/fireworks/models/llama-v3p3-70b-instruct",
                "usageType": "DEDICATED_DEPLOYMENT_USAGE",
                "placement": "US_IOWA_1",
                "group": {"deployment_name": "ranker-prod", "annotations.team": "search"},
            },
            {"startTime": "2026-05-28T00:00:00Z", "deploymentId": "bare"},
        ]
    }

    rich, bare = parse_dedicated(document, one_day(), "billingUsage-DEDICATED_DEPLOYMENT")

    assert rich == DedicatedUsage(
        day=MAY_28,
        deployment="ranker-prod",
        accelerator_type="NVIDIA_H100_80GB",
        base_model="accounts/fireworks/models/llama-v3p3-70b-instruct",
        placement="US_IOWA_1",
        team="search",
        project="",
        environment="",
        usage_type="DEDICATED_DEPLOYMENT_USAGE",
        accelerator_seconds=86400,
    )
    assert (bare.deployment, bare.accelerator_seconds) == ("bare", 0)


def test_a_training_row_from_group_or_fields() -> None:
    document = {
        "trainingCosts": [
            {
                "startTime": "2026-05-28T00:00:00Z",
                "acceleratorSeconds": "7200",
                "group": {
                    "job_id": "sftj-1",
                    "job_type": "SUPERVISED_FINE_TUNING",
                    "usage_type": "TRAINING_USAGE",
                    "accelerator_type": "NVIDIA_A100_80GB",
                    "base_model": "llama",
                    "team": "ml",
                },
            },
            {"startTime": "2026-05-28T00:00:00Z", "jobId": "j2", "baseModel": "qwen"},
        ]
    }

    grouped, plain = parse_training(document, one_day(), "billingUsage-TRAINING")

    assert grouped == TrainingUsage(
        day=MAY_28,
        job_id="sftj-1",
        job_type="SUPERVISED_FINE_TUNING",
        base_model="llama",
        accelerator_type="NVIDIA_A100_80GB",
        team="ml",
        project="",
        environment="",
        usage_type="TRAINING_USAGE",
        accelerator_seconds=7200,
    )
    assert (plain.job_id, plain.base_model) == ("j2", "qwen")


@pytest.mark.parametrize(
    ("start_time", "tz", "expected"),
    [
        ("2026-11-21T08:00:00Z", LA, date(2026, 11, 21)),  # local midnight as a UTC instant
        ("2026-11-21T00:00:00-08:00", LA, date(2026, 11, 21)),  # local midnight with its offset
        ("2026-11-21T00:00:00Z", LA, date(2026, 11, 21)),  # a UTC date label
        ("2026-11-20T11:00:00Z", ZoneInfo("Pacific/Auckland"), date(2026, 11, 21)),  # +13:00
        ("2026-11-21T00:00:00Z", ZoneInfo("Pacific/Auckland"), date(2026, 11, 21)),
        ("2026-11-21T15:00:00Z", LA, date(2026, 11, 21)),  # neither: the local date
        ("2026-11-21T08:00:00.000Z", LA, date(2026, 11, 21)),
    ],
)
def test_a_bucket_belongs_to_the_local_day_it_starts(
    start_time: str, tz: ZoneInfo, expected: date
) -> None:
    window = ReportWindow(date(2026, 11, 20), date(2026, 11, 22), tz)

    assert window.day_of(start_time, "startTime") == expected


def test_buckets_just_outside_the_window_are_kept_on_its_edge_days() -> None:
    window = ReportWindow(date(2026, 11, 21), date(2026, 11, 21), LA)

    assert window.day_of("2026-11-22T00:00:00Z", "x") == date(2026, 11, 21)
    assert window.day_of("2026-11-20T12:00:00Z", "x") == date(2026, 11, 21)


def test_a_remembered_start_time_gives_the_same_day_and_bad_ones_still_fail() -> None:
    # Given a window that has already read a timestamp (its report day is cached)
    window = ReportWindow(date(2026, 11, 20), date(2026, 11, 22), LA)
    first = window.day_of("2026-11-21T08:00:00Z", "a")
    # Then reading it again agrees, another window keeps its own timezone, and bad text fails
    assert window.day_of("2026-11-21T08:00:00Z", "b") == first == date(2026, 11, 21)
    utc = ReportWindow(date(2026, 11, 20), date(2026, 11, 22), ZoneInfo("UTC"))
    assert utc.day_of("2026-11-21T05:00:00Z", "c") == date(2026, 11, 21)
    assert window.day_of("2026-11-21T05:00:00Z", "d") == date(2026, 11, 20)
    for _ in range(2):
        with pytest.raises(FireworksParseError, match="e must be an RFC 3339 timestamp"):
            window.day_of("yesterday", "e")


@pytest.mark.parametrize("value", [None, "", "yesterday", 1732147200])
def test_a_bad_start_time_names_the_row(value: object) -> None:
    with pytest.raises(FireworksParseError, match=r"src: serverlessCosts\[0\].startTime"):
        serverless({"startTime": value})


def test_summary_line_items_are_read_with_every_field() -> None:
    document = decode_json(
        b'{"usageBuckets": [{"startTime": "2026-05-28T00:00:00Z",'
        b'"endTime": "2026-05-29T00:00:00Z",'
        b'"lineItems": [{"category": "Text Completion", "groupingKey": "model",'
        b'"groupingValue": "llama-v3p3-70b-instruct", "secondaryGroupingKey": "is_batch",'
        b'"secondaryGroupingValue": "true", "quantity": 1234567.5, "series": "SERVERLESS",'
        b'"unitAmount": {"currencyCode": "USD", "nanos": 900}, '
        b'"totalCost": {"currencyCode": "USD", "units": "1", "nanos": 111111111}}]}]}'
    )

    (item,) = parse_summary(document, one_day(), "billing-summary").items

    assert (item.day, item.category, item.series) == (MAY_28, "Text Completion", "SERVERLESS")
    assert (item.grouping_key, item.grouping_value) == ("model", "llama-v3p3-70b-instruct")
    assert (item.secondary_grouping_key, item.secondary_grouping_value) == ("is_batch", "true")
    assert item.quantity == 1234567.5
    assert item.unit_amount == Decimal("0.0000009")
    assert item.total_cost == Decimal("1.111111111")


def test_usage_cost_rows() -> None:
    document = decode_json(
        b'{"rows": [{"dimensions": {"startTime": "2026-05-28T00:00:00Z", "apiKeyId": "key_a"},'
        b'"subtotal": {"currencyCode": "USD", "units": "3", "nanos": 250000000}},'
        b'{"dimensions": {"startTime": "2026-05-28T00:00:00Z",'
        b'"apiKeyId": "accounts/acme/users/u/apiKeys/key_b", "model": "kimi"}},'
        b'{"dimensions": {"startTime": "2026-05-28T00:00:00Z", "unknownModel": true,'
        b'"unattributedDimensions": ["API_KEY"]}, "subtotal": {"units": "1"}}],'
        b'"subtotal": {"units": "4"}, "nextPageToken": "next",'
        b'"attributionCompleteness": "COMPLETE"}'
    )

    page = parse_usage_costs(document, one_day(), "usageCosts-page-001")

    assert page.rows == [
        KeyCost(day=MAY_28, api_key_id="key_a", cost=Decimal("3.25")),
        KeyCost(day=MAY_28, api_key_id="key_b", cost=Decimal(0), model="kimi"),
        KeyCost(day=MAY_28, api_key_id="unattributed", cost=Decimal(1), model="unknown_model"),
    ]
    assert (page.next_page_token, page.attribution_completeness) == ("next", "COMPLETE")


def test_numbers_are_decoded_without_float() -> None:
    document = decode_json(b'{"x": 0.1, "n": 3}')

    assert document == {"x": Decimal("0.1"), "n": 3}


def test_a_lone_surrogate_in_a_name_becomes_a_replacement_character() -> None:
    # JSON may escape half a surrogate pair; such a string could not be written as UTF-8.
    body = rb'{"group": {"team": "a\ud800b"}, "k\udfff": ["\ud83d\ude00", "\\ud800"]}'

    document = decode_json(body)

    assert document == {"group": {"team": "a\ufffdb"}, "k\ufffd": ["😀", "\\ud800"]}


@pytest.mark.parametrize("body", [b"", b"{", b"<html></html>", b"[1]", b'"text"', b"\xff\xfe"])
def test_bodies_that_are_not_a_json_object_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedBodyError):
        decode_json(body)


def test_a_list_where_an_object_belongs_names_the_place() -> None:
    with pytest.raises(FireworksParseError, match="src: serverlessCosts must be a list"):
        parse_serverless({"serverlessCosts": {"a": 1}}, one_day(), "src")
    with pytest.raises(FireworksParseError, match=r"src: serverlessCosts\[0\].group"):
        parse_serverless({"serverlessCosts": [{"group": ["x"]}]}, one_day(), "src")


def test_fireworks_message_reads_a_status_or_quotes_the_body() -> None:
    assert fireworks_message(b'{"code": 7, "message": "denied", "details": []}') == "denied"
    assert fireworks_message(b'{"error": {"message": "nested"}}') == "nested"
    assert fireworks_message(b"upstream  connect\nerror") == "upstream connect error"
    assert fireworks_message(b"x" * 1000).endswith("…")


# ---- numbers out of range: each a named error, never a raw exception or a silent sum ------

SERVERLESS_BODY = (
    '{"serverlessCosts": [{"startTime": "2026-05-28T00:00:00Z", "promptTokens": "1"}, '
    '{"startTime": "2026-05-28T00:00:00Z", %s}]}'
)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ('"promptTokens": "-5"', "promptTokens: -5 is negative"),
        ('"completionTokens": -5', "completionTokens: -5 is negative"),
        ('"completionTokens": NaN', "completionTokens: NaN is not a finite number"),
        ('"cachedPromptTokens": Infinity', "cachedPromptTokens: Infinity is not a finite number"),
        ('"promptTokens": 1e400', "promptTokens: 1E+400 is beyond int64"),
        (
            '"promptTokens": "9223372036854775808"',
            "promptTokens: 9223372036854775808 is beyond int64",
        ),
        ('"uncachedPromptTokens": "-1"', "uncachedPromptTokens: -1 is negative"),
        ('"audioInputSeconds": -1.5', "audioInputSeconds: -1.5 is negative"),
        ('"audioInputSeconds": 1e400', "audioInputSeconds: 1E+400 is beyond a double's range"),
        ('"audioInputSeconds": -Infinity', "audioInputSeconds: -Infinity is not a finite number"),
        ('"audioInputSeconds": "NaN"', "audioInputSeconds: NaN is not a finite number"),
        ('"costNanoUsd": 1e30', "costNanoUsd: 1E+30 is beyond int64"),
        (
            '"costNanoUsd": "2000000000000000000000"',
            "costNanoUsd: 2000000000000000000000 is beyond int64",
        ),
    ],
)
def test_a_serverless_number_out_of_range_is_named_with_its_row_and_field(
    field: str, message: str
) -> None:
    document = decode_json((SERVERLESS_BODY % field).encode())

    with pytest.raises(FireworksParseError) as caught:
        parse_serverless(document, one_day(), "billingUsage")

    assert str(caught.value) == f"billingUsage: serverlessCosts[1].{message}"


@pytest.mark.parametrize("stream", ["dedicatedCosts", "trainingCosts"])
def test_negative_accelerator_seconds_are_refused(stream: str) -> None:
    document = decode_json(
        b'{"%s": [{"startTime": "2026-05-28T00:00:00Z", "acceleratorSeconds": "-3600"}]}'
        % stream.encode()
    )
    parse = parse_dedicated if stream == "dedicatedCosts" else parse_training

    with pytest.raises(FireworksParseError) as caught:
        parse(document, one_day(), "billingUsage")

    assert str(caught.value) == f"billingUsage: {stream}[0].acceleratorSeconds: -3600 is negative"


LINE_ITEM_BODY = (
    '{"usageBuckets": [{"startTime": "2026-05-28T00:00:00Z", "lineItems": ['
    '{"category": "Text Completion", "totalCost": {"units": "1"}}, '
    '{"category": "Text Completion", %s}]}]}'
)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ('"quantity": -2.5', "quantity: -2.5 is negative"),
        ('"quantity": NaN', "quantity: NaN is not a finite number"),
        # the spin of issue 10: 10^30 dollars would never finish splitting
        (
            '"totalCost": {"units": "1000000000000000000000000000000"}',
            "totalCost.units: 1000000000000000000000000000000 is beyond int64",
        ),
        ('"totalCost": {"units": 1e30}', "totalCost.units: 1E+30 is beyond int64"),
        (
            '"totalCost": {"units": "1000000000001"}',
            "totalCost.units: 1000000000001 is beyond 1,000,000,000,000 dollars, "
            "not a plausible amount",
        ),
        (
            '"totalCost": {"units": "1", "nanos": 1000000000}',
            "totalCost.nanos: 1000000000 is outside ±999,999,999",
        ),
        (
            '"totalCost": {"units": "1", "nanos": -5}',
            "totalCost: units 1 and nanos -5 have different signs",
        ),
        (
            '"totalCost": {"units": "1", "nanos": NaN}',
            "totalCost.nanos: NaN is not a finite number",
        ),
        (
            '"totalCost": {"currencyCode": "EUR", "units": "1"}',
            "totalCost.currencyCode: 'EUR' is not USD, the only currency fwcost adds up",
        ),
        (
            '"unitAmount": {"currencyCode": "usd", "nanos": 5}',
            "unitAmount.currencyCode: 'usd' is not USD, the only currency fwcost adds up",
        ),
    ],
)
def test_a_line_item_number_out_of_range_is_named_with_its_item_and_field(
    field: str, message: str
) -> None:
    document = decode_json((LINE_ITEM_BODY % field).encode())

    with pytest.raises(FireworksParseError) as caught:
        parse_summary(document, one_day(), "billing-summary")

    assert str(caught.value) == f"billing-summary: usageBuckets[0].lineItems[1].{message}"


def test_a_key_cost_in_another_currency_or_past_the_bound_is_refused() -> None:
    row = '{"dimensions": {"startTime": "2026-05-28T00:00:00Z"}, "subtotal": %s}'
    for subtotal, message in [
        ('{"currencyCode": "JPY", "units": "100"}', "'JPY' is not USD"),
        ('{"units": "-1000000000001"}', "-1000000000001 is beyond 1,000,000,000,000 dollars"),
    ]:
        document = decode_json(('{"rows": [%s]}' % (row % subtotal)).encode())
        with pytest.raises(FireworksParseError, match=r"usageCosts-page-001: rows\[0\].subtotal"):
            parse_usage_costs(document, one_day(), "usageCosts-page-001")
        with pytest.raises(FireworksParseError, match=message):
            parse_usage_costs(document, one_day(), "usageCosts-page-001")


def test_a_negative_money_amount_is_a_credit_and_is_kept() -> None:
    # Line items are rated amounts; an adjustment below zero is possible and adds up as such
    document = decode_json((LINE_ITEM_BODY % '"totalCost": {"units": "-2", "nanos": -5}').encode())

    items = parse_summary(document, one_day(), "billing-summary").items

    assert [item.total_cost for item in items] == [Decimal(1), Decimal("-2.000000005")]
