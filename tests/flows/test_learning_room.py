"""Weekly learning prompts: the slot, firing with a controlled clock, rotation and answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from flows import learning_prompts
from flows.config import FlowConfig
from flows.learning_room import (
    ANSWER_FORM,
    ANSWER_FORM_OPEN,
    KIND,
    OWN_FORM,
    SKIPPED,
    THEMES_FORM,
)
from flows.messages import Button
from flows.rhythm import fire_due_schedules
from flows.schedules import due_slots, next_fire_time
from storage.database import DatabaseUrls
from storage.enums import Platform
from storage.models import OutboxMessage, Post, Response, Schedule
from storage.store import Store
from storage.types import utcnow
from tests.flows.helpers import MONDAY_MORNING, Chat

CONFIG = FlowConfig(admins=frozenset({"beheer"}))
COACH = "Beheer"
TUESDAY_SLOT = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
"""Tuesday 09:00 in Amsterdam (winter time) after MONDAY_MORNING."""


@pytest.fixture
async def chat(store: Store) -> Chat:
    chat = Chat(store, CONFIG)
    for name in (COACH, "Anna", "Bram"):
        await chat.command(name, "help")
    return chat


async def deliver_all(store: Store) -> None:
    """Mark every queued message sent, as a dispatcher would."""
    async with store.transaction() as tx:
        rows = await tx.outbox.due(
            platform=Platform.CONSOLE, now=utcnow() + timedelta(days=30), limit=10_000
        )
        for row in rows:
            await tx.outbox.mark_sent(row, external_ref=f"{row.channel_ref}:{row.id}")


async def posts(store: Store) -> list[Post]:
    async with store.transaction() as tx:
        return list((await tx.session.exec(select(Post).order_by(col(Post.id)))).all())


async def prompt_posts(store: Store) -> list[OutboxMessage]:
    async with store.transaction() as tx:
        statement = (
            select(OutboxMessage)
            .where(col(OutboxMessage.subject).startswith("learning_prompt:"))
            .order_by(col(OutboxMessage.id))
        )
        return list((await tx.session.exec(statement)).all())


async def plan_tuesday(chat: Chat) -> None:
    said = await chat.command(COACH, "leervraag planning dinsdag 09:00")
    assert "dinsdag" in said.text
    assert "09:00" in said.text
    assert "04-03-2025 09:00" in said.text


def test_planned_times_come_from_the_cron_trigger() -> None:
    schedule = Schedule(
        space_id=1, kind=KIND, weekday=1, time_of_day="09:00", timezone="Europe/Amsterdam"
    )
    assert next_fire_time(schedule, MONDAY_MORNING) == TUESDAY_SLOT
    # Summer time: 09:00 in Amsterdam is 07:00 UTC.
    summer = datetime(2025, 7, 1, 6, 0, tzinfo=UTC)
    assert next_fire_time(schedule, summer) == datetime(2025, 7, 1, 7, 0, tzinfo=UTC)
    # (since, until]: a slot at exactly ``since`` was handled already.
    three_weeks = due_slots(schedule, TUESDAY_SLOT, TUESDAY_SLOT + timedelta(weeks=3))
    assert three_weeks == [TUESDAY_SLOT + timedelta(weeks=n) for n in (1, 2, 3)]


async def test_a_weekly_slot_posts_once(chat: Chat, store: Store) -> None:
    await plan_tuesday(chat)
    assert await fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT - timedelta(minutes=1)) == 0
    assert await fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT) == 1
    assert await fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT + timedelta(minutes=1)) == 0
    assert await fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT + timedelta(hours=2)) == 0
    [sent] = await prompt_posts(store)
    [post] = await posts(store)
    assert sent.idempotency_key == f"schedule:{post.schedule_id}:{TUESDAY_SLOT.isoformat()}"
    assert sent.channel_ref == "algemeen"
    replies = await chat._new_replies()
    assert "Leervraag van de week" in replies[-1].text
    assert replies[-1].buttons[0].action == ANSWER_FORM_OPEN
    # The next week, the next prompt.
    assert await fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT + timedelta(weeks=1)) == 1
    keys = [p.prompt_key for p in await posts(store)]
    assert len(set(keys)) == 2


async def test_a_slot_missed_in_downtime_posts_once_at_start_up(chat: Chat, store: Store) -> None:
    await plan_tuesday(chat)
    start_up = TUESDAY_SLOT + timedelta(hours=5)
    assert await fire_due_schedules(store, CONFIG, now=start_up) == 1
    assert await fire_due_schedules(store, CONFIG, now=start_up + timedelta(seconds=30)) == 0
    assert len(await prompt_posts(store)) == 1


async def test_a_slot_missed_beyond_the_grace_is_skipped(chat: Chat, store: Store) -> None:
    await plan_tuesday(chat)
    start_up = TUESDAY_SLOT + timedelta(hours=7)
    assert await fire_due_schedules(store, CONFIG, now=start_up) == 0
    assert await fire_due_schedules(store, CONFIG, now=start_up + timedelta(hours=1)) == 0
    assert await prompt_posts(store) == []
    [skipped] = await posts(store)
    assert skipped.kind == SKIPPED
    assert skipped.planned_for == TUESDAY_SLOT
    # A longer grace would have let it through; the next week posts as usual.
    assert await fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT + timedelta(weeks=1)) == 1


async def test_a_long_downtime_posts_only_the_newest_slot(chat: Chat, store: Store) -> None:
    await plan_tuesday(chat)
    later = TUESDAY_SLOT + timedelta(weeks=3, hours=1)
    assert await fire_due_schedules(store, CONFIG, now=later) == 1
    kinds = [p.kind for p in await posts(store)]
    assert kinds == [SKIPPED, SKIPPED, SKIPPED, KIND]


async def test_two_schedulers_over_one_database_post_once(
    chat: Chat, store: Store, database: DatabaseUrls
) -> None:
    await plan_tuesday(chat)
    other = Store(database)
    try:
        fired = await asyncio.gather(
            fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT),
            fire_due_schedules(other, CONFIG, now=TUESDAY_SLOT),
            fire_due_schedules(other, CONFIG, now=TUESDAY_SLOT + timedelta(seconds=5)),
        )
    finally:
        await other.close()
    assert sum(fired) == 1
    assert len(await prompt_posts(store)) == 1


async def test_stopped_slots_do_not_post_and_a_new_slot_starts_counting_now(
    chat: Chat, store: Store
) -> None:
    await plan_tuesday(chat)
    stopped = await chat.command(COACH, "leervraag uit")
    assert "staat uit" in stopped.text
    assert await fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT) == 0
    # Planned again after this week's slot had passed: it does not post for that slot.
    chat.now = TUESDAY_SLOT + timedelta(hours=1)
    await chat.command(COACH, "leervraag planning di 9:00")
    assert await fire_due_schedules(store, CONFIG, now=chat.now + timedelta(minutes=1)) == 0
    assert await fire_due_schedules(store, CONFIG, now=TUESDAY_SLOT + timedelta(weeks=1)) == 1
    shown = await chat.command("Anna", "leervraag planning")
    assert "dinsdag" in shown.text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("zondag 25:00", "Die tijd klopt niet: 25:00"),
        ("zondig 09:00", "Die dag ken ik niet: zondig"),
        ("dinsdag 9:60", "Die tijd klopt niet"),
        ("dinsdag", "Geef een dag en een tijd"),
        ("dinsdag om 09:00", "Geef een dag en een tijd"),
    ],
)
async def test_bad_slots_get_a_clear_dutch_reply(chat: Chat, args: str, expected: str) -> None:
    said = await chat.command(COACH, f"leervraag planning {args}")
    assert expected in said.text
    assert "leervraag planning dinsdag 09:00" in said.text
    async with chat.store.transaction() as tx:
        assert (await tx.session.exec(select(Schedule))).all() == []


async def test_only_coaches_post_and_plan(chat: Chat) -> None:
    for args in ("", "planning dinsdag 09:00", "uit", "themas", "eigen"):
        said = await chat.command("Anna", f"leervraag {args}")
        assert "coaches" in said.text
        assert said.outcome.form is None


async def test_rotation_has_no_repeats_until_every_prompt_of_the_themes_was_used(
    chat: Chat,
) -> None:
    opened = await chat.command(COACH, "leervraag themas")
    assert opened.outcome.form is not None
    assert opened.outcome.form.form_id == THEMES_FORM
    saved = await chat.submit(COACH, THEMES_FORM, {"themes": ["jeugd", "ouderen"]})
    assert "Jeugd" in saved.text or "jeugd" in saved.text.lower()
    pool = {p.id for p in learning_prompts.for_themes(["jeugd", "ouderen"])}
    for _ in pool:
        said = await chat.command(COACH, "leervraag")
        assert "staat in het kanaal" in said.text
    keys = [p.prompt_key for p in await posts(chat.store)]
    assert set(keys) == pool
    assert len(keys) == len(pool)
    await chat.command(COACH, "leervraag")
    keys = [p.prompt_key for p in await posts(chat.store)]
    assert keys[-1] == keys[0]


async def test_a_coach_adds_an_own_prompt_that_joins_the_rotation(chat: Chat) -> None:
    opened = await chat.command(COACH, "leervraag eigen")
    assert opened.outcome.form is not None
    empty = await chat.submit(COACH, OWN_FORM, {"text": " ", "themes": ["jeugd"]})
    assert "nog leeg" in empty.text
    no_theme = await chat.submit(COACH, OWN_FORM, {"text": "Wat leerden we?", "themes": []})
    assert "thema" in no_theme.text
    own = "Welke {{ jongere }} sprak jullie deze week aan?"
    saved = await chat.submit(COACH, OWN_FORM, {"text": own, "themes": ["jeugd"]})
    assert "toegevoegd" in saved.text
    await chat.submit(COACH, THEMES_FORM, {"themes": ["jeugd"]})
    texts = [(await chat.command(COACH, "leervraag")).text for _ in range(4)]
    assert sum(own in text for text in texts) == 1


async def test_a_thread_reply_counts_as_an_answer_and_a_second_answer_replaces(
    chat: Chat, store: Store
) -> None:
    await chat.command(COACH, "leervraag")
    await deliver_all(store)
    [sent] = await prompt_posts(store)
    [post] = await posts(store)
    thread = str(sent.id)
    said = await chat.message(
        "Anna", "Wij leerden dat luisteren helpt.", message_ref="m1", thread_ref=thread
    )
    assert "bewaard" in said.text
    button = Button.model_validate(
        {"label": {"spans": [{"text": "x"}]}, "action": ANSWER_FORM_OPEN, "value": str(post.id)}
    )
    opened = await chat.press("Anna", button)
    assert opened.outcome.form is not None
    assert opened.outcome.form.form_id == ANSWER_FORM
    again = await chat.submit(
        "Anna", ANSWER_FORM, {"answer": "Eigenlijk: samen beslissen."}, context=str(post.id)
    )
    assert "vervangt het eerste" in again.text
    bram = await chat.submit("Bram", ANSWER_FORM, {"answer": "Tijd nemen."}, context=str(post.id))
    assert "bewaard" in bram.text
    async with store.transaction() as tx:
        answers = (await tx.session.exec(select(Response).order_by(col(Response.id)))).all()
    assert [a.text for a in answers] == ["Eigenlijk: samen beslissen.", "Tijd nemen."]
    # An ordinary thread reply elsewhere is not an answer.
    other = await chat.message("Anna", "gewoon een bericht", message_ref="m2", thread_ref="999")
    assert other.replies == []
