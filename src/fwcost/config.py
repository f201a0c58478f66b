"""Settings, read once from environment variables (and CLI flags), validated as a whole.

Every problem is reported at once, each naming its setting, so a misconfigured deployment
fails on its first run with one message that says everything to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fwcost.dates import DEFAULT_SETTLE_HOURS, MAX_WINDOW_DAYS
from fwcost.links import MAX_LINK_EXPIRY_HOURS, LinkStyle
from fwcost.report.unattributed import UnattributedSpend
from fwcost.run_request import DROP_PREFIX

DEFAULT_BASE_URL = "https://api.fireworks.ai"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# Defaults the report's domain objects share with the settings table below.
DEFAULT_TOP_N = 5
DEFAULT_ANOMALY_MAD_MULTIPLIER = Decimal(3)
DEFAULT_ANOMALY_MIN_RATIO = Decimal("1.5")
DEFAULT_ANOMALY_DOLLAR_FLOOR = Decimal(20)
# Teams with a report of their own (FWCOST_MAX_TEAM_REPORTS), the largest by the day's cost;
# the rest appear in the overall report's team table only, and a note there says so. Fifty is
# more team channels than an organisation reads (most have a handful to a few dozen), and it
# bounds a run's renders and deliveries: 1,000 annotated teams would otherwise be 1,000
# reports, each posted to the overall route when the team has no route of its own.
DEFAULT_MAX_TEAM_REPORTS = 50
# An imported export's quantities against the API's for the same day (fwcost.imports): within
# this percent they agree (rounding, requests on the day's edge); beyond, both say so.
DEFAULT_EXPORT_DIFFERENCE_PERCENT = Decimal(1)
MAX_SETTLE_HOURS = 24  # beyond a day, the morning run could never report yesterday
_ACCOUNT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
DEFAULT_ATHENA_DATABASE = "fwcost"  # template.yaml's GlueDatabaseName default
_ATHENA_NAME = re.compile(r"^[a-z0-9_]{1,128}$")  # what Athena accepts unquoted
# The roll-up's own identity in the ledger and the archive (account=_rollup/): an underscore, so
# no Fireworks account id (_ACCOUNT_ID) can ever be it (tests/unit/test_accounts.py).
ROLLUP_ACCOUNT_ID = "_rollup"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(ValueError):
    """One or more settings are missing or invalid; the message lists each by name."""


@dataclass(frozen=True, slots=True)
class SettingProblem:
    names: tuple[str, ...]  # the settings it is about (two for "set exactly one of")
    message: str

    def __str__(self) -> str:
        return f"{' / '.join(self.names)}: {self.message}"


class InvalidSettings(ConfigError):
    """What load_settings raises: every problem, each naming its settings."""

    def __init__(self, problems: Sequence[SettingProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid settings:\n  " + "\n  ".join(map(str, self.problems)))


@dataclass(frozen=True, slots=True)
class Budgets:
    """Monthly USD budgets: the account's and each team's."""

    account: Decimal | None = None
    teams: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Account:
    """One Fireworks account a deployment reports on, and where its API key comes from.

    FWCOST_ACCOUNTS lists accounts beside the default one (FWCOST_ACCOUNT_ID, whose key is
    FWCOST_API_KEY / FWCOST_API_KEY_SECRET); each other account names a Secrets Manager secret
    (`api_key_secret`) or, for local runs, an environment variable (`api_key_env`) holding its key.
    """

    id: str
    name: str = ""  # display name in the roll-up; the id when empty
    api_key_secret: str | None = None
    api_key_env: str | None = None
    api_key: str | None = field(default=None, repr=False)  # the key itself (local runs)

    @property
    def label(self) -> str:
        return self.name or self.id


class Scope(Enum):
    """Where a setting is meant to be set: the deployed function, a terminal, or both."""

    ANY = "any"
    LAMBDA = "lambda"  # read by the deployed function (template.yaml sets it)
    LOCAL = "local"  # a terminal only; template.yaml must not set it


@dataclass(frozen=True, slots=True)
class Setting:
    """One environment variable: the Settings field it fills, its parser, default and help.

    `default` is text, parsed like a value from the environment; `shown_default` is what the
    README says when there is none ("required", "built-in").
    """

    name: str
    field: str
    parse: Callable[[str], Any]
    help: str
    default: str | None = None
    shown_default: str = "—"
    scope: Scope = Scope.ANY

    @property
    def documented_default(self) -> str:
        return self.shown_default if self.default is None else self.default


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
    budgets: Budgets
    anomaly_mad_multiplier: Decimal
    anomaly_min_ratio: Decimal
    anomaly_dollar_floor: Decimal
    # Links from each report to its archived copy and CSV (fwcost.archive.links).
    links: LinkStyle
    link_expiry: timedelta  # presigned links only
    # `fwcost query` on Athena (fwcost.queries.athena); the function never reads them.
    athena_workgroup: str | None
    athena_database: str
    export_difference_percent: Decimal  # fwcost.imports: export vs API, reported beyond it
    # Every account reported on, the default one (account_id) first (load_settings fills it in).
    accounts: tuple[Account, ...] = ()
    # A month's statement: spend with no team as a row of its own, or shared out over the teams.
    unattributed: UnattributedSpend = UnattributedSpend.ROW

    def __repr__(self) -> str:  # never print the API key
        return f"Settings(account_id={self.account_id!r}, timezone={self.timezone.key!r}, ...)"

    def for_account(self, account_id: str) -> Settings:
        """These settings for one of the accounts alone: its id and its key."""
        account = next((a for a in self.accounts if a.id == account_id), None)
        if account is None:
            known = ", ".join(a.id for a in self.accounts)
            raise ConfigError(
                f"FWCOST_ACCOUNTS: no account {account_id!r} is configured (accounts: {known})"
            )
        return replace(
            self,
            account_id=account.id,
            api_key=account.api_key,
            api_key_secret=account.api_key_secret,
            accounts=(account,),
        )


def _cross_checks(
    settings: Settings, values: Mapping[str, str], *, needs_api_key: bool = True
) -> list[SettingProblem]:
    problems = []
    if not values.get("FWCOST_ACCOUNT_ID", "").strip():
        problems.append(
            SettingProblem(("FWCOST_ACCOUNT_ID",), "required (the Fireworks account to report on)")
        )
    keys = bool(settings.api_key) + bool(settings.api_key_secret)
    if keys > 1 or (needs_api_key and keys == 0):
        problems.append(
            SettingProblem(
                ("FWCOST_API_KEY", "FWCOST_API_KEY_SECRET"), "set exactly one of the two"
            )
        )
    if (settings.archive_bucket is None) == (settings.archive_dir is None):
        problems.append(
            SettingProblem(
                ("FWCOST_ARCHIVE_BUCKET", "FWCOST_ARCHIVE_DIR"), "set exactly one of the two"
            )
        )
    if settings.routing_parameter and settings.routing_file:
        problems.append(
            SettingProblem(
                ("FWCOST_ROUTING_PARAMETER", "FWCOST_ROUTING_FILE"), "set at most one of the two"
            )
        )
    return problems


def accounts_setting(text: str) -> tuple[Account, ...]:
    """FWCOST_ACCOUNTS: [{"id": ..., "name": ..., "api_key_secret" | "api_key_env": ...}]."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg} at character {error.pos})") from None
    shape = '[{"id": "<account>", "name": "<shown as>", "api_key_secret": "<secret id>"}, ...]'
    if not isinstance(document, list) or not all(isinstance(e, dict) for e in document):
        raise ValueError(f"expected a list of accounts: {shape}")
    accounts = []
    for entry in document:
        if strays := sorted(set(entry) - {"id", "name", "api_key_secret", "api_key_env"}):
            raise ValueError(f"unknown key {strays[0]!r} in an account (expected {shape})")
        env_name = entry.get("api_key_env")
        if env_name is not None and not _ENV_NAME.match(str(env_name)):
            raise ValueError(f"api_key_env {env_name!r} is not an environment variable name")
        accounts.append(
            Account(
                _account_id(str(entry.get("id", ""))),
                str(entry.get("name", "")).strip(),
                entry.get("api_key_secret") or None,
                env_name,
            )
        )
    if len({a.id for a in accounts}) < len(accounts):
        raise ValueError("an account is listed twice")
    return tuple(accounts)


