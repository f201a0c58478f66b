"""`fwcost check`: every section in turn, from the same settings and wiring as a run."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fwcost.check.archive import check_archive
from fwcost.check.email import check_email
from fwcost.check.fireworks import check_fireworks
from fwcost.check.model import CheckFailed, CheckReport, Section, failed
from fwcost.check.render import render_report
from fwcost.check.send_test import send_tests
from fwcost.check.settings import LoadedSettings, check_settings
from fwcost.check.slack import check_slack
from fwcost.delivery.masking import SecretMasker

SEND_TEST_HINT = (
    '(--send-test, or {"check": true, "send_test": true} in Lambda, sends one message marked '
    "TEST to every destination; nothing is recorded in the ledger.)"
)


def run_check(
    env: Mapping[str, str],
    overrides: Mapping[str, str | None] | None = None,
    *,
    run_id: str,
    send_test: bool = False,
    now: datetime | None = None,
    boto_session: Any = None,
) -> CheckReport:
    """Check what a run would use; the report never holds a secret (every one found is masked)."""
    now = now or datetime.now(UTC)
    # The key as given is masked too, even when it is invalid and never used.
    given_keys = (env.get("FWCOST_API_KEY"), (overrides or {}).get("FWCOST_API_KEY"))
    found_secrets = [key for key in given_keys if key]
    aws = _Aws(boto_session)
    # A probe key of its own even when Lambda retries with the same request id.
    probe_id = f"{run_id}-{secrets.token_hex(4)}"
    loaded = check_settings(env, overrides or {}, now)
    sections: list[Section | None] = [
        loaded.section,
        _guarded("Fireworks", lambda: check_fireworks(loaded, now, found_secrets.append)),
        _guarded("Archive", lambda: check_archive(loaded, aws.s3, probe_id)),
        _guarded("Email", lambda: check_email(loaded, aws.sesv2, aws.region)),
        _guarded("Slack", lambda: check_slack(loaded, found_secrets.append)),
    ]
    if send_test:
        sections.append(
            _guarded("Test messages", lambda: send_tests(loaded, aws.session(), run_id, now))
        )
    has_destinations = loaded.routing is not None and bool(
        loaded.routing.overall.destinations or loaded.routing.teams
    )
    report = CheckReport(
        heading=_heading(loaded),
        sections=tuple(section for section in sections if section is not None),
        bad_settings=loaded.bad,
        sent_test=send_test,
        hints=(SEND_TEST_HINT,) if has_destinations and not send_test else (),
    )
    return report.masked(SecretMasker(found_secrets).mask)


def raise_if_failed(report: CheckReport) -> None:
    """For Lambda: an invocation whose check failed must end in an error, like exit status 1."""
    if report.exit_status:
        raise CheckFailed(render_report(report))


def _heading(loaded: LoadedSettings) -> str:
    settings = loaded.settings
    if settings is None:
        return f"fwcost check · {loaded.source}"
    account = (
        "account unset"
        if "FWCOST_ACCOUNT_ID" in loaded.broken
        else f"account {settings.account_id}"
    )
    return f"fwcost check · {account} · {settings.timezone.key} · {loaded.source}"


def _guarded(title: str, check: Callable[[], Section | None]) -> Section | None:
    """A section whose check broke (a bug, or an endpoint that answers nothing usable) shows as
    one failed line instead of a traceback, and the other sections still run."""
    try:
        return check()
    except Exception as error:  # the report says it failed: exit 1, never a green check
        return Section(
            title,
            "",
            (
                failed(
                    "check",
                    f"could not be checked: {type(error).__name__}: {error}",
                    "a bug in fwcost check, or an endpoint that is not what it should be: "
                    "report this line",
                ),
            ),
        )


class _Aws:
    """boto3 made on first use: a check with a folder archive and no email needs no AWS."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session()
        return self._session

    def s3(self) -> Any:
        return self.session().client("s3")

    def sesv2(self) -> Any:
        return self.session().client("sesv2")

    def region(self) -> str:
        return str(self.session().region_name)
