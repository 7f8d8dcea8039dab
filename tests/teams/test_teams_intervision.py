"""A whole intervision session in Teams, end to end over HTTP, driven by card actions.

A bot cannot create a group chat in Teams, so the session lives in a channel thread: Carla (an
admin, so she may do what a coach does) says ``@Hoedan intervisie vijfminuten`` in a channel,
fills in the start form that arrives in her 1:1 chat (typing the names of members Hoedan has
already seen), and then steers the session from its cards: "Begin" on the opening post and
"Volgende" on every phase card in the thread, until the closing summary. Everything the
session says lands in its thread, or privately in a person's 1:1 chat; nothing else in the
channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from flows import intervision
from flows.intervision_room import START_FORM, THREAD
from storage.models import FlowInstance, IntervisionContribution, IntervisionSession, Space
from tests.teams.conftest import (
    ANNA,
    BRAM,
    CHANNEL,
    Running,
    User,
    activity,
    channel_message,
    personal_message,
    running,
    teams_settings,
)
from tests.teams.fake_connector import FakeConnector, Posted

CARLA = User("29:1carla-teams-id", "Carla Coach", "aad-carla")
DIRK = User("29:1dirk-teams-id", "Dirk Dekker", "aad-dirk")
EVA = User("29:1eva-teams-id", "Eva Evers", "aad-eva")
PHASES = 5
"""The five-minute method: the question, clarifying, tips, the reaction, the lessons."""


@pytest.fixture
async def hoedan(database_url: str, connector: FakeConnector) -> AsyncIterator[Running]:
    """Hoedan with Teams over HTTP; Carla is in ``admins``."""
    settings = teams_settings(database_url, admins=frozenset({CARLA.id}))
    async with running(settings, connector) as started:
        yield started


def _button(card: Posted, verb: str) -> dict[str, Any]:
    [found] = [a for a in card.actions if a.get("data", {}).get("verb") == verb]
    assert found["type"] == "Action.Submit"
    return found


def _in_thread(connector: FakeConnector, root: str) -> list[Posted]:
    """Posts in the thread under ``root``, as Teams threads a reply."""
    return [
        p
        for p in connector.delivered
        if p.conversation_id == f"{CHANNEL};messageid={root}" and p.reply_to == root
    ]


async def _press(hoedan: Running, user: User, root: str, card: Posted, verb: str) -> None:
    """What Teams sends when ``user`` presses a button on a card in the thread of ``root``: a
    message in that thread whose ``value`` is the button's data exactly as the card had it."""
    pressed = channel_message(hoedan.connector, user, "", root=root)
    del pressed["text"]
    pressed.update(value=_button(card, verb)["data"], replyToId=card.id)
    status, _ = await hoedan.send(pressed)
    await hoedan.settle()
    assert status == 202


