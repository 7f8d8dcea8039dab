"""The runtime: one inbound event in, one transaction, effects out through the outbox.

Every event is handled the same way whatever the platform: a retry of a delivery already seen
is ignored; the member and space are looked up (or created on first contact); the handler runs;
its state changes and replies are committed together. A problem the person can fix is answered
in Dutch with nothing stored; an unexpected failure is logged, apologised for, and the process
carries on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flows import commands, house_rules, intervision, reflection, sources
from flows.config import FlowConfig
from flows.context import Context
from flows.engine import FlowDefinition, FlowEngine
from flows.errors import UserError
from flows.events import (
    ActionEvent,
    CommandEvent,
    FormSubmitted,
    HomeOpened,
    InboundEvent,
    MemberJoined,
    MessageDeleted,
    MessageEdited,
    MessageEvent,
    without_control_characters,
)
from flows.messages import Form, Message, Paragraph
from flows.outbound import Outbound, Privately, enqueue
from flows.roles import effective_role
from flows.texts import Texts, texts_for
from storage.enums import SpaceKind
from storage.models import Member, Network, Space
from storage.repositories.flows import StaleFlowError
from storage.store import Store, Transaction
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What the adapter needs back right away; everything else waits in the outbox."""

    duplicate: bool = False
    form: Form | None = None
    ignored: bool = False
    """Nothing in Hoedan cares about this event; no database work was done."""


FLOWS: tuple[FlowDefinition, ...] = (
    intervision.DEFINITION,
    house_rules.DEFINITION,
    reflection.DEFINITION,
)
"""Every long-running flow Hoedan knows."""


SEEN_LIMIT = 100_000
STALE_ATTEMPTS = 10
"""How often an event is handled when each time a flow it moves was moved on by another. Of the
events racing for one flow one gets through each time, so this is how many may race at once."""


def _seen_key(space: Space, member: Member) -> tuple[int | None, int | None]:
    return space.id, member.id


