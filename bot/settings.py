"""Configuration, read in one place: the environment first, then ``.env`` in the working folder.

Nothing else in Hoedan reads ``os.environ``. Wrong values stop start-up with a message that names
the variable and says what would be right.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flows.config import FlowConfig
from storage.database import DatabaseUrlError, DatabaseUrls, resolve_database_url

DEFAULT_DATABASE_URL = "sqlite:///hoedan.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

SlackMode = Literal["http", "socket"]

TEAMS_PREFIX = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
"""The Microsoft 365 Agents SDK's own names for its service connection; Hoedan reads the same
variables so a Teams deployment is configured exactly as the SDK documents it."""


class SettingsError(Exception):
    """The configuration cannot be used; ``problems`` maps each variable to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems.items()))
        self.problems = problems


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias=_env("DATABASE_URL"))
    admins: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias=_env("HOEDAN_ADMINS")
    )
    timezone: str = Field("Europe/Amsterdam", validation_alias=_env("HOEDAN_TIMEZONE"))
    language: Literal["nl", "en"] = Field("nl", validation_alias=_env("HOEDAN_LANGUAGE"))
    network_name: str = Field("Lerend netwerk", validation_alias=_env("HOEDAN_NETWORK_NAME"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        None, validation_alias=_env("HOEDAN_LOG_LEVEL")
    )
    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: str = Field(DEFAULT_SLACK_API_URL, validation_alias=_env("SLACK_API_URL"))
    port: int = Field(3000, ge=0, le=65535, validation_alias=_env("PORT"))
    host: str = Field("0.0.0.0", validation_alias=_env("HOEDAN_HOST"))  # noqa: S104
    teams_client_id: str | None = Field(None, validation_alias=_env(TEAMS_PREFIX + "CLIENTID"))
    teams_client_secret: SecretStr | None = Field(
        None, validation_alias=_env(TEAMS_PREFIX + "CLIENTSECRET")
    )
    teams_tenant_id: str | None = Field(None, validation_alias=_env(TEAMS_PREFIX + "TENANTID"))
    teams_anonymous_allowed: bool = Field(
        False, validation_alias=_env(TEAMS_PREFIX + "ANONYMOUS_ALLOWED")
    )
    """Accept activities without a token and send without one: local development and tests
    only, against the Agents Playground or a fake Bot Connector, never in production."""
    missed_grace_hours: float = Field(
        6, ge=0, le=24 * 7, validation_alias=_env("HOEDAN_MISSED_GRACE_HOURS")
    )
    """A scheduled post missed while Hoedan was down goes out at start-up if it is at most this
    late; an older one is skipped."""
    retention_intervision_days: int = Field(
        90, ge=0, le=3650, validation_alias=_env("HOEDAN_RETENTION_INTERVISION_DAYS")
    )
    """Days after an intervision ended before what was said in it is deleted; 0 keeps it."""

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        """An empty ``SLACK_…=`` line in .env means "not set", not an empty secret."""
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("teams_client_id", "teams_client_secret", "teams_tenant_id", mode="before")
    @classmethod
    def _blank_teams_is_absent(cls, value: object) -> object:
        """An empty ``CONNECTIONS__…=`` line means "not set", as for Slack."""
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("teams_anonymous_allowed", mode="before")
    @classmethod
    def _blank_anonymous_is_false(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return False
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("een bot-token begint met xoxb- (Slack: OAuth & Permissions)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError(
                "een app-token begint met xapp- (Slack: Basic Information, App-Level Tokens)"
            )
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("https://", "http://")):
            raise ValueError(
                f"{value!r} is geen web-adres; de standaard is {DEFAULT_SLACK_API_URL}"
            )
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _complete_slack(self) -> Settings:
        """Slack needs a consistent set: a bot token plus a signing secret or an app token."""
        bot = self.slack_bot_token is not None
        if not bot and (self.slack_signing_secret is not None or self.slack_app_token is not None):
            raise ValueError("SLACK_BOT_TOKEN ontbreekt; zonder bot-token kan Hoedan niet in Slack")
        if bot and self.slack_signing_secret is None and self.slack_app_token is None:
            raise ValueError(
                "SLACK_BOT_TOKEN is gezet, maar SLACK_SIGNING_SECRET (HTTP) of SLACK_APP_TOKEN "
                "(Socket Mode) ontbreekt"
            )
        return self

    @model_validator(mode="after")
    def _complete_teams(self) -> Settings:
        """Teams with an app registration needs its id, secret and tenant together."""
        has_id = self.teams_client_id is not None
        others = (self.teams_client_secret, self.teams_tenant_id)
        if not has_id and any(value is not None for value in others):
            raise ValueError(
                f"{TEAMS_PREFIX}CLIENTID ontbreekt; zonder app-id kan Hoedan niet in Teams"
            )
        if has_id and any(value is None for value in others):
            raise ValueError(
                f"{TEAMS_PREFIX}CLIENTID is gezet, maar {TEAMS_PREFIX}CLIENTSECRET of "
                f"{TEAMS_PREFIX}TENANTID ontbreekt"
            )
        return self

    @property
    def teams_enabled(self) -> bool:
        """Teams runs with an app registration, or anonymously for local development."""
        return self.teams_client_id is not None or self.teams_anonymous_allowed

    def teams_sdk_config(self) -> dict[str, Any]:
        """The Agents SDK's configuration, shaped as ``load_configuration_from_env`` makes it.

        Built here rather than by the SDK reading ``os.environ``, so that ``.env`` and test
        settings work for Teams exactly as for everything else.
        """
        connection: dict[str, Any] = {"ANONYMOUS_ALLOWED": self.teams_anonymous_allowed}
        if self.teams_client_id is not None:
            connection["CLIENTID"] = self.teams_client_id
        if self.teams_tenant_id is not None:
            connection["TENANTID"] = self.teams_tenant_id
        if self.teams_client_secret is not None:
            connection["CLIENTSECRET"] = self.teams_client_secret.get_secret_value()
        return {"CONNECTIONS": {"SERVICE_CONNECTION": {"SETTINGS": connection}}}

    @property
    def slack_mode(self) -> SlackMode | None:
        """Socket Mode when an app token is set, HTTP with a bot token alone, else no Slack."""
        if self.slack_bot_token is None:
            return None
        return "socket" if self.slack_app_token is not None else "http"

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is geen bekende tijdzone; gebruik bijvoorbeeld Europe/Amsterdam"
            ) from None
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _lower_language(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().upper() or None
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        try:
            resolve_database_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def database(self) -> DatabaseUrls:
        return resolve_database_url(self.database_url)

    @property
    def missed_grace(self) -> timedelta:
        return timedelta(hours=self.missed_grace_hours)

    def flow_config(self) -> FlowConfig:
        return FlowConfig(
            language=self.language,
            timezone=self.timezone,
            admins=self.admins,
            network_name=self.network_name,
            intervision_retention_days=self.retention_intervision_days,
        )


_NAMES = {
    "database_url": "DATABASE_URL",
    "admins": "HOEDAN_ADMINS",
    "timezone": "HOEDAN_TIMEZONE",
    "language": "HOEDAN_LANGUAGE",
    "network_name": "HOEDAN_NETWORK_NAME",
    "log_level": "HOEDAN_LOG_LEVEL",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_api_url": "SLACK_API_URL",
    "port": "PORT",
    "host": "HOEDAN_HOST",
    "missed_grace_hours": "HOEDAN_MISSED_GRACE_HOURS",
    "retention_intervision_days": "HOEDAN_RETENTION_INTERVISION_DAYS",
    "teams_client_id": TEAMS_PREFIX + "CLIENTID",
    "teams_client_secret": TEAMS_PREFIX + "CLIENTSECRET",
    "teams_tenant_id": TEAMS_PREFIX + "TENANTID",
    "teams_anonymous_allowed": TEAMS_PREFIX + "ANONYMOUS_ALLOWED",
    "slack": "Slack",
    "teams": "Teams",
}


def _range(variable: str) -> str:
    """The allowed range of a numeric setting (named as in the environment), as written in
    its ``Field(ge=…, le=…)``."""
    field = next(
        (name for name, env in _NAMES.items() if variable in (name, env, env.lower())), variable
    )
    bounds = {
        name: getattr(rule, name)
        for rule in Settings.model_fields[field].metadata
        for name in ("ge", "le")
        if hasattr(rule, name)
    }
    return f"{bounds.get('ge', '')}–{bounds.get('le', '')}"


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read and check the configuration; raises SettingsError listing every problem at once."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            if error["loc"]:
                field = str(error["loc"][0])
            else:  # a model validator: the whole Slack or Teams set is inconsistent
                field = "teams" if TEAMS_PREFIX in error["msg"] else "slack"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "literal_error":
                message = f"{error['input']!r} kan niet; kies uit {error['ctx']['expected']}"
            elif error["type"] == "bool_parsing":
                message = f"{error['input']!r} is geen ja of nee; gebruik true of false"
            elif error["type"] == "int_parsing":
                message = f"{error['input']!r} is geen geheel getal"
            elif error["type"] in ("greater_than_equal", "less_than_equal"):
                message = f"{error['input']!r} valt buiten het bereik {_range(field)}"
            problems[_NAMES.get(field, field.upper())] = message
        raise SettingsError(problems) from None
