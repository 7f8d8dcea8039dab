"""Intervision through the runtime: a coach starts, the group works phase by phase, it ends.

Time is the test's: ``chat.now`` moves, and deadlines fire through the engine's ``fire_due``
exactly as the scheduler calls it. Deliveries are marked sent the way the dispatcher would, so
that messages in the session's group conversation or thread can be traced back to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest
from sqlmodel import col, select

from flows import intervision
from flows.config import FlowConfig
from flows.events import (
    CommandEvent,
    FormSubmitted,
    FormValue,
    MessageDeleted,
    MessageEdited,
    MessageEvent,
    Place,
)
from flows.intervision_room import START_FORM
from flows.messages import Button
from storage.enums import DeliveryKind, Platform, SpaceKind
from storage.models import (
    FlowInstance,
    IntervisionContribution,
    IntervisionSession,
    Lesson,
    OutboxMessage,
)
from storage.store import Store
from storage.types import utcnow
from tests.flows.helpers import Chat, Reply, Said, stored_questions

COACH = "Carla"
OWNER = "Anna"
PEERS = ("Bram", "Dirk", "Eva")
CASE = "Onze wethouder wil snel resultaat, de partners willen eerst vertrouwen opbouwen."
CONFIDENTIAL = "Dit is vertrouwelijk: de GGD-directeur overweegt te stoppen."


@pytest.fixture
async def chat(store: Store) -> Chat:
    chat = Chat(store, FlowConfig(admins=frozenset({"beheer"})))
    for name in (COACH, OWNER, *PEERS, "Frank"):
        await chat.command(name, "help")
    granted = await chat.command("Beheer", f"rol {COACH} coach")
    assert "coach" in granted.text
    await deliver_all(chat)
    return chat


async def deliver_all(chat: Chat) -> None:
    """Mark every queued message sent, as the console's dispatcher would."""
    async with chat.store.transaction() as tx:
        rows = await tx.outbox.due(
            platform=Platform.CONSOLE, now=utcnow() + timedelta(days=1), limit=10_000
        )
        for row in rows:
            await tx.outbox.mark_sent(row, external_ref=f"{row.channel_ref}:{row.id}")


async def start(
    chat: Chat, *, venue: str = "group", minutes: str = "", peers: Iterable[str] = PEERS
) -> Said:
    opened = await chat.command(COACH, "intervisie incident")
    assert opened.outcome.form is not None
    assert opened.outcome.form.form_id == START_FORM
    said = await chat.submit(
        COACH,
        START_FORM,
        {
            "owner": [OWNER.lower()],
            "participants": [p.lower() for p in peers],
            "minutes": minutes,
            "venue": venue,
        },
        context="incident",
    )
    await deliver_all(chat)
    return said


def button(reply: Reply, action: str) -> Button:
    [found] = [b for b in reply.buttons if b.action == action]
    return found


def group_posts(said: Said) -> list[Reply]:
    return [r for r in said.replies if r.kind is DeliveryKind.GROUP]


async def say_in_group(chat: Chat, who: str, text: str, session_id: int = 1) -> Said:
    said = await chat.send(
        MessageEvent(
            actor=chat.actor(who),
            place=Place(
                platform=Platform.CONSOLE,
                external_id=f"intervisie-{session_id}",
                name=f"intervisie-{session_id}",
                kind=SpaceKind.GROUP,
            ),
            delivery_id=f"msg-{who}-{text[:20]}-{chat.now.timestamp()}",
            text=text,
            message_ref=f"m-{who}-{len(text)}-{chat.now.timestamp()}",
        )
    )
    await deliver_all(chat)
    return said


async def share_case(chat: Chat, said: Said) -> Said:
    [ask] = [r for r in said.replies if r.kind is DeliveryKind.DIRECT and r.member_ref == "anna"]
    opened = await chat.press(OWNER, button(ask, intervision.CASE_FORM_OPEN))
    assert opened.outcome.form is not None
    shared = await chat.submit(
        OWNER, intervision.CASE_FORM, {"case": CASE}, context=opened.outcome.form.context
    )
    await deliver_all(chat)
    return shared


async def fire(chat: Chat, after: timedelta) -> Said:
    chat.now += after
    await chat.runtime.engine.fire_due(chat.store, now=chat.now)
    said = Said(outcome=None, replies=await chat._new_replies())  # type: ignore[arg-type]
    await deliver_all(chat)
    return said


