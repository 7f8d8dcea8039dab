"""The learning-prompt library (leervragen), from prompts/learning_prompts.toml.

Every week a coalition gets one reflective question. A channel chooses themes; it then meets the
prompts of those themes in catalogue order, which is the order of the prompts in the file, and
a prompt comes back only when all prompts of the chosen themes have been posted there. Then a new
cycle starts, from the top. That is :func:`next_prompt`: given the channel's themes and the ids it
was posted before, the first prompt (in catalogue order) that was posted least often.

The file is checked when it is loaded, and a mistake is reported with the file, the prompt and the
field it is in, so whoever edits the TOML sees exactly what to fix. A prompt text is a Jinja2
template whose only value is ``coalitie``, the coalition's (channel's) name.

Reading::

    all_prompts()                  every prompt, in catalogue order
    prompt("reis_roep")            one prompt by id; None if unknown
    for_themes(["jeugd"])          the prompts with any of these themes, in catalogue order
    next_prompt(["jeugd"], posted) the prompt to post next in a channel
    render(p, "nl", "Gezond Zuid")            the text, with the coalition's name filled in
    render_rich(p, "nl", "Gezond Zuid")       the same, the name marked as a user's text
    render_follow_up(p, "en", "Gezond Zuid")  the follow-up question, or None
    render_follow_up_rich(p, "en", "Gezond Zuid")
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, TemplateSyntaxError, meta

from flows.catalogue_files import Checker, Localized
from flows.text import RichText, Span
from flows.texts import LANGUAGES
from flows.themes import known

LIBRARY_FILE = "learning_prompts.toml"
COALITION = "coalitie"
"""The one value a prompt template can use: the coalition's or channel's name."""
MAX_THEMES = 3
"""A prompt about everything is about nothing; three themes at most, as for a question."""

"""Ids are stored with every post (80 characters at most)."""
_TOP_KEYS = frozenset({"source", "prompt"})
_SOURCE_KEYS = frozenset({"id", *LANGUAGES})
_FOLLOW_UP = tuple(f"follow_up_{language}" for language in LANGUAGES)
_PROMPT_KEYS = frozenset({"id", "themes", "source", *LANGUAGES, *_FOLLOW_UP})
_TRIAL_NAME = "Gezond Zuid-Limburg"
"""A coalition name every template is rendered with once when it is loaded."""
_SLOT = "\x00coalitie\x00"

# Output is chat text, not HTML: the coalition's name is marked as a user's text instead, and each
# platform renderer escapes it.
_ENVIRONMENT = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701


class PromptLibraryError(ValueError):
    """The prompt file is wrong; the message names the file, the prompt and the field."""


_check = Checker(PromptLibraryError)


@dataclass(frozen=True)
class Source:
    """What a group of prompts is grounded in, such as the stages of a facilitator's journey."""

    id: str
    label: Localized


@dataclass(frozen=True)
class Prompt:
    id: str
    themes: tuple[str, ...]
    """Theme ids, in the theme catalogue's order."""
    source: str
    text: Localized
    """Jinja2 templates; render them with :func:`render`."""
    follow_up: Localized | None


@dataclass(frozen=True)
class PromptLibrary:
    """The sources and prompts of one file, both in file order."""

    sources: tuple[Source, ...]
    prompts: tuple[Prompt, ...]

    def prompt(self, prompt_id: str) -> Prompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def for_themes(self, theme_ids: Iterable[str]) -> tuple[Prompt, ...]:
        """The prompts with at least one of these themes, in catalogue order."""
        wanted = frozenset(_theme_list(theme_ids))
        return tuple(p for p in self.prompts if wanted.intersection(p.themes))

    def next_prompt(self, themes: Sequence[str], used: Collection[str]) -> Prompt:
        """The prompt to post next in a channel with these themes.

        ``used`` holds the ids of the prompts posted in the channel before, one per post, repeats
        included (its whole history will do; order doesn't matter). The answer is the first
        prompt in catalogue order among the channel's prompts that were posted least often. So no
        prompt repeats until every prompt of the chosen themes has been used; then a new cycle
        starts from the top, in the same order. A prompt added to the library later comes first.

        The channel's prompts are those of its themes; with no themes, or with themes that no
        prompt has (a theme since removed, say), the whole library, so a weekly post never fails.
        """
        if isinstance(used, str):
            raise TypeError(f"give the ids of the prompts posted before, not one string: {used!r}")
        pool = self.for_themes(themes) or self.prompts
        posted = Counter(used)
        fewest = min(posted[p.id] for p in pool)
        return next(p for p in pool if posted[p.id] == fewest)


