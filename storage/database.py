"""Database URLs and engines.

Hoedan accepts one ``DATABASE_URL`` (SQLite by default, PostgreSQL when a network outgrows one
machine) and derives two engines from it: an async one for the running app, so the event loop never
stalls on a query, and a sync one for Alembic and other tools that only speak sync SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.sqlite_connection import one_trip_creator

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite writer waits for another before giving up; generous so users never see it."""


class DatabaseUrlError(ValueError):
    """The configured database URL cannot be used; the message says why, in plain words."""


@dataclass(frozen=True)
class DatabaseUrls:
    """The async and sync SQLAlchemy URLs for one configured database."""

    async_url: URL
    sync_url: URL

    @property
    def is_sqlite(self) -> bool:
        return self.sync_url.get_backend_name() == "sqlite"


_SQLITE_DRIVERS = {"", "pysqlite", "aiosqlite"}
_POSTGRES_DRIVERS = {"", "psycopg", "psycopg2", "asyncpg"}


def resolve_database_url(raw: str) -> DatabaseUrls:
    """Turn a user's ``DATABASE_URL`` into the URLs Hoedan's engines need.

    Accepts ``sqlite:///path``, ``postgresql://…`` and ``postgres://…`` (with or without a driver
    suffix) and maps them onto the drivers Hoedan ships with: aiosqlite and psycopg 3.
    """
    text = raw.strip()
    if not text:
        raise DatabaseUrlError("DATABASE_URL is empty; expected for example sqlite:///hoedan.db")
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUrlError(
            f"DATABASE_URL {_redact(text)!r} is not a database URL; "
            "expected for example sqlite:///hoedan.db or postgresql://user@host/db"
        ) from exc
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in _SQLITE_DRIVERS:
        if url.database in (None, "", ":memory:"):
            raise DatabaseUrlError(
                "DATABASE_URL must name a SQLite file (sqlite:///hoedan.db); "
                "an in-memory database would lose everything at exit"
            )
        return DatabaseUrls(
            async_url=url.set(drivername="sqlite+aiosqlite"),
            sync_url=url.set(drivername="sqlite+pysqlite"),
        )
    if backend in {"postgresql", "postgres"} and driver in _POSTGRES_DRIVERS:
        if not url.database:
            raise DatabaseUrlError(
                "DATABASE_URL for PostgreSQL must name a database, as in postgresql://user@host/hoedan"
            )
        pg = url.set(drivername="postgresql+psycopg")
        return DatabaseUrls(async_url=pg, sync_url=pg)
    raise DatabaseUrlError(
        f"DATABASE_URL uses {url.drivername!r}; Hoedan supports sqlite:///… and postgresql://…"
    )


def _redact(text: str) -> str:
    """Hide a password in a URL-ish string before it goes into an error message or a log."""
    if "@" in text:
        scheme, sep, rest = text.partition("://") if "://" in text else ("", "", text)
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else text
    return text


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys and a busy timeout on every connection; writers take the lock up front.

    Python's sqlite3 starts transactions lazily, so two sessions that read and then write can
    deadlock with an immediate "database is locked". Taking control of BEGIN and using
    ``BEGIN IMMEDIATE`` makes a second writer wait (up to the busy timeout) instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_async_db_engine(urls: DatabaseUrls) -> AsyncEngine:
    """The engine the running app uses."""
    if not urls.is_sqlite:
        return create_async_engine(urls.async_url, pool_pre_ping=True)
    engine = create_async_engine(urls.async_url, async_creator=one_trip_creator(urls.async_url))
    _configure_sqlite(engine.sync_engine)
    return engine


def create_sync_db_engine(urls: DatabaseUrls) -> Engine:
    """The engine for migrations and tools that only speak sync SQLAlchemy."""
    engine = create_engine(urls.sync_url, pool_pre_ping=not urls.is_sqlite)
    if urls.is_sqlite:
        _configure_sqlite(engine)
    return engine
