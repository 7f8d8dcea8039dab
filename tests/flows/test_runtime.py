"""Scenarios through the runtime, as members of a network would live them.

Every step is one inbound event handled by ``Runtime.handle``; what Hoedan says is read back
from the outbox, and what it remembered from the database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows import commands
from flows.commands import COMMANDS
from flows.config import FlowConfig
from flows.context import Context
from flows.events import ActionEvent, Actor, CommandEvent, Place
from flows.exchange import ask
from flows.grammar import CommandName
from flows.messages import Choice, ShortText
from flows.regions import CREATE, FORM, SET
from storage.enums import DeliveryKind, Platform, Role
from storage.store import Store
from tests.flows.helpers import Chat, member_named, question_count, stored_questions

ADMIN_CONFIG = FlowConfig(admins=frozenset({"Beheer"}))


@pytest.fixture
def chat(store: Store) -> Chat:
    return Chat(store)


async def make_coordinator(chat: Chat, name: str) -> None:
    """The configured admin makes ``name`` coordinator (``name`` has talked to Hoedan before)."""
    said = await chat.command("Beheer", f"rol {name} coordinator")
    assert f"Gedaan: {name} is nu coördinator." in said.text


# --- asking, listing and finding questions --------------------------------------------------


async def test_two_members_from_two_regions_ask_and_everyone_sees_both_questions(
    chat: Chat,
) -> None:
    assert "regio Twente" in (await chat.command("Anna", "regio Twente")).text
    assert "regio Zuid-Limburg" in (await chat.command("Bram", "regio Zuid-Limburg")).text

    anna = await chat.command("Anna", "vraag Hoe betrekken jullie inwoners bij het regioplan?")
    assert "bewaard als *#1*" in anna.only.text
    assert anna.only.kind is DeliveryKind.EPHEMERAL
    assert anna.only.member_ref == "anna"

    bram = await chat.command("Bram", "Wie heeft een goede aanpak voor valpreventie?")
    assert "bewaard als *#2*" in bram.only.text

    listing = await chat.command("Carla", "vragen")
    assert listing.only.member_ref == "carla"
    assert listing.only.text.splitlines()[:3] == [
        "Open vragen (2)",
        "*#2*  Wie heeft een goede aanpak voor valpreventie?  — Bram, Zuid-Limburg",
        "*#1*  Hoe betrekken jullie inwoners bij het regioplan?  — Anna, Twente",
    ]

    questions = await stored_questions(chat.store)
    assert [(q.number, q.text) for q in questions] == [
        (1, "Hoe betrekken jullie inwoners bij het regioplan?"),
        (2, "Wie heeft een goede aanpak voor valpreventie?"),
    ]


async def test_a_question_from_someone_without_a_region_gets_a_hint(chat: Chat) -> None:
    said = await chat.command("Anna", "vraag Hoe regelen jullie vervoer naar de dagbesteding?")
    assert "Tip: zeg uit welke regio je komt" in said.text

    await chat.command("Anna", "regio Drenthe")
    said = await chat.command("Anna", "vraag Hoe houden jullie vrijwilligers vast?")
    assert "Tip" not in said.text


async def test_nobody_has_asked_anything_yet(chat: Chat) -> None:
    said = await chat.command("Anna", "vragen")
    assert said.only.text == "Er staan geen open vragen. Heb jij er een? Begin met `vraag`."


async def test_zoek_finds_the_question_about_what_you_search_for(chat: Chat) -> None:
    await chat.command("Anna", "vraag Hoe betrekken jullie inwoners bij het regioplan?")
    await chat.command("Bram", "vraag Wie heeft een goede aanpak voor valpreventie?")

    found = await chat.command("Carla", "zoek inwoners betrekken")
    assert found.only.text.splitlines() == [
        "1 vraag over inwoners betrekken",
        "*#1*  Hoe betrekken jullie inwoners bij het regioplan?  — regio onbekend, "
        "nog zonder antwoord",
    ]

    nothing = await chat.command("Carla", "zoek mantelzorg")
    assert "Ik vond geen vragen over mantelzorg" in nothing.only.text


async def test_zoek_without_words_asks_what_to_search_for(chat: Chat) -> None:
    said = await chat.command("Anna", "zoek")
    assert said.only.text.startswith("Waar wil je op zoeken?")


async def test_a_retried_delivery_is_handled_once(chat: Chat) -> None:
    first = await chat.command("Anna", "vraag Hoe plannen jullie de zomer?", delivery_id="ev-7")
    retry = await chat.command("Anna", "vraag Hoe plannen jullie de zomer?", delivery_id="ev-7")

    assert not first.outcome.duplicate
    assert len(first.replies) == 1
    assert retry.outcome.duplicate
    assert retry.replies == []
    assert await question_count(chat.store) == 1


async def test_a_retried_refusal_is_not_answered_twice(chat: Chat) -> None:
    first = await chat.command("Anna", "frobnicate", delivery_id="ev-8")
    retry = await chat.command("Anna", "frobnicate", delivery_id="ev-8")
    assert "Die opdracht ken ik niet" in first.only.text
    assert retry.replies == []


async def test_the_same_delivery_id_on_another_platform_is_another_event(
    chat: Chat,
) -> None:
    await chat.command("Anna", "vraag Hoe plannen jullie de zomer?", delivery_id="ev-9")
    slack = Actor(platform=Platform.SLACK, external_id="U01", display_name="Anna")
    said = await chat.send(
        CommandEvent(
            actor=slack,
            place=Place(platform=Platform.SLACK, external_id="C01", name="algemeen"),
            delivery_id="ev-9",
            text="vraag Hoe regelen jullie vervoer?",
        )
    )
    assert not said.outcome.duplicate
    assert await question_count(chat.store) == 2


# --- refusals: told why, nothing stored -----------------------------------------------------


async def test_an_empty_question_is_refused(chat: Chat) -> None:
    said = await chat.command("Anna", "vraag   ")
    assert said.only.text.startswith("Je vraag is nog leeg.")
    assert said.only.kind is DeliveryKind.EPHEMERAL
    assert await question_count(chat.store) == 0


async def test_a_question_of_ten_thousand_characters_is_refused_with_the_limit(
    chat: Chat,
) -> None:
    said = await chat.command("Anna", "vraag " + "x" * 10_000)
    assert said.only.text.startswith(
        "Je vraag is 10.000 tekens lang; het maximum is 4.000. Maak hem korter"
    )
    assert await question_count(chat.store) == 0


async def test_a_question_of_exactly_the_limit_is_stored(chat: Chat) -> None:
    said = await chat.command("Anna", "vraag " + "x" * 4000)
    assert "bewaard als *#1*" in said.text
    assert len((await stored_questions(chat.store))[0].text) == 4000


async def test_an_unknown_command_word_is_answered_with_help(chat: Chat) -> None:
    said = await chat.command("Anna", "frobnicate")
    assert said.only.text == (
        "Die opdracht ken ik niet: frobnicate. Typ `help` voor wat ik wel kan."
    )
    assert await question_count(chat.store) == 0


async def test_a_near_miss_of_a_command_suggests_the_right_one(chat: Chat) -> None:
    said = await chat.command("Anna", "zoekk subsidie")
    assert said.only.text.startswith("Die opdracht ken ik niet: zoekk. Bedoelde je `zoek`?")
    assert await question_count(chat.store) == 0


async def test_help_lists_only_what_works(chat: Chat) -> None:
    said = await chat.command("Anna", "help")
    assert said.only.text.startswith("Wat kan Hoedan voor je doen?")
    assert "`zoek <woorden>`" in said.only.text
    assert "`mijngegevens`" in said.only.text
    assert (await chat.command("Anna", "")).only.text == said.only.text
    for name in CommandName:
        listed = f"`{name.value}" in said.only.text
        assert listed == (name in COMMANDS), name


@pytest.mark.parametrize("name", list(COMMANDS), ids=str)
async def test_every_command_in_help_really_works(chat: Chat, name: CommandName) -> None:
    said = await chat.command("Anna", name.value)

    assert said.replies or said.outcome.form is not None
    for reply in said.replies:
        assert "kan ik nog niet" not in reply.text
        assert "ging bij mij iets mis" not in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "vraag",
        "vraag " + "y" * 5000,
        "frobnicate",
        "zoekk subsidie",
        "intervisie Hoe plannen we de volgende sessie?",
        "zoek",
        "rol Bram coach",
        "rol Bram",
        "regio " + "z" * 81,
    ],
)
async def test_after_a_refusal_no_question_was_stored(chat: Chat, text: str) -> None:
    await chat.command("Bram", "vraag Wie heeft ervaring met een wijkteam?")
    before = await question_count(chat.store)

    said = await chat.command("Anna", text)

    assert said.only.kind is DeliveryKind.EPHEMERAL
    assert said.only.member_ref == "anna"
    assert await question_count(chat.store) == before == 1


# --- #hoedan in channel messages ------------------------------------------------------------


async def test_a_hoedan_message_is_stored_without_the_tag_and_answered_in_its_thread(
    chat: Chat,
) -> None:
    said = await chat.message(
        "Anna",
        "#hoedan Wie heeft ervaring met een wijkteam voor jongeren?",
        message_ref="msg-100",
    )

    reply = said.only
    assert reply.kind is DeliveryKind.POST
    assert reply.channel_ref == "algemeen"
    assert reply.thread_ref == "msg-100"
    assert "bewaard als *#1*" in reply.text

    (question,) = await stored_questions(chat.store)
    assert question.text == "Wie heeft ervaring met een wijkteam voor jongeren?"
    assert question.source_ref == "msg-100"
    assert question.thread_ref == "msg-100"


async def test_a_hoedan_message_in_a_thread_is_answered_in_that_thread(chat: Chat) -> None:
    said = await chat.message(
        "Anna", "Goede vraag, ook voor ons #HoeDan", message_ref="msg-2", thread_ref="msg-1"
    )
    assert said.only.thread_ref == "msg-1"
    assert (await stored_questions(chat.store))[0].text == "Goede vraag, ook voor ons"


@pytest.mark.parametrize(
    "text",
    [
        "Goedemorgen allemaal!",
        "Zie #hoedanvragen voor meer",
        "Hoedan is fijn, hoe dan?",
        "Het verslag staat op https://voorbeeld.nl/#hoedan",
    ],
)
async def test_an_ordinary_message_is_left_alone(chat: Chat, text: str) -> None:
    said = await chat.message("Anna", text, message_ref="msg-3")
    assert said.replies == []
    assert await question_count(chat.store) == 0


async def test_the_same_question_twice_in_a_day_is_stored_once(chat: Chat) -> None:
    await chat.message("Anna", "#hoedan Hoe werven jullie vrijwilligers?", message_ref="m1")

    chat.now += timedelta(hours=3)
    again = await chat.command("Anna", "vraag Hoe werven jullie vrijwilligers?")

    assert again.only.text.startswith("Deze vraag heb je vandaag al gesteld: *#1*.")
    assert await question_count(chat.store) == 1


async def test_the_same_question_from_someone_else_is_their_own_question(chat: Chat) -> None:
    await chat.command("Anna", "vraag Hoe werven jullie vrijwilligers?")
    said = await chat.command("Bram", "vraag Hoe werven jullie vrijwilligers?")
    assert "bewaard als *#2*" in said.text


async def test_the_same_question_days_later_is_a_new_question(chat: Chat) -> None:
    await chat.command("Anna", "vraag Hoe werven jullie vrijwilligers?")
    chat.now += timedelta(days=2)
    said = await chat.command("Anna", "vraag Hoe werven jullie vrijwilligers?")
    assert "bewaard als *#2*" in said.text


# --- roles ----------------------------------------------------------------------------------


@pytest.fixture
def admin_chat(store: Store) -> Chat:
    return Chat(store, ADMIN_CONFIG)


async def test_a_participant_cannot_give_roles(admin_chat: Chat) -> None:
    await admin_chat.command("Bram", "help")
    said = await admin_chat.command("Anna", "rol Bram coach")
    assert said.only.text.startswith("Dat mag je niet:")
    assert (await member_named(admin_chat.store, "Bram")).role == Role.PARTICIPANT


async def test_an_unknown_role_is_refused(admin_chat: Chat) -> None:
    await admin_chat.command("Bram", "help")
    said = await admin_chat.command("Beheer", "rol Bram chef")
    assert said.only.text == "De rol chef ken ik niet. Kies deelnemer, coach of coordinator."


async def test_a_role_for_someone_hoedan_does_not_know_is_refused(admin_chat: Chat) -> None:
    said = await admin_chat.command("Beheer", "rol Onbekend coach")
    assert said.only.text.startswith("Ik ken niemand die Onbekend heet.")


async def test_everyone_can_ask_for_their_own_role(admin_chat: Chat) -> None:
    assert (await admin_chat.command("Anna", "rol")).only.text == "Je rol is deelnemer."
    assert (await admin_chat.command("Beheer", "rol")).only.text == "Je rol is beheerder."


async def test_the_configured_admin_makes_someone_coordinator_who_hears_about_it(
    admin_chat: Chat,
) -> None:
    await admin_chat.command("Carla", "help")

    said = await admin_chat.command("Beheer", "rol carla coördinator")

    granted, notice = said.replies
    assert granted.text == "Gedaan: Carla is nu coördinator."
    assert granted.member_ref == "beheer"
    assert notice.kind is DeliveryKind.DIRECT
    assert notice.member_ref == "carla"
    assert notice.text == "Beheer heeft je de rol coördinator gegeven."
    assert (await member_named(admin_chat.store, "Carla")).role == Role.COORDINATOR


async def test_a_coordinator_grants_coach(admin_chat: Chat) -> None:
    await admin_chat.command("Carla", "help")
    await admin_chat.command("Bram", "help")
    await make_coordinator(admin_chat, "Carla")

    said = await admin_chat.command("Carla", "rol Bram coach")

    assert [reply.text for reply in said.replies] == [
        "Gedaan: Bram is nu coach.",
        "Carla heeft je de rol coach gegeven.",
    ]
    assert (await member_named(admin_chat.store, "Bram")).role == Role.COACH


async def test_a_coordinator_cannot_make_someone_coordinator(admin_chat: Chat) -> None:
    await admin_chat.command("Carla", "help")
    await admin_chat.command("Bram", "help")
    await make_coordinator(admin_chat, "Carla")

    said = await admin_chat.command("Carla", "rol Bram coordinator")

    assert said.only.text.startswith("Dat mag je niet:")
    assert (await member_named(admin_chat.store, "Bram")).role == Role.PARTICIPANT


async def test_granting_a_role_someone_already_has_changes_nothing(admin_chat: Chat) -> None:
    await admin_chat.command("Bram", "help")
    said = await admin_chat.command("Beheer", "rol Bram deelnemer")
    assert said.only.text == "Bram is al deelnemer."


# --- regions --------------------------------------------------------------------------------


async def test_a_region_near_miss_offers_buttons_and_pressing_one_sets_it(chat: Chat) -> None:
    await chat.command("Anna", "regio Twente")

    offer = await chat.command("Bram", "regio Twnte")
    assert offer.only.text.splitlines()[0] == "Ik ken Twnte nog niet. Bedoel je een van deze?"
    twente, create = offer.only.buttons
    assert (twente.action, twente.label.plain) == (SET, "Twente")
    assert (create.action, create.label.plain, create.value) == (CREATE, "Nieuw: Twnte", "Twnte")
    assert (await member_named(chat.store, "Bram")).region_id is None

    said = await chat.press("Bram", twente)

    assert said.only.text == "Genoteerd: je hoort bij regio Twente."
    anna, bram = await member_named(chat.store, "Anna"), await member_named(chat.store, "Bram")
    assert bram.region_id is not None
    assert bram.region_id == anna.region_id


async def test_the_create_button_makes_the_new_region_after_all(chat: Chat) -> None:
    await chat.command("Anna", "regio Twente")
    offer = await chat.command("Bram", "regio Twnte")
    _, create = offer.only.buttons

    said = await chat.press("Bram", create)

    assert said.only.text == "Genoteerd: je hoort bij regio Twnte."
    anna, bram = await member_named(chat.store, "Anna"), await member_named(chat.store, "Bram")
    assert bram.region_id not in (None, anna.region_id)


async def test_a_region_typed_differently_is_the_same_region(chat: Chat) -> None:
    await chat.command("Anna", "regio Zuid-Limburg")
    said = await chat.command("Bram", "regio  zuid limburg ")
    assert said.only.text == "Genoteerd: je hoort bij regio Zuid-Limburg."
    anna, bram = await member_named(chat.store, "Anna"), await member_named(chat.store, "Bram")
    assert bram.region_id == anna.region_id


async def test_a_button_for_a_region_that_does_not_exist_is_refused(chat: Chat) -> None:
    said = await chat.send(
        ActionEvent(
            actor=chat.actor("Anna"),
            place=chat.place(),
            delivery_id="press-gone",
            action=SET,
            value="999",
        )
    )
    assert said.only.text.startswith("Die regio bestaat niet meer.")


async def test_an_unknown_button_is_refused(chat: Chat) -> None:
    said = await chat.send(
        ActionEvent(
            actor=chat.actor("Anna"), place=chat.place(), delivery_id="press-x", action="vote.yes"
        )
    )
    assert said.only.text.startswith("Deze knop of dit formulier hoort bij iets")


async def test_regio_without_a_name_opens_a_form_and_submitting_it_sets_the_region(
    chat: Chat,
) -> None:
    await chat.command("Anna", "regio Twente")
    await chat.command("Bram", "regio Achterhoek")

    opened = await chat.command("Carla", "regio")

    form = opened.outcome.form
    assert form is not None
    assert form.form_id == FORM
    existing, new = form.inputs
    assert isinstance(existing, Choice)
    assert isinstance(new, ShortText)
    assert [option.label.plain for option in existing.options] == ["Achterhoek", "Twente"]
    assert opened.replies == []

    twente = next(option for option in existing.options if option.label.plain == "Twente")
    said = await chat.submit("Carla", FORM, {"existing": twente.value, "new": ""})

    assert said.only.text == "Genoteerd: je hoort bij regio Twente."
    carla, anna = await member_named(chat.store, "Carla"), await member_named(chat.store, "Anna")
    assert carla.region_id == anna.region_id


async def test_the_region_form_takes_a_new_region_and_shows_the_current_one(chat: Chat) -> None:
    opened = await chat.command("Anna", "regio")
    assert opened.outcome.form is not None
    (only_input,) = opened.outcome.form.inputs
    assert isinstance(only_input, ShortText)
    assert only_input.required

    said = await chat.submit("Anna", FORM, {"new": "Noord-Veluwe"})
    assert said.only.text == "Genoteerd: je hoort bij regio Noord-Veluwe."

    again = await chat.command("Anna", "regio")
    assert again.outcome.form is not None
    assert again.only.text == "Je regio is nu Noord-Veluwe."


async def test_an_empty_region_form_is_refused(chat: Chat) -> None:
    said = await chat.submit("Anna", FORM, {"new": "  "})
    assert said.only.text.startswith("Welke regio?")
    assert (await member_named(chat.store, "Anna")).region_id is None


# --- unexpected failures --------------------------------------------------------------------


async def test_an_unexpected_failure_is_apologised_for_stores_nothing_and_hoedan_goes_on(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def search_that_breaks(ctx: Context, words: str) -> None:
        await ask(ctx, "Een vraag die half bewaard zou worden?")
        raise RuntimeError("database weg")

    monkeypatch.setitem(commands.COMMANDS, CommandName.SEARCH, search_that_breaks)

    said = await chat.command("Anna", "zoek subsidie", delivery_id="ev-broken")

    assert said.only.text.startswith("Sorry, daar ging bij mij iets mis.")
    assert said.only.kind is DeliveryKind.EPHEMERAL
    assert "database weg" in caplog.text
    assert await question_count(chat.store) == 0

    monkeypatch.undo()
    after = await chat.command("Anna", "vraag Hoe gaat het verder?")
    assert "bewaard als *#1*" in after.text

    retried = await chat.command("Anna", "zoek subsidie", delivery_id="ev-broken")
    assert not retried.outcome.duplicate
    assert "Ik vond geen vragen over subsidie" in retried.text
