"""FWCOST_ACCOUNTS: several accounts in one deployment, the default one unchanged."""

import json

import pytest

from fwcost.config import (
    ROLLUP_ACCOUNT_ID,
    ConfigError,
    InvalidSettings,
    accounts_setting,
    load_settings,
)

BASE = {"FWCOST_ACCOUNT_ID": "prod", "FWCOST_API_KEY": "fw_prod", "FWCOST_ARCHIVE_DIR": "/tmp/a"}


def with_accounts(entries, **env):
    return load_settings({**BASE, "FWCOST_ACCOUNTS": json.dumps(entries), **env})


def test_without_the_setting_the_one_account_is_the_default_with_its_own_key():
    settings = load_settings(BASE)

    assert [a.id for a in settings.accounts] == ["prod"]
    assert settings.accounts[0].api_key == "fw_prod"
    assert settings.for_account("prod") == settings


def test_listed_accounts_follow_the_default_each_with_its_key_and_name():
    settings = with_accounts(
        [
            {"id": "prod", "name": "Production"},
            {"id": "staging", "name": "Staging", "api_key_secret": "fwcost/staging"},
            {"id": "accounts/research", "api_key_env": "RESEARCH_KEY"},
        ],
        RESEARCH_KEY="fw_research",
    )

    assert [(a.id, a.label) for a in settings.accounts] == [
        ("prod", "Production"),
        ("staging", "Staging"),
        ("research", "research"),
    ]
    staging = settings.for_account("staging")
    assert (staging.account_id, staging.api_key, staging.api_key_secret) == (
        "staging",
        None,
        "fwcost/staging",
    )
    assert settings.for_account("research").api_key == "fw_research"
    assert settings.for_account("prod").api_key == "fw_prod"
    assert "fw_research" not in repr(settings.accounts)


@pytest.mark.parametrize(
    ("entries", "env", "message"),
    [
        ([{"id": "staging"}], {}, "'staging': give exactly one of api_key_secret and api_key_env"),
        (
            [{"id": "staging", "api_key_secret": "s", "api_key_env": "K"}],
            {"K": "k"},
            "exactly one of",
        ),
        ([{"id": "staging", "api_key_env": "NOT_SET"}], {}, "NOT_SET is not set"),
        ([{"id": "prod", "api_key_secret": "s"}], {}, "the default account's key is FWCOST_API"),
    ],
)
def test_each_account_needs_one_key_source(entries, env, message):
    with pytest.raises(InvalidSettings, match=message) as raised:
        with_accounts(entries, **env)
    assert raised.value.problems[0].names == ("FWCOST_ACCOUNTS",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ('{"id": "a"}', "expected a list of accounts"),
        ('[{"id": "a", "api_key_secret": "s", "key": 1}]', "unknown key 'key'"),
        ('[{"id": "Bad_Id", "api_key_secret": "s"}]', "is not an account id"),
        ('[{"id": "a", "api_key_env": "has space"}]', "not an environment variable name"),
        ('[{"id": "a", "api_key_secret": "s"}, {"id": "a", "api_key_secret": "t"}]', "twice"),
    ],
)
def test_a_malformed_list_is_refused_naming_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        accounts_setting(text)


def test_the_roll_up_s_ledger_identity_can_never_be_a_fireworks_account():
    with pytest.raises(ValueError, match="not an account id"):
        accounts_setting(json.dumps([{"id": ROLLUP_ACCOUNT_ID, "api_key_secret": "s"}]))
    with pytest.raises(InvalidSettings, match="FWCOST_ACCOUNT_ID"):
        load_settings({**BASE, "FWCOST_ACCOUNT_ID": ROLLUP_ACCOUNT_ID})


def test_an_account_not_configured_is_refused_naming_those_that_are():
    with pytest.raises(ConfigError, match=r"no account 'qa' is configured \(accounts: prod\)"):
        load_settings(BASE).for_account("qa")
