"""billingUsage decoded as a stream gives exactly what json.loads and the stream parsers give.

Every body is decoded whole (decode_json, then parse_serverless/dedicated/training) and as a
stream cut into chunks of 1, 2, 3, 7 and 64 bytes and the default: a number, a string, a
multi-byte character or an escape split across chunks; with the default, rows are decoded a
batch at a time, so rows whose text looks like a row's end and generated rows of any JSON
check that a batch is cut only where a row ends. Rows must match; errors must match by
message (a field's error) or by kind (a malformed body, whose position is worded differently).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    "rows",
    [
        # a row's text holding what looks like the end of a row: the cut must not land there
        f'{GOOD}, {{{START}, "group": {{"api_key_name": "a}},b"}}}}, {GOOD}, {GOOD}',
        f'{GOOD}, {{{START}, "group": {{"api_key_name": "a}}, {{b"}}}}, {GOOD}',
        f'{GOOD}, {{{START}, "x": [{{"a": 1}}, {{"b": "]"}}], "y": {{"c": {{}}}}}}, {GOOD}, {GOOD}',
        # whitespace between a row's end and its comma; numbers and a row that is not an object
        f"{GOOD} ,\n{GOOD}\t, {GOOD} , 5, {GOOD}",
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12",
        f'{GOOD}, {{"promptTokens": "x"}}, {GOOD}, [{GOOD}], {GOOD}',
        f'{GOOD}, {GOOD}, {{"promptTokens": 1.5}}, {GOOD}, {{"audioInputSeconds": 2.5}}, {GOOD}',
        f'{GOOD}, {{"completionTokens": 123456789012345678901234567890}}, {GOOD}, {GOOD}',
        f'{GOOD}, {{"a": NaN, "b": -Infinity}}, {GOOD}, {GOOD}',
    ],
)
def test_rows_decoded_together_are_the_rows_decoded_one_by_one(rows: str) -> None:
    assert_same(f'{{"serverlessCosts": [{rows}], "dedicatedCosts": [{DEDICATED}]}}'.encode())


def test_a_number_cut_short_by_a_chunk_is_read_whole() -> None:
    """A number ("12." then "5", "1e+" then "5") whose part before the cut reads as one."""
    for body in ('{"n": 12.5, "m": 1e+5, "serverlessCosts": []}', '{"serverlessCosts": [0.0]}'):
        try:
            expected: list[Usage] | str = whole(body.encode())
        except FireworksParseError as error:
            expected = str(error)
        for chunk in range(1, len(body) + 1):
            try:
                got: list[Usage] | str = decode_usage(body.encode(), WINDOW, "billingUsage", chunk)
            except FireworksParseError as error:
                got = str(error)
            assert got == expected, (body, chunk)


# Any JSON value (json.dumps writes NaN, Infinity and a lone surrogate's escape too), and texts
# that look like JSON's structure.
TEXTS = st.text(alphabet=st.sampled_from('ab}{][,:" \\\né🚀\ud800'), max_size=8)
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | TEXTS
    | st.sampled_from(["2026-05-28T00:00:00Z", "12345", "-5", "m", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=8,
)
FIELDS = st.sampled_from(
    ["startTime", "promptTokens", "cachedPromptTokens", "completionTokens", "modelName",
     "audioInputSeconds", "costNanoUsd", "usageType", "model_name", "annotations.team", "x"]
)  # fmt: skip
GROUPS = st.dictionaries(FIELDS, VALUES, max_size=4)
ROWS = st.one_of(
    st.just(json.loads(GOOD)),
    st.fixed_dictionaries({"startTime": st.just("2026-05-28T00:00:00Z"), "group": GROUPS}),
    st.dictionaries(FIELDS, VALUES, max_size=4),
    VALUES,
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(ROWS, max_size=12), spaced=st.booleans())
def test_any_rows_decode_as_json_loads_decodes_them(rows: list[Any], spaced: bool) -> None:
    separators = (" , ", " : ") if spaced else (",", ":")
    assert_same(json.dumps({"serverlessCosts": rows}, separators=separators).encode())


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
