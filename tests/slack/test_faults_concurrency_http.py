"""Fault test: concurrent writers on SQLite. Three ``hoedan run`` processes over one SQLite file
take 150 #hoedan messages (from 150 people new to Hoedan) at the same moment.

Every transaction takes the database's one write lock (``BEGIN IMMEDIATE``): within a process
they queue on an asyncio lock, between processes in SQLite's busy handler
(``storage.database.SQLITE_BUSY_TIMEOUT_MS``). Nobody may notice: every message becomes a
question, every asker gets the confirmation in their thread, once, no "er ging iets mis" reaches
anyone and no "database is locked" reaches a log. (On PostgreSQL, concurrent first contacts are
covered by the fan-out test's set-up: 80 commands at once from one new coach in 80 new channels.)
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlmodel import select

from storage.database import resolve_database_url
from storage.migrate import upgrade
from storage.models import Member, Question
from storage.store import Store
from tests.slack.conftest import JSON, running, slack_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.faults import (
    ERROR_TEXTS,
    HoedanProcess,
    assert_each_sent_once,
    outbox_rows,
    start_hoedan_process,
)
from tests.slack.signing import event_body, message_event, post_signed
from tests.slack.test_exchange_http import posts_to
from tests.slack.test_intervision_http import (
    CARLA,
    GROUP,
    PEOPLE,
    contributions,
    group_of,
    handle,
    make_coach,
    say,
    share_case,
)
from tests.slack.test_intervision_http import start as start_session
from tests.slack.test_slack_http import texts_of

PROCESSES = 3
PER_PROCESS = 50
CHANNELS = 6
TOPICS = (
    "de regiotafel",
    "mantelzorgers",
    "het burgerpanel",
    "wijkverpleging",
    "de huisartsenpost",
    "eenzaamheid",
    "jongeren",
    "de woningcorporatie",
    "sportverenigingen",
    "de bibliotheek",
)


def question_text(number: int) -> str:
    topic = TOPICS[number % len(TOPICS)]
    return f"Hoe betrekken jullie {topic} bij plan {number}? #hoedan"


async def test_a_burst_into_three_processes_over_one_sqlite_file_becomes_every_question_once(
    tmp_path: Path, sqlite_url: str, slack: FakeSlack
) -> None:
    processes: list[HoedanProcess] = []
    try:
        # Created beforehand, so that the processes can start together.
        await asyncio.to_thread(upgrade, resolve_database_url(sqlite_url))
        processes.extend(
            await asyncio.gather(
                *(start_process(tmp_path, slack, sqlite_url, n) for n in range(PROCESSES))
            )
        )
        sent = await burst(slack, processes)
        await slack.wait_for(
            lambda: all(posts_to(slack, where, thread_ts=ts) for where, ts in sent),
            timeout=90,
        )
        await asyncio.gather(*(process.stop() for process in processes))
    finally:
        for process in processes:
            await process.ensure_gone()

    for where, ts in sent:
        [reply] = posts_to(slack, where, thread_ts=ts)
        assert "Je vraag is bewaard als" in texts_of(reply), texts_of(reply)
    assert not [c for c in slack.calls if ERROR_TEXTS[0] in texts_of(c)]
    for process in processes:
        for text in ERROR_TEXTS[1:]:
            assert text not in process.log, process.log
    store = Store(resolve_database_url(sqlite_url))
    try:
        async with store.transaction() as tx:
            questions = (await tx.session.exec(select(Question))).all()
            members = (await tx.session.exec(select(Member))).all()
        rows = await outbox_rows(store)
    finally:
        await store.close()
    assert sorted(q.source_ref or "" for q in questions) == sorted(ts for _where, ts in sent)
    assert len({q.number for q in questions}) == len(sent)
    assert len(members) == len(sent)
    assert_each_sent_once(rows, slack)


async def start_process(tmp_path: Path, slack: FakeSlack, url: str, number: int) -> HoedanProcess:
    return await start_hoedan_process(tmp_path, slack, url, shift=timedelta(), name=f"p{number}")


async def burst(slack: FakeSlack, processes: list[HoedanProcess]) -> list[tuple[str, str]]:
    """Every process gets its share of #hoedan messages, all at once, each from someone new;
    returns (channel, ts) of every message."""
    bodies: list[tuple[HoedanProcess, str]] = []
    sent: list[tuple[str, str]] = []
    for number in range(PROCESSES * PER_PROCESS):
        user, where = f"UBURST{number:04d}", f"C0BURST{number % CHANNELS}"
        slack.add_user(user, f"lid{number}", real_name=f"Lid {number}")
        text = question_text(number)
        ts = slack.add_message(where, text, user=user)
        event = message_event(text, user=user, channel=where, ts=ts)
        bodies.append((processes[number % PROCESSES], event_body(event, event_id=f"EvB{number}")))
        sent.append((where, ts))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        statuses = await asyncio.gather(
            *(
                post_signed(http, f"{process.url}/slack/events", body, content_type=JSON)
                for process, body in bodies
            )
        )
    assert [status for status, _ in statuses] == [200] * len(bodies)
    return sent


async def test_everyone_writing_in_one_session_at_the_same_moment_is_recorded(
    database_url: str, slack: FakeSlack
) -> None:
    """Five people write in an intervision session at the same moment, ten times over. Each
    message moves the one session (a flow row guarded by its revision): on PostgreSQL their
    transactions overlap and the later ones find it moved on. They are handled again, so every
    message is recorded and nobody hears "er ging iets mis"."""
    for user_id, real_name in PEOPLE.items():
        slack.add_user(user_id, handle(user_id), real_name=real_name, display_name="")
    conversation = group_of(*GROUP)
    async with running(slack_settings(database_url, slack), slack) as hoedan:
        await make_coach(hoedan, CARLA)
        await start_session(hoedan)
        await share_case(hoedan)
        said: list[tuple[str, str]] = []
        for round_number in range(10):
            texts = {user: f"Ronde {round_number}: vraag van {handle(user)}" for user in GROUP}
            await asyncio.gather(
                *(
                    say(hoedan, user, text, channel=conversation, settle=False)
                    for user, text in texts.items()
                )
            )
            said.extend(texts.items())
            await hoedan.settle()
        recorded = await contributions(hoedan.store)

    assert sorted((author, text) for _session, _phase, author, text in recorded[1:]) == sorted(said)
    assert not [c for c in slack.calls if ERROR_TEXTS[0] in texts_of(c)]
