"""The Archive section: the bucket (or folder) the run writes, probed with one small object.

The probe lives at {prefix}/_check/{run id}.json, is written the way the delivery ledger writes
(If-None-Match: *, encrypted, checksummed), must be refused a second time (412), and is removed
whatever happened, every version of it, so the check leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from fwcost.check.model import CheckResult, Section, failed, passed, skipped
from fwcost.check.settings import LoadedSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NEEDS = frozenset({"FWCOST_ARCHIVE_BUCKET", "FWCOST_ARCHIVE_DIR", "FWCOST_ARCHIVE_PREFIX"})
BUCKET, ACCESS, CONDITIONAL, PROBE = "bucket", "access", "conditional writes", "probe removal"
FOLDER = "folder"
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict"}


def check_archive(loaded: LoadedSettings, s3: Callable[[], S3Client], run_id: str) -> Section:
    settings = loaded.settings
    reason = loaded.unusable(NEEDS)
    if reason is not None or settings is None:
        return Section("Archive", "", (skipped(BUCKET, reason or ""),))
    prefix = settings.archive_prefix
    probe_key = f"{prefix}/_check/{run_id}.json" if prefix else f"_check/{run_id}.json"
    if settings.archive_dir is not None:
        root = Path(settings.archive_dir)
        return Section("Archive", f"{root}/{prefix}", (_folder(root, probe_key),))
    bucket = str(settings.archive_bucket)
    results = _bucket(s3(), bucket, prefix, probe_key)
    return Section("Archive", f"s3://{bucket}/{prefix}/", results)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _said(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return f"{_code(error)}: {message}" if message else _code(error)
    return f"{type(error).__name__}: {error}"


def _bucket(s3: S3Client, bucket: str, prefix: str, key: str) -> tuple[CheckResult, ...]:
    try:
        found = s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        missing = _code(error) in {"404", "NoSuchBucket"}
        result = failed(
            BUCKET,
            f"no bucket named {bucket}" if missing else f"{bucket} answers {_said(error)}",
            "check FWCOST_ARCHIVE_BUCKET (the stack's ArchiveBucket output)"
            if missing
            else "check the bucket name (another account's bucket answers 403) and that the "
            "role has s3:ListBucket on it",
        )
        return (result, skipped(ACCESS, "not judged: no bucket"))
    except BotoCoreError as error:
        return (failed(BUCKET, _said(error), "check the network and AWS credentials"),)
    region = found.get("BucketRegion") or found["ResponseMetadata"]["HTTPHeaders"].get(
        "x-amz-bucket-region", "unknown"
    )
    bucket_result = passed(BUCKET, f"{bucket} exists, region {region}{_versioning(s3, bucket)}")
    probe = _S3Probe(s3, bucket, key)
    try:
        results = (bucket_result, *probe.run(prefix))
    finally:
        removal = probe.remove()
    return results + removal


def _versioning(s3: S3Client, bucket: str) -> str:
    """ ", versioning on" or off; nothing when the role may not read it (the run never needs to)."""
    try:
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    except (ClientError, BotoCoreError):
        return ""
    if status == "Enabled":
        return ", versioning on"
    return ", versioning off (template.yaml turns it on: overwritten days keep no history)"


@dataclass
class _S3Probe:
    s3: S3Client
    bucket: str
    key: str
    body: bytes = b'{"fwcost": "check probe: safe to delete"}\n'
    versions: list[str | None] = field(default_factory=list)  # what each write created

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def run(self, prefix: str) -> tuple[CheckResult, ...]:
        under = f"{prefix}/" if prefix else "the bucket root"
        fix = (
            f"grant the function s3:ListBucket on the bucket and s3:GetObject, s3:PutObject on "
            f"{under}* (template.yaml: ArchiveAndLedgerObjects, ArchiveListing)"
        )
        try:
            self.s3.list_objects_v2(Bucket=self.bucket, Prefix=f"{prefix}/", MaxKeys=1)
        except (ClientError, BotoCoreError) as error:
            return (failed(ACCESS, f"cannot list under {under}: {_said(error)}", fix),)
        try:
            self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as error:
            if _code(error) not in {"NoSuchKey", "404"}:
                # Without s3:ListBucket a missing object answers 403, and the ledger can no
                # longer tell "not delivered yet" from "not allowed".
                return (failed(ACCESS, f"cannot get under {under}: {_said(error)}", fix),)
        try:
            self._put()
            read = self.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            return (failed(ACCESS, f"cannot put or get {self.url}: {_said(error)}", fix),)
        if read != self.body:
            return (failed(ACCESS, f"{self.url} read back different bytes", "check the bucket"),)
        return (passed(ACCESS, f"can list, get and put under {under}"), self._conditional())

    def _conditional(self) -> CheckResult:
        try:
            self._put()
        except ClientError as error:
            if _code(error) in _LOST_RACE:
                return passed(
                    CONDITIONAL,
                    "a second If-None-Match write was refused (412), as the ledger needs",
                )
            return failed(
                CONDITIONAL,
                f"a second If-None-Match write answered {_said(error)}, not 412",
                "the delivery ledger needs S3 conditional writes: use an S3 bucket",
            )
        return failed(
            CONDITIONAL,
            "a second If-None-Match write succeeded: the ledger could not keep each delivery to once",
            "the delivery ledger needs S3 conditional writes: use an S3 bucket (an S3-compatible "
            "store must honour If-None-Match)",
        )

    def _put(self) -> None:
        # As the ledger writes: a conditional, encrypted, checksummed put.
        response = self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key,
            Body=self.body,
            ContentType="application/json",
            ServerSideEncryption="AES256",
            ChecksumAlgorithm="SHA256",
            IfNoneMatch="*",
        )
        self.versions.append(response.get("VersionId"))

    def remove(self) -> tuple[CheckResult, ...]:
        """Every version the probe wrote, deleted; a result only when that failed."""
        try:
            for version in self.versions:
                if version:
                    self.s3.delete_object(Bucket=self.bucket, Key=self.key, VersionId=version)
                else:
                    self.s3.delete_object(Bucket=self.bucket, Key=self.key)
        except (ClientError, BotoCoreError) as error:
            return (
                failed(
                    PROBE,
                    f"{self.url} is left behind: {_said(error)}",
                    "delete it by hand; the function needs s3:DeleteObject and "
                    "s3:DeleteObjectVersion on <prefix>/_check/* (template.yaml: CheckProbe)",
                ),
            )
        return ()


def _folder(root: Path, key: str) -> CheckResult:
    path = root / key
    created = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    fix = "create the folder or fix its permissions, or point FWCOST_ARCHIVE_DIR elsewhere"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Exclusive creation, as the local ledger records a delivery.
        with path.open("x") as probe:
            probe.write("fwcost check probe\n")
        try:
            path.open("x").close()
        except FileExistsError:
            pass
        else:
            return failed(FOLDER, f"{root}: creating {path.name} twice succeeded", fix)
    except OSError as error:
        return failed(FOLDER, f"{root} is not writable: {error}", fix)
    finally:
        _remove_quietly(path, created)
    return passed(FOLDER, f"{root} is writable (a probe was created exclusively and removed)")


def _remove_quietly(path: Path, created: list[Path]) -> None:
    """The probe and the folders made for it; what cannot be removed is harmless and empty."""
    for leftover in (path, *created):
        try:
            if leftover.is_dir():
                leftover.rmdir()
            else:
                leftover.unlink(missing_ok=True)
        except OSError:
            continue
