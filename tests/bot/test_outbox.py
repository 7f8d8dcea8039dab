"""The outbox dispatcher: once on success, waits on rate limits, backs off, records failures."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from bot.outbox import (
    BATCH,
    LEASE,
    MAX_ATTEMPTS,
    OPENING_POLL,
    SENDERS,
    DeliveryResult,
    Failed,
    OutboxDispatcher,
    RetryLater,
    Sent,
    backoff,
)
from storage.enums import DeliveryKind, OutboxStatus, Platform
from storage.models import OutboxMessage
from storage.repositories.delivery import THREAD_OF_SUBJECT
from storage.store import Store
from storage.types import utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class ScriptedPlatform:
    """A fake platform that answers each delivery attempt from a script, and records them."""

    def __init__(self, *answers: DeliveryResult | Exception) -> None:
        self._answers = list(answers)
        self.attempts: list[str] = []
        self.threads: dict[str, str | None] = {}
        """The thread each message was delivered in (by key), as the platform was told."""

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        self.attempts.append(message.idempotency_key)
        self.threads[message.idempotency_key] = message.thread_ref
        answer = self._answers.pop(0) if self._answers else Sent("ts-default")
        if isinstance(answer, Exception):
            raise answer
        return answer


async def _queue(
    store: Store,
    key: str,
    clock: Clock,
    *,
    kind: DeliveryKind = DeliveryKind.POST,
    channel_ref: str | None = "C1",
    member_ref: str | None = None,
    thread_ref: str | None = None,
    subject: str | None = None,
) -> None:
    async with store.transaction() as tx:
        await tx.outbox.enqueue(
            idempotency_key=key,
            platform=Platform.SLACK,
            kind=kind,
            payload={"parts": []},
            channel_ref=channel_ref,
            member_ref=member_ref,
            thread_ref=thread_ref,
            subject=subject,
            not_before=clock.now,
        )


async def _queue_session(store: Store, clock: Clock) -> None:
    """An opening post about intervision:3 and, queued with it, a post for its thread."""
    await _queue(store, "opening", clock, subject="intervision:3")
    await _queue(store, "phase", clock, thread_ref=THREAD_OF_SUBJECT + "intervision:3", subject="x")


async def _row(store: Store, key: str) -> OutboxMessage:
    async with store.transaction() as tx:
        row = await tx.outbox.by_key(key)
    assert row is not None
    return row


async def test_a_message_is_delivered_once_and_its_reference_kept(store: Store) -> None:
    clock = Clock()
    platform = ScriptedPlatform(Sent("1700000000.000100"))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue(store, "k1", clock)

    await dispatcher.drain()
    await dispatcher.drain()

    assert platform.attempts == ["k1"]
    row = await _row(store, "k1")
    assert row.status == OutboxStatus.SENT
    assert row.external_ref == "1700000000.000100"


async def test_a_rate_limit_waits_exactly_the_retry_after(store: Store) -> None:
    clock = Clock()
    platform = ScriptedPlatform(RetryLater("ratelimited", after=timedelta(seconds=30)), Sent("ts"))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue(store, "k1", clock)

    await dispatcher.drain()
    clock.advance(timedelta(seconds=29))
    await dispatcher.drain()
    assert platform.attempts == ["k1"]

    clock.advance(timedelta(seconds=1))
    await dispatcher.drain()
    assert platform.attempts == ["k1", "k1"]
    assert (await _row(store, "k1")).status == OutboxStatus.SENT


async def test_a_rate_limit_rests_its_channel_without_counting_the_others(
    store: Store,
) -> None:
    """After a 429 the channel would refuse its other messages too: they wait for the same
    Retry-After, claimed ones handed back without an attempt, and then all go."""
    clock = Clock()
    platform = ScriptedPlatform(RetryLater("ratelimited", after=timedelta(seconds=2)))
    other = ScriptedPlatform()
    dispatcher = OutboxDispatcher(
        store, {Platform.SLACK: platform, Platform.TEAMS: other}, clock=clock
    )
    for key in ("k1", "k2", "k3"):
        await _queue(store, key, clock)
    async with store.transaction() as tx:
        await tx.outbox.enqueue(
            idempotency_key="teams",
            platform=Platform.TEAMS,
            kind=DeliveryKind.POST,
            payload={"parts": []},
            channel_ref="19:x",
            not_before=clock.now,
        )

    await dispatcher.drain()
    assert platform.attempts == ["k1"]  # k2 and k3 were not even tried
    assert other.attempts == ["teams"]  # another platform is not held up
    for key in ("k2", "k3"):
        row = await _row(store, key)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert dispatcher._next_round(5.0) == 2.0  # it wakes when the rest ends

    clock.advance(timedelta(seconds=1))
    await dispatcher.drain()
    assert platform.attempts == ["k1"]
    clock.advance(timedelta(seconds=1))
    await dispatcher.drain()
    assert sorted(platform.attempts) == ["k1", "k1", "k2", "k3"]
    assert dispatcher._next_round(5.0) == 5.0


async def test_rate_limits_in_two_channels_rest_the_whole_platform(store: Store) -> None:
    """A second channel refused while the first rests: the workspace is full, so nothing more
    is tried on that platform until the rest ends (the fan-out of a weekly prompt)."""
    clock = Clock()
    limited = RetryLater("ratelimited", after=timedelta(seconds=3))
    platform = ScriptedPlatform(limited, limited)
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    for number in range(1, 6):
        await _queue(store, f"k{number}", clock, channel_ref=f"C{number}")

    await dispatcher.drain()
    assert platform.attempts == ["k1", "k2"]
    for key in ("k3", "k4", "k5"):
        assert (await _row(store, key)).attempts == 0

    clock.advance(timedelta(seconds=3))
    await dispatcher.drain()
    assert sorted(platform.attempts[2:]) == ["k1", "k2", "k3", "k4", "k5"]


async def test_a_rate_limited_channel_lets_other_channels_go(store: Store) -> None:
    clock = Clock()
    platform = ScriptedPlatform(RetryLater("ratelimited", after=timedelta(seconds=30)))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue(store, "slow-1", clock, channel_ref="CSLOW")
    await _queue(store, "slow-2", clock, channel_ref="CSLOW")
    await _queue(store, "fast", clock, channel_ref="CFAST")

    await dispatcher.drain()

    assert platform.attempts == ["slow-1", "fast"]
    assert (await _row(store, "fast")).status == OutboxStatus.SENT
    assert (await _row(store, "slow-2")).attempts == 0


async def test_server_errors_and_crashes_back_off_then_deliver(store: Store) -> None:
    clock = Clock()
    platform = ScriptedPlatform(RetryLater("http 503"), TimeoutError("slow"), Sent("ts"))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue(store, "k1", clock)

    await dispatcher.drain()
    assert (await _row(store, "k1")).last_error == "http 503"
    clock.advance(backoff(1))
    await dispatcher.drain()
    assert "TimeoutError" in ((await _row(store, "k1")).last_error or "")
    clock.advance(backoff(2))
    await dispatcher.drain()

    assert platform.attempts == ["k1", "k1", "k1"]
    assert (await _row(store, "k1")).status == OutboxStatus.SENT


async def test_a_permanent_failure_is_recorded_and_others_still_go(store: Store) -> None:
    clock = Clock()
    platform = ScriptedPlatform(Failed("channel_not_found"), Sent("ts"))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue(store, "gone", clock)
    await _queue(store, "fine", clock)

    await dispatcher.drain()
    clock.advance(timedelta(hours=1))
    await dispatcher.drain()

    assert platform.attempts == ["gone", "fine"]
    failed = await _row(store, "gone")
    assert failed.status == OutboxStatus.FAILED
    assert failed.last_error == "channel_not_found"
    assert (await _row(store, "fine")).status == OutboxStatus.SENT


async def test_endless_transient_errors_end_as_a_recorded_failure(store: Store) -> None:
    clock = Clock()
    platform = ScriptedPlatform(*[RetryLater("http 500")] * (MAX_ATTEMPTS + 5))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue(store, "k1", clock)

    for _ in range(MAX_ATTEMPTS + 3):
        await dispatcher.drain()
        clock.advance(timedelta(hours=1))

    assert len(platform.attempts) == MAX_ATTEMPTS
    assert (await _row(store, "k1")).status == OutboxStatus.FAILED


async def test_where_a_message_landed_replaces_its_address(store: Store) -> None:
    clock = Clock()
    platform = ScriptedPlatform(Sent("G0AB:1700000000.000100", channel_ref="G0AB"), Sent("C1:17"))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue(store, "group", clock, kind=DeliveryKind.GROUP, channel_ref="intervisie-3")
    await _queue(store, "post", clock)

    await dispatcher.drain()

    assert (await _row(store, "group")).channel_ref == "G0AB"
    assert (await _row(store, "post")).channel_ref == "C1"


# Posts in the thread of a subject's opening post


async def test_a_post_for_a_subjects_thread_goes_in_the_thread_of_its_opening_post(
    store: Store,
) -> None:
    clock = Clock()
    platform = ScriptedPlatform(Sent("C1:1700000000.000100"), Sent("C1:1700000000.000200"))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue_session(store, clock)

    await dispatcher.drain()

    assert platform.attempts == ["opening", "phase"]
    assert platform.threads == {"opening": None, "phase": "1700000000.000100"}
    phase = await _row(store, "phase")
    assert (phase.status, phase.attempts) == (OutboxStatus.SENT, 1)
    assert phase.thread_ref == THREAD_OF_SUBJECT + "intervision:3"


async def test_a_post_for_a_thread_waits_for_its_opening_post_without_counting(
    store: Store,
) -> None:
    clock = Clock()
    platform = ScriptedPlatform(
        RetryLater("ratelimited", after=timedelta(seconds=30)), Sent("C1:1700000000.000100")
    )
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue_session(store, clock)

    await dispatcher.drain()
    clock.advance(timedelta(seconds=29))
    await dispatcher.drain()

    assert platform.attempts == ["opening"]
    waiting = await _row(store, "phase")
    assert (waiting.status, waiting.attempts, waiting.last_error) == (
        OutboxStatus.PENDING,
        0,
        None,
    )
    assert waiting.next_attempt_at >= (await _row(store, "opening")).next_attempt_at

    clock.advance(timedelta(seconds=1))
    await dispatcher.drain()

    assert platform.attempts == ["opening", "opening", "phase"]
    assert platform.threads["phase"] == "1700000000.000100"
    assert (await _row(store, "phase")).status == OutboxStatus.SENT


async def test_a_post_for_a_thread_whose_opening_post_failed_fails_too(store: Store) -> None:
    clock = Clock()
    platform = ScriptedPlatform(Failed("channel_not_found"))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue_session(store, clock)

    await dispatcher.drain()
    clock.advance(timedelta(hours=1))
    await dispatcher.drain()

    assert platform.attempts == ["opening"]
    phase = await _row(store, "phase")
    assert phase.status == OutboxStatus.FAILED
    assert phase.last_error == "the post about intervision:3 failed: channel_not_found"


async def test_a_post_for_a_thread_without_any_opening_post_ends_as_a_failure(
    store: Store,
) -> None:
    clock = Clock()
    platform = ScriptedPlatform()
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    await _queue(store, "orphan", clock, thread_ref=THREAD_OF_SUBJECT + "intervision:9")
    await _queue(store, "elsewhere", clock, channel_ref="C2", subject="intervision:9")

    for _ in range(MAX_ATTEMPTS + 3):
        await dispatcher.drain()
        clock.advance(timedelta(hours=1))

    assert platform.attempts == ["elsewhere"]
    orphan = await _row(store, "orphan")
    assert (orphan.status, orphan.attempts) == (OutboxStatus.FAILED, MAX_ATTEMPTS)
    assert orphan.last_error == "no post about intervision:9 to reply to yet"


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(40) == timedelta(minutes=10)


class SlowPlatform(ScriptedPlatform):
    """Gives the other process a chance to run while a message is being sent."""

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        await asyncio.sleep(0.01)
        return await super().deliver(message)


async def test_two_processes_over_one_database_send_each_message_once(store: Store) -> None:
    """Two Hoedan processes (each its own store and dispatcher) share one outbox."""
    clock = Clock()
    platform = SlowPlatform()
    other = Store(store.urls)
    try:
        for number in range(6):
            await _queue(store, f"k{number}", clock)
        first = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
        second = OutboxDispatcher(other, {Platform.SLACK: platform}, clock=clock)

        await asyncio.gather(first.run_once(), second.run_once())
        await asyncio.gather(first.drain(), second.drain())
    finally:
        await other.close()

    assert sorted(platform.attempts) == [f"k{number}" for number in range(6)]


async def test_a_claimed_message_is_tried_again_after_its_lease(store: Store) -> None:
    """A process that claimed a message and died: another sends it once the lease passed."""
    clock = Clock()
    await _queue(store, "k1", clock)
    async with store.transaction() as tx:
        [claimed] = await tx.outbox.claim_due(
            platform=Platform.SLACK, now=clock.now, lease=LEASE, limit=10
        )
    assert claimed.idempotency_key == "k1"
    platform = ScriptedPlatform()
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)

    await dispatcher.drain()
    assert platform.attempts == []
    clock.advance(LEASE)
    await dispatcher.drain()
    assert platform.attempts == ["k1"]
    sent = await _row(store, "k1")
    assert (sent.status, sent.attempts) == (OutboxStatus.SENT, 2)  # the lost attempt counts


async def test_a_reply_waits_briefly_while_its_opening_post_is_being_sent(store: Store) -> None:
    """Another dispatcher holds the opening post: the reply looks again soon, not after the
    lease, and goes into the thread once the post is out."""
    clock = Clock()
    await _queue_session(store, clock)
    async with store.transaction() as tx:
        [opening] = await tx.outbox.claim_due(
            platform=Platform.SLACK, now=clock.now, lease=LEASE, limit=1
        )
    platform = ScriptedPlatform(Sent("C1:111.1"))
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)

    await dispatcher.drain()
    waiting = await _row(store, "phase")
    assert (waiting.status, waiting.next_attempt_at) == (
        OutboxStatus.PENDING,
        clock.now + OPENING_POLL,
    )
    async with store.transaction() as tx:
        row = await tx.outbox.get(opening.id or 0)
        assert row is not None
        await tx.outbox.mark_sent(row, external_ref="C1:111.1")
    clock.advance(OPENING_POLL)
    await dispatcher.drain()
    assert platform.attempts == ["phase"]
    assert platform.threads["phase"] == "111.1"


class CountingPlatform(ScriptedPlatform):
    """Sets ``all_sent`` once it has been asked to deliver ``expected`` messages."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self._expected = expected
        self.all_sent = asyncio.Event()

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        answer = await super().deliver(message)
        if len(self.attempts) >= self._expected:
            self.all_sent.set()
        return answer


