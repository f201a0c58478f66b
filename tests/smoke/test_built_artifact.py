"""Smoke test of what `sam build` produced: the built function and layer, nothing from src/.

`make test` runs `make build` first. The handler runs in a child process whose PYTHONPATH is the
built layer's python/ folder and the built function folder only, with the environment the
template sets (resources and secrets stood in by moto, the Fireworks API by the simulator).

One exception, and why: the layer holds two compiled packages, numpy and orjson, as aarch64
wheels for CPython 3.13 (Lambda's arm64), which cannot load on the x86_64 machines running this
test. So the layer is checked to hold them for that platform at the pinned versions, and the
child processes import, in their place and in front of the layer, the same packages built for
this machine: the layer's exact pins when the child runs CPython 3.13 (installed by pip from the
package index into a temporary folder), else the test venv's copies (uv.lock's versions for its
Python). Everything else the children import is the layer's own copy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cfnlint.decode import decode_str
from layers.fwcost.export_requirements import COMPILED, REQUIREMENTS

from fwcost.dates import yesterday

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
SMOKE_DIR = Path(__file__).resolve().parent
RUNNER = SMOKE_DIR / "run_built_handler.py"
IMPORT_CLOSURE = SMOKE_DIR / "import_closure.py"
# What the Lambda Python runtime provides next to the layer: boto3 and its own dependencies.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")

# Stand-ins for what the template's parameters and resources resolve to once deployed.
PARAMETER_VALUES = {
    "FireworksAccountId": "acme-ai",  # the simulator's account
    "FireworksApiKeySecretArn": "fwcost-smoke/fireworks-api-key",
    "SlackSecretArn": "fwcost-smoke/slack",
    "EmailFromAddress": "reports@example.com",
    "RoutingConfig": (SMOKE_DIR / "routing.json").read_text(),
}
SECRET_VALUES = {
    "FireworksApiKeySecretArn": "fw_sim_admin_key",  # the simulator's admin key
    "SlackSecretArn": "{}",
}
RESOURCE_VALUES = {
    "ArchiveBucket": "fwcost-smoke-archive",
    "RoutingParameter": "/fwcost/smoke/routing",
}
# Outside Lambda there is no X-Ray daemon to send segments to.
SMOKE_ONLY_ENV = {"POWERTOOLS_TRACE_DISABLED": "true"}

pytestmark = pytest.mark.slow

Template = dict[str, Any]


@dataclass(frozen=True)
class BuiltArtifact:
    template: Template
    function: Template
    function_dir: Path
    layer_python: Path


@pytest.fixture(scope="module")
def built() -> BuiltArtifact:
    built_template = BUILD_DIR / "template.yaml"
    if not built_template.exists():
        pytest.skip(f"{built_template} is missing: run `make build` first (`make test` does)")
    parsed, errors = decode_str(built_template.read_text())
    assert not errors, errors
    template = json.loads(json.dumps(parsed))
    function = template["Resources"]["DailyReportFunction"]
    (layer_ref,) = template["Globals"]["Function"]["Layers"]
    layer = template["Resources"][layer_ref["Ref"]]
    return BuiltArtifact(
        template=template,
        function=function,
        function_dir=BUILD_DIR / function["Properties"]["CodeUri"],
        layer_python=BUILD_DIR / layer["Properties"]["ContentUri"] / "python",
    )


def when_given(value: Any) -> Any:
    """An entry that exists only when an optional parameter is given (Fn::If [condition, entry,
    AWS::NoValue]), as it is here: the stand-ins give every optional parameter."""
    if isinstance(value, dict) and "Fn::If" in value:
        return value["Fn::If"][1]
    return value


def resolve(template: Template, name: str, value: Any) -> str:
    """The value an environment entry takes, with deployed names replaced by stand-ins."""
    value = when_given(value)
    if isinstance(value, str):
        return value
    reference = value.get("Ref") if isinstance(value, dict) else None
    if reference in PARAMETER_VALUES:
        return PARAMETER_VALUES[reference]
    if reference in template["Parameters"] and "Default" in template["Parameters"][reference]:
        return str(template["Parameters"][reference]["Default"])
    if reference in RESOURCE_VALUES:
        return RESOURCE_VALUES[reference]
    raise AssertionError(f"no smoke-test value for {name} = {value}; add one to this test")


def function_environment(built: BuiltArtifact) -> dict[str, str]:
    variables = {
        **built.template["Globals"]["Function"]["Environment"]["Variables"],
        **built.function["Properties"].get("Environment", {}).get("Variables", {}),
    }
    return {name: resolve(built.template, name, value) for name, value in variables.items()}


def secrets_by_environment_name(built: BuiltArtifact) -> dict[str, dict[str, str]]:
    variables = built.template["Globals"]["Function"]["Environment"]["Variables"]
    references = {name: when_given(value) for name, value in variables.items()}
    return {
        name: {"name": PARAMETER_VALUES[value["Ref"]], "value": SECRET_VALUES[value["Ref"]]}
        for name, value in references.items()
        if isinstance(value, dict) and value.get("Ref") in SECRET_VALUES
    }


def lambda_python() -> str:
    """The Lambda runtime's Python (3.13, from pyenv like `make build`) if present, else ours."""
    return shutil.which("python3.13") or sys.executable