async def flow(store: Store) -> FlowInstance:
    async with store.transaction() as tx:
        [row] = (await tx.session.exec(select(FlowInstance))).all()
        return row


async def test_a_participant_cannot_start_an_intervision(chat: Chat, store: Store) -> None:
    said = await chat.command("Bram", "intervisie incident")
    assert "Een intervisie starten en begeleiden doen coaches" in said.only.text
    assert said.outcome.form is None
    forged = await chat.submit(
        "Bram",
        START_FORM,
        {"owner": ["anna"], "participants": ["dirk", "eva"], "venue": "group"},
        context="incident",
    )
    assert "doen coaches" in forged.only.text
    async with store.transaction() as tx:
        assert (await tx.session.exec(select(IntervisionSession))).all() == []


async def test_without_a_method_the_coach_picks_one(chat: Chat) -> None:
    said = await chat.command(COACH, "intervisie")
    labels = [b.label.plain for b in said.only.buttons]
    assert any(label.startswith("Incidentmethode") for label in labels)
    opened = await chat.press(COACH, said.only.buttons[0])
    assert opened.outcome.form is not None


async def test_the_start_dialog_refuses_what_cannot_work(chat: Chat) -> None:
    await chat.command(COACH, "intervisie incident")
    cases: list[tuple[dict[str, FormValue], str]] = [
        ({"owner": [], "participants": ["bram", "dirk"]}, "precies één inbrenger"),
        ({"owner": ["anna", "bram"], "participants": ["dirk", "eva"]}, "precies één inbrenger"),
        ({"owner": ["anna"], "participants": ["anna", "bram"]}, "minstens 2 deelnemers"),
        (
            {"owner": ["anna"], "participants": ["bram", "dirk"], "minutes": "5, 10"},
            "Geef voor elke fase (7)",
        ),
        (
            {"owner": ["anna"], "participants": ["bram", "dirk"], "minutes": "5,10,5,3,15,5,500"},
            "tussen 1 en 120",
        ),
        (
            {"owner": ["anna"], "participants": [f"p{i}" for i in range(7)]},
            "hoogstens 8 mensen",
        ),
    ]
    for values, expected in cases:
        said = await chat.submit(
            COACH, START_FORM, {"venue": "group", **values}, context="incident"
        )
        assert expected in said.only.text, (values, said.text)
    unknown = await chat.command(COACH, "intervisie toverbal")
    assert "Die methode ken ik niet" in unknown.only.text


