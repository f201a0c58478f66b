"""`fwcost demo` shows every kind of news on any day: weekday, weekend, DST day, first of a month.

Each run goes through the real pipeline against the simulator on loopback: the revision comes
from the archive's restatement check (the day before was seeded without its late batch usage),
the budget warning from the budget the demo sets, the spike from the anomaly rule.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fwcost.cli import main
from fwcost.periods import Period
from fwcost.simulator import SimulatedAccount
from fwcost.simulator.catalog import Activity
from fwcost.simulator.scenario import DemoScenario

LA = "America/Los_Angeles"


def money(amount: Decimal) -> str:
    return f"${amount.quantize(Decimal('0.01')):,.2f}"


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 25),  # a Wednesday
        date(2026, 11, 28),  # a Saturday
        date(2026, 11, 22),  # a Sunday
        date(2026, 11, 1),  # a Sunday of 25 hours (clocks went back), the first of a month
        date(2026, 3, 8),  # a Sunday of 23 hours (clocks went forward)
    ],
    ids=str,
)
def test_the_demo_report_shows_every_kind_of_news_on_any_day(tmp_path: Path, day: date) -> None:
    # When the demo runs for the day
    assert main(["demo", "--out", str(tmp_path), "--date", day.isoformat()], {}) == 0
    text = (tmp_path / "report.txt").read_text()
    flat = " ".join(text.split())  # notices wrap at 72 characters

    scenario = DemoScenario(day, LA)
    before = SimulatedAccount(scenario.config(late_data_arrived=False))
    after = SimulatedAccount(scenario.config(late_data_arrived=True))
    zone = ZoneInfo(LA)
    # Then the total is the simulated bill
    assert f"{day:%a} {day.day} {day:%b}" in text and money(after.billed_total(day, zone)) in text
    # a team spike, explained by the key and model that ran away
    assert "- ads spent $" in flat and "× its usual " in flat
    assert "mostly kimi-k2p6 via key prod-ads-1" in flat
    # a new key and one that went quiet
    newcomer = after.key_by_activity(Activity.NEWCOMER)
    quiet = after.key_by_activity(Activity.QUIET)
    assert f"New key {newcomer.name} ({newcomer.team}) spent $" in flat
    assert f"Key {quiet.name} ({quiet.team}) went quiet" in flat
    # the budget the demo set for ads, projected (or already) over: the first notice, an alert
    budget = scenario.team_budgets()["ads"]
    alert = re.search(r"WHAT CHANGED ! ads is (projected at \$[\d,]+ against|over) its", flat)
    assert alert and f"its ${budget:,.0f} {day:%B} budget" in flat
    # the day before, revised by its late batch usage: the pipeline's own restatement
    revised = scenario.revised_day
    late = after.billed_total(revised, zone) - before.billed_total(revised, zone)
    assert late > 0
    assert f"{revised.day} {revised:%b} revised +{money(late)}" in flat
    # unattributed spend, as a row of its own
    assert any(line.startswith("  Unattributed ") for line in text.splitlines())
    # and every notice is shown, none cut to "and N more"
    assert "- and " not in text
    assert (tmp_path / "archive").is_dir() and (tmp_path / "report.html").is_file()
    # and the week and the month that ended by the day, from the archive the demo left
    weekly = " ".join((tmp_path / "weekly" / "report.txt").read_text().split())
    assert Period.week_before(day + timedelta(days=1)).title in weekly
    monthly = " ".join((tmp_path / "monthly" / "report.txt").read_text().split())
    # its month fetched from the billing API as the demo seeded it: reconciled to the bill
    month = Period.month_before(day + timedelta(days=1))
    assert f"Fireworks' billing summary for {month.title}: $" in monthly
    assert "Reconciled: the month's billed total matches the archived days to the cent." in monthly
    assert (tmp_path / "monthly" / "teams" / "ads" / "report.html").is_file()


def test_the_revision_shows_on_every_run_into_the_same_folder(tmp_path: Path, capsys) -> None:
    day = date(2026, 11, 25)
    for _ in range(2):
        assert main(["demo", "--out", str(tmp_path), "--date", day.isoformat()], {}) == 0
        assert f"{day - timedelta(days=1)} revised +" in capsys.readouterr().out


def test_the_demo_imports_an_export_of_the_month_before_its_seeded_days(
    tmp_path: Path, capsys
) -> None:
    # When the demo runs, twice into the same folder
    day = date(2026, 11, 25)
    for _ in range(2):
        assert main(["demo", "--out", str(tmp_path), "--date", day.isoformat()], {}) == 0
    first, second = capsys.readouterr().out.split("Archive seeded")[1:]

    # Then the 30 days before the seeded ones (which reach back to 1 October, the statement's
    # month) are archived, each marked from export
    archive = tmp_path / "archive" / "fireworks" / "account=acme-ai"

    def source(day: date) -> str | None:
        manifest = json.loads((archive / f"dt={day}/manifest.json").read_text())
        return manifest.get("source")

    for back in range(1, 31):
        assert source(date(2026, 10, 1) - timedelta(days=back)) == "export", back
    assert source(date(2026, 10, 1)) is None
    # they count in the figures that reach back to them: September, all of it from the export
    september = "September 2026 in the archive: $"
    assert (
        "over 30 days (30 from the firectl export, estimated at list price; 0 from the billing API)"
        in first
    )
    assert september in first and "6,000 rows over 30 days" in first
    # and the second run's import changed nothing, and said so
    assert "already imported at" in second and "nothing changed" in second
    assert first.split(september)[1].split()[0] == second.split(september)[1].split()[0]


def test_the_two_account_demo_s_roll_up_shows_each_account_s_own_report_total_to_the_cent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import io

    # When the demo runs with a second simulated account
    code = main(["demo", "--out", str(tmp_path), "--date", "2026-11-25", "--accounts", "2"])

    # Then each account's own reports and the roll-up are written, and delivered per account
    assert code == 0
    rollup = tmp_path / "rollup"
    rows = list(csv.DictReader(io.StringIO((rollup / "report.csv").read_text())))
    text = (rollup / "report.txt").read_text()
    totals = []
    for account in ("acme-ai", "acme-labs"):
        own = csv.DictReader(
            io.StringIO((tmp_path / "accounts" / account / "report.csv").read_text())
        )
        total = sum(Decimal(r["attributed_cost_usd"]) for r in own)
        assert (
            sum(Decimal(r["attributed_cost_usd"]) for r in rows if r["account_id"] == account)
            == total
            > 0
        )
        # ... the total its own report shows, in the roll-up's line for it
        assert money(total) in (tmp_path / "accounts" / account / "report.txt").read_text()
        assert re.search(rf"\({account}\) +{re.escape(money(total))}", text)
        totals.append(total)
    assert re.search(rf"Total +{re.escape(money(sum(totals)))}  across 2 accounts", text)
    outbox = tmp_path / "outbox"
    assert {p.name for p in outbox.iterdir()} == {
        "account=acme-ai",
        "account=acme-labs",
        "account=_rollup",
    }
    assert not (tmp_path / "report.html").exists()  # `make demo`'s single account writes it
