"""The README's settings table and the code's list of settings must not drift apart."""

import re
from pathlib import Path

from fwcost.config import SETTINGS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_settings_table_lists_every_setting_with_its_meaning_and_default():
    rows = re.findall(
        r"^\| `(FWCOST_[A-Z_]+)` \| (.+?) \| (.+?) \|$", README.read_text(), re.MULTILINE
    )
    assert {name: (meaning, default) for name, meaning, default in rows} == {
        s.name: (s.help, s.documented_default) for s in SETTINGS
    }


def test_the_readme_opens_with_the_demo_and_the_test_command():
    opening = README.read_text().split("```")[1]
    assert "make demo" in opening
    assert "make test" in opening


def test_the_reliability_section_states_what_the_fault_scenarios_imply():
    from faults.figures import intended_line
    from faults.scenarios import SCENARIOS

    text = README.read_text()
    # The line `pytest` prints when every scenario measures as it must
    assert f"```\n{intended_line(SCENARIOS)}\n```" in text
    # and one table row per scenario: its name, its fault, whether it must fail loudly
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (.+?) \| (yes|no) \| .+ \|$", text, re.MULTILINE)
    assert rows == [(s.name, s.injected, "yes" if s.expect_loud else "no") for s in SCENARIOS]
