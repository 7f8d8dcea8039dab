"""Configuration, read in one place: the environment first, then ``.env`` in the working folder.

Nothing else in Hoedan reads ``os.environ``. Wrong values stop start-up with a message that names
the variable and says what would be right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flows.config import FlowConfig
from storage.database import DatabaseUrlError, DatabaseUrls, resolve_database_url

DEFAULT_DATABASE_URL = "sqlite:///hoedan.db"


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

    def flow_config(self) -> FlowConfig:
        return FlowConfig(
            language=self.language,
            timezone=self.timezone,
            admins=self.admins,
            network_name=self.network_name,
        )


_NAMES = {
    "database_url": "DATABASE_URL",
    "admins": "HOEDAN_ADMINS",
    "timezone": "HOEDAN_TIMEZONE",
    "language": "HOEDAN_LANGUAGE",
    "network_name": "HOEDAN_NETWORK_NAME",
    "log_level": "HOEDAN_LOG_LEVEL",
}


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read and check the configuration; raises SettingsError listing every problem at once."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "literal_error":
                message = f"{error['input']!r} kan niet; kies uit {error['ctx']['expected']}"
            problems[_NAMES.get(field, field.upper())] = message
        raise SettingsError(problems) from None
