"""A tiny chat for flow scenarios: named members talk to Hoedan, its replies come back as text.

Everything goes through ``Runtime.handle`` and the outbox, exactly as a platform adapter would
drive it; the only shortcut is that members are console members (id = folded display name).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from flows.config import FlowConfig
from flows.events import (
    ActionEvent,
    Actor,
    CommandEvent,
    FormSubmitted,
    FormValue,
    InboundEvent,
    MessageEvent,
    Place,
)
from flows.messages import Button, Fields, ItemList, Message, Progress, Sparkline
from flows.runtime import Outcome, Runtime
from storage.enums import DeliveryKind, Platform, SpaceKind
from storage.models import Member, Question
from storage.repositories.members import name_key
from storage.store import Store
from storage.types import utcnow

MONDAY_MORNING = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def message_text(message: Message) -> str:
    """Everything a reader sees in a message, one line per part or list item."""
    lines: list[str] = []
    for part in message.parts:
        if isinstance(part, ItemList):
            lines.extend(item.plain for item in part.items)
        elif isinstance(part, Fields):
            lines.extend(f"{item.label.plain}: {item.value.plain}" for item in part.items)
        elif isinstance(part, Progress | Sparkline):
            lines.append(part.label.plain)
        else:
            lines.append(part.text.plain)
    lines.extend(button.label.plain for button in message.buttons)
    return "\n".join(lines)


@dataclass(frozen=True)
class Reply:
    """One outbox message, as the platform would deliver it."""

    kind: DeliveryKind
    channel_ref: str | None
    thread_ref: str | None
    member_ref: str | None
    message: Message

    @property
    def text(self) -> str:
        return message_text(self.message)

    @property
    def buttons(self) -> tuple[Button, ...]:
        return self.message.buttons


@dataclass(frozen=True)
class Said:
    """What came back from one event: the immediate outcome and the replies it queued."""

    outcome: Outcome
    replies: list[Reply]

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    @property
    def only(self) -> Reply:
        assert len(self.replies) == 1, f"expected one reply, got {self.replies}"
        return self.replies[0]


class Chat:
    """Members talking to Hoedan in one console channel; each call is one inbound event."""

    def __init__(
        self,
        store: Store,
        config: FlowConfig | None = None,
        *,
        channel: str = "algemeen",
        now: datetime = MONDAY_MORNING,
    ) -> None:
        self.store = store
        self.runtime = Runtime(store, config or FlowConfig())
        self.channel = channel
        self.now = now
        self._deliveries = itertools.count(1)
        self._seen_outbox: set[str] = set()
        """Outbox rows already returned, by key: ids can be reused after rows are deleted."""

    def actor(self, name: str) -> Actor:
        return Actor(platform=Platform.CONSOLE, external_id=name_key(name), display_name=name)

    def place(self, thread_ref: str | None = None) -> Place:
        return Place(
            platform=Platform.CONSOLE,
            external_id=self.channel,
            name=f"#{self.channel}",
            kind=SpaceKind.CHANNEL,
            thread_ref=thread_ref,
        )

    def _delivery(self, delivery_id: str | None) -> str:
        return delivery_id or f"delivery-{next(self._deliveries)}"

    async def command(self, who: str, text: str, *, delivery_id: str | None = None) -> Said:
        """``/hoedan <text>`` typed by ``who``."""
        return await self.send(
            CommandEvent(
                actor=self.actor(who),
                place=self.place(),
                delivery_id=self._delivery(delivery_id),
                text=text,
            )
        )

    async def message(
        self, who: str, text: str, *, message_ref: str, thread_ref: str | None = None
    ) -> Said:
        """A plain channel message (or a reply in a thread) by ``who``."""
        return await self.send(
            MessageEvent(
                actor=self.actor(who),
                place=self.place(thread_ref),
                delivery_id=self._delivery(None),
                text=text,
                message_ref=message_ref,
            )
        )

    async def press(self, who: str, button: Button) -> Said:
        return await self.send(
            ActionEvent(
                actor=self.actor(who),
                place=self.place(),
                delivery_id=self._delivery(None),
                action=button.action,
                value=button.value,
            )
        )

    async def submit(
        self, who: str, form_id: str, values: dict[str, FormValue], *, context: str = ""
    ) -> Said:
        return await self.send(
            FormSubmitted(
                actor=self.actor(who),
                place=self.place(),
                delivery_id=self._delivery(None),
                form_id=form_id,
                values=values,
                context=context,
            )
        )

    async def send(self, event: InboundEvent) -> Said:
        outcome = await self.runtime.handle(event, now=self.now)
        return Said(outcome=outcome, replies=await self._new_replies())

    async def _new_replies(self) -> list[Reply]:
        async with self.store.transaction() as tx:
            rows = await tx.outbox.due(
                platform=Platform.CONSOLE, now=utcnow() + timedelta(days=1), limit=10_000
            )
        fresh = [row for row in rows if row.idempotency_key not in self._seen_outbox]
        self._seen_outbox.update(row.idempotency_key for row in fresh)
        return [
            Reply(
                kind=DeliveryKind(row.kind),
                channel_ref=row.channel_ref,
                thread_ref=row.thread_ref,
                member_ref=row.member_ref,
                message=Message.model_validate(row.payload),
            )
            for row in fresh
        ]


async def stored_questions(store: Store) -> list[Question]:
    """Every stored question, by number."""
    async with store.transaction() as tx:
        result = await tx.session.exec(select(Question).order_by(col(Question.number)))
        return list(result.all())


async def question_count(store: Store) -> int:
    async with store.transaction() as tx:
        return int((await tx.session.exec(select(func.count()).select_from(Question))).one())


async def member_named(store: Store, name: str) -> Member:
    """The console member called ``name``."""
    async with store.transaction() as tx:
        member = await tx.members.by_external_id(
            platform=Platform.CONSOLE, external_id=name_key(name)
        )
    assert member is not None, f"nobody called {name!r} has talked to Hoedan"
    return member
