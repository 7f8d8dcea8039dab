"""Teams' settings: the SDK's own variable names, checked together, the secret never shown."""

from __future__ import annotations

import pytest

from bot.settings import TEAMS_PREFIX, Settings, SettingsError, load_settings

CLIENT_ID = "00000000-0000-0000-0000-00000000c1d0"
TENANT_ID = "00000000-0000-0000-0000-0000000000a1"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLIENTID", "CLIENTSECRET", "TENANTID", "ANONYMOUS_ALLOWED"):
        monkeypatch.delenv(TEAMS_PREFIX + name, raising=False)


def test_teams_is_off_by_default() -> None:
    settings = load_settings(None)

    assert not settings.teams_enabled


def test_the_sdk_variables_switch_teams_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEAMS_PREFIX + "CLIENTID", CLIENT_ID)
    monkeypatch.setenv(TEAMS_PREFIX + "CLIENTSECRET", "s3cret-value")
    monkeypatch.setenv(TEAMS_PREFIX + "TENANTID", TENANT_ID)

    settings = load_settings(None)

    assert settings.teams_enabled
    connection = settings.teams_sdk_config()["CONNECTIONS"]["SERVICE_CONNECTION"]["SETTINGS"]
    assert connection == {
        "ANONYMOUS_ALLOWED": False,
        "CLIENTID": CLIENT_ID,
        "TENANTID": TENANT_ID,
        "CLIENTSECRET": "s3cret-value",
    }
    assert "s3cret-value" not in repr(settings)
    assert "s3cret-value" not in str(settings.model_dump())


def test_anonymous_alone_is_local_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEAMS_PREFIX + "ANONYMOUS_ALLOWED", "true")

    settings = load_settings(None)

    assert settings.teams_enabled
    assert settings.teams_client_id is None


def test_an_incomplete_registration_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TEAMS_PREFIX + "CLIENTID", CLIENT_ID)

    with pytest.raises(SettingsError) as caught:
        load_settings(None)

    assert set(caught.value.problems) == {"Teams"}
    assert "CLIENTSECRET" in caught.value.problems["Teams"]


def test_a_secret_without_an_app_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEAMS_PREFIX + "CLIENTSECRET", "s3cret-value")

    with pytest.raises(SettingsError) as caught:
        load_settings(None)

    assert "CLIENTID ontbreekt" in caught.value.problems["Teams"]
    assert "s3cret-value" not in str(caught.value)


def test_blank_lines_mean_not_set() -> None:
    settings = Settings(
        _env_file=None,
        teams_client_id=" ",
        teams_client_secret="",
        teams_tenant_id="",
        teams_anonymous_allowed="",
    )

    assert not settings.teams_enabled


def test_a_wrong_anonymous_value_is_named_in_dutch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEAMS_PREFIX + "ANONYMOUS_ALLOWED", "misschien")

    with pytest.raises(SettingsError) as caught:
        load_settings(None)

    assert caught.value.problems == {
        TEAMS_PREFIX + "ANONYMOUS_ALLOWED": "'misschien' is geen ja of nee; gebruik true of false"
    }
