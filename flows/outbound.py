"""Effects: messages a flow wants delivered, addressed neutrally, written to the outbox."""

from __future__ import annotations

from dataclasses import dataclass

from flows.messages import Message
from storage.enums import DeliveryKind
from storage.store import Transaction


@dataclass(frozen=True)
class ToSpace:
    """Visible to everyone in the space (in a thread when ``thread_ref`` is set)."""

    space_id: int
    thread_ref: str | None = None


@dataclass(frozen=True)
class ToMember:
    """A direct message."""

    member_id: int


@dataclass(frozen=True)
class Privately:
    """Shown only to one member, where they are (Slack's ephemeral message)."""

    space_id: int
    member_id: int
    thread_ref: str | None = None


@dataclass(frozen=True)
class Home:
    """A member's personal overview page; each new one replaces the last."""

    member_id: int


Target = ToSpace | ToMember | Privately | Home


@dataclass(frozen=True)
class Outbound:
    target: Target
    message: Message
    subject: str | None = None
    """What the message is about (``question:12``), so replies in its thread can be placed."""


async def enqueue(tx: Transaction, outbound: list[Outbound], *, key_prefix: str) -> None:
    """Write effects to the outbox in the caller's transaction.

    Keys are ``key_prefix:index``; callers derive the prefix from what caused the effects (the
    inbound delivery, or the flow revision), so doing the same work twice queues nothing new.
    """
    for index, item in enumerate(outbound):
        key = f"{key_prefix}:{index}"
        payload = item.message.model_dump(mode="json")
        target = item.target
        if isinstance(target, ToMember | Home):
            member = await tx.members.get(target.member_id)
            assert member is not None
            await tx.outbox.enqueue(
                idempotency_key=key,
                platform=member.platform,
                kind=DeliveryKind.DIRECT if isinstance(target, ToMember) else DeliveryKind.HOME,
                payload=payload,
                member_ref=member.external_id,
                subject=item.subject,
            )
            continue
        space = await tx.spaces.get(target.space_id)
        assert space is not None
        member_ref = None
        if isinstance(target, Privately):
            member = await tx.members.get(target.member_id)
            assert member is not None
            member_ref = member.external_id
        await tx.outbox.enqueue(
            idempotency_key=key,
            platform=space.platform,
            kind=DeliveryKind.EPHEMERAL if isinstance(target, Privately) else DeliveryKind.POST,
            payload=payload,
            channel_ref=space.external_id,
            thread_ref=target.thread_ref,
            member_ref=member_ref,
            subject=item.subject,
        )
