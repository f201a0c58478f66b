"""Scrubbing credentials out of what is kept (fwcost.scrub)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwcost.scrub import _SHAPES, SCRUBBED, Scrubber, _replacement

API_KEY = "fw_sim_readonly_key"
FIREWORKS_SHAPED = "fw_" + "3ZfX8aB2c" * 3
SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"


@pytest.mark.parametrize(
    ("secret", "left"),
    [
        (API_KEY, "***"),
        (f"Bearer {API_KEY}", "Bearer ***"),
        ("bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "bearer ***"),
        ("BEARER abcdefgh12345678", "BEARER ***"),
        (FIREWORKS_SHAPED, "***"),
        (SLACK_BOT, "***"),
        ("xoxp-" + "1" * 12, "***"),
        (WEBHOOK, "***"),
        (WEBHOOK.replace("/", "\\/"), "***"),  # as json.dumps may escape it
        (AWS_KEY_ID, "***"),
        ("ASIAY34FZKBOKMUTVV7A", "***"),
    ],
)
def test_each_credential_shape_is_scrubbed_and_json_stays_json(secret: str, left: str) -> None:
    body = json.dumps({"message": f"denied; saw {secret} here", "code": 7}).encode()
    body = body.replace(b"\\\\/", b"\\/")  # keep an escaped slash escaped once, as sent

    scrubbed = Scrubber([API_KEY]).scrub(body)

    assert scrubbed.count == 1
    assert json.loads(scrubbed.body) == {"message": f"denied; saw {left} here", "code": 7}


def test_a_gateway_echoing_every_request_header_keeps_nothing_secret() -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Api-Key": API_KEY, "Accept": "*/*"}
    body = json.dumps({"code": 7, "message": "no", "requestHeaders": headers}).encode()

    scrubbed = Scrubber([API_KEY]).scrub(body)

    assert API_KEY.encode() not in scrubbed.body
    assert json.loads(scrubbed.body)["requestHeaders"] == {
        "Authorization": "Bearer ***",
        "X-Api-Key": "***",
        "Accept": "*/*",
    }
    assert scrubbed.count == 2


@pytest.mark.parametrize(
    "text",
    [
        '{"message": "missing or invalid API key (Authorization: Bearer)"}',
        '{"apiKeyId": "key_4nMFyHCSZP4CRKqa", "model": "accounts/fireworks/models/fw_small"}',
        '{"note": "a bearer of bad news", "team": "AKIA-team"}',
    ],
)
def test_a_body_without_credentials_is_kept_byte_for_byte(text: str) -> None:
    body = text.encode()

    scrubbed = Scrubber([API_KEY]).scrub(body)

    assert scrubbed.count == 0
    assert scrubbed.body is body


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_the_api_key_never_survives_in_any_body(before: bytes, after: bytes) -> None:
    body = before + API_KEY.encode() + after

    assert API_KEY.encode() not in Scrubber([API_KEY]).scrub(body).body


FRAGMENTS = [
    *(f" {part} " for part in ("Bearer", "bEARER", "earer", "fw_", "xoxs-", "AKIA", "ASIA")),
    "https://hooks.slack.com/x",
    API_KEY,
    "0123456789ABCDEFGHIJ",
    "abcdefghijklmnopqrstuvwxyz",
    '"',
    "\\/",
]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_scrubbing_skips_no_pattern_that_could_match(parts: list[str]) -> None:
    # Given a body of credential fragments, whole or cut short
    body = "".join(parts).encode()
    # When it is scrubbed, it is as if every pattern were tried in turn, with no anchor scan
    expected, count = body.replace(API_KEY.encode(), SCRUBBED), body.count(API_KEY.encode())
    for shape in _SHAPES:
        expected, found = shape.pattern.subn(_replacement, expected)
        count += found
    scrubbed = Scrubber([API_KEY]).scrub(body)
    assert (scrubbed.body, scrubbed.count) == (expected, count)


def test_text_is_scrubbed_the_same_way() -> None:
    assert Scrubber([API_KEY]).scrub_text(f"echo {API_KEY} via {WEBHOOK}") == "echo *** via ***"
    assert Scrubber([]).scrub_text("nothing") == "nothing"
