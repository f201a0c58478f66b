"""The composition root: turn validated Settings into the adapters the pipeline runs with.

The handler and the CLI both come through here, so the only differences between a Lambda run
and a local run are the settings (a bucket or a folder, a secret or a plain key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fwcost.archive import DayArchive, LocalStore, S3Store
from fwcost.archive.links import (
    ConsoleLinks,
    FileLinks,
    ObjectLinks,
    PresignedLinks,
    presigning_client,
    temporary_credentials,
)
from fwcost.config import ConfigError, Settings
from fwcost.delivery import (
    DeliveryLedger,
    Destination,
    LedgerKey,
    LocalLedger,
    OutgoingReport,
    Receipt,
    RoutingConfig,
    S3Ledger,
    Senders,
    SesEmailSender,
    SlackSender,
    load_routing,
    load_slack_secrets,
)
from fwcost.fanout import RollupDependencies
from fwcost.fireworks import FireworksClient
from fwcost.imports.importer import ExportFile, ImportDependencies
from fwcost.imports.sources import export_file
from fwcost.links import LinkStyle
from fwcost.pipeline import Delivery, Dependencies, ReportSettings
from fwcost.problems import LookupFailed
from fwcost.report.pricebook import load_price_book
from fwcost.report.summary import AnomalySettings

SECRET_MAX_AGE_SECONDS = 300  # Powertools caches secrets and parameters across warm invocations


def build_dependencies(
    settings: Settings,
    *,
    api_key: str,
    boto_session: Any = None,
    senders: Senders | None = None,
    invocation_id: str = "",
    dry_run: bool = False,
) -> tuple[Dependencies, FireworksClient]:
    """The pipeline's adapters, and the Fireworks client (its request counts feed the metrics).

    `senders` replaces Slack and SES (the demo writes messages to a folder instead). A dry run
    builds neither: it plans deliveries, so it needs no Slack secret, no SES and no region.
    """
    aws = boto_session or _default_session()
    # Everything that can refuse a bad setting comes first: the client, last, is then never
    # left open by an error here.
    prices = load_price_book(settings.price_book)
    store = archive_store(settings, aws)
    links = report_links(settings, store, aws)
    delivery = _delivery(settings, aws, _DRY_RUN_SENDERS if dry_run else senders)
    client = FireworksClient(
        api_key=api_key, account_id=settings.account_id, base_url=settings.fireworks_base_url
    )
    deps = Dependencies(
        source=client,
        archive=DayArchive(
            store,
            settings.archive_prefix,
            settings.account_id,
            secrets=(api_key,),
        ),
        prices=prices,
        timezone=settings.timezone,
        report=ReportSettings(
            top_n=settings.top_n,
            anomaly=AnomalySettings(
                mad_multiplier=settings.anomaly_mad_multiplier,
                min_ratio=settings.anomaly_min_ratio,
                dollar_floor=settings.anomaly_dollar_floor,
            ),
            account_budget=settings.budgets.account,
            team_budgets=settings.budgets.teams,
            max_team_reports=settings.max_team_reports,
            export_difference_percent=settings.export_difference_percent,
            unattributed=settings.unattributed,
        ),
        window_days=settings.window_days,
        settle=settings.settle,
        delivery=delivery,
        invocation_id=invocation_id,
        links=links,
    )
    return deps, client


def build_import_dependencies(
    settings: Settings, *, boto_session: Any = None
) -> tuple[ImportDependencies, Callable[[str], ExportFile]]:
    """What importing exports needs (no Fireworks client), and how to open a path or s3:// URI."""
    aws = boto_session or _default_session()
    deps = ImportDependencies(
        archive=DayArchive(
            archive_store(settings, aws), settings.archive_prefix, settings.account_id
        ),
        prices=load_price_book(settings.price_book),
        timezone=settings.timezone,
        difference_percent=settings.export_difference_percent,
    )
    return deps, lambda name: export_file(name, lambda: aws.client("s3"))


def build_rollup_dependencies(
    settings: Settings,
    *,
    boto_session: Any = None,
    senders: Senders | None = None,
    invocation_id: str = "",
    dry_run: bool = False,
) -> RollupDependencies:
    """The roll-up's adapters: the archive the accounts wrote, and delivery (no Fireworks)."""
    aws = boto_session or _default_session()
    return RollupDependencies(
        store=archive_store(settings, aws),
        prefix=settings.archive_prefix,
        timezone=settings.timezone,
        accounts=settings.accounts,
        delivery=_delivery(settings, aws, _DRY_RUN_SENDERS if dry_run else senders),
        invocation_id=invocation_id,
    )


def resolve_api_key(settings: Settings) -> str:
    """The plain key for local runs, else the secret's value through Powertools (cached)."""
    if settings.api_key:
        return settings.api_key
    secret_id = str(settings.api_key_secret)
    return api_key_from_secret(_secret(secret_id, "FWCOST_API_KEY_SECRET"), secret_id)


def api_key_from_secret(value: str, secret_id: str) -> str:
    """The key a secret holds: the bare key, or {"api_key": "..."} as the console's key/value
    editor makes it."""
    key: object = value
    if value.lstrip().startswith("{"):
        try:
            key = json.loads(value).get("api_key")
        except (json.JSONDecodeError, AttributeError):
            key = None
    if not isinstance(key, str) or not key.strip():
        raise ConfigError(
            f'FWCOST_API_KEY_SECRET: secret {secret_id} holds no API key (expected the bare key or {{"api_key": "fw_..."}})'
        )
    return key.strip()


