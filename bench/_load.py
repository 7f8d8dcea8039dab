"""The load generator: Slack-like signed events, an open-loop and a closed-loop sender, and
the percentile maths.

Two ways of sending answer two questions. The open loop starts every request at its scheduled
time whether or not earlier ones have been answered, and measures latency from that scheduled
time: when the server falls behind, requests queue up and the queueing shows in the figures
(a sender that waits for each answer before sending the next would quietly send less instead,
hiding the delay; "coordinated omission"). The closed loop keeps a fixed number of requests in
flight and sends as fast as the server answers, which finds its throughput.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

from tests.slack.signing import event_body, message_event, sign

REQUEST_TIMEOUT = 30.0
"""Seconds before a request counts as failed; far above Slack's 3 s, so slowness is measured
as latency rather than hidden in an error count."""

TOPICS = (
    "de wachtlijst voor de POH-GGZ",
    "het overdrachtsformulier van de huisartsenpost",
    "valpreventie bij thuiswonende ouderen",
    "de regionale afspraken over wondzorg",
    "het MDO voor kwetsbare ouderen",
    "medicatiebeoordeling in de apotheek",
)


@dataclass(frozen=True)
class SignedEvent:
    """One Events API request, ready to send: its event_id, JSON body and Slack's headers."""

    event_id: str
    body: bytes
    headers: dict[str, str]


class EventFactory:
    """Plain channel messages as a busy network sends them, signed as Slack signs them.

    ``users`` people post in ``channels`` channels; every ``question_every``-th message carries
    ``#hoedan``, so Hoedan also stores a question and queues a thread reply for it. Question
    texts are unique, as Hoedan answers a repeated question from the same person differently.
    Choices come from a seeded generator, so two runs send the same stream.
    """

    def __init__(
        self, *, seed: int = 1, users: int = 50, channels: int = 10, question_every: int = 10
    ) -> None:
        self.users = [f"UBENCH{number:03d}" for number in range(users)]
        self.channels = [f"CBENCH{number:02d}" for number in range(channels)]
        self._question_every = question_every
        self._random = random.Random(seed)  # noqa: S311  (load shape, not security)

    def make(self, prefix: str, index: int, *, user: str | None = None) -> SignedEvent:
        """Event number ``index`` of a phase; ``prefix`` keeps event ids unique per phase."""
        topic = self._random.choice(TOPICS)
        if index % self._question_every == 0:
            text = f"#hoedan Hoe regelen jullie {topic}? (vraag {prefix}-{index})"
        else:
            text = f"Even een update over {topic}, bericht {index}."
        event = message_event(
            text,
            user=user or self._random.choice(self.users),
            channel=self._random.choice(self.channels),
        )
        event_id = f"Ev{prefix}{index:08d}"
        body = event_body(event, event_id=event_id)
        headers = {"Content-Type": "application/json", **sign(body)}
        return SignedEvent(event_id=event_id, body=body.encode("utf-8"), headers=headers)


@dataclass(frozen=True)
class Summary:
    """Latency percentiles in milliseconds (``None`` when nothing succeeded)."""

    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Summary:
        ordered = sorted(value * 1000 for value in seconds)
        if not ordered:
            return cls(0, None, None, None, None)
        return cls(
            count=len(ordered),
            p50=percentile(ordered, 50),
            p95=percentile(ordered, 95),
            p99=percentile(ordered, 99),
            max=ordered[-1],
        )


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of sorted values, interpolating linearly between ranks.

    The same definition as numpy's default, so figures can be checked against other tools;
    with few samples the top percentiles approach the maximum rather than jumping to it.
    """
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class _Outcomes:
    """What came back: latencies of 200 answers, and a count of everything else by kind."""

    latencies: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    """Loop time each acknowledged request was (due to be) sent, parallel to ``latencies``."""
    errors: Counter[str] = field(default_factory=Counter)
    acked_ids: list[str] = field(default_factory=list)

    async def send(
        self, session: aiohttp.ClientSession, url: str, request: SignedEvent, since: float
    ) -> None:
        """POST one event; its latency runs from ``since`` (loop time) to the full answer."""
        loop = asyncio.get_running_loop()
        try:
            async with session.post(url, data=request.body, headers=request.headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors[type(exc).__name__] += 1
            return
        if status != 200:
            self.errors[f"HTTP {status}"] += 1
            return
        self.latencies.append(loop.time() - since)
        self.sent_at.append(since)
        self.acked_ids.append(request.event_id)


@dataclass(frozen=True)
class OpenLoopResult:
    """The fixed-rate phase: latency from each request's scheduled time to its answer."""

    rate: float
    """The rate asked for, events/s."""
    sent: int
    acked: int
    errors: dict[str, int]
    achieved_rate: float
    """Requests actually started per second; below ``rate`` when the generator fell behind."""
    max_start_lag_ms: float
    """How late the generator started the latest request; large values taint the latency."""
    slowest: list[tuple[float, float]]
    """The five slowest requests as (seconds into the phase, latency ms), to tell a one-off
    stall (several neighbours at one moment) from steady queueing."""
    latency: Summary
    started_wall: float
    """``time.time()`` of the first scheduled send, to relate server-side timestamps."""
    scheduled_wall: dict[str, float]
    """Each acknowledged event's scheduled send time (``time.time()`` scale), by event_id."""