async def test_a_full_incident_session_in_a_group_conversation(chat: Chat, store: Store) -> None:
    started = await start(chat)
    assert (
        "privé groepsgesprek"
        in next(r for r in started.replies if r.kind is DeliveryKind.EPHEMERAL).text
    )
    [opening] = group_posts(started)
    assert opening.channel_ref == "intervisie-1"
    assert set(opening.member_ref.split(",")) == {"carla", "anna", "bram", "dirk", "eva"}  # type: ignore[union-attr]
    assert "Inbrenger: *Anna*. Begeleider: Carla. Deelnemers: Bram, Dirk, Eva." in opening.text
    assert CASE not in started.text

    shared = await share_case(chat, started)
    posts = group_posts(shared)
    assert CASE in posts[0].text
    assert "Fase 1 van 7: Het incident" in posts[1].text
    assert (await flow(store)).state == intervision.RUNNING

    # Phase 1: the owner explains; one minute before the end a warning, then phase 2.
    await say_in_group(chat, OWNER, "Het gaat vooral om de regiotafel van maart.")
    warned = await fire(chat, timedelta(minutes=4))
    assert "Nog één minuut" in warned.only.text
    second = await fire(chat, timedelta(minutes=1))
    assert "Fase 2 van 7" in group_posts(second)[0].text

    # The facilitator moves on with the button; a participant may not.
    refused = await chat.press("Bram", button(group_posts(second)[0], intervision.NEXT))
    assert "Alleen de begeleider (Carla)" in refused.only.text
    await say_in_group(chat, "Bram", "Wie zitten er aan de regiotafel?")
    third = await chat.press(COACH, button(group_posts(second)[0], intervision.NEXT))
    assert "Fase 3 van 7" in group_posts(third)[0].text
    fourth = await chat.press(COACH, button(group_posts(third)[0], intervision.NEXT))
    double_click = await chat.press(COACH, button(group_posts(third)[0], intervision.NEXT))
    assert "hoort bij een eerdere fase" in double_click.only.text
    assert (await flow(store)).data["index"] == 3
    advice = await chat.press(COACH, button(group_posts(fourth)[0], intervision.NEXT))
    announcement = group_posts(advice)[0]
    assert "Fase 5 van 7: Hoe zou jij het aanpakken?" in announcement.text
    assert "om de beurt: Bram, Dirk, Eva" in announcement.text

    # Turn by turn: each contribution names the next.
    after_bram = await say_in_group(chat, "Bram", "Begin met één gezamenlijk succes.")
    assert after_bram.only.text == "Dank je. Nu *Dirk*. Nog niet aan de beurt geweest: Dirk, Eva."
    after_dirk = await say_in_group(chat, "Dirk", "Laat de wethouder een partner bezoeken.")
    assert after_dirk.only.text == "Dank je. Nu *Eva*."
    last = await say_in_group(chat, "Eva", CONFIDENTIAL)
    assert "Iedereen is aan de beurt geweest" in last.only.text

    reaction = await chat.press(COACH, button(announcement, intervision.NEXT))
    closing = await chat.press(COACH, button(group_posts(reaction)[0], intervision.NEXT))
    requests = [r for r in closing.replies if r.kind is DeliveryKind.DIRECT]
    assert {r.member_ref for r in requests} == {"anna", "bram", "dirk", "eva"}

    for who, text, share in (
        ("Bram", "Vertrouwen is ook resultaat.", True),
        ("Dirk", "Vaker vragen stellen.", False),
        ("Eva", "Kleine stappen.", False),
    ):
        [ask] = [r for r in requests if r.member_ref == who.lower()]
        form = (await chat.press(who, button(ask, intervision.LESSON_FORM_OPEN))).outcome.form
        assert form is not None
        assert form.form_id == intervision.LESSON_FORM
        thanks = await chat.submit(
            who, form.form_id, {"lesson": text, "shareable": share}, context=form.context
        )
        assert "bewaard" in thanks.replies[0].text
    [ask] = [r for r in requests if r.member_ref == "anna"]
    form = (await chat.press(OWNER, button(ask, intervision.LESSON_FORM_OPEN))).outcome.form
    assert form is not None
    assert form.form_id == intervision.TAKEAWAY_FORM
    ended = await chat.submit(
        OWNER, form.form_id, {"lesson": "Ik plan een bezoek."}, context=form.context
    )

    [summary] = group_posts(ended)
    assert "Intervisie afgerond: Incidentmethode" in summary.text
    assert "Hoe zou jij het aanpakken?: 3 bijdragen" in summary.text
    assert "Leeropbrengst: 4 bijdragen" in summary.text
    assert "Laat de wethouder een partner bezoeken." in summary.text
    assert "Vertrouwen is ook resultaat." in summary.text
    record = "\n".join(r.text for r in ended.replies if r.kind is DeliveryKind.DIRECT)
    assert all(r.member_ref == "anna" for r in ended.replies if r.kind is DeliveryKind.DIRECT)
    assert "Bram: Wie zitten er aan de regiotafel?" in record
    assert f"Eva: {CONFIDENTIAL}" in record
    assert "Anna: Ik plan een bezoek." in record

    final = await flow(store)
    assert final.state == intervision.FINISHED
    assert final.finished_at is not None
    async with store.transaction() as tx:
        session = await tx.intervision.get(1)
        assert session is not None
        assert session.ended_at is not None
        contributions = (await tx.session.exec(select(IntervisionContribution))).all()
        assert [c.kind for c in contributions if c.phase == "advice"] == ["advice"] * 3
        out = await tx.intervision.shared_lessons(network_id=1, since=chat.now - timedelta(days=1))
        assert [lesson.text for lesson in out] == ["Vertrouwen is ook resultaat."]
    await assert_confidential(store)


