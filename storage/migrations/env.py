"""Alembic environment: runs migrations on the sync engine Hoedan derives from DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on the metadata)
from storage.database import DatabaseUrls, create_sync_db_engine
from storage.search import include_in_schema_comparison

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    sync_url = config.attributes["sync_url"]
    engine = create_sync_db_engine(DatabaseUrls(async_url=sync_url, sync_url=sync_url))
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
                # The full-text index has no model; autogenerate would otherwise drop it.
                include_name=include_in_schema_comparison,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
