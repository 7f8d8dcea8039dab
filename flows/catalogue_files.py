"""Reading the content files in prompts/ that coaches and coordinators edit.

Methods, learning prompts and starter sets are TOML written by people, not programmers. Every
check here fails with a message that names the file, the entry and the key, so whoever edited
the file can fix it without reading Python. Each library raises its own error class (a
``ValueError``), given to :class:`Checker`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import Any

from flows.texts import DEFAULT_LANGUAGE, LANGUAGES

ID = re.compile(r"[a-z][a-z0-9_]{0,79}")
"""Ids of entries: what storage keeps in its 80-character columns."""


@dataclass(frozen=True)
class Localized:
    """One text in Dutch and English."""

    nl: str
    en: str

    def get(self, language: str) -> str:
        """The text in ``language``; Dutch for any language other than English."""
        return self.en if language == "en" else self.nl


@dataclass(frozen=True)
class Checker:
    """The shared checks, raising ``error`` (the library's own error class)."""

    error: type[ValueError]

    def read(self, path: Traversable) -> dict[str, Any]:
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as problem:
            raise self.error(f"{path}: not valid TOML: {problem}") from problem
        except OSError as problem:
            raise self.error(f"{path}: cannot be read: {problem}") from problem

    def tables(
        self, raw: dict[str, Any], key: str, where: str, header: str | None = None
    ) -> list[dict[str, Any]]:
        """The ``[[key]]`` tables; at least one."""
        value = raw.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
            raise self.error(f"{where}: needs one or more [[{header or key}]] tables")
        return value

    def only_keys(self, table: dict[str, Any], allowed: frozenset[str], where: str) -> None:
        """A misspelt key would otherwise be ignored without a word."""
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.error(
                f"{where}: unknown key {', '.join(map(repr, unknown))}; "
                f"allowed are {', '.join(sorted(allowed))}"
            )

    def identifier(self, table: dict[str, Any], where: str, key: str = "id") -> str:
        value = table.get(key)
        if value is None:
            raise self.error(f"{where}: {key} is missing")
        if not isinstance(value, str) or not ID.fullmatch(value):
            raise self.error(
                f"{where}: {key} must be lower case letters, digits and _ (starting with a "
                f"letter, at most 80), not {value!r}"
            )
        return value

    def text(self, table: dict[str, Any], key: str, where: str, label: str | None = None) -> str:
        """A text that is not empty, without surrounding white space."""
        value = table.get(key)
        if value is None:
            raise self.error(f"{where}: {label or key} is missing")
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{where}: {label or key} must be a text that is not empty")
        return value.strip()

    def localized(self, table: dict[str, Any], key: str, where: str) -> Localized:
        """``key.nl`` and ``key.en``, both required."""
        value = table.get(key)
        if value is None:
            raise self.error(f"{where}: {key} is missing (give {key}.nl and {key}.en)")
        if not isinstance(value, dict):
            raise self.error(
                f"{where}: {key} needs a Dutch and an English text: {key}.nl, {key}.en"
            )
        self.only_keys(value, frozenset(LANGUAGES), f"{where}, {key}")
        texts = {
            language: self.text(value, language, where, f"{key}.{language}")
            for language in LANGUAGES
        }
        return Localized(nl=texts[DEFAULT_LANGUAGE], en=texts["en"])
