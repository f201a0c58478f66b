"""problems.py: which error is which Problem, and the one sentence each gives."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from fwcost.archive import ArchiveError
from fwcost.config import ConfigError
from fwcost.fireworks.errors import REFUSALS, Failure, FireworksGaveUp, FireworksHTTPError
from fwcost.problems import ExitCode, LookupFailed, Problem, problem_for


def client_error(code: str, message: str, operation: str = "GetSecretValue") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def raised(error: BaseException, *wrappers: BaseException) -> BaseException:
    """`error` raised inside each wrapper in turn, as real code chains them (last is outermost)."""
    inner = error
    for wrapper in wrappers:
        try:
            try:
                raise inner
            except BaseException:
                raise wrapper  # noqa: B904 - implicit chaining, as Powertools does
        except BaseException as outer:
            inner = outer
    return inner


def test_a_sentence_is_what_why_and_fix_without_doubled_stops() -> None:
    problem = Problem("no S3 bucket 'x'", "The specified bucket does not exist.", "Check it")
    assert problem.sentence == "no S3 bucket 'x': The specified bucket does not exist. Check it"
    assert Problem("invalid settings:\n  A: bad").sentence == "invalid settings:\n  A: bad"


def test_settings_errors_are_exit_2_in_their_own_words() -> None:
    problem = problem_for(ConfigError("invalid settings:\n  FWCOST_TOP_N: must be at least 1"))
    assert problem == Problem(
        "invalid settings:\n  FWCOST_TOP_N: must be at least 1", exit_code=ExitCode.BAD_SETTINGS
    )


@pytest.mark.parametrize("status", sorted(REFUSALS))
def test_a_refusal_a_setting_fixes_is_exit_2_and_says_which_setting(status: int) -> None:
    error = FireworksHTTPError(
        status=status,
        method="GET",
        endpoint="/v1/accounts/acme-ai/billingUsage",
        message="denied",
        refusal=REFUSALS[status],
    )
    problem = problem_for(error)
    assert problem is not None
    assert problem.exit_code is ExitCode.BAD_SETTINGS
    assert problem.what == REFUSALS[status].meaning
    assert problem.why == f"GET /v1/accounts/acme-ai/billingUsage answered {status} (denied)"
    assert "FWCOST_" in problem.fix


@pytest.mark.parametrize(
    ("failure", "what", "fix"),
    [
        (
            Failure.UNREACHABLE,
            "cannot reach Fireworks at http://fw.test",
            "FWCOST_FIREWORKS_BASE_URL",
        ),
        (Failure.TIMEOUT, "Fireworks did not answer in time", "lower FWCOST_WINDOW_DAYS"),
        (Failure.FAILING, "Fireworks kept failing", "Retry later"),
    ],
)
def test_giving_up_after_retries_says_what_the_last_try_met(
    failure: Failure, what: str, fix: str
) -> None:
    error = FireworksGaveUp(
        "GET /x failed after 6 attempts", last_failure=failure, base_url="http://fw.test"
    )
    problem = problem_for(error)
    assert problem is not None
    assert (problem.what, problem.why, problem.exit_code) == (
        what,
        "GET /x failed after 6 attempts",
        ExitCode.RUN_FAILED,
    )
    assert fix in problem.fix


def test_aws_errors_are_found_through_powertools_and_the_setting_that_named_them() -> None:
    # Powertools raises GetParameterError *during* handling of AWS's error; wiring wraps that
    error = raised(
        client_error(
            "ResourceNotFoundException", "Secrets Manager can't find the specified secret."
        ),
        GetParameterError("Secrets Manager can't find the specified secret."),
        LookupFailed("FWCOST_SLACK_SECRET", "secret", "fwcost/slack"),
    )
    problem = problem_for(error)
    assert problem is not None
    assert problem.sentence == (
        "FWCOST_SLACK_SECRET: no secret 'fwcost/slack': Secrets Manager can't find the specified"
        " secret. Check the secret's name and that AWS_REGION is its region"
    )
    assert problem.exit_code is ExitCode.BAD_SETTINGS


def test_access_denied_names_the_operation_and_is_a_failed_run() -> None:
    said = "User: arn:aws:sts::1:assumed-role/dev/me is not authorized to perform: s3:ListBucket"
    error = raised(
        client_error("AccessDenied", said, "ListObjectsV2"), ArchiveError("could not list s3://b/")
    )
    problem = problem_for(error)
    assert problem is not None
    assert problem.what == "AWS denied ListObjectsV2"
    assert problem.why == said
    assert "Grant that permission" in problem.fix
    assert problem.exit_code is ExitCode.RUN_FAILED


@pytest.mark.parametrize(
    ("error", "what"),
    [
        (NoCredentialsError(), "FWCOST_API_KEY_SECRET: reading secret 'k': no AWS credentials"),
        (NoRegionError(), "FWCOST_API_KEY_SECRET: reading secret 'k': no AWS region"),
        (
            client_error(
                "ExpiredTokenException", "The security token included in the request is expired"
            ),
            "FWCOST_API_KEY_SECRET: reading secret 'k': AWS rejected the credentials",
        ),
    ],
)
def test_missing_or_stale_aws_setup_is_exit_2_and_names_the_lookup(
    error: Exception, what: str
) -> None:
    problem = problem_for(raised(error, LookupFailed("FWCOST_API_KEY_SECRET", "secret", "k")))
    assert problem is not None
    assert problem.what == what
    assert problem.exit_code is ExitCode.BAD_SETTINGS


def test_an_unreachable_aws_endpoint_names_it() -> None:
    error = EndpointConnectionError(
        endpoint_url="https://s3.nowhere-1.amazonaws.com/", error="boom"
    )
    problem = problem_for(raised(error, ArchiveError("could not list")))
    assert problem is not None
    assert problem.what == "cannot reach AWS at https://s3.nowhere-1.amazonaws.com/"
    assert "AWS_REGION" in problem.fix


def test_a_lookup_that_failed_for_an_unknown_reason_still_names_the_setting() -> None:
    error = raised(ValueError("odd"), LookupFailed("FWCOST_ROUTING_PARAMETER", "parameter", "/r"))
    problem = problem_for(error)
    assert problem is not None
    assert problem.sentence == (
        "FWCOST_ROUTING_PARAMETER: could not read parameter '/r': ValueError: odd."
        " Check the parameter's name, its region (AWS_REGION) and who may read it"
    )


def test_query_errors_are_one_line_each_a_failed_query_a_failed_run() -> None:
    from fwcost.queries import QueryError, QueryFailed

    assert problem_for(QueryError("no query named 'x'")) == Problem(
        "no query named 'x'", exit_code=ExitCode.BAD_SETTINGS
    )
    assert problem_for(QueryFailed("Athena query x failed")) == Problem("Athena query x failed")
    refused = problem_for(
        client_error(
            "InvalidRequestException", "WorkGroup nope is not found.", "StartQueryExecution"
        )
    )
    assert refused is not None and refused.exit_code is ExitCode.BAD_SETTINGS
    assert refused.sentence == (
        "Athena refused the query: WorkGroup nope is not found. Check FWCOST_ATHENA_WORKGROUP"
        " and FWCOST_ATHENA_DATABASE against the stack's outputs AthenaWorkGroup and AthenaTable"
    )


def test_an_unknown_error_or_aws_code_is_left_to_the_caller() -> None:
    assert problem_for(KeyError("x")) is None
    assert problem_for(client_error("ThrottlingException", "slow down")) is None


def test_an_error_raised_from_none_hides_what_it_was_raised_during() -> None:
    # `from None` is how senders keep a URL-quoting cause out of sight: it is not looked into
    def hide() -> None:
        try:
            raise NoRegionError()
        except NoRegionError:
            raise KeyError("hidden") from None

    with pytest.raises(KeyError) as caught:
        hide()
    assert problem_for(caught.value) is None
