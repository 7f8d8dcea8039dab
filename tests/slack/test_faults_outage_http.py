"""Fault test: Slack out of order for a minute, then back. Everything said meanwhile is delivered
afterwards, each message once, and Hoedan stays healthy throughout.

For the first half-minute every Web API call answers 500; for the second, Slack hangs past the
client's time-out (and takes a post without its answer arriving). Meanwhile questions are asked
(by people whose profile cannot be fetched), a #zodan answer is given (a DM to the asker and a
private thanks) and someone writes to Hoedan in a DM.

The minute is the service's own clock (:class:`Clock`), which the outbox's back-off reads: the
test moves it five seconds at a time and lets the dispatcher try whatever is due, so no test
time is spent waiting for back-off. Only a hanging Slack costs real time: the client gives up
after a second (``use_web_api_timeout``, ten seconds in production).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.outbox import MAX_BACKOFF
from bot.slack.adapter import WEB_API_TIMEOUT
from storage.enums import OutboxStatus
from storage.models import Answer, Question
from tests.slack.conftest import Clock, Running, running, slack_settings, use_web_api_timeout
from tests.slack.fake_slack import FakeSlack, JsonDict
from tests.slack.faults import ERROR_TEXTS, assert_each_sent_once, outbox_rows
from tests.slack.signing import fresh_event_id, message_event
from tests.slack.test_exchange_http import ephemerals_to, posts_to
from tests.slack.test_slack_http import texts_of

ANNA, BRAM, CARLA, DIRK, EVA = "UANNA01", "UBRAM01", "UCARLA1", "UDIRK01", "UEVA001"
PEOPLE = {ANNA: "Anna", BRAM: "Bram", CARLA: "Carla", DIRK: "Dirk", EVA: "Eva"}
FIRST, SECOND = "C0OUT01", "C0OUT02"
STEP = timedelta(seconds=5)
OUTAGE_STEPS = 12
"""Twelve steps of five seconds: the minute."""
HANG_CLIENT_SECONDS = 1


async def says(hoedan: Running, user: str, text: str, *, channel: str, **extra: str) -> str:
    """``user`` writes in a channel (or a DM with Hoedan); returns the message's ts."""
    ts = hoedan.slack.add_message(channel, text, user=user, thread_ts=extra.get("thread_ts"))
    event = message_event(text, user=user, channel=channel, ts=ts, **extra)
    status, _ = await hoedan.event(event, event_id=fresh_event_id())
    assert status == 200
    await hoedan.drain_adapter()
    return ts


async def quiet(hoedan: Running, clock: Clock) -> None:
    """Until the dispatcher has tried everything due by the service's clock."""
    async with asyncio.timeout(30):
        while True:
            hoedan.service.dispatcher.wake()
            rows = await hoedan.outbox()
            if not any(
                row.status == OutboxStatus.SENDING
                or (row.status == OutboxStatus.PENDING and row.next_attempt_at <= clock())
                for row in rows
            ):
                return
            await asyncio.sleep(0.02)


async def slack_hangs(hoedan: Running) -> str:
    """The second half-minute: Slack answers too late. A post is made but its answer never
    arrives in time; looking in a channel, opening a DM hang as well; ephemeral messages and
    profiles still fail. Eva asks a question now: her confirmation is in the thread after its
    first attempt, though Hoedan cannot know."""
    slack = hoedan.slack
    slack.recover()
    slack.outage("chat.postEphemeral", "users.info")
    for method in ("conversations.history", "conversations.replies", "conversations.open"):
        slack.delay(method, 2 * HANG_CLIENT_SECONDS, times=100)
    slack.post_then_stall("chat.postMessage", seconds=2 * HANG_CLIENT_SECONDS, times=100)
    return await says(hoedan, EVA, "Hoe vinden jullie nieuwe vrijwilligers? #hoedan", channel=FIRST)


