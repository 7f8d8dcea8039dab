"""The #hoedan → #zodan exchange as regions live it: ask, answer, help, tell what it did.

Twente asks, Zuid-Limburg answers (by command, in the thread, through the dialog), the asker
hears by DM, says it helped, and adds a #zodus; Salland's paraphrase then finds the answered
question. Bad input gets a clear Dutch answer and stores nothing.
"""

from __future__ import annotations

from typing import TypeVar

import pytest
from sqlmodel import SQLModel, select

from flows import answers, exchange, invitations
from flows.events import MessageDeleted, MessageEdited
from flows.messages import Button, Choice
from flows.question_refs import ANSWER_FORM_OPEN, SHOW
from flows.text import ours
from storage.enums import DeliveryKind, QuestionStatus
from storage.models import Answer, Invitation, Outcome, QuestionTheme
from storage.store import Store
from tests.flows.helpers import Chat, Said, member_named, stored_questions

T = TypeVar("T", bound=SQLModel)

QUESTION = "Hoe betrekken jullie inwoners bij het maken van het regioplan?"
PARAPHRASE = "Wie heeft ervaring met bewoners laten meedenken over de plannen van de regio?"


@pytest.fixture
async def chat(store: Store) -> Chat:
    chat = Chat(store)
    for name, region in (("Anna", "Twente"), ("Bram", "Zuid-Limburg"), ("Sanne", "Salland")):
        await chat.command(name, f"regio {region}")
    return chat


def dm_to(said: Said, who: str) -> str:
    direct = [r for r in said.replies if r.kind is DeliveryKind.DIRECT and r.member_ref == who]
    assert len(direct) == 1, [r.text for r in said.replies]
    return direct[0].text


async def rows(store: Store, model: type[T]) -> list[T]:
    async with store.transaction() as tx:
        return list((await tx.session.exec(select(model))).all())


async def test_twente_asks_and_zuid_limburg_answers_by_command(chat: Chat, store: Store) -> None:
    asked = await chat.command("Anna", f"vraag {QUESTION}")
    assert "bewaard als *#1*" in asked.only.text
    assert "Thema's: Inwoners betrekken" in asked.only.text

    said = await chat.command("Bram", "zodan 1 Wij werkten met een inwonerspanel van 40 mensen.")

    assert "Je #zodan bij vraag *#1* is bewaard" in said.replies[0].text
    dm = dm_to(said, "anna")
    assert "Een #zodan op je vraag *#1*, van Bram uit Zuid-Limburg:" in dm
    assert "inwonerspanel van 40 mensen" in dm
    [answer] = await rows(store, Answer)
    bram = await member_named(store, "Bram")
    assert answer.answerer_id == bram.id
    assert answer.region_id == bram.region_id
    [question] = await stored_questions(store)
    assert question.status == QuestionStatus.ANSWERED


async def test_a_zodan_reply_in_the_question_thread_is_an_answer(chat: Chat, store: Store) -> None:
    await chat.message("Anna", f"#hoedan {QUESTION}", message_ref="100.1")

    said = await chat.message(
        "Bram",
        "#zodan Bij ons schoven inwoners aan bij de regietafel.",
        message_ref="100.2",
        thread_ref="100.1",
    )

    assert "inwoners aan bij de regietafel" in dm_to(said, "anna")
    [answer] = await rows(store, Answer)
    assert answer.text == "Bij ons schoven inwoners aan bij de regietafel."
    assert answer.source_ref == "100.2"


async def test_a_zodan_outside_any_question_thread_says_how_to_answer(
    chat: Chat, store: Store
) -> None:
    said = await chat.message("Bram", "#zodan zo doen wij dat", message_ref="300.1")

    assert "Ik weet niet bij welke vraag deze #zodan hoort" in said.only.text
    assert await rows(store, Answer) == []


