"""The outbox dispatcher: delivers queued messages, once, whatever the platform does.

A deliverer answers each attempt with :class:`Sent`, :class:`RetryLater` (rate limits, server
errors, time-outs) or :class:`Failed` (the channel is gone, the bot was removed). Permanent
failures are recorded for the coordinators and never stop other deliveries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from storage.enums import Platform
from storage.models import OutboxMessage
from storage.store import Store
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(minutes=10)
BATCH = 50


@dataclass(frozen=True)
class Sent:
    external_ref: str | None = None


@dataclass(frozen=True)
class RetryLater:
    error: str
    after: timedelta | None = None
    """The platform's own wait (Retry-After); otherwise exponential backoff applies."""


@dataclass(frozen=True)
class Failed:
    error: str


DeliveryResult = Sent | RetryLater | Failed


class Deliverer(Protocol):
    async def deliver(self, message: OutboxMessage) -> DeliveryResult: ...


def backoff(attempts: int) -> timedelta:
    """1 s, 2 s, 4 s … capped at ten minutes."""
    return min(timedelta(seconds=2 ** max(0, attempts - 1)), MAX_BACKOFF)


class OutboxDispatcher:
    def __init__(
        self,
        store: Store,
        deliverers: Mapping[Platform, Deliverer],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._deliverers = deliverers
        self._clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after new messages are queued)."""
        self._wake.set()

    async def run_once(self) -> int:
        """Attempt every message that is due; returns how many were attempted."""
        attempted = 0
        for platform, deliverer in self._deliverers.items():
            async with self._store.transaction() as tx:
                due = await tx.outbox.due(platform=platform, now=self._clock(), limit=BATCH)
            for message in due:
                await self._attempt(deliverer, message)
                attempted += 1
        return attempted

    async def drain(self) -> None:
        """Deliver until nothing is due right now (local mode uses this after every line)."""
        while await self.run_once():
            pass

    async def run_forever(self, stop: asyncio.Event, *, poll_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox round failed; trying again")
            self._wake.clear()
            waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
            _done, pending = await asyncio.wait(
                waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()

    async def _attempt(self, deliverer: Deliverer, message: OutboxMessage) -> None:
        try:
            result = await deliverer.deliver(message)
        except Exception as exc:
            log.exception("delivery of outbox message %s raised", message.id)
            result = RetryLater(error=f"{type(exc).__name__}: {exc}")
        async with self._store.transaction() as tx:
            assert message.id is not None
            current = await tx.outbox.get(message.id)
            if current is None:
                return
            if isinstance(result, Sent):
                await tx.outbox.mark_sent(current, external_ref=result.external_ref)
            elif isinstance(result, Failed) or current.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("outbox message %s failed permanently: %s", message.id, result.error)
                await tx.outbox.mark_failed(current, error=result.error)
            else:
                wait = result.after if result.after is not None else backoff(current.attempts + 1)
                await tx.outbox.retry_later(current, at=self._clock() + wait, error=result.error)
