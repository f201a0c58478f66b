"""The lab's measures measure: a secret put somewhere is found there, and the tally counts lost
deliveries, duplicates and the documented resends as the scenarios rely on. (These tests try no
fault: they do not count among the figures.)"""

from __future__ import annotations

import logging

from deployed import BOT_TOKEN, BUCKET, WEBHOOK_PATHS
from faults.lab import Arrival, FaultLab, Tally
from faults.scenarios import DOUBLED_SCHEDULE

OVERALL, SEARCH = "audience=overall", "team=search"
WEBHOOK, BOT, EMAIL = "webhook:overall_webhook", "bot:C0123ABCD", "email:finops@acme.ai"


def test_a_secret_put_in_a_log_line_or_an_object_is_found_there(lab: FaultLab) -> None:
    # Given a deployment that ran clean
    lab.deploy(DOUBLED_SCHEDULE)
    assert lab.invoke().result is not None
    assert lab.secrets_found() == []
    assert '"message":"run finished"' in lab.log.getvalue()  # the app's log lines are read

    # When a bot token reaches a log line and a webhook's secret part an archived object
    logging.getLogger("fwcost.delivery").warning("posting with %s", BOT_TOKEN)
    secret_part = WEBHOOK_PATHS["search_webhook"].rsplit("/", 1)[1]
    lab.deployed.s3.put_object(Bucket=BUCKET, Key="fireworks/leak.txt", Body=secret_part.encode())

    # Then both are found, each where it is
    found = lab.secrets_found()
    assert f"{BOT_TOKEN[:12]}... in the app's log" in found
    assert f"{secret_part[:12]}... in fireworks/leak.txt (version 1)" in found


def tally(*arrivals: Arrival, forced_runs: int = 0, window: bool = False) -> Tally:
    expected = {(OVERALL, WEBHOOK), (OVERALL, BOT), (OVERALL, EMAIL)}
    return Tally.of(expected, list(arrivals), forced_runs=forced_runs, window=window)


def test_the_tally_counts_what_never_arrived_and_what_arrived_twice() -> None:
    counted = tally(Arrival(OVERALL, WEBHOOK), Arrival(OVERALL, WEBHOOK), Arrival(OVERALL, BOT))
    assert counted.lost == [(OVERALL, EMAIL)]
    assert counted.duplicates == [(OVERALL, WEBHOOK, 1)]
    assert counted.resent == [] and counted.strays == []


def test_a_forced_run_may_send_once_more_and_edit_the_bot_post() -> None:
    first = [Arrival(OVERALL, WEBHOOK), Arrival(OVERALL, BOT), Arrival(OVERALL, EMAIL)]
    forced = [Arrival(OVERALL, WEBHOOK), Arrival(OVERALL, BOT, edit=True), Arrival(OVERALL, EMAIL)]
    assert tally(*first, *forced, forced_runs=1).duplicates == []
    assert tally(*first, *first, forced_runs=1).duplicates == [(OVERALL, BOT, 1)]
    assert tally(*first, *forced, *forced, forced_runs=1).duplicates == [
        (OVERALL, EMAIL, 1),
        (OVERALL, WEBHOOK, 1),
    ]


def test_the_documented_window_holds_webhook_and_email_resends_never_a_bot_post() -> None:
    sends = [Arrival(OVERALL, WEBHOOK), Arrival(OVERALL, BOT), Arrival(OVERALL, EMAIL)] * 2
    counted = tally(*sends, window=True)
    assert counted.resent == [(OVERALL, EMAIL, 1), (OVERALL, WEBHOOK, 1)]
    assert counted.duplicates == [(OVERALL, BOT, 1)]


def test_a_report_sent_where_the_routing_sends_none_is_a_stray() -> None:
    assert tally(Arrival(SEARCH, EMAIL)).strays == [Arrival(SEARCH, EMAIL)]
