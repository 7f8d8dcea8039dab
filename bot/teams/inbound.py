"""Teams activities in, neutral events out.

An activity arrives as the Bot Connector's JSON (``from``, ``conversation``, ``entities`` …).
Teams sends what it sends: fields may be missing or of another type. Every function here
returns ``None`` for an activity it cannot use and never raises on bad input.

Where things are in Teams:

* a channel conversation id carries the thread it is about: ``19:…@thread.tacv2;messageid=17…``.
  The part before ``;messageid=`` is the channel (the space); the message id is the thread's root
  post. A post at the top of a channel is its own root, so it has no thread of its own yet.
* a 1:1 chat (``conversationType`` "personal") is a direct space: whatever is typed there is a
  command, as in a Slack DM.
* in a channel or group chat, Teams only delivers what mentions Hoedan (or, with the resource
  specific consent permission, every message). ``@Hoedan help`` is a command; a message with
  #hoedan or #zodan is a message, so that the shared rules for those tags apply.
* mentions are ``<at>Name</at>`` in the text plus a ``mention`` entity per person. Hoedan's own
  mention is removed, the others become ``@Name`` with a :class:`Mention`.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.teams.render import FORM_VERB, INPUT_PREFIX
from flows.events import (
    ActionEvent,
    Actor,
    CommandEvent,
    FormSubmitted,
    FormValue,
    InboundEvent,
    MemberJoined,
    Mention,
    MessageDeleted,
    MessageEdited,
    MessageEvent,
    Place,
)
from storage.enums import Platform, SpaceKind
from storage.repositories.members import name_key

THREAD_MARK = ";messageid="
PRIVATE_PLACE_NAME = "Hoedan"
ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
MESSAGE_UPDATE = "messageUpdate"
CONVERSATION_UPDATE = "conversationUpdate"
MESSAGE_DELETE = "messageDelete"

_TAG = re.compile(r"(?<![\w#/@])#(hoedan|zodan)\b", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"</?(?:p|div|span|br|b|i|u|s|em|strong|strike|ol|ul|li|blockquote|pre|code|h[1-6])"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.IGNORECASE)
_AT = re.compile(r"<at(?:\s[^<>]*)?>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Where:
    """The parts of an activity's conversation Hoedan keeps apart."""

    conversation_id: str
    """The full id, as Teams addresses replies in this thread."""
    space_id: str
    """The channel (or chat) without a thread: the neutral space's external id."""
    root: str | None
    """The thread's root post, when the conversation id names one."""
    kind: SpaceKind
    name: str


def where(activity: Mapping[str, Any]) -> Where | None:
    conversation = _dict(activity.get("conversation"))
    conversation_id = _str(conversation.get("id"))
    if conversation_id is None:
        return None
    space_id, mark, root = conversation_id.partition(THREAD_MARK)
    kind = {
        "personal": SpaceKind.DIRECT,
        "groupChat": SpaceKind.GROUP,
    }.get(str(conversation.get("conversationType") or ""), SpaceKind.CHANNEL)
    if kind is SpaceKind.CHANNEL and conversation.get("isGroup") is False:
        kind = SpaceKind.DIRECT
    channel_data = _dict(activity.get("channelData"))
    name = (
        _str(_dict(channel_data.get("channel")).get("name"))
        or _str(conversation.get("name"))
        or (PRIVATE_PLACE_NAME if kind is SpaceKind.DIRECT else space_id)
    )
    return Where(
        conversation_id=conversation_id,
        space_id=space_id,
        root=root if mark and root else None,
        kind=kind,
        name=name,
    )


def user_id_of(activity: Mapping[str, Any]) -> str | None:
    return _str(_dict(activity.get("from")).get("id"))


def bot_id_of(activity: Mapping[str, Any]) -> str | None:
    return _str(_dict(activity.get("recipient")).get("id"))


