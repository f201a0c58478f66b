"""Settings, read once from environment variables (and CLI flags), validated as a whole.

Every problem is reported at once, each naming its setting, so a misconfigured deployment
fails on its first run with one message that says everything to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fwcost.dates import DEFAULT_SETTLE_HOURS, MAX_WINDOW_DAYS
from fwcost.report.summary import DEFAULT_MAX_TEAM_REPORTS

DEFAULT_BASE_URL = "https://api.fireworks.ai"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
MAX_SETTLE_HOURS = 24  # beyond a day, the morning run could never report yesterday
_ACCOUNT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
T = TypeVar("T")


class ConfigError(ValueError):
    """One or more settings are missing or invalid; the message lists each by name."""


@dataclass(frozen=True, slots=True)
class Settings:
    account_id: str
    timezone: ZoneInfo
    fireworks_base_url: str
    # Exactly one of api_key (local runs) and api_key_secret (Lambda: a Secrets Manager id).
    api_key: str | None
    api_key_secret: str | None
    # Exactly one of archive_bucket and archive_dir.
    archive_bucket: str | None
    archive_dir: Path | None
    archive_prefix: str
    price_book: Path | None
    top_n: int
    window_days: int  # days per fetch: fewer bound the memory of very large accounts
    settle: timedelta  # how long after its end a day may be reported (fwcost.dates)
    max_team_reports: int
    # Delivery: routing from an SSM parameter (Lambda) or a file (CLI); none = deliver nowhere.
    routing_parameter: str | None
    routing_file: Path | None
    slack_secret: str | None
    slack_api_url: str
    email_identity: str | None  # the SES identity this deployment may send as (address or domain)
    # Report tuning: monthly budgets and the anomaly rule.
    account_budget: Decimal | None
    team_budgets: dict[str, Decimal]
    anomaly_mad_multiplier: Decimal
    anomaly_min_ratio: Decimal
    anomaly_dollar_floor: Decimal

    def __repr__(self) -> str:  # never print the API key
        return f"Settings(account_id={self.account_id!r}, timezone={self.timezone.key!r}, ...)"


# name: (meaning, default) — the README's settings table is generated from the same words.
SETTINGS_HELP: dict[str, tuple[str, str]] = {
    "FWCOST_ACCOUNT_ID": (
        "Fireworks account id (`my-account` or `accounts/my-account`)",
        "required",
    ),
    "FWCOST_TIMEZONE": ("IANA timezone whose calendar days the reports use", "UTC"),
    "FWCOST_API_KEY": ("Fireworks API key, for local runs", "—"),
    "FWCOST_API_KEY_SECRET": ("Secrets Manager name or ARN holding the API key (Lambda)", "—"),
    "FWCOST_FIREWORKS_BASE_URL": (
        "Fireworks API base URL (a proxy or the simulator)",
        DEFAULT_BASE_URL,
    ),
    "FWCOST_ARCHIVE_BUCKET": ("S3 bucket of the audit archive", "—"),
    "FWCOST_ARCHIVE_DIR": ("local folder of the audit archive, instead of a bucket", "—"),
    "FWCOST_ARCHIVE_PREFIX": ("key prefix inside the bucket or folder", "fireworks"),
    "FWCOST_PRICE_BOOK": ("TOML price book overriding the built-in one", "built-in"),
    "FWCOST_TOP_N": ("rows shown per view before an 'Other' row", "5"),
    "FWCOST_WINDOW_DAYS": (
        "days fetched per request set, 1 to 31 (lower it for very large accounts)",
        "31",
    ),
    "FWCOST_SETTLE_HOURS": (
        "hours after a day ends (in FWCOST_TIMEZONE) before it may be reported; keep it below "
        "the schedule's hour",
        str(DEFAULT_SETTLE_HOURS),
    ),
    "FWCOST_MAX_TEAM_REPORTS": (
        "teams, the largest by the day's cost, that get a report of their own",
        str(DEFAULT_MAX_TEAM_REPORTS),
    ),
    "FWCOST_ROUTING_PARAMETER": ("SSM parameter holding the delivery routing JSON (Lambda)", "—"),
    "FWCOST_ROUTING_FILE": ("file holding the delivery routing JSON (CLI)", "—"),
    "FWCOST_SLACK_SECRET": ("Secrets Manager id of the Slack webhook URLs / bot token JSON", "—"),
    "FWCOST_SLACK_API_URL": ("Slack Web API base URL", DEFAULT_SLACK_API_URL),
    "FWCOST_EMAIL_FROM": (
        "SES identity allowed to send: routing senders must be it or in its domain",
        "any",
    ),
    "FWCOST_BUDGETS": (
        'monthly USD budgets, JSON: {"account": 30000, "teams": {"search": 8000}}',
        "none",
    ),
    "FWCOST_ANOMALY_MAD_MULTIPLIER": (
        "anomaly: a day over median + k × MAD of the trailing 14 days",
        "3",
    ),
    "FWCOST_ANOMALY_MIN_RATIO": ("anomaly: and at least this multiple of the median", "1.5"),
    "FWCOST_ANOMALY_DOLLAR_FLOOR": ("anomaly: and at least this many USD above the median", "20"),
}


def load_settings(
    env: Mapping[str, str], overrides: Mapping[str, str | None] | None = None
) -> Settings:
    """Build Settings from environment variables, with CLI flags (same names) taking precedence."""
    values = {**{k: v for k, v in env.items() if k.startswith("FWCOST_")}}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    errors: list[str] = []

    def read(name: str, parse: Callable[[str], T], default: str | None = None) -> T | None:
        raw = values.get(name, "").strip() or default
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError as error:
            errors.append(f"{name}: {error}")
            return None

    settings = Settings(
        account_id=read("FWCOST_ACCOUNT_ID", _account_id) or "",
        timezone=read("FWCOST_TIMEZONE", _timezone, "UTC") or ZoneInfo("UTC"),
        fireworks_base_url=read("FWCOST_FIREWORKS_BASE_URL", _base_url, DEFAULT_BASE_URL) or "",
        api_key=read("FWCOST_API_KEY", _api_key),
        api_key_secret=read("FWCOST_API_KEY_SECRET", str),
        archive_bucket=read("FWCOST_ARCHIVE_BUCKET", _bucket),
        archive_dir=read("FWCOST_ARCHIVE_DIR", Path),
        archive_prefix=read("FWCOST_ARCHIVE_PREFIX", _prefix, "fireworks") or "",
        price_book=read("FWCOST_PRICE_BOOK", _existing_file),
        top_n=read("FWCOST_TOP_N", _positive_int, "5") or 5,
        window_days=read("FWCOST_WINDOW_DAYS", _window_days, "31") or 31,
        settle=read("FWCOST_SETTLE_HOURS", _settle_hours, str(DEFAULT_SETTLE_HOURS))
        or timedelta(0),
        max_team_reports=read(
            "FWCOST_MAX_TEAM_REPORTS", _non_negative_int, str(DEFAULT_MAX_TEAM_REPORTS)
        )
        or 0,
        routing_parameter=read("FWCOST_ROUTING_PARAMETER", str),
        routing_file=read("FWCOST_ROUTING_FILE", _existing_file),
        slack_secret=read("FWCOST_SLACK_SECRET", str),
        slack_api_url=read("FWCOST_SLACK_API_URL", _base_url, DEFAULT_SLACK_API_URL) or "",
        email_identity=read("FWCOST_EMAIL_FROM", _email_address),
        account_budget=budgets[0] if (budgets := read("FWCOST_BUDGETS", _budgets)) else None,
        team_budgets=budgets[1] if budgets else {},
        anomaly_mad_multiplier=read("FWCOST_ANOMALY_MAD_MULTIPLIER", _positive_decimal, "3")
        or Decimal(3),
        anomaly_min_ratio=read("FWCOST_ANOMALY_MIN_RATIO", _positive_decimal, "1.5")
        or Decimal("1.5"),
        anomaly_dollar_floor=read("FWCOST_ANOMALY_DOLLAR_FLOOR", _positive_decimal, "20")
        or Decimal(20),
    )
    errors.extend(_cross_checks(settings, values))
    if errors:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(errors))
    return settings


def _cross_checks(settings: Settings, values: Mapping[str, str]) -> list[str]:
    errors = []
    if not values.get("FWCOST_ACCOUNT_ID", "").strip():
        errors.append("FWCOST_ACCOUNT_ID: required (the Fireworks account to report on)")
    if bool(settings.api_key) == bool(settings.api_key_secret):
        errors.append("FWCOST_API_KEY / FWCOST_API_KEY_SECRET: set exactly one of the two")
    if (settings.archive_bucket is None) == (settings.archive_dir is None):
        errors.append("FWCOST_ARCHIVE_BUCKET / FWCOST_ARCHIVE_DIR: set exactly one of the two")
    if settings.routing_parameter and settings.routing_file:
        errors.append("FWCOST_ROUTING_PARAMETER / FWCOST_ROUTING_FILE: set at most one of the two")
    return errors


def _account_id(text: str) -> str:
    bare = text.removeprefix("accounts/")
    if not _ACCOUNT_ID.match(bare):
        raise ValueError(
            f"{text!r} is not an account id like 'my-account' or 'accounts/my-account'"
        )
    return bare


def _timezone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not an IANA timezone such as Europe/Berlin") from None


def _base_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{text!r} is not an http(s) URL")
    return text.rstrip("/")


def _api_key(text: str) -> str:
    if any(c.isspace() for c in text):
        raise ValueError("contains white space (a copy-paste error?)")
    return text


def _bucket(text: str) -> str:
    if text.startswith("s3://") or not _BUCKET.match(text):
        raise ValueError(f"{text!r} is not a bucket name (give the name alone, without s3://)")
    return text


def _prefix(text: str) -> str:
    cleaned = text.strip("/")
    if ".." in cleaned.split("/"):
        raise ValueError("must not contain '..'")
    return cleaned


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    return path


def _email_address(text: str) -> str:
    if text.count("@") != 1 or "." not in text.split("@")[1] or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not an email address such as reports@example.com")
    return text.lower()


def _positive_decimal(text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"must be a number above 0, got {text}")
    return number


def _budgets(text: str) -> tuple[Decimal | None, dict[str, Decimal]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg} at character {error.pos})") from None
    if not isinstance(document, dict) or set(document) - {"account", "teams"}:
        raise ValueError('expected {"account": <USD>, "teams": {"<team>": <USD>, ...}}')
    teams = document.get("teams", {})
    if not isinstance(teams, dict):
        raise ValueError('"teams" must map team names to monthly USD budgets')
    account = document.get("account")
    try:
        return (
            None if account is None else _positive_decimal(str(account)),
            {str(team): _positive_decimal(str(amount)) for team, amount in teams.items()},
        )
    except ValueError as error:
        raise ValueError(f"a budget {error}") from None


def _window_days(text: str) -> int:
    days = _positive_int(text)
    if days > MAX_WINDOW_DAYS:
        raise ValueError(f"must be at most {MAX_WINDOW_DAYS} (the API's limit), got {days}")
    return days


def _settle_hours(text: str) -> timedelta:
    try:
        hours = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number of hours") from None
    if not hours.is_finite() or not 0 <= hours <= MAX_SETTLE_HOURS:
        raise ValueError(f"must be a number of hours from 0 to {MAX_SETTLE_HOURS}, got {text}")
    return timedelta(hours=float(hours))


def _non_negative_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if number < 0:
        raise ValueError(f"must be 0 or more, got {number}")
    return number


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise ValueError(f"must be at least 1, got {number}")
    return number