async def test_a_coach_runs_a_whole_session_in_a_channel_thread_with_card_buttons(
    hoedan: Running,
) -> None:
    connector = hoedan.connector
    for person in (ANNA, BRAM, DIRK):  # seen in Teams, so their typed names are known
        await hoedan.send(personal_message(connector, person, "help"))
    await hoedan.settle()
    before = len(connector.delivered)

    command = channel_message(connector, CARLA, "intervisie vijfminuten", mention=True)
    await hoedan.send(command)
    await hoedan.settle()
    carla_chat = f"a:personal-{CARLA.id}"
    [form] = connector.to(carla_chat)
    [submit] = form.actions
    assert submit["data"]["form"] == START_FORM
    [venue] = [
        e for e in form.body["attachments"][0]["content"]["body"] if e.get("id") == "input.venue"
    ]
    assert [choice["value"] for choice in venue["choices"]] == [THREAD]  # no group chats
    assert venue["value"] == THREAD

    submitted = activity(
        connector,
        sender=CARLA,
        conversation={"conversationType": "personal", "id": carla_chat},
        replyToId=form.id,
        value={
            **submit["data"],
            "input.owner": "anna de vries",
            "input.participants": "Bram Jansen, Dirk Dekker",
            "input.minutes": "10, 10, 10, 10, 10",  # no deadline passes mid-test
            "input.venue": THREAD,
        },
    )
    del submitted["text"]
    status, _ = await hoedan.send(submitted)
    await hoedan.settle()
    assert status == 202

    # The opening post is a new post in the channel; the session's thread hangs under it.
    [opening] = [p for p in connector.delivered[before:] if p.conversation_id == CHANNEL]
    assert opening.reply_to is None
    assert opening.id is not None
    root = opening.id
    assert "Intervisie: Vijfminutenintervisie" in opening.text
    for name in ("Anna de Vries", "Carla Coach", "Bram Jansen", "Dirk Dekker"):
        assert name in opening.text, name
    [asked] = connector.to(ANNA.personal)[1:]
    assert asked.actions[0]["data"] == {"verb": intervision.CASE_FORM_OPEN, "value": "1"}
    [started] = connector.to(carla_chat)[1:]
    assert "De intervisie is gestart in een draadje hier." in started.text

    # Carla steers with the cards: "Begin" on the opening post, then "Volgende" on each phase.
    assert _button(opening, intervision.NEXT)["data"]["value"] == "1:-"
    await _press(hoedan, CARLA, root, opening, intervision.NEXT)
    [first] = _in_thread(connector, root)
    await _press(hoedan, BRAM, root, first, intervision.NEXT)  # only the facilitator steers
    await _press(hoedan, CARLA, root, opening, intervision.NEXT)  # a stale "Begin" moves nothing
    assert _in_thread(connector, root) == [first]
    [refused] = connector.to(BRAM.personal)[1:]
    assert "Alleen de begeleider (Carla Coach)" in refused.text
    [stale] = connector.to(carla_chat)[2:]
    assert "Die knop hoort bij een eerdere fase" in stale.text
    for number in range(1, PHASES + 1):
        [card] = [p for p in _in_thread(connector, root) if f"Fase {number} van {PHASES}" in p.text]
        assert "(10 min)" in card.text
        assert _button(card, intervision.NEXT)["data"]["value"] == f"1:{number - 1}"
        if number == PHASES:
            await _write_lessons(hoedan)
        await _press(hoedan, CARLA, root, card, intervision.NEXT)

    # The lessons phase asked everyone privately; the session ended with its summary.
    thread = _in_thread(connector, root)
    assert len(thread) == PHASES + 1
    closing = thread[-1]
    assert "Intervisie afgerond: Vijfminutenintervisie" in closing.text
    assert "Een kaart vooraf sturen werkt." in closing.text
    assert not closing.actions
    records = [p for p in connector.delivered if "Het verslag van je intervisie" in p.text]
    assert [p.conversation_id for p in records] == [ANNA.personal]  # for the case owner only
    async with hoedan.store.transaction() as tx:
        [flow] = (
            await tx.session.exec(select(FlowInstance).where(FlowInstance.kind == intervision.KIND))
        ).all()
        [session] = (await tx.session.exec(select(IntervisionSession))).all()
    assert flow.state == intervision.FINISHED
    assert flow.finished_at is not None
    assert session.ended_at is not None
    async with hoedan.store.transaction() as tx:
        space = await tx.session.get(Space, session.space_id)
        assert space is not None
        [shared] = await tx.intervision.shared_lessons(
            network_id=space.network_id, since=session.created_at
        )
    assert shared.text == "Een kaart vooraf sturen werkt."

    # Nothing of the session anywhere but its thread, its opening post and the 1:1 chats.
    for posted in connector.delivered[before:]:
        assert posted.conversation_id is not None
        if posted.conversation_id.startswith("a:"):
            continue
        assert posted is opening or posted in thread, posted.text


async def _write_lessons(hoedan: Running) -> None:
    """In the lessons phase each person gets a button in their 1:1 chat that brings a form card
    there: Bram shares his lesson, Dirk keeps his to himself, Anna (the case owner) writes what
    she takes away."""
    connector = hoedan.connector
    for person, lesson, shareable in (
        (BRAM, "Een kaart vooraf sturen werkt.", "true"),
        (DIRK, "Mijn eigen les", "false"),
        (ANNA, "Ik bel de wethouder morgen.", None),
    ):
        [ask] = [p for p in connector.to(person.personal) if "De intervisie loopt af." in p.text]
        pressed = personal_message(connector, person, "")
        del pressed["text"]
        pressed.update(value=_button(ask, intervision.LESSON_FORM_OPEN)["data"], replyToId=ask.id)
        await hoedan.send(pressed)
        await hoedan.settle()
        form = connector.to(person.personal)[-1]
        [submit] = form.actions
        owner = person is ANNA
        assert submit["data"]["form"] == (
            intervision.TAKEAWAY_FORM if owner else intervision.LESSON_FORM
        )
        sent = personal_message(connector, person, "", replyToId=form.id)
        del sent["text"]
        sent["value"] = {**submit["data"], "input.lesson": lesson}
        if shareable is not None:
            sent["value"]["input.shareable"] = shareable
        await hoedan.send(sent)
        await hoedan.settle()
        thanks = connector.to(person.personal)[-1]
        assert "Dank" in thanks.text, thanks.text
    async with hoedan.store.transaction() as tx:
        [session] = (await tx.session.exec(select(IntervisionSession))).all()
        assert session.id is not None
        lessons = await tx.intervision.lessons(session.id)
    assert {(lesson.text, lesson.shareable) for lesson in lessons} == {
        ("Een kaart vooraf sturen werkt.", True),
        ("Mijn eigen les", False),
        ("Ik bel de wethouder morgen.", False),
    }


