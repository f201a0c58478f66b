"""The delivery ledger: which report went to which destination, claimed before it is sent.

One small JSON record per (account, period, audience, destination), at

    {prefix}/ledger/account={account}/dt={day}/audience=overall/{destination_id}.json
    {prefix}/ledger/account={account}/dt={day}/team={team segment}/{destination_id}.json
    {prefix}/ledger/account={account}/week=2026-W47/...     a week's digest
    {prefix}/ledger/account={account}/month=2026-10/...     a month's statement
    {prefix}/ledger/account={account}/month=2026-10/issue=2/...   its revised re-issue

in the archive bucket. Every write is conditional, so two runs never both act on what they
read. A record's state moves:

    none or failed  → claimed     a run claims it, before sending
    claimed         → delivered   the destination accepted it and the receipt is recorded
    claimed         → failed      the send failed (the problem is kept; next run may try)
    claimed         → claimed     taken over: expired, or held by this same invocation
    delivered       → claimed     a forced run (the receipt is kept: a bot post is edited)

- A run claims a delivery before sending it: a `claimed` record carrying the run's id and an
  expiry (`claimed_at` + CLAIM_LEASE), created with `IfNoneMatch="*"` when there is no record,
  or replacing the record it read with `IfMatch` on that record's ETag. A second run loses:
  412 PreconditionFailed (or 409 ConditionalRequestConflict while the first write is in
  flight), and leaves that destination to the winner.
- After the destination accepted the report, the claim is completed: overwritten with the
  receipt (`delivered`), again with `IfMatch` on the claim's ETag, so a run whose claim was
  taken over cannot clobber the record of the run that took it.
- A send that fails turns the claim into `failed` (with the problem), so the next run may try
  at once instead of waiting for the lease.
- A claim held by another run is left alone until it expires. An expired claim (its run
  crashed or timed out mid-send, or could not record what it sent), or one held by this same
  invocation (Lambda retries an invocation with its request id), is taken over.

What it does not promise (the at-least-once edge): a run that sent a report and then died,
could not write the ledger (after a few tries), or lost the destination's answer (a cut
connection, a garbled reply) cannot tell whether the report went out; it leaves a `claimed`
(or `failed`) record. The next run looks before it sends where it can: a Slack bot post
carries its delivery as message metadata and is found with conversations.history, then
recorded, not reposted: a bot post is not duplicated. An incoming webhook post and an SES
email leave nothing to look up and are sent again: at-least-once in that window only. A run
still sending when its lease ends (CLAIM_LEASE, Lambda's longest timeout; this function's is
shorter) can also be taken over and both may send. Expiry compares the claimer's clock with
the reader's, so clocks must roughly agree (Lambda's and any NTP-synced machine's do).

Record format, version 2 (version 1 records, written before claims existed, read as
`delivered`): {"version", "state": "claimed"|"delivered"|"failed", "account_id", "day",
"cadence" and "issue" (a week's or month's record only; a day's is as before periods),
"audience", "team", "destination_id", "subject", "invocation_id" (the run that wrote this
state), "claimed_at", "expires_at", "delivered_at" and "receipt" (the latest delivery; null
until there is one), "problem" (why the last attempt failed)}.

Why S3 conditional writes rather than Powertools idempotency on DynamoDB:
- no extra table to deploy, secure, pay for and clean up: the run already writes this bucket;
- the record lives beside the archive it vouches for (same prefix, same retention, same
  versioning, readable with the same tools), so "was the 21st sent to #search?" is one GET;
- Powertools idempotency keys a whole invocation (or one function call) by its payload and
  stores its *return value*; here the unit of "exactly once" is one destination, and a rerun
  must deliver only the ones that failed. A per-destination key says that directly;
- on a versioned bucket every earlier state stays as a noncurrent version, a free audit trail;
- moto implements both conditions (IfNoneMatch, IfMatch), so the semantics are tested offline.

`LocalLedger` keeps the same records in a folder for the CLI: created with `open(..., "x")`,
replaced by an atomic rename after checking the SHA-256 of what was read (its "ETag"), both
under an exclusive lock on the record's folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from fwcost.delivery.errors import LedgerError
from fwcost.delivery.model import LedgerKey, Receipt
from fwcost.periods.model import Cadence

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

RECORD_VERSION = 2
# How long a claim keeps other runs away: Lambda's longest timeout (the function's own is
# shorter), so a claim outlives any run that can still be sending.
CLAIM_LEASE = timedelta(minutes=15)
# 412: the record is not the one we read (or exists when we expected none); 409: a concurrent
# conditional write to the same key is in flight; 404: the record we meant to replace is gone.
# Each means another run got there first.
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"}


class DeliveryState(StrEnum):
    CLAIMED = "claimed"  # a run is sending it (or died doing so, until the claim expires)
    DELIVERED = "delivered"
    FAILED = "failed"  # the last attempt failed: free for the next run


@dataclass(frozen=True)
class LedgerRecord:
    """The state of one delivery, and the latest receipt it earned."""

    key: LedgerKey
    subject: str
    state: DeliveryState
    invocation_id: str  # the run that wrote this state: a Lambda request ID or the CLI run's ID
    claimed_at: datetime  # UTC; when that run claimed the delivery
    expires_at: datetime  # claimed_at + CLAIM_LEASE: after it, another run may take over
    receipt: Receipt | None = None  # the latest successful delivery's (kept by a forced resend)
    delivered_at: datetime | None = None
    problem: str = ""  # state FAILED: why, in one line

    @classmethod
    def claim(
        cls,
        key: LedgerKey,
        subject: str,
        invocation_id: str,
        now: datetime,
        earlier: LedgerRecord | None,
    ) -> LedgerRecord:
        """A claim by `invocation_id`, keeping what `earlier` knew about the last delivery."""
        return cls(
            key=key,
            subject=subject,
            state=DeliveryState.CLAIMED,
            invocation_id=invocation_id,
            claimed_at=now,
            expires_at=now + CLAIM_LEASE,
            receipt=earlier.receipt if earlier else None,
            delivered_at=earlier.delivered_at if earlier else None,
        )

    def delivered(self, receipt: Receipt, now: datetime) -> LedgerRecord:
        return replace(self, state=DeliveryState.DELIVERED, receipt=receipt, delivered_at=now)

    def failed(self, problem: str) -> LedgerRecord:
        return replace(self, state=DeliveryState.FAILED, problem=problem)

    def held_by_another_run(self, invocation_id: str, now: datetime) -> bool:
        """A live claim of a run other than `invocation_id` (an unnamed run is always other)."""
        mine = bool(invocation_id) and invocation_id == self.invocation_id
        return self.state is DeliveryState.CLAIMED and not mine and now < self.expires_at

    def to_json(self) -> bytes:
        document = {
            "version": RECORD_VERSION,
            "state": self.state.value,
            "account_id": self.key.account_id,
            "day": self.key.day.isoformat(),
            "audience": self.key.audience,
            "team": self.key.team,
            "destination_id": self.key.destination_id,
            "subject": self.subject,
            "invocation_id": self.invocation_id,
            "claimed_at": self.claimed_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "receipt": asdict(self.receipt) if self.receipt else None,
            "problem": self.problem,
        }
        if self.key.cadence is not Cadence.DAILY:  # a day's record stays as it was before periods
            document |= {"cadence": self.key.cadence.value, "issue": self.key.issue}
        return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, body: bytes, where: str) -> LedgerRecord:
        try:
            document: dict[str, Any] = json.loads(body)
            key = LedgerKey(
                account_id=document["account_id"],
                day=date.fromisoformat(document["day"]),
                team=document["team"],
                destination_id=document["destination_id"],
                # Records written before weekly and monthly reports are a day's.
                cadence=Cadence(document.get("cadence", Cadence.DAILY.value)),
                issue=int(document.get("issue", 1)),
            )
            if document["version"] == 1:  # written right after the send, before claims existed
                delivered_at = datetime.fromisoformat(document["delivered_at"])
                return cls(
                    key, document["subject"], DeliveryState.DELIVERED, document["invocation_id"],
                    delivered_at, delivered_at, Receipt(**document["receipt"]), delivered_at,
                )  # fmt: skip
            return cls(
                key=key,
                subject=document["subject"],
                state=DeliveryState(document["state"]),
                invocation_id=document["invocation_id"],
                claimed_at=datetime.fromisoformat(document["claimed_at"]),
                expires_at=datetime.fromisoformat(document["expires_at"]),
                receipt=Receipt(**document["receipt"]) if document["receipt"] else None,
                delivered_at=_optional_time(document["delivered_at"]),
                problem=document["problem"],
            )
        except (ValueError, KeyError, TypeError) as error:
            raise LedgerError(f"ledger record {where} is unreadable: {error!r}") from None


def _optional_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Stored:
    """A record as read, and the version a conditional write must name to replace it."""

    record: LedgerRecord
    version: str  # the S3 ETag, or the SHA-256 of a local file


class DeliveryLedger(Protocol):
    """Where deliveries are claimed and recorded; S3 in Lambda, a folder for the CLI.

    Both methods raise LedgerError when the store fails."""

    def read(self, key: LedgerKey) -> Stored | None:
        """The record of this delivery, or None if no run has claimed it yet."""
        ...

    def write(self, record: LedgerRecord, *, replacing: str | None) -> str | None:
        """Write `record` if the stored one is still version `replacing` (None: if there is
        none yet); return the new version, or None when another run wrote first."""
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

    def read(self, key: LedgerKey) -> Stored | None:
        where = f"s3://{self._bucket}/{self.object_key(key)}"
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=self.object_key(key))
            body = response["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise LedgerError(f"could not read {where}: {error}") from error
        except BotoCoreError as error:
            raise LedgerError(f"could not read {where}: {error}") from error
        return Stored(LedgerRecord.from_json(body, where), response["ETag"])

    def write(self, record: LedgerRecord, *, replacing: str | None) -> str | None:
        arguments: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self.object_key(record.key),
            "Body": record.to_json(),
            "ContentType": "application/json",
            # As for the archive: encrypted at rest, checksummed by S3 on arrival.
            "ServerSideEncryption": "AES256",
            "ChecksumAlgorithm": "SHA256",
        }
        if replacing is None:
            arguments["IfNoneMatch"] = "*"
        else:
            arguments["IfMatch"] = replacing
        where = f"s3://{self._bucket}/{arguments['Key']}"
        try:
            return self._s3.put_object(**arguments)["ETag"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _LOST_RACE:
                return None
            raise LedgerError(f"could not write {where}: {error}") from error
        except BotoCoreError as error:
            raise LedgerError(f"could not write {where}: {error}") from error


class LocalLedger:
    """Ledger records as files under a folder (the CLI's runs)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def path(self, key: LedgerKey) -> Path:
        return self._root / key.relative_path()

    def read(self, key: LedgerKey) -> Stored | None:
        path = self.path(key)
        try:
            with _locked(path.parent):
                body = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise LedgerError(f"could not read {path}: {error}") from error
        return Stored(LedgerRecord.from_json(body, str(path)), _version(body))

    def write(self, record: LedgerRecord, *, replacing: str | None) -> str | None:
        path, body = self.path(record.key), record.to_json()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(path.parent):
                if replacing is None:
                    with path.open("xb") as record_file:
                        record_file.write(body)
                elif _version(path.read_bytes()) == replacing:
                    _replace_atomically(path, body)
                else:
                    return None
        except (FileExistsError, FileNotFoundError):
            return None  # created, or removed, by someone else
        except OSError as error:
            raise LedgerError(f"could not write {path}: {error}") from error
        return _version(body)


def _version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (released by the OS if the process dies)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _replace_atomically(path: Path, body: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(handle, "wb") as temporary_file:
        temporary_file.write(body)
    Path(temporary).replace(path)
