"""`fwcost import-metrics` end to end: a real folder archive, the simulator for the API's days."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fwcost.archive import DayArchive, LocalStore
from fwcost.cli import main
from fwcost.imports.export_csv import COLUMNS_11
from fwcost.pipeline import load_history
from fwcost.simulator.exports import export_lines

TZ = "America/Los_Angeles"
ENV = {"FWCOST_ACCOUNT_ID": "acme-ai", "FWCOST_TIMEZONE": TZ}  # no API key: imports need none


def write_export(
    path: Path, start: date, end: date, rows_per_day: int = 200, columns: int = 13, tz=None
):
    lines = export_lines(start, end, rows_per_day, columns=columns, tz=tz or ZoneInfo("UTC"))
    path.write_text("".join(lines))
    return path


def archive_root(root: Path) -> Path:
    return root / "fireworks" / "account=acme-ai"


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_both_headers_import_into_days_marked_from_export_with_the_file_kept_byte_for_byte(
    tmp_path, capsys
):
    # Given an 11-column export of 2 UTC days and a 13-column export of the 2 after
    old = write_export(tmp_path / "old.csv", date(2025, 10, 1), date(2025, 10, 2), columns=11)
    new = write_export(tmp_path / "new.csv", date(2025, 10, 3), date(2025, 10, 4), columns=13)
    out = tmp_path / "archive"

    # When both are imported
    code = main(["import-metrics", str(old), str(new), "--out", str(out)], ENV)

    # Then each file is kept as received, with its SHA-256 in its import manifest
    assert code == 0
    root = archive_root(out)
    for path in (old, new):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        folder = root / "imports" / f"sha256={sha}"
        assert (folder / "export.csv").read_bytes() == path.read_bytes()
        manifest = json.loads((folder / "manifest.json").read_text())
        assert (manifest["sha256"], manifest["name"], manifest["rows"]) == (sha, str(path), 400)
    # and each report day in Los Angeles is archived like a run's day, marked from export:
    # 30 Sep (the first UTC hours of 1 Oct) to 4 Oct
    days = sorted(p.name for p in root.glob("dt=*"))
    assert days == [f"dt=2025-{d}" for d in ("09-30", "10-01", "10-02", "10-03", "10-04")]
    manifest = json.loads((root / "dt=2025-10-02" / "manifest.json").read_text())
    assert manifest["source"] == "export" and manifest["has_summary"] is False
    attribution = json.loads((root / "dt=2025-10-02" / "attribution.json").read_text())
    rows = list(csv.DictReader(io.StringIO((root / "dt=2025-10-02/csv/usage.csv").read_text())))
    assert attribution["total_cents"] > 0 and attribution["billed_total"] is None
    assert (
        sum(round(float(r["attributed_cost_usd"]) * 100) for r in rows)
        == attribution["total_cents"]
    )
    # 2 Oct local holds requests from both files (its first 7 hours are 2 Oct UTC, its last 3 Oct)
    export = json.loads((root / "dt=2025-10-02" / "export.json").read_text())
    assert [f["name"] for f in export["files"]] == [str(old), str(new)]
    said = capsys.readouterr().out
    assert "2025-10-02: from export" in said and "estimated at list price" in said


def test_a_malformed_row_names_file_line_and_column_and_archives_nothing(tmp_path, capsys):
    # Given an export whose 151st line has a token count that is not a number
    lines = list(export_lines(date(2025, 10, 1), date(2025, 10, 1), 300, columns=11))
    cells = lines[150].rstrip("\n").split(",")
    cells[COLUMNS_11.index("prompt_tokens")] = "12x"
    lines[150] = ",".join(cells) + "\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    out = tmp_path / "archive"

    # When it is imported
    code = main(["import-metrics", str(bad), "--out", str(out)], ENV)

    # Then the run fails with one line naming the file, line and column, and writes nothing
    assert code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(
        f"fwcost: {bad}, line 151, column prompt_tokens: '12x' is not a whole number"
    )
    assert len(error.splitlines()) == 1
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_the_same_file_imported_twice_changes_nothing_and_says_so(tmp_path, capsys):
    export = write_export(tmp_path / "export.csv", date(2025, 10, 1), date(2025, 10, 2))
    out = tmp_path / "archive"
    assert main(["import-metrics", str(export), "--out", str(out)], ENV) == 0
    before = snapshot(out)
    capsys.readouterr()

    # When the same content is imported again, under another name
    again = tmp_path / "copy.csv"
    again.write_bytes(export.read_bytes())
    assert main(["import-metrics", str(again), "--out", str(out)], ENV) == 0

    # Then no object is added or changed, and the output says why
    assert snapshot(out) == before
    assert "already imported at" in capsys.readouterr().out


def test_days_known_only_from_exports_are_the_history_a_report_reads(tmp_path):
    # Given an archive holding nothing but an imported export of 10 days
    export = write_export(tmp_path / "export.csv", date(2025, 10, 1), date(2025, 10, 10), 100)
    out = tmp_path / "archive"
    assert main(["import-metrics", str(export), "--out", str(out)], ENV) == 0

    # When a report of 12 Oct reads its history back from the archive
    archive = DayArchive(LocalStore(out), "fireworks", "acme-ai")
    history = load_history(date(2025, 10, 12), archive, archive.complete_days(), {})

    # Then the export's days are there (trends, month to date), with their estimated cents
    assert sorted(history) == [date(2025, 9, 30) + timedelta(days=n) for n in range(11)]
    assert all(day.total_cents > 0 for day in history.values())
    assert all(archive.read_attribution(day)["billed_total"] is None for day in history)


def test_a_day_the_api_gave_keeps_its_figures_and_the_export_difference_is_reported(
    tmp_path, simulator, capsys
):
    # Given a day archived from the API
    out = tmp_path / "archive"
    env = {
        **ENV,
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
    }
    assert main(["run", "--date", "2026-11-21", "--out", str(out)], env) == 0
    day_folder = archive_root(out) / "dt=2026-11-21"
    before = {
        name: (day_folder / name).read_bytes()
        for name in ("manifest.json", "attribution.json", "csv/usage.csv")
    }
    capsys.readouterr()

    # When an export of that day (far fewer tokens than the API counted) is imported
    export = write_export(tmp_path / "export.csv", date(2026, 11, 21), date(2026, 11, 21), 50)
    assert main(["import-metrics", str(export), "--out", str(out)], ENV) == 0

    # Then the API's figures stand, and the difference is reported
    assert before == {name: (day_folder / name).read_bytes() for name in before}
    said = capsys.readouterr().out
    assert "2026-11-21: the API's figures kept; the export differs: prompt tokens" in said
    sha = hashlib.sha256(export.read_bytes()).hexdigest()
    manifest = json.loads(
        (archive_root(out) / "imports" / f"sha256={sha}" / "manifest.json").read_text()
    )
    assert manifest["days"]["2026-11-21"]["source"] == "api"
    assert manifest["days"]["2026-11-21"]["differences"][0]["what"] == "prompt tokens"


def test_a_re_rendered_report_shows_the_difference_and_the_users_of_the_export(tmp_path, simulator):
    # Given a day archived from the API and an export of it with far fewer tokens
    out, reports = tmp_path / "archive", tmp_path / "reports"
    env = {
        **ENV,
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
    }
    assert main(["run", "--date", "2026-11-21", "--out", str(out)], env) == 0
    export = write_export(tmp_path / "export.csv", date(2026, 11, 21), date(2026, 11, 22), 50)
    assert main(["import-metrics", str(export), "--out", str(out)], ENV) == 0

    # When the day's report is rendered again
    assert (
        main(["run", "--date", "2026-11-21", "--out", str(out), "--report-dir", str(reports)], env)
        == 0
    )

    # Then it says the export differs (the API's figures stand) and shows the export's users
    text = (reports / "report.txt").read_text()
    assert "The firectl export of this day differs from the billing API: prompt tokens" in " ".join(
        text.split()
    )
    assert "BY USER (FIRECTL EXPORT, AT LIST PRICE)" in text and "ana@acme.example" in text
    html = (reports / "report.html").read_text()
    assert "By user (firectl export, at list price)" in html
    slack = (reports / "slack.json").read_text()
    assert "Top users (firectl export, list price)" in slack
    # and a team's report, whose slice an export cannot name, shows no users
    team_texts = [p.read_text() for p in reports.glob("teams/*/report.txt")]
    assert team_texts and not any("BY USER" in t for t in team_texts)


def test_a_missing_file_is_named_and_nothing_is_imported(tmp_path, capsys):
    code = main(["import-metrics", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "a")], ENV)

    assert code == 2
    assert (
        capsys.readouterr().err.strip() == f"fwcost: no such export file: {tmp_path / 'nope.csv'}"
    )
    assert not (tmp_path / "a").exists()


class BillWithoutUsage:
    """Fireworks (the simulator, over HTTP) for a day older than billingUsage serves: the bill
    answers, the usage rows do not come."""

    def __init__(self, client):
        self.client = client

    def fetch_window(self, start, end, tz):
        pull = self.client.fetch_window(start, end, tz)
        for usage in pull.days.values():
            usage.serverless.clear()
            usage.dedicated.clear()
            usage.training.clear()
        return pull


def test_a_day_billed_without_usage_gets_the_export_s_usage_balanced_to_its_bill(
    tmp_path, simulator, capsys
):
    from fwcost.fireworks import FireworksClient
    from fwcost.pipeline import Dependencies, run_backfill
    from fwcost.report.pricebook import load_price_book

    # Given a day the API billed but gave no usage rows for, archived by a backfill
    out, day = tmp_path / "archive", date(2026, 11, 21)
    archive = DayArchive(LocalStore(out), "fireworks", "acme-ai")
    with FireworksClient(
        api_key="fw_sim_admin_key", account_id="acme-ai", base_url=simulator.base_url
    ) as client:
        deps = Dependencies(BillWithoutUsage(client), archive, load_price_book(), ZoneInfo(TZ))
        run_backfill(day, day, deps).raise_if_failed()
    billed = json.loads((archive_root(out) / f"dt={day}" / "attribution.json").read_text())
    assert billed["billed_total"] and not billed["teams"]  # all of it "billed, not in usage data"

    # When an export of that day is imported
    export = write_export(tmp_path / "export.csv", day, day, 300, tz=ZoneInfo(TZ))
    assert main(["import-metrics", str(export), "--out", str(out)], ENV) == 0

    # Then the day holds the export's usage, shared out over the same bill
    folder = archive_root(out) / f"dt={day}"
    manifest = json.loads((folder / "manifest.json").read_text())
    attribution = json.loads((folder / "attribution.json").read_text())
    assert manifest["source"] == "export" and manifest["has_summary"] is True
    assert [r["name"] for r in manifest["billed_from"]].count("billing-summary") == 1
    assert attribution["billed_total"] == billed["billed_total"]
    assert attribution["teams"][""]["total"]["cents"] > 0  # unattributed: an export names no team
    said = capsys.readouterr().out
    assert f"{day}: from export, $" in said and "balanced to the archived bill" in said
    assert list((folder / "revisions").iterdir())  # the API's copy kept


def test_an_s3_export_imports_into_a_bucket_streamed_from_its_object(tmp_path, bucket, capsys):
    import boto3

    # Given an export in S3 (anywhere: here the archive bucket, outside imports/)
    body = "".join(export_lines(date(2025, 10, 1), date(2025, 10, 1), 100)).encode()
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key="drop/october.csv", Body=body)

    # When it is imported by its URI into the bucket's archive
    uri = f"s3://{bucket}/drop/october.csv"
    assert main(["import-metrics", uri, "--bucket", bucket], ENV) == 0

    # Then its copy and manifest are in the archive, and a missing object is one line, exit 2
    sha = hashlib.sha256(body).hexdigest()
    copy = s3.get_object(
        Bucket=bucket, Key=f"fireworks/account=acme-ai/imports/sha256={sha}/export.csv"
    )
    assert copy["Body"].read() == body
    assert main(["import-metrics", f"s3://{bucket}/drop/none.csv", "--bucket", bucket], ENV) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"fwcost: no such export object: s3://{bucket}/drop/none.csv"
    )
