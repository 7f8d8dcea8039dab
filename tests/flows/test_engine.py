"""The flow engine, with a small timed "round" as the example flow.

A round opens, closes for input when its timer fires, and is done once someone presses "close":

    open --(TimerFired)--> closing --(ActionEvent "close")--> done (final)

Each transition posts a message in the round's space.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows.engine import (
    FlowDefinition,
    FlowEngine,
    FlowError,
    InvalidTransition,
    State,
    Step,
    Transition,
    UnknownFlow,
)
from flows.events import ActionEvent, Actor, Place, TimerFired
from flows.messages import Message, Paragraph
from flows.outbound import Outbound, ToSpace
from flows.text import ours
from storage.enums import DeliveryKind, Platform, SpaceKind
from storage.models import FlowInstance, OutboxMessage
from storage.repositories.flows import StaleFlowError
from storage.store import Store
from storage.types import utcnow

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ROUND_LENGTH = timedelta(hours=1)
CHANNEL = "kring-twente"


def _post(data: Mapping[str, Any], text: str) -> Outbound:
    return Outbound(ToSpace(int(data["space_id"])), Message(parts=(Paragraph(text=ours(text)),)))


def _start_round(data: Mapping[str, Any], now: datetime) -> Transition:
    return Transition(
        "open",
        {**data, "log": ["open"]},
        effects=(_post(data, f"Ronde over {data['topic']} is open."),),
        deadline=now + ROUND_LENGTH,
    )


def _round_times_out(step: Step) -> Transition:
    assert isinstance(step.event, TimerFired)
    data = {**step.data, "log": [*step.data["log"], "closing"]}
    data["timer"] = step.event.due_at.isoformat()
    return Transition("closing", data, effects=(_post(data, "De ronde sluit; wie rondt af?"),))


def _someone_presses(step: Step) -> Transition:
    event = step.event
    assert isinstance(event, ActionEvent)
    if event.action != "close":
        return Transition("closing", step.data)
    data = {**step.data, "log": [*step.data["log"], "done"], "closed_by": event.actor.display_name}
    return Transition("done", data, effects=(_post(data, "Ronde gesloten."),))


def round_definition(version: int = 1) -> FlowDefinition:
    return FlowDefinition(
        kind="round",
        version=version,
        initial="open",
        states={
            "open": State("open", on={TimerFired: _round_times_out}),
            "closing": State("closing", on={ActionEvent: _someone_presses}),
            "done": State("done", final=True),
        },
        start=_start_round,
    )


def _v2_times_out(step: Step) -> Transition:
    data = {**step.data, "log": [*step.data["log"], "review"]}
    return Transition("review", data, effects=(_post(data, "Versie 2: eerst terugkijken."),))


ROUND_V1 = round_definition(1)
ROUND_V2 = FlowDefinition(
    kind="round",
    version=2,
    initial="open",
    states={
        "open": State("open", on={TimerFired: _v2_times_out}),
        "review": State("review", on={ActionEvent: _someone_presses}),
        "closing": State("closing", on={ActionEvent: _someone_presses}),
        "done": State("done", final=True),
    },
    start=_start_round,
)


def press(action: str, who: str = "Anna", delivery_id: str = "press-1") -> ActionEvent:
    return ActionEvent(
        actor=Actor(platform=Platform.CONSOLE, external_id=who.lower(), display_name=who),
        place=Place(platform=Platform.CONSOLE, external_id=CHANNEL, name=f"#{CHANNEL}"),
        delivery_id=delivery_id,
        action=action,
    )


def step(event: Any, data: Mapping[str, Any] | None = None) -> Step:
    return Step(flow_id=1, data=data or {"space_id": 1, "log": ["open"]}, event=event, now=T0)


# --- the definition on its own --------------------------------------------------------------


def test_a_declared_event_moves_the_flow_on() -> None:
    transition = ROUND_V1.step("open", step(TimerFired(flow_id=1, due_at=T0)))
    assert transition.state == "closing"
    assert transition.data["log"] == ["open", "closing"]
    assert len(transition.effects) == 1


def test_an_event_the_state_does_not_accept_fails_loudly() -> None:
    with pytest.raises(InvalidTransition, match="'open' does not accept ActionEvent"):
        ROUND_V1.step("open", step(press("close")))


def test_an_unknown_state_fails_loudly() -> None:
    with pytest.raises(InvalidTransition, match="unknown state 'paused'"):
        ROUND_V1.step("paused", step(TimerFired(flow_id=1, due_at=T0)))


def test_a_final_state_accepts_nothing() -> None:
    with pytest.raises(InvalidTransition, match="'done' is final"):
        ROUND_V1.step("done", step(press("close")))


def test_a_handler_that_goes_to_an_undeclared_state_fails_loudly() -> None:
    sloppy = FlowDefinition(
        kind="sloppy",
        version=1,
        initial="open",
        states={"open": State("open", on={TimerFired: lambda s: Transition("gone", s.data)})},
        start=lambda data, now: Transition("open", data),
    )
    with pytest.raises(InvalidTransition, match="undeclared target state 'gone'"):
        sloppy.step("open", step(TimerFired(flow_id=1, due_at=T0)))


def test_a_definition_whose_initial_state_is_not_declared_is_refused() -> None:
    with pytest.raises(FlowError, match="initial state 'begin' is not declared"):
        FlowDefinition(
            kind="broken",
            version=1,
            initial="begin",
            states={"open": State("open")},
            start=lambda data, now: Transition("open", data),
        )


def test_a_state_registered_under_another_name_is_refused() -> None:
    with pytest.raises(FlowError, match="registered as 'closed'"):
        FlowDefinition(
            kind="broken",
            version=1,
            initial="open",
            states={"open": State("open"), "done": State("closed", final=True)},
            start=lambda data, now: Transition("open", data),
        )


# --- flows stored in the database -----------------------------------------------------------


@pytest.fixture
async def space_id(store: Store) -> int:
    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug="test", name="Testnetwerk")
        assert network.id is not None
        space = await tx.spaces.get_or_create(
            network_id=network.id,
            platform=Platform.CONSOLE,
            external_id=CHANNEL,
            name=f"#{CHANNEL}",
            kind=SpaceKind.CHANNEL,
        )
        assert space.id is not None
        return space.id


async def start_round(
    store: Store, engine: FlowEngine, space_id: int, *, now: datetime = T0, topic: str = "zorg"
) -> int:
    async with store.transaction() as tx:
        flow = await engine.start(
            tx,
            kind="round",
            data={"space_id": space_id, "topic": topic},
            now=now,
            space_id=space_id,
        )
    assert flow.id is not None
    return flow.id


async def flow_row(store: Store, flow_id: int) -> FlowInstance:
    async with store.transaction() as tx:
        flow = await tx.flows.get(flow_id)
    assert flow is not None
    return flow


async def outbox(store: Store) -> list[OutboxMessage]:
    async with store.transaction() as tx:
        return await tx.outbox.due(
            platform=Platform.CONSOLE, now=utcnow() + timedelta(days=1), limit=100
        )


def texts_of(rows: list[OutboxMessage]) -> list[str]:
    return [Message.model_validate(row.payload).summary for row in rows]


async def test_a_round_is_stored_step_by_step_and_posts_on_every_transition(
    store: Store, space_id: int
) -> None:
    engine = FlowEngine([ROUND_V1])
    flow_id = await start_round(store, engine, space_id, topic="mantelzorg")

    started = await flow_row(store, flow_id)
    assert (started.kind, started.flow_version, started.state) == ("round", 1, "open")
    assert started.revision == 1
    assert started.deadline == T0 + ROUND_LENGTH
    assert started.space_id == space_id
    assert started.finished_at is None

    async with store.transaction() as tx:
        await engine.feed(
            tx,
            flow_id=flow_id,
            event=TimerFired(flow_id=flow_id, due_at=T0 + ROUND_LENGTH),
            now=T0 + ROUND_LENGTH,
        )
    closing = await flow_row(store, flow_id)
    assert closing.state == "closing"
    assert closing.revision == 2
    assert closing.deadline is None
    assert closing.data["timer"] == (T0 + ROUND_LENGTH).isoformat()

    async with store.transaction() as tx:
        await engine.feed(tx, flow_id=flow_id, event=press("close", "Bram"), now=T0)
    done = await flow_row(store, flow_id)
    assert done.state == "done"
    assert done.revision == 3
    assert done.finished_at is not None
    assert done.data == {
        "space_id": space_id,
        "topic": "mantelzorg",
        "log": ["open", "closing", "done"],
        "timer": (T0 + ROUND_LENGTH).isoformat(),
        "closed_by": "Bram",
    }

    rows = await outbox(store)
    assert [row.idempotency_key for row in rows] == [
        f"flow:{flow_id}:1:0",
        f"flow:{flow_id}:2:0",
        f"flow:{flow_id}:3:0",
    ]
    assert texts_of(rows) == [
        "Ronde over mantelzorg is open.",
        "De ronde sluit; wie rondt af?",
        "Ronde gesloten.",
    ]
    assert {(row.kind, row.channel_ref, row.thread_ref) for row in rows} == {
        (DeliveryKind.POST, CHANNEL, None)
    }


async def test_an_event_that_keeps_the_state_says_nothing_but_is_recorded(
    store: Store, space_id: int
) -> None:
    engine = FlowEngine([ROUND_V1])
    flow_id = await start_round(store, engine, space_id)
    assert await engine.fire_due(store, now=T0 + ROUND_LENGTH) == 1

    async with store.transaction() as tx:
        await engine.feed(tx, flow_id=flow_id, event=press("later"), now=T0)

    flow = await flow_row(store, flow_id)
    assert (flow.state, flow.revision) == ("closing", 3)
    assert len(await outbox(store)) == 2


async def test_feeding_a_finished_flow_fails_and_changes_nothing(
    store: Store, space_id: int
) -> None:
    engine = FlowEngine([ROUND_V1])
    flow_id = await start_round(store, engine, space_id)
    await engine.fire_due(store, now=T0 + ROUND_LENGTH)
    async with store.transaction() as tx:
        await engine.feed(tx, flow_id=flow_id, event=press("close"), now=T0)
    before = await flow_row(store, flow_id)

    with pytest.raises(InvalidTransition, match="final"):
        async with store.transaction() as tx:
            await engine.feed(tx, flow_id=flow_id, event=press("close", delivery_id="2"), now=T0)

    after = await flow_row(store, flow_id)
    assert (after.state, after.revision, after.data) == (before.state, before.revision, before.data)
    assert len(await outbox(store)) == 3


async def test_an_event_the_stored_state_does_not_accept_is_refused_and_stores_nothing(
    store: Store, space_id: int
) -> None:
    engine = FlowEngine([ROUND_V1])
    flow_id = await start_round(store, engine, space_id)

    with pytest.raises(InvalidTransition, match="does not accept ActionEvent"):
        async with store.transaction() as tx:
            await engine.feed(tx, flow_id=flow_id, event=press("close"), now=T0)

    flow = await flow_row(store, flow_id)
    assert (flow.state, flow.revision) == ("open", 1)
    assert len(await outbox(store)) == 1


async def test_unknown_flows_and_kinds_are_refused(store: Store, space_id: int) -> None:
    engine = FlowEngine([ROUND_V1])
    with pytest.raises(UnknownFlow, match="does not exist"):
        async with store.transaction() as tx:
            await engine.feed(tx, flow_id=4242, event=press("close"), now=T0)
    with pytest.raises(UnknownFlow, match="'intervision'"):
        async with store.transaction() as tx:
            await engine.start(tx, kind="intervision", data={}, now=T0)


async def test_a_start_into_an_undeclared_state_stores_nothing(store: Store, space_id: int) -> None:
    wrong_start = FlowDefinition(
        kind="round",
        version=1,
        initial="open",
        states=ROUND_V1.states,
        start=lambda data, now: Transition("opened", data, effects=(_post(data, "hallo"),)),
    )
    with pytest.raises(InvalidTransition, match="undeclared target state 'opened'"):
        async with store.transaction() as tx:
            await FlowEngine([wrong_start]).start(
                tx, kind="round", data={"space_id": space_id}, now=T0
            )
    async with store.transaction() as tx:
        assert await tx.flows.due(now=T0 + timedelta(days=365)) == []
    assert await outbox(store) == []


async def test_fire_due_moves_only_flows_whose_deadline_has_passed(
    store: Store, space_id: int
) -> None:
    engine = FlowEngine([ROUND_V1])
    early = await start_round(store, engine, space_id, now=T0, topic="vroeg")
    late = await start_round(store, engine, space_id, now=T0 + timedelta(hours=2), topic="laat")

    assert await engine.fire_due(store, now=T0 + ROUND_LENGTH - timedelta(seconds=1)) == 0
    assert await engine.fire_due(store, now=T0 + timedelta(minutes=90)) == 1

    assert (await flow_row(store, early)).state == "closing"
    assert (await flow_row(store, late)).state == "open"

    assert await engine.fire_due(store, now=T0 + timedelta(hours=3)) == 1
    assert (await flow_row(store, late)).state == "closing"


async def test_a_deadline_fires_once_however_often_the_scheduler_looks(
    store: Store, space_id: int
) -> None:
    engine = FlowEngine([ROUND_V1])
    flow_id = await start_round(store, engine, space_id)

    later = T0 + timedelta(hours=5)
    assert await engine.fire_due(store, now=later) == 1
    assert await engine.fire_due(store, now=later) == 0
    assert await engine.fire_due(store, now=later + timedelta(days=1)) == 0

    flow = await flow_row(store, flow_id)
    assert (flow.state, flow.revision) == ("closing", 2)
    assert flow.data["timer"] == (T0 + ROUND_LENGTH).isoformat()
    assert texts_of(await outbox(store)).count("De ronde sluit; wie rondt af?") == 1


async def test_finished_flows_are_never_fired(store: Store, space_id: int) -> None:
    at_once = FlowDefinition(
        kind="round",
        version=1,
        initial="open",
        states=ROUND_V1.states,
        start=lambda data, now: Transition("done", data, deadline=now),
    )
    engine = FlowEngine([at_once])
    flow_id = await start_round(store, engine, space_id)
    assert (await flow_row(store, flow_id)).finished_at is not None
    assert await engine.fire_due(store, now=T0 + timedelta(days=1)) == 0


async def test_a_broken_flow_does_not_hold_up_the_timers_of_others(
    store: Store, space_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    deaf = FlowDefinition(
        kind="deaf",
        version=1,
        initial="waiting",
        states={"waiting": State("waiting")},
        start=lambda data, now: Transition("waiting", data, deadline=now),
    )
    engine = FlowEngine([ROUND_V1, deaf])
    async with store.transaction() as tx:
        broken = await engine.start(tx, kind="deaf", data={}, now=T0 - timedelta(hours=1))
    assert broken.id is not None
    flow_id = await start_round(store, engine, space_id)

    assert await engine.fire_due(store, now=T0 + ROUND_LENGTH) == 1

    assert (await flow_row(store, flow_id)).state == "closing"
    assert (await flow_row(store, broken.id)).state == "waiting"
    assert f"flow {broken.id}" in caplog.text


async def test_a_stale_concurrent_write_is_refused_and_the_first_write_stays(
    store: Store, space_id: int
) -> None:
    engine = FlowEngine([ROUND_V1])
    flow_id = await start_round(store, engine, space_id)

    # A second worker reads the flow ...
    async with store.transaction() as tx:
        read_by_second_worker = await tx.flows.get(flow_id)
    assert read_by_second_worker is not None

    # ... the first worker moves it on ...
    async with store.transaction() as tx:
        await engine.feed(tx, flow_id=flow_id, event=TimerFired(flow_id=flow_id, due_at=T0), now=T0)

    # ... and the second worker then writes based on what it had read.
    async def second_worker_writes() -> None:
        async with store.transaction() as tx:
            # What it read is what its session knows (kept referenced: the identity map is weak).
            known = await tx.session.merge(read_by_second_worker, load=False)
            assert (known.state, known.revision) == ("open", 1)
            await engine.feed(
                tx,
                flow_id=flow_id,
                event=TimerFired(flow_id=flow_id, due_at=T0 + timedelta(minutes=1)),
                now=T0 + timedelta(minutes=1),
            )

    with pytest.raises(StaleFlowError):
        await second_worker_writes()

    flow = await flow_row(store, flow_id)
    assert (flow.state, flow.revision) == ("closing", 2)
    assert flow.data["timer"] == T0.isoformat()
    assert [row.idempotency_key for row in await outbox(store)] == [
        f"flow:{flow_id}:1:0",
        f"flow:{flow_id}:2:0",
    ]


async def test_an_old_flow_resumes_with_its_own_version_after_an_upgrade(
    store: Store, space_id: int
) -> None:
    old_flow = await start_round(store, FlowEngine([ROUND_V1]), space_id, topic="oud")

    upgraded = FlowEngine([ROUND_V2, ROUND_V1])
    new_flow = await start_round(store, upgraded, space_id, topic="nieuw")
    assert (await flow_row(store, new_flow)).flow_version == 2

    assert await upgraded.fire_due(store, now=T0 + ROUND_LENGTH) == 2

    old, new = await flow_row(store, old_flow), await flow_row(store, new_flow)
    assert (old.flow_version, old.state) == (1, "closing")
    assert (new.flow_version, new.state) == (2, "review")
    assert set(texts_of(await outbox(store))) >= {
        "De ronde sluit; wie rondt af?",
        "Versie 2: eerst terugkijken.",
    }


async def test_a_flow_whose_version_is_no_longer_registered_is_refused(
    store: Store, space_id: int
) -> None:
    old_flow = await start_round(store, FlowEngine([ROUND_V1]), space_id)
    with pytest.raises(UnknownFlow, match="'round' version 1"):
        async with store.transaction() as tx:
            await FlowEngine([ROUND_V2]).feed(
                tx, flow_id=old_flow, event=TimerFired(flow_id=old_flow, due_at=T0), now=T0
            )
    assert (await flow_row(store, old_flow)).state == "open"
