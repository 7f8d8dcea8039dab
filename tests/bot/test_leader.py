"""One leader per database: the lock is taken by one process, released by death or shutdown,
and taken over by another at its next tick (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.leader import ADVISORY_KEY, FileLeadership, PostgresLeadership, leadership_for
from storage.database import resolve_database_url
from storage.store import Store


async def test_one_of_two_stores_leads_and_the_other_takes_over_after_release(
    store: Store,
) -> None:
    other = Store(store.urls)
    try:
        first, second = leadership_for(store), leadership_for(other)
        assert type(first) is type(second)
        assert isinstance(first, FileLeadership | PostgresLeadership)

        assert await first.hold() is True
        assert await second.hold() is False
        assert await first.hold() is True  # keeping it is cheap and stays true
        assert (first.leading, second.leading) == (True, False)

        await first.release()
        assert await second.hold() is True
        assert await first.hold() is False
        await second.release()
    finally:
        await other.close()


@pytest.mark.postgres
async def test_a_leader_whose_connection_dies_is_replaced(store: Store) -> None:
    """What a ``kill -9`` looks like from PostgreSQL: the session holding the lock ends."""
    if store.urls.is_sqlite:
        pytest.skip("PostgreSQL only")
    other = Store(store.urls)
    first, second = PostgresLeadership(store), PostgresLeadership(other)
    try:
        assert await first.hold()
        assert not await second.hold()
        async with other.engine.connect() as admin:
            schema_hash = await admin.scalar(text("SELECT hashtext(current_schema())"))
            ended = await admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND classid = :key "
                    "AND objid = :schema AND objsubid = 2"
                ),
                {"key": ADVISORY_KEY, "schema": int(schema_hash) & 0xFFFFFFFF},
            )
        assert ended == 1
        # The server ends the session in its own time; the follower asks again at each tick.
        for _ in range(200):
            if await second.hold():
                break
            await asyncio.sleep(0.05)
        assert second.leading
        assert not await first.hold()  # it notices it lost the lead, and does not crash
        assert not first.leading
    finally:
        await first.release()
        await second.release()
        await other.close()


def test_sqlite_leads_through_a_lock_file_next_to_the_database(tmp_path: Path) -> None:
    on_disk = Store(resolve_database_url(f"sqlite:///{tmp_path / 'h.db'}"))
    leadership = leadership_for(on_disk)
    assert isinstance(leadership, FileLeadership)
    assert leadership.path == tmp_path / "h.db.leader"
