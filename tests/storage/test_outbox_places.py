"""Group conversations and threads by subject in the outbox, and which subject owns a place."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event

from flows.messages import Message, Paragraph
from flows.outbound import Outbound, ToGroup, ToSpace, enqueue
from flows.text import ours
from storage.database import resolve_database_url
from storage.enums import DeliveryKind, OutboxStatus, Platform, SpaceKind
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.repositories.delivery import THREAD_OF_SUBJECT, thread_subject
from storage.store import Store, Transaction


@dataclass(frozen=True)
class People:
    anna: int
    bram: int
    carla: int
    channel: int


def _card(line: str) -> Message:
    return Message(parts=(Paragraph(text=ours(line)),))


async def _people(store: Store) -> People:
    """Three Slack members and the channel their intervision runs in."""
    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="test", name="Test")
        assert network.id is not None
        ids = []
        for external_id, name in (("U0ANNA", "Anna"), ("U0BRAM", "Bram"), ("U0CARLA", "Carla")):
            member = await tx.members.get_or_create(
                network_id=network.id,
                platform=Platform.SLACK,
                external_id=external_id,
                display_name=name,
            )
            assert member.id is not None
            ids.append(member.id)
        space = await tx.spaces.get_or_create(
            network_id=network.id,
            platform=Platform.SLACK,
            external_id="C0INTER",
            name="intervisie",
            kind=SpaceKind.CHANNEL,
        )
        assert space.id is not None
    anna, bram, carla = ids
    return People(anna=anna, bram=bram, carla=carla, channel=space.id)


async def _queue(store: Store, key: str, *outbound: Outbound) -> list[OutboxMessage]:
    async with store.transaction() as tx:
        await enqueue(tx, list(outbound), key_prefix=key)
    async with store.transaction() as tx:
        rows = [await tx.outbox.by_key(f"{key}:{index}") for index in range(len(outbound))]
    return [row for row in rows if row is not None]


async def _sent(store: Store, key: str, external_ref: str, channel_ref: str | None = None) -> None:
    async with store.transaction() as tx:
        row = await tx.outbox.by_key(key)
        assert row is not None
        await tx.outbox.mark_sent(row, external_ref=external_ref, channel_ref=channel_ref)


async def _subject_of_place(
    store: Store, channel_ref: str, thread_ref: str | None, prefix: str = "intervision:"
) -> str | None:
    async with store.transaction() as tx:
        return await tx.outbox.subject_of_place(
            platform=Platform.SLACK, channel_ref=channel_ref, thread_ref=thread_ref, prefix=prefix
        )


# Queueing


async def test_a_group_message_is_addressed_by_its_members_in_order_and_named(
    store: Store,
) -> None:
    people = await _people(store)

    [row] = await _queue(
        store,
        "group",
        Outbound(
            ToGroup((people.carla, people.anna, people.bram), "intervisie-3"),
            _card("Welkom bij de intervisie"),
            subject="intervision:3",
        ),
    )

    assert row.kind == DeliveryKind.GROUP
    assert row.platform == Platform.SLACK
    assert row.member_ref == "U0CARLA,U0ANNA,U0BRAM"
    assert row.channel_ref == "intervisie-3"
    assert row.thread_ref is None
    assert row.subject == "intervision:3"
    assert row.status == OutboxStatus.PENDING


async def test_a_group_across_platforms_is_refused(store: Store) -> None:
    people = await _people(store)
    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="test", name="Test")
        assert network.id is not None
        elsewhere = await tx.members.get_or_create(
            network_id=network.id,
            platform=Platform.CONSOLE,
            external_id="dirk",
            display_name="Dirk",
        )
        assert elsewhere.id is not None
        elsewhere_id = elsewhere.id

    with pytest.raises(AssertionError, match="share one platform"):
        await _queue(
            store, "mixed", Outbound(ToGroup((people.anna, elsewhere_id), "g"), _card("x"))
        )


async def test_a_post_for_a_subjects_thread_names_the_subject_as_its_thread(store: Store) -> None:
    people = await _people(store)

    opening, reply = await _queue(
        store,
        "thread",
        Outbound(ToSpace(people.channel), _card("Intervisie 3 begint"), subject="intervision:3"),
        Outbound(ToSpace(people.channel, thread_subject="intervision:3"), _card("Fase 1")),
    )

    assert opening.thread_ref is None
    assert reply.thread_ref == THREAD_OF_SUBJECT + "intervision:3"
    assert reply.channel_ref == "C0INTER"
    assert thread_subject(reply.thread_ref) == "intervision:3"
    assert thread_subject(opening.thread_ref) is None
    assert thread_subject("1700000000.000100") is None


async def test_a_thread_by_id_and_by_subject_at_once_is_refused(store: Store) -> None:
    people = await _people(store)
    both = ToSpace(people.channel, thread_ref="1700000000.000100", thread_subject="intervision:3")

    with pytest.raises(AssertionError, match="not both"):
        await _queue(store, "both", Outbound(both, _card("x")))


async def test_the_opening_post_is_the_first_top_level_post_about_the_subject(
    store: Store,
) -> None:
    people = await _people(store)
    await _queue(
        store,
        "t",
        Outbound(
            ToSpace(people.channel, thread_subject="intervision:3"), _card("a"), "intervision:3"
        ),
        Outbound(ToSpace(people.channel), _card("b"), subject="intervision:2"),
        Outbound(ToSpace(people.channel, thread_ref="17.1"), _card("c"), subject="intervision:3"),
        Outbound(ToSpace(people.channel), _card("opening"), subject="intervision:3"),
        Outbound(ToSpace(people.channel), _card("again"), subject="intervision:3"),
    )

    async with store.transaction() as tx:
        opening = await tx.outbox.opening_post(
            platform=Platform.SLACK, channel_ref="C0INTER", subject="intervision:3"
        )
        elsewhere = await tx.outbox.opening_post(
            platform=Platform.SLACK, channel_ref="C0OTHER", subject="intervision:3"
        )

    assert opening is not None
    assert opening.idempotency_key == "t:3"
    assert elsewhere is None


async def test_a_sent_group_message_records_the_conversation_it_landed_in(store: Store) -> None:
    people = await _people(store)
    await _queue(
        store, "g", Outbound(ToGroup((people.anna, people.bram), "intervisie-3"), _card("x"))
    )
    await _queue(store, "p", Outbound(ToSpace(people.channel), _card("y")))

    await _sent(store, "g:0", "G0ABC:1700000000.000100", channel_ref="G0ABC")
    await _sent(store, "p:0", "C0INTER:1700000000.000200")

    async with store.transaction() as tx:
        group = await tx.outbox.by_key("g:0")
        post = await tx.outbox.by_key("p:0")
    assert group is not None
    assert post is not None
    assert (group.status, group.channel_ref) == (OutboxStatus.SENT, "G0ABC")
    assert (post.status, post.channel_ref) == (OutboxStatus.SENT, "C0INTER")


async def test_postponing_counts_no_attempt_and_keeps_the_last_error(store: Store) -> None:
    people = await _people(store)
    [row] = await _queue(store, "w", Outbound(ToSpace(people.channel), _card("x")))
    async with store.transaction() as tx:
        current = await tx.outbox.by_key("w:0")
        assert current is not None
        await tx.outbox.retry_later(current, at=row.next_attempt_at, error="maybe-sent: 503")
    async with store.transaction() as tx:
        current = await tx.outbox.by_key("w:0")
        assert current is not None
        await tx.outbox.postpone(current, at=row.next_attempt_at.replace(year=2100))

    async with store.transaction() as tx:
        waited = await tx.outbox.by_key("w:0")
    assert waited is not None
    assert waited.attempts == 1
    assert waited.last_error == "maybe-sent: 503"
    assert waited.next_attempt_at.year == 2100
    assert waited.status == OutboxStatus.PENDING


# Which subject owns a place


async def test_a_thread_belongs_to_the_subject_of_the_post_that_opened_it(store: Store) -> None:
    people = await _people(store)
    await _queue(
        store,
        "t",
        Outbound(ToSpace(people.channel), _card("Intervisie 3"), subject="intervision:3"),
        Outbound(ToSpace(people.channel), _card("Vraag 12"), subject="question:12"),
        Outbound(ToSpace(people.channel), _card("Nog niet verstuurd"), subject="intervision:4"),
    )
    await _sent(store, "t:0", "C0INTER:1700000000.000100")
    await _sent(store, "t:1", "C0INTER:1700000000.000200")

    assert await _subject_of_place(store, "C0INTER", "1700000000.000100") == "intervision:3"
    assert await _subject_of_place(store, "C0INTER", "1700000000.000200") is None
    assert (
        await _subject_of_place(store, "C0INTER", "1700000000.000200", prefix="question:")
        == "question:12"
    )
    assert await _subject_of_place(store, "C0INTER", "1700000000.000999") is None
    assert await _subject_of_place(store, "C0OTHER", "1700000000.000100") is None


async def test_a_group_conversation_belongs_to_its_newest_sessions_subject(store: Store) -> None:
    people = await _people(store)
    pair = (people.anna, people.bram)
    await _queue(
        store,
        "g",
        Outbound(ToGroup(pair, "intervisie-1"), _card("Sessie 1"), subject="intervision:1"),
        Outbound(ToGroup(pair, "intervisie-1"), _card("Zonder onderwerp")),
        Outbound(ToGroup(pair, "intervisie-2"), _card("Sessie 2"), subject="intervision:2"),
        Outbound(ToGroup(pair, "intervisie-2"), _card("Ander onderwerp"), subject="question:7"),
        Outbound(ToGroup(pair, "intervisie-9"), _card("Niet verstuurd"), subject="intervision:9"),
    )
    assert await _subject_of_place(store, "G0PAIR", None) is None

    for index in range(4):
        await _sent(store, f"g:{index}", f"G0PAIR:17000000{index}.000100", channel_ref="G0PAIR")

    assert await _subject_of_place(store, "G0PAIR", None) == "intervision:2"
    assert await _subject_of_place(store, "G0PAIR", None, prefix="question:") == "question:7"
    assert await _subject_of_place(store, "G0PAIR", None, prefix="INTERVISION:") is None
    assert await _subject_of_place(store, "G0PAIR", None, prefix="%") is None
    assert await _subject_of_place(store, "intervisie-9", None) is None
    assert await _subject_of_place(store, "C0INTER", None) is None


async def test_a_post_in_a_channel_does_not_make_it_a_group_conversation(store: Store) -> None:
    people = await _people(store)
    await _queue(store, "p", Outbound(ToSpace(people.channel), _card("x"), subject="intervision:5"))
    await _sent(store, "p:0", "C0INTER:1700000000.000100")

    assert await _subject_of_place(store, "C0INTER", None) is None


async def test_places_and_opening_posts_are_found_through_the_posted_index(
    sqlite_url: str,
) -> None:
    """Every message in a channel may ask this: one probe of the index, never a table scan."""
    urls = resolve_database_url(sqlite_url)
    upgrade(urls)
    store = Store(urls)
    try:
        async with store.transaction() as tx:
            outbox = tx.outbox
            in_group = await _plan_of(
                tx,
                outbox.subject_of_place(
                    platform=Platform.SLACK, channel_ref="G0PAIR", thread_ref=None, prefix="i"
                ),
            )
            in_thread = await _plan_of(
                tx,
                outbox.subject_of_place(
                    platform=Platform.SLACK, channel_ref="C0", thread_ref="17.1", prefix="i"
                ),
            )
            opening = await _plan_of(
                tx, outbox.opening_post(platform=Platform.SLACK, channel_ref="C0", subject="i:1")
            )
    finally:
        await store.close()

    channel = "USING INDEX ix_outbox_message_posted (platform=? AND channel_ref=?)"
    assert channel in in_group
    assert channel in opening
    assert (
        "USING INDEX ix_outbox_message_posted (platform=? AND channel_ref=? AND external_ref=?)"
        in in_thread
    )


async def _plan_of(tx: Transaction, query: Awaitable[object]) -> str:
    """SQLite's query plan for the one statement a repository call runs."""
    seen: list[tuple[str, Any]] = []

    def remember(_c: object, _cur: object, statement: str, parameters: Any, *_: object) -> None:
        seen.append((statement, parameters))

    connection = await tx.session.connection()
    engine = connection.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        await query
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    [(statement, parameters)] = seen
    plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    return "\n".join(str(row[-1]) for row in plan)