async def test_the_dialog_answers_with_a_link_and_the_asker_closes_and_adds_a_zodus(
    chat: Chat, store: Store
) -> None:
    asked = await chat.command("Anna", f"vraag {QUESTION}")
    themes = next(b for b in asked.only.buttons if b.action == exchange.THEMES_FORM_OPEN)
    assert themes.value == "1"
    opened = await chat.press("Bram", button(ANSWER_FORM_OPEN, "1"))
    assert opened.outcome.form is not None
    assert opened.outcome.form.form_id == answers.FORM

    said = await chat.submit(
        "Bram",
        answers.FORM,
        {"answer": "Zie ons draaiboek.", "link": "https://example.org/draaiboek"},
        context="1",
    )
    dm = next(r for r in said.replies if r.kind is DeliveryKind.DIRECT)
    assert "https://example.org/draaiboek" in dm.text
    helps = next(b for b in dm.buttons if b.action == answers.HELPFUL)

    bram_hears = await chat.press("Anna", helps)
    assert "Vraag *#1* is gesloten" in bram_hears.replies[0].text
    assert "hielp Anna" in dm_to(bram_hears, "bram")
    [question] = await stored_questions(store)
    assert question.status == QuestionStatus.CLOSED
    assert question.closed_at is not None
    [answer] = await rows(store, Answer)
    assert answer.helpful

    zodus = await chat.submit(
        "Anna", answers.OUTCOME_FORM, {"zodus": "We starten in maart met een panel."}, context="1"
    )
    assert "#zodus bij vraag *#1* is bewaard" in zodus.only.text
    [outcome] = await rows(store, Outcome)
    assert outcome.text == "We starten in maart met een panel."

    late = await chat.command("Sanne", "zodan 1 Nog een idee")
    assert "Vraag #1 is al gesloten" in late.only.text


def button(action: str, value: str = "") -> Button:
    """A button as Hoedan offers it, for steps where the test presses it directly."""
    return Button(label=ours("knop"), action=action, value=value)


async def test_only_the_asker_can_say_it_helped(chat: Chat, store: Store) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")
    said = await chat.command("Bram", "zodan 1 Met een panel.")
    helps = next(
        b
        for b in next(r for r in said.replies if r.kind is DeliveryKind.DIRECT).buttons
        if b.action == answers.HELPFUL
    )

    refused = await chat.press("Sanne", helps)

    assert "Dat kan alleen wie vraag #1 stelde" in refused.only.text
    [question] = await stored_questions(store)
    assert question.status == QuestionStatus.ANSWERED


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("zodan", "Zo geef je een #zodan"),
        ("zodan abc Met een panel", "abc is geen vraagnummer"),
        ("zodan 99 Met een panel", "Vraag #99 ken ik niet"),
        ("zodan 1", "Je #zodan bij vraag #1 is nog leeg"),
        ("zodan 1    ", "Je #zodan bij vraag #1 is nog leeg"),
        ("zodan 1 " + "x" * 5000, "het maximum is 4.000"),
    ],
)
async def test_bad_answers_get_a_clear_dutch_reply_and_store_nothing(
    chat: Chat, store: Store, command: str, expected: str
) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")

    said = await chat.command("Bram", command)

    assert expected in said.only.text
    assert said.only.kind is DeliveryKind.EPHEMERAL
    assert await rows(store, Answer) == []


async def test_a_bad_link_in_the_dialog_is_refused(chat: Chat, store: Store) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")

    said = await chat.submit(
        "Bram", answers.FORM, {"answer": "Zie hier", "link": "javascript:alert(1)"}, context="1"
    )

    assert "Die link kan ik niet gebruiken" in said.only.text
    assert await rows(store, Answer) == []


