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