def layer_pins() -> dict[str, str]:
    """Package -> version, as the layer's requirements.txt pins them."""
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name] = version
    return pins


def python_version(python: str) -> str:
    completed = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        env={**os.environ, "PYENV_VERSION": "3.13.0"},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def host_compiled_folder(python: str, folder: Path) -> Path:
    """numpy and orjson built for this machine, for a child process run by `python`: the
    layer's pins for CPython 3.13 (from the package index), else the test venv's own copies."""
    folder.mkdir()
    if python_version(python) == "3.13":
        pins = layer_pins()
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--only-binary=:all:", "--python-version", "3.13",
             "--implementation", "cp", "--platform", "manylinux2014_x86_64",
             "--platform", "manylinux_2_28_x86_64", "--target", str(folder),
             *(f"{name}=={pins[name]}" for name in COMPILED)],
            check=True, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        return folder
    for name in COMPILED:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, f"{name} is not installed"
        (folder / name).symlink_to(Path(spec.origin).parent)
    return folder


def runtime_sdk_folder(tmp_path: Path) -> Path:
    """A folder holding only what the Lambda runtime provides, linked from the test venv."""
    folder = tmp_path / "runtime"
    folder.mkdir()
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        assert spec is not None, f"{name} is not installed"
        assert spec.origin is not None, f"{name} has no file"
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        (folder / source.name).symlink_to(source)
    return folder


