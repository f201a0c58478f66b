"""A clean copy of the project, as a user's clone holds it and as the layer's Makefile copies it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# What building fwcost reads; layers/fwcost/Makefile copies the same set.
BUILD_INPUTS = ("pyproject.toml", "README.md", "src", "templates")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Built from a copy: an in-tree build would leave build/ and *.egg-info in the worktree."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in BUILD_INPUTS:
        source = REPO_ROOT / name
        if source.is_dir():
            # symlinks=True keeps src/fwcost/templates a link to the copy's own templates/.
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(source, copy / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)
    return copy
