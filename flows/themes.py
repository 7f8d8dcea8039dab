"""The themes of the knowledge exchange, from prompts/themes.toml, and suggesting them from text.

A suggestion is only a start: the asker sees it and can change it. Matching is on word
beginnings, so "samenwerkingsverband" finds the theme with "samenwerk" and "Inwoners" the
one with "inwoner", with case and accents ignored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from flows.messages import Option
from flows.text import ours
from storage.search import fold

MAX_SUGGESTED = 3
"""More than three themes says nothing about a question."""


@dataclass(frozen=True)
class Theme:
    id: str
    nl: str
    en: str
    words: tuple[str, ...]

    def label(self, language: str) -> str:
        return self.en if language == "en" else self.nl


@cache
def all_themes() -> tuple[Theme, ...]:
    raw = tomllib.loads(files("prompts").joinpath("themes.toml").read_text(encoding="utf-8"))
    return tuple(
        Theme(
            id=entry["id"],
            nl=entry["nl"],
            en=entry["en"],
            words=tuple(fold(word) for word in entry["words"]),
        )
        for entry in raw["theme"]
    )


def by_id(theme_id: str) -> Theme | None:
    return next((theme for theme in all_themes() if theme.id == theme_id), None)


def known(theme_ids: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The ids that exist, in the catalogue's order, each once."""
    wanted = set(theme_ids)
    return tuple(theme.id for theme in all_themes() if theme.id in wanted)


def label(theme_id: str, language: str) -> str:
    theme = by_id(theme_id)
    return theme.label(language) if theme is not None else theme_id


@cache
def _pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(word))


def suggest(text: str) -> tuple[str, ...]:
    """Up to three theme ids for a text, the themes with most matching words first."""
    folded = fold(text)
    scores = {
        theme.id: sum(1 for word in theme.words if _pattern(word).search(folded))
        for theme in all_themes()
    }
    ranked = sorted(
        (theme for theme in all_themes() if scores[theme.id]), key=lambda t: -scores[t.id]
    )
    return tuple(theme.id for theme in ranked[:MAX_SUGGESTED])


def options(language: str) -> tuple[Option, ...]:
    """The catalogue as choices in a form, in its own order."""
    return tuple(
        Option(value=theme.id, label=ours(theme.label(language))) for theme in all_themes()
    )
