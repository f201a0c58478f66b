"""Delivery exactly once: routing, Slack, SES email, the delivery ledger, the delivery step."""

from fwcost.delivery.deliver import (
    DeliveryOutcome,
    DeliveryResult,
    PlannedSend,
    SecondsLeft,
    Senders,
    deliver_reports,
)
from fwcost.delivery.email import SesEmailSender, build_message
from fwcost.delivery.errors import DeliveryError, DeliveryFailed, LedgerError, RoutingError
from fwcost.delivery.files import FileSender
from fwcost.delivery.ledger import (
    CLAIM_LEASE,
    DeliveryLedger,
    DeliveryState,
    LedgerRecord,
    LocalLedger,
    S3Ledger,
    Stored,
)
from fwcost.delivery.model import (
    Attachment,
    Destination,
    EmailDestination,
    LedgerKey,
    OutgoingReport,
    Receipt,
    Sender,
    SlackBotDestination,
    SlackWebhookDestination,
)
from fwcost.delivery.routing import RoutingConfig, load_routing
from fwcost.delivery.slack import SlackRetryPolicy, SlackSender, load_slack_secrets

__all__ = [
    "CLAIM_LEASE",
    "Attachment",
    "DeliveryError",
    "DeliveryFailed",
    "DeliveryLedger",
    "DeliveryOutcome",
    "DeliveryResult",
    "DeliveryState",
    "Destination",
    "EmailDestination",
    "FileSender",
    "LedgerError",
    "LedgerKey",
    "LedgerRecord",
    "LocalLedger",
    "OutgoingReport",
    "PlannedSend",
    "Receipt",
    "RoutingConfig",
    "RoutingError",
    "S3Ledger",
    "SecondsLeft",
    "Sender",
    "Senders",
    "SesEmailSender",
    "SlackBotDestination",
    "SlackRetryPolicy",
    "SlackSender",
    "SlackWebhookDestination",
    "Stored",
    "build_message",
    "deliver_reports",
    "load_routing",
    "load_slack_secrets",
]
