"""Sending reports by email through SES v2 as raw MIME.

The message is multipart/mixed: first a multipart/alternative (plain text, then HTML, so
clients that can show HTML pick the last part), then the report's attachments when the route
asks for them (a day's CSV; a month's chargeback CSV and workbook). Raw content is the only SES v2 form that carries attachments.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from fwcost.delivery.errors import DeliveryError
from fwcost.delivery.model import (
    Destination,
    EmailDestination,
    LedgerKey,
    OutgoingReport,
    Receipt,
)

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sesv2.type_defs import SendEmailRequestTypeDef

_logger = logging.getLogger(__name__)

# The subject carries a team's name, which is data: a line break in it would end the header.
MAX_SUBJECT_CHARS = 200
_CONTROLS_AND_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

_ADVICE = {
    "MailFromDomainNotVerifiedException": (
        "the custom MAIL FROM domain of {sender} is not verified: finish its DNS setup in SES"
        " or stop using a custom MAIL FROM domain"
    ),
    "AccountSuspendedException": "the SES account is suspended in this region: contact AWS",
    "SendingPausedException": (
        "sending is paused for this account or its configuration set: resume sending in SES"
    ),
    "NotFoundException": (
        "SES could not find a resource this send names (configuration set or identity):"
        " create it or fix the name"
    ),
    "LimitExceededException": "an SES sending quota is exhausted: raise it or retry later",
    "TooManyRequestsException": "SES is throttling: retry later",
    "BadRequestException": "SES refused the request as malformed",
    "AccessDeniedException": (
        "the role or user fwcost runs as may not send as {sender}: grant it ses:SendEmail"
        " on that identity (template.yaml does, for EmailFromAddress)"
    ),
}


def build_message(report: OutgoingReport, destination: EmailDestination) -> EmailMessage:
    """The MIME message of one report for one email route (UTF-8 headers encoded as needed)."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = header_text(report.subject, MAX_SUBJECT_CHARS)
    message["From"] = destination.sender
    message["To"] = ", ".join(destination.to)
    if destination.cc:
        message["Cc"] = ", ".join(destination.cc)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(destination.sender)[1].partition("@")[2]
    message["Message-ID"] = make_msgid(idstring="fwcost", domain=domain or None)
    # Quoted-printable keeps the body 7-bit with short lines (SMTP's 998-octet limit), whatever
    # the rendered HTML's line lengths or characters.
    message.set_content(report.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(report.html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.make_mixed()
    if destination.attach_csv:
        for attachment in report.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.body, maintype=maintype, subtype=subtype, filename=attachment.name
            )
    return message


def header_text(text: str, limit: int) -> str:
    """Text that is safe as one header value: each run of control characters and line breaks
    (CR, LF, NUL, U+2028...) becomes one space, and more than `limit` characters end in '…'.

    The policy then encodes what is not ASCII (RFC 2047) and folds the line where it must.
    """
    flat = _CONTROLS_AND_LINE_BREAKS.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class SesEmailSender:
    """Sends reports to email destinations through SES v2 (`boto3.client("sesv2")`)."""

    def __init__(self, sesv2: SESV2Client, *, configuration_set: str | None = None) -> None:
        self._sesv2 = sesv2
        self._configuration_set = configuration_set

    def send(
        self,
        report: OutgoingReport,
        destination: Destination,
        previous: Receipt | None,
        key: LedgerKey,
    ) -> Receipt:
        # `previous` is not used: a sent email cannot be edited, so a forced run sends again.
        if not isinstance(destination, EmailDestination):
            raise DeliveryError(destination.destination_id, "not an email destination")
        raw = build_message(report, destination).as_bytes()
        request: SendEmailRequestTypeDef = {
            "FromEmailAddress": destination.sender,
            "Destination": {
                "ToAddresses": list(destination.to),
                "CcAddresses": list(destination.cc),
            },
            "Content": {"Raw": {"Data": raw}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        destination_id = destination.destination_id
        try:
            response = self._sesv2.send_email(**request)
        except ClientError as error:
            raise DeliveryError(destination_id, explain_ses_error(error, destination)) from None
        except BotoCoreError as error:
            raise DeliveryError(destination_id, f"could not reach SES: {error}") from None
        return Receipt(action="sent", message_id=response["MessageId"])

    def find_sent(
        self, destination: Destination, key: LedgerKey, since: datetime
    ) -> Receipt | None:
        # SES keeps no mailbox to search: an email whose send was never recorded is sent again.
        return None


def explain_ses_error(error: ClientError, destination: EmailDestination) -> str:
    """What SES refused and what to do about it, in one sentence a person can act on."""
    code = error.response.get("Error", {}).get("Code", "Unknown")
    said = error.response.get("Error", {}).get("Message", "")
    sender = parseaddr(destination.sender)[1]
    if code == "MessageRejected":
        return f"SES rejected the message ({said}): {_rejection_advice(said, sender, destination)}"
    advice = _ADVICE.get(code, "see the SES console for the account's sending status")
    return f"SES refused ({code}: {said}): {advice.format(sender=sender)}"


def _rejection_advice(said: str, sender: str, destination: EmailDestination) -> str:
    lowered = said.lower()
    if "not verified" not in lowered and "authority to send" not in lowered:
        return "check the message and the SES sending status"
    unverified_recipients = [
        address
        for address in (parseaddr(entry)[1] for entry in destination.to + destination.cc)
        if address.lower() in lowered
    ]
    advice = []
    if sender.lower() in lowered or not unverified_recipients:
        advice.append(f"verify the identity {sender} (or its domain) in SES")
    if unverified_recipients:
        advice.append(
            "SES account is in the sandbox: recipients must be verified"
            f" ({', '.join(unverified_recipients)}) or request production access"
        )
    return "; ".join(advice)
