"""Starter sets of house rules (spelregels), from prompts/house_rules.toml.

A coalition that writes its house rules need not start from a blank page: it picks a starter set
("basis", "bestuurlijk overleg", "inwoners aan tafel", …), changes it to fit and adopts it by
consent. A set is only the first proposal; what the coalition adopts is its own text.

The file is checked when it is loaded, and a mistake is reported with the file, the set and the
rule it is in, so whoever edits the TOML sees exactly what to fix.

Reading::

    starter_sets()                     every set, in catalogue order
    starter_set("Inwoners aan tafel")  one set by id, alias or Dutch/English name; None if unknown
    s.numbered("nl")                   its rules, numbered: ("1. …", "2. …", …)
    s.text("en")                       the numbered rules as one text, a proposal's first version
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from flows.catalogue_files import Checker, Localized
from flows.texts import LANGUAGES
from storage.search import fold

STARTER_FILE = "house_rules.toml"
MIN_RULES = 5
"""Fewer rules say too little to start a conversation from."""
MAX_RULES = 9
"""More rules are too many to discuss and adopt in one go."""

_SET_KEYS = frozenset({"id", "name", "description", "aliases", "rule"})
_RULE_KEYS = frozenset(LANGUAGES)


class HouseRulesLibraryError(ValueError):
    """The starter-set file is wrong; the message names the file, the set and the rule."""


_check = Checker(HouseRulesLibraryError)


@dataclass(frozen=True)
class StarterSet:
    id: str
    name: Localized
    description: Localized
    """One line: for which group the set is meant."""
    aliases: tuple[str, ...]
    rules: tuple[Localized, ...]

    def numbered(self, language: str) -> tuple[str, ...]:
        """The rules in ``language`` (Dutch for any language but English), numbered from 1."""
        return tuple(f"{n}. {rule.get(language)}" for n, rule in enumerate(self.rules, start=1))

    def text(self, language: str) -> str:
        """The numbered rules, one per line: the text of a first proposal."""
        return "\n".join(self.numbered(language))


@dataclass(frozen=True)
class StarterLibrary:
    sets: tuple[StarterSet, ...]

    def find(self, id_or_name: str) -> StarterSet | None:
        """A set by id, alias or Dutch or English name; case, accents and spaces don't matter."""
        key = _lookup_key(id_or_name)
        return next((s for s in self.sets if key in _lookup_keys(s)), None)


def _lookup_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def _lookup_keys(starter: StarterSet) -> frozenset[str]:
    names = (starter.id, starter.name.nl, starter.name.en, *starter.aliases)
    return frozenset(key for key in map(_lookup_key, names) if key)


# Loading and checking ---------------------------------------------------------------------------


def load_starter_sets(path: Traversable) -> StarterLibrary:
    """Read and check a starter-set file; raises :class:`HouseRulesLibraryError` naming what is
    wrong where."""
    raw = _check.read(path)
    _check.only_keys(raw, frozenset({"starter_set"}), str(path))
    sets: list[StarterSet] = []
    for number, table in enumerate(_check.tables(raw, "starter_set", str(path)), start=1):
        set_id = _check.identifier(table, f"{path}, starter set {number}")
        where = f"{path}, starter set {set_id!r}"
        if any(s.id == set_id for s in sets):
            raise HouseRulesLibraryError(f"{where}: the id {set_id!r} is used twice")
        _check.only_keys(table, _SET_KEYS, where)
        rules = _check.tables(table, "rule", where, header="starter_set.rule")
        if not MIN_RULES <= len(rules) <= MAX_RULES:
            raise HouseRulesLibraryError(
                f"{where}: a starter set has {MIN_RULES} to {MAX_RULES} rules, not {len(rules)}"
            )
        starter = StarterSet(
            id=set_id,
            name=_check.localized(table, "name", where),
            description=_check.localized(table, "description", where),
            aliases=_aliases(table, where),
            rules=tuple(_rule(rule, f"{where}, rule {n}") for n, rule in enumerate(rules, 1)),
        )
        _check_names_unique(starter, sets, where)
        sets.append(starter)
    return StarterLibrary(sets=tuple(sets))


def _rule(table: dict[str, Any], where: str) -> Localized:
    _check.only_keys(table, _RULE_KEYS, where)
    return Localized(nl=_check.text(table, "nl", where), en=_check.text(table, "en", where))


def _aliases(table: dict[str, Any], where: str) -> tuple[str, ...]:
    aliases = table.get("aliases", [])
    if not isinstance(aliases, list) or not all(
        isinstance(a, str) and _lookup_key(a) for a in aliases
    ):
        raise HouseRulesLibraryError(
            f"{where}: aliases must be a list of words, like ['stuurgroep']"
        )
    return tuple(aliases)


def _check_names_unique(starter: StarterSet, earlier: list[StarterSet], where: str) -> None:
    names = (starter.id, starter.name.nl, starter.name.en, *starter.aliases)
    for other in earlier:
        theirs = _lookup_keys(other)
        shared = [name for name in names if _lookup_key(name) in theirs]
        if shared:
            raise HouseRulesLibraryError(
                f"{where}: the name or alias {', '.join(map(repr, shared))} "
                f"also finds starter set {other.id!r}"
            )


# The starter sets in prompts/ --------------------------------------------------------------------


@cache
def library() -> StarterLibrary:
    return load_starter_sets(files("prompts").joinpath(STARTER_FILE))


def starter_sets() -> tuple[StarterSet, ...]:
    """Every starter set, in catalogue order."""
    return library().sets


def starter_set(id_or_name: str) -> StarterSet | None:
    """A set by id, alias or name: "basis", "Bestuurlijk overleg", "stuurgroep", "Residents" …"""
    return library().find(id_or_name)
