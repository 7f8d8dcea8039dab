"""Two Hoedan processes over one database serving the same Slack app, end to end over HTTP.

Slack retries an event, and a load balancer may hand the retry to the other process; only the
leader (``bot.leader``) runs the scheduled work, and when it stops another takes over. On
SQLite and on PostgreSQL (the case the README's "several processes" section is about).
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import timedelta

from sqlmodel import select

from storage.models import Post
from storage.types import utcnow
from tests.slack.conftest import Clock, Running, running, slack_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_learning_http import (
    coach_command,
    prompt_posts,
    run_schedule_job,
    slot_time,
)
from tests.slack.test_slack_http import channel_message


async def _scheduler_role(hoedan: Running) -> str:
    async with hoedan.http.get(f"{hoedan.url}/healthz") as response:
        assert response.status == 200
        return str(json.loads(await response.text())["scheduler"])


async def test_an_event_delivered_to_both_processes_is_handled_once(
    database_url: str, slack: FakeSlack
) -> None:
    settings = slack_settings(database_url, slack)
    event = channel_message("#hoedan Hoe houden jullie de regiotafel levend?", ts="1700000009.1")
    async with running(settings, slack) as first, running(settings, slack) as second:
        statuses = await asyncio.gather(
            first.event(event, event_id="EvBoth"),
            second.event(event, event_id="EvBoth", retry_num=1),
            first.event(event, event_id="EvBoth", retry_num=2),
        )
        await slack.wait_for_calls("chat.postMessage")
        await first.settle()
        await second.settle()

        assert [status for status, _ in statuses] == [200, 200, 200]
        assert len(await first.questions()) == 1
        assert len(slack.calls_to("chat.postMessage")) == 1


async def test_one_process_leads_the_scheduler_and_another_takes_over_when_it_stops(
    database_url: str, slack: FakeSlack
) -> None:
    clock = Clock()
    settings = slack_settings(database_url, slack)
    async with AsyncExitStack() as first_stack, running(settings, slack, clock=clock) as second:
        first = await first_stack.enter_async_context(running(settings, slack, clock=clock))
        # ``second`` started first (the outer context), so it leads; ``first`` waits.
        assert await _scheduler_role(second) == "leader"
        assert await _scheduler_role(first) == "standby"
        await coach_command(first, "leervraag planning vrijdag 17:30")
        slot = await slot_time(first)

        await second.service.stop()  # the leader goes away (a deploy, a crash)
        clock.advance(slot - utcnow() + timedelta(seconds=10))
        await run_schedule_job(first)
        await slack.wait_for(lambda: len(prompt_posts(slack)) >= 1)
        await first.settle()

        assert await _scheduler_role(first) == "leader"
        assert len(prompt_posts(slack)) == 1
        async with first.store.transaction() as tx:
            assert len((await tx.session.exec(select(Post))).all()) == 1
