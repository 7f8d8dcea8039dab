"""The work behind an acknowledgement, started when acknowledging leaves room for it.

Slack wants its ack within three seconds; without it Slack retries, and an app that keeps
missing the deadline gets its events switched off. The work behind an event (storing a
question, finding matches, queueing replies) has no such deadline. One event loop does both,
so acknowledging goes first. Waiting work starts, one job per turn of the loop and in the
order the requests came in, when no request is under way and requests kept the server busy
less than :data:`MAX_LOAD` of the last moment (a load that fades with a time constant of
:data:`MOMENT`).

Under everyday traffic (Slack sends a workspace's events a few per second) work starts at
once. Under a burst that keeps the server busy, the work waits in memory. Up to
:data:`BACKLOG_LIMIT` jobs may wait; past that they start regardless, so the acks slow down to
the pace of the work instead of the backlog growing without end. A job once started runs to
its end; at shutdown :meth:`AfterAck.drain` runs everything still waiting.

Watching the load rather than the requests under way matters: under a stream of requests
their number touches zero between two of them all the time, and a job started in every such
gap would take the server from the acks all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator

log = logging.getLogger(__name__)

BACKLOG_LIMIT = 10_000
"""Jobs that may wait. A waiting Slack job holds its parsed payload, a few kilobytes, so a full
backlog stays in the tens of megabytes."""

MOMENT = 0.05
"""Seconds: the time constant of the load, and how often waiting work looks at it again."""

MAX_LOAD = 0.15
"""The load (0 idle, 1 always receiving) under which waiting work may start.

Flat out, requests count as under way about half the time (reading the socket and the body
and writing the answer happen outside the count); at 200 events/s, a few hundredths. The bar
sits well below the first because a job, once started, keeps taking the loop for all its
database round trips: a few jobs slipping in per second would cost a burst a good part of its
acks (``bench.slack_ingest`` gave 68 to 73% of bare Bolt's acks with a bar of 0.25, 72 to 78%
with 0.15).
"""

FADE_MARGIN = 0.0005
"""Seconds added to the computed fading time, so one look afterwards is enough."""

Job = Callable[[], Awaitable[None]]


class Receiving:
    """Keeps track of when requests are under way, so work can tell how busy the server is.

    The service gives one to all its adapters, which count their requests in :meth:`request`,
    so a burst on Slack holds back Teams work too; an adapter made without a service (unit
    tests) keeps one of its own.
    """

    def __init__(self, moment: float = MOMENT) -> None:
        self._moment = moment
        self._count = 0
        self._load = 0.0
        self._measured_at = time.monotonic()
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """One request being worked on.

        The adapters count a request once its body is in: a sender that takes its time (or
        trickles a body on purpose) costs the server nothing meanwhile, and must not hold up
        the work of others.
        """
        self._enter()
        try:
            yield
        finally:
            self._leave()

    @property
    def busy(self) -> bool:
        return self._count > 0

    @property
    def moment(self) -> float:
        return self._moment

    def load(self) -> float:
        """How busy receiving kept the server lately: 0 idle, 1 always, fading per moment."""
        self._measure()
        return self._load

    async def idle(self) -> None:
        """Return once no request is under way."""
        await self._idle.wait()

    def _enter(self) -> None:
        self._measure()
        self._count += 1
        self._idle.clear()

    def _leave(self) -> None:
        self._measure()
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    def _measure(self) -> None:
        """Fold the time since the last measurement into the load (busy or idle all along)."""
        now = time.monotonic()
        fade = math.exp((self._measured_at - now) / self._moment)
        self._load = self._load * fade + (1.0 - fade if self._count else 0.0)
        self._measured_at = now


class AfterAck:
    """Starts acknowledged work in arrival order whenever acknowledging leaves room."""

    def __init__(
        self,
        receiving: Receiving | None = None,
        *,
        limit: int = BACKLOG_LIMIT,
    ):
        self._receiving = receiving or Receiving()
        self._limit = limit
        self._waiting: deque[Job] = deque()
        self._running: set[asyncio.Task[None]] = set()
        self._starter: asyncio.Task[None] | None = None
        self._draining = False
        self._pressed = asyncio.Event()
        """Set while jobs must start without waiting: backlog full, or draining."""

    @property
    def in_flight(self) -> int:
        """Acknowledged jobs not yet done: waiting or running."""
        return len(self._waiting) + len(self._running)

    def add(self, job: Job) -> None:
        """Queue a job; it starts as soon as acknowledging leaves room."""
        self._waiting.append(job)
        if len(self._waiting) >= self._limit:
            self._pressed.set()
        if self._starter is None or self._starter.done():
            self._starter = asyncio.ensure_future(self._start_waiting())

    def run_now(self, work: Awaitable[None]) -> None:
        """Run something small at once (a typing indicator), still awaited by :meth:`drain`."""
        self._track(asyncio.ensure_future(work))

    async def drain(self) -> None:
        """Run every waiting job without waiting for room, and wait for all of them.

        For shutdown (and for tests that want the work done); afterwards acks go first again.
        """
        self._draining = True
        self._pressed.set()
        try:
            while self._waiting or self._running:
                if self._starter is None or self._starter.done():
                    self._starter = asyncio.ensure_future(self._start_waiting())
                await self._starter
                await asyncio.gather(*list(self._running), return_exceptions=True)
        finally:
            self._draining = False
            self._release()

    async def _start_waiting(self) -> None:
        """Start the waiting jobs one by one, each after the loop has had a look at its sockets.

        The ``sleep(0)`` after each start lets the loop read requests that arrived meanwhile,
        so a request never waits behind more than the one job just started.
        """
        while self._waiting:
            await self._room()
            job = self._waiting.popleft()
            self._release()
            self._track(asyncio.ensure_future(_guarded(job)))
            await asyncio.sleep(0)

    async def _room(self) -> None:
        """Return when a job may start: receiving is idle and the load low, or it must start.

        Looks again when the requests under way are done, and every moment meanwhile (to
        notice a full backlog or a drain).
        """
        receiving = self._receiving
        while not self._pressed.is_set():
            if receiving.busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(receiving.idle(), receiving.moment)
                continue
            load = receiving.load()
            if load < MAX_LOAD:
                return
            faded = receiving.moment * math.log(load / MAX_LOAD)  # when idle from now on
            await asyncio.sleep(min(faded, receiving.moment) + FADE_MARGIN)

    def _release(self) -> None:
        if not self._draining and len(self._waiting) < self._limit:
            self._pressed.clear()

    def _track(self, task: asyncio.Task[None]) -> None:
        self._running.add(task)
        task.add_done_callback(self._running.discard)


async def _guarded(job: Job) -> None:
    """A job's own failure is its own: it is logged and the next job still starts."""
    try:
        await job()
    except Exception:
        log.exception("acknowledged work failed")
