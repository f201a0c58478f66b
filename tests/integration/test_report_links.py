"""Each report links its own archived copy and CSV: files locally, the S3 console or presigned
URLs in a bucket. The links are made before the reports are written, so these tests check that
they name the keys the run then writes.

moto intercepts botocore, not raw HTTP, so a presigned URL is checked by what it names (host,
key, expiry, credential) and by the object being there, not fetched.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import boto3
import pytest

from fwcost.cli import main

DAY = date(2026, 11, 21)
PREFIX = f"fireworks/account=acme-ai/dt={DAY}/report/"


def env_for(simulator, **extra: str) -> dict[str, str]:
    return {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
        "FWCOST_TIMEZONE": "America/Los_Angeles",
        **extra,
    }


def links_in(text: str) -> dict[str, str]:
    """The report's links by label: {"Full report": url, "CSV": url}."""
    return dict(re.findall(r"^(Full report|CSV): (\S+)$", text, re.MULTILINE))


def archived_text(bucket: str, key: str) -> str:
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def test_a_local_run_links_the_archived_files_each_report_sent(tmp_path, simulator):
    assert main(["run", "--date", str(DAY), "--out", str(tmp_path)], env_for(simulator)) == 0
    folder = tmp_path / PREFIX

    for report, team in [(folder / "report.txt", None), (folder / "teams/ads/report.txt", "ads")]:
        links = links_in(report.read_text())
        paths = {label: Path(unquote(urlsplit(url).path)) for label, url in links.items()}
        # the report's own archived HTML, and the CSV it sent, both there to open
        assert paths == {
            "Full report": report.with_name("report.html"),
            "CSV": report.with_name("report.csv"),
        }
        assert all(path.is_file() for path in paths.values())
        if team:  # a team's CSV is its own rows only
            rows = paths["CSV"].read_text().splitlines()[1:]
            assert rows and all(",ads," in row for row in rows)


def test_an_s3_run_links_each_archived_object_in_the_console_by_default(bucket, simulator):
    assert main(["run", "--date", str(DAY), "--bucket", bucket], env_for(simulator)) == 0

    text = archived_text(bucket, PREFIX + "teams/search/report.txt")
    links = links_in(text)
    assert len(links) == 2
    for url in links.values():
        parts = urlsplit(url)
        assert (parts.netloc, parts.path) == ("console.aws.amazon.com", f"/s3/object/{bucket}")
        query = parse_qs(parts.query)
        assert query["region"] == ["us-east-1"]
        key = query["prefix"][0]
        assert key.startswith(PREFIX + "teams/search/")
        boto3.client("s3").head_object(Bucket=bucket, Key=key)  # written after it was linked
    assert "Links open the AWS console" in text


def test_presigned_links_name_the_archived_keys_and_their_expiry(bucket, simulator, monkeypatch):
    # Given long-term credentials (an IAM user's key: no session token) and 48-hour links
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    started = datetime.now(UTC)
    env = env_for(simulator, FWCOST_LINKS="presigned", FWCOST_LINK_EXPIRY_HOURS="48")

    assert main(["run", "--date", str(DAY), "--bucket", bucket], env) == 0

    text = archived_text(bucket, PREFIX + "report.txt")
    links = links_in(text)
    assert set(links) == {"Full report", "CSV"}
    for url in links.values():
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert parts.scheme == "https" and parts.netloc.startswith(bucket + ".s3.")
        key = unquote(parts.path.lstrip("/"))
        boto3.client("s3").head_object(Bucket=bucket, Key=key)  # the object is there
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert query["X-Amz-Expires"] == [str(48 * 3600)]
        assert query["X-Amz-Credential"][0].endswith("/us-east-1/s3/aws4_request")
        assert "X-Amz-Security-Token" not in query  # signed with the long-term key
    assert f"{PREFIX}report.html" in unquote(links["Full report"])
    # and the report says until when they work, in its own timezone
    until = (started + timedelta(hours=48)).astimezone(ZoneInfo("America/Los_Angeles"))
    assert f"Links work until {until:%a} {until.day} {until:%b}, " in text


def test_presigning_with_temporary_credentials_is_refused_naming_the_setting(
    bucket, simulator, capsys
):
    # Given a role session's credentials (conftest sets a session token, as Lambda has)
    env = env_for(simulator, FWCOST_LINKS="presigned")

    code = main(["run", "--date", str(DAY), "--bucket", bucket], env)

    assert code == 2
    err = capsys.readouterr().err
    assert "FWCOST_LINKS: presigned links need long-term credentials" in err
    assert not boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents")


@pytest.mark.parametrize("target", ["--out", "--bucket"])
def test_no_links_leave_the_report_naming_its_archive(tmp_path, bucket, simulator, target):
    where = str(tmp_path) if target == "--out" else bucket
    env = env_for(simulator, FWCOST_LINKS="none")
    assert main(["run", "--date", str(DAY), target, where], env) == 0
    if target == "--out":
        text = (tmp_path / PREFIX / "report.txt").read_text()
    else:
        text = archived_text(bucket, PREFIX + "report.txt")
    assert not links_in(text)
    assert "Archived at " in text
