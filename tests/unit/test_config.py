import re
from pathlib import Path

import pytest

from fwcost.config import ConfigError, load_settings

BASE = {
    "FWCOST_ACCOUNT_ID": "accounts/acme-ai",
    "FWCOST_API_KEY": "fw_test_key",
    "FWCOST_ARCHIVE_DIR": "/tmp/archive",
}


def test_minimal_settings_with_defaults():
    settings = load_settings(BASE)
    assert settings.account_id == "acme-ai"  # the accounts/ prefix is stripped
    assert settings.timezone.key == "UTC"
    assert settings.fireworks_base_url == "https://api.fireworks.ai"
    assert settings.archive_dir == Path("/tmp/archive")
    assert settings.archive_prefix == "fireworks"
    assert settings.top_n == 5


def test_flags_override_environment():
    settings = load_settings(BASE, {"FWCOST_TIMEZONE": "Europe/Berlin", "FWCOST_TOP_N": None})
    assert settings.timezone.key == "Europe/Berlin"


def test_every_error_is_reported_at_once_naming_its_setting():
    env = {
        "FWCOST_TIMEZONE": "Mars/Olympus",
        "FWCOST_FIREWORKS_BASE_URL": "ftp://x",
        "FWCOST_ARCHIVE_BUCKET": "s3://my-bucket",
        "FWCOST_TOP_N": "0",
        "FWCOST_PRICE_BOOK": "/nonexistent/prices.toml",
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    for expected in (
        "FWCOST_ACCOUNT_ID: required",
        "FWCOST_TIMEZONE: 'Mars/Olympus' is not an IANA timezone",
        "FWCOST_FIREWORKS_BASE_URL: 'ftp://x' is not an http(s) URL",
        "FWCOST_ARCHIVE_BUCKET: 's3://my-bucket' is not a bucket name",
        "FWCOST_TOP_N: must be at least 1, got 0",
        "FWCOST_PRICE_BOOK: no such file: /nonexistent/prices.toml",
        "FWCOST_API_KEY / FWCOST_API_KEY_SECRET: set exactly one",
    ):
        assert expected in message


def test_archive_needs_exactly_one_destination():
    with pytest.raises(ConfigError, match="FWCOST_ARCHIVE_BUCKET / FWCOST_ARCHIVE_DIR"):
        load_settings({**BASE, "FWCOST_ARCHIVE_BUCKET": "my-bucket"})


def test_bad_account_id_is_named():
    with pytest.raises(ConfigError, match="FWCOST_ACCOUNT_ID: 'Acme AI!'"):
        load_settings({**BASE, "FWCOST_ACCOUNT_ID": "Acme AI!"})


def test_repr_never_shows_the_api_key():
    assert "fw_test_key" not in repr(load_settings(BASE))


def test_budgets_and_anomaly_settings_are_validated():
    settings = load_settings(
        {**BASE, "FWCOST_BUDGETS": '{"account": 30000, "teams": {"search": "8000.50"}}',
         "FWCOST_ANOMALY_DOLLAR_FLOOR": "50"}
    )  # fmt: skip
    assert settings.budgets.account == 30000
    assert str(settings.budgets.teams["search"]) == "8000.50"
    assert settings.anomaly_dollar_floor == 50
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {**BASE, "FWCOST_BUDGETS": '{"teams": {"ads": -5}}', "FWCOST_ANOMALY_MIN_RATIO": "x"}
        )
    assert "FWCOST_BUDGETS: a budget must be a number above 0, got -5" in str(caught.value)
    assert "FWCOST_ANOMALY_MIN_RATIO: 'x' is not a number" in str(caught.value)


def test_window_days_stay_within_the_api_limit():
    assert load_settings({**BASE, "FWCOST_WINDOW_DAYS": "7"}).window_days == 7
    with pytest.raises(ConfigError, match="FWCOST_WINDOW_DAYS: must be at most 31"):
        load_settings({**BASE, "FWCOST_WINDOW_DAYS": "32"})


