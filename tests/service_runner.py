"""Hoedan's real service, started for an end-to-end test and stopped after it.

Each platform's tests wrap the started service in their own ``Running`` (which knows how to
send that platform's requests and what its fake answered); starting and stopping is the same.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

import aiohttp
from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    JobEvent,
    JobExecutionEvent,
)
from sqlmodel import and_, col, or_, select

from bot.app import create_app
from bot.service import Service
from bot.settings import Settings
from storage.enums import OutboxStatus
from storage.models import OutboxMessage, Question
from storage.store import Store
from storage.types import utcnow

R = TypeVar("R")
DEADLINE_JOB = "flow-deadlines"


class running_service(Generic[R]):
    def __init__(
        self,
        settings: Settings,
        wrap: Callable[[Service, aiohttp.ClientSession], R],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._wrap = wrap
        self._clock = clock
        self._service: Service | None = None
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> R:
        hoedan = await asyncio.to_thread(create_app, self._settings, default_log_level="WARNING")
        self._service = Service(hoedan, clock=self._clock)
        await self._service.start()
        self._http = aiohttp.ClientSession()
        return self._wrap(self._service, self._http)

    async def __aexit__(self, *_exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        if self._service is not None:
            await self._service.stop()


class ServiceReadings(ABC):
    """What a test reads back from a started service's database, whatever the platform."""

    service: Service

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def store(self) -> Store:
        return self.service.hoedan.store

    @abstractmethod
    async def drain_adapter(self) -> None:
        """Wait for the platform adapter's acknowledged work (each platform says how)."""

    async def run_deadline_job(self, *, seconds: float = 15.0) -> None:
        """Run the scheduler's real deadline job now rather than at its next 5-second tick."""
        await self.run_job(DEADLINE_JOB, seconds=seconds)

    async def run_job(self, job_id: str, *, seconds: float = 15.0) -> None:
        """Run one of the scheduler's real jobs now rather than at its next tick.

        Waits until a run that started after this call has finished (a tick already under way
        may have read the clock too early), then until its messages are out.
        """
        scheduler = self.service.scheduler
        assert scheduler is not None
        loop = asyncio.get_running_loop()
        finished: asyncio.Queue[JobEvent] = asyncio.Queue()

        def listener(event: JobEvent) -> None:
            if event.job_id == job_id:
                loop.call_soon_threadsafe(finished.put_nowait, event)

        scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_MAX_INSTANCES)
        try:
            async with asyncio.timeout(seconds):
                requested = datetime.now(UTC)
                scheduler.modify_job(job_id, next_run_time=requested)
                while True:
                    event = await finished.get()
                    if not isinstance(event, JobExecutionEvent):  # skipped: one was running
                        await asyncio.sleep(0.01)
                        requested = datetime.now(UTC)
                        scheduler.modify_job(job_id, next_run_time=requested)
                    elif event.scheduled_run_time >= requested:
                        break
        finally:
            scheduler.remove_listener(listener)
        await self.settle(seconds=seconds)

    async def settle(self, *, seconds: float = 15.0) -> None:
        """Wait until acknowledged work is done and nothing in the outbox is due any more."""
        await asyncio.wait_for(self.drain_adapter(), seconds)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while await self.due_outbox():
            if loop.time() > deadline:
                raise AssertionError("the outbox did not empty")
            self.service.dispatcher.wake()
            await asyncio.sleep(0.02)

    async def due_outbox(self) -> list[OutboxMessage]:
        """Messages being sent, or waiting whose time has come: while any, work is going on."""
        async with self.store.transaction() as tx:
            statement = select(OutboxMessage).where(
                or_(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    and_(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        col(OutboxMessage.next_attempt_at) <= utcnow(),
                    ),
                )
            )
            return list((await tx.session.exec(statement)).all())

    async def outbox(self) -> list[OutboxMessage]:
        async with self.store.transaction() as tx:
            statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
            return list((await tx.session.exec(statement)).all())

    async def questions(self) -> list[Question]:
        async with self.store.transaction() as tx:
            statement = select(Question).order_by(col(Question.number))
            return list((await tx.session.exec(statement)).all())