async def test_a_wake_delivers_every_batch_due_without_waiting_for_the_poll(
    store: Store,
) -> None:
    """A fan-out larger than one batch goes out in one go: the dispatcher does not sleep until
    the next poll between batches (with an hour's poll, anything else never finishes)."""
    clock = Clock()
    expected = BATCH * 3 + 7
    for number in range(expected):
        await _queue(store, f"k{number}", clock, channel_ref=f"C{number}")
    platform = CountingPlatform(expected)
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)
    stop = asyncio.Event()
    running = asyncio.ensure_future(dispatcher.run_forever(stop, poll_seconds=3600))
    try:
        await asyncio.wait_for(platform.all_sent.wait(), timeout=30)
    finally:
        stop.set()
        await running
    assert sorted(platform.attempts) == sorted(f"k{number}" for number in range(expected))


class GatedPlatform(ScriptedPlatform):
    """Holds every delivery until ``width`` are under way at once, and keeps count of them."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self._width = width
        self._wide_enough = asyncio.Event()
        self._per_channel: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self.one_channel_twice = False

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        channel = message.channel_ref or ""
        self.one_channel_twice |= self._per_channel[channel] > 0
        self._per_channel[channel] += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight >= self._width:
            self._wide_enough.set()
        await self._wide_enough.wait()
        await asyncio.sleep(0)
        self.in_flight -= 1
        self._per_channel[channel] -= 1
        return await super().deliver(message)


async def test_channels_are_sent_to_side_by_side_and_each_channel_in_order(store: Store) -> None:
    """A fan-out does not wait for one round trip after another: up to SENDERS channels at
    once (sent one by one, the first delivery would wait for ever), never one channel twice at
    once, and each channel's messages in the order they were queued."""
    clock = Clock()
    channels = [f"C{number}" for number in range(SENDERS * 2)]
    for round_number in range(3):
        for channel in channels:
            await _queue(store, f"{channel}-{round_number}", clock, channel_ref=channel)
    platform = GatedPlatform(SENDERS)
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)

    await asyncio.wait_for(dispatcher.drain(), timeout=30)

    assert platform.most_in_flight == SENDERS
    assert not platform.one_channel_twice
    assert len(platform.attempts) == len(channels) * 3
    for channel in channels:
        keys = [key for key in platform.attempts if key.startswith(f"{channel}-")]
        assert keys == [f"{channel}-{round_number}" for round_number in range(3)]


class FirstIsSlowPlatform(ScriptedPlatform):
    """Takes its time over the first message; records the order in which deliveries end."""

    def __init__(self) -> None:
        super().__init__()
        self.finished: list[str] = []

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        first = not self.attempts
        answer = await super().deliver(message)
        if first:
            await asyncio.sleep(0.2)
        self.finished.append(message.idempotency_key)
        return answer


async def test_messages_that_may_share_a_conversation_keep_their_order(store: Store) -> None:
    """A DM addressed by its person and an ephemeral message for that person may land in one
    conversation: the second waits for the first, while another channel goes ahead."""
    clock = Clock()
    for key, kind, channel, member in (
        ("dm", DeliveryKind.DIRECT, None, "U1"),
        ("only-for-u1", DeliveryKind.EPHEMERAL, "D1", "U1"),
        ("elsewhere", DeliveryKind.POST, "C2", None),
    ):
        await _queue(store, key, clock, kind=kind, channel_ref=channel, member_ref=member)
    platform = FirstIsSlowPlatform()
    dispatcher = OutboxDispatcher(store, {Platform.SLACK: platform}, clock=clock)

    await dispatcher.drain()

    assert platform.finished == ["elsewhere", "dm", "only-for-u1"]