async def test_a_paraphrase_from_salland_points_to_the_answered_question(chat: Chat) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")
    await chat.command("Bram", "zodan 1 Wij werkten met een inwonerspanel.")
    await chat.command("Carla", "vraag Hoe regelen we vervoer voor ouderen naar de huisarts?")

    said = await chat.command("Sanne", f"vraag {PARAPHRASE}")

    reply = next(r for r in said.replies if r.member_ref == "sanne")
    assert "lijkt op de jouwe" in reply.text
    assert "#1" in reply.text.split("lijkt op de jouwe")[1]
    assert "Twente, beantwoord" in reply.text
    assert any(b.action == SHOW and b.value == "1" for b in reply.buttons)


async def test_earlier_answerers_from_other_regions_are_invited_once(
    chat: Chat, store: Store
) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")
    await chat.command("Bram", "zodan 1 Wij werkten met een inwonerspanel.")

    said = await chat.command("Sanne", f"vraag {PARAPHRASE}")

    invitation = dm_to(said, "bram")
    assert "Uit Salland komt vraag *#2*" in invitation
    assert (
        "Zuid-Limburg heeft hier ervaring mee"
        in next(
            r for r in said.replies if r.member_ref == "sanne" and r.kind is DeliveryKind.EPHEMERAL
        ).text
    )
    assert len(await rows(store, Invitation)) == 1

    edited = await chat.send(
        MessageEdited(
            actor=chat.actor("Sanne"),
            place=chat.place(),
            delivery_id="edit-1",
            message_ref="nope",
            text="iets anders",
        )
    )
    assert edited.replies == []


async def test_members_can_switch_invitations_off(chat: Chat, store: Store) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")
    await chat.command("Bram", "zodan 1 Wij werkten met een inwonerspanel.")
    off = await chat.press("Bram", button(invitations.OFF, ""))
    assert "geen uitnodigingen meer" in off.only.text

    said = await chat.command("Sanne", f"vraag {PARAPHRASE}")

    assert not [r for r in said.replies if r.member_ref == "bram"]
    assert await rows(store, Invitation) == []
    assert "staan nu uit" in (await chat.command("Bram", "uitnodigingen")).only.text
    assert "laat ik het je weten" in (await chat.command("Bram", "uitnodigingen aan")).only.text


async def test_themes_are_suggested_and_the_asker_can_change_them(chat: Chat, store: Store) -> None:
    await chat.command("Anna", "vraag Hoe financieren we preventie samen met de zorgverzekeraar?")
    opened = await chat.press("Anna", button(exchange.THEMES_FORM_OPEN, "1"))
    assert opened.outcome.form is not None
    [choice] = opened.outcome.form.inputs
    assert isinstance(choice, Choice)
    assert choice.multiple
    assert "governance" in choice.initial

    said = await chat.submit(
        "Anna", exchange.THEMES_FORM, {"themes": ["jeugd", "nonsense"]}, context="1"
    )

    assert "Thema's: Jeugd" in said.only.text
    assert [row.theme for row in await rows(store, QuestionTheme)] == ["jeugd"]
    refused = await chat.submit("Bram", exchange.THEMES_FORM, {"themes": ["ouderen"]}, context="1")
    assert "Dat kan alleen wie vraag #1 stelde" in refused.only.text


async def test_editing_the_source_message_changes_the_question_and_deleting_withdraws_it(
    chat: Chat, store: Store
) -> None:
    await chat.message("Anna", f"#hoedan {QUESTION}", message_ref="200.1")

    await chat.send(
        MessageEdited(
            actor=chat.actor("Anna"),
            place=chat.place(),
            delivery_id="edit-2",
            message_ref="200.1",
            text="#hoedan Hoe betrekken jullie jongeren bij het regioplan?",
            previous_text=f"#hoedan {QUESTION}",
        )
    )
    [question] = await stored_questions(store)
    assert question.text == "Hoe betrekken jullie jongeren bij het regioplan?"
    assert "jonger" in question.search_terms

    await chat.send(
        MessageDeleted(
            actor=chat.actor("Anna"),
            place=chat.place(),
            delivery_id="delete-1",
            message_ref="200.1",
            previous_text="#hoedan Hoe betrekken jullie jongeren bij het regioplan?",
        )
    )
    [question] = await stored_questions(store)
    assert question.status == QuestionStatus.WITHDRAWN
    assert "ken ik niet" in (await chat.command("Bram", "zodan 1 toch nog")).only.text
    assert "geen open vragen" in (await chat.command("Anna", "vragen alle")).only.text


