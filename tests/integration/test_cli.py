"""The CLI end to end: real HTTP to the simulator on loopback, a real folder archive."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fwcost.cli import main
from fwcost.dates import last_complete_day, reportable_from

DAY = date(2026, 11, 21)


def env_for(simulator, **extra):
    return {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
        "FWCOST_TIMEZONE": "America/Los_Angeles",
        **extra,
    }


def day_dir(root, day):
    return root / "fireworks" / "account=acme-ai" / f"dt={day.isoformat()}"


def test_run_archives_a_complete_day_whose_csv_adds_up_to_the_simulated_bill(
    tmp_path, simulator, capsys
):
    from fwcost.simulator import SimulatedAccount

    # When one day is run into a folder
    code = main(["run", "--date", "2026-11-21", "--out", str(tmp_path)], env_for(simulator))

    # Then the day is complete: manifest, CSV, raw bodies byte for byte as served
    assert code == 0
    folder = day_dir(tmp_path, DAY)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["day"] == "2026-11-21"
    assert manifest["timezone"] == "America/Los_Angeles"
    assert {r["name"] for r in manifest["requests"]} >= {
        "billingUsage",
        "billing-summary",
    }
    assert "fw_sim_admin_key" not in json.dumps(manifest)
    rows = list(csv.DictReader(io.StringIO((folder / "csv" / "usage.csv").read_text())))
    billed = SimulatedAccount(simulator.config).billed_total(DAY, ZoneInfo("America/Los_Angeles"))
    assert sum(Decimal(r["attributed_cost_usd"]) for r in rows).quantize(
        Decimal("0.01")
    ) == billed.quantize(Decimal("0.01"))
    # and the summary line shows the report's own total, the CSV's cents added up
    cents = sum(Decimal(r["attributed_cost_usd"]) for r in rows)
    assert f"Report day 2026-11-21: ${cents:,.2f}" in capsys.readouterr().out


def test_backfill_archives_one_day_per_date_in_windows_of_31_days(tmp_path, simulator):
    code = main(
        ["backfill", "--start", "2026-10-01", "--end", "2026-11-10", "--out", str(tmp_path)],
        env_for(simulator),
    )
    assert code == 0
    manifests = sorted(tmp_path.glob("fireworks/account=acme-ai/dt=*/manifest.json"))
    assert len(manifests) == 41
    usage_requests = [r for r in simulator.requests if r.path.endswith("/billingUsage")]
    assert len(usage_requests) == 2  # two windows (31 + 10 days), every usage type in each


def test_bad_settings_exit_2_naming_the_setting(tmp_path, capsys):
    code = main(["run", "--out", str(tmp_path)], {"FWCOST_TIMEZONE": "Nowhere/Land"})
    assert code == 2
    err = capsys.readouterr().err
    assert "FWCOST_TIMEZONE: 'Nowhere/Land' is not an IANA timezone" in err
    assert "FWCOST_ACCOUNT_ID: required" in err


def test_a_budget_for_a_team_no_usage_names_exits_2_after_archiving_the_day(
    tmp_path, simulator, capsys
):
    # Given a budget for a team of the simulated account and one for a misspelt team
    budgets = '{"teams": {"search": 8000, "serach": 100}}'
    run = ["run", "--date", "2026-11-21", "--out", str(tmp_path)]

    # When the day is run
    code = main(run, env_for(simulator, FWCOST_BUDGETS=budgets))

    # Then the run fails as bad settings, naming the team and the one it is close to
    assert code == 2
    err = capsys.readouterr().err
    assert "FWCOST_BUDGETS: no usage annotated team=<name> on 2026-11-21 or in the 30 days" in err
    assert "'serach' (did you mean 'search'" in err
    # after archiving what it fetched, and before any report was written
    folder = day_dir(tmp_path, DAY)
    assert (folder / "manifest.json").is_file()
    assert not (folder / "report").exists()
    # And with the name fixed the day reports, search's budget in it
    budgets = '{"teams": {"search": 8000}}'
    assert main(run, env_for(simulator, FWCOST_BUDGETS=budgets)) == 0
    text = " ".join((folder / "report" / "report.txt").read_text().split())
    assert "! search is over its $8,000 November budget" in text


def test_demo_needs_no_credentials_and_writes_every_report_beside_the_archive(tmp_path, capsys):
    from fwcost.simulator import SimulatedAccount
    from fwcost.simulator.scenario import DemoScenario

    code = main(["demo", "--out", str(tmp_path), "--date", "2026-11-21"], {})

    assert code == 0
    assert (day_dir(tmp_path / "archive", DAY) / "manifest.json").is_file()
    for name in ("report.html", "report.txt", "slack.json"):
        assert (tmp_path / name).stat().st_size > 0
        assert {p.name for p in (tmp_path / "teams").glob(f"*/{name}")} == {name}
    assert sorted(p.name for p in (tmp_path / "teams").iterdir()) == [
        "ads",
        "platform",
        "research",
        "search",
    ]
    assert list((tmp_path / "outbox").rglob("*.eml"))
    # The report's total is the simulated bill, to the cent
    config = DemoScenario(DAY, "America/Los_Angeles").config(late_data_arrived=True)
    billed = SimulatedAccount(config).billed_total(DAY, ZoneInfo("America/Los_Angeles"))
    assert f"${billed:,.2f}" in (tmp_path / "report.txt").read_text()
    slack = json.loads((tmp_path / "slack.json").read_text())
    assert f"${billed:,.2f}" in slack["text"]
    out = capsys.readouterr().out
    assert str(tmp_path) in out


def test_dry_run_renders_and_plans_delivery_and_writes_nothing_into_the_archive(
    tmp_path, simulator, capsys
):
    routing = tmp_path / "routing.json"
    routing.write_text(json.dumps({
        "version": 1,
        "routes": {"overall": {"email": [{"from": "costs@acme.ai", "to": ["finops@acme.ai"], "attach_csv": True}]}},
    }))  # fmt: skip
    env = env_for(simulator, FWCOST_ROUTING_FILE=str(routing))
    preview = tmp_path / "preview"

    code = main(
        ["run", "--date", "2026-11-21", "--out", str(tmp_path / "a"), "--dry-run",
         "--report-dir", str(preview)],
        env,
    )  # fmt: skip

    assert code == 0
    out = capsys.readouterr().out
    assert "delivery (dry run): 0 delivered" in out
    assert "would send overall → email-" in out
    assert "attaching fwcost-acme-ai-2026-11-21.csv" in out
    assert "archive: nothing written (dry run)" in out
    assert not (tmp_path / "a").exists()  # no raw, CSV, manifest, report or ledger record
    # The preview is where it was asked for, with no links: there is no archived copy to open
    text = (preview / "report.txt").read_text()
    assert "Report day" not in text and "Fireworks AI daily cost" in text
    assert "Full report:" not in text
    assert (preview / "report.csv").is_file()


def test_the_fwcost_command_runs_the_demo_in_a_clean_environment(tmp_path):
    """`make demo` as a newcomer runs it: the installed console script, no AWS or Powertools env."""
    import os
    import shutil
    import subprocess
    import sys

    command = shutil.which("fwcost", path=os.path.dirname(sys.executable))
    assert command, "the fwcost console script is not installed next to this Python"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}

    done = subprocess.run(
        [command, "demo", "--out", str(tmp_path), "--date", "2026-11-21"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "Report day 2026-11-21" in done.stdout
    assert '"_aws"' not in done.stdout  # no metric records in a terminal
    assert (tmp_path / "report.html").is_file()


def test_a_smaller_window_setting_splits_a_backfill_into_more_request_sets(tmp_path, simulator):
    # Two weeks clear of a DST change: 7-day windows make two request sets
    env = env_for(simulator, FWCOST_WINDOW_DAYS="7")
    backfill = ["backfill", "--start", "2026-11-08", "--end", "2026-11-21", "--out", str(tmp_path)]
    assert main(backfill, env) == 0
    summaries = [r for r in simulator.requests if r.path.endswith("/billing/summary")]
    assert len(summaries) == 2
    assert len(list(tmp_path.glob("fireworks/account=acme-ai/dt=*/manifest.json"))) == 14


def test_out_overrides_a_bucket_from_the_environment(tmp_path, simulator):
    env = env_for(simulator, FWCOST_ARCHIVE_BUCKET="some-team-bucket")
    assert main(["run", "--date", "2026-11-21", "--out", str(tmp_path)], env) == 0
    assert (day_dir(tmp_path, DAY) / "manifest.json").is_file()


def test_a_bad_routing_file_exits_2_naming_the_file_and_entry(tmp_path, simulator, capsys):
    routing = tmp_path / "routing.json"
    routing.write_text('{"version": 1, "routes": {"overall": {"slack": [{"kind": "webhok"}]}}}')
    env = env_for(simulator, FWCOST_ROUTING_FILE=str(routing))
    assert main(["run", "--date", "2026-11-21", "--out", str(tmp_path / "a")], env) == 2
    err = capsys.readouterr().err
    assert f"routing (file:{routing})" in err
    assert "routes.overall.slack[0]" in err


def test_a_routing_sender_outside_the_ses_identity_is_refused_before_anything_runs(
    tmp_path, simulator, capsys
):
    routing = tmp_path / "routing.json"
    routing.write_text(json.dumps({
        "version": 1,
        "routes": {"overall": {"email": [{"from": "costs@elsewhere.io", "to": ["a@acme.ai"]}]}},
    }))  # fmt: skip
    env = env_for(simulator, FWCOST_ROUTING_FILE=str(routing), FWCOST_EMAIL_FROM="reports@acme.ai")
    assert main(["run", "--date", "2026-11-21", "--out", str(tmp_path / "a")], env) == 2
    assert (
        "sends as ['costs@elsewhere.io'], but this deployment may send only as reports@acme.ai"
        in capsys.readouterr().err
    )
    assert simulator.requests == []  # refused before any Fireworks request


def test_a_sender_differing_only_in_letter_case_is_refused_as_iam_would(
    tmp_path, simulator, capsys
):
    # IAM's ses:FromAddress condition (StringLike) compares letter case too
    routing = tmp_path / "routing.json"
    routing.write_text(json.dumps({
        "version": 1,
        "routes": {"overall": {"email": [{"from": "reports@ACME.ai", "to": ["a@acme.ai"]}]}},
    }))  # fmt: skip
    env = env_for(simulator, FWCOST_ROUTING_FILE=str(routing), FWCOST_EMAIL_FROM="reports@acme.ai")
    assert main(["run", "--date", "2026-11-21", "--out", str(tmp_path / "a")], env) == 2
    assert "sends as ['reports@ACME.ai']" in capsys.readouterr().err


# ---- only complete days ---------------------------------------------------------------------
# These read the real clock, as the CLI does: today is never complete, whatever the date.

LA = ZoneInfo("America/Los_Angeles")


def today_in_la() -> date:
    return datetime.now(UTC).astimezone(LA).date()


@pytest.mark.parametrize("days_ahead", [0, 1, 40])
def test_run_for_today_or_a_later_day_exits_2_naming_the_day_and_when_it_may_run(
    tmp_path, simulator, capsys, days_ahead
):
    day = today_in_la() + timedelta(days=days_ahead)

    code = main(["run", "--date", day.isoformat(), "--out", str(tmp_path)], env_for(simulator))

    assert code == 2
    ready = reportable_from(day, LA, timedelta(hours=1)).astimezone(LA)
    err = capsys.readouterr().err
    assert f"fwcost: report day {day} is not complete yet in America/Los_Angeles" in err
    assert f"it may be reported from {ready:%Y-%m-%d %H:%M %Z}" in err
    assert simulator.requests == []  # refused before any Fireworks request
    assert not list(tmp_path.rglob("manifest.json"))


def test_demo_refuses_today_too(tmp_path, capsys):
    today = today_in_la()
    assert main(["demo", "--out", str(tmp_path), "--date", today.isoformat()], {}) == 2
    assert f"report day {today} is not complete yet" in capsys.readouterr().err


def test_a_backfill_to_today_stops_at_the_last_complete_day_and_says_so(
    tmp_path, simulator, capsys
):
    last = last_complete_day(datetime.now(UTC), LA, timedelta(hours=1))
    start = last - timedelta(days=2)
    backfill = [
        "backfill",
        "--start",
        str(start),
        "--end",
        str(today_in_la()),
        "--out",
        str(tmp_path),
    ]

    assert main(backfill, env_for(simulator)) == 0

    err = capsys.readouterr().err
    assert f"backfill end {today_in_la()} is not complete yet" in err
    assert f"backfilling {start} to {last} instead" in err
    archived = sorted(p.parent.name for p in tmp_path.glob("fireworks/*/dt=*/manifest.json"))
    assert archived == [f"dt={start + timedelta(days=n)}" for n in range(3)]
