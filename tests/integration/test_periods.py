"""The week's digest and the month's statement over a simulated month, end to end.

October 2026 in Europe/Berlin holds a DST change (the 25th has 25 hours), a restated day (the
14th's batch usage arrived after it was first archived) and unattributed spend. The archive is
built as daily runs leave it (backfills against the simulator), then the statement and digest
run through the service with the real routing, ledger and delivery code (files as senders).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from fwcost.archive import DayArchive, LocalStore
from fwcost.cli import main
from fwcost.config import Settings, load_settings
from fwcost.delivery import Senders
from fwcost.periods import Period
from fwcost.periods.model import MissingDays
from fwcost.report.attribution import AttributedDay
from fwcost.report.cents import cents_of
from fwcost.run_request import backfill_request, period_request, request_from_event
from fwcost.service import run
from fwcost.simulator import SimulatorConfig, run_simulator

TZ = "Europe/Berlin"
OCTOBER = Period.month(2026, 10)
LATE_DAY = date(2026, 10, 14)
# `make validator` installs it (tests/integration/report/test_html_valid.py checks the daily's)
VNU_JAR = Path(__file__).resolve().parents[2] / ".tools/node_modules/vnu-jar/build/dist/vnu.jar"
ROUTING = {
    "routes": {
        "overall": {
            "slack": [
                {"kind": "webhook", "secret_key": "daily_only"},
                {"kind": "webhook", "secret_key": "finops", "cadence": ["weekly", "monthly"]},
            ],
            "email": [
                {
                    "from": "costs@acme.ai",
                    "to": ["finance@acme.ai"],
                    "attach_csv": True,
                    "cadence": ["monthly"],
                }
            ],
        },
        "teams": {
            "ads": {"slack": [{"kind": "webhook", "secret_key": "ads", "cadence": ["weekly"]}]}
        },
    }
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """September and October archived, the 14th first without its late batch usage."""
    root = tmp_path_factory.mktemp("archive")
    env = {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_TIMEZONE": TZ,
    }
    with run_simulator(SimulatorConfig(home_timezone=TZ, late_batch_day=LATE_DAY)) as early:
        backfill = ["backfill", "--start", "2026-09-01", "--end", "2026-10-31", "--out", str(root)]
        assert main(backfill, env | {"FWCOST_FIREWORKS_BASE_URL": early.base_url}) == 0
    with run_simulator(SimulatorConfig(home_timezone=TZ)) as late:
        again = ["backfill", "--start", str(LATE_DAY), "--end", str(LATE_DAY), "--out", str(root)]
        assert main(again, env | {"FWCOST_FIREWORKS_BASE_URL": late.base_url}) == 0
    return root


@pytest.fixture
def archive(seeded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(seeded, copy)
    return copy


@pytest.fixture
def simulator_url() -> Iterator[str]:
    with run_simulator(SimulatorConfig(home_timezone=TZ)) as running:
        yield running.base_url


def settings_for(archive: Path, url: str, **extra: str) -> Settings:
    routing = archive.parent / "routing.json"
    routing.write_text(json.dumps(ROUTING))
    env = {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_TIMEZONE": TZ,
        "FWCOST_ARCHIVE_DIR": str(archive),
        "FWCOST_FIREWORKS_BASE_URL": url,
        "FWCOST_ROUTING_FILE": str(routing),
        "FWCOST_BUDGETS": '{"account": 70000, "teams": {"ads": 20000}}',
    }
    return load_settings(env | extra)


def archived_days(archive: Path) -> dict[date, AttributedDay]:
    days = DayArchive(LocalStore(archive), "fireworks", "acme-ai")
    return {d: AttributedDay.from_json(days.read_attribution(d) or {}) for d in OCTOBER.days}


def csv_team_cents(body: bytes) -> dict[str, int]:
    cents: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(body.decode())):
        whole, _, part = row["cost_usd"].lstrip("-").partition(".")
        value = int(whole) * 100 + int(part or 0)
        cents[row["team"]] = cents.get(row["team"], 0) + (
            -value if row["cost_usd"].startswith("-") else value
        )
    return cents


def attachments_agree(result, manifest):  # type: ignore[no-untyped-def]
    """The chargeback CSV and workbook the overall statement carries: archived with their
    SHA-256, the CSV's teams equal to the statement's charges, the workbook readable."""
    [csv_file, xlsx_file] = result.reports[0].attachments
    assert (csv_file.name, xlsx_file.name) == ("chargeback-2026-10.csv", "chargeback-2026-10.xlsx")
    assert csv_team_cents(csv_file.body) == manifest["team_cents"]
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_file.body), read_only=True)
    assert len(workbook.sheetnames) >= 2
    archived = {o["key"].rsplit("/", 1)[1]: o["sha256"] for o in manifest["objects"]}
    assert archived[csv_file.name] == hashlib.sha256(csv_file.body).hexdigest()
    assert archived[xlsx_file.name] == hashlib.sha256(xlsx_file.body).hexdigest()


def monthly(archive: Path, url: str, **extra: str):  # type: ignore[no-untyped-def]
    settings = settings_for(archive, url, **extra)
    senders = Senders.to_folder(archive.parent / "outbox")
    return run(period_request(OCTOBER), settings, senders=senders, emit_metrics=False)


def test_the_statement_adds_up_to_the_bill_and_to_the_archived_days(archive, simulator_url):
    result = monthly(archive, simulator_url)
    result.raise_if_failed()
    days = archived_days(archive)
    overall = result.reports[0]
    # Each team's charge is the sum of its archived daily cents
    statement = json.loads(
        (archive / "fireworks/account=acme-ai/statements/month=2026-10/manifest.json").read_text()
    )
    for team, cents in statement["team_cents"].items():
        if team:
            assert cents == sum(
                d.teams[team].amount.cents for d in days.values() if team in d.teams
            )
    # The teams and the rows no team carries add up to the archived days; with the rounding,
    # to the month's billed total (the billing summary) to the cent
    days_cents = sum(d.total_cents for d in days.values())
    assert sum(statement["team_cents"].values()) == days_cents
    assert result.billed is not None
    assert result.total_cents == statement["total_cents"] == cents_of(result.billed)
    text = " ".join(overall.text.split())
    assert "745 hours: clocks went back" in text
    assert "Reconciled: the month's billed total matches the archived days to the cent." in text
    assert "rated amounts" in text and "before credits, discounts and taxes" in text
    assert "Restated after their daily reports and included here: 14 Oct revised +$" in text
    assert "Unattributed" in text and "FWCOST_UNATTRIBUTED=row" in text
    attachments_agree(result, statement)
    email = next((archive.parent / "outbox" / "audience=overall").glob("email-*.eml")).read_bytes()
    assert b'filename="chargeback-2026-10.xlsx"' in email
    # Delivered by cadence: the monthly destinations only, the overall and no team route
    assert result.delivery is not None
    delivered = sorted(r.destination_id for r in result.delivery.delivered)
    assert "slack-webhook-daily_only" not in delivered and "slack-webhook-ads" not in delivered
    assert "slack-webhook-finops" in delivered and any(d.startswith("email-") for d in delivered)


def test_spread_puts_every_dollar_on_a_team_and_still_adds_up(archive, simulator_url):
    result = monthly(archive, simulator_url, FWCOST_UNATTRIBUTED="spread")
    manifest = json.loads(
        (archive / "fireworks/account=acme-ai/statements/month=2026-10/manifest.json").read_text()
    )
    assert "" not in manifest["team_cents"]
    attachments_agree(result, manifest)
    assert sum(manifest["team_cents"].values()) == sum(
        d.total_cents for d in archived_days(archive).values()
    )
    assert "FWCOST_UNATTRIBUTED=spread" in " ".join(result.reports[0].text.split())
    ads = next(r for r in result.reports if r.team == "ads")
    assert "its share of the spend no team annotation carries" in " ".join(ads.text.split())


def test_a_second_run_sends_nothing_new_and_a_restatement_reissues_once(archive, simulator_url):
    first = monthly(archive, simulator_url)
    assert first.delivery is not None and first.delivery.delivered
    again = monthly(archive, simulator_url)
    assert again.delivery is not None and not again.delivery.delivered
    assert len(again.delivery.skipped) == len(first.delivery.delivered)

    # When a backfill restates a day of October after the statement was issued
    with run_simulator(SimulatorConfig(home_timezone=TZ, spike_day=date(2026, 10, 20))) as spiked:
        settings = settings_for(archive, spiked.base_url)
        backfill = run(
            backfill_request(date(2026, 10, 20), date(2026, 10, 20)),
            settings,
            senders=Senders.to_folder(archive.parent / "outbox"),
            emit_metrics=False,
        )
    # Then the backfill re-issues the statement, revised, to the same destinations
    [revised] = backfill.followups
    assert revised.delivery is not None
    assert len(revised.delivery.delivered) == len(first.delivery.delivered)
    overall = revised.reports[0]
    assert overall.subject.startswith("Fireworks AI statement (revised), October 2026")
    said = " ".join(overall.text.split())
    assert "Revised (issue 2)" in said and "ads: $" in said
    folder = archive / "fireworks/account=acme-ai/statements/month=2026-10"
    assert (folder / "revisions/issue=1/manifest.json").is_file()
    assert json.loads((folder / "manifest.json").read_text())["issue"] == 2
    # Then once only
    once_more = monthly(archive, simulator_url)
    assert once_more.delivery is not None and not once_more.delivery.delivered


def test_the_weekly_digest_goes_to_weekly_destinations_with_the_week_in_it(archive, simulator_url):
    settings = settings_for(archive, simulator_url)
    request = request_from_event(
        {"report": "weekly", "scheduled_time": "2026-10-26T06:00:00Z"},
        settings.timezone,
        now=datetime(2026, 11, 30, tzinfo=UTC),
        settle=settings.settle,
    )
    assert (request.start, request.end) == (date(2026, 10, 19), date(2026, 10, 25))
    result = run(
        request, settings, senders=Senders.to_folder(archive.parent / "outbox"), emit_metrics=False
    )
    result.raise_if_failed()
    assert result.delivery is not None
    delivered = sorted((r.audience, r.destination_id) for r in result.delivery.delivered)
    assert ("ads", "slack-webhook-ads") in delivered
    assert ("overall", "slack-webhook-finops") in delivered
    assert all(d != "slack-webhook-daily_only" for _, d in delivered)
    assert not any(d.startswith("email-") for _, d in delivered)  # monthly only
    text = " ".join(result.reports[0].text.split())
    assert "Week 43, 19–25 Oct 2026" in text and "169 hours: clocks went back" in text
    assert "vs the week before" in text and "4-week average" in text
    assert "of its $70,000 October budget" in text
    assert (archive / "fireworks/account=acme-ai/digests/week=2026-W43/manifest.json").is_file()


def test_a_dry_run_plans_delivery_and_writes_nothing_into_the_archive(archive, simulator_url):
    settings = settings_for(archive, simulator_url)
    result = run(period_request(OCTOBER, dry_run=True), settings, emit_metrics=False)
    assert result.delivery is not None and result.delivery.planned
    assert not result.delivery.delivered
    assert not (archive / "fireworks/account=acme-ai/statements").exists()
    assert not (archive / "fireworks/ledger/account=acme-ai/month=2026-10").exists()


def test_a_period_with_missing_days_names_them_and_the_backfill(archive, simulator_url, capsys):
    shutil.rmtree(archive / "fireworks/account=acme-ai/dt=2026-10-03")
    with pytest.raises(MissingDays) as missing:
        monthly(archive, simulator_url)
    assert "fwcost backfill --start 2026-10-03 --end 2026-10-03" in str(missing.value)
    env = {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_TIMEZONE": TZ,
        "FWCOST_FIREWORKS_BASE_URL": simulator_url,
    }
    assert main(["run", "--monthly", "--month", "2026-10", "--out", str(archive)], env) == 1
    said = capsys.readouterr().err
    assert "October 2026 is missing 1 archived day(s): 3 Oct" in said
    assert '{"start": "2026-10-03", "end": "2026-10-03"}' in said


@pytest.mark.skipif(
    shutil.which("java") is None or not VNU_JAR.is_file(), reason="no vnu.jar (make validator)"
)
def test_the_digest_and_statement_emails_are_valid_html(archive, simulator_url, tmp_path):
    pages = [r.html for r in monthly(archive, simulator_url).reports]
    settings = settings_for(archive, simulator_url)
    senders = Senders.to_folder(tmp_path / "outbox")
    week = run(
        period_request(Period.iso_week(date(2026, 10, 21))), settings, senders=senders,
        emit_metrics=False,
    )  # fmt: skip
    pages += [r.html for r in week.reports]
    for n, page in enumerate(pages):
        (tmp_path / f"email-{n}.html").write_text(page)
    done = subprocess.run(
        ["java", "-Xss4m", "-XX:TieredStopAtLevel=1", "-jar", str(VNU_JAR), "--errors-only",
         "--format", "json", *sorted(str(p) for p in tmp_path.glob("*.html"))],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    messages = json.loads(done.stderr.strip().splitlines()[-1])["messages"]
    assert messages == []
