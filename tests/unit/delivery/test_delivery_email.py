"""Email MIME building and SES error advice (botocore Stubber: no network)."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import date

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from fwcost.delivery import (
    DeliveryError,
    EmailDestination,
    LedgerKey,
    OutgoingReport,
    SesEmailSender,
)
from fwcost.delivery.email import (
    MAX_SUBJECT_CHARS,
    build_message,
    explain_ses_error,
    header_text,
)
from fwcost.simulator.catalog import HOSTILE_NAMES

ROUTE = EmailDestination(
    to=("finops@acme.ai",), cc=(), sender="Costs <costs@acme.ai>", attach_csv=True
)
REPORT = OutgoingReport(
    team=None,
    subject="Coûts Fireworks — 2026-11-21",
    html="<p>" + "x" * 5000 + "</p>",  # one long line: must not break SMTP's line limit
    text="Total: $1.00",
    slack={"text": "t", "blocks": []},
)
KEY = LedgerKey("acme-ai", date(2026, 11, 21), None, ROUTE.destination_id)


def test_message_is_seven_bit_with_short_lines_and_an_encoded_subject() -> None:
    raw = build_message(REPORT, ROUTE).as_bytes()

    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"Subject: =?utf-8?" in raw


def test_no_csv_to_attach_sends_without_attachment() -> None:
    message = build_message(REPORT, ROUTE)

    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]


def ses_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "SendEmail")


@pytest.mark.parametrize(
    ("code", "said", "advice"),
    [
        (
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in"
            " region US-EAST-1: costs@acme.ai",
            "verify the identity costs@acme.ai (or its domain) in SES",
        ),
        (
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in"
            " region US-EAST-1: finops@acme.ai",
            "SES account is in the sandbox: recipients must be verified (finops@acme.ai)",
        ),
        (
            "MailFromDomainNotVerifiedException",
            "MAIL FROM domain not verified",
            "the custom MAIL FROM domain of costs@acme.ai is not verified",
        ),
        ("AccountSuspendedException", "suspended", "the SES account is suspended"),
        ("SendingPausedException", "paused", "resume sending in SES"),
        ("NotFoundException", "no such configuration set", "create it or fix the name"),
    ],
)
def test_ses_errors_say_what_to_do(code: str, said: str, advice: str) -> None:
    explained = explain_ses_error(ses_error(code, said), ROUTE)

    assert advice in explained
    assert said in explained


def test_the_sender_raises_one_delivery_error_naming_the_destination() -> None:
    sesv2 = boto3.client(
        "sesv2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(sesv2) as stubber:
        stubber.add_client_error(
            "send_email", service_error_code="SendingPausedException", service_message="paused"
        )

        with pytest.raises(DeliveryError) as raised:
            SesEmailSender(sesv2).send(REPORT, ROUTE, None, KEY)

    assert str(raised.value).startswith(f"{ROUTE.destination_id}: SES refused (SendingPausedExc")
    assert raised.value.destination_id == ROUTE.destination_id


@pytest.mark.parametrize("team", [*HOSTILE_NAMES, "a\r\nBcc: victim@example.com\r\n\r\nbody"])
def test_a_hostile_team_name_makes_one_valid_subject_line(team: str) -> None:
    # Given a report whose subject carries a team name that is data, not a header
    report = replace(REPORT, team=team, subject=f"{team} · Fireworks AI spend, Sat 21 Nov: $1.00")

    # When its message is built and read back as a mail client would
    raw = build_message(report, ROUTE).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    # Then it is one Subject header of printable text, bounded, and nothing else was injected
    subject = str(parsed["Subject"])
    assert not any(ch in subject for ch in "\r\n\x00\u2028\u2029")
    assert len(subject) <= MAX_SUBJECT_CHARS
    assert subject.endswith("$1.00") or subject.endswith("…")
    assert parsed.get_all("Bcc") is None
    assert len(parsed.get_all("Subject")) == 1
    assert not parsed.defects


@given(st.text(st.characters(exclude_categories=("Cs",))))
def test_any_subject_text_gives_a_header_that_round_trips_without_line_breaks(text: str) -> None:
    subject = header_text(text, MAX_SUBJECT_CHARS)
    raw = build_message(replace(REPORT, subject=subject or "x"), ROUTE).as_bytes()

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])
    assert len(subject) <= MAX_SUBJECT_CHARS
