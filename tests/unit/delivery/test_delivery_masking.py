"""Secret masking of text and log records; parsing the Slack secret."""

from __future__ import annotations

import logging

import pytest

from fwcost.delivery import load_slack_secrets
from fwcost.delivery.masking import SecretMasker

URL = "https://hooks.slack.com/services/T0/B0/secretPathPart123"


def test_masks_values_and_the_path_of_secret_urls() -> None:
    masker = SecretMasker([URL, "xoxb-token-123456", "short"])

    masked = masker.mask(
        f"posting to {URL}, then http://127.0.0.1:80/services/T0/B0/secretPathPart123"
        " with xoxb-token-123456; a short word stays"
    )

    assert masked == "posting to ***, then http://127.0.0.1:80*** with ***; a short word stays"


def test_a_private_logger_masks_before_handlers_see_the_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    logger = SecretMasker([URL]).private_logger("test.sdk", logging.getLogger("test"))

    try:
        raise ValueError(f"bad url {URL}")
    except ValueError:
        logger.exception("request to %s failed", URL)

    assert URL not in caplog.text
    assert "secretPathPart123" not in caplog.text
    assert "request to *** failed (ValueError)" in caplog.text


def test_slack_secret_parses_and_errors_never_quote_values() -> None:
    assert load_slack_secrets('{"bot_token": "xoxb-1"}', "sm:fwcost/slack") == {
        "bot_token": "xoxb-1"
    }
    with pytest.raises(ValueError, match=r"keys \['n'\] must hold strings") as raised:
        load_slack_secrets('{"n": 1, "bot_token": "xoxb-secret"}', "sm:fwcost/slack")
    assert "xoxb-secret" not in str(raised.value)
    with pytest.raises(ValueError, match=r"Slack secret \(sm:fwcost/slack\) is not a JSON object"):
        load_slack_secrets("xoxb-secret", "sm:fwcost/slack")
