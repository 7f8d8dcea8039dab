"""The intervision state machine on its own: every transition, and the ones it refuses."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows import intervision
from flows.engine import FlowEvent, InvalidTransition, Step, Transition
from flows.events import (
    ActionEvent,
    Actor,
    FormSubmitted,
    MessageEvent,
    Place,
    TimerFired,
)
from flows.intervision import Refused
from flows.text import in_chunks, ours
from storage.enums import Platform

T0 = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
PLACE = Place(platform=Platform.CONSOLE, external_id="intervisie-1", name="intervisie-1")
PHASES = [
    {"id": "case", "name": "Casus", "purpose": "p", "group": "g", "owner": "o", "minutes": 5,
     "actor": "case_owner", "collects": "case"},
    {"id": "advice", "name": "Advies", "purpose": "p", "group": "g", "owner": "o", "minutes": 10,
     "actor": "in_turn", "collects": "advice"},
    {"id": "lessons", "name": "Leeropbrengst", "purpose": "p", "group": "g", "owner": "o",
     "minutes": 1, "actor": "everyone", "collects": "lessons"},
]  # fmt: skip
DATA: Mapping[str, Any] = {
    "session_id": 1,
    "subject": "intervision:1",
    "lang": "nl",
    "tz": "Europe/Amsterdam",
    "method": "Testmethode",
    "venue": {"kind": "group", "member_ids": [1, 2, 3, 4], "name": "intervisie-1"},
    "facilitator": {"id": 1, "ref": "carla", "name": "Carla"},
    "owner": {"id": 2, "ref": "anna", "name": "Anna"},
    "participants": [
        {"id": 3, "ref": "bram", "name": "Bram"},
        {"id": 4, "ref": "dirk", "name": "Dirk"},
    ],
    "phases": PHASES,
}
MACHINE = intervision.DEFINITION


def action(name: str, who: str = "carla") -> ActionEvent:
    return ActionEvent(
        actor=Actor(Platform.CONSOLE, who, who),
        place=PLACE,
        delivery_id="d",
        action=name,
        value="1",
    )


def message(who: str, text: str = "iets") -> MessageEvent:
    return MessageEvent(
        actor=Actor(Platform.CONSOLE, who, who),
        place=PLACE,
        delivery_id="d",
        text=text,
        message_ref="m",
    )


def form(who: str, form_id: str, **values: Any) -> FormSubmitted:
    return FormSubmitted(
        actor=Actor(Platform.CONSOLE, who, who),
        place=PLACE,
        delivery_id="d",
        form_id=form_id,
        values=values,
    )


def step(state: str, data: Mapping[str, Any], event: FlowEvent, now: datetime) -> Transition:
    return MACHINE.step(state, Step(flow_id=1, data=data, event=event, now=now))


def running(now: datetime = T0, index: int = 0) -> Transition:
    started = MACHINE.start(DATA, now)
    moved = step(started.state, started.data, action(intervision.NEXT), now)
    for _ in range(index):
        moved = step(moved.state, moved.data, action(intervision.NEXT), now)
    return moved


def test_start_waits_for_the_case_and_asks_the_owner_privately() -> None:
    started = MACHINE.start(DATA, T0)
    assert started.state == intervision.AWAITING_CASE
    assert started.deadline is None
    kinds = [type(e.target).__name__ for e in started.effects]
    assert kinds == ["ToGroup", "ToMember"]


def test_the_case_opens_phase_one_with_a_warning_deadline() -> None:
    started = MACHINE.start(DATA, T0)
    moved = step(started.state, started.data, form("anna", intervision.CASE_FORM, case="X"), T0)
    assert moved.state == intervision.RUNNING
    assert moved.data["index"] == 0
    assert moved.deadline == T0 + timedelta(minutes=4)


def test_the_warning_then_the_next_phase() -> None:
    first = running()
    warned = step(
        first.state, first.data, TimerFired(1, T0 + timedelta(minutes=4)), T0 + timedelta(minutes=4)
    )
    assert warned.data["warned"] is True
    assert warned.deadline == T0 + timedelta(minutes=5)
    assert "Nog één minuut" in str(warned.effects[0].message)
    later = T0 + timedelta(minutes=5)
    second = step(warned.state, warned.data, TimerFired(1, later), later)
    assert second.data["index"] == 1
    assert second.deadline == later + timedelta(minutes=9)


def test_a_one_minute_phase_has_no_warning() -> None:
    last = running(index=2)
    assert last.deadline == T0 + timedelta(minutes=1)


def test_turns_follow_the_participants() -> None:
    advice = running(index=1)
    out_of_turn = step(advice.state, advice.data, message("dirk"), T0)
    assert out_of_turn.effects == ()
    bram = step(out_of_turn.state, out_of_turn.data, message("bram"), T0)
    assert "Iedereen is aan de beurt geweest" in str(bram.effects[0].message)
    fresh = running(index=1)
    in_turn = step(fresh.state, fresh.data, message("bram"), T0)
    assert "Nu *" in str(in_turn.effects[0].message)
    assert "'Dirk'" in str(in_turn.effects[0].message)


def test_back_extend_pause_resume() -> None:
    first = running()
    with pytest.raises(Refused):
        step(first.state, first.data, action(intervision.BACK), T0)
    extended = step(first.state, first.data, action(intervision.EXTEND), T0)
    assert extended.deadline == T0 + timedelta(minutes=9)
    paused = step(
        extended.state, extended.data, action(intervision.PAUSE), T0 + timedelta(minutes=3)
    )
    assert paused.state == intervision.PAUSED
    assert paused.deadline is None
    assert paused.data["remaining"] == 7 * 60
    later = T0 + timedelta(hours=2)
    resumed = step(paused.state, paused.data, action(intervision.RESUME), later)
    assert resumed.state == intervision.RUNNING
    assert resumed.deadline == later + timedelta(minutes=6)
    second = step(resumed.state, resumed.data, action(intervision.NEXT), later)
    back = step(second.state, second.data, action(intervision.BACK), later)
    assert back.data["index"] == 0


def test_lessons_close_the_session_when_all_are_in() -> None:
    last = running(index=2)
    assert last.data["lessons_due"] == [3, 4]
    one = step(last.state, last.data, form("bram", intervision.LESSON_FORM, lesson="L"), T0)
    two = step(one.state, one.data, form("dirk", intervision.LESSON_FORM, lesson="L"), T0)
    assert two.state == intervision.RUNNING
    done = step(two.state, two.data, form("anna", intervision.TAKEAWAY_FORM, lesson="T"), T0)
    assert done.state == intervision.FINISHED


def test_the_last_deadline_finishes() -> None:
    last = running(index=2)
    later = T0 + timedelta(minutes=1)
    assert step(last.state, last.data, TimerFired(1, later), later).state == intervision.FINISHED


@pytest.mark.parametrize(
    "state", [intervision.AWAITING_CASE, intervision.RUNNING, intervision.PAUSED]
)
def test_stop_from_every_living_state(state: str) -> None:
    assert step(state, {**running().data, "remaining": 60}, action(intervision.STOP), T0).state == (
        intervision.STOPPED
    )


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (intervision.AWAITING_CASE, TimerFired(1, T0)),
        (intervision.AWAITING_CASE, message("bram")),
        (intervision.PAUSED, TimerFired(1, T0)),
        (intervision.PAUSED, message("bram")),
        (intervision.FINISHED, action(intervision.NEXT)),
        (intervision.STOPPED, TimerFired(1, T0)),
    ],
)
def test_events_a_state_does_not_take_are_refused(state: str, event: FlowEvent) -> None:
    with pytest.raises(InvalidTransition):
        step(state, running().data, event, T0)


@pytest.mark.parametrize(
    ("state", "name"),
    [
        (intervision.AWAITING_CASE, intervision.BACK),
        (intervision.AWAITING_CASE, intervision.PAUSE),
        (intervision.PAUSED, intervision.NEXT),
        (intervision.PAUSED, intervision.EXTEND),
        (intervision.RUNNING, intervision.RESUME),
    ],
)
def test_steering_that_makes_no_sense_now_is_refused(state: str, name: str) -> None:
    with pytest.raises(Refused):
        step(state, {**running().data, "remaining": 60}, action(name), T0)


def test_someone_outside_the_session_is_refused() -> None:
    first = running()
    with pytest.raises(Refused):
        step(first.state, first.data, message("frank"), T0)


def test_a_long_record_is_split_rather_than_cut() -> None:
    lines = [ours("x" * 1000) for _ in range(6)]
    chunks = in_chunks(lines, intervision.RECORD_CHARS)
    assert [len(chunk) for chunk in chunks] == [2, 2, 2]
    assert in_chunks([ours("y" * 5000)], intervision.RECORD_CHARS) == [(ours("y" * 5000),)]


def test_a_button_from_an_earlier_phase_cannot_move_the_session() -> None:
    second = running(index=1)
    old_press = ActionEvent(
        actor=Actor(Platform.CONSOLE, "carla", "carla"),
        place=PLACE,
        delivery_id="d",
        action=intervision.NEXT,
        value="1:0",
    )
    with pytest.raises(Refused):
        step(second.state, second.data, old_press, T0)
    current = ActionEvent(
        actor=old_press.actor, place=PLACE, delivery_id="d", action=intervision.NEXT, value="1:1"
    )
    assert step(second.state, second.data, current, T0).data["index"] == 2
    stop = ActionEvent(
        actor=old_press.actor, place=PLACE, delivery_id="d", action=intervision.STOP, value="1:0"
    )
    assert step(second.state, second.data, stop, T0).state == intervision.STOPPED
