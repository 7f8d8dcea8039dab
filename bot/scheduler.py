"""The scheduler: APScheduler in the event loop, handing flows their deadlines.

Jobs never post anything themselves. The flow-deadline job asks the flow engine which flows are
due and feeds each a timer event; the flow decides what to say, through the outbox. The schedule
job does the same for the weekly slots (learning prompts): it hands the current time to
:func:`flows.rhythm.fire_due_schedules`, which posts what is due with the idempotency key
``schedule:<id>:<planned time>``. The retention job deletes what was said in intervisions
past their retention period (:func:`flows.retention.apply_retention`); it only deletes.

Jobs live in memory (APScheduler's default job store). What has to survive a restart is data in
Hoedan's own database: the flows' deadlines and the ``schedule`` rows with the posts made on them
(``post``, unique per schedule and planned time). A slot missed while no process ran is found
from those rows at the next tick, so it runs once at start-up within the grace period. With
several processes over one database every one ticks, but only the leader (``bot.leader``) does
the work; the unique post row and outbox key would let only one post even without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.leader import Leadership, SoleLeadership
from flows.config import FlowConfig
from flows.engine import FlowEngine
from flows.retention import apply_retention
from flows.rhythm import fire_due_schedules
from flows.schedules import DEFAULT_GRACE
from storage.store import Store

log = logging.getLogger(__name__)

DEADLINE_SECONDS = 5
"""How often flow deadlines are checked; a phase ends at most this late."""
SCHEDULE_SECONDS = 30
"""How often the weekly slots are checked; a learning prompt goes out at most this late."""
RETENTION_SECONDS = 600
"""How often intervisions past their retention period and delivered farewells are looked for."""
STOP_SECONDS = 10.0
"""How long a stop waits for a job under way before cancelling it after all."""


def create_scheduler(
    store: Store,
    engine: FlowEngine,
    *,
    clock: Callable[[], datetime],
    on_queued: Callable[[], None],
    timezone: str,
    config: FlowConfig | None = None,
    grace: timedelta = DEFAULT_GRACE,
    leadership: Leadership | None = None,
) -> AsyncIOScheduler:
    """The ticking jobs; with several processes on one database, only the leader's do work."""
    leader = leadership or SoleLeadership()

    async def fire_deadlines() -> None:
        if not await leader.hold():
            return
        try:
            if await engine.fire_due(store, now=clock()):
                on_queued()
        except Exception:
            log.exception("checking flow deadlines failed; trying again at the next tick")

    async def fire_schedules() -> None:
        if config is None or not await leader.hold():
            return
        try:
            if await fire_due_schedules(store, config, now=clock(), grace=grace):
                on_queued()
        except Exception:
            log.exception("checking the weekly slots failed; trying again at the next tick")

    async def forget_due() -> None:
        if config is None or not await leader.hold():
            return
        try:
            await apply_retention(store, config, now=clock())
        except Exception:
            log.exception("applying the retention period failed; trying again at the next tick")

    scheduler = AsyncIOScheduler(timezone=timezone)
    scheduler.add_job(
        fire_deadlines,
        "interval",
        seconds=DEADLINE_SECONDS,
        id="flow-deadlines",
        max_instances=1,
        coalesce=True,
    )
    if config is not None:
        scheduler.add_job(
            fire_schedules,
            "interval",
            seconds=SCHEDULE_SECONDS,
            id="schedules",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            forget_due,
            "interval",
            seconds=RETENTION_SECONDS,
            id="retention",
            max_instances=1,
            coalesce=True,
        )
    return scheduler


class JobsUnderWay:
    """Counts the scheduler's jobs running right now, so that a stop can let them finish.

    APScheduler's asyncio executor cancels the jobs still running when it shuts down. A job
    cancelled in the middle of a database call (on PostgreSQL, psycopg then cancels the query)
    logs an error with a traceback at an ordinary stop, a deploy; the next leader would redo
    its work, but waiting the moment it needs is cleaner.
    """

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self._scheduler = scheduler
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(self._ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _submitted(self, _event: JobEvent) -> None:
        self._running += 1
        self._idle.clear()

    def _ended(self, _event: JobEvent) -> None:
        self._running = max(0, self._running - 1)
        if not self._running:
            self._idle.set()

    async def stop(self, *, seconds: float = STOP_SECONDS) -> None:
        """No new runs; the ones under way finish (for at most ``seconds``); then shut down."""
        if not self._scheduler.running:
            return
        self._scheduler.pause()
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            log.warning("a scheduled job did not finish within %s s; cancelling it", seconds)
        self._scheduler.shutdown(wait=False)
