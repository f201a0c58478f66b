"""The check report: exit status, summary, the terminal rendering and the JSON for Lambda."""

from __future__ import annotations

import pytest

from fwcost.check import CheckReport, CheckResult, Section, Status, render_report
from fwcost.check.model import degraded, failed, passed, skipped


def report(*results: CheckResult, bad_settings: bool = False) -> CheckReport:
    return CheckReport(
        "fwcost check · account acme-ai",
        (Section("Fireworks", "https://x", results),),
        bad_settings,
    )


@pytest.mark.parametrize(
    ("results", "bad_settings", "status", "summary"),
    [
        ((passed("a", "ok"), skipped("b", "n/a")), False, 0, "All 2 checks passed (1 skipped). Exit status 0."),
        ((passed("a", "ok"), degraded("b", "worse", "fix")), False, 1, "1 check degrades the report. Exit status 1."),
        ((failed("a", "no", "fix"), failed("b", "no", "fix"), degraded("c", "worse", "fix")), False, 1,
         "2 checks failed, 1 degrades the report. Exit status 1."),
        ((failed("settings", "bad", "fix"), failed("b", "no", "fix")), True, 2,
         "2 checks failed (the settings are invalid). Exit status 2."),
    ],
)  # fmt: skip
def test_exit_status_and_summary(
    results: tuple[CheckResult, ...], bad_settings: bool, status: int, summary: str
) -> None:
    checked = report(*results, bad_settings=bad_settings)

    assert checked.exit_status == status
    assert checked.summary() == summary
    assert checked.as_dict()["ok"] is (status == 0)


def test_one_line_per_check_with_its_fix_below_and_long_details_wrapped() -> None:
    text = render_report(
        report(
            passed("API key", "authenticates (key …Qa7f)"),
            skipped("account", "not judged"),
            failed("usageCosts:query", "403: denied\nper-key dollars estimated " + "x " * 60, "use an admin key"),
        )
    )  # fmt: skip

    lines = text.splitlines()
    assert lines[:3] == ["fwcost check · account acme-ai", "", "Fireworks (https://x)"]
    assert lines[3] == "  ✓ API key             authenticates (key …Qa7f)"
    assert lines[4] == "  – account             not judged"
    assert lines[5] == "  ✗ usageCosts:query    403: denied"
    assert lines[6].startswith(" " * 24 + "per-key dollars estimated x")
    assert all(len(line) <= 100 for line in lines)
    assert lines[-3] == " " * 24 + "→ Fix: use an admin key"
    assert lines[-1] == "1 check failed (1 skipped). Exit status 1."


def test_as_dict_carries_every_result() -> None:
    document = report(passed("a", "ok"), degraded("b", "worse", "do this")).as_dict()

    assert document["counts"] == {"passed": 1, "degraded": 1, "failed": 0, "skipped": 0}
    [section] = document["sections"]
    assert section["checks"][1] == {
        "name": "b",
        "status": "degraded",
        "detail": "worse",
        "fix": "do this",
    }


def test_masked_replaces_every_text() -> None:
    secret = "xoxb-secret-token"
    checked = CheckReport(
        f"heading {secret}",
        (Section("Slack", secret, (CheckResult(secret, Status.FAILED, secret, secret),)),),
        hints=(secret,),
    )

    masked = checked.masked(lambda text: text.replace(secret, "***"))

    assert secret not in render_report(masked) + str(masked.as_dict())
