"""S3Ledger on moto S3 (versioned bucket): conditional-write semantics."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fwcost.delivery import LedgerEntry, LedgerKey, Receipt, S3Ledger

KEY = LedgerKey(
    account_id="acme-ai", day=date(2026, 11, 21), team="search", destination_id="slack-bot-C01"
)


def entry(invocation_id: str, ts: str = "1700000000.000100") -> LedgerEntry:
    return LedgerEntry(
        key=KEY,
        subject="Fireworks costs 2026-11-21",
        delivered_at=datetime(2026, 11, 22, 7, 5, tzinfo=UTC),
        invocation_id=invocation_id,
        receipt=Receipt(action="posted", channel="C01", ts=ts),
    )


def test_a_record_lands_beside_the_archive_and_reads_back(s3: Any, ledger_bucket: str) -> None:
    ledger = S3Ledger(s3, ledger_bucket, prefix="fwcost/")

    assert ledger.already_delivered(KEY) is None
    assert ledger.record(entry("run-1")) is True

    object_key = "fwcost/ledger/account=acme-ai/dt=2026-11-21/team=search/slack-bot-C01.json"
    stored = json.loads(s3.get_object(Bucket=ledger_bucket, Key=object_key)["Body"].read())
    assert stored["invocation_id"] == "run-1"
    assert stored["receipt"] == {
        "action": "posted",
        "channel": "C01",
        "ts": "1700000000.000100",
        "message_id": "",
    }
    assert ledger.already_delivered(KEY) == entry("run-1")


def test_a_second_record_loses_the_race_and_leaves_the_first(s3: Any, ledger_bucket: str) -> None:
    ledger = S3Ledger(s3, ledger_bucket, prefix="fwcost")
    ledger.record(entry("run-1"))

    assert ledger.record(entry("run-2")) is False

    assert ledger.already_delivered(KEY) == entry("run-1")


def test_force_overwrites_and_keeps_the_earlier_version(s3: Any, ledger_bucket: str) -> None:
    ledger = S3Ledger(s3, ledger_bucket, prefix="fwcost")
    ledger.record(entry("run-1"))

    assert ledger.record(entry("run-2", ts="1700000099.000100"), overwrite=True) is True

    assert ledger.already_delivered(KEY) == entry("run-2", ts="1700000099.000100")
    versions = s3.list_object_versions(Bucket=ledger_bucket, Prefix="fwcost/ledger/")["Versions"]
    assert len(versions) == 2


def test_the_condition_is_really_sent(s3: Any, ledger_bucket: str) -> None:
    # Given a record written by someone else without going through the ledger
    ledger = S3Ledger(s3, ledger_bucket)
    s3.put_object(Bucket=ledger_bucket, Key=ledger.object_key(KEY), Body=entry("other").to_json())

    # Then S3 itself refuses the conditional write (moto answers 412 like S3)
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket=ledger_bucket, Key=ledger.object_key(KEY), Body=b"{}", IfNoneMatch="*")
    assert ledger.record(entry("run-1")) is False


def test_other_s3_errors_propagate(s3: Any) -> None:
    ledger = S3Ledger(s3, "no-such-bucket")

    with pytest.raises(ClientError, match="NoSuchBucket"):
        ledger.record(entry("run-1"))