def _account_problems(settings: Settings, env: Mapping[str, str]) -> list[SettingProblem]:
    """FWCOST_ACCOUNTS against the default account and the environment."""
    problems = []
    for account in settings.accounts:
        sources = (account.api_key_secret is not None) + (account.api_key_env is not None)
        if account.id == settings.account_id and sources:
            problem = "the default account's key is FWCOST_API_KEY / FWCOST_API_KEY_SECRET"
        elif account.id != settings.account_id and sources != 1:
            problem = "give exactly one of api_key_secret and api_key_env"
        elif account.api_key_env and not env.get(account.api_key_env, "").strip():
            problem = f"its key's variable {account.api_key_env} is not set"
        else:
            continue
        problems.append(SettingProblem(("FWCOST_ACCOUNTS",), f"account {account.id!r}: {problem}"))
    return problems


def _with_default_account(settings: Settings, env: Mapping[str, str]) -> Settings:
    """settings.accounts: the default account first (named as FWCOST_ACCOUNTS may name it)."""
    listed = {account.id: account for account in settings.accounts}
    default = Account(
        settings.account_id,
        listed.get(settings.account_id, Account("")).name,
        settings.api_key_secret,
        api_key=settings.api_key,
    )
    others = [
        replace(a, api_key=env[a.api_key_env].strip() if a.api_key_env else None)
        for a in settings.accounts
        if a.id != settings.account_id
    ]
    return replace(settings, accounts=(default, *others))


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
    if f"{cleaned}/".startswith(DROP_PREFIX):  # the archive's writes would be imported
        raise ValueError(f"must not start with {DROP_PREFIX!r}, where exports are dropped")
    return cleaned


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    return path


