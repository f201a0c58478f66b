"""The Email section (SES v2), when the routing sends email: sender identities, the sandbox and
its unverified recipients, the sending quota against what a run sends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from fwcost.check.model import CheckResult, Section, failed, passed, skipped
from fwcost.check.settings import ROUTING_SETTINGS, LoadedSettings
from fwcost.delivery import EmailDestination, RoutingConfig

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sesv2.type_defs import GetAccountResponseTypeDef

NEEDS = ROUTING_SETTINGS | {"FWCOST_EMAIL_FROM"}
SENDER, SANDBOX, QUOTA = "sender", "sandbox", "quota"
PRODUCTION_ACCESS = "SES console → Account dashboard → Request production access"


def email_destinations(routing: RoutingConfig) -> list[EmailDestination]:
    """Every email destination of every route, once."""
    found: dict[str, EmailDestination] = {}
    for route in (routing.overall, *routing.teams.values()):
        for destination in route.email:
            found.setdefault(destination.destination_id, destination)
    return list(found.values())


def check_email(
    loaded: LoadedSettings, make_client: Callable[[], SESV2Client], region_of: Callable[[], str]
) -> Section | None:
    """None when nothing is sent by email (no routing, or no email destination)."""
    if loaded.routing is None or loaded.unusable(NEEDS):
        return None
    destinations = email_destinations(loaded.routing)
    if not destinations:
        return None
    try:
        ses, region = make_client(), region_of()
    except BotoCoreError as error:  # no region configured, most often
        fix = "set AWS_REGION (or a profile's region) to the region of the SES identity"
        return Section("Email", "SES", (failed("SES", f"no SES client: {error}", fix),))
    identities = _Identities(ses)
    senders = sorted({_address(destination.sender) for destination in destinations})
    results = [_sender(identities, sender, region) for sender in senders]
    try:
        account = ses.get_account()
    except (ClientError, BotoCoreError) as error:
        reason = (
            f"not judged: SES GetAccount answered {_said(error)} (ses:GetAccount takes no "
            "resource ARN; run `aws sesv2 get-account` with your own credentials)"
        )
        results += [skipped(SANDBOX, reason), skipped(QUOTA, reason)]
    else:
        results += [
            _sandbox(identities, account, destinations, region),
            _quota(account, destinations, loaded.routing),
        ]
    return Section("Email", f"SES, {region}", tuple(results))


def _address(text: str) -> str:
    return parseaddr(text)[1].lower()


def _said(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "an error"))
    return type(error).__name__


@dataclass(frozen=True, slots=True)
class _Identity:
    name: str  # the address, or the domain that covers it
    verified: bool


class _Identities:
    """SES identities looked up once each: an address is covered by itself or by its domain."""

    def __init__(self, ses: SESV2Client) -> None:
        self._ses = ses
        self._seen: dict[str, bool | None] = {}

    def covering(self, address: str) -> _Identity | None:
        """The identity an address sends or receives under; None when SES has neither."""
        domain = address.rpartition("@")[2]
        for name in (address, domain):
            verified = self._lookup(name)
            if verified is not None:
                return _Identity(name, verified)
        return None

    def _lookup(self, name: str) -> bool | None:
        if name not in self._seen:
            try:
                identity = self._ses.get_email_identity(EmailIdentity=name)
            except self._ses.exceptions.NotFoundException:
                self._seen[name] = None
            else:
                self._seen[name] = bool(identity.get("VerifiedForSendingStatus"))
        return self._seen[name]


def _sender(identities: _Identities, sender: str, region: str) -> CheckResult:
    try:
        identity = identities.covering(sender)
    except (ClientError, BotoCoreError) as error:
        return skipped(
            SENDER,
            f"{sender}: not judged, SES GetEmailIdentity answered {_said(error)} "
            "(the function needs ses:GetEmailIdentity on its identity: template.yaml)",
        )
    if identity is None:
        domain = sender.rpartition("@")[2]
        return failed(
            SENDER,
            f"{sender}: neither it nor {domain} is an SES identity in {region}",
            f"create and verify {sender} (or {domain}) in SES {region}, or send from one that is",
        )
    through = "" if identity.name == sender else f" (domain {identity.name})"
    if not identity.verified:
        return failed(
            SENDER,
            f"{sender}: the SES identity {identity.name} is not verified for sending",
            f"finish verifying {identity.name} in SES {region} (the link SES emailed, or the "
            "domain's DKIM DNS records)",
        )
    return passed(SENDER, f"{sender} verified{through}")


def _recipients(destinations: list[EmailDestination]) -> list[str]:
    return sorted({_address(entry) for d in destinations for entry in (*d.to, *d.cc)})


def _sandbox(
    identities: _Identities,
    account: GetAccountResponseTypeDef,
    destinations: list[EmailDestination],
    region: str,
) -> CheckResult:
    if not account.get("SendingEnabled", True):
        return failed(
            SANDBOX,
            f"sending is paused for this account in {region}",
            "resume sending in the SES console (Account dashboard), or see why it was paused",
        )
    recipients = _recipients(destinations)
    if account.get("ProductionAccessEnabled"):
        return passed(SANDBOX, "production access: any recipient can be sent to")
    try:
        unverified = [
            address
            for address in recipients
            if not ((identity := identities.covering(address)) and identity.verified)
        ]
    except (ClientError, BotoCoreError) as error:
        return skipped(
            SANDBOX,
            f"the account is in the SES sandbox in {region}; whether its {len(recipients)} "
            f"recipients are verified was not judged (GetEmailIdentity answered {_said(error)}: "
            "run `fwcost check` with credentials that may read SES identities)",
        )
    if unverified:
        return failed(
            SANDBOX,
            f"the account is in the SES sandbox in {region}: {len(unverified)} of "
            f"{len(recipients)} recipients are not verified ({', '.join(unverified)})",
            f"verify them in SES, or request production access ({PRODUCTION_ACCESS})",
        )
    return passed(
        SANDBOX,
        f"in the SES sandbox; all {len(recipients)} recipients are verified (a new one must be "
        "too, until production access)",
    )


def _quota(
    account: GetAccountResponseTypeDef,
    destinations: list[EmailDestination],
    routing: RoutingConfig,
) -> CheckResult:
    quota = account.get("SendQuota", {})
    per_day = quota.get("Max24HourSend", 0.0)
    per_second = quota.get("MaxSendRate", 0.0)
    sent = quota.get("SentLast24Hours", 0.0)
    # SES counts each recipient of a message against the quota.
    needed = sum(len(d.to) + len(d.cc) for d in destinations)
    more = (
        " (+ the overall route's for each team without one)"
        if routing.unknown_teams == "overall" and routing.overall.email
        else ""
    )
    sizes = f"{per_day:,.0f} a day ({sent:,.0f} sent in the last 24 h), {per_second:g} a second"
    if per_day >= 0 and per_day - sent < needed:
        return failed(
            QUOTA,
            f"{sizes}: a run sends to {needed} recipients{more}, more than the {per_day - sent:,.0f} left",
            f"wait for the 24-hour window, or ask for a higher quota ({PRODUCTION_ACCESS})",
        )
    return passed(QUOTA, f"{sizes}; a run sends to {needed} recipients{more}")
