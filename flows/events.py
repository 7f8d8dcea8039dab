"""The neutral events adapters hand to flows: who did what, where."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from storage.enums import Platform, SpaceKind

FormValue = str | list[str] | bool | int | None


def as_strings(value: FormValue) -> list[str]:
    """A form value as a list of texts, each once: a multiple choice or member picker gives a
    list, a single choice a text, an empty field nothing."""
    if isinstance(value, list):
        return list(dict.fromkeys(str(item) for item in value))
    return [value] if isinstance(value, str) and value else []


@dataclass(frozen=True)
class Actor:
    """The person behind an event, as the platform knows them."""

    platform: Platform
    external_id: str
    display_name: str
    locale: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Place:
    """Where an event happened: a space, and a thread in it if any."""

    platform: Platform
    external_id: str
    name: str
    kind: SpaceKind = SpaceKind.CHANNEL
    thread_ref: str | None = None


@dataclass(frozen=True)
class Mention:
    """A member the platform marked as mentioned (Slack ``<@U…>``, a Teams mention entity)."""

    external_id: str
    display_name: str


@dataclass(frozen=True, kw_only=True)
class _Inbound:
    actor: Actor
    place: Place
    delivery_id: str
    """The platform's id for this delivery; the same id again is a retry and is ignored."""


@dataclass(frozen=True, kw_only=True)
class CommandEvent(_Inbound):
    """``/hoedan <text>``, ``@Hoedan <text>`` or a typed command in local mode."""

    text: str
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MessageEvent(_Inbound):
    """A chat message Hoedan can see; ``message_ref`` is its platform id."""

    text: str
    message_ref: str
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MessageEdited(_Inbound):
    """A message Hoedan may know was changed; ``previous_text`` is what it said before."""

    message_ref: str
    text: str
    previous_text: str | None = ""
    """``None`` when the platform does not say (Teams): the edit may then concern anything."""


@dataclass(frozen=True, kw_only=True)
class MessageDeleted(_Inbound):
    """A message Hoedan may know was removed."""

    message_ref: str
    previous_text: str | None = ""
    """``None`` when the platform does not say (Teams)."""


@dataclass(frozen=True, kw_only=True)
class ActionEvent(_Inbound):
    """A button pressed, or a shortcut chosen (on a message: ``message_ref`` and ``text``)."""

    action: str
    value: str = ""
    message_ref: str | None = None
    """The message the action was taken on, when it was taken on one."""
    text: str = ""
    """That message's text, as plain text."""


@dataclass(frozen=True, kw_only=True)
class FormSubmitted(_Inbound):
    """A dialog sent back, with its values by input name."""

    form_id: str
    values: dict[str, FormValue] = field(default_factory=dict)
    context: str = ""
    member_names: dict[str, str] = field(default_factory=dict)
    """Display names of the members picked in member inputs, by platform id, as far as the
    adapter knows them: a member picked before they ever spoke to Hoedan gets a real name."""


@dataclass(frozen=True, kw_only=True)
class MemberJoined(_Inbound):
    """Someone joined a space Hoedan is in."""


@dataclass(frozen=True, kw_only=True)
class HomeOpened(_Inbound):
    """A member opened their personal overview (Slack's App Home tab)."""


InboundEvent = (
    CommandEvent
    | MessageEvent
    | MessageEdited
    | MessageDeleted
    | ActionEvent
    | FormSubmitted
    | MemberJoined
    | HomeOpened
)


@dataclass(frozen=True)
class TimerFired:
    """A flow's deadline passed; emitted by the scheduler, handled by the flow engine."""

    flow_id: int
    due_at: datetime


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab and line breaks. Nobody types them, PostgreSQL refuses
NUL in text, and some break the rendering of a card, so they never reach a flow."""

_Value = TypeVar("_Value")


def without_control_characters(event: _Value) -> _Value:
    """The event with control characters removed from every text in it, at any depth."""
    return _cleaned(event)  # type: ignore[no-any-return]


def _cleaned(value: Any) -> Any:
    if type(value) is str:
        return CONTROL_CHARACTERS.sub("", value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _cleaned(getattr(value, f.name)) for f in fields(value)})
    if isinstance(value, dict):
        return {key: _cleaned(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_cleaned(item) for item in value)
    return value
