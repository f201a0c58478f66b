"""The state machine's plan: what it fans out, worked out once per execution."""

from datetime import date
from zoneinfo import ZoneInfo

from fwcost.config import Account
from fwcost.fanout import plan
from fwcost.run_request import PlanRequest, backfill_request, report_request

ACCOUNTS = (Account("prod"), Account("staging", api_key_secret="s"))
UTC = ZoneInfo("UTC")


def test_a_report_day_fans_out_over_every_account_then_rolls_up():
    planned = plan(PlanRequest(report_request(date(2026, 11, 21), force=True)), ACCOUNTS, UTC, 31)

    assert planned == {
        "kind": "report",
        "date": "2026-11-21",
        "force": True,
        "dry_run": False,
        "accounts": ["prod", "staging"],
        "rollup": True,
    }


def test_one_account_or_a_dry_run_has_no_roll_up():
    from dataclasses import replace

    one = replace(report_request(date(2026, 11, 21)), account="staging")
    dry = report_request(date(2026, 11, 21), dry_run=True)

    assert plan(PlanRequest(one), ACCOUNTS, UTC, 31)["accounts"] == ["staging"]
    assert plan(PlanRequest(one), ACCOUNTS, UTC, 31)["rollup"] is False
    assert plan(PlanRequest(dry), ACCOUNTS, UTC, 31)["rollup"] is False


def test_a_backfill_is_cut_into_each_account_s_windows():
    planned = plan(
        PlanRequest(backfill_request(date(2026, 1, 1), date(2026, 2, 15))), ACCOUNTS, UTC, 31
    )

    assert planned == {
        "kind": "backfill",
        "windows": [
            {"account": account, "start": start, "end": end}
            for account in ("prod", "staging")
            for start, end in (("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-15"))
        ],
    }
