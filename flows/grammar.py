"""One command grammar for every platform: ``/hoedan …``, ``@Hoedan …`` and local mode.

The first word picks the command (Dutch, with English aliases); anything else that reads like a
question is a question. A lone unknown word, or a near-miss of a command, is answered with help
rather than stored as a question by accident.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum


class CommandName(StrEnum):
    HELP = "help"
    ASK = "vraag"
    SEARCH = "zoek"
    LIST = "vragen"
    ANSWER = "zodan"
    OUTCOME = "zodus"
    SHOW = "bekijk"
    INVITATIONS = "uitnodigingen"
    REGION = "regio"
    INTERVISION = "intervisie"
    HOUSE_RULES = "spelregels"
    LEARNING_PROMPT = "leervraag"
    REFLECTION = "reflectie"
    DIGEST = "digest"
    ROLE = "rol"
    MY_DATA = "mijngegevens"
    FORGET_ME = "vergeet-mij"


ALIASES: dict[str, CommandName] = {
    **{name.value: name for name in CommandName},
    "hulp": CommandName.HELP,
    "?": CommandName.HELP,
    "ask": CommandName.ASK,
    "question": CommandName.ASK,
    "search": CommandName.SEARCH,
    "find": CommandName.SEARCH,
    "questions": CommandName.LIST,
    "list": CommandName.LIST,
    "answer": CommandName.ANSWER,
    "outcome": CommandName.OUTCOME,
    "toon": CommandName.SHOW,
    "show": CommandName.SHOW,
    "invitations": CommandName.INVITATIONS,
    "region": CommandName.REGION,
    "intervision": CommandName.INTERVISION,
    "rules": CommandName.HOUSE_RULES,
    "house-rules": CommandName.HOUSE_RULES,
    "prompt": CommandName.LEARNING_PROMPT,
    "reflection": CommandName.REFLECTION,
    "role": CommandName.ROLE,
    "mydata": CommandName.MY_DATA,
    "my-data": CommandName.MY_DATA,
    "forget-me": CommandName.FORGET_ME,
    "vergeetmij": CommandName.FORGET_ME,
}


@dataclass(frozen=True)
class Known:
    """A recognised command with the rest of the line as its arguments."""

    name: CommandName
    args: str


@dataclass(frozen=True)
class AskedQuestion:
    """Text that is no command: treated as ``vraag <text>``."""

    text: str


@dataclass(frozen=True)
class Unknown:
    """A word that is no command; ``suggestion`` is the command it most resembles, if any."""

    word: str
    suggestion: CommandName | None


@dataclass(frozen=True)
class Empty:
    """Nothing after the command prefix."""


Parsed = Known | AskedQuestion | Unknown | Empty


def _closest(word: str, cutoff: float) -> CommandName | None:
    matches = difflib.get_close_matches(word, list(ALIASES), n=1, cutoff=cutoff)
    return ALIASES[matches[0]] if matches else None


def parse(text: str) -> Parsed:
    """Parse what followed ``/hoedan`` (or ``@Hoedan``)."""
    stripped = text.strip()
    if not stripped:
        return Empty()
    first, *more = stripped.split(maxsplit=1)
    rest = more[0] if more else ""
    word = first.lower().lstrip("/")
    if word in ALIASES:
        return Known(ALIASES[word], rest.strip())
    looks_like_question = "?" in stripped
    if not rest and not looks_like_question:
        return Unknown(first, _closest(word, cutoff=0.6))
    near_miss = _closest(word, cutoff=0.8)
    if near_miss is not None and not looks_like_question:
        return Unknown(first, near_miss)
    return AskedQuestion(stripped)
