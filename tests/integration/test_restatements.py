"""A re-pulled earlier day that differs from its archived copy: reported, and both kept."""

import hashlib
import json
from datetime import date

from fwcost.cli import main

DAY, BEFORE = date(2026, 11, 21), date(2026, 11, 20)


def test_a_changed_earlier_day_is_reported_as_revised_and_its_old_copy_kept(
    tmp_path, simulator, capsys
):
    env = {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
    }
    run = ["run", "--date", DAY.isoformat(), "--out", str(tmp_path)]
    assert main(run, env) == 0
    day_before = tmp_path / "fireworks" / "account=acme-ai" / f"dt={BEFORE}"
    manifest_path = day_before / "manifest.json"
    fresh_total = json.loads(manifest_path.read_text())["total_usd"]

    # Given the archive holds an older copy of the day before: $12.40 less, other CSV bytes
    # (late-arriving usage is what makes Fireworks' numbers for a past day change)
    older = json.loads(manifest_path.read_text())
    older["total_usd"] = str(round(float(fresh_total) - 12.40, 9))
    older["csv_sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(older))
    (day_before / "csv" / "usage.csv").write_text("the older copy\n")
    capsys.readouterr()

    # When the report day is run again
    assert main(run, env) == 0

    # Then the run and the report say so, and the older copy is kept beside the new one
    assert f"{BEFORE} revised +12.40 USD" in capsys.readouterr().out
    report = (
        tmp_path / "fireworks" / "account=acme-ai" / f"dt={DAY}" / "report" / "report.txt"
    ).read_text()
    assert "20 Nov revised +$12.40" in report
    [revision] = (day_before / "revisions").iterdir()
    assert (revision / "csv" / "usage.csv").read_text() == "the older copy\n"
    assert json.loads(manifest_path.read_text())["total_usd"] == fresh_total


def test_an_unchanged_earlier_day_is_left_alone(tmp_path, simulator):
    env = {
        "FWCOST_ACCOUNT_ID": "acme-ai",
        "FWCOST_API_KEY": "fw_sim_admin_key",
        "FWCOST_FIREWORKS_BASE_URL": simulator.base_url,
    }
    run = ["run", "--date", DAY.isoformat(), "--out", str(tmp_path)]
    assert main(run, env) == 0
    manifest = tmp_path / "fireworks" / "account=acme-ai" / f"dt={BEFORE}" / "manifest.json"
    written = manifest.read_bytes()
    # the CSV's digest, computed once by the run, is that of the bytes on disk
    csv_digest = hashlib.sha256((manifest.parent / "csv" / "usage.csv").read_bytes()).hexdigest()
    listed = {o["key"]: o["sha256"] for o in json.loads(written)["objects"]}
    assert json.loads(written)["csv_sha256"] == csv_digest
    assert listed[f"fireworks/account=acme-ai/dt={BEFORE}/csv/usage.csv"] == csv_digest
    assert main(run, env) == 0
    assert manifest.read_bytes() == written
    assert not (manifest.parent / "revisions").exists()
