"""Fault tests: the real ``hoedan run`` killed with SIGKILL mid-work, and a new process taking over.

Nothing is shut down in order: no work drained, no lock given back, a message half sent. The
new process on the same database must finish the work with no message doubled or lost, judged
by what the fake Slack holds (every post carries its outbox key). The worst moment is built in
on purpose: Slack has accepted a post, but its answer has not come back when the process dies,
so the database still says "being sent". Such a claim is taken over once its lease
(``bot.outbox.LEASE``, five minutes) has run out; the new process lives that much later (its
clock is moved, see ``tests.slack.faults.FAULT_HOEDAN_RUN``) instead of the test waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import col, select

from bot.outbox import LEASE
from flows import intervision
from flows.learning_room import KIND
from flows.schedules import next_fire_time
from storage.database import resolve_database_url
from storage.enums import OutboxStatus
from storage.models import OutboxMessage, Post, Schedule
from storage.store import Store
from storage.types import utcnow
from tests.slack.conftest import JSON, Clock, running, slack_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.faults import (
    ERROR_TEXTS,
    HoedanProcess,
    assert_each_sent_once,
    fake_slack_on,
    outbox_rows,
    start_hoedan_process,
    wait_until,
)
from tests.slack.signing import event_body, message_event, post_signed
from tests.slack.test_intervision_http import (
    ANNA,
    ANNA_TELLS_MORE,
    BRAM,
    CARLA,
    CASE,
    DIRK,
    GROUP,
    PEOPLE,
    case_told,
    contributions,
    group_of,
    handle,
    mpdm_name,
    posts_saying,
    press,
    the_post,
    wait_until_handled,
)
from tests.slack.test_learning_http import HEADING
from tests.slack.test_slack_http import texts_of

ADMIN = "UADMIN"  # in HOEDAN_ADMINS (see slack_settings)
CHANNELS = 80
"""Channels with the weekly prompt: more than one outbox batch (``bot.outbox.BATCH``), so the
kill leaves messages sent, claimed and still waiting."""
BRAM_ASKS = "Wat zei de wethouder toen?"
DIRK_ASKS = "Hoe vaak vergadert die tafel?"
TAKE_OVER = LEASE + timedelta(minutes=1)
"""How much later the next process lives: the dead one's claims have run out by then."""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def slack(clock: Clock) -> AsyncIterator[FakeSlack]:
    async with fake_slack_on(clock) as fake:
        yield fake


def channel(number: int) -> str:
    return f"C{number:04d}"


def prompts_in(slack: FakeSlack, where: str) -> list[dict[str, object]]:
    return [m for m in slack.messages(where) if m["bot_id"] and HEADING in str(m["blocks"])]


def prompt_calls(slack: FakeSlack) -> dict[str, int]:
    """How many times a prompt was posted to each channel (calls, whatever came of them)."""
    counted: dict[str, int] = {}
    for call in slack.calls_to("chat.postMessage"):
        if HEADING in texts_of(call):
            where = str(call.args["channel"])
            counted[where] = counted.get(where, 0) + 1
    return counted


async def plan_prompts(database_url: str, slack: FakeSlack, clock: Clock) -> None:
    """A coach plans the Tuesday prompt in every channel with ``/hoedan leervraag planning``,
    twenty channels at a time. On a fresh database that is twenty first contacts at once (the
    network, the coach, each channel): on PostgreSQL every one must still succeed."""
    async with running(slack_settings(database_url, slack), slack, clock=clock) as hoedan:

        async def plan(number: int) -> None:
            status, body = await hoedan.command(
                "leervraag planning dinsdag 09:00",
                user_id=ADMIN,
                user_name="beheer",
                channel_id=channel(number),
                channel_name=f"netwerk-{number}",
            )
            assert (status, body) == (200, "")

        for first in range(0, CHANNELS, 20):
            await asyncio.gather(*(plan(n) for n in range(first, min(first + 20, CHANNELS))))
        await hoedan.settle(seconds=60)
        replies = [texts_of(call) for call in slack.calls_to("chat.postEphemeral")]
        assert len(replies) == CHANNELS
        assert [reply for reply in replies if "dinsdag om 09:00" not in reply] == []
        async with hoedan.store.transaction() as tx:
            schedule = (await tx.session.exec(select(Schedule).limit(1))).one()
        slot = next_fire_time(schedule, utcnow())
    clock.advance(slot - utcnow() + timedelta(seconds=30))


