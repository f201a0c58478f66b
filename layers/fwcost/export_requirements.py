"""Write the FwcostLayer's requirements.txt from uv.lock, the project's one lock file.

`make lock` runs this after `uv lock`; tests/unit/test_lockfile.py fails when the file drifts.
The layer is installed for one platform (Lambda: Linux, arm64, CPython 3.13), so the lock's
universal export is narrowed to it here: each environment marker is decided for that platform and
left out of the file, since pip would otherwise judge it on the build machine's Python.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

LAYER_DIR = Path(__file__).resolve().parent
REPO_ROOT = LAYER_DIR.parents[1]
REQUIREMENTS = LAYER_DIR / "requirements.txt"

# The Lambda Python runtime provides boto3 and its own dependencies; aws-xray-sdk's and
# Powertools' needs are met by those.
LAMBDA_RUNTIME_PROVIDES = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "python-dateutil",
    "six",
)
# The CLI's backfill progress bar: the function never imports it (nor its dependencies).
CLI_ONLY = ("tqdm",)
# Compiled for one platform: the smoke test swaps them for the host's build of the same pins.
COMPILED = ("numpy", "orjson")
LAMBDA_ENVIRONMENT = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
}

HEADER = """\
# Third-party runtime dependencies shipped in the FwcostLayer, pinned, full closure.
# Generated from uv.lock by `make lock` (layers/fwcost/export_requirements.py): do not edit.
# Installed with --no-deps for manylinux2014 / manylinux_2_28 aarch64, cp313 (the function's
# platform), so every transitive dependency is listed here on purpose.
# Left out on purpose: boto3, botocore, s3transfer, jmespath, urllib3, python-dateutil, six. The
# Lambda Python runtime provides them, and aws-xray-sdk's / Powertools' needs are met by those.
# Also tqdm (the CLI's progress bar), which the function never imports.
# Two packages are compiled: numpy and orjson (attribution's columns, JSON decoding). Their aarch64
# wheels import only on arm64, so the smoke test (tests/smoke/) checks they are in the layer for
# cp313 / aarch64 and imports the same pinned versions built for its own machine in their place.
# Every other package is pure Python or has a pure-Python fallback (markupsafe's _speedups,
# wrapt's _wrappers), so the layer's own copies of those import on any machine.
"""


def layer_requirements(uv: str) -> str:
    """The requirements.txt the layer should have, from uv.lock (offline, never re-resolved)."""
    skipped = [f"--no-emit-package={name}" for name in LAMBDA_RUNTIME_PROVIDES]
    pruned = [f"--prune={name}" for name in CLI_ONLY]
    command = [uv, "export", "--frozen", "--offline", "--no-dev", "--no-emit-project"]
    command += ["--no-hashes", "--no-header", "--no-annotate", *skipped, *pruned]
    exported = subprocess.run(  # noqa: S603 (our own fixed command)
        command, cwd=REPO_ROOT, check=True, capture_output=True, text=True
    ).stdout
    pins = [Requirement(line) for line in exported.splitlines() if line.strip()]
    lines = [
        f"{pin.name}{pin.specifier}"
        for pin in pins
        if pin.marker is None or pin.marker.evaluate(LAMBDA_ENVIRONMENT)
    ]
    return HEADER + "".join(f"{line}\n" for line in sorted(lines))


def main() -> None:
    from uv import find_uv_bin

    REQUIREMENTS.write_text(layer_requirements(find_uv_bin()))
    print(f"wrote {REQUIREMENTS.relative_to(REPO_ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
