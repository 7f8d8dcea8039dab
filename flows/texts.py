"""The text catalogue: Jinja2 templates from prompts/<language>/texts.toml.

Values passed as :class:`UserValue` (anything a person typed) never become part of the template
output as plain text: they are substituted by markers and come back as user spans, so every
renderer can escape them for its platform.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, StrictUndefined, Template

from flows.text import RichText, Span

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

_MARKER = "\x00{}\x00"
_MARKER_SPLIT = re.compile("\x00(\\d+)\x00")


@dataclass(frozen=True)
class UserValue:
    """A value someone typed; rendered literally, never as formatting or a mention."""

    text: str


def user(text: str) -> UserValue:
    return UserValue(text)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def load_catalogue(language: str) -> dict[str, str]:
    """All template sources of a language, keyed by dotted name (``question.stored``).

    A language is every ``.toml`` file in ``prompts/<language>/`` (``texts.toml`` for the
    general texts, one file per larger flow such as ``intervision.toml``), so a coach improving
    one flow's texts finds them together. A key defined in two files is an error, not a
    silent winner.
    """
    catalogue: dict[str, str] = {}
    folder = files("prompts").joinpath(language)
    for source in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not source.name.endswith(".toml"):
            continue
        entries = _flatten(tomllib.loads(source.read_text(encoding="utf-8")))
        twice = sorted(set(entries) & set(catalogue))
        if twice:
            raise ValueError(f"prompts/{language}/{source.name} repeats keys: {', '.join(twice)}")
        catalogue.update(entries)
    return catalogue


def _number(value: int) -> str:
    """Dutch thousands separator: 10.000."""
    return f"{value:,}".replace(",", ".")


class Texts:
    """Renders catalogue entries in one language, falling back to Dutch for missing keys."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        self.language = language
        self._sources = load_catalogue(DEFAULT_LANGUAGE)
        if language != DEFAULT_LANGUAGE:
            self._sources.update(load_catalogue(language))
        # Output is chat text, not HTML: each platform renderer escapes user spans itself.
        self._env = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701
        self._env.filters["getal"] = _number
        self._compiled: dict[str, Template] = {}

    def keys(self) -> set[str]:
        return set(self._sources)

    def _template(self, key: str) -> Template:
        template = self._compiled.get(key)
        if template is None:
            template = self._env.from_string(self._sources[key])
            self._compiled[key] = template
        return template

    def render(self, key: str, **values: Any) -> RichText:
        """The text for ``key`` with ``values`` filled in; user values stay separate spans."""
        user_values: list[str] = []
        prepared: dict[str, Any] = {}
        for name, value in values.items():
            if isinstance(value, UserValue):
                prepared[name] = _MARKER.format(len(user_values))
                user_values.append(value.text)
            else:
                prepared[name] = value
        output = self._template(key).render(**prepared).strip()
        spans: list[Span] = []
        for index, piece in enumerate(_MARKER_SPLIT.split(output)):
            if index % 2:
                spans.append(Span(text=user_values[int(piece)], user=True))
            elif piece:
                spans.append(Span(text=piece))
        return RichText(spans=tuple(spans))

    def plain(self, key: str, **values: Any) -> str:
        return self.render(key, **values).plain


@lru_cache(maxsize=len(LANGUAGES))
def texts_for(language: str) -> Texts:
    """The shared catalogue of a language (templates compile once per process)."""
    return Texts(language)
