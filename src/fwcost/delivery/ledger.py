"""The delivery ledger: which report went to which destination, once per account and day.

One small JSON record per (account, day, audience, destination), written right after that
destination accepted the report, at

    {prefix}/ledger/account={account}/dt={day}/audience=overall/{destination_id}.json
    {prefix}/ledger/account={account}/dt={day}/team={team}/{destination_id}.json

in the archive bucket, with S3 conditional writes (`PutObject` with `IfNoneMatch="*"`): the
first writer wins, a second one gets 412 PreconditionFailed, which we read as "another run
recorded it first" and treat as delivered.

Why S3 conditional writes rather than Powertools idempotency on DynamoDB:
- no extra table to deploy, secure, pay for and clean up: the run already writes this bucket;
- the record lives beside the archive it vouches for (same prefix, same retention, same
  versioning, readable with the same tools), so "was the 21st sent to #search?" is one GET;
- Powertools idempotency keys a whole invocation (or one function call) by its payload and
  stores its *return value*; here the unit of "exactly once" is one destination, and a rerun
  must deliver only the ones that failed. A per-destination key says that directly;
- "force" is an ordinary overwrite (PutObject without the condition); on a versioned bucket
  the earlier record stays as a noncurrent version, a free audit trail;
- moto implements conditional writes, so the semantics are tested offline, not assumed.

What it does not promise: a crash between a destination accepting and the record being
written leaves no record, so a retry sends that one again (at-least-once at that edge), and two
runs racing on the same day can both send before either records. Scheduled runs are retried
one after another, so in practice each destination gets each day's report once.

`LocalLedger` keeps the same records in a folder for the CLI, creating files with
`open(..., "x")`, the local equivalent of If-None-Match.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from fwcost.delivery.model import Receipt, audience_name, audience_segment

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

RECORD_VERSION = 1
# 409 ConditionalRequestConflict: a concurrent conditional write to the same key is in
# flight; like 412 it means another run is recording this destination.
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict"}


@dataclass(frozen=True)
class LedgerKey:
    """What one ledger record is about."""

    account_id: str
    day: date
    team: str | None  # None: the overall report
    destination_id: str

    @property
    def audience(self) -> str:
        return audience_name(self.team)

    def relative_path(self) -> str:
        return (
            f"ledger/account={self.account_id}/dt={self.day.isoformat()}/"
            f"{audience_segment(self.team)}/{self.destination_id}.json"
        )


@dataclass(frozen=True)
class LedgerEntry:
    """One delivery: which report, to where, when, by which invocation, and what came back."""

    key: LedgerKey
    subject: str
    delivered_at: datetime  # UTC
    invocation_id: str  # the Lambda request ID or the CLI run's ID
    receipt: Receipt

    def to_json(self) -> bytes:
        document = {
            "version": RECORD_VERSION,
            "account_id": self.key.account_id,
            "day": self.key.day.isoformat(),
            "audience": self.key.audience,
            "team": self.key.team,
            "destination_id": self.key.destination_id,
            "subject": self.subject,
            "delivered_at": self.delivered_at.isoformat(),
            "invocation_id": self.invocation_id,
            "receipt": asdict(self.receipt),
        }
        return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, body: bytes, where: str) -> LedgerEntry:
        try:
            document: dict[str, Any] = json.loads(body)
            return cls(
                key=LedgerKey(
                    account_id=document["account_id"],
                    day=date.fromisoformat(document["day"]),
                    team=document["team"],
                    destination_id=document["destination_id"],
                ),
                subject=document["subject"],
                delivered_at=datetime.fromisoformat(document["delivered_at"]),
                invocation_id=document["invocation_id"],
                receipt=Receipt(**document["receipt"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"ledger record {where} is unreadable: {error!r}") from None


class DeliveryLedger(Protocol):
    """Where deliveries are recorded; S3 in Lambda, a folder for the CLI."""

    def already_delivered(self, key: LedgerKey) -> LedgerEntry | None:
        """The record of this delivery, or None if it has not happened."""
        ...

    def record(self, entry: LedgerEntry, *, overwrite: bool = False) -> bool:
        """Record a delivery; False when another run had recorded it first (not an error).

        `overwrite` (a forced re-run) replaces an existing record unconditionally."""
        ...


class S3Ledger:
    """Ledger records in the archive bucket, written with S3 conditional writes."""

    def __init__(self, s3: S3Client, bucket: str, prefix: str = "") -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix.strip("/")

    def object_key(self, key: LedgerKey) -> str:
        relative = key.relative_path()
        return f"{self._prefix}/{relative}" if self._prefix else relative

    def already_delivered(self, key: LedgerKey) -> LedgerEntry | None:
        object_key = self.object_key(key)
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=object_key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        return LedgerEntry.from_json(response["Body"].read(), f"s3://{self._bucket}/{object_key}")

    def record(self, entry: LedgerEntry, *, overwrite: bool = False) -> bool:
        arguments: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self.object_key(entry.key),
            "Body": entry.to_json(),
            "ContentType": "application/json",
            # As for the archive: encrypted at rest, checksummed by S3 on arrival.
            "ServerSideEncryption": "AES256",
            "ChecksumAlgorithm": "SHA256",
        }
        if not overwrite:
            arguments["IfNoneMatch"] = "*"
        try:
            self._s3.put_object(**arguments)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _LOST_RACE:
                return False
            raise
        return True


class LocalLedger:
    """Ledger records as files under a folder (the CLI's runs)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def path(self, key: LedgerKey) -> Path:
        return self._root / key.relative_path()

    def already_delivered(self, key: LedgerKey) -> LedgerEntry | None:
        path = self.path(key)
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            return None
        return LedgerEntry.from_json(body, str(path))

    def record(self, entry: LedgerEntry, *, overwrite: bool = False) -> bool:
        path = self.path(entry.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if overwrite:
            _replace_atomically(path, entry.to_json())
            return True
        try:
            with path.open("xb") as record_file:
                record_file.write(entry.to_json())
        except FileExistsError:
            return False
        return True


def _replace_atomically(path: Path, body: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(handle, "wb") as temporary_file:
        temporary_file.write(body)
    Path(temporary).replace(path)
