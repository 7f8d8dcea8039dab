"""Recurring slots in a channel (a weekly learning prompt, the monthly house-rules recall).

A slot is a :class:`~storage.models.Schedule` row: its kind, a weekday, HH:MM and the time zone it
is meant in. What the weekday means depends on the kind: every week, or the first such day of
the month. The planned times come from APScheduler's :class:`CronTrigger`, not from calendar
arithmetic by hand, so daylight saving time is its problem.

Firing (:func:`fire_due`) is what the scheduler's job, or local mode between lines, calls with
the current time. For each active schedule it takes the planned times after the last one handled
(or after the slot was planned) up to now. One missed by more than the grace period is skipped,
and recorded as such (a :class:`~storage.models.Post` of kind ``<kind>_skipped``); the newest one
within the grace is handed to the kind's poster. A slot is claimed by its ``Post`` row (unique per
schedule and planned time) and posters queue their message under the outbox key
``schedule:<id>:<planned time ISO>``, so two schedulers over one database, or a double fire,
post once.

The persistent state is these rows, in Hoedan's own database; APScheduler's job store is not
used (its jobs are pickled functions, and a job run by two processes would still have to be made
idempotent by the data). APScheduler only ticks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from flows.config import FlowConfig
from storage.models import Schedule
from storage.store import Store, Transaction

log = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=6)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHLY_KINDS: frozenset[str] = frozenset({"house_rules_recall"})  # flows.house_rules.RECALL_KIND
"""Kinds whose weekday means "the first such day of each month"; the others are weekly."""

Poster = Callable[[Transaction, FlowConfig, Schedule, datetime], Awaitable[int]]
"""Posts what a slot brings for one planned time (after its ``Post`` row is claimed);
returns how many messages it queued."""


def trigger(schedule: Schedule) -> CronTrigger:
    hour, minute = (int(part) for part in schedule.time_of_day.split(":"))
    zone = ZoneInfo(schedule.timezone)
    if schedule.kind in MONTHLY_KINDS:
        day = f"1st {DAY_NAMES[schedule.weekday]}"
        return CronTrigger(day=day, hour=hour, minute=minute, timezone=zone)
    return CronTrigger(day_of_week=schedule.weekday, hour=hour, minute=minute, timezone=zone)


def next_fire_time(schedule: Schedule, after: datetime) -> datetime:
    """The first planned time of the slot strictly after ``after``, in UTC."""
    found = trigger(schedule).get_next_fire_time(None, after + timedelta(microseconds=1))
    assert isinstance(found, datetime)
    return found.astimezone(UTC)


def due_slots(schedule: Schedule, since: datetime, until: datetime) -> list[datetime]:
    """The slot's planned times in (since, until], oldest first, in UTC."""
    found: list[datetime] = []
    moment = since
    while (planned := next_fire_time(schedule, moment)) <= until:
        found.append(planned)
        moment = planned
    return found


def skipped_kind(kind: str) -> str:
    return f"{kind}_skipped"


FIRE_BATCH = 50
"""Schedules fired per transaction (each in a savepoint of its own)."""


@dataclass(frozen=True)
class _Due:
    schedule_id: int
    post: datetime | None
    skip: tuple[datetime, ...]


async def fire_due(
    store: Store,
    config: FlowConfig,
    posters: Mapping[str, Poster],
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> int:
    """Hand every slot whose time has come to its kind's poster; returns how many were queued.

    Each schedule is handled in a savepoint of its own, so one broken channel cannot hold up
    the others; the savepoints share a transaction per ``FIRE_BATCH`` schedules, so that a
    network whose channels all share one slot (the weekly prompt to hundreds of channels)
    queues them without a commit each.
    """
    work: list[_Due] = []
    async with store.transaction() as tx:
        for kind in posters:
            for schedule in await tx.rhythm.active_schedules(kind=kind):
                assert schedule.id is not None
                last = await tx.rhythm.last_planned(schedule.id)
                since = max(last, schedule.created_at) if last is not None else schedule.created_at
                planned = due_slots(schedule, since, now)
                if not planned:
                    continue
                fresh = [moment for moment in planned if now - moment <= grace]
                late = tuple(moment for moment in planned if now - moment > grace)
                work.append(
                    _Due(schedule.id, fresh[-1] if fresh else None, late + tuple(fresh[:-1]))
                )
    queued = 0
    for start in range(0, len(work), FIRE_BATCH):
        async with store.transaction() as tx:
            for due in work[start : start + FIRE_BATCH]:
                try:
                    async with tx.session.begin_nested():
                        queued += await _fire(tx, config, posters, due)
                except Exception:
                    log.exception("schedule %s could not be handled", due.schedule_id)
    return queued


async def _fire(
    tx: Transaction, config: FlowConfig, posters: Mapping[str, Poster], due: _Due
) -> int:
    schedule = await tx.session.get(Schedule, due.schedule_id)
    if schedule is None or not schedule.active:
        return 0
    for moment in due.skip:
        if await tx.rhythm.record_post(
            space_id=schedule.space_id,
            kind=skipped_kind(schedule.kind),
            schedule_id=due.schedule_id,
            prompt_key=None,
            planned_for=moment,
        ):
            log.info(
                "skipped schedule %s planned for %s (too late)", due.schedule_id, moment.isoformat()
            )
    if due.post is None:
        return 0
    return await posters[schedule.kind](tx, config, schedule, due.post)
