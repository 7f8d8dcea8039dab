"""The digest in chat: who may ask, the weekly direct message, and moving or stopping it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from flows import digest_room
from flows.config import FlowConfig
from flows.digest import Digest, Signal, SignalKind, build
from flows.digest_room import chat_message, next_time
from flows.rhythm import fire_due_schedules
from flows.texts import texts_for
from storage.enums import DeliveryKind, Role
from storage.models import Digest as DigestRow
from storage.models import OutboxMessage
from storage.repositories.digest import WEEK, Window
from storage.store import Store, Transaction
from storage.types import utcnow
from tests.flows.helpers import Chat, member_named, message_text

CONFIG = FlowConfig(admins=frozenset({"beheer"}))
AMSTERDAM = "Europe/Amsterdam"
NOW = utcnow()
"""Members are stamped with the real time when Hoedan first meets them, so the test's week
starts now: the digest goes only to coordinators Hoedan knew at its planned time."""
FRIDAY_SLOT = next_time(4, "16:00", AMSTERDAM, after=NOW)
MONDAY_SLOT = next_time(0, "08:30", AMSTERDAM, after=FRIDAY_SLOT)


@pytest.fixture
async def chat(store: Store) -> Chat:
    chat = Chat(store, CONFIG, now=NOW)
    for name in ("Cor", "Anna"):
        await chat.command(name, "help")
    await chat.command("Beheer", "rol Cor coordinator")
    assert (await member_named(store, "Cor")).role == Role.COORDINATOR
    return chat


async def digests_sent(store: Store) -> list[OutboxMessage]:
    async with store.transaction() as tx:
        rows = (await tx.session.exec(select(OutboxMessage))).all()
    return [
        row
        for row in rows
        if row.idempotency_key.startswith("digest:") and row.kind == DeliveryKind.DIRECT
    ]


async def reports_queued(store: Store) -> list[OutboxMessage]:
    async with store.transaction() as tx:
        rows = (await tx.session.exec(select(OutboxMessage))).all()
    return [row for row in rows if row.kind == DeliveryKind.FILE]


async def test_a_participant_is_refused_politely(chat: Chat) -> None:
    said = await chat.command("Anna", "digest")

    assert "voor coördinatoren" in said.only.text
    assert said.only.kind == DeliveryKind.EPHEMERAL


async def test_a_coordinator_gets_the_digest_by_direct_message(chat: Chat) -> None:
    await chat.command("Anna", "vraag Hoe betrekken jullie huisartsen bij de wijk?")
    chat.now += timedelta(minutes=1)

    said = await chat.command("Cor", "digest")

    direct, report, note = said.replies
    assert direct.kind == DeliveryKind.DIRECT
    assert report.kind == DeliveryKind.FILE
    assert direct.member_ref == "cor"
    assert "Digest van Lerend netwerk" in direct.text
    assert "1 nieuw, 0 beantwoord; 1 staat nog open" in direct.text
    assert "(regio onbekend, 0 dagen)" in direct.text
    assert "Activiteit per week" in direct.text
    assert "privébericht" in note.text


async def test_the_weekly_digest_comes_on_friday_at_four_once(chat: Chat, store: Store) -> None:
    before = FRIDAY_SLOT - timedelta(minutes=1)
    assert await fire_due_schedules(store, CONFIG, now=before) == 0

    assert await fire_due_schedules(store, CONFIG, now=FRIDAY_SLOT + timedelta(seconds=5)) == 2
    assert await fire_due_schedules(store, CONFIG, now=FRIDAY_SLOT + timedelta(minutes=1)) == 0

    sent = await digests_sent(store)
    assert sorted(row.member_ref or "" for row in sent) == ["beheer", "cor"]
    reports = await reports_queued(store)
    assert sorted(row.member_ref or "" for row in reports) == ["beheer", "cor"]
    start = datetime.fromisoformat(reports[0].payload["start"])
    assert start == FRIDAY_SLOT - timedelta(days=7)
    # Each report is queued right after its message, so it is delivered after it.
    messages = {row.member_ref: row.id for row in sent}
    assert all(row.id == (messages[row.member_ref] or 0) + 1 for row in reports)
    async with store.transaction() as tx:
        kept = (await tx.session.exec(select(DigestRow))).all()
    assert {row.period_end for row in kept} == {FRIDAY_SLOT}
    assert {row.period_start for row in kept} == {FRIDAY_SLOT - timedelta(days=7)}


async def test_a_digest_missed_beyond_the_grace_is_skipped(chat: Chat, store: Store) -> None:
    assert await fire_due_schedules(store, CONFIG, now=FRIDAY_SLOT + timedelta(hours=7)) == 0
    assert await fire_due_schedules(store, CONFIG, now=FRIDAY_SLOT + timedelta(hours=5)) == 2


async def test_a_coordinator_moves_or_stops_the_weekly_digest(chat: Chat, store: Store) -> None:
    said = await chat.command("Cor", "digest planning maandag 08:30")
    assert "elke maandag om 08:30 (Europe/Amsterdam)" in said.only.text
    upcoming = next_time(0, "08:30", AMSTERDAM, after=NOW).astimezone(ZoneInfo(AMSTERDAM))
    assert upcoming.strftime("%d-%m-%Y 08:30") in said.only.text
    await fire_due_schedules(store, CONFIG, now=FRIDAY_SLOT + timedelta(seconds=5))
    assert [row.member_ref for row in await digests_sent(store)] == ["beheer"]
    monday = MONDAY_SLOT
    assert await fire_due_schedules(store, CONFIG, now=monday) == 1

    said = await chat.command("Cor", "digest uit")
    assert "staat uit" in said.replies[-1].text
    next_monday = monday + timedelta(weeks=1)
    assert await fire_due_schedules(store, CONFIG, now=next_monday) == 0

    await chat.command("Cor", "digest aan")
    assert await fire_due_schedules(store, CONFIG, now=next_monday + timedelta(minutes=1)) == 1


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("digest planning zondag 25:00", "Die tijd klopt niet: 25:00"),
        ("digest planning zondagmiddag 10:00", "Die dag ken ik niet: zondagmiddag"),
        ("digest planning vrijdag", "Geef een dag en een tijd"),
        ("digest morgen", "`digest morgen` ken ik niet"),
    ],
)
async def test_bad_digest_commands_get_a_clear_answer(
    chat: Chat, command: str, expected: str
) -> None:
    said = await chat.command("Cor", command)

    assert expected in said.only.text
    assert "digest planning vrijdag 16:00" in said.only.text


async def test_a_long_list_of_signals_is_cut_with_a_pointer_to_the_report(store: Store) -> None:
    async with store.transaction() as tx:
        empty = await build(tx, network_id=0, network="Leeg", window=Window(NOW - WEEK, NOW))
    silent = tuple(
        Signal(SignalKind.SILENT, f"kanaal-{n}", f"kanaal-{n}", days=30 + n) for n in range(11)
    )

    message = chat_message(texts_for("nl"), replace(empty, signals=silent), timezone=AMSTERDAM)

    text = message_text(message)
    assert "kanaal-7 is al 37 dagen stil" in text
    assert "kanaal-8" not in text
    assert "En nog 3 signalen: zie het volledige rapport." in text


async def test_a_sent_weekly_digest_is_not_built_again_on_later_ticks(
    chat: Chat, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Window] = []
    real_build = digest_room.build

    async def counting_build(tx: Transaction, **kwargs: Any) -> Digest:
        built.append(kwargs["window"])
        return await real_build(tx, **kwargs)

    monkeypatch.setattr(digest_room, "build", counting_build)
    assert await fire_due_schedules(store, CONFIG, now=FRIDAY_SLOT + timedelta(seconds=5)) == 2
    for minutes in (1, 2, 60, 300):  # the scheduler ticks on within the grace period
        assert (
            await fire_due_schedules(store, CONFIG, now=FRIDAY_SLOT + timedelta(minutes=minutes))
            == 0
        )

    assert len(built) == 2
    async with store.transaction() as tx:
        kept = (await tx.session.exec(select(DigestRow))).all()
    assert {row.content["questions"] for row in kept} == {0}  # the figures are kept
