"""Delivery exactly once: routing, Slack, SES email, the delivery ledger, the delivery step."""

from fwcost.delivery.deliver import (
    DeliveryOutcome,
    DeliveryResult,
    PlannedSend,
    Senders,
    deliver_reports,
)
from fwcost.delivery.email import SesEmailSender, build_message
from fwcost.delivery.errors import DeliveryError, DeliveryFailed, RoutingError
from fwcost.delivery.files import FileSender
from fwcost.delivery.ledger import DeliveryLedger, LedgerEntry, LedgerKey, LocalLedger, S3Ledger
from fwcost.delivery.model import (
    Destination,
    EmailDestination,
    OutgoingReport,
    Receipt,
    Sender,
    SlackBotDestination,
    SlackWebhookDestination,
)
from fwcost.delivery.routing import RoutingConfig, load_routing
from fwcost.delivery.slack import SlackRetryPolicy, SlackSender, load_slack_secrets

__all__ = [
    "DeliveryError",
    "DeliveryFailed",
    "DeliveryLedger",
    "DeliveryOutcome",
    "DeliveryResult",
    "Destination",
    "EmailDestination",
    "FileSender",
    "LedgerEntry",
    "LedgerKey",
    "LocalLedger",
    "OutgoingReport",
    "PlannedSend",
    "Receipt",
    "RoutingConfig",
    "RoutingError",
    "S3Ledger",
    "Sender",
    "Senders",
    "SesEmailSender",
    "SlackBotDestination",
    "SlackRetryPolicy",
    "SlackSender",
    "SlackWebhookDestination",
    "build_message",
    "deliver_reports",
    "load_routing",
    "load_slack_secrets",
]
