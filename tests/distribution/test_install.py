"""`pip install .` into a fresh venv, as a user (or pipx) does: a working `fwcost`, no dev set."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return done.stdout + done.stderr


def test_a_fresh_venv_with_pip_install_runs_fwcost_version_and_demo(
    project: Path, tmp_path: Path
) -> None:
    # Given a fresh venv and the project installed into it from PyPI, without the dev group
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    installed = run([str(venv / "bin" / "python"), "-m", "pip", "install", str(project)], tmp_path)
    # Outside this worktree and its sources: no PYTHONPATH, no AWS or Powertools variables
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    fwcost = str(venv / "bin" / "fwcost")

    # When its console script is asked for its version and runs the demo
    version = run([fwcost, "--version"], cwd=tmp_path, env=env)
    out = tmp_path / "demo"
    demo = run([fwcost, "demo", "--out", str(out), "--date", "2026-11-21"], cwd=tmp_path, env=env)

    # Then the version is the project's, and the reports were rendered from the packaged templates
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert version.strip() == f"fwcost {pyproject['project']['version']}"
    assert "Report day 2026-11-21" in demo
    for name in ("report.html", "report.txt", "slack.json"):
        assert (out / name).stat().st_size > 0, name
    assert list(out.glob("teams/*/report.html")), "no team reports"
    assert list(out.glob("outbox/*/*.eml")), "nothing delivered to the demo's outbox"
    # And the dev group stayed out, and the build had nothing to say about our metadata
    assert "pytest" not in run([str(venv / "bin" / "python"), "-m", "pip", "list"], tmp_path)
    complaints = [
        line
        for line in installed.splitlines()
        if "warning" in line.lower() and ("fwcost" in line or "project" in line.lower())
    ]
    assert not complaints, complaints
