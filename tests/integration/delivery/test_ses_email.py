"""SesEmailSender against moto's SES v2: the raw MIME that lands, and clear errors."""

from __future__ import annotations

import email
from datetime import date
from email.message import Message
from email.policy import default
from typing import Any

import pytest

from delivery.support import make_report, sent_raw_messages
from fwcost.delivery import DeliveryError, EmailDestination, LedgerKey, SesEmailSender

FINOPS = EmailDestination(
    to=("finops@acme.ai", "Léa Dupont <lea@acme.ai>"),
    cc=("cto@acme.ai",),
    sender="Fireworks costs <costs@acme.ai>",
    attach_csv=True,
)
KEY = LedgerKey("acme-ai", date(2026, 11, 21), None, FINOPS.destination_id)


def landed_message() -> Message:
    [sent] = sent_raw_messages()
    return email.message_from_string(sent.raw_data, policy=default)


def test_sends_text_and_html_alternatives_with_the_csv_attached(sesv2: Any) -> None:
    report = make_report("overall")

    receipt = SesEmailSender(sesv2).send(report, FINOPS, None, KEY)

    assert receipt.action == "sent"
    assert receipt.message_id
    message = landed_message()
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()  # type: ignore[attr-defined]
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = alternative.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert text.get_content().replace("\r\n", "\n") == report.text + "\n"
    assert html.get_content_type() == "text/html"
    assert "Total $12.50 ✓" in html.get_content()
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_filename() == "fwcost-acme-ai-2026-11-21.csv"
    assert attachment.get_payload(decode=True) == report.attachments[0].body


def test_headers_carry_the_route_and_a_utf8_subject(sesv2: Any) -> None:
    report = make_report("overall")

    SesEmailSender(sesv2).send(report, FINOPS, None, KEY)

    message = landed_message()
    assert message["From"] == "Fireworks costs <costs@acme.ai>"
    assert message["To"] == "finops@acme.ai, Léa Dupont <lea@acme.ai>"
    assert message["Cc"] == "cto@acme.ai"
    assert message["Subject"] == report.subject  # contains "—", so it travels encoded
    assert message["Message-ID"].endswith("@acme.ai>")


def test_no_attachment_when_the_route_does_not_ask(sesv2: Any) -> None:
    destination = EmailDestination(
        to=("search-leads@acme.ai",), cc=(), sender="costs@acme.ai", attach_csv=False
    )

    SesEmailSender(sesv2).send(make_report("search"), destination, None, KEY)

    message = landed_message()
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert "Cc" not in message


def test_an_unverified_sender_says_which_identity_to_verify(sesv2: Any) -> None:
    destination = EmailDestination(
        to=("finops@acme.ai",), cc=(), sender="billing@other.example", attach_csv=False
    )

    with pytest.raises(DeliveryError) as raised:
        SesEmailSender(sesv2).send(make_report("overall"), destination, None, KEY)

    assert str(raised.value).startswith(f"{destination.destination_id}: SES rejected the message")
    assert "verify the identity billing@other.example (or its domain) in SES" in str(raised.value)
    assert sent_raw_messages() == []
