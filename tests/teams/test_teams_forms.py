"""Forms in Teams, end to end over HTTP: a button or command that needs a dialog sends a form
card to the member's 1:1 chat, and submitting that card (as Teams does) has the effect."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from bot.teams.inbound import actor_of, translate
from bot.teams.render import FORM_VERB
from flows.events import FormSubmitted
from storage.models import Answer, Member, Region
from tests.teams.conftest import (
    ANNA,
    BRAM,
    CHANNEL,
    Running,
    User,
    activity,
    channel_message,
    personal_message,
)
from tests.teams.fake_connector import Posted

ANSWER_TITLE = "#zodan"


def _card(posted: Posted) -> dict[str, Any]:
    [attachment] = posted.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card: dict[str, Any] = attachment["content"]
    return card


def _inputs(posted: Posted) -> dict[str, dict[str, Any]]:
    return {
        element["id"]: element
        for element in _card(posted)["body"]
        if str(element.get("type", "")).startswith("Input.")
    }


def _submitted(
    hoedan: Running, sender: User, chat: str, card: Posted, **inputs: str
) -> dict[str, Any]:
    """What Teams sends when the card's submit button is pressed: a message in the chat the
    card is in, whose ``value`` is the action's data with the input values merged in."""
    [submit] = card.actions
    body = activity(
        hoedan.connector,
        sender=sender,
        conversation={"conversationType": "personal", "id": chat},
        replyToId=card.id,
        value={**submit["data"], **{f"input.{name}": value for name, value in inputs.items()}},
    )
    del body["text"]
    return body


async def _answers(hoedan: Running) -> list[Answer]:
    async with hoedan.store.transaction() as tx:
        return list((await tx.session.exec(select(Answer))).all())


async def _ask_and_open_answer_form(hoedan: Running) -> tuple[dict[str, Any], Posted]:
    """Anna asks in a channel; Bram presses "Ik heb een #zodan" under the question."""
    connector = hoedan.connector
    asked = channel_message(connector, ANNA, "#hoedan Hoe betrekken jullie inwoners?")
    await hoedan.send(asked)
    await hoedan.settle()
    [stored] = connector.delivered
    button = next(a for a in stored.actions if a["data"]["verb"] == "answer.open_form")

    pressed = channel_message(connector, BRAM, "", root=asked["id"])
    del pressed["text"]
    pressed.update(value=button["data"], replyToId=stored.id)
    status, _ = await hoedan.send(pressed)
    await hoedan.send(pressed)  # Teams retrying: still one form
    await hoedan.settle()
    assert status == 202
    [form] = connector.to(f"a:personal-{BRAM.id}")
    return asked, form


async def test_the_answer_button_sends_a_form_card_that_stores_the_answer(
    hoedan: Running,
) -> None:
    connector = hoedan.connector
    asked, form = await _ask_and_open_answer_form(hoedan)

    [opened] = connector.opened
    assert opened.body["members"] == [{"id": BRAM.id}]
    assert form.texts[0] == ANSWER_TITLE
    inputs = _inputs(form)
    assert inputs["input.answer"]["type"] == "Input.Text"
    assert inputs["input.answer"]["isMultiline"] is True
    assert inputs["input.answer"]["isRequired"] is True
    assert inputs["input.answer"]["errorMessage"] == "Vul dit in."
    assert inputs["input.link"]["type"] == "Input.Text"
    assert "isRequired" not in inputs["input.link"]
    [submit] = form.actions
    assert submit["type"] == "Action.Submit"
    assert submit["data"]["verb"] == FORM_VERB
    assert submit["data"]["form"] == "answer.form"
    assert "origin" not in submit["data"]  # where it belongs stays with Hoedan
    [row] = [
        m for m in await hoedan.outbox() if m.external_ref == f"{form.conversation_id}:{form.id}"
    ]
    assert row.payload["origin"]["c"] == CHANNEL
    assert row.payload["origin"]["t"] == asked["id"]
    assert row.payload["origin"]["x"] == "1"

    bram_chat = f"a:personal-{BRAM.id}"
    sent = _submitted(hoedan, BRAM, bram_chat, form, answer="Met een wijkavond.", link="")
    status, _ = await hoedan.send(sent)
    await hoedan.send(sent)  # a retry stores nothing twice
    await hoedan.settle()

    assert status == 202
    [answer] = await _answers(hoedan)
    assert answer.text == "Met een wijkavond."
    [notice] = connector.to(f"a:personal-{ANNA.id}")
    assert "Een #zodan op je vraag **#1**" in notice.text
    assert "Met een wijkavond." in notice.text


