import base64
import hashlib
from datetime import date

import boto3
import pytest

from fwcost.archive import ArchiveError, DayArchive, S3Store
from samples import raw_response

DAY = date(2026, 11, 21)


def test_s3_objects_are_encrypted_checksummed_and_byte_exact(bucket):
    s3 = boto3.client("s3")
    archive = DayArchive(S3Store(s3, bucket), "fireworks", "acme-ai")
    body = b'{"lineItems":[{"totalCost":{"units":"12","nanos":500000000}}]}'
    [archived] = archive.write_raw(DAY, DAY, [raw_response("billing-summary", body)])

    head = s3.head_object(Bucket=bucket, Key=archived.stored.key, ChecksumMode="ENABLED")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert s3.get_object(Bucket=bucket, Key=archived.stored.key)["Body"].read() == body
    assert (
        archived.stored.key
        == "fireworks/account=acme-ai/dt=2026-11-21/raw/2026-11-21_2026-11-21/20261122T070001Z/billing-summary.json"
    )
    assert archived.stored.version_id


def test_rewriting_a_day_keeps_the_old_version_in_the_versioned_bucket(bucket):
    s3 = boto3.client("s3")
    archive = DayArchive(S3Store(s3, bucket), "fireworks", "acme-ai")
    for total in ("1.00", "2.00"):
        archive.write_day(
            DAY, csv_body=total.encode(), attribution={"total": total}, requests=[], details={}
        )
    versions = s3.list_object_versions(
        Bucket=bucket, Prefix=archive.day_prefix(DAY) + "/attribution.json"
    )
    assert len(versions["Versions"]) == 2
    assert archive.read_attribution(DAY) == {"total": "2.00"}


def test_a_missing_bucket_is_a_loud_archive_error(aws):
    archive = DayArchive(S3Store(boto3.client("s3"), "no-such-bucket"), "fireworks", "acme-ai")
    with pytest.raises(
        ArchiveError, match="could not write s3://no-such-bucket/fireworks/account=acme-ai"
    ):
        archive.write_day(DAY, csv_body=b"", attribution={}, requests=[], details={})


def test_complete_days_come_from_one_listing_of_the_bucket(bucket):
    archive = DayArchive(S3Store(boto3.client("s3"), bucket), "fireworks", "acme-ai")
    for day in (date(2026, 11, 19), DAY):
        archive.write_day(day, csv_body=b"", attribution={}, requests=[], details={})
    archive.store.put("fireworks/account=acme-ai/dt=2026-11-20/csv/usage.csv", b"", "text/csv")
    assert archive.complete_days() == {date(2026, 11, 19), DAY}


def test_a_digest_the_caller_passes_is_checked_by_s3_against_the_bytes(bucket):
    store = S3Store(boto3.client("s3"), bucket)
    body = b"day,total\n2026-11-21,12.50\n"

    stored = store.put("known.csv", body, "text/csv", hashlib.sha256(body).hexdigest())
    assert stored.sha256 == hashlib.sha256(body).hexdigest() and stored.size == len(body)

    with pytest.raises(ArchiveError, match="different SHA-256"):
        store.put("wrong.csv", body, "text/csv", hashlib.sha256(b"other bytes").hexdigest())
