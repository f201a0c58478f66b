"""Every daily email is valid HTML by the W3C Nu checker (vnu.jar): the demo's, overall and per
team, the edge days, a day of hostile names, and days Hypothesis makes up (random teams, keys,
projects and models with hostile names).

All emails go to one temporary folder and vnu checks them in a single run: the JVM's start-up is
most of its cost. `make validator` installs vnu.jar into .tools/ (and Java when missing); without
them the test skips and says why.
"""

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from report_emails import (
    DEMO_DAY,
    HOSTILE_NAMES,
    KeySpec,
    demo_summary,
    edge_emails,
    emails_of,
    hostile_summary,
    period_emails,
    summary_of,
)

VNU_JAR = Path(__file__).resolve().parents[3] / ".tools/node_modules/vnu-jar/build/dist/vnu.jar"
GENERATED_DAYS = 6
# A short run: the quick JIT alone halves vnu's CPU time; its schema needs the larger stack.
JAVA_OPTIONS = ("-Xss4m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="java not installed (make validator)"),
    pytest.mark.skipif(not VNU_JAR.is_file(), reason=f"no {VNU_JAR} (make validator)"),
]

# Names as a billing export may carry them: any printable text, and the known troublemakers.
# Control characters and unassigned code points are left out: HTML forbids them, and cleaning
# them belongs where the data comes in, not in the template.
names = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(st.characters(exclude_categories=("Cc", "Cs", "Cn")), min_size=1, max_size=40),
)
key_specs = st.builds(
    KeySpec,
    key_name=names,
    team=st.one_of(st.just(""), names),
    project=st.one_of(st.just(""), names),
    environment=st.sampled_from(["prod", "staging", "", "<dev>"]),
    model=st.one_of(st.sampled_from(["kimi-k2p6", "gpt-oss-120b"]), names),
    prompt_tokens=st.integers(0, 50_000_000),
)


def generated_emails() -> dict[str, str]:
    """GENERATED_DAYS days from Hypothesis, each with up to a week of history; reproducible."""
    emails: dict[str, str] = {}

    @settings(
        max_examples=GENERATED_DAYS,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        specs=st.lists(key_specs, min_size=1, max_size=8),
        history_days=st.integers(0, 7),
        bill=st.booleans(),
    )
    def collect(specs: list[KeySpec], history_days: int, bill: bool) -> None:
        days = [DEMO_DAY - timedelta(days=n) for n in range(history_days, -1, -1)]
        summary = summary_of(dict.fromkeys(days, specs), DEMO_DAY, bill=bill)
        emails.update(emails_of(summary, f"generated {len(emails)}", teams=2))

    collect()
    return emails


def rollup_emails() -> dict[str, str]:
    """The roll-up across accounts: hostile account and team names, a failed account."""
    from decimal import Decimal

    from fwcost.report.attribution import AttributedDay
    from fwcost.report.groups import Amount, TeamGroups
    from fwcost.report.rollup import AccountLine, build_rollup, render_rollup_html

    def day_of(teams: list[str]) -> AttributedDay:
        groups = {team: TeamGroups(amount=Amount(Decimal(n + 1), (n + 1) * 100))
                  for n, team in enumerate(teams)}  # fmt: skip
        cents = sum(g.amount.cents for g in groups.values())
        return AttributedDay(DEMO_DAY, groups, {"Embeddings": Amount(Decimal(1), 100)},
                             Decimal(cents + 100) / 100, cents + 100, None, Decimal(0), 0,
                             "allocation")  # fmt: skip

    lines = [
        AccountLine("prod", HOSTILE_NAMES[0], day_of(["search", "", *HOSTILE_NAMES[:6]])),
        AccountLine("labs", "Labs", day_of(["search", *HOSTILE_NAMES[3:9]])),
        AccountLine("qa", HOSTILE_NAMES[1], None, "Fireworks refused the API key <401> & more"),
    ]
    rollup = build_rollup(DEMO_DAY, "UTC", lines, "s3://bucket/fireworks/account=_rollup")
    return {"roll-up": render_rollup_html(rollup)}


def all_emails() -> dict[str, str]:
    return {
        **emails_of(demo_summary(), "demo"),
        **edge_emails(),
        **emails_of(hostile_summary(), "hostile"),
        **generated_emails(),
        **period_emails(),
        **rollup_emails(),
    }


def vnu_errors(folder: Path) -> list[dict[str, object]]:
    files = sorted(str(path) for path in folder.glob("*.html"))
    done = subprocess.run(
        ["java", *JAVA_OPTIONS, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: it found errors
    report = done.stderr.strip().splitlines()[-1]  # after any line the JVM itself prints
    messages: list[dict[str, object]] = json.loads(report)["messages"]
    return messages


# The defect every email had before: no cell begins in a table's second column. Checked in the
# same run, to prove the checker ran and reports what it finds.
KNOWN_BAD = (
    "<!doctype html><html lang=en><head><title>x</title></head><body>"
    "<table><tr><td colspan=2>a</td></tr><tr><td colspan=2>b</td></tr></table></body></html>"
)


def test_every_email_is_valid_html(tmp_path):
    emails = all_emails()
    assert len(emails) > 25
    names_by_file = {"known-bad.html": "known bad"}
    (tmp_path / "known-bad.html").write_text(KNOWN_BAD)
    for n, (name, page) in enumerate(emails.items()):
        path = tmp_path / f"email-{n:03d}.html"
        path.write_text(page)
        names_by_file[path.name] = name
    found = [
        (names_by_file[str(e["url"]).rsplit("/", 1)[-1]], e.get("lastLine", "?"), e["message"])
        for e in vnu_errors(tmp_path)
    ]
    assert any(name == "known bad" and "no cells beginning" in msg for name, _, msg in found)
    report = [f"{name}, line {line}: {msg}" for name, line, msg in found if name != "known bad"]
    assert not report, f"{len(report)} error(s); the emails are in {tmp_path}:\n" + "\n".join(
        report
    )
