"""Which process runs the scheduled work when several serve one database.

Several ``hoedan run`` processes may share one PostgreSQL database (behind a load balancer,
or one per Slack workspace of a network). Each takes Slack's and Teams' requests and delivers
from the outbox (both safe to share, see ``storage.repositories.delivery``), but only one, the
leader, fires deadlines, weekly slots and digests: doing that once is cheaper than letting
every process race for the same rows, and a slot's log then tells one story.

The leader holds a lock that the database or the operating system releases when the process
dies, so there is nothing to clean up after a ``kill -9``:

* PostgreSQL: a session-level advisory lock (per schema) on a connection kept open for it. A crashed
  process's connection closes and the lock with it; the next tick of another process takes it.
* SQLite: an exclusive ``flock`` on a file next to the database. One SQLite file is only ever
  shared by processes on one machine, where the kernel drops the lock with the process.

Every process asks at each tick (:meth:`Leadership.hold`); a follower becomes leader within
one tick of the leader going away.
"""

from __future__ import annotations

import contextlib
import logging
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.store import Store

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x486F6564  # "Hoed"
"""The advisory lock's first key; the second is the schema's hash, so one leader per schema
(Hoedan's tables live in one schema; tests give each test a schema of its own)."""
LOCK = "SELECT pg_try_advisory_lock(:key, hashtext(current_schema()))"
UNLOCK = "SELECT pg_advisory_unlock(:key, hashtext(current_schema()))"


class Leadership(ABC):
    """Whether this process is the one that runs the scheduled work right now."""

    def __init__(self) -> None:
        self.leading = False

    async def hold(self) -> bool:
        """Keep or take the lead; False while another process has it."""
        was = self.leading
        try:
            self.leading = await self._hold()
        except Exception:
            log.warning("could not check who runs the scheduled work", exc_info=True)
            await self._drop()
            self.leading = False
        if self.leading != was:
            log.info("this process %s the scheduled work", "runs" if self.leading else "left")
        return self.leading

    async def release(self) -> None:
        """At shutdown: let another process take over at once."""
        await self._drop()
        self.leading = False

    @abstractmethod
    async def _hold(self) -> bool: ...

    @abstractmethod
    async def _drop(self) -> None: ...


class PostgresLeadership(Leadership):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._connection: AsyncConnection | None = None

    async def _hold(self) -> bool:
        if self._connection is not None:
            # Still ours as long as the connection that took the lock is alive.
            await self._connection.execute(text("SELECT 1"))
            return True
        connection = await self._store.engine.connect()
        try:
            taken = await connection.scalar(text(LOCK), {"key": ADVISORY_KEY})
            # Nothing else runs on this connection; end the implicit transaction so that it
            # does not sit "idle in transaction" for as long as the process leads.
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.execute(text(UNLOCK), {"key": ADVISORY_KEY})
            await connection.commit()
        with contextlib.suppress(Exception):
            # A connection that lost its server is not given back to the pool.
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()


class FileLeadership(Leadership):
    """An exclusive ``flock`` on ``<database>.leader``, held while the file stays open."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: IO[bytes] | None = None

    async def _hold(self) -> bool:
        if self._file is not None:
            return True
        import fcntl  # POSIX only; see leadership_for

        handle = self.path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        self._file = handle
        return True

    async def _drop(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()  # closing the file releases the lock


class SoleLeadership(Leadership):
    """Always leading, on a system without ``flock``: there, one process per SQLite file is
    the rule (the README says so)."""

    async def _hold(self) -> bool:
        return True

    async def _drop(self) -> None:
        return None


def leadership_for(store: Store) -> Leadership:
    urls = store.urls
    if not urls.is_sqlite:
        return PostgresLeadership(store)
    database = urls.sync_url.database
    if not database or os.name != "posix":
        return SoleLeadership()
    return FileLeadership(Path(f"{database}.leader"))
