import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from fwcost.archive import ArchiveError, DayArchive, LocalStore
from samples import raw_response

DAY = date(2026, 11, 21)


def test_layout_is_hive_style_and_the_manifest_lists_every_object(tmp_path):
    # Given a two-day window fetched once
    archive = DayArchive(LocalStore(tmp_path), "fireworks", "acme-ai")
    raw_body = b'{"serverlessCosts": [ {"promptTokens": "12"} ]}\n'  # odd spacing kept as is
    requests = archive.write_raw(date(2026, 11, 20), DAY, [raw_response("billingUsage", raw_body)])

    # When the report day is written
    manifest = archive.write_day(
        DAY, csv_body=b"day\n2026-11-21\n", attribution={"total": "1.00"}, requests=requests,
        details={"timezone": "UTC"},
    )  # fmt: skip

    # Then raw bytes are kept exactly, under the window's last day, and the manifest says so
    day_dir = tmp_path / "fireworks" / "account=acme-ai" / "dt=2026-11-21"
    raw_path = day_dir / "raw" / "2026-11-20_2026-11-21" / "20261122T070001Z" / "billingUsage.json"
    assert raw_path.read_bytes() == raw_body
    assert (day_dir / "csv" / "usage.csv").is_file()
    on_disk = json.loads((day_dir / "manifest.json").read_bytes())
    assert on_disk == json.loads(json.dumps(manifest, default=str))
    assert on_disk["requests"][0]["params"] == [
        ["startTime", "2026-11-21T00:00:00Z"],
        ["groupBy", "model_name"],
    ]
    for entry in on_disk["objects"]:
        body = (tmp_path / entry["key"]).read_bytes()
        assert entry["size"] == len(body)
        assert entry["sha256"] == hashlib.sha256(body).hexdigest()
    assert archive.read_attribution(DAY) == {"total": "1.00"}


def test_only_days_with_a_manifest_are_complete(tmp_path):
    archive = DayArchive(LocalStore(tmp_path), "p", "acme-ai")
    archive.store.put("p/account=acme-ai/dt=2026-11-21/attribution.json", b"{}", "application/json")
    archive.write_day(date(2026, 11, 20), csv_body=b"", attribution={}, requests=[], details={})
    # a revision's manifest is not the day's own
    archive.store.put(
        "p/account=acme-ai/dt=2026-11-19/revisions/x/manifest.json", b"{}", "application/json"
    )
    assert archive.complete_days() == {date(2026, 11, 20)}


def test_complete_days_of_an_empty_archive(tmp_path):
    assert DayArchive(LocalStore(tmp_path / "none"), "p", "acme-ai").complete_days() == set()


def test_keep_revision_copies_the_day_aside(tmp_path):
    archive = DayArchive(LocalStore(tmp_path), "p", "acme-ai")
    manifest = archive.write_day(
        DAY, csv_body=b"old\n", attribution={"total": "1"}, requests=[], details={}
    )
    where = archive.keep_revision(DAY, manifest)
    stamp = manifest["written_at"][:19].replace("-", "").replace(":", "") + "Z"
    assert where.endswith(f"dt=2026-11-21/revisions/{stamp}")
    assert (
        tmp_path / f"p/account=acme-ai/dt=2026-11-21/revisions/{stamp}/csv/usage.csv"
    ).read_bytes() == b"old\n"


def test_local_store_refuses_keys_that_escape_the_folder(tmp_path):
    with pytest.raises(ArchiveError, match="outside the folder"):
        LocalStore(tmp_path).put("../evil", b"", "text/plain")


def test_a_later_fetch_of_the_same_window_never_overwrites_the_earlier_raw_bodies(tmp_path):
    # Manifests of other days (and kept revisions) still point at the first fetch's objects
    archive = DayArchive(LocalStore(tmp_path), "p", "acme-ai")
    [first] = archive.write_raw(DAY, DAY, [raw_response("billing-summary", b"first")])
    later = replace(
        raw_response("billing-summary", b"second"), fetched_at=datetime(2026, 11, 23, 7, tzinfo=UTC)
    )
    [second] = archive.write_raw(DAY, DAY, [later])
    assert first.stored.key != second.stored.key
    assert archive.store.get(first.stored.key) == b"first"


def test_raw_bodies_are_scrubbed_of_credentials_and_the_manifest_says_so(tmp_path):
    # Given a refusal that echoes the request's Authorization header, and a clean body
    archive = DayArchive(LocalStore(tmp_path), "p", "acme-ai", secrets=("fw_sim_readonly_key",))
    refusal = b'{"code": 7, "message": "denied (Authorization: Bearer fw_sim_readonly_key)"}'
    clean = b'{"serverlessCosts": []}'
    refused = replace(raw_response("billing-summary", refusal), status=403)

    # When both are archived and the day is written
    requests = archive.write_raw(DAY, DAY, [refused, raw_response("billingUsage", clean)])
    manifest = archive.write_day(DAY, csv_body=b"", attribution={}, requests=requests, details={})

    # Then the key is nowhere in the folder; the scrubbed body is still JSON, and says where
    written = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert b"fw_sim_readonly_key" not in written
    scrubbed_entry, clean_entry = manifest["requests"]
    assert (scrubbed_entry["scrubbed"], scrubbed_entry["scrubbed_count"]) == (True, 1)
    stored = (tmp_path / scrubbed_entry["object"]).read_bytes()
    assert json.loads(stored)["message"] == "denied (Authorization: Bearer ***)"
    # the SHA-256 listed is that of the bytes written; a clean body is kept byte for byte
    sha = {entry["key"]: entry["sha256"] for entry in manifest["objects"]}
    assert sha[scrubbed_entry["object"]] == hashlib.sha256(stored).hexdigest()
    assert (clean_entry["scrubbed"], clean_entry["scrubbed_count"]) == (False, 0)
    assert (tmp_path / clean_entry["object"]).read_bytes() == clean
