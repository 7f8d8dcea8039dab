"""The one-trip SQLite connection behaves as SQLAlchemy's aiosqlite adapter expects.

These run through a real async engine on a real file, so they pin what the adapter reads from
a cursor (rows, description, rowcount, lastrowid), how errors come out, and how many trips to
the worker thread a statement costs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_async_db_engine, resolve_database_url
from storage.sqlite_connection import OneTripConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_db_engine(resolve_database_url(f"sqlite:///{tmp_path / 'one.db'}"))
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)")
        )
    yield engine
    await engine.dispose()


async def test_the_engine_uses_one_trip_connections(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, OneTripConnection)


async def test_rows_rowcount_and_lastrowid_come_back(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO item (name) VALUES ('a')"))
        assert inserted.rowcount == 1
        assert inserted.lastrowid == 1
        many = await connection.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        assert many.rowcount == 2
        updated = await connection.execute(text("UPDATE item SET name = name || '!'"))
        assert updated.rowcount == 3
        result = await connection.execute(text("SELECT id, name FROM item ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert result.all() == [(1, "a!"), (2, "b!"), (3, "c!")]
        returned = await connection.execute(
            text("INSERT INTO item (name) VALUES ('d') RETURNING id")
        )
        assert returned.scalar_one() == 4


async def test_rows_can_be_taken_one_at_a_time(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": n} for n in "abcde"]
        )
        result = await connection.execute(text("SELECT name FROM item ORDER BY name"))
        assert result.fetchone() == ("a",)
        assert result.fetchmany(2) == [("b",), ("c",)]
        assert result.fetchall() == [("d",), ("e",)]
        assert result.fetchone() is None


async def test_streamed_results_work_too(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO item (name) VALUES (:name)"), [{"name": n} for n in "xyz"]
        )
        stream = await connection.stream(text("SELECT name FROM item ORDER BY name"))
        assert [row.name async for row in stream] == ["x", "y", "z"]


async def test_errors_arrive_as_sqlalchemy_errors_and_the_engine_carries_on(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO item (name) VALUES ('same')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO item (name) VALUES ('same')"))
    with pytest.raises(OperationalError):
        async with engine.begin() as connection:
            await connection.execute(text("SELECT * FROM no_such_table"))
    async with engine.connect() as connection:
        count = await connection.execute(text("SELECT COUNT(*) FROM item"))
        assert count.scalar_one() == 1


async def test_a_rolled_back_transaction_leaves_nothing(engine: AsyncEngine) -> None:
    connection = await engine.connect()
    await connection.begin()
    await connection.execute(text("INSERT INTO item (name) VALUES ('gone')"))
    await connection.rollback()
    await connection.close()
    async with engine.connect() as connection:
        count = await connection.execute(text("SELECT COUNT(*) FROM item"))
        assert count.scalar_one() == 0


async def test_a_statement_is_one_trip_to_the_worker_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[str] = []
    original = OneTripConnection._execute

    async def counting(self: OneTripConnection, fn: object, *args: object) -> object:
        trips.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args)

    async with engine.begin() as connection:
        await connection.execute(text("SELECT 1"))  # connect and begin first
        monkeypatch.setattr(OneTripConnection, "_execute", counting)
        await connection.execute(text("SELECT name FROM item"))
        await connection.execute(text("INSERT INTO item (name) VALUES ('one')"))

    # Two statements, the commit, and the pool's reset when the connection goes back.
    assert trips == ["_run", "_run", "commit", "rollback"]
