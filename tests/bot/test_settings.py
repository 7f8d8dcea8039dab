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
