"""The archive probe when S3 misbehaves: faults injected with botocore's own event hooks on the
session the check uses (moto honours conditional writes and grants everything)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from check.conftest import REGION, Deployed
from fwcost.check import Status, run_check


def results(report: Any, section: str) -> dict[str, Any]:
    [found] = [s for s in report.sections if s.title == section]
    return {result.name: result for result in found.results}


def test_a_refused_read_fails_access_and_the_probe_is_still_removed(deployed: Deployed) -> None:
    # Given reads under the prefix are refused once the probe is written (the first GetObject
    # looks for the probe before it exists, and must find nothing)
    session = boto3.session.Session(region_name=REGION)
    reads: list[str] = []

    def refuse_second_read(params: dict[str, Any], **_: Any) -> Any:
        reads.append(params["url_path"])
        if len(reads) < 2:
            return None
        denied = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
        return AWSResponse("", 403, {}, None), denied

    session.events.register("before-call.s3.GetObject", refuse_second_read)

    # When the check runs
    report = run_check(deployed.env, run_id="test", boto_session=session)

    # Then access fails, naming the probe and the grant to fix, and the probe is gone anyway
    archive = results(report, "Archive")
    assert archive["access"].status is Status.FAILED
    assert (
        "cannot put or get s3://fwcost-check-archive/fireworks/_check/test-"
        in archive["access"].detail
    )
    assert "s3:GetObject" in archive["access"].fix
    assert "conditional writes" not in archive
    assert deployed.s3_keys() == []
    assert report.exit_status == 1


def test_a_store_that_ignores_if_none_match_fails_conditional_writes(deployed: Deployed) -> None:
    # Given a store that drops If-None-Match (as some S3-compatible stores do)
    session = boto3.session.Session(region_name=REGION)

    def drop_condition(params: dict[str, Any], **_: Any) -> None:
        params.pop("IfNoneMatch", None)

    session.events.register("provide-client-params.s3.PutObject", drop_condition)

    report = run_check(deployed.env, run_id="test", boto_session=session)

    conditional = results(report, "Archive")["conditional writes"]
    assert conditional.status is Status.FAILED
    assert "a second If-None-Match write succeeded" in conditional.detail
    assert "use an S3 bucket" in conditional.fix
    assert deployed.s3_keys() == []  # both versions the probe made are removed


def test_a_probe_that_cannot_be_removed_says_where_it_is(deployed: Deployed) -> None:
    session = boto3.session.Session(region_name=REGION)

    def refuse(**_: Any) -> Any:
        denied = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
        return AWSResponse("", 403, {}, None), denied

    session.events.register("before-call.s3.DeleteObject", refuse)

    report = run_check(deployed.env, run_id="test", boto_session=session)

    removal = results(report, "Archive")["probe removal"]
    assert removal.status is Status.FAILED
    assert "s3://fwcost-check-archive/fireworks/_check/test-" in removal.detail
    assert "is left behind: AccessDenied" in removal.detail
    assert "s3:DeleteObject" in removal.fix
    assert results(report, "Archive")["conditional writes"].status is Status.PASSED