async def schedule_channels(store: Store) -> list[str]:
    """The channels in the order their slots are fired (by schedule id)."""
    async with store.transaction() as tx:
        schedules = (
            await tx.session.exec(
                select(Schedule).where(Schedule.kind == KIND).order_by(col(Schedule.id))
            )
        ).all()
        spaces = [await tx.spaces.get(schedule.space_id) for schedule in schedules]
    return [space.external_id for space in spaces if space is not None]


async def prompt_rows(store: Store) -> list[OutboxMessage]:
    return [row for row in await outbox_rows(store) if (row.subject or "").startswith(KIND)]


async def all_sent(store: Store) -> bool:
    rows = await prompt_rows(store)
    return len(rows) == CHANNELS and all(row.status == OutboxStatus.SENT for row in rows)


async def test_a_kill_during_the_fan_out_posts_every_prompt_once_after_a_restart(
    tmp_path: Path, database_url: str, slack: FakeSlack, clock: Clock
) -> None:
    """80 channels, one slot. The first process is killed while Slack holds back its answer to
    a post it did accept (halfway through the fan-out); the next, six minutes later, posts the
    rest, and sees in the channel's history that the held-back one is there already."""
    await plan_prompts(database_url, slack, clock)
    store = Store(resolve_database_url(database_url))
    try:
        await fan_out_killed_and_finished(tmp_path, database_url, slack, clock, store)
    finally:
        await store.close()


