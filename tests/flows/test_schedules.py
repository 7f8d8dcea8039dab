"""Firing due slots: one broken channel never holds up the others, also within a batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from flows.config import FlowConfig
from flows.schedules import FIRE_BATCH, fire_due
from storage.enums import Platform, SpaceKind
from storage.models import Post, Schedule
from storage.store import Store, Transaction

KIND = "test_slot"
NOW = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)  # a Tuesday


async def _seed(store: Store, count: int) -> list[int]:
    ids = []
    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="landelijk", name="Lerend netwerk")
        assert network.id is not None
        for number in range(count):
            space = await tx.spaces.get_or_create(
                network_id=network.id,
                platform=Platform.SLACK,
                external_id=f"C{number:04d}",
                name=f"kanaal-{number}",
                kind=SpaceKind.CHANNEL,
            )
            assert space.id is not None
            schedule = Schedule(
                space_id=space.id,
                kind=KIND,
                weekday=1,
                time_of_day="09:00",
                timezone="UTC",
                created_at=NOW - timedelta(days=2),
            )
            tx.session.add(schedule)
            await tx.session.flush()
            assert schedule.id is not None
            ids.append(schedule.id)
    return ids


async def test_a_failing_slot_rolls_back_alone_and_the_rest_of_its_batch_is_queued(
    store: Store,
) -> None:
    ids = await _seed(store, FIRE_BATCH + 3)
    broken = {ids[1], ids[FIRE_BATCH + 1]}  # one in each batch

    async def poster(
        tx: Transaction, _config: FlowConfig, schedule: Schedule, moment: datetime
    ) -> int:
        assert schedule.id is not None
        await tx.rhythm.record_post(
            space_id=schedule.space_id,
            kind=KIND,
            schedule_id=schedule.id,
            prompt_key=None,
            planned_for=moment,
        )
        if schedule.id in broken:
            raise RuntimeError("this channel is broken")
        return 1

    queued = await fire_due(store, FlowConfig(), {KIND: poster}, now=NOW)

    assert queued == len(ids) - 2
    async with store.transaction() as tx:
        posted = {post.schedule_id for post in (await tx.session.exec(select(Post))).all()}
    assert posted == set(ids) - broken  # the broken ones left nothing half-written
