"""Flows as persisted state machines.

A flow definition declares named states; each state declares which events it accepts and the
function that turns ``(data, event)`` into a :class:`Transition`. The engine stores the new state,
data, deadline and effects in one transaction, so a flow survives restarts and a retried event
never applies twice. An event a state does not accept fails loudly: silence would hide a bug.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.events import InboundEvent, TimerFired
from flows.outbound import Outbound, enqueue
from storage.models import FlowInstance
from storage.store import Store, Transaction

FlowEvent = InboundEvent | TimerFired

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transition:
    """Where a flow goes next, what it then knows, and what it says on the way."""

    state: str
    data: Mapping[str, Any]
    effects: tuple[Outbound, ...] = ()
    deadline: datetime | None = None
    """When the state times out; a TimerFired event is delivered then."""


@dataclass(frozen=True)
class Step:
    """What a handler receives: the flow's data, the event and the current time."""

    flow_id: int
    data: Mapping[str, Any]
    event: FlowEvent
    now: datetime


Handler = Callable[[Step], Transition]
Finisher = Callable[[Transaction, int, Mapping[str, Any], datetime], Awaitable[Sequence[Outbound]]]
"""``(tx, flow_id, final data, now) -> messages``."""


@dataclass(frozen=True)
class State:
    name: str
    on: Mapping[type, Handler] = field(default_factory=dict)
    final: bool = False


class FlowError(RuntimeError):
    """A flow was driven in a way its definition does not allow."""


class InvalidTransition(FlowError):
    pass


class UnknownFlow(FlowError):
    pass


@dataclass(frozen=True)
class FlowDefinition:
    kind: str
    version: int
    initial: str
    states: Mapping[str, State]
    start: Callable[[Mapping[str, Any], datetime], Transition]
    """Builds the first transition (normally into ``initial``) from the start data."""
    finish: Finisher | None = None
    """Runs when the flow reaches a final state, in the same transaction, for what a pure
    transition cannot do: read what the flow collected elsewhere (an intervision's
    contributions) to write its summary. Its messages are queued like the transition's."""

    def __post_init__(self) -> None:
        if self.initial not in self.states:
            raise FlowError(f"{self.kind}: initial state {self.initial!r} is not declared")
        for name, state in self.states.items():
            if name != state.name:
                raise FlowError(f"{self.kind}: state {name!r} is registered as {state.name!r}")

    def step(self, state_name: str, step: Step) -> Transition:
        """Apply one event in one state; raises InvalidTransition for anything undeclared."""
        state = self.states.get(state_name)
        if state is None:
            raise InvalidTransition(f"{self.kind}: unknown state {state_name!r}")
        if state.final:
            raise InvalidTransition(f"{self.kind}: state {state_name!r} is final")
        handler = state.on.get(type(step.event))
        if handler is None:
            raise InvalidTransition(
                f"{self.kind}: state {state_name!r} does not accept {type(step.event).__name__}"
            )
        return self._checked(handler(step))

    def _checked(self, transition: Transition) -> Transition:
        if transition.state not in self.states:
            raise InvalidTransition(f"{self.kind}: undeclared target state {transition.state!r}")
        return transition

    def is_final(self, state_name: str) -> bool:
        return self.states[state_name].final


class FlowEngine:
    """Starts flows, feeds them events and fires their deadlines."""

    def __init__(self, definitions: Iterable[FlowDefinition]) -> None:
        self._definitions: dict[tuple[str, int], FlowDefinition] = {}
        self._latest: dict[str, FlowDefinition] = {}
        for definition in definitions:
            self._definitions[(definition.kind, definition.version)] = definition
            latest = self._latest.get(definition.kind)
            if latest is None or definition.version > latest.version:
                self._latest[definition.kind] = definition

    def _definition(self, kind: str, version: int) -> FlowDefinition:
        definition = self._definitions.get((kind, version))
        if definition is None:
            raise UnknownFlow(f"no definition for flow {kind!r} version {version}")
        return definition

    async def start(
        self,
        tx: Transaction,
        *,
        kind: str,
        data: Mapping[str, Any],
        now: datetime,
        space_id: int | None = None,
    ) -> FlowInstance:
        definition = self._latest.get(kind)
        if definition is None:
            raise UnknownFlow(f"no flow called {kind!r}")
        transition = definition._checked(definition.start(data, now))
        instance = await tx.flows.create(
            kind=kind,
            flow_version=definition.version,
            state=transition.state,
            data=dict(transition.data),
            deadline=transition.deadline,
            space_id=space_id,
            finished=definition.is_final(transition.state),
        )
        await enqueue(tx, list(transition.effects), key_prefix=f"flow:{instance.id}:1")
        return instance

    async def feed(
        self, tx: Transaction, *, flow_id: int, event: FlowEvent, now: datetime
    ) -> FlowInstance:
        """Apply an event to a stored flow and store the outcome in the same transaction."""
        instance = await tx.flows.get(flow_id)
        if instance is None:
            raise UnknownFlow(f"flow {flow_id} does not exist")
        definition = self._definition(instance.kind, instance.flow_version)
        step = Step(flow_id=flow_id, data=dict(instance.data), event=event, now=now)
        transition = definition.step(instance.state, step)
        revision = instance.revision + 1
        await tx.flows.save(
            instance,
            state=transition.state,
            data=dict(transition.data),
            deadline=transition.deadline,
            finished=definition.is_final(transition.state),
        )
        await enqueue(tx, list(transition.effects), key_prefix=f"flow:{flow_id}:{revision}")
        if definition.finish is not None and definition.is_final(transition.state):
            closing = await definition.finish(tx, flow_id, transition.data, now)
            await enqueue(tx, list(closing), key_prefix=f"flow:{flow_id}:{revision}:final")
        return instance

    async def fire_due(self, store: Store, *, now: datetime) -> int:
        """Deliver a TimerFired to every flow whose deadline has passed; returns how many.

        Each flow moves in its own transaction, so one broken flow cannot hold up the others.
        """
        async with store.transaction() as tx:
            due = [(flow.id, flow.deadline) for flow in await tx.flows.due(now=now)]
        fired = 0
        for flow_id, deadline in due:
            assert flow_id is not None
            assert deadline is not None
            try:
                async with store.transaction() as tx:
                    current = await tx.flows.get(flow_id)
                    if current is None or current.deadline != deadline or current.finished_at:
                        continue
                    await self.feed(
                        tx,
                        flow_id=flow_id,
                        event=TimerFired(flow_id=flow_id, due_at=deadline),
                        now=now,
                    )
            except Exception:
                log.exception("flow %s could not handle its deadline", flow_id)
                continue
            fired += 1
        return fired
