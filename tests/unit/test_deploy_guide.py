"""docs/deploy.md's examples are what the code reads, and it names every template parameter."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from fwcost.delivery import load_routing, load_slack_secrets
from fwcost.wiring import api_key_from_secret

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "deploy.md").read_text()


def example(name: str) -> str:
    """The code block right after `<!-- checked: name -->` in the guide."""
    match = re.search(rf"<!-- checked: {name} -->\s*```\w*\n(.*?)```", GUIDE, re.DOTALL)
    assert match, f"docs/deploy.md has no example marked {name}"
    return match.group(1)


def test_the_api_key_secret_example_holds_a_key():
    assert api_key_from_secret(example("api-key-secret"), "fwcost/fireworks-api-key").startswith(
        "fw_"
    )


def test_the_routing_example_loads_and_names_only_keys_of_the_slack_secret_example():
    routing = load_routing(example("routing"), "docs/deploy.md")
    secrets = load_slack_secrets(example("slack-secret"), "docs/deploy.md")
    assert routing.secret_keys() <= secrets.keys()
    assert routing.email_senders()


def test_the_guide_names_every_template_parameter():
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)
    missing = [name for name in template["Parameters"] if f"`{name}`" not in GUIDE]
    assert not missing, f"docs/deploy.md does not mention the parameters {missing}"


def test_the_slack_manifest_asks_for_the_scopes_the_code_uses():
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-app-manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "channels:read", "groups:read"} <= scopes


def test_the_readme_links_the_guide_on_its_first_screen():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:15])
    assert "(docs/deploy.md)" in first_screen


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Ref, !Sub, ...) as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
