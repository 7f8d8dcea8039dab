"""Slack's mrkdwn, in and out: escape what goes out, turn what comes in into plain text.

Outgoing, the danger is not looks but reach: ``<!channel>``, ``<@U123>`` and ``<https://x|y>``
are control sequences that ping people or disguise links, and Slack builds them only from raw
``<`` and ``>``. Escaping ``&``, ``<`` and ``>`` therefore makes every span inert. The typed
words ``@channel``, ``@here`` and ``@everyone`` get a WORD JOINER (U+2060) after the ``@`` as
well, so that no parse mode, now or later, can turn them into a broadcast; the joiner is
invisible and does not break the word when read.

Decision on formatting characters: ``*``, ``_``, ``~`` and backticks in user spans are left as
they are. The worst a user can do with them is make part of a line bold, italic, struck or
monospaced, which is harmless and is also what they get when typing the same text in Slack
itself. The alternative, wedging zero-width characters between them, is unreliable (Slack's
parser has changed before) and leaves invisible junk in text that people copy and search. Own
spans get the same escaping: Hoedan's catalogue never uses raw ``<`` or ``&``, so escaping costs
nothing there and keeps a careless template from becoming a control sequence. Because both kinds
are treated alike, the text is escaped as a whole, which also catches a broadcast word that a
template happens to assemble from two spans.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from flows.text import RichText

WORD_JOINER = "\u2060"

# No word boundary after the word on purpose: "@channels" gets a joiner as well, which is
# invisible, whereas guessing where Slack ends a broadcast word is not worth the risk.
_BROADCAST = re.compile(r"@(?=channel|here|everyone)", re.IGNORECASE)
# A control sequence in incoming text; Slack escapes any literal < and > typed by a person.
_CONTROL = re.compile(r"<([^<>]*)>")
_BROADCASTS = frozenset({"channel", "here", "everyone"})


@dataclass(frozen=True)
class SlackText:
    """Incoming text as plain words, plus the people it mentioned as ``(user_id, name)``."""

    text: str
    mentions: tuple[tuple[str, str], ...] = ()


def neutralise_broadcasts(text: str) -> str:
    """Put a word joiner after the ``@`` of @channel, @here and @everyone in any case."""
    return _BROADCAST.sub("@" + WORD_JOINER, text)


def escape(text: str) -> str:
    """Make ``text`` inert in mrkdwn: no control sequences, no broadcast words."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralise_broadcasts(escaped)


def to_mrkdwn(text: RichText) -> str:
    """A rich text as mrkdwn; see the module docstring for why all spans are escaped alike."""
    return escape(text.plain)


def to_plain(text: RichText) -> str:
    """A rich text for a ``plain_text`` object: Slack parses no markup there, only broadcasts
    could still be picked up, so those are the only thing neutralised."""
    return neutralise_broadcasts(text.plain)


def unescape(text: str) -> str:
    """Undo Slack's escaping; ``&amp;`` last, so ``&amp;lt;`` ends up as the literal ``&lt;``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def from_slack(text: str, names: Mapping[str, str] | None = None) -> SlackText:
    """Incoming Slack markup as plain text, the way a reader saw it.

    Mentions become ``@name`` and are collected in order without duplicates, so flows can tell
    who was addressed without ever parsing Slack syntax. This never raises: the text comes from
    anyone, and a strange message must degrade to odd text, not to an error.
    """
    if not isinstance(text, str):
        return SlackText(text="")
    mentions: dict[str, str] = {}
    pieces: list[str] = []
    position = 0
    for match in _CONTROL.finditer(text):
        pieces.append(unescape(text[position : match.start()]))
        pieces.append(_control(match.group(1), names, mentions))
        position = match.end()
    pieces.append(unescape(text[position:]))
    return SlackText(text="".join(pieces), mentions=tuple(mentions.items()))


def _control(body: str, names: Mapping[str, str] | None, mentions: dict[str, str]) -> str:
    """One ``<...>`` sequence as plain text; records user mentions in ``mentions``."""
    target, has_label, raw_label = body.partition("|")
    label = unescape(raw_label) if has_label else ""
    if target.startswith("@"):
        user_id = target[1:]
        name = label or _lookup(names, user_id) or user_id
        if user_id and user_id not in mentions:
            mentions[user_id] = name
        return "@" + name
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return _special(target[1:], label)
    url = unescape(target)
    if not label:
        return url
    if label in (url, url.removeprefix("mailto:")):
        return label
    return f"{label} ({url})"


def _special(command: str, label: str) -> str:
    """``<!...>`` sequences: broadcasts, user groups, dates and anything Slack adds later."""
    name, _, argument = command.partition("^")
    if name.lower() in _BROADCASTS:
        return "@" + name.lower()
    if label:
        return label
    if name == "subteam" and argument:
        return "@" + argument
    return ""


def _lookup(names: Mapping[str, str] | None, user_id: str) -> str:
    """A display name from ``names``, tolerating a mapping that holds something odd."""
    if names is None:
        return ""
    try:
        name = names.get(user_id)
    except Exception:  # a caller's odd mapping must not make incoming text unreadable
        return ""
    return name if isinstance(name, str) else ""