async def test_a_coach_in_a_1_1_chat_is_told_to_start_in_a_channel(hoedan: Running) -> None:
    """A bot cannot open a group chat in Teams, and a 1:1 chat cannot hold the session."""
    connector = hoedan.connector
    await hoedan.send(personal_message(connector, CARLA, "intervisie vijfminuten"))
    await hoedan.settle()
    [answer] = connector.to(CARLA.personal)
    assert "In Teams loopt een intervisie in een draadje van een kanaal." in answer.text
    assert not answer.actions  # no start form
    async with hoedan.store.transaction() as tx:
        assert not (await tx.session.exec(select(IntervisionSession))).all()


async def test_the_case_form_and_what_people_say_in_the_thread_belong_to_the_session(
    hoedan: Running,
) -> None:
    """The case owner shares the case through the form behind the button in her 1:1 chat; what
    a participant says in the thread is the session's, what an outsider says there is not."""
    connector = hoedan.connector
    for person in (ANNA, BRAM, DIRK):
        await hoedan.send(personal_message(connector, person, "help"))
    await hoedan.settle()
    command = channel_message(connector, CARLA, "intervisie vijfminuten", mention=True)
    await hoedan.send(command)
    await hoedan.settle()
    carla_chat = f"a:personal-{CARLA.id}"
    [form] = connector.to(carla_chat)
    submitted = activity(
        connector,
        sender=CARLA,
        conversation={"conversationType": "personal", "id": carla_chat},
        replyToId=form.id,
        value={
            **form.actions[0]["data"],
            "input.owner": "Anna de Vries",
            "input.participants": "Bram Jansen, Dirk Dekker",
            "input.minutes": "10, 10, 10, 10, 10",
            "input.venue": THREAD,
        },
    )
    del submitted["text"]
    await hoedan.send(submitted)
    await hoedan.settle()
    [opening] = [p for p in connector.to(CHANNEL) if p.conversation_id == CHANNEL]
    assert opening.id is not None
    root = opening.id

    [asked] = connector.to(ANNA.personal)[1:]
    pressed = personal_message(connector, ANNA, "")
    del pressed["text"]
    pressed.update(value=_button(asked, intervision.CASE_FORM_OPEN)["data"], replyToId=asked.id)
    await hoedan.send(pressed)
    await hoedan.settle()
    [case_form] = [p for p in connector.to(ANNA.personal) if "Je casus" in p.texts[:1]]
    [share] = case_form.actions
    sent = personal_message(connector, ANNA, "", replyToId=case_form.id)
    del sent["text"]
    sent["value"] = {**share["data"], "input.case": "De wethouder wil snel resultaat."}
    await hoedan.send(sent)
    await hoedan.settle()
    shared, first = _in_thread(connector, root)
    assert "De casus van Anna de Vries:" in shared.text
    assert "De wethouder wil snel resultaat." in shared.text
    assert "Fase 1 van 5" in first.text

    await _press(hoedan, CARLA, root, first, intervision.NEXT)
    retracted = channel_message(connector, DIRK, "Dat zeg ik liever niet.", root=root)
    await hoedan.send(retracted)
    thread_reply = channel_message(connector, BRAM, "Wie beslist?", root=root)
    await hoedan.send(thread_reply)
    await hoedan.settle()
    edited = {
        **thread_reply,
        "type": "messageUpdate",
        "text": "Wie beslist er?",
        "channelData": {**thread_reply["channelData"], "eventType": "editMessage"},
    }
    await hoedan.send(edited)  # the author's edit follows into the record
    deleted = {
        **retracted,
        "type": "messageDelete",
        "channelData": {**retracted["channelData"], "eventType": "softDeleteMessage"},
    }
    await hoedan.send(deleted)  # and a deleted message leaves it
    await hoedan.send(channel_message(connector, EVA, "Mag ik meedoen?", root=root))
    await hoedan.settle()
    [outsider] = connector.to(f"a:personal-{EVA.id}")  # privately, not in the thread
    assert "Deze intervisie is alleen voor de deelnemers." in outsider.text
    assert len(_in_thread(connector, root)) == 3

    async with hoedan.store.transaction() as tx:
        said = (await tx.session.exec(select(IntervisionContribution))).all()
    assert sorted(c.text for c in said) == ["De wethouder wil snel resultaat.", "Wie beslist er?"]
