"""template.yaml's function environment and the code's settings table must agree.

The table (fwcost.config.SETTINGS) is the one source of each setting's name, parser, default and
help; the template may set only settings the code reads, never local-only ones, and a template
parameter that feeds a setting defaults to the setting's own default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str

from fwcost.config import SETTINGS, SETTINGS_BY_NAME, Scope, default_value

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    parsed, errors = decode_str(TEMPLATE_PATH.read_text())
    assert not errors, errors
    return json.loads(json.dumps(parsed))


def function_environment(template: dict[str, Any]) -> dict[str, Any]:
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            variables.update(resource["Properties"].get("Environment", {}).get("Variables", {}))
    return {name: value for name, value in variables.items() if name.startswith("FWCOST_")}


def test_the_template_sets_only_settings_the_code_reads(template):
    unknown = set(function_environment(template)) - set(SETTINGS_BY_NAME)
    assert not unknown, f"template.yaml sets variables fwcost does not read: {sorted(unknown)}"


def test_the_template_sets_no_local_only_setting(template):
    local = {s.name for s in SETTINGS if s.scope is Scope.LOCAL}
    assert not local & set(function_environment(template))


def test_the_template_sets_every_lambda_setting(template):
    needed = {s.name for s in SETTINGS if s.scope is Scope.LAMBDA}
    assert needed <= set(function_environment(template))


def test_a_parameter_feeding_a_setting_defaults_to_the_settings_default(template):
    parameters = template["Parameters"]
    checked = 0
    for name, value in function_environment(template).items():
        reference = value.get("Ref") if isinstance(value, dict) else None
        if reference not in parameters or "Default" not in parameters[reference]:
            continue
        default = str(parameters[reference]["Default"])
        if default == "":  # an empty parameter leaves the setting unset: the code's default holds
            continue
        setting = SETTINGS_BY_NAME[name]
        if setting.default is not None:
            assert setting.parse(default) == default_value(name), (reference, name)
            checked += 1
    assert checked >= 3  # the timezone, the archive prefix and the Fireworks base URL at least
