"""Reflection rounds through the runtime: a coach asks, members answer in private, a summary.

Time is the test's: ``chat.now`` moves and deadlines fire through the engine's ``fire_due``,
exactly as the scheduler calls it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from flows import reflection
from flows.config import FlowConfig
from flows.events import FormValue
from flows.messages import Button
from flows.reflection_room import START_FORM, parse_deadline
from flows.reflection_templates import all_templates, parse
from storage.enums import DeliveryKind
from storage.models import (
    FlowInstance,
    OutboxMessage,
    ReflectionAnswer,
    ReflectionParticipation,
)
from storage.store import Store
from tests.flows.helpers import Chat, Reply, Said, member_named

COACH = "Carla"
MEMBERS = ("Anna", "Bram", "Dirk")


@pytest.fixture
async def chat(store: Store) -> Chat:
    chat = Chat(store, FlowConfig(admins=frozenset({"beheer"})))
    for name in (COACH, *MEMBERS):
        await chat.command(name, "help")
    granted = await chat.command("Beheer", f"rol {COACH} coach")
    assert "coach" in granted.text
    return chat


async def open_round(
    chat: Chat,
    template: str = "voorwaarden",
    *,
    privacy: str = "anonymous",
    deadline: str = "2d",
    question: str = "",
) -> Said:
    opened = await chat.command(COACH, f"reflectie {template}")
    assert opened.outcome.form is not None, opened.text
    assert opened.outcome.form.form_id == START_FORM
    return await chat.submit(
        COACH,
        START_FORM,
        {
            "template": template,
            "privacy": privacy,
            "deadline": deadline,
            "question": question,
            "who": [name.lower() for name in MEMBERS],
        },
    )


def button(reply: Reply, action: str) -> Button:
    [found] = [b for b in reply.buttons if b.action == action]
    return found


def dm_to(said: Said, name: str) -> Reply:
    [found] = [r for r in said.replies if r.kind is DeliveryKind.DIRECT and r.member_ref == name]
    return found


def channel_posts(said: Said) -> list[Reply]:
    return [r for r in said.replies if r.kind is DeliveryKind.POST]


async def answer(chat: Chat, started: Said, who: str, values: dict[str, FormValue]) -> Said:
    opened = await chat.press(who, button(dm_to(started, who.lower()), reflection.ANSWER_FORM_OPEN))
    form = opened.outcome.form
    assert form is not None, opened.text
    assert form.form_id == reflection.ANSWER_FORM
    return await chat.submit(who, reflection.ANSWER_FORM, values, context=form.context)


def conditions(*scores: int, comment: str = "") -> dict[str, FormValue]:
    values: dict[str, FormValue] = {f"q{i}": str(score) for i, score in enumerate(scores)}
    if comment:
        values["q0_comment"] = comment
    return values


async def fire(chat: Chat, after: timedelta) -> tuple[int, Said]:
    chat.now += after
    fired = await chat.runtime.engine.fire_due(chat.store, now=chat.now)
    return fired, Said(outcome=None, replies=await chat._new_replies())  # type: ignore[arg-type]


async def close(chat: Chat, started: Said, who: str = COACH) -> Said:
    [announcement] = channel_posts(started)
    return await chat.press(who, button(announcement, reflection.CLOSE))


async def test_a_named_round_summary_shows_names(chat: Chat) -> None:
    started = await open_round(chat, privacy="named")
    assert "3 mensen" in started.text
    [announcement] = channel_posts(started)
    assert "met naam" in announcement.text
    for name in MEMBERS:
        assert "Geef je antwoord" in dm_to(started, name.lower()).text

    saved = await answer(chat, started, "Anna", conditions(4, 4, 3, 2, 5, comment="Helder doel."))
    assert "opgeslagen" in saved.text
    await answer(chat, started, "Bram", conditions(4, 2, 3, 2, 1, comment="Mandaat ontbreekt."))

    closed = await close(chat, started)
    text = "\n".join(r.text for r in channel_posts(closed))
    assert "2 van de 3 mensen antwoordden" in text
    assert "Anna: Helder doel." in text
    assert "Bram: Mandaat ontbreekt." in text
    assert "4 ██ 2" in text
    assert "1 ▏ 0" in text
    assert "Gemiddeld 4,0" in text

    late = await answer_again_after_close(chat, started)
    assert "al gesloten" in late


async def answer_again_after_close(chat: Chat, started: Said) -> str:
    pressed = await chat.press("Dirk", button(dm_to(started, "dirk"), reflection.ANSWER_FORM_OPEN))
    assert pressed.outcome.form is None
    return pressed.text


async def test_an_anonymous_round_reveals_no_one(chat: Chat, store: Store) -> None:
    started = await open_round(chat, "check-in")
    await answer(chat, started, "Anna", {"q0": "2", "q0_comment": "Moe na de fusie.", "q1": "A1"})
    await answer(chat, started, "Bram", {"q0": 5, "q1": "Zin in de werksessie."})
    replaced = await answer(chat, started, "Anna", {"q0": "3", "q1": "Toch wat meer rust."})
    assert "vervangt je eerdere" in replaced.text
    assert "anoniem" in replaced.text

    _, late = await fire(chat, timedelta(days=3))
    summary = "\n".join(r.text for r in channel_posts(late))
    assert "2 van de 3 mensen antwoordden" in summary
    assert "Toch wat meer rust." in summary
    assert "Zin in de werksessie." in summary
    assert "Moe na de fusie." not in summary
    assert "A1" not in summary
    assert "3 █ 1" in summary
    assert "5 █ 1" in summary
    assert "2 ▏ 0" in summary

    anna = await member_named(store, "Anna")
    bram = await member_named(store, "Bram")
    answerers = ("Anna", "Bram", "anna", "bram")
    for reply in channel_posts(late):
        for word in answerers:
            assert word not in reply.text
    async with store.transaction() as tx:
        rows = list((await tx.session.exec(select(OutboxMessage))).all())
        answers = list((await tx.session.exec(select(ReflectionAnswer))).all())
        flow = (
            await tx.session.exec(
                select(FlowInstance).where(col(FlowInstance.kind) == reflection.KIND)
            )
        ).one()
        participation = list((await tx.session.exec(select(ReflectionParticipation))).all())
    carrying_answers = [
        row for row in rows if any(text in str(row.payload) for text in ("rust", "werksessie"))
    ]
    assert carrying_answers
    for row in carrying_answers:
        assert row.member_ref is None
        assert row.kind == DeliveryKind.POST
        for word in answerers:
            assert word not in str(row.payload)
    assert {a.member_id for a in answers} == {None}
    assert len([a for a in answers if a.question_index == 0]) == 2
    assert len({a.created_at for a in answers}) == 1
    assert "salt" not in flow.data
    assert "answered" not in flow.data
    assert {p.member_id for p in participation} == {anna.id, bram.id}


async def test_one_reminder_halfway_to_those_who_have_not_answered(chat: Chat) -> None:
    started = await open_round(chat, "check-out", deadline="48u")
    await answer(chat, started, "Anna", {"q0": "4", "q1": "Veel geleerd."})

    fired, early = await fire(chat, timedelta(hours=23))
    assert fired == 0
    assert not early.replies
    fired, halfway = await fire(chat, timedelta(hours=1, minutes=1))
    assert fired == 1
    assert sorted(r.member_ref or "" for r in halfway.replies) == ["bram", "dirk"]
    assert all(r.kind is DeliveryKind.DIRECT for r in halfway.replies)
    assert "Herinnering" in halfway.text
    fired, again = await fire(chat, timedelta(hours=1))
    assert fired == 0
    assert not again.replies

    fired, end = await fire(chat, timedelta(days=1))
    assert fired == 1
    assert "1 van de 3 mensen antwoordden" in "\n".join(r.text for r in channel_posts(end))
    assert "Herinnering" not in end.text


async def test_a_deadline_missed_during_downtime_closes_once(chat: Chat) -> None:
    started = await open_round(chat, "reis", deadline="1d")
    await answer(chat, started, "Dirk", {"q0": "3", "q1": "Bondgenoten zoeken."})
    fired, after = await fire(chat, timedelta(days=4))
    assert fired == 1
    assert "Herinnering" not in after.text
    assert len([r for r in channel_posts(after) if "Samenvatting" in r.text]) == 1
    fired, again = await fire(chat, timedelta(minutes=5))
    assert fired == 0
    assert not again.replies


async def test_a_second_named_answer_replaces_the_first(chat: Chat) -> None:
    started = await open_round(chat, privacy="named")
    await answer(chat, started, "Anna", conditions(2, 2, 2, 2, 2, comment="Eerste indruk."))
    again = await answer(chat, started, "Anna", conditions(5, 5, 5, 5, 5, comment="Beter."))
    assert "vervangt je eerdere" in again.text
    text = "\n".join(r.text for r in channel_posts(await close(chat, started)))
    assert "1 van de 3" in text
    assert "Eerste indruk." not in text
    assert "Anna: Beter." in text
    assert "5 █ 1" in text
    assert "2 ▏ 0" in text


@pytest.mark.parametrize("score", ["7", "0", "veel", 9])
async def test_a_scale_outside_one_to_five_is_refused(
    chat: Chat, store: Store, score: FormValue
) -> None:
    started = await open_round(chat)
    refused = await answer(chat, started, "Anna", {**conditions(3, 3, 3, 3, 3), "q2": score})
    assert "kies je een cijfer van 1 tot en met 5" in refused.text
    async with store.transaction() as tx:
        assert not list((await tx.session.exec(select(ReflectionAnswer))).all())
        assert not list((await tx.session.exec(select(ReflectionParticipation))).all())


async def test_a_participant_cannot_open_or_close_a_round(chat: Chat) -> None:
    refused = await chat.command("Anna", "reflectie check-in")
    assert refused.outcome.form is None
    assert "alleen een coach" in refused.text
    started = await open_round(chat)
    not_theirs = await close(chat, started, "Bram")
    assert "Alleen de coach die deze ronde startte" in not_theirs.text
    assert not channel_posts(not_theirs)


async def test_only_members_asked_may_answer(chat: Chat) -> None:
    started = await open_round(chat)
    pressed = await chat.press("Eva", button(dm_to(started, "anna"), reflection.ANSWER_FORM_OPEN))
    assert pressed.outcome.form is None
    assert "niet aan jou gevraagd" in pressed.text


async def test_bad_round_settings_are_refused(chat: Chat) -> None:
    assert "looptijd begrijp ik niet" in (await open_round(chat, deadline="25 weken")).text
    assert "looptijd begrijp ik niet" in (await open_round(chat, deadline="30d")).text
    assert "ontbreekt nog" in (await open_round(chat, "vrij")).text
    unknown = await chat.command(COACH, "reflectie bestaatniet")
    assert "Dat sjabloon ken ik niet" in unknown.text


async def test_a_free_question_is_asked_as_typed(chat: Chat) -> None:
    started = await open_round(
        chat, "vrij", privacy="named", question="Wat vond je van <b>dit</b>?"
    )
    opened = await chat.press("Anna", button(dm_to(started, "anna"), reflection.ANSWER_FORM_OPEN))
    assert opened.outcome.form is not None
    [only] = opened.outcome.form.inputs
    assert only.label.plain == "Wat vond je van <b>dit</b>?"
    await chat.submit(
        "Anna", reflection.ANSWER_FORM, {"q0": "Goed."}, context=opened.outcome.form.context
    )
    text = "\n".join(r.text for r in channel_posts(await close(chat, started)))
    assert "Wat vond je van <b>dit</b>?" in text
    assert "Anna: Goed." in text


def test_deadlines_have_sensible_bounds() -> None:
    assert parse_deadline("48u") == timedelta(hours=48)
    assert parse_deadline("3 dagen") == timedelta(days=3)
    assert parse_deadline("1h") == timedelta(hours=1)
    assert parse_deadline("14d") == timedelta(days=14)


def test_the_templates_are_complete() -> None:
    ids = [t.id for t in all_templates()]
    assert ids == ["check-in", "check-out", "reis", "voorwaarden", "vrij"]
    [five] = [t for t in all_templates() if t.id == "voorwaarden"]
    assert len(five.questions) == 5
    assert all(q.kind == "scale" and q.comment for q in five.questions)


def test_a_broken_template_file_names_the_problem() -> None:
    with pytest.raises(ValueError, match="kind is 'scale' or 'text'"):
        parse(
            '[[template]]\nid = "x"\nname = { nl = "X", en = "X" }\n'
            'intro = { nl = "X", en = "X" }\n'
            '[[template.question]]\nkind = "slider"\nlabel = { nl = "a", en = "a" }\n'
        )


async def test_without_a_pick_the_channel_is_asked_but_the_coach(chat: Chat) -> None:
    """The channel is whoever Hoedan has seen here; someone only seen elsewhere is not asked."""
    elsewhere = Chat(chat.store, FlowConfig(admins=frozenset({"beheer"})), channel="bestuur")
    await elsewhere.command("Frank", "help")
    await chat.command(COACH, "reflectie check-in")
    started = await chat.submit(
        COACH, START_FORM, {"template": "check-in", "privacy": "anonymous", "deadline": "1d"}
    )
    asked = sorted(r.member_ref or "" for r in started.replies if r.kind is DeliveryKind.DIRECT)
    assert asked == ["anna", "beheer", "bram", "dirk"]


async def test_a_long_summary_is_split_over_messages_that_fit(chat: Chat) -> None:
    started = await open_round(chat, "reis", privacy="named")
    for name in MEMBERS:
        story = f"{name} vertelt. " + "Wij zoeken nog bondgenoten in de wijk. " * 50
        await answer(chat, started, name, {"q0": "3", "q1": story})
    posts = channel_posts(await close(chat, started))
    text = "\n".join(r.text for r in posts)
    for name in MEMBERS:
        assert f"{name}: {name} vertelt." in text
    assert len(posts) > 2
    assert all(len(r.text) < 2 * reflection.SUMMARY_CHARS for r in posts)