def test_every_settings_field_comes_from_exactly_one_setting():
    from dataclasses import fields

    from fwcost.config import SETTINGS, Settings

    declared = [s.field for s in SETTINGS]
    assert sorted(declared) == sorted(f.name for f in fields(Settings))
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)


def test_each_default_parses_with_its_own_parser():
    from fwcost.config import SETTINGS, default_value

    for setting in SETTINGS:
        if setting.default is not None:
            assert default_value(setting.name) is not None, setting.name


def test_an_empty_team_name_in_the_budgets_is_named():
    with pytest.raises(ConfigError, match='FWCOST_BUDGETS: a team name in "teams" is empty'):
        load_settings({**BASE, "FWCOST_BUDGETS": '{"teams": {"": 100}}'})


def test_settle_hours_and_team_report_cap_default_and_read():
    from datetime import timedelta

    defaults = load_settings(BASE)
    assert (defaults.settle, defaults.max_team_reports) == (timedelta(hours=1), 50)
    read = load_settings({**BASE, "FWCOST_SETTLE_HOURS": "0.5", "FWCOST_MAX_TEAM_REPORTS": "0"})
    assert (read.settle, read.max_team_reports) == (timedelta(minutes=30), 0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FWCOST_SETTLE_HOURS", "-1", "must be a number of hours from 0 to 24, got -1"),
        ("FWCOST_SETTLE_HOURS", "25", "must be a number of hours from 0 to 24, got 25"),
        ("FWCOST_SETTLE_HOURS", "NaN", "must be a number of hours from 0 to 24, got NaN"),
        ("FWCOST_SETTLE_HOURS", "an hour", "'an hour' is not a number of hours"),
        ("FWCOST_MAX_TEAM_REPORTS", "-3", "must be at least 0, got -3"),
        ("FWCOST_MAX_TEAM_REPORTS", "fifty", "'fifty' is not a whole number"),
    ],
)
def test_a_bad_settle_margin_or_cap_is_named(name, value, message):
    with pytest.raises(ConfigError, match=f"{name}: {message}"):
        load_settings({**BASE, name: value})


def test_links_default_to_the_console_and_presigned_ones_to_seven_days():
    from datetime import timedelta

    from fwcost.links import LinkStyle

    settings = load_settings(BASE)
    assert settings.links is LinkStyle.CONSOLE
    assert settings.link_expiry == timedelta(days=7)
    chosen = load_settings(BASE, {"FWCOST_LINKS": "Presigned", "FWCOST_LINK_EXPIRY_HOURS": "36"})
    assert chosen.links is LinkStyle.PRESIGNED
    assert chosen.link_expiry == timedelta(hours=36)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FWCOST_LINKS", "signed", "FWCOST_LINKS: 'signed' is not one of console, presigned, none"),
        ("FWCOST_LINK_EXPIRY_HOURS", "169", "must be at most 168 hours (7 days"),
        ("FWCOST_LINK_EXPIRY_HOURS", "0", "must be at least 1"),
    ],
)
def test_a_bad_link_setting_is_named(name, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings({**BASE, name: value})


def test_the_archive_prefix_may_not_be_where_exports_are_dropped():
    from fwcost.config import InvalidSettings, load_settings

    base = {"FWCOST_ACCOUNT_ID": "acme", "FWCOST_API_KEY": "fw_x", "FWCOST_ARCHIVE_DIR": "/tmp/a"}
    for prefix in ("imports", "imports/fireworks", "/imports/"):
        with pytest.raises(
            InvalidSettings, match="FWCOST_ARCHIVE_PREFIX: must not start with 'imports/'"
        ):
            load_settings(base | {"FWCOST_ARCHIVE_PREFIX": prefix})
    assert (
        load_settings(base | {"FWCOST_ARCHIVE_PREFIX": "imports-old"}).archive_prefix
        == "imports-old"
    )
