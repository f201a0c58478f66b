"""A dry run fetches and renders, and writes nothing into the audit archive, folder or bucket.

The archive holds what was fetched and what was sent; a preview is neither. So a dry run writes
no raw body, CSV, attribution, manifest, revision, report or ledger record, even when it finds
a revised day (it still reports the revision) and has a routing to plan deliveries with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import boto3
import pytest

from fwcost.cli import main
from fwcost.simulator import RunningSimulator, run_simulator
from fwcost.simulator.scenario import DemoScenario

DAY = date(2026, 11, 25)
LA = "America/Los_Angeles"
SCENARIO = DemoScenario(DAY, LA)


@contextmanager
def fireworks(*, late_data_arrived: bool) -> Iterator[RunningSimulator]:
    with run_simulator(SCENARIO.config(late_data_arrived=late_data_arrived)) as running:
        yield running


def env_for(simulator: RunningSimulator, **extra: str) -> dict[str, str]:
    return {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
        "FWCOST_TIMEZONE": LA,
        **extra,
    }


@pytest.fixture
def routing(tmp_path: Path) -> str:
    """Somewhere to plan deliveries to, so the ledger would be written if anything were."""
    path = tmp_path / "routing.json"
    path.write_text(json.dumps({
        "version": 1,
        "routes": {"overall": {"email": [{"from": "costs@acme.ai", "to": ["finops@acme.ai"]}]}},
    }))  # fmt: skip
    return str(path)


def folder_contents(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def bucket_versions(bucket: str) -> set[tuple[str, str]]:
    pages = boto3.client("s3").get_paginator("list_object_versions").paginate(Bucket=bucket)
    return {
        (version["Key"], version["VersionId"])
        for page in pages
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
    }


def dry_run(target: list[str], routing: str, preview: Path, capsys) -> str:
    """A dry run of DAY after the day before's late batch usage arrived; its printed summary."""
    capsys.readouterr()
    with fireworks(late_data_arrived=True) as late:
        code = main(
            ["run", "--date", DAY.isoformat(), *target, "--dry-run", "--report-dir", str(preview)],
            env_for(late, FWCOST_ROUTING_FILE=routing),
        )
    assert code == 0
    return capsys.readouterr().out


def test_a_dry_run_writes_nothing_into_a_local_archive(tmp_path, routing, capsys):
    # Given an archive a real run wrote before the day before's batch usage arrived
    archive = tmp_path / "archive"
    with fireworks(late_data_arrived=False) as early:
        assert main(["run", "--date", DAY.isoformat(), "--out", str(archive)], env_for(early)) == 0
    before = folder_contents(archive)

    # When a dry run fetches the day again, now with that usage
    out = dry_run(["--out", str(archive)], routing, tmp_path / "preview", capsys)

    # Then it reports the revision and the deliveries it would make, and writes nothing
    assert f"{SCENARIO.revised_day} revised +" in out
    assert "delivery (dry run): 0 delivered" in out and "would send overall" in out
    assert folder_contents(archive) == before
    assert not list(archive.rglob("revisions")) and not list(archive.rglob("ledger"))
    # while its preview shows the revision, as the real report would
    preview = " ".join((tmp_path / "preview" / "report.txt").read_text().split())
    assert f"{SCENARIO.revised_day.day} Nov revised +$" in preview


def test_a_dry_run_writes_nothing_into_the_bucket(tmp_path, bucket, routing, capsys):
    with fireworks(late_data_arrived=False) as early:
        assert main(["run", "--date", DAY.isoformat(), "--bucket", bucket], env_for(early)) == 0
    before = bucket_versions(bucket)
    assert before

    out = dry_run(["--bucket", bucket], routing, tmp_path / "preview", capsys)

    assert f"{SCENARIO.revised_day} revised +" in out
    assert bucket_versions(bucket) == before  # not one new object or version


def test_a_dry_run_on_an_empty_archive_leaves_it_empty(tmp_path, routing, capsys):
    out = dry_run(["--out", str(tmp_path / "archive")], routing, tmp_path / "preview", capsys)
    assert "archive: nothing written (dry run)" in out
    assert not (tmp_path / "archive").exists()
    assert (tmp_path / "preview" / "report.html").is_file()
