"""The outbox dispatcher: delivers queued messages, once, whatever the platform does.

A deliverer answers each attempt with :class:`Sent`, :class:`RetryLater` (rate limits, server
errors, time-outs) or :class:`Failed` (the channel is gone, the bot was removed). Permanent
failures are recorded for the coordinators and never stop other deliveries.

Several processes may dispatch from one database: each due message is claimed before it is sent
(see ``OutboxRepository.claim_due``), so it goes out through one of them only.

A message queued for "the thread of the post about <subject>" waits until that post is sent, then
goes into its thread; when that post failed for good, so does the message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from storage.enums import DeliveryKind, OutboxStatus, Platform
from storage.models import OutboxMessage
from storage.repositories.delivery import thread_subject
from storage.store import Store
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(minutes=10)
BATCH = 50
SENDERS = 8
"""How many channels are sent to at the same time. Enough to keep a fan-out at the
workspace's rate limit across an ocean's round trip; few enough to stay polite."""
OPENING_POLL = timedelta(seconds=1)
"""How soon a message waiting for its thread's opening post looks again, at the earliest."""
LEASE = timedelta(minutes=5)
"""How long a claimed message is this dispatcher's to send. Far longer than one attempt takes
(a platform call gives up within seconds); only a dispatcher that died lets it run out."""


@dataclass(frozen=True)
class Sent:
    external_ref: str | None = None
    channel_ref: str | None = None
    """Where it landed, when that is not where it was addressed (a group conversation, which
    is addressed by its members): recorded on the outbox row instead of the address."""


@dataclass(frozen=True)
class RetryLater:
    error: str
    after: timedelta | None = None
    """The platform's own wait (Retry-After); otherwise exponential backoff applies."""


@dataclass(frozen=True)
class Failed:
    error: str


DeliveryResult = Sent | RetryLater | Failed


@dataclass(frozen=True)
class _Waiting:
    """Not attempted: the message waits for another one (its thread's opening post)."""

    until: datetime


