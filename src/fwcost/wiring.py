"""The composition root: turn validated Settings into the adapters the pipeline runs with.

The handler and the CLI both come through here, so the only differences between a Lambda run
and a local run are the settings (a bucket or a folder, a secret or a plain key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fwcost.archive import DayArchive, LocalStore, ObjectStore, S3Store
from fwcost.config import Settings
from fwcost.fireworks import FireworksClient
from fwcost.pipeline import Dependencies
from fwcost.report import attribute_day, load_price_book

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def resolve_api_key(settings: Settings) -> str:
    """The plain key for local runs, else the secret's value through Powertools (cached)."""
    if settings.api_key:
        return settings.api_key
    from aws_lambda_powertools.utilities import parameters  # only Lambda runs need it

    secret = parameters.get_secret(str(settings.api_key_secret), max_age=300)
    value = secret.decode() if isinstance(secret, bytes) else str(secret)
    # A secret may hold the bare key or {"api_key": "..."}, as the console's key/value editor makes.
    if value.lstrip().startswith("{"):
        import json

        value = str(json.loads(value).get("api_key", ""))
    if not value.strip():
        raise ValueError(f"secret {settings.api_key_secret} holds no Fireworks API key")
    return value.strip()


def archive_store(settings: Settings, s3_client: S3Client | None = None) -> ObjectStore:
    if settings.archive_dir is not None:
        return LocalStore(settings.archive_dir)
    if s3_client is None:
        import boto3

        s3_client = boto3.client("s3")
    return S3Store(s3_client, str(settings.archive_bucket))


def build_dependencies(
    settings: Settings, *, api_key: str, s3_client: Any = None
) -> tuple[Dependencies, FireworksClient]:
    """The pipeline's adapters, and the Fireworks client (its request counts feed the metrics)."""
    client = FireworksClient(
        api_key=api_key, account_id=settings.account_id, base_url=settings.fireworks_base_url
    )
    prices = load_price_book(settings.price_book)
    deps = Dependencies(
        source=client,
        archive=DayArchive(
            archive_store(settings, s3_client), settings.archive_prefix, settings.account_id
        ),
        attribute=lambda usage: attribute_day(usage, prices),
        timezone=settings.timezone,
    )
    return deps, client