def _email_address(text: str) -> str:
    if text.count("@") != 1 or "." not in text.split("@")[1] or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not an email address such as reports@example.com")
    return text  # as given: the role's ses:FromAddress condition compares it letter for letter


def _positive_decimal(text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"must be a number above 0, got {text}")
    return number


def _budgets(text: str) -> Budgets:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg} at character {error.pos})") from None
    if not isinstance(document, dict) or set(document) - {"account", "teams"}:
        raise ValueError('expected {"account": <USD>, "teams": {"<team>": <USD>, ...}}')
    teams = document.get("teams", {})
    if not isinstance(teams, dict):
        raise ValueError('"teams" must map team names to monthly USD budgets')
    if any(not str(team).strip() for team in teams):
        raise ValueError('a team name in "teams" is empty')
    account = document.get("account")
    try:
        return Budgets(
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


def _link_style(text: str) -> LinkStyle:
    try:
        return LinkStyle(text.lower())
    except ValueError:
        choices = ", ".join(style.value for style in LinkStyle)
        raise ValueError(f"{text!r} is not one of {choices}") from None


def _link_expiry(text: str) -> timedelta:
    hours = _positive_int(text)
    if hours > MAX_LINK_EXPIRY_HOURS:
        raise ValueError(
            f"must be at most {MAX_LINK_EXPIRY_HOURS} hours (7 days, the longest a presigned "
            f"URL may last), got {hours}"
        )
    return timedelta(hours=hours)


def _unattributed(text: str) -> UnattributedSpend:
    try:
        return UnattributedSpend(text.lower())
    except ValueError:
        choices = " or ".join(mode.value for mode in UnattributedSpend)
        raise ValueError(f"{text!r} is not {choices}") from None


def _athena_database(text: str) -> str:
    if not _ATHENA_NAME.match(text):
        raise ValueError(f"{text!r} is not a database name (lowercase letters, digits and _)")
    return text


def _whole_number(text: str, minimum: int) -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if number < minimum:
        raise ValueError(f"must be at least {minimum}, got {number}")
    return number


def _non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


# The one list of settings: load_settings, the README's table (tests/unit/test_readme.py),
# template.yaml's environment (tests/template) and `fwcost check` all read it.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "FWCOST_ACCOUNT_ID",
        "account_id",
        _account_id,
        "Fireworks account id (`my-account` or `accounts/my-account`)",
        shown_default="required",
    ),
    Setting(
        "FWCOST_ACCOUNTS",
        "accounts",
        accounts_setting,
        'more accounts, each run alone, then a roll-up across all, JSON: [{"id": "staging", '
        '"name": "Staging", "api_key_secret": "<secret>"}] (local runs: "api_key_env": "<VAR>"); '
        "an entry for FWCOST_ACCOUNT_ID names it only",
        "[]",
    ),
    Setting(
        "FWCOST_TIMEZONE",
        "timezone",
        _timezone,
        "IANA timezone whose calendar days the reports use",
        "UTC",
    ),
    Setting(
        "FWCOST_API_KEY",
        "api_key",
        _api_key,
        "Fireworks API key, for local runs",
        scope=Scope.LOCAL,
    ),
    Setting(
        "FWCOST_API_KEY_SECRET",
        "api_key_secret",
        str,
        "Secrets Manager name or ARN holding the API key (Lambda)",
    ),
    Setting(
        "FWCOST_FIREWORKS_BASE_URL",
        "fireworks_base_url",
        _base_url,
        "Fireworks API base URL (a proxy or the simulator)",
        DEFAULT_BASE_URL,
    ),
    Setting(
        "FWCOST_ARCHIVE_BUCKET",
        "archive_bucket",
        _bucket,
        "S3 bucket of the audit archive",
    ),
    Setting(
        "FWCOST_ARCHIVE_DIR",
        "archive_dir",
        Path,
        "local folder of the audit archive, instead of a bucket",
        scope=Scope.LOCAL,
    ),
    Setting(
        "FWCOST_ARCHIVE_PREFIX",
        "archive_prefix",
        _prefix,
        "key prefix inside the bucket or folder",
        "fireworks",
    ),
    Setting(
        "FWCOST_PRICE_BOOK",
        "price_book",
        _existing_file,
        "TOML price book overriding the built-in one",
        shown_default="built-in",
    ),
    Setting(
        "FWCOST_TOP_N",
        "top_n",
        _positive_int,
        "rows shown per view before an 'Other' row",
        str(DEFAULT_TOP_N),
    ),
    Setting(
        "FWCOST_WINDOW_DAYS",
        "window_days",
        _window_days,
        f"days fetched per request set, 1 to {MAX_WINDOW_DAYS} (lower it for very large accounts)",
        str(MAX_WINDOW_DAYS),
    ),
    Setting(
        "FWCOST_SETTLE_HOURS",
        "settle",
        _settle_hours,
        "hours after a day ends (in FWCOST_TIMEZONE) before it may be reported; keep it below "
        "the schedule's hour",
        str(DEFAULT_SETTLE_HOURS),
    ),
    Setting(
        "FWCOST_MAX_TEAM_REPORTS",
        "max_team_reports",
        _non_negative_int,
        "teams, the largest by the day's cost, that get a report of their own",
        str(DEFAULT_MAX_TEAM_REPORTS),
    ),
    Setting(
        "FWCOST_ROUTING_PARAMETER",
        "routing_parameter",
        str,
        "SSM parameter holding the delivery routing JSON (Lambda)",
        scope=Scope.LAMBDA,
    ),
    Setting(
        "FWCOST_ROUTING_FILE",
        "routing_file",
        _existing_file,
        "file holding the delivery routing JSON (CLI)",
        scope=Scope.LOCAL,
    ),
    Setting(
        "FWCOST_SLACK_SECRET",
        "slack_secret",
        str,
        "Secrets Manager id of the Slack webhook URLs / bot token JSON",
    ),
    Setting(
        "FWCOST_SLACK_API_URL",
        "slack_api_url",
        _base_url,
        "Slack Web API base URL",
        DEFAULT_SLACK_API_URL,
    ),
    Setting(
        "FWCOST_EMAIL_FROM",
        "email_identity",
        _email_address,
        "SES identity allowed to send: routing senders must be it or in its domain",
        shown_default="any",
    ),
    Setting(
        "FWCOST_BUDGETS",
        "budgets",
        _budgets,
        'monthly USD budgets, JSON: {"account": 30000, "teams": {"search": 8000}}',
        "{}",
    ),
    Setting(
        "FWCOST_ANOMALY_MAD_MULTIPLIER",
        "anomaly_mad_multiplier",
        _positive_decimal,
        "anomaly: a day over median + k × MAD of its usual days (same weekday)",
        str(DEFAULT_ANOMALY_MAD_MULTIPLIER),
    ),
    Setting(
        "FWCOST_ANOMALY_MIN_RATIO",
        "anomaly_min_ratio",
        _positive_decimal,
        "anomaly: and at least this multiple of the median",
        str(DEFAULT_ANOMALY_MIN_RATIO),
    ),
    Setting(
        "FWCOST_ANOMALY_DOLLAR_FLOOR",
        "anomaly_dollar_floor",
        _positive_decimal,
        "anomaly: and at least this many USD above the median",
        str(DEFAULT_ANOMALY_DOLLAR_FLOOR),
    ),
    Setting(
        "FWCOST_LINKS",
        "links",
        _link_style,
        "how reports link to their archived copy and CSV in S3: console (no expiry, readers "
        "need console access), presigned (anyone with the link; long-term credentials only, not "
        "Lambda's role) or none; a local archive links its files",
        LinkStyle.CONSOLE.value,
    ),
    Setting(
        "FWCOST_LINK_EXPIRY_HOURS",
        "link_expiry",
        _link_expiry,
        f"how long presigned links work, 1 to {MAX_LINK_EXPIRY_HOURS} hours (7 days)",
        str(MAX_LINK_EXPIRY_HOURS),
    ),
    Setting(
        "FWCOST_ATHENA_WORKGROUP",
        "athena_workgroup",
        str,
        "Athena workgroup `fwcost query` runs in (the stack's output AthenaWorkGroup); unset, "
        "it queries a local archive",
        scope=Scope.LOCAL,
    ),
    Setting(
        "FWCOST_ATHENA_DATABASE",
        "athena_database",
        _athena_database,
        "Glue database of the archive's table for `fwcost query` (the stack's GlueDatabaseName)",
        DEFAULT_ATHENA_DATABASE,
        scope=Scope.LOCAL,
    ),
    Setting(
        "FWCOST_EXPORT_DIFFERENCE_PERCENT",
        "export_difference_percent",
        _positive_decimal,
        "an imported export's tokens or GPU time this many percent off the API's for the same "
        "day are reported (the API's figures are kept)",
        str(DEFAULT_EXPORT_DIFFERENCE_PERCENT),
    ),
    Setting(
        "FWCOST_UNATTRIBUTED",
        "unattributed",
        _unattributed,
        "in the month's statement, spend with no team: row (its own row) or spread (shared "
        "over the teams in proportion to their spend)",
        UnattributedSpend.ROW.value,
    ),
)
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}