def test_handler_and_all_of_fwcost_import_from_the_layer_and_runtime_sdk_alone(
    built: BuiltArtifact, tmp_path: Path
) -> None:
    # Given a process with no site-packages: the layer (its compiled packages built for this
    # machine), the function and the runtime's SDK only
    compiled = host_compiled_folder(lambda_python(), tmp_path / "compiled")
    search_path = [compiled, built.layer_python, built.function_dir, runtime_sdk_folder(tmp_path)]
    child_env = {
        "PATH": os.environ["PATH"],
        "PYENV_VERSION": "3.13.0",
        "PYTHONPATH": os.pathsep.join(str(folder) for folder in search_path),
        "PYTHONDONTWRITEBYTECODE": "1",
    }

    # When the handler and every fwcost module are imported
    completed = subprocess.run(
        [lambda_python(), "-S", str(IMPORT_CLOSURE)],
        env=child_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then nothing was missing, fwcost is the layer's copy and only numpy and orjson were not
    assert completed.returncode == 0, completed.stderr[-5000:]
    origins = json.loads(completed.stdout)["origins"]
    assert Path(origins["fwcost"]).is_relative_to(built.layer_python)
    for name in COMPILED:
        assert Path(origins[name]).is_relative_to(compiled), name


def test_layer_holds_the_compiled_packages_built_for_lambda_arm64_at_their_pins(
    built: BuiltArtifact,
) -> None:
    pins = layer_pins()
    for name in COMPILED:
        (dist_info,) = built.layer_python.glob(f"{name}-*.dist-info")
        assert dist_info.name == f"{name}-{pins[name]}.dist-info"
        extensions = [path.name for path in (built.layer_python / name).rglob("*.so")]
        assert extensions, f"{name} has no compiled extension in the layer"
        assert all("cpython-313-aarch64-linux-gnu" in ext for ext in extensions), extensions


def test_layer_ships_fwcost_with_its_templates_and_without_the_runtime_sdk(
    built: BuiltArtifact,
) -> None:
    package = built.layer_python / "fwcost"
    shipped = sorted(
        p.relative_to(package / "templates") for p in (package / "templates").rglob("*")
    )
    in_repo = sorted(
        p.relative_to(REPO_ROOT / "templates") for p in (REPO_ROOT / "templates").rglob("*")
    )

    assert (package / "__init__.py").is_file()
    assert shipped == in_repo
    assert shipped, "the repository has no report templates"
    for provided_by_runtime in ("boto3", "botocore", "s3transfer"):
        assert not (built.layer_python / provided_by_runtime).exists()
    assert not (built.function_dir / "fwcost").exists(), "fwcost must come from the layer only"
    assert (built.function_dir / "app.py").is_file()


def test_built_handler_archives_the_day_using_only_the_built_artifact(
    built: BuiltArtifact, tmp_path: Path
) -> None:
    # Given the sample schedule event and the environment the template sets
    event = json.loads((REPO_ROOT / "events" / "scheduled.json").read_text())
    env = function_environment(built)
    scheduled_time = datetime.fromisoformat(event["scheduled_time"].replace("Z", "+00:00"))
    expected_day = yesterday(scheduled_time, ZoneInfo(env["FWCOST_TIMEZONE"]))
    compiled = host_compiled_folder(sys.executable, tmp_path / "compiled")
    plan = {
        "layer_python": str(built.layer_python),
        "compiled": list(COMPILED),
        "compiled_folder": str(compiled),
        "function_dir": str(built.function_dir),
        "event": event,
        "expected_day": expected_day.isoformat(),
        "bucket": env["FWCOST_ARCHIVE_BUCKET"],
        "secrets": secrets_by_environment_name(built),
        "ssm_parameters": {env["FWCOST_ROUTING_PARAMETER"]: PARAMETER_VALUES["RoutingConfig"]},
        "ses_identities": [PARAMETER_VALUES["EmailFromAddress"]],
    }
    child_env = {
        **env,
        **SMOKE_ONLY_ENV,
        "PYTHONPATH": os.pathsep.join(
            [str(compiled), str(built.layer_python), str(built.function_dir)]
        ),
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        # No real AWS profile may leak in.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "PYTHONDONTWRITEBYTECODE": "1",
    }

    # When the built handler runs in a process that sees only the built artifact
    completed = subprocess.run(
        [sys.executable, str(RUNNER), json.dumps(plan)],
        env=child_env,
        cwd=SMOKE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    # Then it archived the day's manifest and used the layer's package and templates
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]


def test_layer_ships_bytecode_the_runtime_uses_without_checking_sources(
    built: BuiltArtifact,
) -> None:
    """/opt is read-only on Lambda: without bytecode in the layer, every cold start compiles the
    modules it imports from source. The zip's 2-second timestamps must not invalidate it, so it
    is hash-based and unchecked (PEP 552 flags 0b01)."""
    package = built.layer_python / "fwcost"
    modules = sorted(package.rglob("*.py"))
    assert modules
    for module in modules:
        compiled = module.parent / "__pycache__" / f"{module.stem}.cpython-313.pyc"
        assert compiled.is_file(), f"no CPython 3.13 bytecode for {module}"
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{compiled} is not unchecked-hash bytecode (flags {flags:#b})"
