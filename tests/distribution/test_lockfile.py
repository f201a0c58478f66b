"""uv.lock is the one lock file: pyproject.toml agrees with it, and the Lambda layer's
requirements.txt is exactly what `make lock` exports from it. Offline: uv reads the lock only."""

from __future__ import annotations

import subprocess
import tomllib
from importlib.metadata import metadata

from layers.fwcost.export_requirements import REQUIREMENTS, layer_requirements
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from uv import find_uv_bin

from .conftest import REPO_ROOT

FIX = "run `make lock` and commit uv.lock and layers/fwcost/requirements.txt"


def pinned_versions(requirements: str) -> dict[str, str]:
    """name -> version of each `name==version` line."""
    pins = {}
    for line in requirements.splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip()] = version.strip()
    return pins


def test_the_lock_agrees_with_pyproject() -> None:
    done = subprocess.run(
        [find_uv_bin(), "lock", "--check", "--offline"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, f"uv.lock is behind pyproject.toml: {FIX}\n{done.stderr}"


def test_every_extra_we_ask_for_exists() -> None:
    # An unknown extra installs nothing and only warns (moto has `ses`, no `sesv2`).
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    wanted = [*project["project"]["dependencies"], *project["dependency-groups"]["dev"]]

    unknown = []
    for requirement in map(Requirement, wanted):
        provided = metadata(requirement.name).get_all("Provides-Extra") or []
        known = {canonicalize_name(extra) for extra in provided}
        unknown += [
            f"{requirement.name}[{extra}]"
            for extra in requirement.extras
            if canonicalize_name(extra) not in known
        ]

    assert not unknown, f"no such extras: {unknown}"


def test_the_layer_requirements_are_the_locks_runtime_closure() -> None:
    expected = layer_requirements(find_uv_bin())
    actual = REQUIREMENTS.read_text()

    want, have = pinned_versions(expected), pinned_versions(actual)
    drift = [
        f"  {name}: {have.get(name, 'absent')} in the layer, {want.get(name, 'absent')} in uv.lock"
        for name in sorted(want.keys() | have.keys())
        if want.get(name) != have.get(name)
    ]
    assert not drift, f"{REQUIREMENTS.name} drifts from uv.lock ({FIX}):\n" + "\n".join(drift)
    assert actual == expected, f"{REQUIREMENTS.name}'s comments differ from the export's: {FIX}"
