"""`--send-test`: one message marked TEST to every routed destination, through the run's own
senders (wiring.real_senders), and never recorded in the delivery ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from fwcost.check.model import CheckResult, Section, failed, passed, skipped
from fwcost.check.settings import LoadedSettings
from fwcost.config import ConfigError
from fwcost.delivery import (
    Attachment,
    DeliveryError,
    Destination,
    LedgerKey,
    OutgoingReport,
    RoutingConfig,
)
from fwcost.wiring import real_senders

TEST_MARK = "TEST — fwcost check"


def make_test_message(account_id: str, run_id: str, now: datetime) -> OutgoingReport:
    """A message nobody can mistake for a report: TEST in the subject and first line."""
    said = (
        f"This is a test from `fwcost check --send-test` for the Fireworks account {account_id}, "
        f"sent {now:%Y-%m-%d %H:%M} UTC (check {run_id}). It is not a report and is not recorded "
        "as a delivery: the daily report will come here as usual."
    )
    return OutgoingReport(
        team=None,
        subject=f"{TEST_MARK}: delivery test for {account_id}",
        html=f"<html><body><h1>{TEST_MARK}</h1><p>{said}</p></body></html>",
        text=f"{TEST_MARK}\n{said}\n",
        slack={
            "text": f"{TEST_MARK}: delivery test for {account_id}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{TEST_MARK}*\n{said}"}}
            ],
        },
        # A route that attaches the day's CSV gets a small one, so attachments are tried too.
        attachments=(
            Attachment(
                "fwcost-check-test.csv",
                "text/csv",
                f"note\n{TEST_MARK}: the day's CSV is attached here\n".encode(),
            ),
        ),
    )


def _test_key(account_id: str, destination: Destination, run_id: str, now: datetime) -> LedgerKey:
    """What a test post carries as Slack metadata: its destination id names the check, so a
    run looking for its own unrecorded post (by metadata) never takes a test for it."""
    test_id = f"{destination.destination_id}-check-{run_id}"
    return LedgerKey(account_id, now.date(), None, test_id)


def all_destinations(routing: RoutingConfig) -> list[Destination]:
    """Every destination of every route, once."""
    found: dict[str, Destination] = {}
    for route in (routing.overall, *routing.teams.values()):
        for destination in route.destinations:
            found.setdefault(destination.destination_id, destination)
    return list(found.values())


def send_tests(loaded: LoadedSettings, aws: Any, run_id: str, now: datetime) -> Section | None:
    """None when there is nowhere to send (no routing)."""
    settings, routing = loaded.settings, loaded.routing
    if settings is None or routing is None:
        return None
    if loaded.bad:  # a run would not start: nothing is sent in its name either
        reason = "not sent: the settings are invalid (see Settings)"
        return Section("Test messages", "", (skipped("messages", reason),))
    try:
        senders = real_senders(settings, routing, aws)
    except (ConfigError, GetParameterError) as error:
        return Section("Test messages", "", (failed("senders", str(error), "see Slack above"),))
    message = make_test_message(settings.account_id, run_id, now)
    results: list[CheckResult] = []
    for destination in all_destinations(routing):
        try:
            key = _test_key(settings.account_id, destination, run_id, now)
            receipt = senders.for_destination(destination).send(message, destination, None, key)
        except DeliveryError as error:
            results.append(failed(destination.destination_id, error.problem, ""))
        else:
            detail = f"{destination.describe()}: {receipt.describe()}"
            results.append(passed(destination.destination_id, detail))
    return Section("Test messages", "not recorded in the ledger", tuple(results))
