"""Inbound deduplication and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import DeliveryKind, OutboxStatus, Platform
from storage.models import InboundDelivery, OutboxMessage
from storage.repositories._upsert import insert_if_absent
from storage.types import utcnow


class InboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def first_time(self, *, platform: Platform, delivery_id: str) -> bool:
        """Record a platform delivery; False when it was handled before (a retry)."""
        return await insert_if_absent(
            self._session,
            InboundDelivery,
            {"platform": platform, "delivery_id": delivery_id, "received_at": utcnow()},
            ["platform", "delivery_id"],
        )


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def enqueue(
        self,
        *,
        idempotency_key: str,
        platform: Platform,
        kind: DeliveryKind,
        payload: dict[str, Any],
        channel_ref: str | None = None,
        thread_ref: str | None = None,
        member_ref: str | None = None,
        not_before: datetime | None = None,
        subject: str | None = None,
    ) -> bool:
        """Queue a message; False when a message with this key was queued before."""
        now = utcnow()
        values: dict[str, Any] = {
            "idempotency_key": idempotency_key,
            "platform": platform,
            "kind": kind,
            "payload": payload,
            "channel_ref": channel_ref,
            "thread_ref": thread_ref,
            "member_ref": member_ref,
            "subject": subject,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": not_before or now,
            "created_at": now,
        }
        return await insert_if_absent(self._session, OutboxMessage, values, ["idempotency_key"])

    async def due(self, *, platform: Platform, now: datetime, limit: int) -> list[OutboxMessage]:
        """Pending messages whose time has come, oldest first."""
        statement = (
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.status == OutboxStatus.PENDING,
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        return list((await self._session.exec(statement)).all())

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, message_id)

    async def subject_of_post(
        self, *, platform: Platform, channel_ref: str, message_ref: str
    ) -> str | None:
        """What a delivered message was about, found from where it landed.

        Deliverers record ``external_ref`` as ``<channel>:<message id>``; a reply in the thread
        of that message can so be traced back to the question (or prompt) it was about.
        """
        statement = select(OutboxMessage.subject).where(
            OutboxMessage.platform == platform,
            OutboxMessage.external_ref == f"{channel_ref}:{message_ref}",
        )
        return (await self._session.exec(statement)).first()

    async def by_key(self, idempotency_key: str) -> OutboxMessage | None:
        statement = select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
        return (await self._session.exec(statement)).first()

    async def mark_sent(self, message: OutboxMessage, *, external_ref: str | None) -> None:
        message.status = OutboxStatus.SENT
        message.attempts += 1
        message.external_ref = external_ref
        message.sent_at = utcnow()
        message.last_error = None
        self._session.add(message)

    async def retry_later(self, message: OutboxMessage, *, at: datetime, error: str) -> None:
        message.attempts += 1
        message.next_attempt_at = at
        message.last_error = error
        self._session.add(message)

    async def mark_failed(self, message: OutboxMessage, *, error: str) -> None:
        """A permanent failure: kept for the coordinators, never retried."""
        message.status = OutboxStatus.FAILED
        message.attempts += 1
        message.last_error = error
        self._session.add(message)
