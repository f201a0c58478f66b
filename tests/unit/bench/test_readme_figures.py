"""The README's performance table is the one `make bench` last wrote, row for row."""

import json
from pathlib import Path

from bench.report import targets_table

REPO = Path(__file__).resolve().parents[3]


def test_readme_states_every_target_with_the_latest_measured_figure() -> None:
    latest = json.loads((REPO / "bench" / "results" / "latest.json").read_text())
    readme = (REPO / "README.md").read_text()
    table = targets_table(latest)[2:]  # header, rule and one row per target

    missing = [row for row in table if row not in readme]

    assert len(table) == 10
    assert missing == [], "README's performance table is stale: copy it from latest.md"
