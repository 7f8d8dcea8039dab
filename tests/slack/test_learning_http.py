"""The weekly learning prompt over Slack HTTP: planned by a coach, posted by the scheduler's real
job at the test's time, answered in its thread; and two services over one database post once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from flows.learning_room import KIND
from flows.schedules import next_fire_time
from storage.models import Post, Response, Schedule
from storage.types import utcnow
from tests.slack.conftest import Clock, Running, running, slack_settings
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.test_exchange_http import (
    ephemerals_to,
    posted_ts,
    posts_to,
    say_in_channel,
    texts_of,
)

CHANNEL, CHANNEL_NAME = "C0001", "algemeen"  # the channel say_in_channel speaks in
ADMIN = "UADMIN"  # in HOEDAN_ADMINS (see slack_settings): a coach too
ANNA = "UANNA01"
HEADING = "Leervraag van de week"
SCHEDULE_JOB = "schedules"


async def coach_command(hoedan: Running, text: str) -> str:
    before = len(ephemerals_to(hoedan.slack, ADMIN))
    status, body = await hoedan.command(
        text, user_id=ADMIN, user_name="beheer", channel_id=CHANNEL, channel_name=CHANNEL_NAME
    )
    assert (status, body) == (200, "")
    await hoedan.slack.wait_for(lambda: len(ephemerals_to(hoedan.slack, ADMIN)) > before)
    await hoedan.settle()
    return texts_of(ephemerals_to(hoedan.slack, ADMIN)[-1])


def prompt_posts(slack: FakeSlack) -> list[Call]:
    return [c for c in posts_to(slack, CHANNEL) if HEADING in texts_of(c)]


async def run_schedule_job(hoedan: Running) -> None:
    scheduler = hoedan.service.scheduler
    assert scheduler is not None
    scheduler.modify_job(SCHEDULE_JOB, next_run_time=datetime.now(UTC))


async def slot_time(hoedan: Running) -> datetime:
    async with hoedan.store.transaction() as tx:
        schedule = (await tx.session.exec(select(Schedule).where(Schedule.kind == KIND))).one()
    return next_fire_time(schedule, utcnow())


async def test_the_scheduler_posts_the_prompt_and_a_thread_reply_counts(
    sqlite_url: str, slack: FakeSlack
) -> None:
    clock = Clock()
    settings = slack_settings(sqlite_url, slack)
    async with running(settings, slack, clock=clock) as hoedan:
        planned = await coach_command(hoedan, "leervraag planning dinsdag 09:00")
        assert "dinsdag om 09:00" in planned
        slot = await slot_time(hoedan)
        clock.advance(slot - utcnow() + timedelta(minutes=1))
        await run_schedule_job(hoedan)
        await slack.wait_for(lambda: len(prompt_posts(slack)) == 1)
        await hoedan.settle()
        [post] = prompt_posts(slack)
        ts = posted_ts(slack, CHANNEL, post)

        await say_in_channel(
            hoedan, ANNA, "Wij leerden vooral van de wijkverpleging.", thread_ts=ts
        )
        thanks = ephemerals_to(slack, ANNA)[-1]
        assert "bewaard" in texts_of(thanks)
        assert thanks.args["thread_ts"] == ts
        async with hoedan.store.transaction() as tx:
            [answer] = (await tx.session.exec(select(Response))).all()
        assert answer.text == "Wij leerden vooral van de wijkverpleging."

        # The job runs again (and again): nothing new.
        await run_schedule_job(hoedan)
        await asyncio.sleep(0.2)
        await hoedan.settle()
        assert len(prompt_posts(slack)) == 1


async def test_two_services_over_one_database_post_the_prompt_once(
    database_url: str, slack: FakeSlack
) -> None:
    """Both schedulers tick for the same slot, but only the leader works; one message is
    queued (one post row, one outbox row with the slot's key), and of the two dispatchers only
    one sends it."""
    clock = Clock()
    settings = slack_settings(database_url, slack)
    async with running(settings, slack, clock=clock) as first:
        await coach_command(first, "leervraag planning vrijdag 17:30")
        slot = await slot_time(first)
        async with running(settings, slack, clock=clock) as second:
            clock.advance(slot - utcnow() + timedelta(seconds=10))
            await asyncio.gather(run_schedule_job(first), run_schedule_job(second))
            await slack.wait_for(lambda: len(prompt_posts(slack)) >= 1)
            await asyncio.sleep(0.3)
            outbox = [
                row
                for row in await first.outbox()
                if (row.subject or "").startswith("learning_prompt:")
            ]
            async with first.store.transaction() as tx:
                posts = (await tx.session.exec(select(Post))).all()
    assert len(posts) == 1
    assert len(prompt_posts(slack)) == 1
    assert [row.idempotency_key for row in outbox] == [
        f"schedule:{posts[0].schedule_id}:{slot.isoformat()}"
    ]