class _Outcome(NamedTuple):
    message: OutboxMessage
    result: DeliveryResult | _Waiting


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
        senders: int = SENDERS,
    ) -> None:
        """``senders``: how many channels may be sent to at once; 1 keeps every message in
        the order it was queued (local mode, where one screen shows all conversations)."""
        self._store = store
        self._senders = senders
        self._deliverers = deliverers
        self._clock = clock
        self._wake = asyncio.Event()
        self._paused: dict[Platform, datetime] = {}
        """Until when a whole platform asked for rest (see :meth:`_rest`)."""
        self._channel_paused: dict[tuple[Platform, str], datetime] = {}
        """Until when one channel (or member) asked for rest."""

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after new messages are queued)."""
        self._wake.set()

    async def run_once(self) -> int:
        """Attempt every message that is due; returns how many were attempted.

        Messages for different channels go out side by side (at most ``senders`` at a time),
        so a fan-out waits on the platform's rate limits rather than on one round trip after
        another; messages for one channel keep their order.
        """
        attempted = 0
        for platform, deliverer in self._deliverers.items():
            if not self._resting(platform):
                attempted += await self._send_due(platform, deliverer)
        return attempted

    async def _send_due(self, platform: Platform, deliverer: Deliverer) -> int:
        """One batch: claimed in one transaction, sent lane by lane, the outcomes written in
        one transaction too. Two turns at the database per batch rather than one per message,
        so a fan-out keeps its pace while the scheduler is still queueing it."""
        async with self._store.transaction() as tx:
            due = await tx.outbox.claim_due(
                platform=platform, now=self._clock(), lease=LEASE, limit=BATCH
            )
        senders = asyncio.Semaphore(self._senders)
        outcomes: list[_Outcome] = []

        async def send(lane: list[OutboxMessage]) -> int:
            async with senders:
                return await self._send_lane(deliverer, lane, outcomes)

        try:
            return sum(await asyncio.gather(*(send(lane) for lane in _lanes(due))))
        finally:
            await self._record(outcomes)

    async def _send_lane(
        self, deliverer: Deliverer, lane: list[OutboxMessage], outcomes: list[_Outcome]
    ) -> int:
        """One lane's messages in order; when a channel or the platform must rest, the rest of
        the lane is handed back untried."""
        opened: dict[tuple[str | None, str], str] = {}
        """Opening posts sent in this lane, not yet written down: (channel, subject) → where."""
        for index, message in enumerate(lane):
            rest = self._rest_for(message)
            if rest is not None:
                await self._hand_back(lane[index:], at=rest)
                return index
            result = await self._place_in_thread(message, opened) or await _deliver(
                deliverer, message
            )
            if isinstance(result, RetryLater) and result.after is not None:
                # At once: the lanes sending beside this one must see it.
                self._rest(message, self._clock() + result.after)
            if isinstance(result, Sent) and result.external_ref and _opens(message):
                opened[(message.channel_ref, message.subject or "")] = result.external_ref
            outcomes.append(_Outcome(message, result))
        return len(lane)

    def _rest(self, message: OutboxMessage, until: datetime) -> None:
        """A platform answered with Retry-After (a 429): rest as asked, and rest wider when it
        is more than one channel. Slack limits posting per channel and per workspace and says
        not which: the first 429 rests its channel only, so a busy channel does not hold up the
        others; a second from another channel while the first rests means the workspace is
        full, and then the whole platform waits, since it would only refuse the rest as well.
        """
        now = self._clock()
        platform = Platform(message.platform)
        others = [
            end
            for (other_platform, channel), end in self._channel_paused.items()
            if other_platform == platform and channel != _channel_of(message) and end > now
        ]
        if others:
            self._paused[platform] = max([until, *others])
        else:
            self._channel_paused[(platform, _channel_of(message))] = until
        self._channel_paused = {key: end for key, end in self._channel_paused.items() if end > now}

    def _rest_for(self, message: OutboxMessage) -> datetime | None:
        """Until when this message must wait, its platform or its channel resting; else None."""
        platform = Platform(message.platform)
        if self._resting(platform):
            return self._paused[platform]
        until = self._channel_paused.get((platform, _channel_of(message)))
        return until if until is not None and until > self._clock() else None

    def _next_round(self, poll_seconds: float) -> float:
        """Seconds until the next round: the poll interval, or sooner when a rest ends before
        it (a fan-out under a rate limit then loses no time between windows)."""
        now = self._clock()
        rests = [*self._paused.values(), *self._channel_paused.values()]
        ends = [(until - now).total_seconds() for until in rests if until > now]
        return min([poll_seconds, *ends])

    def _resting(self, platform: Platform) -> bool:
        until = self._paused.get(platform)
        return until is not None and until > self._clock()

    async def _hand_back(self, messages: list[OutboxMessage], *, at: datetime) -> None:
        """Claimed but not tried while the platform rests: pending again, no attempt counted."""
        async with self._store.transaction() as tx:
            for message in messages:
                assert message.id is not None
                current = await tx.outbox.get(message.id)
                if current is not None:
                    await tx.outbox.postpone(current, at=at)

    async def drain(self) -> None:
        """Deliver until nothing is due right now (local mode uses this after every line)."""
        while await self.run_once():
            pass

    async def run_forever(self, stop: asyncio.Event, *, poll_seconds: float = 1.0) -> None:
        """Deliver everything due, then wait for a wake, a rest's end or the poll.

        A round goes on until nothing due is left (or Hoedan stops), not one batch: a fan-out
        of a thousand prompts must not wait for the poll between batches. The wake flag is
        cleared before the round, so a message queued while it runs is not left for the next
        poll.
        """
        while not stop.is_set():
            self._wake.clear()
            try:
                while not stop.is_set() and await self.run_once():
                    pass
            except Exception:
                log.exception("outbox round failed; trying again")
            waiters = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
            _done, pending = await asyncio.wait(
                waiters, timeout=self._next_round(poll_seconds), return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()

    async def _record(self, outcomes: list[_Outcome]) -> None:
        """Write down how each attempt went, all in one transaction."""
        if not outcomes:
            return
        async with self._store.transaction() as tx:
            currents = await tx.outbox.get_many([m.id for m, _ in outcomes if m.id is not None])
            for message, result in outcomes:
                current = currents.get(message.id or 0)
                if current is None:  # deleted meanwhile (an erasure, the retention job)
                    continue
                if isinstance(result, Sent):
                    await tx.outbox.mark_sent(
                        current, external_ref=result.external_ref, channel_ref=result.channel_ref
                    )
                elif isinstance(result, _Waiting):
                    await tx.outbox.postpone(current, at=result.until)
                elif isinstance(result, Failed) or current.attempts + 1 >= MAX_ATTEMPTS:
                    log.warning(
                        "outbox message %s failed permanently: %s", message.id, result.error
                    )
                    await tx.outbox.mark_failed(current, error=result.error)
                else:
                    wait = (
                        result.after if result.after is not None else backoff(current.attempts + 1)
                    )
                    await tx.outbox.retry_later(
                        current, at=self._clock() + wait, error=result.error
                    )

    async def _place_in_thread(
        self, message: OutboxMessage, opened: Mapping[tuple[str | None, str], str]
    ) -> Failed | RetryLater | _Waiting | None:
        """Give a message queued for the thread of a subject's opening post that post's id.

        None when the message can go (its ``thread_ref``, on this detached copy only, is then
        the platform's thread id); otherwise why not yet, or why never. No opening post at all
        is a flow's mistake or a race with its transaction: retried as usual, so it ends as a
        recorded failure.
        """
        subject = thread_subject(message.thread_ref)
        if subject is None:
            return None
        if message.channel_ref is None:
            return Failed(error=f"a reply to the post about {subject} lacks its channel")
        just_sent = opened.get((message.channel_ref, subject))
        if just_sent is not None:
            message.thread_ref = just_sent.rpartition(":")[2]
            return None
        async with self._store.transaction() as tx:
            opening = await tx.outbox.opening_post(
                platform=message.platform, channel_ref=message.channel_ref, subject=subject
            )
        if opening is None:
            return RetryLater(error=f"no post about {subject} to reply to yet")
        if opening.status == OutboxStatus.FAILED:
            return Failed(error=f"the post about {subject} failed: {opening.last_error}")
        if opening.status == OutboxStatus.SENDING:
            return _Waiting(until=self._clock() + OPENING_POLL)
        if opening.status == OutboxStatus.PENDING:
            return _Waiting(until=max(opening.next_attempt_at, self._clock() + OPENING_POLL))
        if not opening.external_ref:
            return Failed(error=f"the post about {subject} has no thread to reply in")
        message.thread_ref = opening.external_ref.rpartition(":")[2]
        return None


def _lanes(messages: list[OutboxMessage]) -> list[list[OutboxMessage]]:
    """The messages split into lanes that may be sent side by side, each in queued order.

    Messages that may land in one conversation share a lane. A conversation can be addressed
    in more than one way (a DM by its person or by its channel id once known; an ephemeral
    message by channel and person), so messages sharing any address go together.
    """
    lane_of: dict[str, int] = {}
    lanes: list[list[OutboxMessage]] = []
    for message in messages:
        addresses = [ref for ref in (message.channel_ref, message.member_ref) if ref]
        joined = sorted({lane_of[ref] for ref in addresses if ref in lane_of})
        if not joined:
            lanes.append([])
            joined = [len(lanes) - 1]
        target, *others = joined
        for other in others:
            lanes[target].extend(lanes[other])
            lanes[other] = []
            lane_of.update({ref: target for ref, lane in lane_of.items() if lane == other})
        lanes[target].append(message)
        lane_of.update(dict.fromkeys(addresses, target))
    return [sorted(lane, key=lambda message: message.id or 0) for lane in lanes if lane]


def _opens(message: OutboxMessage) -> bool:
    """A top-level post about a subject: later messages may be queued for its thread."""
    return (
        message.kind == DeliveryKind.POST and message.thread_ref is None and bool(message.subject)
    )


def _channel_of(message: OutboxMessage) -> str:
    """What a platform limits a message by: its channel, or the member a DM goes to."""
    return message.channel_ref or message.member_ref or ""


async def _deliver(deliverer: Deliverer, message: OutboxMessage) -> DeliveryResult:
    try:
        return await deliverer.deliver(message)
    except Exception as exc:
        log.exception("delivery of outbox message %s raised", message.id)
        return RetryLater(error=f"{type(exc).__name__}: {exc}")
