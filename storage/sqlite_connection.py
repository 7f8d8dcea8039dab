"""An aiosqlite connection that runs each statement in one trip to its worker thread.

aiosqlite runs sqlite3 in a thread of its own and every call is a round trip to it. SQLAlchemy's
aiosqlite adapter makes four trips per statement (open a cursor, execute, fetch, close), and
on a busy two-core machine each trip costs about 0.2 ms of hand-over between threads, far more
than SQLite's own work. Storing one #hoedan question took about 15 ms, most of it those trips.

:class:`OneTripConnection` is aiosqlite's ``Connection`` with one change: its cursors execute,
fetch every row and close in a single trip, and answer the adapter's later calls from memory.
Everything else (the thread, commits, errors, closing) is aiosqlite's own. It relies on
aiosqlite's ``_execute`` and ``_conn``, as SQLAlchemy's adapter itself relies on ``_conn``;
``tests/storage/test_sqlite_connection.py`` pins the behaviour the adapter needs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL

Row = tuple[Any, ...]
Description = tuple[tuple[Any, ...], ...] | None


def _run(
    connection: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[Description, list[Row], int | None, int]:
    """In the worker thread: execute, fetch everything, close; return what the adapter reads."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor:
    """The part of aiosqlite's ``Cursor`` that SQLAlchemy's adapter uses, one trip a statement."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Row] = []
        self.description: Description = None
        self.lastrowid: int | None = None
        self.rowcount = -1

    async def _trip(self, sql: str, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        # aiosqlite leaves ``_execute`` untyped; it returns what ``_run`` returns.
        outcome: tuple[Description, list[Row], int | None, int] = await connection._execute(  # type: ignore[no-untyped-call]
            _run, connection._conn, sql, parameters, many
        )
        self.description, self._rows, self.lastrowid, self.rowcount = outcome

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        await self._trip(sql, () if parameters is None else parameters, many=False)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        await self._trip(sql, parameters, many=True)
        return self

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Row]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> Sequence[Row]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection, handing out :class:`OneTripCursor` cursors."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # Like SQLAlchemy's own adapter: a forgotten connection must not keep the process alive.
        self._thread.daemon = True

    async def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)


def one_trip_creator(url: URL) -> Callable[[], OneTripConnection]:
    """An ``async_creator`` for ``create_async_engine``, connecting as SQLAlchemy would."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(url)
    open_file: Callable[..., sqlite3.Connection] = sqlite3.connect

    def connect() -> sqlite3.Connection:
        return open_file(*args, **kwargs)

    return lambda: OneTripConnection(connect)