def load_settings(
    env: Mapping[str, str],
    overrides: Mapping[str, str | None] | None = None,
    *,
    needs_api_key: bool = True,
) -> Settings:
    """Build Settings from environment variables, with CLI flags (same names) taking precedence.

    `needs_api_key=False`: for what never calls Fireworks (importing an export)."""
    values = {k: v for k, v in env.items() if k.startswith("FWCOST_")}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    problems: list[SettingProblem] = []
    fields: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = values.get(setting.name, "").strip() or setting.default
        try:
            fields[setting.field] = None if raw is None else setting.parse(raw)
        except ValueError as error:
            problems.append(SettingProblem((setting.name,), str(error)))
            fields[setting.field] = default_value(setting.name)
    settings = Settings(**fields)
    problems.extend(_cross_checks(settings, values, needs_api_key=needs_api_key))
    problems.extend(_account_problems(settings, env))
    if problems:
        raise InvalidSettings(problems)
    return _with_default_account(settings, env)


def read_setting(env: Mapping[str, str], name: str) -> Any:
    """One setting alone, parsed (its default when unset), for a command that needs only a few
    (`fwcost query` needs no API key); an invalid value raises InvalidSettings naming it."""
    setting = SETTINGS_BY_NAME[name]
    raw = env.get(name, "").strip() or setting.default
    try:
        return None if raw is None else setting.parse(raw)
    except ValueError as error:
        raise InvalidSettings([SettingProblem((name,), str(error))]) from None


def default_value(name: str) -> Any:
    """A setting's parsed default; also the stand-in for an invalid value, so that the other
    settings can still be checked."""
    setting = SETTINGS_BY_NAME[name]
    return None if setting.default is None else setting.parse(setting.default)
