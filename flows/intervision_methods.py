"""The intervision method library, from prompts/intervision/phases.toml and methods.toml.

Building blocks are phases with default texts and minutes; a method is a sequence of blocks, each
optionally with its own minutes and texts for that method. A coach can also compose a custom
sequence. Every method opens with the case owner's case and closes with everyone's lessons: the
session flow relies on both.

Both files are checked when they are loaded, and a mistake is reported with the file, method and
phase it is in, so whoever edits the TOML sees exactly what to fix.

Reading::

    all_methods()          the methods in catalogue order
    method("roddel")       one method by id, alias or Dutch/English name; None if unknown
    building_blocks()      the phases a custom session can be composed of
    building_block("advice")
    compose(["clarify", "tips"], {"tips": 4})   a custom method; case and lessons added
    m.total_minutes, m.with_minutes({"advice": 20}), phase.name.get("en")
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, TypeGuard, TypeVar

from flows.catalogue_files import Checker
from flows.catalogue_files import Localized as Localized
from storage.search import fold

PHASES_FILE = "phases.toml"
METHODS_FILE = "methods.toml"
OPENING_BLOCK = "case"
"""The block a composed method always starts with."""
CLOSING_BLOCK = "lessons"
"""The block a composed method always ends with."""
CUSTOM = "custom"
"""The method a coach composes from building blocks (eigen opzet)."""
MIN_MINUTES = 1
MAX_MINUTES = 120

_Choice = TypeVar("_Choice", bound=StrEnum)

"""Ids are stored with sessions and contributions (80 characters at most)."""
_TEXTS = ("name", "purpose", "for_group", "for_case_owner")
_PHASE_KEYS = frozenset({"id", *_TEXTS, "minutes", "actor", "collects"})
_METHOD_KEYS = frozenset({"id", "name", "summary", "when", "aliases", "phase"})
_STEP_KEYS = frozenset({"block", "minutes", *_TEXTS})


class Actor(StrEnum):
    """Who acts in a phase."""

    EVERYONE = "everyone"
    """All at once."""
    CASE_OWNER = "case_owner"
    """Only the case owner; the group reads along."""
    IN_TURN = "in_turn"
    """One person at a time, in turn."""


class Collects(StrEnum):
    """What a phase yields for the session to keep."""

    NOTHING = "nothing"
    CASE = "case"
    """The case owner's situation and question."""
    QUESTIONS = "questions"
    HYPOTHESES = "hypotheses"
    """Hunches, images, statements about what may be going on."""
    ADVICE = "advice"
    REACTIONS = "reactions"
    """Responses to what was said: the case owner's, or each other's."""
    LESSONS = "lessons"
    """What each person takes away (leeropbrengst)."""


class CatalogueError(ValueError):
    """A method or phase file is wrong; the message names the file, method and phase."""


_check = Checker(CatalogueError)


class CompositionError(ValueError):
    """A custom composition or a change of minutes cannot be made as asked."""


@dataclass(frozen=True)
class Phase:
    """One phase: a building block as is, or as a method adapted it.

    ``id`` is the building block's id; a method uses each block at most once, so it also names
    the phase within the method.
    """

    id: str
    name: Localized
    purpose: Localized
    for_group: Localized
    for_case_owner: Localized
    minutes: int
    actor: Actor
    collects: Collects

    @property
    def opens(self) -> bool:
        """Whether this phase can open a session: the case owner brings the case."""
        return self.actor is Actor.CASE_OWNER and self.collects is Collects.CASE

    @property
    def closes(self) -> bool:
        """Whether this phase can close a session: everyone names their lessons."""
        return self.actor is Actor.EVERYONE and self.collects is Collects.LESSONS


@dataclass(frozen=True)
class Method:
    id: str
    name: Localized
    summary: Localized
    when: Localized
    """When a coach would choose this method."""
    aliases: tuple[str, ...]
    phases: tuple[Phase, ...]

    @property
    def total_minutes(self) -> int:
        return sum(phase.minutes for phase in self.phases)

    @property
    def is_custom(self) -> bool:
        return self.id == CUSTOM

    def phase(self, phase_id: str) -> Phase | None:
        return next((phase for phase in self.phases if phase.id == phase_id), None)

    def with_minutes(self, minutes: Mapping[str, int]) -> Method:
        """A copy with other minutes for the phases named (by id); the rest stay as they are."""
        known = {phase.id for phase in self.phases}
        unknown = sorted(set(minutes) - known)
        if unknown:
            raise CompositionError(
                f"method {self.id!r} has no phase {', '.join(map(repr, unknown))}; "
                f"its phases are {', '.join(phase.id for phase in self.phases)}"
            )
        for phase_id, value in minutes.items():
            if not _valid_minutes(value):
                raise CompositionError(
                    f"method {self.id!r}, phase {phase_id!r}: minutes must be a whole number "
                    f"from {MIN_MINUTES} to {MAX_MINUTES}, not {value!r}"
                )
        return replace(
            self,
            phases=tuple(
                replace(phase, minutes=minutes[phase.id]) if phase.id in minutes else phase
                for phase in self.phases
            ),
        )


