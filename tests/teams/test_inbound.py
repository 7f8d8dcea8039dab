"""Teams activities to neutral events, including odd and hostile ones."""

from __future__ import annotations

from typing import Any

import pytest

from bot.teams.inbound import (
    actor_of,
    form_submitted,
    from_teams,
    missing_required,
    translate,
    typed_inputs,
)
from bot.teams.render import FORM_VERB
from flows.events import ActionEvent, CommandEvent, FormSubmitted, Mention, MessageEvent
from storage.enums import Platform, SpaceKind

BOT = "28:bot"
CHANNEL = "19:kanaal@thread.tacv2"


def _activity(**values: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "id": "1700000000123",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "from": {"id": "29:anna", "name": "Anna"},
        "recipient": {"id": BOT, "name": "Hoedan"},
        "conversation": {"id": "a:1anna", "conversationType": "personal", "tenantId": "t"},
        "text": "help",
    }
    body.update(values)
    return body


def _event(body: dict[str, Any]) -> object:
    actor = actor_of(body)
    assert actor is not None
    return translate(body, actor)


def test_a_personal_message_is_a_command() -> None:
    event = _event(_activity())

    assert isinstance(event, CommandEvent)
    assert event.text == "help"
    assert event.delivery_id == "1700000000123"
    assert event.place.kind is SpaceKind.DIRECT
    assert event.place.external_id == "a:1anna"
    assert event.actor.platform is Platform.TEAMS
    assert event.actor.display_name == "Anna"


def test_the_bots_mention_is_removed_and_others_become_mentions() -> None:
    text = "<at>Hoedan</at> rol <at>Bram Jansen</at> coach"
    entities = [
        {"type": "mention", "text": "<at>Hoedan</at>", "mentioned": {"id": BOT, "name": "Hoedan"}},
        {
            "type": "mention",
            "text": "<at>Bram Jansen</at>",
            "mentioned": {"id": "29:bram", "name": "Bram Jansen"},
        },
    ]

    converted = from_teams(text, entities, BOT)

    assert converted.text == "rol @Bram Jansen coach"
    assert converted.mentions == (Mention(external_id="29:bram", display_name="Bram Jansen"),)
    assert converted.mentioned_bot


def test_a_typed_at_tag_without_an_entity_mentions_nobody() -> None:
    converted = from_teams("hoi <at>Bram</at> &amp; <p>jij</p>", [], BOT)

    assert converted.text == "hoi Bram & jij"
    assert converted.mentions == ()
    assert not converted.mentioned_bot


def test_a_channel_post_with_hoedan_is_a_message_at_the_top_of_a_new_thread() -> None:
    body = _activity(
        text="#hoedan Wie weet raad?",
        conversation={"id": f"{CHANNEL};messageid=1700000000123", "conversationType": "channel"},
        channelData={"channel": {"id": CHANNEL, "name": "Algemeen"}},
    )

    event = _event(body)

    assert isinstance(event, MessageEvent)
    assert event.place.external_id == CHANNEL
    assert event.place.name == "Algemeen"
    assert event.place.thread_ref is None
    assert event.message_ref == "1700000000123"


def test_a_reply_in_a_channel_thread_names_its_root() -> None:
    body = _activity(
        id="1700000000999",
        text="#zodan Zo deden wij het.",
        conversation={"id": f"{CHANNEL};messageid=1700000000123", "conversationType": "channel"},
    )

    event = _event(body)

    assert isinstance(event, MessageEvent)
    assert event.place.thread_ref == "1700000000123"


def test_a_mention_with_hoedan_tag_in_a_channel_stays_a_message() -> None:
    body = _activity(
        text="<at>Hoedan</at> #hoedan Vraag",
        entities=[
            {"type": "mention", "text": "<at>Hoedan</at>", "mentioned": {"id": BOT, "name": "H"}}
        ],
        conversation={"id": CHANNEL, "conversationType": "channel"},
    )

    event = _event(body)

    assert isinstance(event, MessageEvent)
    assert event.text == "#hoedan Vraag"