async def test_a_required_field_left_empty_is_refused_in_dutch_and_nothing_is_stored(
    hoedan: Running,
) -> None:
    connector = hoedan.connector
    _, form = await _ask_and_open_answer_form(hoedan)
    bram_chat = f"a:personal-{BRAM.id}"

    await hoedan.send(_submitted(hoedan, BRAM, bram_chat, form, answer="  ", link=""))
    await hoedan.settle()

    assert await _answers(hoedan) == []
    [_, refusal] = connector.to(bram_chat)
    assert "Je hebt nog niet alles ingevuld wat nodig is." in refusal.text
    assert connector.to(f"a:personal-{ANNA.id}") == []


async def test_a_form_card_hoedan_never_sent_is_refused_in_dutch(hoedan: Running) -> None:
    body = personal_message(hoedan.connector, ANNA, "", replyToId="made-up-card")
    del body["text"]
    body["value"] = {"verb": FORM_VERB, "form": "verdwenen.form", "kinds": {}}

    status, _ = await hoedan.send(body)
    await hoedan.settle()

    assert status == 202
    [reply] = hoedan.connector.to(ANNA.personal)
    assert "Dit formulier ken ik niet (meer)." in reply.text


async def test_a_submission_cannot_change_the_form_its_place_or_its_person(
    hoedan: Running,
) -> None:
    """What a changed client sends besides the typed inputs is not believed: the form, its
    place and how its inputs are read come from the card as Hoedan sent it, to this member."""
    connector = hoedan.connector
    _, form = await _ask_and_open_answer_form(hoedan)
    bram_chat = f"a:personal-{BRAM.id}"

    forged = _submitted(hoedan, BRAM, bram_chat, form, answer="Met een wijkavond.", link="")
    forged["value"].update(
        form="intervision.start",
        origin={"c": "19:elders@thread.tacv2", "k": "channel", "t": None, "x": "vijfminuten"},
        kinds={"answer": "p"},
    )
    await hoedan.send(forged)
    await hoedan.settle()
    [answer] = await _answers(hoedan)
    assert answer.text == "Met een wijkavond."  # the answer form, read as text
    [question] = await hoedan.questions()
    assert answer.question_id == question.id

    # Someone else answering Bram's card (in their own chat, naming its id) gets nothing done.
    anna_chat = f"a:personal-{ANNA.id}"
    taken = _submitted(hoedan, ANNA, anna_chat, form, answer="Iets anders.", link="")
    await hoedan.send(taken)
    await hoedan.settle()
    assert [a.text for a in await _answers(hoedan)] == ["Met een wijkavond."]
    assert "Dit formulier ken ik niet (meer)." in connector.to(anna_chat)[-1].text


async def test_the_region_form_submitted_with_action_execute_sets_the_region(
    hoedan: Running,
) -> None:
    connector = hoedan.connector
    await hoedan.send(personal_message(connector, ANNA, "regio"))
    await hoedan.settle()
    [form] = connector.to(ANNA.personal)
    assert "Jouw regio" in form.text
    assert set(_inputs(form)) == {"input.new"}
    [submit] = form.actions

    invoke = personal_message(connector, ANNA, "")
    del invoke["text"]
    invoke.update(
        type="invoke",
        name="adaptiveCard/action",
        replyToId=form.id,
        value={
            "action": {
                "type": "Action.Execute",
                "verb": FORM_VERB,
                "data": {**submit["data"], "input.new": "Twente"},
            },
            "trigger": "manual",
        },
    )
    status, text = await hoedan.send(invoke)
    await hoedan.settle()

    assert status == 200
    assert json.loads(text)["statusCode"] == 200
    [_, confirmed] = connector.to(ANNA.personal)
    assert "je hoort bij regio Twente" in confirmed.text
    async with hoedan.store.transaction() as tx:
        [region] = (await tx.session.exec(select(Region))).all()
        member = (await tx.session.exec(select(Member).where(Member.external_id == ANNA.id))).one()
    assert member.region_id == region.id


async def test_typed_names_of_known_teams_members_become_their_teams_ids(
    hoedan: Running,
) -> None:
    """No people picker in Teams: a typed name that matches one member Hoedan has seen in Teams
    becomes their id; a name nobody matches stays a name, as in the console."""
    await hoedan.send(personal_message(hoedan.connector, BRAM, "help"))
    await hoedan.settle()
    body = personal_message(hoedan.connector, ANNA, "")
    del body["text"]
    body["value"] = {
        "verb": FORM_VERB,
        "form": "test.form",
        "origin": {},
        "kinds": {"who": "p"},
        "required": ["who"],
        "input.who": "bram jansen, Cor Klaassen",
    }
    actor = actor_of(body)
    assert actor is not None
    event = translate(body, actor)
    assert isinstance(event, FormSubmitted)
    adapter = hoedan.service.teams
    assert adapter is not None

    resolved = await adapter._known_members(body["value"], event)

    assert resolved.values == {"who": [BRAM.id, "cor klaassen"]}
    assert resolved.member_names == {BRAM.id: BRAM.name, "cor klaassen": "Cor Klaassen"}