def _theme_list(theme_ids: Iterable[str]) -> list[str]:
    if isinstance(theme_ids, str):
        raise TypeError(f"give a list of theme ids, not one string: [{theme_ids!r}]")
    return list(theme_ids)


# Rendering -------------------------------------------------------------------------------------


@cache
def _template(source: str) -> Template:
    return _ENVIRONMENT.from_string(source)


def _render(texts: Localized, language: str, coalitie: str) -> str:
    return _template(texts.get(language)).render({COALITION: coalitie}).strip()


def _render_rich(texts: Localized, language: str, coalitie: str) -> RichText:
    spans: list[Span] = []
    for index, piece in enumerate(_render(texts, language, _SLOT).split(_SLOT)):
        if index:
            spans.append(Span(text=coalitie, user=True))
        if piece:
            spans.append(Span(text=piece))
    return RichText(spans=tuple(spans))


def render(prompt: Prompt, language: str, coalitie: str) -> str:
    """The prompt in ``language`` (Dutch for any language but English) for the coalition named
    ``coalitie``, as plain text."""
    return _render(prompt.text, language, coalitie)


def render_rich(prompt: Prompt, language: str, coalitie: str) -> RichText:
    """The prompt as :func:`render` has it, with the coalition's name marked as a user's text:
    someone named the channel, so every renderer shows the name literally. Post this one."""
    return _render_rich(prompt.text, language, coalitie)


def render_follow_up(prompt: Prompt, language: str, coalitie: str) -> str | None:
    """The follow-up question as plain text, or None if the prompt has none."""
    return None if prompt.follow_up is None else _render(prompt.follow_up, language, coalitie)


def render_follow_up_rich(prompt: Prompt, language: str, coalitie: str) -> RichText | None:
    """The follow-up question with the coalition's name marked, or None if there is none."""
    if prompt.follow_up is None:
        return None
    return _render_rich(prompt.follow_up, language, coalitie)


# Loading and checking ---------------------------------------------------------------------------


def load_library(path: Traversable) -> PromptLibrary:
    """Read and check a prompt file; raises :class:`PromptLibraryError` naming what is wrong."""
    raw = _check.read(path)
    _check.only_keys(raw, _TOP_KEYS, str(path))
    sources = _load_sources(raw, path)
    source_ids = [s.id for s in sources]
    prompts: list[Prompt] = []
    for number, table in enumerate(_check.tables(raw, "prompt", str(path)), start=1):
        prompt_id = _check.identifier(table, f"{path}, prompt {number}")
        where = f"{path}, prompt {prompt_id!r}"
        if any(p.id == prompt_id for p in prompts):
            raise PromptLibraryError(f"{where}: the id {prompt_id!r} is used twice")
        _check.only_keys(table, _PROMPT_KEYS, where)
        source = table.get("source")
        if source not in source_ids:
            raise PromptLibraryError(
                f"{where}: source must be one of {', '.join(source_ids)}, not {source!r}"
            )
        prompts.append(
            Prompt(
                id=prompt_id,
                themes=_themes(table, where),
                source=source,
                text=Localized(nl=_text(table, "nl", where), en=_text(table, "en", where)),
                follow_up=_follow_up(table, where),
            )
        )
    return PromptLibrary(sources=sources, prompts=tuple(prompts))


