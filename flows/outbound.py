"""Effects: messages a flow wants delivered, addressed neutrally, written to the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.messages import Message
from flows.reports import RECEIVE_FILES, ReportRequest
from storage.enums import DeliveryKind, Platform
from storage.models import Member
from storage.repositories.delivery import THREAD_OF_SUBJECT
from storage.store import Transaction

MAX_GROUP_MEMBERS = 8
"""The most members a :class:`ToGroup` may have: Slack opens a group conversation with at most
eight people besides the app, and refuses (for good) a message to a bigger one."""

OPEN_GROUPS = frozenset({Platform.SLACK, Platform.CONSOLE})
"""Where Hoedan can open a private group conversation (:class:`ToGroup`) itself. A Teams bot
cannot create a group chat, so there a session runs in a channel thread instead."""


@dataclass(frozen=True)
class ToSpace:
    """Visible to everyone in the space (in a thread when ``thread_ref`` is set)."""

    space_id: int
    thread_ref: str | None = None
    thread_subject: str | None = None
    """Post in the thread of the first message with this subject in this space.

    For the later posts of a thread whose opening post is queued but not sent yet (so its
    platform id is unknown): they are delivered after it, in its thread, or fail when it failed.
    """


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


@dataclass(frozen=True)
class ToGroup:
    """A private group conversation with exactly these members (and Hoedan)."""

    member_ids: tuple[int, ...]
    name: str
    """A stable name for it (e.g. "intervisie-3"): the channel where a platform has no group ids
    of its own (the console)."""


Target = ToSpace | ToMember | Privately | Home | ToGroup


@dataclass(frozen=True)
class Outbound:
    target: Target
    message: Message
    subject: str | None = None
    """What the message is about (``question:12``), so replies in its thread can be placed."""
    attachment: ReportRequest | None = None
    """A report file delivered right after a direct message (only with :class:`ToMember`)."""


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
            if item.attachment is not None and member.platform in RECEIVE_FILES:
                # Queued after its message, so the dispatcher delivers it after it.
                await tx.outbox.enqueue(
                    idempotency_key=f"{key}:file",
                    platform=member.platform,
                    kind=DeliveryKind.FILE,
                    payload=item.attachment.model_dump(mode="json"),
                    member_ref=member.external_id,
                )
            continue
        if isinstance(target, ToGroup):
            await _enqueue_group(tx, target, key=key, payload=payload, subject=item.subject)
            continue
        space = await tx.spaces.get(target.space_id)
        assert space is not None
        member_ref = None
        thread_ref = target.thread_ref
        if isinstance(target, ToSpace) and target.thread_subject is not None:
            assert thread_ref is None, "a thread by its id or by its subject, not both"
            thread_ref = THREAD_OF_SUBJECT + target.thread_subject
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
            thread_ref=thread_ref,
            member_ref=member_ref,
            subject=item.subject,
        )


async def _enqueue_group(
    tx: Transaction, target: ToGroup, *, key: str, payload: dict[str, Any], subject: str | None
) -> None:
    """A group is addressed by its members' platform ids: the platform finds or opens it."""
    assert target.member_ids, "a group conversation needs members"
    members: list[Member] = []
    for member_id in target.member_ids:
        member = await tx.members.get(member_id)
        assert member is not None
        members.append(member)
    platforms = {member.platform for member in members}
    assert len(platforms) == 1, "the members of a group conversation share one platform"
    await tx.outbox.enqueue(
        idempotency_key=key,
        platform=platforms.pop(),
        kind=DeliveryKind.GROUP,
        payload=payload,
        channel_ref=target.name,
        member_ref=",".join(member.external_id for member in members),
        subject=subject,
    )