@dataclass(frozen=True)
class Catalogue:
    """The building blocks and methods of one pair of files."""

    blocks: tuple[Phase, ...]
    methods: tuple[Method, ...]

    def block(self, block_id: str) -> Phase | None:
        return next((block for block in self.blocks if block.id == block_id), None)

    def method(self, name: str) -> Method | None:
        """A method by id, alias or Dutch or English name; case, accents and spaces don't matter."""
        key = _lookup_key(name)
        return next((m for m in self.methods if key in _lookup_keys(m)), None)

    def compose(self, block_ids: Sequence[str], minutes: Mapping[str, int] | None = None) -> Method:
        """A custom method of these blocks, in this order, between case and lessons.

        The case block always comes first and the lessons block last, whether or not (and
        wherever) they are listed; they are taken as the custom method in methods.toml has them.
        ``minutes`` changes the default minutes per block id.
        """
        if isinstance(block_ids, str):
            raise CompositionError("give a list of block ids, not one string")
        blocks = {block.id: block for block in self.blocks}
        unknown = [block_id for block_id in block_ids if block_id not in blocks]
        if unknown:
            raise CompositionError(
                f"unknown building block {', '.join(map(repr, unknown))}; "
                f"the blocks are {', '.join(block.id for block in self.blocks)}"
            )
        middle = [b for b in block_ids if b not in (OPENING_BLOCK, CLOSING_BLOCK)]
        twice = sorted({b for b in middle if middle.count(b) > 1})
        if twice:
            raise CompositionError(
                f"building block {', '.join(map(repr, twice))} is listed more than once; "
                "each block can be used once per session"
            )
        custom = next(m for m in self.methods if m.is_custom)
        opening, closing = custom.phases
        phases = (opening, *(blocks[b] for b in middle), closing)
        return replace(custom, phases=phases).with_minutes(minutes or {})


def _valid_minutes(value: object) -> TypeGuard[int]:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and MIN_MINUTES <= value <= MAX_MINUTES
    )


def _lookup_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def _lookup_keys(method: Method) -> frozenset[str]:
    names = (method.id, method.name.nl, method.name.en, *method.aliases)
    return frozenset(key for key in map(_lookup_key, names) if key)


# Loading and checking ---------------------------------------------------------------------------


def load_catalogue(phases_file: Traversable, methods_file: Traversable) -> Catalogue:
    """Read and check both files; raises :class:`CatalogueError` naming what is wrong where."""
    blocks = _load_blocks(phases_file)
    methods = _load_methods(methods_file, {block.id: block for block in blocks})
    return Catalogue(blocks=blocks, methods=methods)


def _minutes(table: dict[str, Any], where: str) -> int:
    value = table.get("minutes")
    if not _valid_minutes(value):
        raise CatalogueError(
            f"{where}: minutes must be a whole number from {MIN_MINUTES} to {MAX_MINUTES}, "
            f"not {value!r}"
        )
    return value


def _choice(table: dict[str, Any], key: str, kind: type[_Choice], where: str) -> _Choice:
    value = table.get(key)
    allowed = ", ".join(member.value for member in kind)
    if value is None:
        raise CatalogueError(f"{where}: {key} is missing; choose one of {allowed}")
    try:
        return kind(value)
    except ValueError:
        raise CatalogueError(f"{where}: {key} must be one of {allowed}, not {value!r}") from None


def _load_blocks(path: Traversable) -> tuple[Phase, ...]:
    raw = _check.read(path)
    _check.only_keys(raw, frozenset({"phase"}), str(path))
    blocks: list[Phase] = []
    for number, table in enumerate(_check.tables(raw, "phase", str(path)), start=1):
        where = f"{path}, phase {number}"
        phase_id = _check.identifier(table, where)
        where = f"{path}, phase {phase_id!r}"
        _check.only_keys(table, _PHASE_KEYS, where)
        if any(block.id == phase_id for block in blocks):
            raise CatalogueError(f"{where}: the id {phase_id!r} is used twice")
        name, purpose, for_group, for_case_owner = (
            _check.localized(table, k, where) for k in _TEXTS
        )
        blocks.append(
            Phase(
                id=phase_id,
                name=name,
                purpose=purpose,
                for_group=for_group,
                for_case_owner=for_case_owner,
                minutes=_minutes(table, where),
                actor=_choice(table, "actor", Actor, where),
                collects=_choice(table, "collects", Collects, where),
            )
        )
    _require_frame_block(blocks, OPENING_BLOCK, "opens", path)
    _require_frame_block(blocks, CLOSING_BLOCK, "closes", path)
    return tuple(blocks)


def _require_frame_block(blocks: list[Phase], block_id: str, role: str, path: Traversable) -> None:
    block = next((b for b in blocks if b.id == block_id), None)
    if block is None:
        raise CatalogueError(f"{path}: the building block {block_id!r} is missing")
    if not getattr(block, role):
        raise CatalogueError(f"{path}, phase {block_id!r}: {_FRAME_RULES[role]}")


