"""The month's chargeback files from a real archive: the simulator over loopback HTTP, the real
pipeline (fwcost backfill) into a folder and into S3 (moto), then the files read back.

The days hold the end of daylight saving time (1 Nov 2026 in Los Angeles: 25 hours), a day
restated by late usage, unattributed spend and billed-only items, and hostile team names.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import boto3
import openpyxl
import pytest

from fwcost.archive.csv_export import text_cell
from fwcost.archive.day_archive import DayArchive
from fwcost.archive.stores import LocalStore, S3Store
from fwcost.chargeback import UNATTRIBUTED, ChargebackFiles, Dimension, chargeback_files
from fwcost.cli import main
from fwcost.dates import days_between
from fwcost.report.unattributed import UnattributedSpend
from fwcost.simulator import SimulatorConfig, run_simulator
from fwcost.simulator.catalog import HOSTILE_NAMES

TZ = "America/Los_Angeles"
FIRST, DST_DAY, RESTATED, LAST = (date(2026, 10, 30), date(2026, 11, 1), date(2026, 11, 2),
                                  date(2026, 11, 3))  # fmt: skip
DAYS = list(days_between(FIRST, LAST))
TEAMS = ("=cmd|' /C calc'!A0", "team-" + "y" * 35, "CaseTeam", "caseteam", "[]:*?/\\", "team 🚀")
CONFIG = SimulatorConfig(
    hostile_names=(*TEAMS, *HOSTILE_NAMES),
    keys=len(TEAMS) + len(HOSTILE_NAMES) + 12,  # more annotated keys than names: each a team
    home_timezone=TZ,
)


def backfill(config: SimulatorConfig, start: date, end: date, where: list[str]) -> None:
    with run_simulator(config) as simulator:
        env = {
            "FWCOST_ACCOUNT_ID": config.account_id,
            "FWCOST_API_KEY": config.api_key,
            "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
            "FWCOST_TIMEZONE": TZ,
        }
        command = ["backfill", "--start", start.isoformat(), "--end", end.isoformat(), *where]
        assert main(command, env) == 0


def build_archive(where: list[str]) -> None:
    """The days, the restated one's batch usage late: archived without it, then with it."""
    backfill(replace(CONFIG, late_batch_day=RESTATED), FIRST, LAST, where)
    backfill(CONFIG, RESTATED, RESTATED, where)


@dataclass
class Archived:
    archive: DayArchive
    root: Path


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Archived:
    root = tmp_path_factory.mktemp("archive")
    build_archive(["--out", str(root)])
    return Archived(DayArchive(LocalStore(root), "fireworks", CONFIG.account_id), root)


def attributions(archive: DayArchive) -> list[dict]:
    return [archive.read_attribution(day) for day in DAYS]


def csv_team_cents(files: ChargebackFiles) -> Counter[str]:
    cents: Counter[str] = Counter()
    for row in csv.DictReader(io.StringIO(files.csv.decode())):
        cents[row["team"]] += int(Decimal(row["cost_usd"]) * 100)
    return cents


def test_the_archive_holds_a_dst_day_and_a_restated_day(archived):
    dst = archived.archive.read_manifest(DST_DAY)
    assert dst["hours"] == 25.0
    [revision] = (archived.root / archived.archive.day_prefix(RESTATED) / "revisions").iterdir()
    before = json.loads((revision / "attribution.json").read_text())["total_cents"]
    assert archived.archive.read_attribution(RESTATED)["total_cents"] > before  # the batch came


@pytest.mark.parametrize("policy", list(UnattributedSpend))
def test_the_csv_adds_up_to_the_archived_days_and_each_team_to_its_daily_cents(archived, policy):
    files = chargeback_files(archived.archive, DAYS, policy, "2026-11")
    days = attributions(archived.archive)

    month_total = sum(day["total_cents"] for day in days)
    assert files.total_cents == month_total
    assert sum(csv_team_cents(files).values()) == month_total
    expected: Counter[str] = Counter()
    for day in days:
        for team, groups in day["teams"].items():
            expected[text_cell(team)] += groups["total"]["cents"]
        expected[UNATTRIBUTED] += sum(amount["cents"] for amount in day["billed_only"].values())
    assert expected[UNATTRIBUTED] > 0  # the month has unattributed spend to place
    if policy is UnattributedSpend.ROW:
        assert csv_team_cents(files) == expected  # (a Counter's missing teams count 0)
        assert files.team_cents == dict(csv_team_cents(files))
    else:
        shares = {team: files.chargeback.shared_cents(team) for team in files.team_cents}
        own = Counter({team: cents - shares[team] for team, cents in files.team_cents.items()})
        assert own == expected - Counter({UNATTRIBUTED: expected[UNATTRIBUTED]})
        assert sum(shares.values()) == expected[UNATTRIBUTED]
    assert {text_cell(team) for team in TEAMS} <= set(files.team_cents)