def tenant_of(activity: Mapping[str, Any]) -> str | None:
    return _str(_dict(activity.get("conversation")).get("tenantId")) or _str(
        _dict(_dict(activity.get("channelData")).get("tenant")).get("id")
    )


def team_of(activity: Mapping[str, Any]) -> str | None:
    """The team a channel activity belongs to (its General channel shares the team's id)."""
    return _str(_dict(_dict(activity.get("channelData")).get("team")).get("id"))


def added_members(activity: Mapping[str, Any]) -> list[Actor]:
    """The people a ``conversationUpdate`` adds (Hoedan itself left out); Teams often sends
    only their ids, so a name may be empty until they first say something."""
    if activity.get("type") != CONVERSATION_UPDATE:
        return []
    bot_id = bot_id_of(activity)
    added = [_dict(entry) for entry in _list(activity.get("membersAdded"))]
    return [
        Actor(
            platform=Platform.TEAMS,
            external_id=member_id,
            display_name=_str(entry.get("name")) or "",
        )
        for entry in added
        if (member_id := _str(entry.get("id"))) is not None and member_id != bot_id
    ]


def members_joined(activity: Mapping[str, Any], channels: list[str]) -> list[MemberJoined]:
    """Someone added to a team joined its channels: one event per person and channel.

    ``channels`` are the team's channels Hoedan knows (see ``references.channels_of``); the
    conversation the activity names (the team's General channel) is always among them. Added
    to a group chat, nobody is welcomed: house rules belong to channels.
    """
    spot = where(activity)
    if spot is None or spot.kind is not SpaceKind.CHANNEL:
        return []
    activity_id = _str(activity.get("id")) or _str(activity.get("timestamp")) or ""
    return [
        MemberJoined(
            actor=actor,
            place=Place(
                platform=Platform.TEAMS,
                external_id=channel,
                name=spot.name if channel == spot.space_id else channel,
                kind=SpaceKind.CHANNEL,
            ),
            delivery_id=f"{activity_id}:joined:{actor.external_id}:{channel}",
        )
        for actor in added_members(activity)
        for channel in dict.fromkeys([spot.space_id, *channels])
    ]


def actor_of(activity: Mapping[str, Any]) -> Actor | None:
    sender = _dict(activity.get("from"))
    user_id = _str(sender.get("id"))
    if user_id is None:
        return None
    client = next(
        (
            _dict(entity)
            for entity in _list(activity.get("entities"))
            if _dict(entity).get("type") == "clientInfo"
        ),
        {},
    )
    return Actor(
        platform=Platform.TEAMS,
        external_id=user_id,
        display_name=_str(sender.get("name")) or "",
        locale=_str(activity.get("locale")) or _str(client.get("locale")),
        timezone=_str(activity.get("localTimezone")) or _str(client.get("timezone")),
    )


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class TeamsText:
    """Incoming text as plain words, plus the people it mentioned (not Hoedan)."""

    text: str
    mentions: tuple[Mention, ...]
    mentioned_bot: bool


