"""A Sender that writes what would be sent into a folder: the CLI demo's "delivery".

It goes through the same deliver_reports path as Slack and SES, so the demo exercises routing
and the ledger too. Files: `<folder>/audience=overall/` or `<folder>/team=<name>/` (under `account=<id>/` when there are
several accounts: `by_account`), holding
`<destination_id>.json` (the Slack payload and where it would go) and `<destination_id>.eml`
(the exact MIME message SES would get).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from fwcost.delivery.email import build_message
from fwcost.delivery.model import (
    Destination,
    EmailDestination,
    LedgerKey,
    OutgoingReport,
    Receipt,
    SlackBotDestination,
    audience_segment,
)


class FileSender:
    """Writes each delivery to a file instead of sending it; a Sender for every kind."""

    def __init__(self, folder: Path, *, by_account: bool = False) -> None:
        self._folder = folder
        self._by_account = by_account

    def send(
        self,
        report: OutgoingReport,
        destination: Destination,
        previous: Receipt | None,
        key: LedgerKey,
    ) -> Receipt:
        # A forced re-run rewrites the file: the folder's equivalent of chat.update.
        folder = self._folder / (f"account={key.account_id}" if self._by_account else "")
        folder /= audience_segment(report.team)
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(destination, EmailDestination):
            path = folder / f"{destination.destination_id}.eml"
            path.write_bytes(build_message(report, destination).as_bytes())
        else:
            path = folder / f"{destination.destination_id}.json"
            document = {"destination": destination.describe(), "payload": report.slack}
            path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        channel = destination.channel if isinstance(destination, SlackBotDestination) else ""
        return Receipt(action="written", channel=channel, message_id=str(path))

    def find_sent(
        self, destination: Destination, key: LedgerKey, since: datetime
    ) -> Receipt | None:
        # A file is simply written again, like a webhook post.
        return None