def archive_store(settings: Settings, aws: Any) -> LocalStore | S3Store:
    if settings.archive_dir is not None:
        return LocalStore(settings.archive_dir)
    return S3Store(aws.client("s3"), str(settings.archive_bucket))


def report_links(settings: Settings, store: LocalStore | S3Store, aws: Any) -> ObjectLinks | None:
    """How reports link to their archived files (FWCOST_LINKS; why: fwcost.archive.links)."""
    if settings.links is LinkStyle.NONE:
        return None
    if isinstance(store, LocalStore):
        return FileLinks(store.root)
    if settings.links is LinkStyle.CONSOLE:
        return ConsoleLinks(store.bucket, store.region)
    if temporary_credentials(aws):
        raise ConfigError(
            "FWCOST_LINKS: presigned links need long-term credentials (an IAM user's access "
            "key), but this run signs with temporary ones (a role session, as in Lambda): a URL "
            "signed with them stops working when they expire, long before the expiry it would "
            "state. Use FWCOST_LINKS=console (the default) or none."
        )
    return PresignedLinks(presigning_client(aws), store.bucket, settings.link_expiry)


def _delivery(settings: Settings, aws: Any, senders: Senders | None) -> Delivery | None:
    routing = load_routing_config(settings)
    if routing is None:
        return None
    check_email_senders(routing, settings.email_identity)
    return Delivery(
        routing, _ledger(settings, aws), senders or real_senders(settings, routing, aws)
    )


def load_routing_config(settings: Settings) -> RoutingConfig | None:
    """The routing from its file or SSM parameter; None when there is none (deliver nowhere)."""
    if settings.routing_file is not None:
        return load_routing(settings.routing_file.read_text(), f"file:{settings.routing_file}")
    if settings.routing_parameter:
        from aws_lambda_powertools.utilities import parameters

        name = settings.routing_parameter
        try:
            text = parameters.get_parameter(name, max_age=SECRET_MAX_AGE_SECONDS)
        except Exception as error:  # Powertools wraps AWS's errors: problems.py reads the cause
            raise LookupFailed("FWCOST_ROUTING_PARAMETER", "parameter", name) from error
        return load_routing(str(text), f"ssm:{name}")
    return None


def check_email_senders(routing: RoutingConfig, identity: str | None) -> None:
    """The role may send only as the deployment's SES identity or from its domain (template.yaml):
    say so at the start, not as AccessDenied on the first email. IAM's StringLike compares
    letter case too, so this does."""
    if identity is None:
        return
    domain = identity.rpartition("@")[2]
    strangers = sorted(
        sender for sender in routing.email_senders()
        if sender != identity and sender.rpartition("@")[2] != domain
    )  # fmt: skip
    if strangers:
        raise ConfigError(
            f"FWCOST_EMAIL_FROM: the routing ({routing.source}) sends as {strangers}, but this "
            f"deployment may send only as {identity} or from @{domain} (EmailFromAddress; "
            "letter case counts)"
        )


def _ledger(settings: Settings, aws: Any) -> DeliveryLedger:
    if settings.archive_dir is not None:
        return LocalLedger(Path(settings.archive_dir) / settings.archive_prefix)
    return S3Ledger(aws.client("s3"), str(settings.archive_bucket), settings.archive_prefix)


def real_senders(settings: Settings, routing: RoutingConfig, aws: Any) -> Senders:
    needed = routing.secret_keys()
    secrets: dict[str, str] = {}
    if needed:
        secrets = load_slack_secret(settings)
        if missing := sorted(needed - secrets.keys()):
            raise ConfigError(
                f"FWCOST_SLACK_SECRET: the secret lacks the key(s) the routing names: {missing}"
            )
    return Senders(
        slack=SlackSender(secrets, api_base_url=settings.slack_api_url + "/"),
        email=SesEmailSender(aws.client("sesv2")),
    )


def load_slack_secret(settings: Settings) -> dict[str, str]:
    """The Slack secret's keys and values (webhook URLs, bot tokens)."""
    if not settings.slack_secret:
        raise ConfigError(
            "FWCOST_SLACK_SECRET: the routing names Slack destinations but no secret holds them"
        )
    try:
        return load_slack_secrets(
            _secret(settings.slack_secret, "FWCOST_SLACK_SECRET"),
            f"secret {settings.slack_secret}",
        )
    except ValueError as error:
        raise ConfigError(f"FWCOST_SLACK_SECRET: {error}") from None


def _secret(name: str, setting: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(name, max_age=SECRET_MAX_AGE_SECONDS)
    except Exception as error:  # Powertools wraps AWS's errors: problems.py reads the cause
        raise LookupFailed(setting, "secret", name) from error
    return value.decode() if isinstance(value, bytes) else str(value)


class _PlanOnly:
    """The sender of a dry run, which plans and never sends (deliver_reports, dry_run)."""

    def send(
        self,
        report: OutgoingReport,
        destination: Destination,
        previous: Receipt | None,
        key: LedgerKey,
    ) -> Receipt:
        raise RuntimeError(f"a dry run must not send: {destination.destination_id}")

    def find_sent(
        self, destination: Destination, key: LedgerKey, since: datetime
    ) -> Receipt | None:
        raise RuntimeError(f"a dry run must not look up: {destination.destination_id}")


_DRY_RUN_SENDERS = Senders(slack=_PlanOnly(), email=_PlanOnly())


def _default_session() -> Any:
    import boto3

    return boto3.session.Session()