async def open_loop(url: str, requests: Sequence[SignedEvent], *, rate: float) -> OpenLoopResult:
    """Start request ``i`` at ``start + i / rate`` regardless of earlier answers.

    Requests are built beforehand so that building them never delays a send. The connection
    pool is unbounded so that a slow server makes the generator open connections (as Slack
    would) instead of queueing requests on the client side where the clock cannot see them.
    """
    loop = asyncio.get_running_loop()
    outcomes = _Outcomes()
    tasks: list[asyncio.Task[None]] = []
    started: list[float] = []
    lags: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = loop.time() + 0.05
        started_wall = time.time() + (start - loop.time())
        for index, request in enumerate(requests):
            due = start + index / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            started.append(now)
            lags.append(now - due)
            tasks.append(asyncio.create_task(outcomes.send(session, url, request, due)))
        await asyncio.gather(*tasks)
    span = started[-1] - started[0] if len(started) > 1 else 0.0
    scheduled = {request.event_id: started_wall + i / rate for i, request in enumerate(requests)}
    acked = set(outcomes.acked_ids)
    return OpenLoopResult(
        rate=rate,
        sent=len(requests),
        acked=len(outcomes.latencies),
        errors=dict(outcomes.errors),
        achieved_rate=(len(started) - 1) / span if span > 0 else 0.0,
        max_start_lag_ms=max(lags, default=0.0) * 1000,
        slowest=_slowest(outcomes, start),
        latency=Summary.of(outcomes.latencies),
        started_wall=started_wall,
        scheduled_wall={key: value for key, value in scheduled.items() if key in acked},
    )


def _slowest(outcomes: _Outcomes, start: float, count: int = 5) -> list[tuple[float, float]]:
    """The ``count`` slowest answers as (seconds after ``start``, latency in ms)."""
    pairs = zip(outcomes.sent_at, outcomes.latencies, strict=True)
    ranked = sorted(pairs, key=lambda pair: pair[1], reverse=True)[:count]
    return [(round(due - start, 3), round(latency * 1000, 1)) for due, latency in ranked]


@dataclass(frozen=True)
class ClosedLoopResult:
    """The sustained phase: as many acks per second as ``concurrency`` senders can get."""

    concurrency: int
    sent: int
    acked: int
    errors: dict[str, int]
    elapsed: float
    """Seconds from the first send to the last answer."""
    acks_per_s: float
    latency: Summary
    started_wall: float
    acked_ids: list[str]


async def closed_loop(
    url: str, factory: EventFactory, *, prefix: str, concurrency: int, seconds: float
) -> ClosedLoopResult:
    """``concurrency`` workers each send, wait for the answer and send again until time is up.

    Events are built on the fly (there is no knowing beforehand how many will be needed); at a
    few tens of microseconds each that is small beside a request, and the same for every target.
    """
    loop = asyncio.get_running_loop()
    outcomes = _Outcomes()
    numbers = itertools.count()
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    sent = 0

    async def worker(session: aiohttp.ClientSession, deadline: float) -> None:
        nonlocal sent
        while loop.time() < deadline:
            request = factory.make(prefix, next(numbers))
            sent += 1
            await outcomes.send(session, url, request, loop.time())

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started_wall = time.time()
        start = loop.time()
        deadline = start + seconds
        await asyncio.gather(*(worker(session, deadline) for _ in range(concurrency)))
        elapsed = loop.time() - start
    return ClosedLoopResult(
        concurrency=concurrency,
        sent=sent,
        acked=len(outcomes.latencies),
        errors=dict(outcomes.errors),
        elapsed=elapsed,
        acks_per_s=len(outcomes.latencies) / elapsed if elapsed > 0 else 0.0,
        latency=Summary.of(outcomes.latencies),
        started_wall=started_wall,
        acked_ids=outcomes.acked_ids,
    )
