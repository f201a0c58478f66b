"""Run the built Lambda handler against moto and the Fireworks simulator, in a clean process.

Started by test_built_artifact.py with PYTHONPATH set to the built layer's python/ folder and the
built function folder, ahead of the test virtualenv (which provides boto3 and moto), so fwcost and
its dependencies must come from what `sam build` produced; import_closure.py proves the layer
needs nothing from that virtualenv. Only the layer's compiled packages (numpy, orjson: aarch64)
come from a folder of builds for this machine, first on the path (test_built_artifact.py says why).
Takes one argument, a JSON plan (see test_built_artifact.py); exits non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LambdaContext:
    function_name: str = "fwcost-smoke-DailyReportFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:fwcost-smoke-DailyReportFunction"
    )
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/fwcost-smoke"
    log_stream_name: str = "smoke"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def top_level(module_name: str) -> str:
    return module_name.partition(".")[0]


def module_origin(module_name: str) -> Path | None:
    file = getattr(sys.modules.get(module_name), "__file__", None)
    return Path(file).resolve() if file else None


def record_template_loads() -> list[str]:
    """Remember the file behind every Jinja2 template the handler loads."""
    import jinja2

    loaded: list[str] = []
    for loader_class in (jinja2.FileSystemLoader, jinja2.PackageLoader):
        original = loader_class.get_source

        def get_source(self: Any, environment: Any, name: str, _original: Any = original) -> Any:
            source, filename, uptodate = _original(self, environment, name)
            loaded.append(filename)
            return source, filename, uptodate

        loader_class.get_source = get_source  # type: ignore[method-assign]
    return loaded


def create_aws_resources(plan: dict[str, Any]) -> None:
    import boto3

    boto3.client("s3").create_bucket(Bucket=plan["bucket"])
    secrets = boto3.client("secretsmanager")
    for env_name, secret in plan["secrets"].items():
        created = secrets.create_secret(Name=secret["name"], SecretString=secret["value"])
        os.environ[env_name] = created["ARN"]  # the template passes the full ARN
    ssm = boto3.client("ssm")
    for name, value in plan["ssm_parameters"].items():
        ssm.put_parameter(Name=name, Value=value, Type="String")
    ses = boto3.client("ses")
    for identity in plan["ses_identities"]:
        ses.verify_email_identity(EmailAddress=identity)


def archived_keys(bucket: str) -> list[str]:
    import boto3

    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def main() -> None:
    plan = json.loads(sys.argv[1])
    layer = Path(plan["layer_python"]).resolve()

    import app  # the built function's handler module

    template_loads = record_template_loads()

    from moto import mock_aws

    from fwcost.simulator import SimulatorConfig, run_simulator

    with mock_aws(), run_simulator(SimulatorConfig()) as simulator:
        create_aws_resources(plan)
        os.environ["FWCOST_FIREWORKS_BASE_URL"] = simulator.base_url
        result = app.lambda_handler(plan["event"], LambdaContext())
        keys = archived_keys(plan["bucket"])

    print(json.dumps({"result": result, "archived": keys}, default=str, indent=1))
    manifests = [
        key for key in keys if key.endswith("manifest.json") and f"dt={plan['expected_day']}" in key
    ]
    assert manifests, f"no manifest.json for {plan['expected_day']} in {keys}"

    import fwcost

    assert Path(fwcost.__file__).resolve().is_relative_to(layer), fwcost.__file__
    assert template_loads, "the handler rendered no Jinja2 template"
    outside = [name for name in template_loads if not Path(name).resolve().is_relative_to(layer)]
    assert not outside, f"templates loaded from outside the layer: {outside}"
    # The layer's compiled packages (aarch64) come from the folder built for this machine.
    compiled = set(plan["compiled"])
    compiled_folder = Path(plan["compiled_folder"])
    compiled_homes = [compiled_folder.resolve(), *(p.resolve() for p in compiled_folder.iterdir())]
    layer_packages = {path.name.removesuffix(".py") for path in layer.iterdir()}
    for name in list(sys.modules):
        origin = module_origin(name)
        if origin is None or top_level(name) not in layer_packages:
            continue
        homes = compiled_homes if top_level(name) in compiled else [layer]
        assert any(origin.is_relative_to(home) for home in homes), f"{name} came from {origin}"
    assert compiled <= {top_level(name) for name in sys.modules}, "attribution never ran"


if __name__ == "__main__":
    main()
