"""Schema migrations with Alembic, driven from code: no alembic.ini is needed at run time."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.database import DatabaseUrls, create_sync_db_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(urls: DatabaseUrls) -> Config:
    """An Alembic configuration for the given database; ``env.py`` reads the URL from it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["sync_url"] = urls.sync_url
    return config


def upgrade(urls: DatabaseUrls, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(urls), revision)


def current_revision(urls: DatabaseUrls) -> str | None:
    """The revision the database is at, or None for an empty database."""
    engine = create_sync_db_engine(urls)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision(urls: DatabaseUrls) -> str | None:
    """The newest revision this release knows."""
    return ScriptDirectory.from_config(alembic_config(urls)).get_current_head()