class Runtime:
    def __init__(self, store: Store, config: FlowConfig) -> None:
        self.store = store
        self.config = config
        self._network: Network | None = None
        self.engine = FlowEngine(FLOWS)
        self._seen: set[tuple[int | None, int | None]] = set()
        """Members known to be stored as seen in a space (``space_member``)."""
        """Shared with the scheduler, which hands the same flows their deadlines."""
        """The configured network once it is known to be stored; it never changes identity."""

    def texts_for_member(self, member: Member) -> Texts:
        if member.locale and member.locale.lower().startswith("en"):
            return texts_for("en")
        return texts_for(self.config.language)

    @staticmethod
    def wants(event: InboundEvent) -> bool:
        """Cheap, before anything else: can this event matter? (Adapters skip profile look-ups.)"""
        return commands.wants(event)

    async def handle(self, event: InboundEvent, *, now: datetime | None = None) -> Outcome:
        if not commands.wants(event):
            return Outcome(ignored=True)
        event = without_control_characters(event)
        moment = now or utcnow()
        try:
            return await self._handle_anew_when_stale(event, moment)
        except UserError as problem:
            await self._answer_problem(event, moment, problem.key, problem.values, remember=True)
        except Exception:
            log.exception("handling %s failed", type(event).__name__)
            await self._answer_problem(event, moment, "error.unexpected", {}, remember=False)
        return Outcome()

    async def _handle_anew_when_stale(self, event: InboundEvent, moment: datetime) -> Outcome:
        """Handle the event; when a flow it moves was moved by another event meanwhile (two
        people writing in one session at the same moment, on PostgreSQL), all of it is rolled
        back and the event is handled again on the flow as it is now."""
        for attempt in range(1, STALE_ATTEMPTS + 1):
            try:
                return await self._handle_once(event, moment)
            except StaleFlowError:
                if attempt == STALE_ATTEMPTS:
                    raise
                log.info("a flow moved on meanwhile; handling %s again", type(event).__name__)
        raise AssertionError("unreachable")

    async def _handle_once(self, event: InboundEvent, moment: datetime) -> Outcome:
        async with self.store.transaction() as tx:
            if not await tx.inbound.first_time(
                platform=event.actor.platform, delivery_id=event.delivery_id
            ):
                return Outcome(duplicate=True)
            ctx = await self._context(tx, event, moment)
            await _dispatch(ctx, event)
            await enqueue(tx, ctx.outbound, key_prefix=_key(event))
            outcome = Outcome(form=ctx.form)
        self._remember_seen(ctx.space, ctx.member)
        return outcome

    async def _context(self, tx: Transaction, event: InboundEvent, now: datetime) -> Context:
        network, member, space = await self._enter(tx, event)
        return Context(
            tx=tx,
            texts=self.texts_for_member(member),
            config=self.config,
            network=network,
            member=member,
            role=effective_role(member, self.config.admins),
            space=space,
            event=event,
            now=now,
            flows=self.engine,
        )

    async def _network_in(self, tx: Transaction) -> Network:
        """The network row, looked up once per process instead of once per event.

        Only a network found in the database is remembered (one created in this transaction
        could still be rolled back), and it is taken out of its session, so that a rollback
        there cannot expire the copy every later event shares. Flows only read it.
        """
        if self._network is not None:
            return self._network
        network = await tx.networks.by_slug(self.config.network_slug)
        if network is not None:
            tx.session.expunge(network)
            self._network = network
            return network
        return await tx.networks.get_or_create(
            slug=self.config.network_slug, name=self.config.network_name
        )

    async def _enter(self, tx: Transaction, event: InboundEvent) -> tuple[Network, Member, Space]:
        network = await self._network_in(tx)
        assert network.id is not None
        member = await tx.members.get_or_create(
            network_id=network.id,
            platform=event.actor.platform,
            external_id=event.actor.external_id,
            display_name=event.actor.display_name,
        )
        if event.actor.locale and not member.locale:
            member.locale = event.actor.locale
        if event.actor.timezone and not member.timezone:
            member.timezone = event.actor.timezone
        space = await tx.spaces.get_or_create(
            network_id=network.id,
            platform=event.place.platform,
            external_id=event.place.external_id,
            name=event.place.name,
            kind=event.place.kind,
        )
        if _seen_key(space, member) not in self._seen and space.kind != SpaceKind.DIRECT:
            assert space.id is not None
            assert member.id is not None
            await tx.spaces.note_member(space_id=space.id, member_id=member.id)
        return network, member, space

    def _remember_seen(self, space: Space, member: Member) -> None:
        """Once stored (the transaction committed), a member in a space is not written again by
        this process; the set is emptied when it grows large, which only costs a write."""
        if len(self._seen) >= SEEN_LIMIT:
            self._seen.clear()
        self._seen.add(_seen_key(space, member))

    async def _answer_problem(
        self,
        event: InboundEvent,
        now: datetime,
        key: str,
        values: dict[str, object],
        *,
        remember: bool,
    ) -> None:
        """Tell the person what went wrong, in a fresh transaction (the failed one is gone).

        A problem they can fix is remembered as handled, so a platform retry does not repeat the
        answer; an unexpected failure is not, so a retry gets another chance.
        """
        try:
            async with self.store.transaction() as tx:
                if remember and not await tx.inbound.first_time(
                    platform=event.actor.platform, delivery_id=event.delivery_id
                ):
                    return
                _, member, space = await self._enter(tx, event)
                assert member.id is not None
                assert space.id is not None
                text = self.texts_for_member(member).render(key, **values)
                reply = Outbound(
                    Privately(space.id, member.id, event.place.thread_ref),
                    Message(parts=(Paragraph(text=text),)),
                )
                await enqueue(tx, [reply], key_prefix=f"{_key(event)}:problem")
        except Exception:
            log.exception("could not tell the member about a failed %s", type(event).__name__)


def _key(event: InboundEvent) -> str:
    return f"in:{event.actor.platform.value}:{event.delivery_id}"


async def _dispatch(ctx: Context, event: InboundEvent) -> None:
    if isinstance(event, CommandEvent):
        await commands.on_command(ctx, event)
    elif isinstance(event, MessageEvent):
        await commands.on_message(ctx, event)
    elif isinstance(event, MessageEdited):
        await sources.on_edited(ctx, event)
    elif isinstance(event, MessageDeleted):
        await sources.on_deleted(ctx, event)
    elif isinstance(event, ActionEvent):
        await commands.on_action(ctx, event)
    elif isinstance(event, FormSubmitted):
        await commands.on_form(ctx, event)
    elif isinstance(event, MemberJoined):
        await commands.on_member_joined(ctx, event)
    elif isinstance(event, HomeOpened):
        await commands.on_home(ctx, event)