_FRAME_RULES = {
    "opens": f"the first phase must have actor = {Actor.CASE_OWNER.value!r} "
    f"and collects = {Collects.CASE.value!r} (the case owner brings the case)",
    "closes": f"the last phase must have actor = {Actor.EVERYONE.value!r} "
    f"and collects = {Collects.LESSONS.value!r} (everyone names their lessons)",
}


def _load_methods(path: Traversable, blocks: dict[str, Phase]) -> tuple[Method, ...]:
    raw = _check.read(path)
    _check.only_keys(raw, frozenset({"method"}), str(path))
    methods: list[Method] = []
    for number, table in enumerate(_check.tables(raw, "method", str(path)), start=1):
        method_id = _check.identifier(table, f"{path}, method {number}")
        where = f"{path}, method {method_id!r}"
        _check.only_keys(table, _METHOD_KEYS, where)
        if any(m.id == method_id for m in methods):
            raise CatalogueError(f"{where}: the id {method_id!r} is used twice")
        aliases = table.get("aliases", [])
        if not isinstance(aliases, list) or not all(
            isinstance(a, str) and _lookup_key(a) for a in aliases
        ):
            raise CatalogueError(f"{where}: aliases must be a list of words, like ['roddel']")
        steps = _check.tables(table, "phase", where, "method.phase")
        method = Method(
            id=method_id,
            name=_check.localized(table, "name", where),
            summary=_check.localized(table, "summary", where),
            when=_check.localized(table, "when", where),
            aliases=tuple(aliases),
            phases=tuple(
                _step(step, blocks, f"{where}, phase {position}")
                for position, step in enumerate(steps, start=1)
            ),
        )
        _check_sequence(method, where)
        _check_names_unique(method, methods, where)
        if method.is_custom and [p.id for p in method.phases] != [OPENING_BLOCK, CLOSING_BLOCK]:
            raise CatalogueError(
                f"{where}: a custom method has no fixed phases; list only the frame every "
                f"composition keeps: {OPENING_BLOCK!r}, then {CLOSING_BLOCK!r}"
            )
        methods.append(method)
    if not any(m.is_custom for m in methods):
        raise CatalogueError(
            f"{path}: the method {CUSTOM!r} is missing; coaches compose their own sessions from it"
        )
    return tuple(methods)


def _step(table: dict[str, Any], blocks: dict[str, Phase], where: str) -> Phase:
    block_id = table.get("block")
    if block_id is None:
        raise CatalogueError(f"{where}: block is missing (the id of a phase in {PHASES_FILE})")
    block = blocks.get(block_id) if isinstance(block_id, str) else None
    if block is None:
        raise CatalogueError(
            f"{where}: unknown building block {block_id!r}; "
            f"the blocks in {PHASES_FILE} are {', '.join(blocks)}"
        )
    where = f"{where} ({block_id!r})"
    _check.only_keys(table, _STEP_KEYS, where)
    changes: dict[str, Any] = {
        key: _check.localized(table, key, where) for key in _TEXTS if key in table
    }
    if "minutes" in table:
        changes["minutes"] = _minutes(table, where)
    return replace(block, **changes)


def _check_sequence(method: Method, where: str) -> None:
    if not method.phases[0].opens:
        raise CatalogueError(f"{where}, phase 1 ({method.phases[0].id!r}): {_FRAME_RULES['opens']}")
    last = method.phases[-1]
    if not last.closes:
        raise CatalogueError(
            f"{where}, phase {len(method.phases)} ({last.id!r}): {_FRAME_RULES['closes']}"
        )
    seen: set[str] = set()
    for number, phase in enumerate(method.phases, start=1):
        if phase.id in seen:
            raise CatalogueError(
                f"{where}, phase {number} ({phase.id!r}): the block {phase.id!r} is used twice; "
                "each block can be used once per method"
            )
        seen.add(phase.id)


def _check_names_unique(method: Method, earlier: list[Method], where: str) -> None:
    names = (method.id, method.name.nl, method.name.en, *method.aliases)
    for other in earlier:
        theirs = _lookup_keys(other)
        shared = [name for name in names if _lookup_key(name) in theirs]
        if shared:
            raise CatalogueError(
                f"{where}: the name or alias {', '.join(map(repr, shared))} "
                f"also finds method {other.id!r}"
            )


# The catalogue in prompts/ -----------------------------------------------------------------------


@cache
def catalogue() -> Catalogue:
    folder = files("prompts").joinpath("intervision")
    return load_catalogue(folder.joinpath(PHASES_FILE), folder.joinpath(METHODS_FILE))


def all_methods() -> tuple[Method, ...]:
    """Every method, in catalogue order (custom included)."""
    return catalogue().methods


def method(name: str) -> Method | None:
    """A method by id, alias or name: "incident", "Roddelmethode", "5min", "eigen" …"""
    return catalogue().method(name)


def building_blocks() -> tuple[Phase, ...]:
    """The phases a coach can compose a custom method from, with their defaults."""
    return catalogue().blocks


def building_block(block_id: str) -> Phase | None:
    return catalogue().block(block_id)


def compose(block_ids: Sequence[str], minutes: Mapping[str, int] | None = None) -> Method:
    """A custom method; see :meth:`Catalogue.compose`."""
    return catalogue().compose(block_ids, minutes)
