"""Slack payloads in, neutral events out.

Slack sends whatever it sends: fields may be missing, of the wrong type, or belong to a feature
Hoedan does not use. Every function here returns ``None`` for a payload it cannot use, never
raises on bad input, and the adapter simply acknowledges such requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from bot.slack.mrkdwn import from_slack
from bot.slack.render import action_from_id, form_values
from flows.events import (
    ActionEvent,
    Actor,
    CommandEvent,
    FormSubmitted,
    HomeOpened,
    InboundEvent,
    MemberJoined,
    Mention,
    MessageDeleted,
    MessageEdited,
    MessageEvent,
    Place,
)
from flows.exchange import OPEN_FORM, SAVE_MESSAGE
from storage.enums import Platform, SpaceKind

MESSAGE_SHORTCUT = "hoedan_save_message"
"""callback_id of the message shortcut "Bewaar als #hoedan" (see the app manifest)."""
GLOBAL_SHORTCUT = "hoedan_ask"
"""callback_id of the global shortcut "Stel een #hoedan-vraag"."""

PRIVATE_PLACE_NAME = "Hoedan"


class EventTranslator(Protocol):
    """Turns one Events API event into a neutral event (or ``None``: nothing to do)."""

    def __call__(
        self, event: Mapping[str, Any], actor: Actor, *, event_id: str, bot_user_id: str | None
    ) -> InboundEvent | None: ...


PayloadTranslator = Callable[[Mapping[str, Any], Actor], InboundEvent | None]
"""Turns a command or interaction payload into a neutral event (or ``None``)."""

USER_MESSAGE_SUBTYPES = frozenset({None, "file_share", "thread_broadcast", "me_message"})
"""Message subtypes written by a person; edits, deletions, joins and bots are not questions."""


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def user_id_of(body: Mapping[str, Any]) -> str | None:
    """Who acted, in any payload Slack sends (events, commands, interactions)."""
    event = _dict(body.get("event"))
    if event.get("subtype") in EDIT_SUBTYPES:
        return _author_of_edit(event)
    if event:
        return (
            _str(event.get("user"))
            if not isinstance(event.get("user"), Mapping)
            else (_str(_dict(event.get("user")).get("id")))
        )
    user = body.get("user")
    if isinstance(user, Mapping):
        return _str(user.get("id"))
    return _str(body.get("user_id"))


EDIT_SUBTYPES = frozenset({"message_changed", "message_deleted"})


def _author_of_edit(event: Mapping[str, Any]) -> str | None:
    """Edits and deletions carry the author inside the message, not on the event."""
    return _str(_dict(event.get("message")).get("user")) or _str(
        _dict(event.get("previous_message")).get("user")
    )


def fallback_name(body: Mapping[str, Any]) -> str | None:
    """The name a payload carries itself, for when users.info cannot be reached."""
    user = _dict(body.get("user"))
    return _str(user.get("username")) or _str(user.get("name")) or _str(body.get("user_name"))


GROUP_NAME_PREFIX = "mpdm-"
"""Slack names a group conversation (multi-person DM) ``mpdm-anna--bram--carla-1``; button
and command payloads carry that name but no ``channel_type``."""


def _kind(channel_type: object, channel: str, name: str | None = None) -> SpaceKind:
    if channel_type == "im" or channel.startswith("D"):
        return SpaceKind.DIRECT
    if channel_type == "mpim" or (name or "").startswith(GROUP_NAME_PREFIX):
        return SpaceKind.GROUP
    return SpaceKind.CHANNEL


def _place(
    channel: str,
    *,
    name: str | None = None,
    kind: SpaceKind | None = None,
    thread: str | None = None,
) -> Place:
    space_kind = kind or _kind(None, channel, name)
    return Place(
        platform=Platform.SLACK,
        external_id=channel,
        name=name or (PRIVATE_PLACE_NAME if space_kind is SpaceKind.DIRECT else channel),
        kind=space_kind,
        thread_ref=thread,
    )


def private_place(user_id: str) -> Place:
    """Where to answer someone who acted outside any channel (App Home, a global shortcut).

    The space is keyed by the user id; the deliverer turns that into their DM with Hoedan.
    """
    return _place(user_id, kind=SpaceKind.DIRECT)


def _mentions(pairs: tuple[tuple[str, str], ...]) -> tuple[Mention, ...]:
    return tuple(Mention(external_id=uid, display_name=name) for uid, name in pairs)


def command(body: Mapping[str, Any], actor: Actor) -> CommandEvent | None:
    """``/hoedan <text>``; Slack escapes mentions in it because the manifest asks it to."""
    channel = _str(body.get("channel_id"))
    trigger = _str(body.get("trigger_id"))
    if channel is None or trigger is None:
        return None
    raw = body.get("text")
    converted = from_slack(raw if isinstance(raw, str) else "")
    channel_name = _str(body.get("channel_name"))
    return CommandEvent(
        actor=actor,
        place=_place(
            channel,
            name=None if channel_name in (None, "directmessage", "privategroup") else channel_name,
        ),
        delivery_id=f"command:{trigger}",
        text=converted.text,
        mentions=_mentions(converted.mentions),
    )


def message(
    event: Mapping[str, Any], actor: Actor, *, event_id: str, bot_user_id: str | None
) -> CommandEvent | MessageEvent | MessageEdited | MessageDeleted | MemberJoined | None:
    """A message Hoedan can see. In a DM with Hoedan it is a command; in a channel, a message."""
    subtype = event.get("subtype")
    channel = _str(event.get("channel"))
    ts = _str(event.get("ts"))
    if channel is not None and subtype in EDIT_SUBTYPES:
        return _edit(event, actor, channel, event_id=event_id, bot_user_id=bot_user_id)
    if channel is None or ts is None or event.get("bot_id") or event.get("hidden"):
        return None
    if subtype == "channel_join":
        return MemberJoined(actor=actor, place=_place(channel), delivery_id=event_id)
    if subtype not in USER_MESSAGE_SUBTYPES or _str(event.get("user")) in (None, bot_user_id):
        return None
    raw = event.get("text")
    converted = from_slack(raw if isinstance(raw, str) else "")
    thread = _str(event.get("thread_ts"))
    kind = _kind(event.get("channel_type"), channel)
    place = _place(channel, kind=kind, thread=thread)
    if kind is SpaceKind.DIRECT:
        return CommandEvent(
            actor=actor,
            place=place,
            delivery_id=event_id,
            text=converted.text,
            mentions=_mentions(converted.mentions),
        )
    return MessageEvent(
        actor=actor,
        place=place,
        delivery_id=event_id,
        text=converted.text,
        message_ref=ts,
        mentions=_mentions(converted.mentions),
    )


def _edit(
    event: Mapping[str, Any],
    actor: Actor,
    channel: str,
    *,
    event_id: str,
    bot_user_id: str | None,
) -> MessageEdited | MessageDeleted | None:
    """An edited or deleted message by a person (Hoedan's own and other bots' are left alone)."""
    current, previous = _dict(event.get("message")), _dict(event.get("previous_message"))
    author = _author_of_edit(event)
    if author in (None, bot_user_id) or current.get("bot_id") or previous.get("bot_id"):
        return None
    before = previous.get("text")
    previous_text = from_slack(before if isinstance(before, str) else "").text
    thread = _str(current.get("thread_ts")) or _str(previous.get("thread_ts"))
    if _str(current.get("thread_ts")) == _str(current.get("ts")):
        thread = None
    place = _place(channel, kind=_kind(event.get("channel_type"), channel), thread=thread)
    if event.get("subtype") == "message_deleted":
        deleted = _str(event.get("deleted_ts")) or _str(previous.get("ts"))
        if deleted is None:
            return None
        return MessageDeleted(
            actor=actor,
            place=place,
            delivery_id=event_id,
            message_ref=deleted,
            previous_text=previous_text,
        )
    edited, after = _str(current.get("ts")), current.get("text")
    if edited is None or not isinstance(after, str):
        return None
    return MessageEdited(
        actor=actor,
        place=place,
        delivery_id=event_id,
        message_ref=edited,
        text=from_slack(after).text,
        previous_text=previous_text,
    )


def app_mention(
    event: Mapping[str, Any], actor: Actor, *, event_id: str, bot_user_id: str | None
) -> CommandEvent | None:
    """``@Hoedan help`` in a channel: the text after the mention is a command.

    A mention that also carries #hoedan is left to the ``message`` event, which stores it as a
    question, so the same words are never handled twice.
    """
    channel = _str(event.get("channel"))
    raw = event.get("text")
    if channel is None or not isinstance(raw, str) or event.get("bot_id"):
        return None
    if re.search(r"(?<![\w#/@])#hoedan\b", raw, re.IGNORECASE):
        return None
    if bot_user_id:
        raw = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", raw)
    converted = from_slack(raw)
    return CommandEvent(
        actor=actor,
        place=_place(channel, thread=_str(event.get("thread_ts"))),
        delivery_id=event_id,
        text=converted.text.strip(),
        mentions=_mentions(converted.mentions),
    )


def home_opened(
    event: Mapping[str, Any], actor: Actor, *, event_id: str, bot_user_id: str | None = None
) -> HomeOpened | None:
    if event.get("tab", "home") != "home":
        return None
    return HomeOpened(actor=actor, place=private_place(actor.external_id), delivery_id=event_id)


def member_joined(
    event: Mapping[str, Any], actor: Actor, *, event_id: str, bot_user_id: str | None = None
) -> MemberJoined | None:
    channel = _str(event.get("channel"))
    if channel is None:
        return None
    return MemberJoined(
        actor=actor,
        place=_place(channel, kind=_kind(event.get("channel_type"), channel)),
        delivery_id=event_id,
    )


def _delivery_id(body: Mapping[str, Any], fallback: str | None) -> str | None:
    trigger = _str(body.get("trigger_id"))
    if trigger is not None:
        return f"interaction:{trigger}"
    return f"interaction:{fallback}" if fallback else None


def block_action(body: Mapping[str, Any], actor: Actor) -> ActionEvent | None:
    """A button pressed on a message or on the Home tab."""
    actions = body.get("actions")
    first = _dict(actions[0]) if isinstance(actions, list) and actions else {}
    action_id = _str(first.get("action_id"))
    if action_id is None:
        return None
    delivery = _delivery_id(body, _str(first.get("action_ts")))
    if delivery is None:
        return None
    channel = _str(_dict(body.get("channel")).get("id")) or _str(
        _dict(body.get("container")).get("channel_id")
    )
    message_body = _dict(body.get("message"))
    if channel is None:
        place = private_place(actor.external_id)
    else:
        thread = _str(message_body.get("thread_ts")) or _str(
            _dict(body.get("container")).get("thread_ts")
        )
        place = _place(channel, name=_str(_dict(body.get("channel")).get("name")), thread=thread)
    value = first.get("value")
    return ActionEvent(
        actor=actor,
        place=place,
        delivery_id=delivery,
        action=action_from_id(action_id),
        value=value if isinstance(value, str) else "",
        message_ref=_str(message_body.get("ts")),
    )


def message_shortcut(body: Mapping[str, Any], actor: Actor) -> ActionEvent | None:
    """ "Bewaar als #hoedan" on a message: keep that message as a question."""
    channel = _str(_dict(body.get("channel")).get("id"))
    message_body = _dict(body.get("message"))
    ts = _str(message_body.get("ts")) or _str(body.get("message_ts"))
    delivery = _delivery_id(body, _str(body.get("action_ts")) or ts)
    if channel is None or ts is None or delivery is None:
        return None
    raw = message_body.get("text")
    converted = from_slack(raw if isinstance(raw, str) else "")
    thread = _str(message_body.get("thread_ts")) or ts
    return ActionEvent(
        actor=actor,
        place=_place(channel, name=_str(_dict(body.get("channel")).get("name")), thread=thread),
        delivery_id=delivery,
        action=SAVE_MESSAGE,
        message_ref=ts,
        text=converted.text,
    )


def global_shortcut(body: Mapping[str, Any], actor: Actor) -> ActionEvent | None:
    """ "Stel een #hoedan-vraag" from anywhere in Slack: opens the question dialog."""
    delivery = _delivery_id(body, _str(body.get("action_ts")))
    if delivery is None:
        return None
    return ActionEvent(
        actor=actor,
        place=private_place(actor.external_id),
        delivery_id=delivery,
        action=OPEN_FORM,
    )


def encode_origin(place: Place, context: str) -> str:
    """What a modal remembers of where it was opened (Slack's ``private_metadata``)."""
    return json.dumps(
        {"c": place.external_id, "t": place.thread_ref, "n": place.name, "x": context},
        separators=(",", ":"),
    )


PEOPLE_PICKERS = frozenset({"multi_users_select"})
"""Dialog elements whose values are Slack user ids (see ``render``: ``MultiMember``)."""
MAX_PICKED = 50
"""At most this many picked people are looked up by name; Slack's picker has no own limit."""


def picked_users(body: Mapping[str, Any]) -> list[str]:
    """The user ids chosen in a submitted dialog's people pickers, each once, in order.

    The adapter looks their names up (``FormSubmitted.member_names``), so that someone picked
    before they ever spoke to Hoedan starts with their real name rather than their id.
    """
    values = _dict(_dict(_dict(body.get("view")).get("state")).get("values"))
    picked: list[str] = []
    for actions in values.values():
        for element in _dict(actions).values():
            element = _dict(element)
            users = element.get("selected_users")
            if element.get("type") in PEOPLE_PICKERS and isinstance(users, list):
                picked.extend(user for user in users if _str(user))
    return list(dict.fromkeys(picked))[:MAX_PICKED]


def view_submission(body: Mapping[str, Any], actor: Actor) -> FormSubmitted | None:
    view = _dict(body.get("view"))
    form_id = _str(view.get("callback_id"))
    delivery = _delivery_id(body, _str(view.get("id")) and f"{view.get('id')}:{view.get('hash')}")
    if form_id is None or delivery is None:
        return None
    try:
        origin = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        origin = {}
    origin = origin if isinstance(origin, dict) else {}
    channel = _str(origin.get("c"))
    if channel is None:
        place = private_place(actor.external_id)
    else:
        place = _place(channel, name=_str(origin.get("n")), thread=_str(origin.get("t")))
    context = origin.get("x")
    return FormSubmitted(
        actor=actor,
        place=place,
        delivery_id=delivery,
        form_id=form_id,
        values=form_values(_dict(_dict(view.get("state")).get("values"))),
        context=context if isinstance(context, str) else "",
    )