def from_teams(text: object, entities: object, bot_id: str | None) -> TeamsText:
    """Teams' message text as the reader saw it; Hoedan's own mention removed.

    The mentioned person is known from the entity whose ``text`` (``<at>Name</at>``) appears in
    the message, never from the name alone, so typing ``<at>Anna</at>`` by hand mentions nobody.
    """
    if not isinstance(text, str):
        return TeamsText(text="", mentions=(), mentioned_bot=False)
    by_tag: dict[str, tuple[str, str]] = {}
    mentioned_bot = False
    for raw in _list(entities):
        entity = _dict(raw)
        if entity.get("type") != "mention":
            continue
        person = _dict(entity.get("mentioned"))
        person_id = _str(person.get("id"))
        tag = _str(entity.get("text"))
        if person_id is None or tag is None:
            continue
        if person_id == bot_id:
            mentioned_bot = True
        by_tag[tag] = (person_id, _str(person.get("name")) or _at_name(tag))
    mentions: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        found = by_tag.get(match.group(0))
        if found is None:
            return html.unescape(_HTML_TAG.sub("", match.group(1)))
        person_id, name = found
        if person_id == bot_id:
            return " "
        mentions.setdefault(person_id, name)
        return "@" + name

    with_breaks = _BREAK.sub("\n", text)
    replaced = _AT.sub(lambda m: "\x00" + replace(m) + "\x01", with_breaks)
    pieces = re.split(r"(\x00[^\x00\x01]*\x01)", replaced)
    plain = "".join(
        piece[1:-1] if piece.startswith("\x00") else html.unescape(_HTML_TAG.sub("", piece))
        for piece in pieces
    )
    cleaned = re.sub(r"[ \t]+", " ", plain).strip()
    return TeamsText(
        text=cleaned,
        mentions=tuple(Mention(external_id=i, display_name=n) for i, n in mentions.items()),
        mentioned_bot=mentioned_bot,
    )


def _at_name(tag: str) -> str:
    match = _AT.fullmatch(tag)
    return html.unescape(match.group(1)) if match else tag


def _place(spot: Where, *, message_id: str | None) -> Place:
    """A root post in a channel is no thread yet; a reply names its root as the thread."""
    thread = spot.root if spot.root is not None and spot.root != message_id else None
    return Place(
        platform=Platform.TEAMS,
        external_id=spot.space_id,
        name=spot.name,
        kind=spot.kind,
        thread_ref=thread,
    )


def translate(activity: Mapping[str, Any], actor: Actor) -> InboundEvent | None:
    """The neutral event for an activity, or ``None`` when Hoedan has nothing to do with it."""
    activity_id = _str(activity.get("id"))
    spot = where(activity)
    if activity_id is None or spot is None:
        return None
    kind = activity.get("type")
    form = form_data(activity)
    if form is not None:
        return form_submitted(activity, actor, activity_id, form)
    if kind == "message":
        submitted = card_action(activity.get("value"))
        if submitted is not None:
            return _action(activity, actor, spot, activity_id, submitted)
        return message(activity, actor, spot, activity_id)
    if kind == "invoke" and activity.get("name") == ADAPTIVE_CARD_ACTION:
        executed = execute_action(activity.get("value"))
        if executed is not None:
            return _action(activity, actor, spot, activity_id, executed)
    if kind in (MESSAGE_UPDATE, MESSAGE_DELETE):
        return changed(activity, actor, spot, activity_id)
    return None


def changed(
    activity: Mapping[str, Any], actor: Actor, spot: Where, message_id: str
) -> MessageEdited | MessageDeleted | None:
    """A person edited or deleted a message (``messageUpdate``/``messageDelete``).

    Teams sends the message's own id as the activity id, so the delivery id adds what
    happened: otherwise the edit would look like a repeat of the message and be dropped. An
    edit's id includes a digest of the new text, so a second, different edit is new too.
    Teams does not say what the message said before (``previous_text=None``). Restoring a
    deleted message ("undeleteMessage") is left alone: the question stays withdrawn.
    """
    if _from_a_bot(activity, actor):
        return None
    event_type = _dict(activity.get("channelData")).get("eventType")
    place = _place(spot, message_id=message_id)
    if activity.get("type") == MESSAGE_DELETE and event_type == "softDeleteMessage":
        return MessageDeleted(
            actor=actor,
            place=place,
            delivery_id=f"{message_id}:deleted",
            message_ref=message_id,
            previous_text=None,
        )
    if activity.get("type") != MESSAGE_UPDATE or event_type != "editMessage":
        return None
    converted = from_teams(activity.get("text"), activity.get("entities"), bot_id_of(activity))
    digest = hashlib.sha256(converted.text.encode()).hexdigest()[:16]
    return MessageEdited(
        actor=actor,
        place=place,
        delivery_id=f"{message_id}:edited:{digest}",
        message_ref=message_id,
        text=converted.text,
        previous_text=None,
    )


