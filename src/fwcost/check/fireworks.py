"""The Fireworks section: yesterday asked exactly as the run asks it (FireworksClient.fetch_window),
then each endpoint's answer read back from the responses the client kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from fwcost.check.model import CheckResult, Section, degraded, failed, passed, skipped
from fwcost.check.settings import LoadedSettings
from fwcost.config import ConfigError, Settings
from fwcost.dates import yesterday
from fwcost.fireworks import FireworksClient, FireworksError, FireworksHTTPError
from fwcost.fireworks.client import ATTRIBUTION_INCOMPLETE, TRAINING_ONLY_DIMENSIONS
from fwcost.fireworks.errors import REFUSALS, fireworks_message
from fwcost.model import RawResponse, WindowPull
from fwcost.wiring import resolve_api_key

NEEDS = frozenset(
    {
        "FWCOST_ACCOUNT_ID",
        "FWCOST_TIMEZONE",
        "FWCOST_API_KEY",
        "FWCOST_API_KEY_SECRET",
        "FWCOST_FIREWORKS_BASE_URL",
    }
)
KEY, ACCOUNT = "API key", "account"
USAGE, SUMMARY, COSTS = "billingUsage", "billing/summary", "usageCosts:query"
ENDPOINTS = (USAGE, SUMMARY, COSTS)
ADMIN_KEY_FIX = (
    "use an API key of an account administrator (firectl: create the key as an admin user) "
    "and put it in FWCOST_API_KEY / the FWCOST_API_KEY_SECRET secret"
)


def check_fireworks(
    loaded: LoadedSettings, now: datetime, remember_secret: Callable[[str], None]
) -> Section:
    settings = loaded.settings
    where = settings.fireworks_base_url if settings is not None else ""
    reason = loaded.unusable(NEEDS)
    if reason is not None or settings is None:
        return Section("Fireworks", where, _skipped((KEY, ACCOUNT, *ENDPOINTS), reason or ""))
    try:
        api_key = resolve_api_key(settings)
    except (ConfigError, GetParameterError) as error:
        fix = "check FWCOST_API_KEY_SECRET names the secret, it holds the key, and the role may read it"
        unread = failed(KEY, f"not readable: {error}", fix)
        return Section("Fireworks", where, (unread, *_skipped((ACCOUNT, *ENDPOINTS), "no API key")))
    remember_secret(api_key)
    day = yesterday(now, settings.timezone)
    try:
        with _client(settings, api_key) as client:
            pull = client.fetch_window(day, day, settings.timezone)
    except FireworksHTTPError as error:
        return Section("Fireworks", where, _refused(error, settings, _key_tag(api_key)))
    except FireworksError as error:
        fix = "check FWCOST_FIREWORKS_BASE_URL and Fireworks' status; a run fails the same way"
        unjudged = _skipped((KEY, ACCOUNT, *ENDPOINTS), "not judged: Fireworks did not answer")
        return Section("Fireworks", where, (failed("API", str(error), fix), *unjudged))
    return Section("Fireworks", where, _answered(pull, day, settings, _key_tag(api_key)))


def _client(settings: Settings, api_key: str) -> FireworksClient:
    # As wiring.build_dependencies makes it: the same retries, timeouts and requests as the run.
    return FireworksClient(
        api_key=api_key, account_id=settings.account_id, base_url=settings.fireworks_base_url
    )


def _key_tag(api_key: str) -> str:
    """Which key, without revealing it: its last 4 characters, only when it is long."""
    return f"key …{api_key[-4:]}" if len(api_key) >= 12 else "key set"


def _refused(error: FireworksHTTPError, settings: Settings, tag: str) -> tuple[CheckResult, ...]:
    said = f"{error.status}: {error.message or '(no message)'}"
    if error.status == 401:
        return (
            failed(KEY, f"{said} ({tag})", REFUSALS[401].fix),
            *_skipped((ACCOUNT, *ENDPOINTS), "not judged: the key did not authenticate"),
        )
    if error.status == 404:
        return (
            passed(KEY, f"accepted ({tag})"),
            failed(ACCOUNT, said, f"{REFUSALS[404].fix}; it is {settings.account_id!r}"),
            *_skipped(ENDPOINTS, "not judged: no such account"),
        )
    # Any other refusal stops the run at that endpoint: the others are not judged.
    refused = next((name for name in ENDPOINTS if error.endpoint.endswith("/" + name)), USAGE)
    return (
        passed(KEY, f"authenticates ({tag})"),
        passed(ACCOUNT, f"{settings.account_id} exists"),
        *(
            failed(name, said, error.hint)
            if name == refused
            else skipped(name, f"not judged: the run stops at {refused}'s refusal")
            for name in ENDPOINTS
        ),
    )


def _answered(pull: WindowPull, day: date, settings: Settings, tag: str) -> tuple[CheckResult, ...]:
    return (
        passed(KEY, f"authenticates ({tag})"),
        passed(ACCOUNT, f"{settings.account_id} exists"),
        _usage(pull, day),
        _summary(pull, day),
        _key_costs(pull, day),
    )


def _usage(pull: WindowPull, day: date) -> CheckResult:
    usage = pull.days[day]
    rows = len(usage.serverless) + len(usage.dedicated) + len(usage.training)
    if pull.training_offered:
        return passed(
            USAGE,
            f"answered for {day:%a %d %b} with every dimension the run asks for ({rows:,} rows)",
        )
    refusal = next(raw for raw in _answers(pull, USAGE) if raw.status == 400)
    return degraded(
        USAGE,
        f"400 for the training dimensions: {fireworks_message(refusal.body)}\n"
        f"the run asks again without {', '.join(TRAINING_ONLY_DIMENSIONS)}: {rows:,} rows, "
        "training usage without per-job detail (the manifest records training_usage_offered: "
        "false)",
        "nothing to change in fwcost: this Fireworks gateway does not offer training usage by "
        "job; ask Fireworks to enable it for the account",
    )


def _summary(pull: WindowPull, day: date) -> CheckResult:
    usage = pull.days[day]
    answer = _answers(pull, SUMMARY)[-1]
    if answer.status == 403:
        return degraded(
            SUMMARY,
            f"403: {fireworks_message(answer.body)}\nthe run goes on with no billed total to "
            "check the day against (the report says so)",
            "use an API key that may read billing data",
        )
    if not usage.has_summary:
        return degraded(
            SUMMARY,
            "answered without daily buckets: the report has no billed total per day to add up "
            "to (it says so)",
            "nothing to change in fwcost; if it persists, report it to Fireworks",
        )
    billed = sum(item.total_cost for item in usage.line_items)
    return passed(
        SUMMARY, f"answered, daily buckets present: ${billed:,.2f} in {len(usage.line_items)} items"
    )


def _key_costs(pull: WindowPull, day: date) -> CheckResult:
    usage = pull.days[day]
    answer = _answers(pull, COSTS)[-1]
    if usage.key_costs is None:
        consequence = "per-key dollars will be estimated from usage (the report says so)"
        said = f"{answer.status}: {fireworks_message(answer.body)}"
        if answer.status == 403:
            return degraded(COSTS, f"{said}\n{consequence}", ADMIN_KEY_FIX)
        return degraded(
            COSTS, f"{said}\n{consequence}", "see Fireworks' message; the request is the run's own"
        )
    late = (
        "; attribution still INCOMPLETE (late data)" if ATTRIBUTION_INCOMPLETE in usage.gaps else ""
    )
    return passed(
        COSTS, f"allowed: account-wide per-key dollars ({len(usage.key_costs):,} key rows){late}"
    )


def _answers(pull: WindowPull, endpoint: str) -> list[RawResponse]:
    return [raw for raw in pull.raw if raw.path.endswith("/" + endpoint)]


def _skipped(names: tuple[str, ...], reason: str) -> tuple[CheckResult, ...]:
    return tuple(skipped(name, reason) for name in names)
