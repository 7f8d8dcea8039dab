"""Exactly-once plumbing: inbound deliveries seen, the outbox, and persisted flow state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlmodel import Field, SQLModel

from storage.enums import DeliveryKind, OutboxStatus, Platform
from storage.types import UtcDateTime, utcnow


class InboundDelivery(SQLModel, table=True):
    """A platform delivery already handled (Slack event_id, Teams activity id): retries skip it."""

    __tablename__ = "inbound_delivery"

    platform: Platform = Field(sa_type=String(20), primary_key=True)
    delivery_id: str = Field(max_length=255, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)


class OutboxMessage(SQLModel, table=True):
    """A message waiting to be (or already) delivered; the idempotency key makes it post once."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_posted", "platform", "channel_ref", "external_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=255, unique=True)
    platform: Platform = Field(sa_type=String(20))
    kind: DeliveryKind = Field(sa_type=String(20))
    channel_ref: str | None = Field(default=None, max_length=255)
    thread_ref: str | None = Field(default=None, max_length=255)
    member_ref: str | None = Field(default=None, max_length=255)
    payload: dict[str, Any] = Field(sa_type=JSON)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(20), index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    external_ref: str | None = Field(default=None, max_length=255)
    subject: str | None = Field(
        default=None,
        max_length=80,
        description='what the message is about ("question:12"), so replies to it can be placed',
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class FlowInstance(SQLModel, table=True):
    """A running flow (intervision, consent proposal, reflection round …) as a persisted state.

    ``state`` is a state *name* and ``flow_version`` the definition it was started with, so a new
    release can still resume old instances. ``revision`` guards against two writers at once.
    """

    __tablename__ = "flow_instance"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=80, index=True)
    flow_version: int = Field(default=1)
    state: str = Field(max_length=80)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    revision: int = Field(default=1)
    space_id: int | None = Field(default=None, foreign_key="space.id")
    deadline: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