def test_card_submit_and_execute_are_actions() -> None:
    submit = _activity(value={"verb": "answer.helpful", "value": "4"}, replyToId="55")
    del submit["text"]
    execute = _activity(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "help.show", "data": {"value": "x"}}},
    )

    submitted = _event(submit)
    executed = _event(execute)

    assert isinstance(submitted, ActionEvent)
    assert (submitted.action, submitted.value, submitted.message_ref) == (
        "answer.helpful",
        "4",
        "55",
    )
    assert isinstance(executed, ActionEvent)
    assert (executed.action, executed.value) == ("help.show", "x")


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"conversation": None},
        {"conversation": {"id": 5}},
        {"type": "conversationUpdate"},
        {"text": None},
        {"text": "   "},
        {"from": {"id": BOT}},
        {"from": {"id": "29:x", "role": "bot"}},
        {"type": "invoke", "name": "composeExtension/query"},
        {"text": None, "value": {"verb": 12}},
    ],
)
def test_activities_hoedan_cannot_use_give_nothing(changes: dict[str, Any]) -> None:
    body = _activity(**changes)
    actor = actor_of(body)

    assert actor is None or translate(body, actor) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"entities": "nope"},
        {"entities": [None, 3, {"type": "mention"}, {"type": "mention", "mentioned": "x"}]},
        {"channelData": [1]},
        {"conversation": {"id": "a:1", "conversationType": 7}},
        {"value": {"verb": "x", "value": {"nested": True}}},
    ],
)
def test_odd_fields_never_raise(changes: dict[str, Any]) -> None:
    body = _activity(**changes)
    actor = actor_of(body)

    assert actor is not None
    assert translate(body, actor) is not None


def _form_value(**inputs: Any) -> dict[str, Any]:
    return {
        "verb": FORM_VERB,
        "form": "test.form",
        "kinds": {
            "name": "t",
            "one": "c",
            "many": "m",
            "score": "s",
            "ok": "b",
            "who": "p",
            "none": "c",
        },
        "required": ["name"],
        **{f"input.{name}": value for name, value in inputs.items()},
    }


ORIGIN = {"c": CHANNEL, "n": "Algemeen", "k": "channel", "t": "1700000000001", "x": "42"}
"""Where the form was opened, as the adapter finds it stored with the card it sent."""


def test_a_submitted_form_card_is_a_form_with_typed_values_in_its_original_place() -> None:
    value = _form_value(
        name="Anna", one="b", many="1,3", score="4", ok="true", who="Bram Jansen, Één Twee"
    )
    body = _activity(text=None, value=value)
    actor = actor_of(body)
    assert actor is not None
    event = form_submitted(body, actor, "act-1", value, ORIGIN)

    assert isinstance(event, FormSubmitted)
    assert event.form_id == "test.form"
    assert event.context == "42"
    assert event.place.external_id == CHANNEL
    assert event.place.kind is SpaceKind.CHANNEL
    assert event.place.thread_ref == "1700000000001"
    assert event.place.name == "Algemeen"
    assert event.values == {
        "name": "Anna",
        "one": "b",
        "many": ["1", "3"],
        "score": 4,
        "ok": True,
        "who": ["bram jansen", "een twee"],
        "none": None,
    }
    assert event.member_names == {"bram jansen": "Bram Jansen", "een twee": "Één Twee"}
    assert missing_required(value) == []


def test_an_action_execute_of_a_form_card_is_a_form_too() -> None:
    invoke = _activity(
        type="invoke",
        name="adaptiveCard/action",
        text=None,
        value={
            "action": {
                "type": "Action.Execute",
                "verb": FORM_VERB,
                "data": _form_value(name="Anna", ok="false"),
            }
        },
    )

    event = _event(invoke)

    assert isinstance(event, FormSubmitted)
    assert event.values["name"] == "Anna"
    assert event.values["ok"] is False


def test_empty_required_inputs_and_odd_values_are_read_without_raising() -> None:
    value = _form_value(name="   ", score="vijf", many=7)
    value["origin"] = ORIGIN  # an origin in the card's data is not believed
    value["kinds"]["odd"] = ["x"]

    event = _event(_activity(text=None, value=value))

    assert isinstance(event, FormSubmitted)
    assert event.place.external_id == "a:1anna"  # no origin: where it was submitted
    assert event.context == ""
    assert event.values["score"] is None
    assert event.values["many"] == []
    assert "odd" not in event.values
    assert missing_required(value) == ["name"]


def test_only_typed_inputs_are_taken_from_a_submission() -> None:
    value = _form_value(name="Anna")
    value["kinds"] = {"name": "p"}

    assert typed_inputs(value) == {"input.name": "Anna"}
