"""Persisted flow instances: JSON state round trips, stale writers are stopped, timers come due."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.models import FlowInstance
from storage.repositories.flows import StaleFlowError
from storage.store import Store

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

DATA: dict[str, Any] = {
    "casus": "Overdracht van de wijkverpleging naar het ziekenhuis",
    "inbrenger": 7,
    "deelnemers": [7, 12, 31],
    "rondes": {"vragen": ["Wat speelt er?", "Wie is er nog bij betrokken?"], "klaar": False},
    "notitie": "Zoë vindt dit “lastig” — 100%",
    "score": 3.5,
    "leeg": None,
}


async def _create(
    store: Store,
    *,
    kind: str = "intervision",
    state: str = "gathering",
    data: dict[str, Any] | None = None,
    deadline: datetime | None = None,
    finished: bool = False,
) -> int:
    async with store.transaction() as tx:
        instance = await tx.flows.create(
            kind=kind,
            flow_version=2,
            state=state,
            data=data if data is not None else {},
            deadline=deadline,
            space_id=None,
            finished=finished,
        )
    assert instance.id is not None
    return instance.id


async def _read(store: Store, flow_id: int) -> FlowInstance:
    async with store.transaction() as tx:
        instance = await tx.flows.get(flow_id)
    assert instance is not None
    return instance


async def test_a_flow_comes_back_exactly_as_it_was_stored(store: Store) -> None:
    flow_id = await _create(store, data=DATA, deadline=NOW + timedelta(days=2))

    instance = await _read(store, flow_id)

    assert instance.kind == "intervision"
    assert instance.flow_version == 2
    assert instance.state == "gathering"
    assert instance.data == DATA
    assert instance.deadline == NOW + timedelta(days=2)
    assert instance.deadline.tzinfo is UTC
    assert instance.revision == 1
    assert instance.finished_at is None


async def test_an_unknown_flow_is_none(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.flows.get(987_654) is None


async def test_saving_a_transition_stores_it_and_moves_the_revision_on(store: Store) -> None:
    flow_id = await _create(store, data=DATA, deadline=NOW)
    moved_on = {**DATA, "deelnemers": [7, 12], "rondes": {"vragen": [], "klaar": True}}

    async with store.transaction() as tx:
        instance = await tx.flows.get(flow_id)
        assert instance is not None
        await tx.flows.save(
            instance, state="questioning", data=moved_on, deadline=None, finished=False
        )
        assert instance.revision == 2

    stored = await _read(store, flow_id)
    assert stored.state == "questioning"
    assert stored.data == moved_on
    assert stored.deadline is None
    assert stored.revision == 2
    assert stored.finished_at is None


async def test_finishing_a_flow_records_when(store: Store) -> None:
    flow_id = await _create(store)

    async with store.transaction() as tx:
        instance = await tx.flows.get(flow_id)
        assert instance is not None
        await tx.flows.save(instance, state="done", data={}, deadline=None, finished=True)

    stored = await _read(store, flow_id)
    assert stored.state == "done"
    assert stored.finished_at is not None
    assert stored.finished_at.tzinfo is UTC
    assert stored.finished_at == stored.updated_at


async def _save_other_writer(store: Store, flow_id: int) -> None:
    async with store.transaction() as tx:
        instance = await tx.flows.get(flow_id)
        assert instance is not None
        await tx.flows.save(
            instance, state="second", data={"stap": 2}, deadline=None, finished=False
        )


def _assert_as_the_other_writer_left_it(stored: FlowInstance) -> None:
    assert (stored.state, stored.data, stored.deadline, stored.revision) == (
        "second",
        {"stap": 2},
        None,
        2,
    )
    assert stored.finished_at is None


async def test_a_writer_holding_an_old_revision_is_stopped_and_changes_nothing(
    store: Store,
) -> None:
    flow_id = await _create(store, data={"stap": 1}, deadline=NOW)
    stale = await _read(store, flow_id)
    await _save_other_writer(store, flow_id)

    async def save_stale() -> None:
        async with store.transaction() as tx:
            tx.session.add(stale)
            await tx.flows.save(
                stale, state="overwritten", data={"stap": 99}, deadline=NOW, finished=True
            )

    with pytest.raises(StaleFlowError, match=f"flow {flow_id} changed since it was read"):
        await save_stale()

    _assert_as_the_other_writer_left_it(await _read(store, flow_id))


async def test_two_transactions_moving_one_flow_at_once_let_only_the_first_through(
    store: Store,
) -> None:
    if store.urls.is_sqlite:
        pytest.skip("SQLite runs one writing transaction at a time (BEGIN IMMEDIATE)")
    flow_id = await _create(store, data={"stap": 1}, deadline=NOW)

    async def save_after_someone_else() -> None:
        async with store.transaction() as tx:
            mine = await tx.flows.get(flow_id)
            assert mine is not None
            # Another writer, as another request would be: its own task with its own context.
            await asyncio.create_task(
                _save_other_writer(store, flow_id), context=contextvars.Context()
            )
            await tx.flows.save(
                mine, state="overwritten", data={"stap": 99}, deadline=NOW, finished=True
            )

    with pytest.raises(StaleFlowError):
        await save_after_someone_else()

    _assert_as_the_other_writer_left_it(await _read(store, flow_id))


async def test_after_re_reading_the_flow_the_writer_can_save(store: Store) -> None:
    flow_id = await _create(store, data={"stap": 1})
    stale = await _read(store, flow_id)
    await _save_other_writer(store, flow_id)

    async with store.transaction() as tx:
        tx.session.add(stale)
        with pytest.raises(StaleFlowError):
            await tx.flows.save(stale, state="third", data={}, deadline=None, finished=False)
        await tx.session.refresh(stale)
        await tx.flows.save(stale, state="third", data={"stap": 3}, deadline=None, finished=False)

    stored = await _read(store, flow_id)
    assert (stored.state, stored.data, stored.revision) == ("third", {"stap": 3}, 3)


async def test_only_unfinished_flows_past_their_deadline_are_due_earliest_first(
    store: Store,
) -> None:
    late = await _create(store, kind="late", deadline=NOW - timedelta(minutes=5))
    longest_overdue = await _create(
        store, kind="longest_overdue", deadline=NOW - timedelta(hours=3)
    )
    exactly_now = await _create(store, kind="exactly_now", deadline=NOW)
    await _create(store, kind="future", deadline=NOW + timedelta(seconds=1))
    await _create(store, kind="no_deadline", deadline=None)
    await _create(store, kind="finished", deadline=NOW - timedelta(days=1), finished=True)

    async with store.transaction() as tx:
        due = await tx.flows.due(now=NOW)

    assert [instance.id for instance in due] == [longest_overdue, late, exactly_now]


async def test_a_flow_finished_by_a_transition_is_no_longer_due(store: Store) -> None:
    flow_id = await _create(store, deadline=NOW - timedelta(hours=1))
    async with store.transaction() as tx:
        instance = await tx.flows.get(flow_id)
        assert instance is not None
        await tx.flows.save(
            instance, state="done", data={}, deadline=NOW - timedelta(hours=1), finished=True
        )

    async with store.transaction() as tx:
        assert await tx.flows.due(now=NOW) == []


async def test_due_flows_respect_the_limit(store: Store) -> None:
    ids = [
        await _create(store, deadline=NOW - timedelta(minutes=minutes)) for minutes in (1, 4, 2, 3)
    ]

    async with store.transaction() as tx:
        due = await tx.flows.due(now=NOW, limit=2)

    assert [instance.id for instance in due] == [ids[1], ids[3]]
