"""Templates of reflection rounds, from prompts/reflection_templates.toml.

A template is a short list of questions a coach asks every member of a channel: a 1–5 scale
(optionally with a comment) or an open question. With ``free = true`` the coach types the
question when opening the round. The file is checked when it is loaded; a mistake names the
template and the question, so whoever edits the TOML sees what to fix.

Reading::

    all_templates()        every template, in file order
    template("inchecken")  one by id, alias or name (Dutch or English); None if unknown
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any

from flows.catalogue_files import Localized
from flows.texts import LANGUAGES
from storage.search import fold

TEMPLATE_FILE = "reflection_templates.toml"
MAX_QUESTIONS = 8
"""More questions than this is a survey, not a reflection."""

_ID = re.compile(r"[a-z][a-z0-9-]{0,39}")
_TEMPLATE_KEYS = frozenset({"id", "aliases", "name", "intro", "free", "question"})
_QUESTION_KEYS = frozenset({"kind", "label", "low", "high", "comment", "required"})


class ReflectionTemplateError(ValueError):
    """The template file is wrong; the message names the template and the question."""


class QuestionKind(StrEnum):
    SCALE = "scale"
    TEXT = "text"


@dataclass(frozen=True)
class Question:
    kind: QuestionKind
    label: Localized
    low: Localized | None = None
    high: Localized | None = None
    comment: bool = False
    """A scale with an optional comment box."""
    required: bool = True


@dataclass(frozen=True)
class Template:
    id: str
    aliases: tuple[str, ...]
    name: Localized
    intro: Localized
    free: bool
    """The coach types the (first) question."""
    questions: tuple[Question, ...]


def _localized(raw: object, where: str) -> Localized:
    if not isinstance(raw, dict) or set(raw) != set(LANGUAGES):
        raise ReflectionTemplateError(f"{where}: needs exactly the languages {LANGUAGES}")
    values = {language: raw[language] for language in LANGUAGES}
    if not all(isinstance(v, str) and v.strip() for v in values.values()):
        raise ReflectionTemplateError(f"{where}: every language needs a text")
    return Localized(nl=str(values["nl"]).strip(), en=str(values["en"]).strip())


def _question(raw: Any, where: str) -> Question:
    if not isinstance(raw, dict):
        raise ReflectionTemplateError(f"{where}: a question is a table")
    unknown = set(raw) - _QUESTION_KEYS
    if unknown:
        raise ReflectionTemplateError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        kind = QuestionKind(str(raw.get("kind")))
    except ValueError:
        raise ReflectionTemplateError(f"{where}: kind is 'scale' or 'text'") from None
    if kind is QuestionKind.TEXT and ("low" in raw or "high" in raw or "comment" in raw):
        raise ReflectionTemplateError(f"{where}: only a scale has low, high and comment")
    for flag in ("comment", "required"):
        if not isinstance(raw.get(flag, True), bool):
            raise ReflectionTemplateError(f"{where}: {flag} is true or false")
    return Question(
        kind=kind,
        label=_localized(raw.get("label"), f"{where} label"),
        low=_localized(raw["low"], f"{where} low") if "low" in raw else None,
        high=_localized(raw["high"], f"{where} high") if "high" in raw else None,
        comment=bool(raw.get("comment", False)),
        required=bool(raw.get("required", True)),
    )


def _template(raw: Any, index: int) -> Template:
    if not isinstance(raw, dict):
        raise ReflectionTemplateError(f"template {index}: a template is a table")
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID.fullmatch(ident):
        raise ReflectionTemplateError(f"template {index}: id {ident!r} is not a lower-case word")
    where = f"template {ident!r}"
    unknown = set(raw) - _TEMPLATE_KEYS
    if unknown:
        raise ReflectionTemplateError(f"{where}: unknown keys {sorted(unknown)}")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise ReflectionTemplateError(f"{where}: aliases is a list of words")
    free = raw.get("free", False)
    if not isinstance(free, bool):
        raise ReflectionTemplateError(f"{where}: free is true or false")
    questions = raw.get("question", [])
    if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
        raise ReflectionTemplateError(f"{where}: needs 1 to {MAX_QUESTIONS} questions")
    parsed = tuple(_question(q, f"{where} question {n}") for n, q in enumerate(questions, start=1))
    if free and parsed[0].kind is not QuestionKind.TEXT:
        raise ReflectionTemplateError(f"{where}: the coach's own question is an open question")
    return Template(
        id=ident,
        aliases=tuple(aliases),
        name=_localized(raw.get("name"), f"{where} name"),
        intro=_localized(raw.get("intro"), f"{where} intro"),
        free=free,
        questions=parsed,
    )


def parse(text: str) -> tuple[Template, ...]:
    """Check and read a template file's text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise ReflectionTemplateError(f"{TEMPLATE_FILE}: {problem}") from None
    entries = raw.get("template")
    if not isinstance(entries, list) or not entries:
        raise ReflectionTemplateError(f"{TEMPLATE_FILE}: no [[template]] entries")
    templates = tuple(_template(entry, n) for n, entry in enumerate(entries, start=1))
    seen: dict[str, str] = {}
    for t in templates:
        for word in (t.id, *t.aliases, t.name.nl, t.name.en):
            key = fold(word)
            if seen.get(key, t.id) != t.id:
                raise ReflectionTemplateError(
                    f"{TEMPLATE_FILE}: {word!r} names both {seen[key]!r} and {t.id!r}"
                )
            seen[key] = t.id
    return templates


@cache
def all_templates() -> tuple[Template, ...]:
    return parse(files("prompts").joinpath(TEMPLATE_FILE).read_text(encoding="utf-8"))


def template(name: str) -> Template | None:
    wanted = fold(name.strip())
    for t in all_templates():
        if wanted in {fold(word) for word in (t.id, *t.aliases, t.name.nl, t.name.en)}:
            return t
    return None