def _from_a_bot(activity: Mapping[str, Any], actor: Actor) -> bool:
    """Hoedan's own messages and other bots' are never someone's words."""
    return _dict(activity.get("from")).get("role") == "bot" or actor.external_id == bot_id_of(
        activity
    )


def message(
    activity: Mapping[str, Any], actor: Actor, spot: Where, activity_id: str
) -> CommandEvent | MessageEvent | None:
    if _from_a_bot(activity, actor):
        return None
    bot_id = bot_id_of(activity)
    converted = from_teams(activity.get("text"), activity.get("entities"), bot_id)
    place = _place(spot, message_id=activity_id)
    if not converted.text:
        return None
    addressed = converted.mentioned_bot and not _TAG.search(converted.text)
    if spot.kind is SpaceKind.DIRECT or addressed:
        return CommandEvent(
            actor=actor,
            place=place,
            delivery_id=activity_id,
            text=converted.text,
            mentions=converted.mentions,
        )
    return MessageEvent(
        actor=actor,
        place=place,
        delivery_id=activity_id,
        text=converted.text,
        message_ref=activity_id,
        mentions=converted.mentions,
    )


def card_action(value: object) -> tuple[str, str] | None:
    """``(verb, value)`` from an Action.Submit's data, sent back as a message's ``value``."""
    data = _dict(value)
    verb = _str(data.get("verb"))
    if verb is None:
        return None
    raw = data.get("value", "")
    return verb, raw if isinstance(raw, str) else ""


def execute_action(value: object) -> tuple[str, str] | None:
    """``(verb, value)`` from an Action.Execute invoke (``value.action.verb`` and its data)."""
    action = _dict(_dict(value).get("action"))
    verb = _str(action.get("verb")) or _str(_dict(action.get("data")).get("verb"))
    if verb is None:
        return None
    raw = _dict(action.get("data")).get("value", "")
    return verb, raw if isinstance(raw, str) else ""


def _action(
    activity: Mapping[str, Any],
    actor: Actor,
    spot: Where,
    activity_id: str,
    action: tuple[str, str],
) -> ActionEvent:
    """A card button: the card it was on is ``replyToId``, and that post's thread the place."""
    card_id = _str(activity.get("replyToId"))
    return ActionEvent(
        actor=actor,
        place=_place(spot, message_id=card_id),
        delivery_id=activity_id,
        action=action[0],
        value=action[1],
        message_ref=card_id,
    )


# Forms -------------------------------------------------------------------------------------


def encode_origin(place: Place, context: str) -> dict[str, Any]:
    """What a form card carries of where it was opened, like Slack's ``private_metadata``.

    The card itself is sent to the member's 1:1 chat, but the form belongs to the place where
    the button was pressed (a question's thread, a channel's session): that place comes back
    with the submission, so the runtime sees the same place it would after a Slack modal.
    """
    return {
        "c": place.external_id,
        "n": place.name,
        "k": place.kind.value,
        "t": place.thread_ref,
        "x": context,
    }


def origin_place(origin: Mapping[str, Any], spot: Where) -> Place:
    """The place an origin names; without a usable one, where the card was submitted."""
    space = _str(origin.get("c"))
    if space is None:
        return _place(spot, message_id=None)
    try:
        kind = SpaceKind(str(origin.get("k") or ""))
    except ValueError:
        kind = SpaceKind.CHANNEL
    return Place(
        platform=Platform.TEAMS,
        external_id=space,
        name=_str(origin.get("n")) or (PRIVATE_PLACE_NAME if kind is SpaceKind.DIRECT else space),
        kind=kind,
        thread_ref=_str(origin.get("t")),
    )


