"""Delivery errors. Their text names the destination and never holds a secret value."""

from __future__ import annotations


class DeliveryError(Exception):
    """One destination could not be delivered to; the message says what to do about it."""

    def __init__(self, destination_id: str, message: str) -> None:
        super().__init__(f"{destination_id}: {message}")
        self.destination_id = destination_id
        self.problem = message


class DeliveryFailed(Exception):
    """At least one destination failed; raised at the end of a run so the invocation retries."""


class RoutingError(ValueError):
    """The routing configuration is invalid; the message names its source and the JSON path."""


class LedgerError(Exception):
    """The delivery ledger could not be read or written; the message names the record."""
