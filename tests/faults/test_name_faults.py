"""Names are data: hostile, path-like, huge, or a thousand of them, delivered clean."""

from __future__ import annotations

import email
import email.policy
import json
import re

import pytest

from deployed import sent_emails
from faults.lab import PREFIX, FaultLab
from faults.scenarios import HOSTILE_NAMES, NAMES_IN_FOLDER, NAMES_IN_S3, THOUSAND_TEAMS
from fwcost.config import DEFAULT_MAX_TEAM_REPORTS
from fwcost.delivery.model import MAX_SEGMENT_BYTES, name_segment
from fwcost.simulator import SimulatorConfig
from fwcost.simulator.catalog import HOSTILE_NAMES as NAMES
from fwcost.simulator.catalog import LONG_NAME


def test_hostile_names_are_delivered_clean(lab: FaultLab) -> None:
    # Given an account whose teams, projects, environments, key names and fine-tuned models
    # bear every hostile name (more annotated keys than names: each name is some team)
    lab.deploy(HOSTILE_NAMES, simulator=SimulatorConfig(hostile_names=NAMES, keys=44, models=16))

    # When the schedule runs the day
    run = lab.invoke()

    # Then every team's report went out, and nothing in any of them breaks out of its place:
    # one single-line subject per email, no Slack text that pings, every key in the prefix
    assert run.result is not None, run.message
    assert {name_segment(name) for name in NAMES} <= {
        audience.removeprefix("team=") for audience in lab.audiences()
    }
    for sent in sent_emails():
        message = email.message_from_string(sent.raw_data, policy=email.policy.default)
        assert message.defects == [] and len(message.get_all("Subject")) == 1
        assert not any(mark in str(message["Subject"]) for mark in "\r\n\u2028\u2029")
    for request in lab.slack.delivered():
        text = json.dumps(request.body)
        for pinging in ("<!channel>", "<!here>", "<@U123ABC>", "<http://evil.example"):
            assert pinging not in text
    assert_every_key_inside_the_prefix(lab.archived())
    lab.conclude(run)


def assert_every_key_inside_the_prefix(objects: dict[str, list[bytes]]) -> None:
    assert objects
    for key in objects:
        assert key.startswith(f"{PREFIX}/") and len(key.encode()) <= 1024, key
        for segment in key.split("/"):
            assert segment not in ("", ".", ".."), key
            assert len(segment.encode()) <= MAX_SEGMENT_BYTES + len("team=.json"), key


def test_a_team_named_dot_dot_and_a_huge_name_stay_inside_a_local_archive(lab: FaultLab) -> None:
    # Given teams named ".." and a 2,000-character name, archived into a local folder
    names = SimulatorConfig(hostile_names=("..", LONG_NAME), keys=8, models=3)
    lab.deploy(NAMES_IN_FOLDER, simulator=names, archive_in_folder=True)

    # When the schedule runs the day
    run = lab.invoke()

    # Then every file written is inside the archive's prefix folder, none beside or above it
    assert run.result is not None, run.message
    assert lab.archive_dir is not None
    written = {path for path in lab.tmp_path.rglob("*") if path.is_file()}
    inside = {path for path in written if path.resolve().is_relative_to(lab.archive_dir / PREFIX)}
    assert written == inside
    assert_every_key_inside_the_prefix(lab.archived())
    # And both teams got their report, each in its own folder
    assert {"team=%2E%2E", "team=" + name_segment(LONG_NAME)} < lab.audiences()
    lab.conclude(run)


def test_a_team_named_dot_dot_and_a_huge_name_stay_inside_the_bucket_prefix(
    lab: FaultLab,
) -> None:
    # Given teams named ".." and a 2,000-character name, archived into S3
    lab.deploy(NAMES_IN_S3, simulator=SimulatorConfig(hostile_names=("..", LONG_NAME), keys=8))

    # When the schedule runs the day
    run = lab.invoke()

    # Then every key is inside the prefix, with bounded segments that are never a path step
    assert run.result is not None, run.message
    assert_every_key_inside_the_prefix(lab.archived())
    assert {"team=%2E%2E", "team=" + name_segment(LONG_NAME)} < lab.audiences()
    lab.conclude(run)


@pytest.mark.slow  # ~12 s: 1,125 keys' usage over two days, 153 deliveries
def test_a_thousand_teams_get_the_capped_number_of_reports(lab: FaultLab) -> None:
    # Given an archive of the month before (a small account then: history is not the point)
    lab.deploy(THOUSAND_TEAMS)
    backfill = lab.invoke({"start": "2026-10-22", "end": "2026-11-19"})
    assert backfill.result is not None and backfill.result["days_archived"] == 29
    # and 1,000 teams since (every 9th key is unannotated: 1,125 keys make 1,000 teams)
    teams = tuple(f"team-{number:04d}" for number in range(1000))
    lab.fireworks_becomes(SimulatorConfig(hostile_names=teams, keys=1125, models=2))

    # When the schedule runs the day
    run = lab.invoke()

    # Then the overall report and the 50 largest teams' go out, each to the overall route's
    # three destinations: 153 deliveries
    assert run.result is not None, run.message
    assert len(lab.audiences()) == 1 + DEFAULT_MAX_TEAM_REPORTS
    assert len(lab.arrivals()) == 3 * (1 + DEFAULT_MAX_TEAM_REPORTS) == 153
    assert run.result["delivered"] == 153
    # and the overall report says why the other teams have none, however much else is news
    # that day (more than the 8 news lines a report shows)
    [overall_text] = lab.archived()[lab.report_folder() + "report.txt"]
    said = " ".join(overall_text.decode().split())  # the text wraps its lines
    assert re.search(r"\b9\d\d more teams \(at most \$[\d.,]+ each\)", said), said[:400]
    assert "raise FWCOST_MAX_TEAM_REPORTS" in said
    lab.conclude(run)