def form_data(activity: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A form card's submit data with its inputs merged in (Action.Submit sends it as the
    message's ``value``, Action.Execute as the invoke's ``value.action.data``)."""
    kind = activity.get("type")
    if kind == "message":
        data = _dict(activity.get("value"))
    elif kind == "invoke" and activity.get("name") == ADAPTIVE_CARD_ACTION:
        data = _dict(_dict(_dict(activity.get("value")).get("action")).get("data"))
    else:
        return None
    if data.get("verb") != FORM_VERB or _str(data.get("form")) is None:
        return None
    return data


def form_submitted(
    activity: Mapping[str, Any],
    actor: Actor,
    activity_id: str,
    data: Mapping[str, Any],
    origin: Mapping[str, Any] | None = None,
) -> FormSubmitted | None:
    """A submitted form card; ``origin`` (see :func:`encode_origin`) is where the form was
    opened, as stored with the card: without it, the form belongs where it was submitted."""
    spot = where(activity)
    form_id = _str(data.get("form"))
    if spot is None or form_id is None:
        return None
    origin = origin or {}
    context = origin.get("x")
    values, member_names = form_values(data)
    return FormSubmitted(
        actor=actor,
        place=origin_place(origin, spot),
        delivery_id=activity_id,
        form_id=form_id,
        values=values,
        context=context if isinstance(context, str) else "",
        member_names=member_names,
    )


def answered_card(activity: Mapping[str, Any]) -> str | None:
    """The id of the card a submission answers (Teams sends it as ``replyToId``)."""
    return _str(activity.get("replyToId"))


def typed_inputs(data: Mapping[str, Any]) -> dict[str, Any]:
    """Only what the person typed or chose: the rest of a submission's data is the card's."""
    return {key: value for key, value in data.items() if key.startswith(INPUT_PREFIX)}


def form_values(data: Mapping[str, Any]) -> tuple[dict[str, FormValue], dict[str, str]]:
    """The submitted inputs as the runtime expects them, the way Slack's ``form_values`` gives
    them: text as text, a single choice as its value (``None`` when none), a multiple choice as
    a list, a scale as an int, a checkbox as a bool. Teams sends every value as a string.

    A member input holds names typed with commas between them. Teams gives Hoedan no way to
    turn a name into a Teams user id without Graph permissions, so, as in the console, each
    name becomes its name key, with the name as typed in ``member_names``.
    """
    values: dict[str, FormValue] = {}
    member_names: dict[str, str] = {}
    for name, code in _dict(data.get("kinds")).items():
        if not isinstance(name, str) or not isinstance(code, str):
            continue
        raw = data.get(INPUT_PREFIX + name)
        text = raw.strip() if isinstance(raw, str) else ""
        if code == "t":
            values[name] = raw if isinstance(raw, str) else ""
        elif code == "c":
            values[name] = text or None
        elif code == "m":
            values[name] = [part.strip() for part in text.split(",") if part.strip()]
        elif code == "s":
            values[name] = int(text) if text.isascii() and text.isdigit() else None
        elif code == "b":
            values[name] = text.lower() == "true"
        elif code == "p":
            typed = [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]
            keys = [name_key(part) for part in typed]
            member_names.update((key, part) for key, part in zip(keys, typed, strict=True) if key)
            values[name] = list(dict.fromkeys(key for key in keys if key))
    return values, member_names


def member_inputs(data: Mapping[str, Any]) -> list[str]:
    """The names of a submitted form's member inputs."""
    return [name for name, code in _dict(data.get("kinds")).items() if code == "p"]


def missing_required(data: Mapping[str, Any]) -> list[str]:
    """Required inputs that came back empty. Teams checks ``isRequired`` before sending, but
    older clients do not, so Hoedan checks again before anything reaches a flow."""
    values, _ = form_values(data)
    return [
        name
        for name in _list(data.get("required"))
        if isinstance(name, str) and _empty(values.get(name))
    ]


def _empty(value: FormValue) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())
