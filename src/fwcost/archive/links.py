"""Links to archived objects, for the reports: a file URI, the S3 console, or a presigned URL.

Which one (FWCOST_LINKS), and why the S3 default is the console:
- A presigned URL works for anyone who holds it, without an AWS sign-in, for at most 7 days
  (SigV4). But it is signed with the credentials of whoever made it, and a URL signed with
  temporary credentials stops working when they expire, whatever expiry it was given (AWS
  knowledge center, "presigned URL expiring before the expiration time"; the S3 user guide,
  "Sharing objects with presigned URLs"). Lambda runs with its role's temporary credentials,
  so "valid until Mon 7 Dec" would be untrue: the link would die within hours. fwcost presigns
  only with long-term credentials (an IAM user's access key, say a CLI run), and refuses
  temporary ones rather than print a date it cannot keep.
- A console link names the object in the S3 console: it never expires and grants nothing by
  itself; the reader needs console access to the bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

from fwcost.links import Link

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectLinks(Protocol):
    def link(self, key: str, label: str) -> Link:
        """A link to the archived object at `key`, shown as `label`."""
        ...


class FileLinks:
    """file:// URIs of a local archive's files."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def link(self, key: str, label: str) -> Link:
        return Link((self._root / key).as_uri(), label)


class ConsoleLinks:
    """The S3 console's page of each object (download and details), for signed-in readers."""

    def __init__(self, bucket: str, region: str | None) -> None:
        self._bucket = bucket
        self._region = region

    def link(self, key: str, label: str) -> Link:
        query = {"region": self._region, "prefix": key} if self._region else {"prefix": key}
        url = f"https://console.aws.amazon.com/s3/object/{quote(self._bucket)}?" + urlencode(
            query, quote_via=quote
        )
        return Link(url, label, needs_sign_in=True)


class PresignedLinks:
    """Presigned GET URLs, valid for `valid_for` (at most 7 days; long-term credentials only)."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        valid_for: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._s3 = client
        self._bucket = bucket
        self._seconds = int(valid_for.total_seconds())
        self._clock = clock

    def link(self, key: str, label: str) -> Link:
        # Read the clock before signing: the stated expiry is never later than the real one.
        signed_at = self._clock()
        url = self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": key},
            ExpiresIn=self._seconds,
        )
        return Link(url, label, expires=signed_at + timedelta(seconds=self._seconds))


def presigning_client(session: Any) -> S3Client:
    """An S3 client that presigns with SigV4 (botocore's default for us-east-1 is still the
    legacy SigV2 query string) and virtual-hosted URLs, which S3 serves in every region. The
    session's region must be the bucket's: it is part of the signature."""
    from botocore.config import Config

    config = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
    client: S3Client = session.client("s3", config=config)
    return client


def temporary_credentials(session: Any) -> bool:
    """Whether the session signs with temporary credentials (a role's session token), whose
    expiry would cut a presigned URL short; also True when it has no credentials at all."""
    credentials = session.get_credentials()
    return credentials is None or bool(credentials.get_frozen_credentials().token)
