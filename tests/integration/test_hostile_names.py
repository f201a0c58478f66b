"""Names are data, end to end: a day whose teams, projects, environments, API key names and
models are hostile runs clean into a folder and into S3 (moto), and a gateway that echoes the
API key in its refusals never gets it into the archive.

Real parts: the simulator over loopback HTTP, the real pipeline through fwcost.service.run,
a real folder or moto S3 for the archive and ledger, and the FileSender's .eml and Slack files.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest

from fwcost.archive.csv_export import FORMULA_STARTS, NUMERIC_COLUMNS
from fwcost.config import load_settings
from fwcost.delivery import Senders
from fwcost.delivery.model import MAX_SEGMENT_BYTES, name_segment
from fwcost.pipeline import RunResult
from fwcost.run_request import report_request
from fwcost.service import run
from fwcost.simulator import SimulatorConfig, run_simulator
from fwcost.simulator.catalog import HOSTILE_NAMES, LONG_NAME

DAY = date(2026, 11, 21)
PREFIX = "fireworks"
# Every hostile name, the 2,000-character name's own segment as a name of its own (its
# "hash-suffixed twin"), and a lone surrogate (JSON can escape one).
NAMES = (*HOSTILE_NAMES, name_segment(LONG_NAME), "lone\ud800surrogate")
ROUTING = {
    "version": 1,
    "unknown_teams": "overall",  # every team's report goes through the overall route
    "routes": {
        "overall": {
            "slack": [{"kind": "webhook", "secret_key": "finops_webhook"}],
            "email": [{"from": "costs@acme.ai", "to": ["finops@acme.ai"], "attach_csv": True}],
        },
    },
}


@dataclass
class Run:
    result: RunResult
    outbox: Path
    objects: dict[str, bytes]  # every archived object (and ledger record) by key


def run_day(tmp_path: Path, config: SimulatorConfig, *, api_key: str, bucket: str | None) -> Run:
    routing = tmp_path / "routing.json"
    routing.write_text(json.dumps(ROUTING))
    where = {"FWCOST_ARCHIVE_BUCKET": bucket} if bucket else {"FWCOST_ARCHIVE_DIR": str(tmp_path)}
    with run_simulator(config) as simulator:
        settings = load_settings(
            {},
            {
                "FWCOST_ACCOUNT_ID": config.account_id,
                "FWCOST_API_KEY": api_key,
                "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
                "FWCOST_TIMEZONE": "America/Los_Angeles",
                "FWCOST_ROUTING_FILE": str(routing),
                **where,
            },
        )
        outbox = tmp_path / "outbox"
        result = run(
            report_request(DAY), settings, senders=Senders.to_folder(outbox), emit_metrics=False
        )
    return Run(result, outbox, s3_objects(bucket) if bucket else folder_objects(tmp_path))


def folder_objects(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in (root / PREFIX).rglob("*")
        if path.is_file()
    }


def s3_objects(bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3")
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


@pytest.fixture(scope="module")
def hostile_config() -> SimulatorConfig:
    # More annotated keys than names, so every name is some key's team
    return SimulatorConfig(hostile_names=NAMES, keys=len(NAMES) + 12, models=16)


@pytest.fixture
def local_run(tmp_path: Path, hostile_config: SimulatorConfig) -> Run:
    return run_day(tmp_path, hostile_config, api_key=hostile_config.api_key, bucket=None)


@pytest.fixture
def s3_run(tmp_path: Path, bucket: str, hostile_config: SimulatorConfig) -> Run:
    return run_day(tmp_path, hostile_config, api_key=hostile_config.api_key, bucket=bucket)


def test_a_hostile_day_runs_clean_into_a_folder(local_run: Run) -> None:
    assert_clean_run(local_run)


def test_a_hostile_day_runs_clean_into_s3(s3_run: Run) -> None:
    assert_clean_run(s3_run)


def assert_clean_run(done: Run) -> None:
    result = done.result
    # The run did all it could and failed nothing: every team has its report, delivered once
    result.raise_if_failed()
    teams = [report.team for report in result.reports if report.team is not None]
    assert set(NAMES) - {"lone\ud800surrogate"} <= set(teams)
    assert result.delivery is not None
    assert len(result.delivery.delivered) == 2 * len(result.reports)

    # Every key stays inside its prefix, with bounded segments that are never a path step
    for key in done.objects:
        assert key.startswith(f"{PREFIX}/") and len(key.encode()) <= 1024, key
        for segment in key.split("/"):
            assert segment not in ("", ".", ".."), key
            assert len(segment.encode()) <= MAX_SEGMENT_BYTES + len("team=.json"), key

    # Every team's report files were written, each in its own folder: no two names collide,
    # and none lands on the overall report (teams named overall, audience=overall, ..,
    # the 2,000-character name and its twin included)
    report_root = f"{PREFIX}/account=acme-ai/dt={DAY.isoformat()}/report"
    folders = {
        key.split("/")[-2] for key in done.objects if key.startswith(f"{report_root}/teams/")
    }
    assert folders == {name_segment(team) for team in teams}
    assert len(folders) == len(teams)
    for team in teams:
        for name in ("report.html", "report.txt", "slack.json"):
            assert f"{report_root}/teams/{name_segment(team)}/{name}" in done.objects
    ledger_day = f"{PREFIX}/ledger/account=acme-ai/dt={DAY.isoformat()}"
    audiences = {key.split("/")[-2] for key in done.objects if key.startswith(ledger_day)}
    assert len(audiences) == len(teams) + 1 and "audience=overall" in audiences

    # Every CSV cell is neutralised: the archive's and each email attachment's
    day_csv = done.objects[f"{PREFIX}/account=acme-ai/dt={DAY.isoformat()}/csv/usage.csv"]
    assert_neutralised(day_csv)
    emails = sorted(done.outbox.rglob("*.eml"))
    assert len(emails) == len(result.reports)
    for path in emails:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        # Each email is valid: one Subject line, with no line break whatever the team's name
        assert message.defects == [] and len(message.get_all("Subject")) == 1
        assert not any(ch in str(message["Subject"]) for ch in "\r\n\u2028")
        [attachment] = [part for part in message.walk() if part.get_filename()]
        assert_neutralised(attachment.get_content().encode())

    # Slack payloads ping nobody: no name opens a control sequence (fwcost's own links to the
    # report and CSV are the only ones)
    for path in done.outbox.rglob("*.json"):
        texts = slack_texts(json.loads(path.read_text())["payload"])
        assert sum(len(OWN_LINK.findall(text)) for text in texts) == 2, path
        assert not any("<" in OWN_LINK.sub("", text) for text in texts), path
    pinging = done.objects[f"{report_root}/teams/{name_segment('<!channel>')}/slack.json"]
    assert "&lt;!channel&gt;" in pinging.decode()


def assert_neutralised(body: bytes) -> None:
    rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert rows
    for row in rows:
        for column, cell in row.items():
            if column not in NUMERIC_COLUMNS:
                assert not cell.startswith(FORMULA_STARTS), (column, cell)


OWN_LINK = re.compile(r"<(?:file|https)://[^\s<>|]+\|(?:Full report|CSV)>")


def slack_texts(payload: dict[str, Any]) -> list[str]:
    texts = [payload["text"]]
    for block in payload["blocks"]:
        for part in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(part, dict) and "text" in part:
                texts.append(part["text"])
    return texts


# ---- the API key never reaches the archive ---------------------------------------------------


@pytest.fixture(scope="module")
def echoing_config() -> SimulatorConfig:
    # The readonly key may not read usageCosts with scope ACCOUNT: a 403, which this gateway
    # answers with the request's headers, Authorization: Bearer <key> included.
    return SimulatorConfig(echo_headers_on_error=True)


@pytest.mark.parametrize("store", ["folder", "s3"])
def test_an_echoed_api_key_never_reaches_the_archive(
    tmp_path: Path, echoing_config: SimulatorConfig, store: str, request: pytest.FixtureRequest
) -> None:
    key = echoing_config.readonly_api_key
    bucket = request.getfixturevalue("bucket") if store == "s3" else None

    done = run_day(tmp_path, echoing_config, api_key=key, bucket=bucket)

    # The run went on without per-key dollars, and said why
    done.result.raise_if_failed()
    manifest = json.loads(
        done.objects[f"{PREFIX}/account=acme-ai/dt={DAY.isoformat()}/manifest.json"]
    )
    [refusal] = [r for r in manifest["requests"] if r["status"] == 403]
    assert refusal["name"].startswith("usageCosts")
    # The refusal is archived, scrubbed, and the manifest says so
    assert (refusal["scrubbed"], refusal["scrubbed_count"]) == (True, 2)
    stored = json.loads(done.objects[refusal["object"]])
    assert stored["requestHeaders"]["Authorization"] == "Bearer ***"
    assert all(not r["scrubbed"] for r in manifest["requests"] if r["status"] == 200)
    # And the key is nowhere: not in the archive, the reports, the ledger or what was sent
    sent = [path.read_bytes() for path in done.outbox.rglob("*") if path.is_file()]
    for body in [*done.objects.values(), *sent]:
        assert key.encode() not in body
    assert any(b"Bearer ***" in body for body in done.objects.values())