async def fan_out_killed_and_finished(
    tmp_path: Path, database_url: str, slack: FakeSlack, clock: Clock, store: Store
) -> None:
    order = await schedule_channels(store)
    assert len(order) == CHANNELS
    stuck = order[CHANNELS // 2]
    slack.post_then_stall("chat.postMessage", seconds=120, channel=stuck)

    first = await start_hoedan_process(
        tmp_path, slack, database_url, shift=clock.offset, name="first"
    )
    try:
        await slack.wait_for(lambda: bool(slack.stalled), timeout=60)
        await first.kill()
    finally:
        await first.ensure_gone()
    posted_before = {where for where in order if prompts_in(slack, where)}
    assert stuck in posted_before
    assert 1 < len(posted_before) < CHANNELS

    clock.advance(TAKE_OVER)
    second = await start_hoedan_process(
        tmp_path, slack, database_url, shift=clock.offset, name="second"
    )
    try:
        await wait_until("every prompt sent", lambda: all_sent(store), seconds=60)
        await second.stop()
    finally:
        await second.ensure_gone()

    assert {where: len(prompts_in(slack, where)) for where in order} == dict.fromkeys(order, 1)
    assert prompt_calls(slack) == dict.fromkeys(order, 1)
    rows = await prompt_rows(store)
    async with store.transaction() as tx:
        posts = (await tx.session.exec(select(Post).where(Post.kind == KIND))).all()
    assert len(posts) == CHANNELS
    assert len(rows) == CHANNELS
    assert_each_sent_once(rows, slack)
    [held_back] = [row for row in rows if row.channel_ref == stuck]
    assert held_back.status == OutboxStatus.SENT
    for process in (first, second):
        for text in ERROR_TEXTS[1:]:
            assert text not in process.log, process.log


async def event_to(
    http: aiohttp.ClientSession,
    process: HoedanProcess,
    slack: FakeSlack,
    user_id: str,
    text: str,
    *,
    channel: str,
    event_id: str,
) -> None:
    """``user_id`` writes ``text`` in a group conversation; Slack sends it to ``process``."""
    ts = slack.add_message(channel, text, user=user_id)
    event = message_event(text, user=user_id, channel=channel, ts=ts, channel_type="mpim")
    status, _ = await post_signed(
        http, f"{process.url}/slack/events", event_body(event, event_id=event_id), content_type=JSON
    )
    assert status == 200


async def test_a_kill_mid_phase_loses_nothing_and_announces_the_next_phase_once(
    tmp_path: Path, database_url: str, slack: FakeSlack, clock: Clock
) -> None:
    """An incident session in its first phase (five minutes). The first ``hoedan run`` posts the
    one-minute warning, which Slack accepts without answering, records Bram's message meanwhile,
    and is killed. The next process, six minutes on, ends the phase (once), sees that the
    warning is in the conversation already (no second one), takes Dirk's question for the next
    phase, and in a third life the coach moves the session on."""
    for user_id, real_name in PEOPLE.items():
        slack.add_user(user_id, handle(user_id), real_name=real_name, display_name="")
    conversation = group_of(*GROUP)
    settings = slack_settings(database_url, slack)
    async with running(settings, slack, clock=clock) as setup:
        await case_told(setup)
    slack.post_then_stall("chat.postMessage", seconds=120, channel=conversation)
    clock.advance(timedelta(minutes=4, seconds=10))

    first = await start_hoedan_process(
        tmp_path, slack, database_url, shift=clock.offset, name="first"
    )
    try:
        await slack.wait_for(lambda: bool(slack.stalled), timeout=30)
        [stalled] = slack.stalled
        assert "Nog één minuut" in texts_of(stalled)
        # While its outbox waits for Slack, the process still takes in what people say.
        async with aiohttp.ClientSession() as http:
            await event_to(
                http, first, slack, BRAM, BRAM_ASKS, channel=conversation, event_id="EvBram"
            )
            await wait_until_handled(http, f"{first.url}/healthz", 1)
        await first.kill()
    finally:
        await first.ensure_gone()

    clock.advance(TAKE_OVER)
    second = await start_hoedan_process(
        tmp_path, slack, database_url, shift=clock.offset, name="second"
    )
    try:
        async with aiohttp.ClientSession() as http:
            await slack.wait_for(
                lambda: bool(posts_saying(slack, conversation, "Fase 2 van 7")), timeout=30
            )
            # Slack delivers Bram's message again (it is told nothing of the kill); Dirk asks.
            await event_to(
                http, second, slack, BRAM, BRAM_ASKS, channel=conversation, event_id="EvBram"
            )
            await event_to(
                http, second, slack, DIRK, DIRK_ASKS, channel=conversation, event_id="EvDirk"
            )
            await wait_until_handled(http, f"{second.url}/healthz", 2)
        await second.stop()
    finally:
        await second.ensure_gone()

    assert len(posts_saying(slack, conversation, "Nog één minuut")) == 1
    assert len(posts_saying(slack, conversation, "Fase 2 van 7")) == 1
    warnings = [m for m in slack.messages(conversation) if "Nog één minuut" in str(m["blocks"])]
    assert len(warnings) == 1
    for process in (first, second):
        for text in ERROR_TEXTS[1:]:
            assert text not in process.log, process.log

    clock.advance(timedelta(minutes=1))
    async with running(settings, slack, clock=clock) as third:
        assert await contributions(third.store) == [
            (1, "case", ANNA, CASE),
            (1, "case", ANNA, ANNA_TELLS_MORE),
            (1, "case", BRAM, BRAM_ASKS),
            (1, "clarify", DIRK, DIRK_ASKS),
        ]
        phase_two = the_post(slack, conversation, "Fase 2 van 7")
        await press(third, CARLA, phase_two, intervision.NEXT, channel_name=mpdm_name(*GROUP))
        the_post(slack, conversation, "Fase 3 van 7")
        rows = await outbox_rows(third.store)
    assert_each_sent_once(rows, slack)
    assert not any(ERROR_TEXTS[0] in texts_of(call) for call in slack.calls)
