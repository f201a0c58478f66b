"""S3Ledger on moto S3 (versioned bucket): claims and completions as S3 conditional writes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fwcost.delivery import (
    CLAIM_LEASE,
    DeliveryState,
    LedgerError,
    LedgerKey,
    LedgerRecord,
    Receipt,
    S3Ledger,
)

KEY = LedgerKey(
    account_id="acme-ai", day=date(2026, 11, 21), team="search", destination_id="slack-bot-C01"
)
CLAIMED_AT = datetime(2026, 11, 22, 7, 5, tzinfo=UTC)
POSTED = Receipt(action="posted", channel="C01", ts="1700000000.000100")


def claim(invocation_id: str, earlier: LedgerRecord | None = None) -> LedgerRecord:
    return LedgerRecord.claim(KEY, "Fireworks costs 2026-11-21", invocation_id, CLAIMED_AT, earlier)


def test_a_claim_then_its_completion_land_beside_the_archive(s3: Any, ledger_bucket: str) -> None:
    ledger = S3Ledger(s3, ledger_bucket, prefix="fwcost/")
    assert ledger.read(KEY) is None

    claimed = ledger.write(claim("run-1"), replacing=None)
    assert claimed is not None
    delivered = claim("run-1").delivered(POSTED, CLAIMED_AT)
    assert ledger.write(delivered, replacing=claimed) is not None

    object_key = "fwcost/ledger/account=acme-ai/dt=2026-11-21/team=search/slack-bot-C01.json"
    stored = json.loads(s3.get_object(Bucket=ledger_bucket, Key=object_key)["Body"].read())
    assert stored == {
        "version": 2,
        "state": "delivered",
        "account_id": "acme-ai",
        "day": "2026-11-21",
        "audience": "search",
        "team": "search",
        "destination_id": "slack-bot-C01",
        "subject": "Fireworks costs 2026-11-21",
        "invocation_id": "run-1",
        "claimed_at": "2026-11-22T07:05:00+00:00",
        "expires_at": (CLAIMED_AT + CLAIM_LEASE).isoformat(),
        "delivered_at": "2026-11-22T07:05:00+00:00",
        "receipt": {
            "action": "posted",
            "channel": "C01",
            "ts": "1700000000.000100",
            "message_id": "",
        },
        "problem": "",
    }
    read = ledger.read(KEY)
    assert read is not None and read.record == delivered


def test_a_second_claim_loses_and_leaves_the_first(s3: Any, ledger_bucket: str) -> None:
    ledger = S3Ledger(s3, ledger_bucket, prefix="fwcost")
    ledger.write(claim("run-1"), replacing=None)

    assert ledger.write(claim("run-2"), replacing=None) is None

    read = ledger.read(KEY)
    assert read is not None and read.record.invocation_id == "run-1"


def test_a_stale_run_cannot_overwrite_a_claim_taken_over(s3: Any, ledger_bucket: str) -> None:
    # Given run-1's claim, taken over by run-2 (conditional on the ETag run-2 read)
    ledger = S3Ledger(s3, ledger_bucket, prefix="fwcost")
    first = ledger.write(claim("run-1"), replacing=None)
    taken = ledger.write(claim("run-2", earlier=claim("run-1")), replacing=first)
    assert taken is not None and taken != first

    # When run-1, late, completes its claim
    late = ledger.write(claim("run-1").delivered(POSTED, CLAIMED_AT), replacing=first)

    # Then S3 refuses (If-Match on the old ETag) and run-2's claim stands
    assert late is None
    read = ledger.read(KEY)
    assert read is not None and read.version == taken
    assert (read.record.state, read.record.invocation_id) == (DeliveryState.CLAIMED, "run-2")
    versions = s3.list_object_versions(Bucket=ledger_bucket, Prefix="fwcost/ledger/")["Versions"]
    assert len(versions) == 2  # every state stays as a version (the audit trail)


def test_both_conditions_are_really_sent(s3: Any, ledger_bucket: str) -> None:
    # Given a record written by someone else without going through the ledger
    ledger = S3Ledger(s3, ledger_bucket)
    object_key = ledger.object_key(KEY)
    s3.put_object(Bucket=ledger_bucket, Key=object_key, Body=claim("other").to_json())

    # Then S3 itself refuses both conditional writes (moto answers 412 like S3)
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket=ledger_bucket, Key=object_key, Body=b"{}", IfNoneMatch="*")
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket=ledger_bucket, Key=object_key, Body=b"{}", IfMatch='"not-it"')
    assert ledger.write(claim("run-1"), replacing=None) is None
    assert ledger.write(claim("run-1"), replacing='"not-it"') is None


def test_a_version_1_record_reads_as_delivered(s3: Any, ledger_bucket: str) -> None:
    # Given a record written before claims existed
    ledger = S3Ledger(s3, ledger_bucket)
    version_1 = {
        "version": 1,
        "account_id": "acme-ai",
        "day": "2026-11-21",
        "audience": "search",
        "team": "search",
        "destination_id": "slack-bot-C01",
        "subject": "s",
        "delivered_at": "2026-11-22T07:05:00+00:00",
        "invocation_id": "run-0",
        "receipt": {"action": "posted", "channel": "C01", "ts": "1.0", "message_id": ""},
    }
    s3.put_object(Bucket=ledger_bucket, Key=ledger.object_key(KEY), Body=json.dumps(version_1))

    read = ledger.read(KEY)

    assert read is not None
    assert read.record.state is DeliveryState.DELIVERED
    assert read.record.receipt == Receipt(action="posted", channel="C01", ts="1.0")
    assert read.record.delivered_at == CLAIMED_AT


def test_other_s3_errors_are_ledger_errors_naming_the_record(s3: Any) -> None:
    ledger = S3Ledger(s3, "no-such-bucket")

    with pytest.raises(LedgerError, match=r"could not write s3://no-such-bucket/.*NoSuchBucket"):
        ledger.write(claim("run-1"), replacing=None)
    with pytest.raises(LedgerError, match=r"could not read s3://no-such-bucket/.*NoSuchBucket"):
        ledger.read(KEY)


def test_an_unreadable_record_is_a_ledger_error(s3: Any, ledger_bucket: str) -> None:
    ledger = S3Ledger(s3, ledger_bucket)
    s3.put_object(Bucket=ledger_bucket, Key=ledger.object_key(KEY), Body=b"{not json")

    with pytest.raises(LedgerError, match="is unreadable"):
        ledger.read(KEY)
