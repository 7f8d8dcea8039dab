"""Exactly-once plumbing: platform retries are recognised, outgoing messages are queued once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.enums import DeliveryKind, OutboxStatus, Platform
from storage.models import OutboxMessage
from storage.store import Store, Transaction
from storage.types import utcnow


def _soon() -> datetime:
    """A moment safely after everything queued so far: "now" for the dispatcher."""
    return utcnow() + timedelta(minutes=1)


async def _enqueue(
    tx: Transaction,
    key: str,
    *,
    platform: Platform = Platform.SLACK,
    payload: dict[str, Any] | None = None,
) -> bool:
    return await tx.outbox.enqueue(
        idempotency_key=key,
        platform=platform,
        kind=DeliveryKind.POST,
        payload=payload if payload is not None else {"text": key},
        channel_ref="C-hoedan",
        thread_ref="1710408600.000100",
    )


async def _due_keys(
    store: Store, *, platform: Platform, now: datetime, limit: int = 10
) -> list[str]:
    async with store.transaction() as tx:
        messages = await tx.outbox.due(platform=platform, now=now, limit=limit)
    return [message.idempotency_key for message in messages]


async def _message(store: Store, key: str) -> OutboxMessage:
    async with store.transaction() as tx:
        message = await tx.outbox.by_key(key)
    assert message is not None
    return message


# Inbound


async def test_a_delivery_is_new_the_first_time_and_a_retry_after_that(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="Ev0001")
        again_in_the_same_transaction = await tx.inbound.first_time(
            platform=Platform.SLACK, delivery_id="Ev0001"
        )
    async with store.transaction() as tx:
        retried_later = await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="Ev0001")

    assert first is True
    assert again_in_the_same_transaction is False
    assert retried_later is False


async def test_the_same_delivery_id_on_another_platform_is_a_different_delivery(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        on_slack = await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="123")
    async with store.transaction() as tx:
        on_teams = await tx.inbound.first_time(platform=Platform.TEAMS, delivery_id="123")
        on_console = await tx.inbound.first_time(platform=Platform.CONSOLE, delivery_id="123")
        another_id = await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="124")
    async with store.transaction() as tx:
        teams_retry = await tx.inbound.first_time(platform=Platform.TEAMS, delivery_id="123")

    assert (on_slack, on_teams, on_console, another_id) == (True, True, True, True)
    assert teams_retry is False


async def test_a_delivery_handled_in_a_rolled_back_transaction_counts_as_new(store: Store) -> None:
    async def handle_and_fail() -> None:
        async with store.transaction() as tx:
            assert await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="Ev0002")
            raise LookupError("handler failed")

    with pytest.raises(LookupError, match="handler failed"):
        await handle_and_fail()

    async with store.transaction() as tx:
        assert await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="Ev0002") is True


# Outbox: queueing


async def test_queueing_a_message_twice_under_one_key_keeps_the_first(store: Store) -> None:
    async with store.transaction() as tx:
        first = await _enqueue(tx, "answer:12:1", payload={"text": "eerste"})
    async with store.transaction() as tx:
        second = await _enqueue(tx, "answer:12:1", payload={"text": "tweede"})
        rows = (await tx.session.exec(select(func.count()).select_from(OutboxMessage))).one()

    assert first is True
    assert second is False
    assert rows == 1
    message = await _message(store, "answer:12:1")
    assert message.payload == {"text": "eerste"}


async def test_a_queued_message_starts_pending_with_its_details(store: Store) -> None:
    before = utcnow()
    async with store.transaction() as tx:
        await tx.outbox.enqueue(
            idempotency_key="dm:7",
            platform=Platform.TEAMS,
            kind=DeliveryKind.DIRECT,
            payload={"blocks": [{"type": "section", "text": "Hoi Zoë"}], "n": 3},
            member_ref="29:abc",
        )

    message = await _message(store, "dm:7")
    assert message.platform == Platform.TEAMS
    assert message.kind == DeliveryKind.DIRECT
    assert message.payload == {"blocks": [{"type": "section", "text": "Hoi Zoë"}], "n": 3}
    assert message.member_ref == "29:abc"
    assert message.channel_ref is None
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 0
    assert message.sent_at is None
    assert message.next_attempt_at.tzinfo is UTC
    assert before <= message.next_attempt_at <= utcnow()


# Outbox: what is due


async def test_only_pending_messages_for_the_platform_whose_time_has_come_are_due(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        for key in ("slack-1", "slack-sent", "slack-failed", "slack-later", "slack-2"):
            await _enqueue(tx, key)
        await _enqueue(tx, "teams-1", platform=Platform.TEAMS)
    now = _soon()
    async with store.transaction() as tx:
        messages = {
            m.idempotency_key: m
            for m in await tx.outbox.due(platform=Platform.SLACK, now=now, limit=10)
        }
        await tx.outbox.mark_sent(messages["slack-sent"], external_ref="1710.1")
        await tx.outbox.mark_failed(messages["slack-failed"], error="channel_not_found")
        await tx.outbox.retry_later(
            messages["slack-later"], at=now + timedelta(minutes=5), error="ratelimited"
        )

    assert await _due_keys(store, platform=Platform.SLACK, now=now) == ["slack-1", "slack-2"]
    assert await _due_keys(store, platform=Platform.TEAMS, now=now) == ["teams-1"]
    assert await _due_keys(store, platform=Platform.CONSOLE, now=now) == []


async def test_nothing_is_due_before_its_next_attempt_time(store: Store) -> None:
    async with store.transaction() as tx:
        await _enqueue(tx, "slack-1")
    message = await _message(store, "slack-1")

    just_before = message.next_attempt_at - timedelta(microseconds=1)
    assert await _due_keys(store, platform=Platform.SLACK, now=just_before) == []
    assert await _due_keys(store, platform=Platform.SLACK, now=message.next_attempt_at) == [
        "slack-1"
    ]


async def test_a_message_queued_for_later_is_not_due_before_then(store: Store) -> None:
    later = _soon() + timedelta(hours=1)
    async with store.transaction() as tx:
        await tx.outbox.enqueue(
            idempotency_key="reminder:1",
            platform=Platform.SLACK,
            kind=DeliveryKind.POST,
            payload={"text": "Herinnering"},
            channel_ref="C-hoedan",
            not_before=later,
        )

    assert (await _message(store, "reminder:1")).next_attempt_at == later
    assert await _due_keys(store, platform=Platform.SLACK, now=_soon()) == []
    assert await _due_keys(store, platform=Platform.SLACK, now=later) == ["reminder:1"]


async def test_due_messages_come_oldest_first_up_to_the_limit(store: Store) -> None:
    async with store.transaction() as tx:
        for key in ("eerste", "tweede", "derde", "vierde"):
            await _enqueue(tx, key)
    now = _soon()
    async with store.transaction() as tx:
        first = (await tx.outbox.due(platform=Platform.SLACK, now=now, limit=1))[0]
        # A retry becomes due again; it keeps its place in the queue.
        await tx.outbox.retry_later(first, at=now - timedelta(seconds=1), error="timeout")

    assert await _due_keys(store, platform=Platform.SLACK, now=now, limit=3) == [
        "eerste",
        "tweede",
        "derde",
    ]


# Outbox: outcomes


async def test_a_sent_message_records_its_reference_and_is_no_longer_due(store: Store) -> None:
    async with store.transaction() as tx:
        await _enqueue(tx, "post:1")
    now = _soon()
    async with store.transaction() as tx:
        (message,) = await tx.outbox.due(platform=Platform.SLACK, now=now, limit=10)
        await tx.outbox.retry_later(message, at=now, error="timeout")
    async with store.transaction() as tx:
        (message,) = await tx.outbox.due(platform=Platform.SLACK, now=now, limit=10)
        await tx.outbox.mark_sent(message, external_ref="1710408600.000200")

    sent = await _message(store, "post:1")
    assert sent.status == OutboxStatus.SENT
    assert sent.attempts == 2
    assert sent.external_ref == "1710408600.000200"
    assert sent.last_error is None
    assert sent.sent_at is not None
    assert sent.sent_at.tzinfo is UTC
    assert await _due_keys(store, platform=Platform.SLACK, now=now + timedelta(days=1)) == []


async def test_a_message_to_retry_stays_pending_until_its_new_time(store: Store) -> None:
    async with store.transaction() as tx:
        await _enqueue(tx, "post:1")
    now = _soon()
    retry_at = now + timedelta(minutes=2)
    async with store.transaction() as tx:
        (message,) = await tx.outbox.due(platform=Platform.SLACK, now=now, limit=10)
        await tx.outbox.retry_later(message, at=retry_at, error="HTTP 503")

    waiting = await _message(store, "post:1")
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.attempts == 1
    assert waiting.last_error == "HTTP 503"
    assert waiting.next_attempt_at == retry_at
    assert waiting.sent_at is None
    assert await _due_keys(store, platform=Platform.SLACK, now=now) == []
    assert await _due_keys(store, platform=Platform.SLACK, now=retry_at) == ["post:1"]


async def test_a_failed_message_is_kept_with_its_error_and_never_retried(store: Store) -> None:
    async with store.transaction() as tx:
        await _enqueue(tx, "post:1")
    now = _soon()
    async with store.transaction() as tx:
        (message,) = await tx.outbox.due(platform=Platform.SLACK, now=now, limit=10)
        await tx.outbox.mark_failed(message, error="channel_not_found")

    failed = await _message(store, "post:1")
    assert failed.status == OutboxStatus.FAILED
    assert failed.attempts == 1
    assert failed.last_error == "channel_not_found"
    assert failed.sent_at is None
    assert await _due_keys(store, platform=Platform.SLACK, now=now + timedelta(days=1)) == []
    async with store.transaction() as tx:
        assert await _enqueue(tx, "post:1") is False
