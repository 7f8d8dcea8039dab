"""The scheduler: APScheduler in the event loop, handing flows their deadlines.

Jobs never post anything themselves. The flow-deadline job asks the flow engine which flows are
due and feeds each a timer event; the flow decides what to say, through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from flows.engine import FlowEngine
from storage.store import Store

log = logging.getLogger(__name__)

DEADLINE_SECONDS = 5
"""How often flow deadlines are checked; a phase ends at most this late."""


def create_scheduler(
    store: Store,
    engine: FlowEngine,
    *,
    clock: Callable[[], datetime],
    on_queued: Callable[[], None],
    timezone: str,
) -> AsyncIOScheduler:
    async def fire_deadlines() -> None:
        try:
            if await engine.fire_due(store, now=clock()):
                on_queued()
        except Exception:
            log.exception("checking flow deadlines failed; trying again at the next tick")

    scheduler = AsyncIOScheduler(timezone=timezone)
    scheduler.add_job(
        fire_deadlines,
        "interval",
        seconds=DEADLINE_SECONDS,
        id="flow-deadlines",
        max_instances=1,
        coalesce=True,
    )
    return scheduler
