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

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

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
