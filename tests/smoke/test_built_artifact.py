"""Smoke test of what `sam build` produced: the built function and layer, nothing from src/.

`make test` runs `make build` first. The handler runs in a child process whose PYTHONPATH is the
built layer's python/ folder and the built function folder only, with the environment the
template sets (resources and secrets stood in by moto, the Fireworks API by the simulator).
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
    # Given a process with no site-packages: the layer, the function and the runtime's SDK only
    search_path = [built.layer_python, built.function_dir, runtime_sdk_folder(tmp_path)]
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

    # Then nothing was missing, and fwcost is the layer's copy
    assert completed.returncode == 0, completed.stderr[-5000:]
    origins = json.loads(completed.stdout)["origins"]
    assert Path(origins["fwcost"]).is_relative_to(built.layer_python)


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
    built: BuiltArtifact,
) -> None:
    # Given the sample schedule event and the environment the template sets
    event = json.loads((REPO_ROOT / "events" / "scheduled.json").read_text())
    env = function_environment(built)
    scheduled_time = datetime.fromisoformat(event["scheduled_time"].replace("Z", "+00:00"))
    expected_day = yesterday(scheduled_time, ZoneInfo(env["FWCOST_TIMEZONE"]))
    plan = {
        "layer_python": str(built.layer_python),
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
        "PYTHONPATH": os.pathsep.join([str(built.layer_python), str(built.function_dir)]),
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