@pytest.mark.parametrize(
    ("dimension", "groups"),
    [(Dimension.PROJECT, "projects"), (Dimension.ENVIRONMENT, "environments")],
)
def test_each_teams_breakdown_equals_its_daily_attributions(archived, dimension, groups):
    files = chargeback_files(archived.archive, DAYS, UnattributedSpend.ROW, "2026-11")

    expected: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for day in attributions(archived.archive):
        for team, breakdowns in day["teams"].items():
            for name, amount in breakdowns[groups].items():
                expected[text_cell(team), (text_cell(name),)] += amount["cents"]
        # billed-only spend: unattributed, with no project or environment
        billed_only = sum(amount["cents"] for amount in day["billed_only"].values())
        expected[UNATTRIBUTED, ("",)] += billed_only
    found = Counter(
        {
            (team, group): cents
            for team in files.team_cents
            for group, cents in files.chargeback.breakdown(team, dimension).items()
        }
    )
    assert found == expected


def xstring(text: str) -> str:
    """A cell's text as Excel shows it: OOXML writes a control character as _xHHHH_, which
    Excel decodes and openpyxl leaves as it is."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda code: chr(int(code[1], 16)), text)


@pytest.mark.parametrize("policy", list(UnattributedSpend))
def test_the_workbook_opens_and_its_team_and_month_totals_equal_the_csvs(archived, policy):
    files = chargeback_files(archived.archive, DAYS, policy, "2026-11")

    book = openpyxl.load_workbook(io.BytesIO(files.xlsx), data_only=True)

    by_team = csv_team_cents(files)
    summary = list(book["Summary"].iter_rows(values_only=True))
    header = summary.index(("Team", "Sheet", "Amount (USD)"))
    table = summary[header + 1 : header + 1 + len(by_team)]
    assert len(book.sheetnames) == 1 + len(by_team)
    for team, sheet_name, amount in table:
        key = UNATTRIBUTED if team == "Unattributed" else xstring(team)
        assert Decimal(str(amount)) * 100 == by_team[key]
        sheet = book[sheet_name]
        [last] = sheet.iter_rows(min_row=sheet.max_row, values_only=True)
        assert Decimal(str(last[-1])) * 100 == by_team[key]
        rows = sheet.iter_rows(min_row=5, max_row=sheet.max_row - 1, values_only=True)
        assert sum(Decimal(str(r[-1])) for r in rows) * 100 == by_team[key]
    [total] = [r for r in summary if r[0] == "Total"]
    assert Decimal(str(total[2])) * 100 == sum(by_team.values())


def test_the_same_archive_gives_the_same_bytes(archived):
    first = chargeback_files(archived.archive, DAYS, UnattributedSpend.SPREAD, "2026-11")
    again = chargeback_files(archived.archive, DAYS, UnattributedSpend.SPREAD, "2026-11")

    assert (again.csv, again.xlsx) == (first.csv, first.xlsx)


def test_only_the_days_given_are_read(archived):
    files = chargeback_files(archived.archive, [FIRST, LAST], UnattributedSpend.ROW, "2026-11")

    days = [archived.archive.read_attribution(day) for day in (FIRST, LAST)]
    assert files.total_cents == sum(day["total_cents"] for day in days)
    assert files.chargeback.days == (FIRST, LAST)


def test_an_s3_archive_gives_the_same_files(archived, bucket):
    build_archive(["--bucket", bucket])
    archive = DayArchive(S3Store(boto3.client("s3"), bucket), "fireworks", CONFIG.account_id)

    from_s3 = chargeback_files(archive, DAYS, UnattributedSpend.ROW, "2026-11")

    local = chargeback_files(archived.archive, DAYS, UnattributedSpend.ROW, "2026-11")
    assert (from_s3.csv, from_s3.xlsx) == (local.csv, local.xlsx)
