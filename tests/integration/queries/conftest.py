"""A demo archive to query: the real demo (simulator, pipeline, archive), run once per session."""

from __future__ import annotations

import pytest
from demo_archive import REPORT_DAY, DemoArchive

from fwcost.cli import main


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoArchive:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--date", REPORT_DAY.isoformat()], {}) == 0
    return DemoArchive(out)
