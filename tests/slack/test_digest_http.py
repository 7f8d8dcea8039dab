"""The coordinators' digest over Slack HTTP: refused to others, and a busy week still fits
in one direct message within Block Kit's limits, with nobody pinged by a question's text."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from bot.slack.render import (
    MAX_CONTEXT_CHARS,
    MAX_CONTEXT_ELEMENTS,
    MAX_HEADER_CHARS,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_CHARS,
    MAX_SECTION_FIELDS,
)
from flows.digest_room import next_time
from storage.enums import QuestionStatus
from storage.models import Question
from storage.types import utcnow
from tests.slack.conftest import Clock, Running, running, slack_settings
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.test_exchange_http import (
    ANNA,
    command,
    dms_to,
    hoedan,
    member_id,
    texts_of,
)
from tests.slack.test_learning_http import ADMIN, coach_command, run_schedule_job

__all__ = ["hoedan"]  # the fixture: Hoedan with three regions' members

LOUD = "<!channel> <@UANNA01> Hoe doen jullie dit? " + "Heel lang verhaal. " * 150


async def seed_questions(running: Running, *, recent: int, waiting: int) -> None:
    """Questions stored as the exchange stores them: ``recent`` this week, ``waiting`` open for
    three weeks already."""
    asker = await member_id(running, ANNA)
    assert asker is not None
    now = utcnow()
    async with running.store.transaction() as tx:
        network = await tx.networks.by_slug("landelijk")
        assert network is not None
        assert network.id is not None
        for index in range(recent + waiting):
            number = await tx.networks.next_question_number(network_id=network.id)
            age = timedelta(days=21) if index < waiting else timedelta(hours=index % 150 + 1)
            tx.session.add(
                Question(
                    network_id=network.id,
                    number=number,
                    asker_id=asker,
                    text=LOUD,
                    status=QuestionStatus.OPEN,
                    created_at=now - age,
                )
            )


def assert_within_block_kit(call: Call) -> None:
    blocks: list[dict[str, Any]] = call.json("blocks")
    assert 0 < len(blocks) <= MAX_MESSAGE_BLOCKS
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER_CHARS
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= MAX_SECTION_CHARS
            assert len(block.get("fields", [])) <= MAX_SECTION_FIELDS
        if block["type"] == "context":
            assert len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
            assert all(len(e["text"]) <= MAX_CONTEXT_CHARS for e in block["elements"])


async def test_a_participant_asking_for_the_digest_is_refused_politely(hoedan: Running) -> None:
    reply = await command(hoedan, ANNA, "digest")

    assert "De digest is er voor coördinatoren" in texts_of(reply)
    assert dms_to(hoedan.slack, ANNA) == []


async def test_a_week_with_two_hundred_questions_fits_one_direct_message(
    hoedan: Running,
) -> None:
    hoedan.slack.add_user(ADMIN, "beheer", real_name="Bea Heer")
    await coach_command(hoedan, "help")  # Hoedan meets the coordinator
    await seed_questions(hoedan, recent=200, waiting=12)

    reply = await coach_command(hoedan, "digest")

    assert "privébericht" in reply
    [digest] = dms_to(hoedan.slack, ADMIN)
    assert_within_block_kit(digest)
    text = texts_of(digest)
    assert "200 nieuw, 0 beantwoord; 212 staan nog open" in text
    # Twelve questions wait three weeks: one signal for them, not twelve.
    assert "wacht al 21 dagen op een #zodan, en daar wachten nog 11 vragen" in text
    assert "buiten een coalitiekanaal" in text  # they were asked by command, not in a channel
    assert "<!channel>" not in str(digest.args)
    assert "<@UANNA01>" not in str(digest.args)
    assert "&lt;!channel&gt;" in text
    await hoedan.slack.wait_for(lambda: len(hoedan.slack.files(f"D{ADMIN}")) == 1)
    [report] = hoedan.slack.files(f"D{ADMIN}")
    assert re.fullmatch(r"digest-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.html", report["filename"])
    assert report["title"].startswith("Digest van Lerend netwerk")
    page = report["content"].decode("utf-8")
    assert "<svg" in page
    assert "<!channel>" not in page
    assert "&lt;!channel&gt;" in page


async def test_the_scheduler_sends_the_weekly_digest_and_its_report_once(
    sqlite_url: str, slack: FakeSlack
) -> None:
    clock = Clock()
    slack.add_user(ADMIN, "beheer", real_name="Bea Heer", tz="Europe/Amsterdam")
    async with running(slack_settings(sqlite_url, slack), slack, clock=clock) as started:
        await coach_command(started, "help")
        friday = next_time(4, "16:00", "Europe/Amsterdam", after=utcnow())
        clock.advance(friday - utcnow() + timedelta(minutes=1))

        await run_schedule_job(started)
        await slack.wait_for(lambda: len(slack.files(f"D{ADMIN}")) == 1)
        await run_schedule_job(started)  # the job again, a minute later: nothing new
        await asyncio.sleep(0.3)
        await started.settle()

    [digest] = dms_to(slack, ADMIN)
    assert_within_block_kit(digest)
    assert "Digest van Lerend netwerk" in texts_of(digest)
    [report] = slack.files(f"D{ADMIN}")
    assert "<svg" in report["content"].decode("utf-8")