async def assert_confidential(store: Store) -> None:
    """No contribution's text in anything that went anywhere but the session or the owner."""
    async with store.transaction() as tx:
        rows = (await tx.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        said = [c.text for c in (await tx.session.exec(select(IntervisionContribution))).all()]
        said += [lesson.text for lesson in (await tx.session.exec(select(Lesson))).all()]
    assert said
    for row in rows:
        inside = row.kind == DeliveryKind.GROUP or (row.subject or "").startswith(
            intervision.SUBJECT
        )
        to_owner = row.kind == DeliveryKind.DIRECT and row.member_ref == "anna"
        if inside or to_owner:
            continue
        text = str(row.payload)
        for secret in said:
            assert secret not in text, (row.kind, row.channel_ref)


async def test_pause_extend_back_and_stop(chat: Chat, store: Store) -> None:
    started = await start(chat)
    shared = await share_case(chat, started)
    first = group_posts(shared)[1]
    assert "Tot: 10:05 (5 min)" in first.text

    back = await chat.press(COACH, button(first, intervision.BACK))
    assert "eerste fase" in back.only.text

    extended = await chat.press(COACH, button(first, intervision.EXTEND))
    assert "Vijf minuten erbij" in group_posts(extended)[0].text
    chat.now += timedelta(minutes=2)
    paused = await chat.press(COACH, button(first, intervision.PAUSE))
    assert (await flow(store)).state == intervision.PAUSED
    assert (await flow(store)).deadline is None
    resume = button(group_posts(paused)[0], intervision.RESUME)
    during_pause = await say_in_group(chat, "Dirk", "Ik haal even koffie.")
    assert during_pause.replies == []
    async with store.transaction() as tx:
        kept = [c.text for c in (await tx.session.exec(select(IntervisionContribution))).all()]
    assert "Ik haal even koffie." in kept
    not_now = await chat.press(COACH, button(first, intervision.NEXT))
    assert "gepauzeerd" in not_now.only.text

    chat.now += timedelta(hours=1)
    await chat.press(COACH, resume)
    # 5 + 5 minutes, 2 used before the pause: 8 left after resuming, warning at 7.
    resumed = await flow(store)
    assert resumed.deadline == chat.now + timedelta(minutes=7)

    moved = await chat.press(COACH, button(first, intervision.NEXT))
    assert "Fase 2 van 7" in group_posts(moved)[0].text
    went_back = await chat.press(COACH, button(group_posts(moved)[0], intervision.BACK))
    assert "Terug naar *Het incident*" in group_posts(went_back)[0].text
    assert "Fase 1 van 7" in group_posts(went_back)[1].text

    await say_in_group(chat, "Bram", CONFIDENTIAL)
    stopped = await chat.press(COACH, button(first, intervision.STOP))
    summary = group_posts(stopped)[0]
    assert "Intervisie gestopt" in summary.text
    assert (await flow(store)).state == intervision.STOPPED
    late = await chat.press(COACH, button(first, intervision.NEXT))
    assert "al afgelopen" in late.only.text
    await assert_confidential(store)


async def test_outsiders_are_not_recorded_and_sessions_stay_apart(chat: Chat, store: Store) -> None:
    await share_case(chat, await start(chat))
    outsider = await say_in_group(chat, "Frank", "Mag ik meelezen?")
    assert "alleen voor de deelnemers" in outsider.only.text

    busy = await start(chat)
    assert "loopt al een intervisie" in busy.only.text

    second = await start(chat, peers=("Dirk", "Eva"))
    [opening] = group_posts(second)
    assert opening.channel_ref == "intervisie-2"
    await say_in_group(chat, "Bram", "In sessie één.", session_id=1)
    async with store.transaction() as tx:
        rows = (await tx.session.exec(select(IntervisionContribution))).all()
    assert [(c.session_id, c.text) for c in rows if c.text != CASE] == [(1, "In sessie één.")]


async def test_a_deadline_missed_while_down_fires_once(chat: Chat, store: Store) -> None:
    await share_case(chat, await start(chat))
    late = await fire(chat, timedelta(hours=3))
    posts = group_posts(late)
    assert len(posts) == 1
    assert "Fase 2 van 7" in posts[0].text
    assert "Nog één minuut" not in late.text
    again = await chat.runtime.engine.fire_due(store, now=chat.now)
    assert again == 0


async def test_a_session_in_a_thread(chat: Chat, store: Store) -> None:
    started = await start(chat, venue="thread")
    [opening] = [r for r in started.replies if r.kind is DeliveryKind.POST]
    assert opening.thread_ref is None
    shared = await share_case(chat, started)
    posts = [r for r in shared.replies if r.kind is DeliveryKind.POST]
    assert all(r.thread_ref == "subject:intervision:1" for r in posts)
    async with store.transaction() as tx:
        [first] = (
            await tx.session.exec(
                select(OutboxMessage).where(OutboxMessage.subject == "intervision:1")
            )
        ).all()[:1]
    said = await chat.message(
        "Bram", "Een vraag in het draadje.", message_ref="t2", thread_ref=str(first.id)
    )
    assert said.replies == []
    async with store.transaction() as tx:
        texts = [c.text for c in (await tx.session.exec(select(IntervisionContribution))).all()]
    assert "Een vraag in het draadje." in texts
    assert "#hoedan" not in texts


async def test_a_custom_session_is_composed_from_building_blocks(chat: Chat, store: Store) -> None:
    opened = await chat.command(COACH, "intervisie eigen")
    form = opened.outcome.form
    assert form is not None
    [blocks] = [field for field in form.inputs if field.name == "blocks"]
    offered = [option.value for option in blocks.options]  # type: ignore[union-attr]
    assert "advice" in offered
    assert "case" not in offered
    assert "lessons" not in offered
    said = await chat.submit(
        COACH,
        START_FORM,
        {
            "owner": ["anna"],
            "participants": ["bram", "dirk"],
            "blocks": ["clarify", "advice"],
            "venue": "group",
        },
        context=form.context,
    )
    await deliver_all(chat)
    [opening] = group_posts(said)
    assert "1. Het incident" not in opening.text
    current = await flow(store)
    assert [phase["id"] for phase in current.data["phases"]] == [
        "case",
        "clarify",
        "advice",
        "lessons",
    ]
    refused = await chat.submit(
        COACH,
        START_FORM,
        {"owner": ["anna"], "participants": ["bram", "eva"], "blocks": ["nonsense"]},
        context=form.context,
    )
    assert "minstens één fase" in refused.only.text


async def test_a_thread_session_needs_a_channel(chat: Chat, store: Store) -> None:
    """From a direct message the session would land with the coach alone."""
    direct = Place(
        platform=Platform.CONSOLE, external_id="dm-carla", name="dm", kind=SpaceKind.DIRECT
    )
    opened = await chat.send(
        CommandEvent(
            actor=chat.actor(COACH), place=direct, delivery_id="dm-1", text="intervisie incident"
        )
    )
    assert opened.outcome.form is not None
    [venue] = [field for field in opened.outcome.form.inputs if field.name == "venue"]
    assert [option.value for option in venue.options] == ["group"]  # type: ignore[union-attr]
    said = await chat.send(
        FormSubmitted(
            actor=chat.actor(COACH),
            place=direct,
            delivery_id="dm-2",
            form_id=START_FORM,
            values={"owner": ["anna"], "participants": ["bram", "dirk"], "venue": "thread"},
            context="incident",
        )
    )
    assert "Een draadje kan alleen in een kanaal" in said.only.text
    async with store.transaction() as tx:
        assert (await tx.session.exec(select(IntervisionSession))).all() == []


async def test_an_edited_or_deleted_message_changes_the_record(chat: Chat, store: Store) -> None:
    """People take back what they regret having said; the record follows them."""
    await share_case(chat, await start(chat))
    await say_in_group(chat, "Bram", "Eerste versie.")
    await say_in_group(chat, "Dirk", "Dit had ik niet moeten zeggen.")
    async with store.transaction() as tx:
        rows = (await tx.session.exec(select(IntervisionContribution))).all()
        refs = {c.text: c.source_ref for c in rows}
    group = Place(
        platform=Platform.CONSOLE, external_id="intervisie-1", name="g", kind=SpaceKind.GROUP
    )
    await chat.send(
        MessageEdited(
            actor=chat.actor("Bram"),
            place=group,
            delivery_id="edit-1",
            message_ref=str(refs["Eerste versie."]),
            text="Tweede versie.",
            previous_text="Eerste versie.",
        )
    )
    await chat.send(
        MessageDeleted(
            actor=chat.actor("Eva"),
            place=group,
            delivery_id="delete-by-someone-else",
            message_ref=str(refs["Dit had ik niet moeten zeggen."]),
        )
    )
    await chat.send(
        MessageDeleted(
            actor=chat.actor("Dirk"),
            place=group,
            delivery_id="delete-1",
            message_ref=str(refs["Dit had ik niet moeten zeggen."]),
        )
    )
    async with store.transaction() as tx:
        texts = [c.text for c in (await tx.session.exec(select(IntervisionContribution))).all()]
    assert "Tweede versie." in texts
    assert "Eerste versie." not in texts
    assert "Dit had ik niet moeten zeggen." not in texts
    assert await stored_questions(store) == []
