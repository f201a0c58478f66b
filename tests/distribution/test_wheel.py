"""The wheel carries what fwcost reads at run time besides its modules."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import REPO_ROOT


def test_the_wheel_ships_the_templates_price_book_and_routing_example(
    project: Path, tmp_path: Path
) -> None:
    # Given a clean copy of the project, built offline with the dev set's pip and setuptools
    dist = tmp_path / "dist"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--wheel-dir", str(dist), str(project)]

    # When pip builds the wheel
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    # Then the repository's top-level templates are package data, beside the other data files
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = dist.glob("fwcost-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = (name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = archive.read(metadata_name).decode()
    templates = {f"fwcost/templates/{path.name}" for path in (REPO_ROOT / "templates").iterdir()}
    assert templates, "the repository has no report templates"
    assert templates <= names, f"missing from the wheel: {sorted(templates - names)}"
    data = {"fwcost/pricebook.toml", "fwcost/routing.example.json", "fwcost/py.typed"}
    assert data <= names, f"missing from the wheel: {sorted(data - names)}"
    # and the named queries `fwcost query` runs
    queries = {
        f"fwcost/queries/{path.name}" for path in (REPO_ROOT / "src/fwcost/queries").glob("*.sql")
    }
    assert queries and queries <= names, f"missing from the wheel: {sorted(queries - names)}"
    # And the metadata is current: an SPDX license, no deprecation warning from setuptools
    assert "License-Expression: Apache-2.0" in metadata
    assert "warning" not in (done.stdout + done.stderr).lower(), done.stdout + done.stderr
