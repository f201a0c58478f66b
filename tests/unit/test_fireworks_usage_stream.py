"""billingUsage decoded row by row gives exactly what json.loads and the stream parsers give.

Every body is decoded whole (decode_json, then parse_serverless/dedicated/training) and as a
stream cut into chunks of 1, 2, 3, 7 and 64 bytes and the default: a number, a string, a
multi-byte character or an escape split across chunks. Rows must match; errors must match by
message (a field's error) or by kind (a malformed body, whose position is worded differently).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from fwcost.fireworks.errors import FireworksParseError
from fwcost.fireworks.parse import (
    MalformedBodyError,
    ReportWindow,
    decode_json,
    parse_dedicated,
    parse_serverless,
    parse_training,
)
from fwcost.fireworks.usage_stream import CHUNK_BYTES, Usage, decode_usage

WINDOW = ReportWindow(date(2026, 5, 28), date(2026, 5, 28), ZoneInfo("UTC"))
CHUNKS = (1, 2, 3, 7, 64, CHUNK_BYTES)
START = '"startTime": "2026-05-28T00:00:00Z"'
GOOD = (
    f'{{{START}, "promptTokens": "12345", "group": {{"model_name": "m", "annotations.team": "t"}}}}'
)
DEDICATED = f'{{{START}, "acceleratorSeconds": "3600", "deploymentId": "d-1"}}'
TRAINING = f'{{{START}, "acceleratorSeconds": 7, "group": {{"job_id": "j"}}}}'


def whole(body: bytes) -> list[Usage]:
    document = decode_json(body)
    return [
        *parse_serverless(document, WINDOW, "billingUsage"),
        *parse_dedicated(document, WINDOW, "billingUsage"),
        *parse_training(document, WINDOW, "billingUsage"),
    ]


def assert_same(body: bytes) -> None:
    try:
        expected: list[Usage] | Exception = whole(body)
    except (FireworksParseError, MalformedBodyError) as error:
        expected = error
    for chunk in CHUNKS:
        if isinstance(expected, MalformedBodyError):
            with pytest.raises(MalformedBodyError):
                decode_usage(body, WINDOW, "billingUsage", chunk)
        elif isinstance(expected, FireworksParseError):
            with pytest.raises(FireworksParseError) as raised:
                decode_usage(body, WINDOW, "billingUsage", chunk)
            assert str(raised.value) == str(expected), chunk
        else:
            assert decode_usage(body, WINDOW, "billingUsage", chunk) == expected, chunk


@pytest.mark.parametrize(
    "body",
    [
        f'{{"serverlessCosts": [{GOOD}, {GOOD}], "dedicatedCosts": [{DEDICATED}], '
        f'"trainingCosts": [{TRAINING}], "nextPageToken": "", "extra": {{"a": [1, 2.5]}}}}',
        # whitespace everywhere JSON allows it, streams out of order, empty lists
        f' \n{{ "trainingCosts" : [ {TRAINING} ] ,\r\n "serverlessCosts" :\t[ {GOOD} , '
        f'{GOOD} ] , "dedicatedCosts" : [ ] }} \n',
        "{}",
        '{"serverlessCosts": null, "dedicatedCosts": []}',
        # a number as the last thing in a chunk must not be read short
        f'{{"serverlessCosts": [{GOOD}], "n": 1234567890123}}',
        # multi-byte characters (split across chunks) and escapes
        f'{{"serverlessCosts": [{{{START}, "group": {{"model_name": "modèle-ü-日本-🚀", '
        '"api_key_name": "a\\"b\\\\c\\u00e9"}}]}',
        # a lone surrogate escape, replaced as decode_json replaces it, in a value and a key
        f'{{"serverlessCosts": [{{{START}, "group": {{"api_key_name": "x\\ud800y"}}, '
        '"\\udc00": 1}]}',
        # a key given twice: the last value counts, as with json.loads
        f'{{"serverlessCosts": [{{"promptTokens": "-1"}}], "serverlessCosts": [{GOOD}]}}',
        # a row far larger than a chunk
        f'{{"serverlessCosts": [{{{START}, "group": {{"api_key_name": "{"k" * 200_000}"}}}}]}}',
    ],
)
def test_rows_match_json_loads(body: str) -> None:
    assert_same(body.encode())


def test_a_utf16_body_is_read_as_json_loads_reads_it() -> None:
    assert_same(f'{{"serverlessCosts": [{GOOD}]}}'.encode("utf-16"))


@pytest.mark.parametrize(
    "field",
    [
        '"promptTokens": "-5"',
        '"completionTokens": NaN',
        '"cachedPromptTokens": -Infinity',
        '"promptTokens": 1e400',
        '"promptTokens": "9223372036854775808"',
        '"audioInputSeconds": 1e400',
        '"costNanoUsd": "abc"',
        '"group": ["x"]',
        '"startTime": "yesterday"',
    ],
)
def test_a_wrong_field_is_named_with_its_row(field: str) -> None:
    body = f'{{"serverlessCosts": [{GOOD}, {GOOD}, {{{START}, {field}}}]}}'.encode()
    assert_same(body)
    with pytest.raises(FireworksParseError, match=r"serverlessCosts\[2\]"):
        decode_usage(body, WINDOW, "billingUsage", 5)


@pytest.mark.parametrize(
    "body",
    [
        # the first error of a stream: a row that is not an object outranks an earlier wrong field
        f'{{"serverlessCosts": [{{"promptTokens": "x"}}, 5, {GOOD}]}}',
        # streams are checked serverless, dedicated, training, whatever the body's order
        '{"trainingCosts": [{"acceleratorSeconds": -1}], "serverlessCosts": [{"promptTokens": "x"}]}',
        '{"dedicatedCosts": {"a": 1}}',
        '{"trainingCosts": "none"}',
    ],
)
def test_errors_are_chosen_as_the_whole_document_chooses_them(body: str) -> None:
    assert_same(body.encode())


@pytest.mark.parametrize(
    "body",
    [
        "",
        "[]",
        '"text"',
        f'{{"serverlessCosts": [{GOOD}',  # truncated
        f'{{"serverlessCosts": [{GOOD}]}} trailing',
        f'{{"serverlessCosts": [{GOOD},]}}',
        f'{{"serverlessCosts": [{GOOD}] "dedicatedCosts": []}}',
        '{"serverlessCosts" [] }',
        "{serverlessCosts: []}",
        '{"a": 1,}',
        # malformed after a wrong row: still a malformed body (retried), as with json.loads
        '{"serverlessCosts": [{"promptTokens": "-5"}], "x": }',
    ],
)
def test_a_malformed_body_is_malformed(body: str) -> None:
    assert_same(body.encode())


def test_invalid_utf8_is_malformed() -> None:
    assert_same(b'{"serverlessCosts": [{"group": {"model_name": "\xff\xfe"}}]}')
