"""Whether the database schema is already the newest, without loading Alembic.

Every start of Hoedan brings the schema up to date. Alembic (and the migration scripts) take a
noticeable part of a start to import, while almost every start finds the schema current. So the
check comes first, with plain SQL: a migration's revision id is the four-digit number its file
name starts with (``0007_digest_preferences.py`` is revision ``0007``), the newest is the
highest, and the database names its own in ``alembic_version``. Only a database behind that
loads Alembic and upgrades.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.database import DatabaseUrls, create_sync_db_engine

VERSIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION_FILE = re.compile(r"(\d{4})_\w+\.py")


def newest_revision() -> str:
    """The newest revision this release ships (its migration files' highest number)."""
    found = [
        match.group(1)
        for path in VERSIONS.iterdir()
        if (match := _REVISION_FILE.fullmatch(path.name)) is not None
    ]
    return max(found)


def database_revision(urls: DatabaseUrls) -> str | None:
    """The revision the database says it is at; None when it has no schema yet."""
    engine = create_sync_db_engine(urls)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None
    finally:
        engine.dispose()


def ensure_current(urls: DatabaseUrls) -> None:
    """Upgrade the schema when it is behind (or absent); otherwise do nothing, quickly."""
    if database_revision(urls) == newest_revision():
        return
    from storage.migrate import upgrade  # Alembic only when it has work to do

    upgrade(urls)
