"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import storage.models
from storage.database import (
    SQLITE_BUSY_TIMEOUT_MS,
    DatabaseUrls,
    create_sync_db_engine,
    resolve_database_url,
)
from storage.migrate import current_revision, head_revision, upgrade
from storage.schema_version import database_revision, ensure_current, newest_revision
from storage.search import include_in_schema_comparison
from storage.store import Store


def _schema_differences(urls: DatabaseUrls) -> list[Any]:
    engine = create_sync_db_engine(urls)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_name": include_in_schema_comparison,
                },
            )
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[Store]:
    urls = resolve_database_url(sqlite_url)
    upgrade(urls)
    store = Store(urls)
    try:
        yield store
    finally:
        await store.close()


def test_an_empty_database_is_upgraded_to_the_newest_revision(database_url: str) -> None:
    urls = resolve_database_url(database_url)
    assert current_revision(urls) is None

    upgrade(urls)

    assert head_revision(urls) is not None
    assert current_revision(urls) == head_revision(urls)


def test_upgrading_an_up_to_date_database_again_changes_nothing(database: DatabaseUrls) -> None:
    revision = current_revision(database)

    upgrade(database)
    upgrade(database)

    assert current_revision(database) == revision == head_revision(database)
    assert _schema_differences(database) == []


def test_the_migrated_schema_matches_the_models_exactly(database: DatabaseUrls) -> None:
    engine = create_sync_db_engine(database)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables

    assert _schema_differences(database) == []


def test_the_schema_comparison_notices_a_missing_index(database: DatabaseUrls) -> None:
    engine = create_sync_db_engine(database)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_question_status"))
    finally:
        engine.dispose()

    differences = _schema_differences(database)

    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_question_status")]


async def test_every_sqlite_connection_of_the_app_uses_wal_foreign_keys_and_a_busy_timeout(
    sqlite_store: Store,
) -> None:
    # Both connections are open at once, so the pool hands out two different ones; each commits
    # before the next starts, because every transaction takes the write lock (BEGIN IMMEDIATE).
    async with sqlite_store.engine.connect() as first, sqlite_store.engine.connect() as second:
        raw = [await connection.get_raw_connection() for connection in (first, second)]
        assert raw[0].driver_connection is not raw[1].driver_connection
        for connection in (first, second):
            journal_mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy_timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
            await connection.commit()

            assert journal_mode == "wal"
            assert foreign_keys == 1
            assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS == 10_000


async def test_a_row_pointing_at_a_missing_network_is_refused_on_sqlite(
    sqlite_store: Store,
) -> None:
    async def store_a_region_of_a_missing_network() -> None:
        async with sqlite_store.transaction() as tx:
            tx.session.add(storage.models.Region(network_id=4242, name="Twente", key="twente"))

    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        await store_a_region_of_a_missing_network()

    async with sqlite_store.transaction() as tx:
        assert await tx.regions.all(network_id=4242) == []


async def test_a_row_pointing_at_an_existing_network_is_accepted(store: Store) -> None:
    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="zorgnetwerk", name="Zorgnetwerk")
        assert network.id is not None
        await tx.regions.create(network_id=network.id, name="Twente")

    async with store.transaction() as tx:
        regions = await tx.regions.all(network_id=network.id)
        assert [region.name for region in regions] == ["Twente"]


def test_the_quick_schema_check_knows_the_same_newest_revision_as_alembic(
    database_url: str,
) -> None:
    """Revision ids are their files' four-digit numbers; the start-up check relies on it."""
    urls = resolve_database_url(database_url)
    assert database_revision(urls) is None  # no schema yet

    ensure_current(urls)

    assert newest_revision() == head_revision(urls) == current_revision(urls)
    assert database_revision(urls) == newest_revision()


def test_a_database_behind_is_upgraded_at_start_and_a_current_one_left_alone(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = resolve_database_url(database_url)
    upgrade(urls, "0006")

    ensure_current(urls)
    assert current_revision(urls) == newest_revision()

    def must_not_run(*_args: object) -> None:
        raise AssertionError("a current schema was upgraded again")

    monkeypatch.setattr("storage.migrate.upgrade", must_not_run)
    ensure_current(urls)
