"""Cold start: `python -X importtime` of the Lambda handler module next to boto3 alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

from bench.measure import REPO_ROOT

HANDLER_DIR = REPO_ROOT / "functions" / "daily_report"
LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


@dataclass(frozen=True, slots=True)
class ImportTime:
    module: str
    seconds: float  # cumulative, best of the runs
    heaviest: list[tuple[str, float]]  # the slowest direct imports of that best run


def import_time(module: str, repeat: int) -> ImportTime:
    """The best of `repeat` fresh interpreters importing `module` (cumulative, as importtime says)."""
    runs = [_one_run(module) for _ in range(repeat)]
    return min(runs, key=lambda run: run.seconds)


def _one_run(module: str) -> ImportTime:
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "src"), str(HANDLER_DIR)]),
        "PYTHONDONTWRITEBYTECODE": "",
    }
    finished = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=HANDLER_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_importtime(finished.stderr, module)


def parse_importtime(report: str, module: str) -> ImportTime:
    """Read `-X importtime` output: the module's cumulative time and its heaviest direct imports.

    Children are printed before their parent, one indent level deeper, so the lines between the
    previous top-level line and `module`'s own line at depth 1 are its direct imports.
    """
    entries = []
    for line in report.splitlines():
        found = LINE.match(line)
        if found:
            cumulative, indent, name = int(found[2]), len(found[3]), found[4]
            entries.append((indent, name, cumulative / 1e6))
    for position, (indent, name, seconds) in enumerate(entries):
        if indent == 1 and name == module:
            children: list[tuple[str, float]] = []
            for child_indent, child, child_seconds in reversed(entries[:position]):
                if child_indent == 1:
                    break
                if child_indent == 3:
                    children.append((child, child_seconds))
            heaviest = sorted(children, key=lambda item: item[1], reverse=True)[:3]
            return ImportTime(module, seconds, heaviest)
    raise ValueError(f"-X importtime printed no top-level line for {module!r}")
