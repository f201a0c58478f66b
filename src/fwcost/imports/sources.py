"""Adapter: open an export named on the command line or by an S3 event, as a stream of bytes."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, closing
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from fwcost.imports.importer import ExportFile
from fwcost.run_request import BadRequest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def export_file(name: str, s3: Callable[[], S3Client]) -> ExportFile:
    """A local path or an s3://bucket/key URI; S3 objects are streamed, never read whole."""
    if name.startswith("s3://"):
        bucket, _, key = name.removeprefix("s3://").partition("/")
        if not bucket or not key:
            raise BadRequest(f"{name!r} is not an S3 URI like s3://bucket/imports/export.csv")
        return ExportFile(name, lambda: _s3_body(s3(), bucket, key, name))
    path = Path(name)
    if not path.is_file():
        raise BadRequest(f"no such export file: {name}")
    return ExportFile(name, lambda: path.open("rb"))


def _s3_body(s3: S3Client, bucket: str, key: str, name: str) -> AbstractContextManager[IO[bytes]]:
    try:
        body: Any = s3.get_object(Bucket=bucket, Key=key)["Body"]
    except s3.exceptions.NoSuchKey:
        raise BadRequest(f"no such export object: {name}") from None
    return closing(body)  # botocore's StreamingBody reads like a binary file