async def test_vragen_shows_my_region_and_vragen_alle_the_network(chat: Chat) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")
    await chat.command("Bram", "vraag Hoe pakken jullie valpreventie aan?")

    mine = await chat.command("Anna", "vragen")
    assert "Open vragen in Twente (1)" in mine.only.text
    assert "valpreventie" not in mine.only.text
    everything = await chat.command("Anna", "vragen alle")
    assert "Open vragen (2)" in everything.only.text
    assert "valpreventie" in everything.only.text


async def test_bekijk_shows_the_question_with_its_answers_and_zodus(chat: Chat) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")
    await chat.command("Bram", "zodan 1 Wij werkten met een inwonerspanel.")
    await chat.command("Anna", "zodus 1 We beginnen met een panel.")

    shown = await chat.command("Sanne", "bekijk #1")

    text = shown.only.text
    assert "Vraag #1 · Twente" in text
    assert "Bram (Zuid-Limburg)" in text
    assert "inwonerspanel" in text
    assert "We beginnen met een panel." in text
    assert "ken ik niet" in (await chat.command("Sanne", "bekijk 7")).only.text


async def test_an_edited_zodan_changes_the_answer_and_a_deleted_one_reopens_the_question(
    chat: Chat, store: Store
) -> None:
    await chat.message("Anna", f"#hoedan {QUESTION}", message_ref="400.1")
    await chat.message("Bram", "#zodan Met een panel.", message_ref="400.2", thread_ref="400.1")
    thread = chat.place("400.1")

    await chat.send(
        MessageEdited(
            actor=chat.actor("Bram"),
            place=thread,
            delivery_id="edit-answer",
            message_ref="400.2",
            text="#zodan Met een inwonerspanel van 40 mensen.",
            previous_text="#zodan Met een panel.",
        )
    )
    [answer] = await rows(store, Answer)
    assert answer.text == "Met een inwonerspanel van 40 mensen."

    await chat.send(
        MessageDeleted(
            actor=chat.actor("Bram"),
            place=thread,
            delivery_id="delete-answer",
            message_ref="400.2",
            previous_text="#zodan Met een inwonerspanel van 40 mensen.",
        )
    )
    assert await rows(store, Answer) == []
    [question] = await stored_questions(store)
    assert question.status == QuestionStatus.OPEN


async def test_answering_your_own_question_sends_no_dm_and_says_so(
    chat: Chat, store: Store
) -> None:
    await chat.command("Anna", f"vraag {QUESTION}")

    said = await chat.command("Anna", "zodan 1 Zelf gevonden: een inwonerspanel.")

    assert "je eigen vraag *#1* is bewaard" in said.only.text
    assert said.only.kind is DeliveryKind.EPHEMERAL
    assert len(await rows(store, Answer)) == 1


async def test_control_characters_never_reach_the_database(chat: Chat, store: Store) -> None:
    """PostgreSQL refuses NUL in text; a pasted one must not turn a question into an error."""
    asked = await chat.command("Anna", "vraag Hoe meten\x00 we\x07 gezondheid\tin de wijk?")
    assert "bewaard als *#1*" in asked.only.text
    said = await chat.command("Bram", "zodan 1 Met\x00 een\x1b wijkscan.")
    assert "bewaard" in said.replies[0].text

    [question] = await stored_questions(store)
    assert question.text == "Hoe meten we gezondheid\tin de wijk?"
    [answer] = await rows(store, Answer)
    assert answer.text == "Met een wijkscan."
