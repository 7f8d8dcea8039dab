"""Configuration: one place, typed, from the environment and .env, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

VARIABLES = (
    "DATABASE_URL",
    "HOEDAN_ADMINS",
    "HOEDAN_TIMEZONE",
    "HOEDAN_LANGUAGE",
    "HOEDAN_NETWORK_NAME",
    "HOEDAN_LOG_LEVEL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "PORT",
    "HOEDAN_HOST",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration_at_all() -> None:
    settings = load_settings()

    assert settings.database_url == "sqlite:///hoedan.db"
    assert settings.database.is_sqlite
    assert settings.timezone == "Europe/Amsterdam"
    assert settings.language == "nl"
    assert settings.admins == frozenset()


def test_admins_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOEDAN_ADMINS", " U01ADMIN , Beheer,,U02 ")

    assert load_settings().admins == frozenset({"U01ADMIN", "Beheer", "U02"})


def test_dot_env_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "HOEDAN_LANGUAGE=en\nHOEDAN_TIMEZONE=Europe/London\n", encoding="utf-8"
    )
    monkeypatch.setenv("HOEDAN_TIMEZONE", "Europe/Brussels")

    settings = load_settings()

    assert settings.language == "en"
    assert settings.timezone == "Europe/Brussels"


def test_every_wrong_value_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://db/hoedan")
    monkeypatch.setenv("HOEDAN_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("HOEDAN_LANGUAGE", "de")
    monkeypatch.setenv("HOEDAN_LOG_LEVEL", "loud")

    with pytest.raises(SettingsError) as raised:
        load_settings()

    problems = raised.value.problems
    assert set(problems) == {
        "DATABASE_URL",
        "HOEDAN_TIMEZONE",
        "HOEDAN_LANGUAGE",
        "HOEDAN_LOG_LEVEL",
    }
    assert "sqlite:///" in problems["DATABASE_URL"]
    assert "Europe/Amsterdam" in problems["HOEDAN_TIMEZONE"]


def test_a_postgres_url_gets_the_shipped_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://hoedan:geheim@db.example/hoedan")

    urls = load_settings().database

    assert urls.async_url.drivername == "postgresql+psycopg"
    assert not urls.is_sqlite


def test_flow_config_carries_what_flows_need(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOEDAN_ADMINS", "Beheer")
    monkeypatch.setenv("HOEDAN_LANGUAGE", "EN")

    config = load_settings().flow_config()

    assert config.admins == frozenset({"Beheer"})
    assert config.language == "en"


def test_without_slack_settings_there_is_no_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "  ")

    settings = load_settings()

    assert settings.slack_mode is None
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"


def test_bot_token_and_signing_secret_mean_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cr3t-s3cr3t")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    monkeypatch.setenv("PORT", "8080")

    settings = load_settings()

    assert settings.slack_mode == "http"
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.port == 8080
    assert "xoxb-1-2-abc" not in repr(settings)
    assert "s3cr3t-s3cr3t" not in repr(settings)


def test_an_app_token_means_socket_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A1-xyz")

    assert load_settings().slack_mode == "socket"


@pytest.mark.parametrize(
    ("variables", "named", "hint"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "Slack", "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "abc"}, "Slack", "SLACK_BOT_TOKEN ontbreekt"),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_APP_TOKEN": "xapp-1"},
            "SLACK_BOT_TOKEN",
            "xoxb-",
        ),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN", "xapp-"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL", "https://slack.com/api/"),
        ({"PORT": "drieduizend"}, "PORT", "geen geheel getal"),
        ({"PORT": "70000"}, "PORT", "buiten het bereik 0–65535"),
    ],
)
def test_incomplete_or_wrong_slack_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str, hint: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    problems = raised.value.problems
    assert hint in problems[named]
    for value in variables.values():
        if value.startswith(("xox", "xapp")):
            assert value not in str(raised.value)


def test_intervisions_are_kept_ninety_days_unless_set_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().flow_config().intervision_retention_days == 90

    monkeypatch.setenv("HOEDAN_RETENTION_INTERVISION_DAYS", "0")
    assert load_settings().flow_config().intervision_retention_days == 0

    monkeypatch.setenv("HOEDAN_RETENTION_INTERVISION_DAYS", "-1")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "buiten het bereik 0–3650" in raised.value.problems["HOEDAN_RETENTION_INTERVISION_DAYS"]
