"""Inbound deduplication and the outbox."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import DeliveryKind, OutboxStatus, Platform
from storage.models import InboundDelivery, OutboxMessage
from storage.repositories._upsert import insert_if_absent
from storage.types import utcnow

THREAD_OF_SUBJECT = "subject:"
"""A ``thread_ref`` that names a subject instead of a thread: "in the thread of the opening post".

Whoever queues the later posts of a thread often queues them before the opening post is sent, so
its platform id is not known yet; the dispatcher resolves the subject just before delivery.
"""

MAYBE_SENT = "maybe-sent: "
"""Starts ``last_error`` when the last attempt's outcome is unknown (a time-out, a 5xx, or a
dispatcher that died while sending): the message may be out already, so a deliverer that can
look (Slack: the channel's history) checks before sending it again."""
LEASE_RAN_OUT = f"{MAYBE_SENT}taken over after the lease ran out (its sender stopped)"


def thread_subject(thread_ref: str | None) -> str | None:
    """The subject whose opening post's thread this ``thread_ref`` means, if it names one."""
    if thread_ref is None or not thread_ref.startswith(THREAD_OF_SUBJECT):
        return None
    return thread_ref[len(THREAD_OF_SUBJECT) :]


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

    async def forget_before(self, cutoff: datetime) -> int:
        """Drop deliveries received before ``cutoff``; returns how many. Platforms retry for
        minutes or hours, never for days, so old ids only make the table grow."""
        result = await self._session.exec(
            delete(InboundDelivery).where(col(InboundDelivery.received_at) < cutoff)
        )
        assert isinstance(result, CursorResult)
        return int(result.rowcount)


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
        """Messages whose time has come, oldest first: pending ones, and claimed ones whose
        dispatcher let the lease run out (it died while sending)."""
        statement = (
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                col(OutboxMessage.next_attempt_at) <= now,
            )
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        return list((await self._session.exec(statement)).all())

    async def claim_due(
        self, *, platform: Platform, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxMessage]:
        """Due messages this dispatcher may send, each marked as being sent until ``lease``.

        The claim is a conditional update (nobody changed the row since it was read), so with
        several processes over one database each message goes to exactly one of them. A claim
        taken over from a dead dispatcher counts as an attempt: a message that kills its sender
        every time ends as a recorded failure instead of going round for ever. It is also marked
        :data:`LEASE_RAN_OUT`: the dead dispatcher may have sent it without living to record
        that, so it is looked for before it is sent again.
        """
        claimed = []
        for message in await self.due(platform=platform, now=now, limit=limit):
            taken_over = message.status == OutboxStatus.SENDING
            last_error = LEASE_RAN_OUT if taken_over else message.last_error
            result = await self._session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == message.id,
                    col(OutboxMessage.status) == message.status,
                    col(OutboxMessage.next_attempt_at) == message.next_attempt_at,
                )
                .values(
                    status=OutboxStatus.SENDING,
                    next_attempt_at=now + lease,
                    attempts=OutboxMessage.attempts + int(taken_over),
                    last_error=last_error,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                message.attempts += int(taken_over)
                message.last_error = last_error
                claimed.append(message)
        return claimed

    async def get(self, message_id: int) -> OutboxMessage | None:
        return await self._session.get(OutboxMessage, message_id)

    async def get_many(self, message_ids: Collection[int]) -> dict[int, OutboxMessage]:
        """The messages still there among ``message_ids``, by id, in one query."""
        if not message_ids:
            return {}
        statement = select(OutboxMessage).where(col(OutboxMessage.id).in_(message_ids))
        rows = (await self._session.exec(statement)).all()
        return {row.id: row for row in rows if row.id is not None}

    async def subject_of_post(
        self, *, platform: Platform, channel_ref: str, message_ref: str
    ) -> str | None:
        """What a delivered message was about, found from where it landed.

        Deliverers record ``external_ref`` as ``<channel>:<message id>``; a reply in the thread
        of that message can so be traced back to the question (or prompt) it was about. The
        channel is matched on ``channel_ref`` too, so that the look-up is one probe of
        ``ix_outbox_message_posted`` instead of a walk through every message of the platform.
        """
        statement = select(OutboxMessage.subject).where(
            *_landed(platform=platform, channel_ref=channel_ref, message_ref=message_ref)
        )
        return (await self._session.exec(statement)).first()

    async def posted(
        self, *, platform: Platform, channel_ref: str, message_ref: str
    ) -> OutboxMessage | None:
        """The delivered message that landed as ``message_ref`` in ``channel_ref``."""
        statement = select(OutboxMessage).where(
            *_landed(platform=platform, channel_ref=channel_ref, message_ref=message_ref)
        )
        return (await self._session.exec(statement)).first()

    async def subject_of_place(
        self, *, platform: Platform, channel_ref: str, thread_ref: str | None, prefix: str
    ) -> str | None:
        """Which subject (starting with ``prefix``, say ``"intervision:"``) owns a place.

        In a thread, the subject of the post that opened the thread; elsewhere, the subject of
        the newest message delivered to the group conversation that the channel is. Both are
        found through ``ix_outbox_message_posted``, so every incoming message can afford it.
        """
        if thread_ref is not None:
            subject = await self.subject_of_post(
                platform=platform, channel_ref=channel_ref, message_ref=thread_ref
            )
            return subject if subject is not None and subject.startswith(prefix) else None
        statement = (
            select(OutboxMessage.subject)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.channel_ref == channel_ref,
                OutboxMessage.kind == DeliveryKind.GROUP,
                # Delivered, asked as sent_at rather than status: SQLite would otherwise walk the
                # status index (every sent message) instead of this channel's entries.
                col(OutboxMessage.sent_at).is_not(None),
                # Not LIKE: SQLite's LIKE ignores case and would need "%" and "_" escaped.
                func.substr(OutboxMessage.subject, 1, len(prefix)) == prefix,
            )
            .order_by(col(OutboxMessage.id).desc())
            .limit(1)
        )
        return (await self._session.exec(statement)).first()

    async def opening_post(
        self, *, platform: Platform, channel_ref: str, subject: str
    ) -> OutboxMessage | None:
        """The first post about ``subject`` at the top level of a channel, whatever its status.

        Later posts queued with :data:`THREAD_OF_SUBJECT` go in its thread.
        """
        statement = (
            select(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.channel_ref == channel_ref,
                OutboxMessage.kind == DeliveryKind.POST,
                OutboxMessage.subject == subject,
                col(OutboxMessage.thread_ref).is_(None),
            )
            .order_by(col(OutboxMessage.id))
            .limit(1)
        )
        return (await self._session.exec(statement)).first()

    async def by_key(self, idempotency_key: str) -> OutboxMessage | None:
        statement = select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
        return (await self._session.exec(statement)).first()

    async def mark_sent(
        self, message: OutboxMessage, *, external_ref: str | None, channel_ref: str | None = None
    ) -> None:
        """Delivered; ``channel_ref``, when given, is the conversation it really landed in.

        A group conversation is addressed by its members and named by Hoedan; the platform's
        own id for it replaces that name, so that messages in it can be traced to this row.
        """
        message.status = OutboxStatus.SENT
        message.attempts += 1
        message.external_ref = external_ref
        if channel_ref is not None:
            message.channel_ref = channel_ref
        message.sent_at = utcnow()
        message.last_error = None
        self._session.add(message)

    async def retry_later(self, message: OutboxMessage, *, at: datetime, error: str) -> None:
        message.status = OutboxStatus.PENDING
        message.attempts += 1
        message.next_attempt_at = at
        message.last_error = error
        self._session.add(message)

    async def postpone(self, message: OutboxMessage, *, at: datetime) -> None:
        """Not tried yet (it waits for another message): no attempt counted, no error kept."""
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = at
        self._session.add(message)

    async def mark_failed(self, message: OutboxMessage, *, error: str) -> None:
        """A permanent failure: kept for the coordinators, never retried."""
        message.status = OutboxStatus.FAILED
        message.attempts += 1
        message.last_error = error
        self._session.add(message)


def _landed(*, platform: Platform, channel_ref: str, message_ref: str) -> tuple[Any, ...]:
    """Conditions for a message found by where it landed (one probe of the index)."""
    return (
        OutboxMessage.platform == platform,
        OutboxMessage.channel_ref == channel_ref,
        OutboxMessage.external_ref == f"{channel_ref}:{message_ref}",
    )
