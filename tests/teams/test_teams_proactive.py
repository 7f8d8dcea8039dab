"""Messages without an incoming turn: the weekly learning prompt, posted by the scheduler's real
job at the test's time into a channel Hoedan knows only from earlier activities."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.teams.file_cards import CONSENT_CARD
from flows.learning_room import KIND
from flows.schedules import next_fire_time
from storage.enums import DeliveryKind, OutboxStatus
from storage.models import Response, Schedule
from storage.types import utcnow
from tests.teams.conftest import (
    ANNA,
    CHANNEL,
    Running,
    User,
    channel_message,
    running,
    teams_settings,
)
from tests.teams.fake_connector import FakeConnector, Posted

ADMIN = User("29:1admin-teams-id", "Beheer", "aad-admin")
HEADING = "Leervraag van de week"
SCHEDULE_JOB = "schedules"


class Clock:
    """The service's time, moved forward by the test."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


def prompt_posts(connector: FakeConnector) -> list[Posted]:
    return [p for p in connector.to(CHANNEL) if p.reply_to is None and HEADING in p.text]


def run_schedules(hoedan: Running) -> None:
    """Run the scheduler's job now, at the service's (moved) time."""
    scheduler = hoedan.service.scheduler
    assert scheduler is not None
    scheduler.modify_job(SCHEDULE_JOB, next_run_time=datetime.now(UTC))


async def wait_for(condition: object, seconds: float = 10.0) -> None:
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


async def test_the_weekly_prompt_is_posted_proactively_and_a_thread_reply_counts(
    sqlite_url: str, connector: FakeConnector
) -> None:
    clock = Clock()
    settings = teams_settings(sqlite_url, admins=frozenset({ADMIN.id}))
    async with running(settings, connector, clock=clock) as hoedan:
        await plan(hoedan, "leervraag planning dinsdag 09:00")
        async with hoedan.store.transaction() as tx:
            schedule = (await tx.session.exec(select(Schedule).where(Schedule.kind == KIND))).one()
        slot = next_fire_time(schedule, utcnow())
        clock.offset = slot - utcnow() + timedelta(minutes=1)

        run_schedules(hoedan)
        await wait_for(lambda: len(prompt_posts(connector)) == 1)
        await hoedan.settle()
        [post] = prompt_posts(connector)
        assert post.id is not None
        posted_id = post.id

        await hoedan.send(
            channel_message(
                connector, ANNA, "Wij leerden vooral van de wijkverpleging.", root=posted_id
            )
        )
        await hoedan.settle()

        async with hoedan.store.transaction() as tx:
            [answer] = (await tx.session.exec(select(Response))).all()
        assert answer.text == "Wij leerden vooral van de wijkverpleging."


async def plan(hoedan: Running, command: str) -> None:
    """A coach plans in the channel by mentioning Hoedan; the confirmation comes privately."""
    status, _ = await hoedan.send(channel_message(hoedan.connector, ADMIN, command, mention=True))
    assert status == 202
    await hoedan.settle()
    [confirmation] = hoedan.connector.to(f"a:personal-{ADMIN.id}")
    assert "dinsdag om 09:00" in confirmation.text


async def test_a_coordinator_gets_the_digest_in_their_personal_chat(
    sqlite_url: str, connector: FakeConnector
) -> None:
    settings = teams_settings(sqlite_url, admins=frozenset({ADMIN.id}))
    async with running(settings, connector) as hoedan:
        await hoedan.send(channel_message(connector, ANNA, "#hoedan Hoe doen jullie dat?"))
        await hoedan.settle()

        status, _ = await hoedan.send(channel_message(connector, ADMIN, "digest", mention=True))
        await hoedan.settle_retries()
        outbox = await hoedan.outbox()

    assert status == 202
    personal = connector.to(f"a:personal-{ADMIN.id}")
    [digest] = [p for p in personal if "Digest van" in p.text]
    assert "#hoedan-vragen: 1 nieuw" in digest.text
    # The report comes after the message, as a card asking to put it in their OneDrive.
    assert "komt als bestand bij dit bericht" in digest.text
    [asking] = [p for p in personal if p.body["attachments"][0]["contentType"] == CONSENT_CARD]
    assert personal.index(digest) < personal.index(asking)
    assert [row.status for row in outbox if row.kind == DeliveryKind.FILE] == [OutboxStatus.SENT]
    assert [row for row in outbox if row.status == OutboxStatus.FAILED] == []
    assert connector.to(CHANNEL)[0].reply_to is not None  # only the question's own thread
    assert len(connector.to(CHANNEL)) == 1
