"""The errors people meet, each as one sentence: what failed, why, and what to do about it.

The CLI prints a Problem's sentence and exits with its code; the Lambda handler logs the same
sentence and raises it as a RunError, so an alarm says what to fix. Errors are recognised by
their type (AWS ones by botocore's error code), never by their text, and by the first link of
the exception chain that is known: wrappers (ArchiveError, Powertools' GetParameterError) are
looked through. An error no rule knows gives None: the caller decides how to show it.

No sentence quotes a secret: the texts used are Fireworks' (already redacted), AWS's messages
(which name principals and resources, never credentials) and names of settings and resources.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from fwcost.config import ConfigError
from fwcost.delivery.errors import RoutingError
from fwcost.fireworks.errors import REFUSALS, Failure, FireworksGaveUp, FireworksHTTPError
from fwcost.imports.export_csv import ExportRowError
from fwcost.periods.model import MissingDays
from fwcost.queries import QueryError, QueryFailed
from fwcost.report.pricebook import PriceBookError
from fwcost.run_request import BadRequest


class ExitCode(IntEnum):
    """The CLI's exit status (README, "Exit status")."""

    RUN_FAILED = 1
    BAD_SETTINGS = 2  # settings, arguments, credentials or names to fix before a re-run


@dataclass(frozen=True, slots=True)
class Problem:
    what: str  # what failed, e.g. "no AWS region"
    why: str = ""  # what was met, e.g. AWS's or Fireworks' own words
    fix: str = ""  # what a person can do, a sentence starting with a capital
    exit_code: ExitCode = ExitCode.RUN_FAILED

    @property
    def sentence(self) -> str:
        text = self.what + (f": {self.why.rstrip('. ')}" if self.why else "")
        return text + (f". {self.fix}" if self.fix else "")


class RunError(RuntimeError):
    """A run stopped on a known problem; the message is the Problem's sentence."""


class LookupFailed(Exception):
    """A secret or parameter a setting names could not be read; the cause says why."""

    def __init__(self, setting: str, kind: Literal["secret", "parameter"], name: str) -> None:
        super().__init__(f"{setting}: could not read {kind} '{name}'")
        self.setting = setting
        self.kind = kind
        self.name = name


_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException"}
_BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}
_WITHOUT_AWS = "or run without AWS: --out DIR with FWCOST_API_KEY"


def problem_for(error: BaseException) -> Problem | None:
    """The Problem `error` (or an error it wraps) is, or None when no rule knows it."""
    chain = list(_chain(error))
    lookup = next((link for link in chain if isinstance(link, LookupFailed)), None)
    for link in chain:
        if (problem := _known(link, lookup)) is not None:
            return problem
    if lookup is not None:
        cause = chain[-1]
        return Problem(
            str(lookup),
            f"{type(cause).__name__}: {cause}",
            f"Check the {lookup.kind}'s name, its region (AWS_REGION) and who may read it",
        )
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what it was raised from or during, unless that was hidden (`from None`)."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)


def _known(error: BaseException, lookup: LookupFailed | None) -> Problem | None:
    match error:
        case ConfigError() | BadRequest() | RoutingError() | PriceBookError():
            return Problem(str(error), exit_code=ExitCode.BAD_SETTINGS)
        case MissingDays():
            return Problem(error.what, fix=error.fix)
        case QueryFailed():  # before QueryError, whose subclass it is
            return Problem(str(error))
        case QueryError():
            return Problem(str(error), exit_code=ExitCode.BAD_SETTINGS)
        case ExportRowError():
            return Problem(
                str(error),
                fix="Nothing of that file was archived: fix the row (or export again) and import it",
                exit_code=ExitCode.BAD_SETTINGS,
            )
        case FireworksHTTPError():
            code = ExitCode.BAD_SETTINGS if error.status in REFUSALS else ExitCode.RUN_FAILED
            return Problem(error.meaning, error.answer, error.hint, code)
        case FireworksGaveUp():
            return _gave_up(error)
        case ClientError():
            return _aws_refusal(error, lookup)
        case NoCredentialsError() | NoRegionError() | ProfileNotFound():
            return _aws_setup(error, lookup)
        case EndpointConnectionError():
            return Problem(
                _where(lookup) + f"cannot reach AWS at {error.kwargs.get('endpoint_url')}",
                str(error.kwargs.get("error", "")),
                "Check the network (proxy, firewall, VPC endpoints) and that AWS_REGION"
                " names a region",
            )
    return None