def _load_sources(raw: dict[str, Any], path: Traversable) -> tuple[Source, ...]:
    sources: list[Source] = []
    for number, table in enumerate(_check.tables(raw, "source", str(path)), start=1):
        source_id = _check.identifier(table, f"{path}, source {number}")
        where = f"{path}, source {source_id!r}"
        if any(s.id == source_id for s in sources):
            raise PromptLibraryError(f"{where}: the id {source_id!r} is used twice")
        _check.only_keys(table, _SOURCE_KEYS, where)
        label = Localized(nl=_check.text(table, "nl", where), en=_check.text(table, "en", where))
        sources.append(Source(id=source_id, label=label))
    return tuple(sources)


def _text(table: dict[str, Any], key: str, where: str) -> str:
    """A template: not empty, compiles, uses no value but the coalition's name, renders."""
    source = _check.text(table, key, where)
    try:
        _template(source)
        used = meta.find_undeclared_variables(_ENVIRONMENT.parse(source))
    except TemplateSyntaxError as error:
        raise PromptLibraryError(
            f"{where}: {key} is not a valid template: {error.message} (line {error.lineno})"
        ) from error
    others = sorted(used - {COALITION})
    if others:
        named = ", ".join("{{ " + name + " }}" for name in others)
        raise PromptLibraryError(
            f"{where}: {key} uses {named}; the only value a prompt can use is "
            "{{ " + COALITION + " }}"
        )
    try:
        rendered = _template(source).render({COALITION: _TRIAL_NAME}).strip()
        marked = _template(source).render({COALITION: _SLOT})
    except Exception as error:
        raise PromptLibraryError(f"{where}: {key} cannot be rendered: {error}") from error
    if not rendered:
        raise PromptLibraryError(f"{where}: {key} renders as an empty text")
    if COALITION in used and _SLOT not in marked:
        raise PromptLibraryError(
            f"{where}: {key} must show the name as it is, as {{{{ {COALITION} }}}} without "
            "filters: Hoedan marks it as a user's text"
        )
    return source


def _follow_up(table: dict[str, Any], where: str) -> Localized | None:
    present = [key for key in _FOLLOW_UP if key in table]
    if not present:
        return None
    missing = [key for key in _FOLLOW_UP if key not in table]
    if missing:
        raise PromptLibraryError(
            f"{where}: {', '.join(missing)} is missing; a follow-up needs every language "
            f"({', '.join(_FOLLOW_UP)}) or none"
        )
    return Localized(nl=_text(table, "follow_up_nl", where), en=_text(table, "follow_up_en", where))


def _themes(table: dict[str, Any], where: str) -> tuple[str, ...]:
    value = table.get("themes")
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise PromptLibraryError(f"{where}: themes must be a list of theme ids, like ['jeugd']")
    if not 1 <= len(value) <= MAX_THEMES:
        raise PromptLibraryError(f"{where}: give 1 to {MAX_THEMES} themes, not {len(value)}")
    twice = sorted({t for t in value if value.count(t) > 1})
    if twice:
        raise PromptLibraryError(
            f"{where}: the theme {', '.join(map(repr, twice))} is listed twice"
        )
    catalogue_order = known(value)
    unknown = [t for t in value if t not in catalogue_order]
    if unknown:
        raise PromptLibraryError(
            f"{where}: unknown theme {', '.join(map(repr, unknown))}; "
            "the themes are listed in themes.toml"
        )
    return catalogue_order


# The library in prompts/ ------------------------------------------------------------------------


@cache
def library() -> PromptLibrary:
    return load_library(files("prompts").joinpath(LIBRARY_FILE))


def all_prompts() -> tuple[Prompt, ...]:
    """Every prompt, in catalogue order."""
    return library().prompts


def sources() -> tuple[Source, ...]:
    return library().sources


def prompt(prompt_id: str) -> Prompt | None:
    return library().prompt(prompt_id)


def for_themes(theme_ids: Iterable[str]) -> tuple[Prompt, ...]:
    """The prompts with at least one of these themes, in catalogue order."""
    return library().for_themes(theme_ids)


def next_prompt(themes: Sequence[str], used: Collection[str]) -> Prompt:
    """The prompt to post next in a channel; see :meth:`PromptLibrary.next_prompt`."""
    return library().next_prompt(themes, used)