def bot_messages(slack: FakeSlack, channel: str, thread_ts: str | None = None) -> list[JsonDict]:
    """Hoedan's messages that are in the channel (or one of its threads): what people see."""
    return [
        m
        for m in slack.messages(channel)
        if m["bot_id"] and (thread_ts is None or m["thread_ts"] == thread_ts)
    ]


async def healthy(hoedan: Running) -> int:
    async with hoedan.http.get(f"{hoedan.url}/healthz") as response:
        return response.status


async def test_a_minute_of_slack_outage_loses_nothing_and_doubles_nothing(
    database_url: str, slack: FakeSlack
) -> None:
    clock = Clock()
    for user, name in PEOPLE.items():
        slack.add_user(user, name.lower(), real_name=f"{name} Jansen")
    async with running(slack_settings(database_url, slack), slack, clock=clock) as hoedan:
        adapter = hoedan.service.slack
        assert adapter is not None
        await use_web_api_timeout(adapter, HANG_CLIENT_SECONDS)
        asked = await says(
            hoedan, ANNA, "Hoe houden jullie de regiotafel levend? #hoedan", channel=FIRST
        )
        await hoedan.settle()
        assert len(posts_to(slack, FIRST, thread_ts=asked)) == 1
        before = {row.id for row in await hoedan.outbox()}

        # Slack is down: every Web API call answers 500 (profiles, conversations, posts).
        slack.outage()
        health = [await healthy(hoedan)]
        asked_later = await says(
            hoedan, BRAM, "Wie heeft ervaring met een burgerpanel? #hoedan", channel=SECOND
        )
        await says(
            hoedan,
            CARLA,
            "#zodan Wij nodigen elke keer een andere wethouder uit.",
            channel=FIRST,
            thread_ts=asked,
        )
        await says(hoedan, DIRK, "help", channel=f"D{DIRK}", channel_type="im")
        queued = [row for row in await hoedan.outbox() if row.id not in before]
        assert len(queued) >= 4
        for step in range(OUTAGE_STEPS):
            if step == OUTAGE_STEPS // 2:
                asked_last = await slack_hangs(hoedan)
            clock.advance(STEP)
            await quiet(hoedan, clock)
            health.append(await healthy(hoedan))
        during = {row.id: row for row in await hoedan.outbox() if row.id not in before}
        assert {row.status for row in during.values()} == {OutboxStatus.PENDING}
        assert all(row.attempts >= 3 for row in during.values())

        slack.recover()
        await use_web_api_timeout(adapter, WEB_API_TIMEOUT)
        clock.advance(MAX_BACKOFF)
        await quiet(hoedan, clock)
        health.append(await healthy(hoedan))
        rows = await outbox_rows(hoedan.store)
        async with hoedan.store.transaction() as tx:
            questions = (await tx.session.exec(select(Question))).all()
            answers = (await tx.session.exec(select(Answer))).all()

    assert health == [200] * (OUTAGE_STEPS + 2)
    assert_each_sent_once(rows, slack)
    assert len(questions) == 3
    assert len(answers) == 1
    for channel, ts in ((SECOND, asked_later), (FIRST, asked_last)):
        [confirmation] = bot_messages(slack, channel, ts)
        assert "Je vraag is bewaard als" in str(confirmation["blocks"])
    [zodan] = bot_messages(slack, f"D{ANNA}")
    assert "Wij nodigen elke keer een andere wethouder uit." in str(zodan["blocks"])
    assert len(bot_messages(slack, f"D{DIRK}")) == 1
    assert len([e for e in slack.ephemerals() if e["user"] == CARLA]) == 1
    assert len(ephemerals_to(slack, CARLA)) > 1  # tried during the outage, shown once
    assert not [c for c in slack.calls if ERROR_TEXTS[0] in texts_of(c)]
    # Eva's confirmation was tried again and again, but posted only the first time: each later
    # attempt looked in the thread first (hanging, then found it).
    [eva] = [row for row in rows if row.thread_ref == asked_last]
    assert eva.attempts > 2
    assert len(posts_to(slack, FIRST, thread_ts=asked_last)) == 1
