"""Where archived objects go: an S3 bucket or a local folder, behind one small interface.

Both stores hold the same keys, so the layout (fwcost.archive.day_archive) is written once.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ArchiveError(RuntimeError):
    """Writing or reading the archive failed; the message names the object."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    sha256: str  # hex
    version_id: (
        str | None
    )  # S3 version of this write (None for a local folder or unversioned bucket)


class ObjectStore(Protocol):
    def put(
        self, key: str, body: bytes, content_type: str, sha256: str | None = None
    ) -> StoredObject:
        """Store `body`; `sha256` its hex digest when the caller has computed it from these
        bytes already (a large body is not hashed twice), else it is computed here."""
        ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    def put_file(self, key: str, path: Path, sha256: str, content_type: str) -> StoredObject:
        """Store a file as it is, streamed (it may be larger than memory); `sha256` its hex."""
        ...

    def url(self, key: str) -> str:
        """Where a person finds the object: s3://bucket/key or a file path."""
        ...

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix`."""
        ...


def _sha256(body: bytes, known: str | None) -> str:
    return known or hashlib.sha256(body).hexdigest()


class S3Store:
    """An S3 bucket. Every write is encrypted at rest and checksummed by S3 on arrival."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def put(
        self, key: str, body: bytes, content_type: str, sha256: str | None = None
    ) -> StoredObject:
        digest = _sha256(body, sha256)
        version = self._put(key, body, content_type, bytes.fromhex(digest))
        return StoredObject(key, len(body), digest, version)

    def put_file(self, key: str, path: Path, sha256: str, content_type: str) -> StoredObject:
        with path.open("rb") as body:  # botocore streams it, computing the checksum S3 checks
            version = self._put(key, body, content_type, bytes.fromhex(sha256))
        return StoredObject(key, path.stat().st_size, sha256, version)

    def _put(
        self, key: str, body: bytes | BinaryIO, content_type: str, digest: bytes
    ) -> str | None:
        """Write the object; its S3 version id. S3 verifies the SHA-256 botocore sends and
        rejects an upload that changed on the way; `digest` is what we meant to send (a
        digest the caller passed that is not the body's fails here too)."""
        try:
            response = self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ServerSideEncryption="AES256",
            )
        except Exception as error:  # botocore raises many types; all mean "not archived"
            raise ArchiveError(f"could not write {self.url(key)}: {error}") from error
        expected = base64.b64encode(digest).decode()
        if response.get("ChecksumSHA256", expected) != expected:
            raise ArchiveError(f"S3 stored {self.url(key)} with a different SHA-256 than was sent")
        return response.get("VersionId")

    def get(self, key: str) -> bytes | None:
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
        except self._s3.exceptions.NoSuchKey:
            return None
        except Exception as error:
            raise ArchiveError(f"could not read {self.url(key)}: {error}") from error
        return response["Body"].read()

    @property
    def region(self) -> str | None:
        """The client's region: the bucket's, for a deployment (template.yaml makes both)."""
        return self._s3.meta.region_name

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def keys(self, prefix: str) -> Iterator[str]:
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            ):
                yield from (item["Key"] for item in page.get("Contents", []))
        except Exception as error:
            raise ArchiveError(f"could not list {self.url(prefix)}: {error}") from error


class LocalStore:
    """A folder on disk with the same layout as the bucket (for the CLI and the demo)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(
        self, key: str, body: bytes, content_type: str, sha256: str | None = None
    ) -> StoredObject:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half an object.
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
                tmp.write(body)
            Path(tmp.name).replace(path)
        except OSError as error:
            raise ArchiveError(f"could not write {path}: {error}") from error
        return StoredObject(key, len(body), _sha256(body, sha256), None)

    def put_file(self, key: str, path: Path, sha256: str, content_type: str) -> StoredObject:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with (
                path.open("rb") as source,
                tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp,
            ):
                shutil.copyfileobj(source, tmp)
            Path(tmp.name).replace(target)
        except OSError as error:
            raise ArchiveError(f"could not write {target}: {error}") from error
        return StoredObject(key, target.stat().st_size, sha256, None)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise ArchiveError(f"could not read {path}: {error}") from error

    def url(self, key: str) -> str:
        return str(self._path(key))

    def keys(self, prefix: str) -> Iterator[str]:
        folder = prefix.rpartition("/")[0]
        base = self._path(folder) if folder else self.root
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix):
                yield key

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ArchiveError(f"refusing an archive key outside the folder: {key!r}")
        return self.root / key
