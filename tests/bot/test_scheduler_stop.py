"""Stopping the scheduler lets a job under way finish instead of cancelling it mid-transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduler import JobsUnderWay


async def test_a_stop_waits_for_the_job_under_way_and_starts_no_new_one() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    runs: list[str] = []

    async def tick() -> None:
        runs.append("started")
        started.set()
        await release.wait()
        runs.append("finished")

    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(tick, "interval", seconds=3600, id="tick", next_run_time=datetime.now(UTC))
    jobs = JobsUnderWay(scheduler)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 10)

    stopping = asyncio.ensure_future(jobs.stop(seconds=10))
    await asyncio.sleep(0.05)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 10)

    assert runs == ["started", "finished"]
    assert not scheduler.running


async def test_a_job_that_does_not_finish_in_time_is_cancelled_after_all() -> None:
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(stuck, "interval", seconds=3600, id="stuck", next_run_time=datetime.now(UTC))
    jobs = JobsUnderWay(scheduler)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 10)

    await jobs.stop(seconds=0.1)
    await asyncio.sleep(0.05)

    assert cancelled == [True]
    assert not scheduler.running