def _gave_up(error: FireworksGaveUp) -> Problem:
    match error.last_failure:
        case Failure.UNREACHABLE:
            what = f"cannot reach Fireworks at {error.base_url}"
            fix = "Check the network (DNS, proxy, firewall) and FWCOST_FIREWORKS_BASE_URL"
        case Failure.TIMEOUT:
            what = "Fireworks did not answer in time"
            fix = (
                "Retry later; if it keeps timing out, lower FWCOST_WINDOW_DAYS so each request"
                " covers fewer days"
            )
        case Failure.FAILING:
            what = "Fireworks kept failing"
            fix = "Retry later: Fireworks may be having an outage"
    return Problem(what, str(error), fix)


def _aws_refusal(error: ClientError, lookup: LookupFailed | None) -> Problem | None:
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    said = details.get("Message", "") or code
    where = _where(lookup)
    if code == "NoSuchBucket":
        return Problem(
            f"no S3 bucket '{details.get('BucketName', '?')}'",
            said,
            "Check FWCOST_ARCHIVE_BUCKET (or --bucket) and AWS_REGION; deploying the SAM stack"
            " creates the bucket",
            ExitCode.BAD_SETTINGS,
        )
    if lookup is not None and code in {"ResourceNotFoundException", "ParameterNotFound"}:
        return Problem(
            f"{lookup.setting}: no {lookup.kind} '{lookup.name}'",
            said,
            f"Check the {lookup.kind}'s name and that AWS_REGION is its region",
            ExitCode.BAD_SETTINGS,
        )
    if code == "InvalidRequestException" and error.operation_name == "StartQueryExecution":
        return Problem(
            "Athena refused the query",
            said,
            "Check FWCOST_ATHENA_WORKGROUP and FWCOST_ATHENA_DATABASE against the stack's"
            " outputs AthenaWorkGroup and AthenaTable",
            ExitCode.BAD_SETTINGS,
        )
    if code in _ACCESS_DENIED:
        return Problem(
            where + f"AWS denied {error.operation_name}",
            said,
            "Grant that permission to the role or user fwcost runs as (template.yaml gives the"
            " function's role what it needs), or run with credentials that have it",
        )
    if code in _BAD_CREDENTIALS:
        return Problem(
            where + "AWS rejected the credentials",
            f"{code}: {said}",
            f"Refresh them (aws sso login, new access keys) or choose another AWS_PROFILE, {_WITHOUT_AWS}",
            ExitCode.BAD_SETTINGS,
        )
    return None


def _aws_setup(error: BaseException, lookup: LookupFailed | None) -> Problem:
    where = _where(lookup)
    match error:
        case NoRegionError():
            return Problem(
                where + "no AWS region",
                "Secrets Manager, SSM and SES need one and none is set",
                "Set AWS_REGION (or a region in your AWS profile)",
                ExitCode.BAD_SETTINGS,
            )
        case ProfileNotFound():
            return Problem(
                where + "no such AWS profile",
                str(error),
                "Check AWS_PROFILE against `aws configure list-profiles`",
                ExitCode.BAD_SETTINGS,
            )
    return Problem(
        where + "no AWS credentials",
        "none in the environment, ~/.aws or an instance role",
        f"Log in (aws sso login, or set AWS_PROFILE), {_WITHOUT_AWS}",
        ExitCode.BAD_SETTINGS,
    )


def _where(lookup: LookupFailed | None) -> str:
    """ "FWCOST_SLACK_SECRET: reading secret 'x': " when the error came from such a lookup."""
    if lookup is None:
        return ""
    return f"{lookup.setting}: reading {lookup.kind} '{lookup.name}': "
