"""An intervision session as a state machine: phases with deadlines, steered by a facilitator.

    awaiting_case --case form | "begin"--> running(phase 0) --deadline | "volgende"--> ...
    running(last phase) --deadline | "volgende" | all lessons in--> finished
    running --"pauzeer"--> paused --"hervat"--> running (with the time that was left)
    awaiting_case | running | paused --"stop"--> stopped

Transitions are pure: they read the flow's data and the event and return the new data and the
messages to post. Everything a transition needs is in the data, copied in at the start (the
phases with their texts in the session's language, names, where the session lives), so a
session survives restarts and a later edit of the method catalogue. What the group says is
stored by ``flows.intervision_room`` before the event reaches the machine; the machine only
keeps count of who spoke. At the end ``finish`` (run by the engine in the same transaction)
reads the contributions to write the summary and the case owner's record.

Deadlines are absolute, so after a restart a phase goes on with the time it had left, and a
deadline that passed while Hoedan was down fires once, at start-up, without a stale warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from flows.engine import FlowDefinition, State, Step, Transition
from flows.errors import UserError
from flows.events import ActionEvent, FormSubmitted, MessageEvent, TimerFired
from flows.intervision_methods import Actor, Collects
from flows.messages import (
    Button,
    Field_,
    Fields,
    Heading,
    ItemList,
    Message,
    Note,
    Paragraph,
    Part,
    Progress,
    Quote,
)
from flows.outbound import Outbound, ToGroup, ToMember, ToSpace
from flows.text import RichText, in_chunks, join, ours, theirs
from flows.texts import Texts, texts_for, user
from storage.store import Transaction

KIND = "intervision"
SUBJECT = "intervision:"
"""Subject prefix of every message posted in a session: ``intervision:<session id>``."""

WARNING = timedelta(minutes=1)
EXTENSION = timedelta(minutes=5)
NOT_STARTED = "-"
"""The phase marker of buttons shown before the first phase."""

# Buttons; their value is the session id.
NEXT = "intervision.next"
BACK = "intervision.back"
EXTEND = "intervision.extend"
PAUSE = "intervision.pause"
RESUME = "intervision.resume"
STOP = "intervision.stop"
STEERING = frozenset({NEXT, BACK, EXTEND, PAUSE, RESUME, STOP})
"""Buttons only the facilitator (or a coordinator) may press."""
CASE_FORM_OPEN = "intervision.case_open"
LESSON_FORM_OPEN = "intervision.lesson_open"

CASE_FORM = "intervision.case"
LESSON_FORM = "intervision.lesson"
TAKEAWAY_FORM = "intervision.takeaway"

AWAITING_CASE = "awaiting_case"
RUNNING = "running"
PAUSED = "paused"
FINISHED = "finished"
STOPPED = "stopped"


class Refused(UserError):
    """A steering step that makes no sense now (back from the first phase, …)."""


def subject(session_id: int) -> str:
    return f"{SUBJECT}{session_id}"


# Reading the data ----------------------------------------------------------------------------


def _texts(data: Mapping[str, Any]) -> Texts:
    return texts_for(str(data["lang"]))


def _phase(data: Mapping[str, Any], index: int | None = None) -> Mapping[str, Any]:
    phases: Sequence[Mapping[str, Any]] = data["phases"]
    return phases[data["index"] if index is None else index]


def _ends_at(data: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(data["ends_at"]))


def _clock(data: Mapping[str, Any], moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(str(data["tz"]))).strftime("%H:%M")


def _name(data: Mapping[str, Any], member_id: int | None) -> str:
    for person in (data["owner"], data["facilitator"], *data["participants"]):
        if person["id"] == member_id:
            return str(person["name"])
    return "?"


def _turn_order(data: Mapping[str, Any]) -> list[int]:
    """Who speaks in turn-taking phases: the participants, in the order they were chosen."""
    return [int(p["id"]) for p in data["participants"]]


def _waiting(data: Mapping[str, Any]) -> list[int]:
    spoken = set(data.get("spoken", ()))
    return [member_id for member_id in _turn_order(data) if member_id not in spoken]


def _deadline(data: Mapping[str, Any], now: datetime) -> datetime:
    """The one-minute warning first, when there is still time for it; then the phase's end."""
    ends_at = _ends_at(data)
    warn_at = ends_at - WARNING
    if not data.get("warned") and warn_at > now:
        return warn_at
    return ends_at


# Messages ------------------------------------------------------------------------------------


def _to_session(data: Mapping[str, Any], message: Message, *, opening: bool = False) -> Outbound:
    venue = data["venue"]
    about = str(data["subject"])
    if venue["kind"] == "group":
        target: ToGroup | ToSpace = ToGroup(tuple(venue["member_ids"]), str(venue["name"]))
    elif opening:
        target = ToSpace(int(venue["space_id"]))
    else:
        target = ToSpace(int(venue["space_id"]), thread_subject=about)
    return Outbound(target, message, subject=about)


def _say(data: Mapping[str, Any], key: str, **values: Any) -> Outbound:
    return _to_session(data, Message(parts=(Paragraph(text=_texts(data).render(key, **values)),)))


def _steering_value(data: Mapping[str, Any]) -> str:
    """``<session id>:<phase index>``: a button remembers the phase it was shown in, so a double
    click, or a press on an older announcement, cannot move the session twice."""
    return f"{data['session_id']}:{data.get('index', NOT_STARTED)}"


def session_of(value: str) -> int | None:
    """The session id in a button's value (steering buttons also carry their phase)."""
    session_id = value.partition(":")[0]
    return int(session_id) if session_id.isdigit() else None


def _check_current(data: Mapping[str, Any], event: ActionEvent) -> None:
    """Refuse a steering press from an earlier phase; stopping works from any announcement."""
    shown_in = event.value.partition(":")[2]
    if event.action != STOP and shown_in and shown_in != str(data.get("index", NOT_STARTED)):
        raise Refused("intervision.refused.stale")


def _steering_buttons(data: Mapping[str, Any], *, paused: bool = False) -> tuple[Button, ...]:
    texts = _texts(data)
    value = _steering_value(data)

    def button(
        action: str, key: str, style: Literal["default", "primary", "danger"] = "default"
    ) -> Button:
        return Button(
            label=texts.render(f"intervision.buttons.{key}"),
            action=action,
            value=value,
            style=style,
        )

    if paused:
        return (button(RESUME, "resume", "primary"), button(STOP, "stop", "danger"))
    return (
        button(NEXT, "next", "primary"),
        button(EXTEND, "extend"),
        button(PAUSE, "pause"),
        button(BACK, "back"),
        button(STOP, "stop", "danger"),
    )


def _who_acts(data: Mapping[str, Any], phase: Mapping[str, Any]) -> RichText:
    texts = _texts(data)
    actor = Actor(phase["actor"])
    if actor is Actor.CASE_OWNER:
        return texts.render("intervision.actor.case_owner", owner=user(data["owner"]["name"]))
    if actor is Actor.IN_TURN:
        names = ", ".join(_name(data, member_id) for member_id in _turn_order(data))
        return texts.render("intervision.actor.in_turn", names=user(names))
    return texts.render("intervision.actor.everyone")


def _announcement(data: Mapping[str, Any]) -> Outbound:
    texts = _texts(data)
    phase = _phase(data)
    number, total = int(data["index"]) + 1, len(data["phases"])
    parts: list[Part] = [
        Heading(
            text=texts.render(
                "intervision.phase.heading", number=number, total=total, name=phase["name"]
            )
        ),
        Progress(current=number, total=total, label=ours(str(phase["name"]))),
        Paragraph(text=ours(str(phase["purpose"]))),
        Paragraph(text=texts.render("intervision.phase.for_group", text=phase["group"])),
        Paragraph(
            text=texts.render(
                "intervision.phase.for_owner",
                owner=user(data["owner"]["name"]),
                text=phase["owner"],
            )
        ),
        Fields(
            items=(
                Field_(label=texts.render("intervision.phase.who"), value=_who_acts(data, phase)),
                Field_(
                    label=texts.render("intervision.phase.until"),
                    value=texts.render(
                        "intervision.phase.until_value",
                        time=_clock(data, _ends_at(data)),
                        minutes=phase["minutes"],
                    ),
                ),
            )
        ),
    ]
    if Actor(phase["actor"]) is Actor.IN_TURN and _turn_order(data):
        first = _name(data, _turn_order(data)[0])
        parts.append(Note(text=texts.render("intervision.turn.first", name=user(first))))
    return _to_session(data, Message(parts=tuple(parts), buttons=_steering_buttons(data)))


def _private_ask(
    data: Mapping[str, Any], member_id: int, ask: RichText, label: RichText, action: str
) -> Outbound:
    """A direct message to one person with one button that opens their form."""
    button = Button(label=label, action=action, value=str(data["session_id"]), style="primary")
    return Outbound(ToMember(member_id), Message(parts=(Paragraph(text=ask),), buttons=(button,)))


def _lesson_requests(data: Mapping[str, Any]) -> list[Outbound]:
    """Each participant privately asked for their lesson, the case owner for their takeaway."""
    texts = _texts(data)
    lesson = texts.render("intervision.lesson.ask"), texts.render("intervision.lesson.button")
    takeaway = texts.render("intervision.takeaway.ask"), texts.render("intervision.takeaway.button")
    return [
        *(_private_ask(data, member, *lesson, LESSON_FORM_OPEN) for member in _turn_order(data)),
        _private_ask(data, int(data["owner"]["id"]), *takeaway, LESSON_FORM_OPEN),
    ]


# Transitions ---------------------------------------------------------------------------------


def _enter(
    data: Mapping[str, Any], index: int, now: datetime, before: Sequence[Outbound] = ()
) -> Transition:
    """Start phase ``index`` with its full time."""
    phase = _phase(data, index)
    entered = {
        **data,
        "index": index,
        "ends_at": (now + timedelta(minutes=int(phase["minutes"]))).isoformat(),
        "warned": False,
        "spoken": [],
    }
    effects = [*before, _announcement(entered)]
    if Collects(phase["collects"]) is Collects.LESSONS:
        entered["lessons_due"] = _turn_order(entered)
        entered["takeaway_due"] = True
        effects.extend(_lesson_requests(entered))
    return Transition(RUNNING, entered, tuple(effects), deadline=_deadline(entered, now))


def _advance(data: Mapping[str, Any], now: datetime) -> Transition:
    index = int(data["index"]) + 1
    if index >= len(data["phases"]):
        return Transition(FINISHED, {**data, "ended_at": now.isoformat()})
    return _enter(data, index, now)


def start(data: Mapping[str, Any], now: datetime) -> Transition:
    """The session opens: the group hears who and how, the case owner is asked for the case."""
    texts = _texts(data)
    phases = "".join(
        f"\n{number}. {phase['name']} ({phase['minutes']} min)"
        for number, phase in enumerate(data["phases"], start=1)
    )
    names = ", ".join(str(p["name"]) for p in data["participants"])
    opening = Message(
        parts=(
            Heading(text=texts.render("intervision.opening.heading", method=data["method"])),
            Paragraph(
                text=texts.render(
                    "intervision.opening.who",
                    owner=user(data["owner"]["name"]),
                    facilitator=user(data["facilitator"]["name"]),
                    participants=user(names),
                )
            ),
            Paragraph(
                text=texts.render(
                    "intervision.opening.phases",
                    phases=phases,
                    minutes=sum(int(p["minutes"]) for p in data["phases"]),
                )
            ),
            Note(text=texts.render("intervision.opening.confidential")),
            Paragraph(
                text=texts.render("intervision.opening.waiting", owner=user(data["owner"]["name"]))
            ),
        ),
        buttons=(
            Button(
                label=texts.render("intervision.buttons.begin"),
                action=NEXT,
                value=_steering_value(data),
            ),
            Button(
                label=texts.render("intervision.buttons.stop"),
                action=STOP,
                value=_steering_value(data),
                style="danger",
            ),
        ),
    )
    ask_case = _private_ask(
        data,
        int(data["owner"]["id"]),
        texts.render(
            "intervision.case.ask",
            facilitator=user(data["facilitator"]["name"]),
            method=data["method"],
        ),
        texts.render("intervision.case.button"),
        CASE_FORM_OPEN,
    )
    return Transition(
        AWAITING_CASE, dict(data), (_to_session(data, opening, opening=True), ask_case)
    )


def _case_shared(step: Step) -> Transition:
    event = step.event
    assert isinstance(event, FormSubmitted)
    texts = _texts(step.data)
    case = str(event.values.get("case") or "")
    shared = _to_session(
        step.data,
        Message(
            parts=(
                Paragraph(
                    text=texts.render(
                        "intervision.case.shared", owner=user(step.data["owner"]["name"])
                    )
                ),
                Quote(text=theirs(case)),
            )
        ),
    )
    return _enter(step.data, 0, step.now, before=(shared,))


def _awaiting_action(step: Step) -> Transition:
    event = step.event
    assert isinstance(event, ActionEvent)
    _check_current(step.data, event)
    if event.action == NEXT:
        return _enter(step.data, 0, step.now)
    if event.action == STOP:
        return _stopped(step)
    raise Refused("intervision.refused.not_started")


def _stopped(step: Step) -> Transition:
    return Transition(STOPPED, {**step.data, "ended_at": step.now.isoformat(), "stopped": True})


def _contribution(step: Step) -> Transition:
    """Someone spoke in the session; in turn-taking phases the next one is named."""
    event = step.event
    assert isinstance(event, MessageEvent)
    data = step.data
    author = _author_id(data, event)
    waiting_before = _waiting(data)
    spoken = list(dict.fromkeys([*data.get("spoken", ()), author]))
    updated = {**data, "spoken": spoken}
    effects: list[Outbound] = []
    if Actor(_phase(data)["actor"]) is Actor.IN_TURN and waiting_before[:1] == [author]:
        waiting = _waiting(updated)
        if waiting:
            effects.append(
                _say(
                    updated,
                    "intervision.turn.next",
                    name=user(_name(updated, waiting[0])),
                    waiting=user(", ".join(_name(updated, m) for m in waiting)),
                    count=len(waiting),
                )
            )
        else:
            effects.append(_say(updated, "intervision.turn.everyone"))
    return Transition(RUNNING, updated, tuple(effects), deadline=_deadline(updated, step.now))


def _author_id(data: Mapping[str, Any], event: MessageEvent | FormSubmitted) -> int:
    """The member behind an event, from the people the session was started with.

    ``flows.intervision_room`` lets only those people's events through."""
    for person in (data["owner"], data["facilitator"], *data["participants"]):
        if person["ref"] == event.actor.external_id:
            return int(person["id"])
    raise Refused("intervision.refused.not_in_session")


def _timer(step: Step) -> Transition:
    data = step.data
    ends_at = _ends_at(data)
    if not data.get("warned") and step.now < ends_at:
        warned = {**data, "warned": True}
        warning = _say(
            warned, "intervision.warning", name=_phase(data)["name"], time=_clock(data, ends_at)
        )
        return Transition(RUNNING, warned, (warning,), deadline=ends_at)
    return _advance(data, step.now)


def _running_action(step: Step) -> Transition:
    event = step.event
    assert isinstance(event, ActionEvent)
    _check_current(step.data, event)
    data = step.data
    if event.action == NEXT:
        return _advance(data, step.now)
    if event.action == BACK:
        if int(data["index"]) == 0:
            raise Refused("intervision.refused.first_phase")
        back = _say(data, "intervision.back", name=_phase(data, int(data["index"]) - 1)["name"])
        return _enter(data, int(data["index"]) - 1, step.now, before=(back,))
    if event.action == EXTEND:
        ends_at = _ends_at(data) + EXTENSION
        extended = {**data, "ends_at": ends_at.isoformat(), "warned": False}
        said = _say(extended, "intervision.extended", time=_clock(data, ends_at))
        return Transition(RUNNING, extended, (said,), deadline=_deadline(extended, step.now))
    if event.action == PAUSE:
        remaining = max(0, int((_ends_at(data) - step.now).total_seconds()))
        paused = {**data, "remaining": remaining}
        message = Message(
            parts=(Paragraph(text=_texts(data).render("intervision.paused")),),
            buttons=_steering_buttons(data, paused=True),
        )
        return Transition(PAUSED, paused, (_to_session(paused, message),))
    if event.action == STOP:
        return _stopped(step)
    raise Refused("intervision.refused.not_now")


def _paused_action(step: Step) -> Transition:
    event = step.event
    assert isinstance(event, ActionEvent)
    _check_current(step.data, event)
    data = step.data
    if event.action == RESUME:
        ends_at = step.now + timedelta(seconds=int(data["remaining"]))
        resumed = {**data, "ends_at": ends_at.isoformat(), "remaining": None}
        said = _say(resumed, "intervision.resumed", time=_clock(data, ends_at))
        return Transition(RUNNING, resumed, (said,), deadline=_deadline(resumed, step.now))
    if event.action == STOP:
        return _stopped(step)
    raise Refused("intervision.refused.paused")


def _lesson_given(step: Step) -> Transition:
    """A lesson or the case owner's takeaway came in; once all are in, the session closes."""
    data = step.data
    event = step.event
    assert isinstance(event, FormSubmitted)
    author = _author_id(data, event)
    updated = {**data, "lessons_due": [m for m in data.get("lessons_due", ()) if m != author]}
    if author == int(data["owner"]["id"]):
        updated["takeaway_due"] = False
    if not updated["lessons_due"] and not updated.get("takeaway_due"):
        return Transition(FINISHED, {**updated, "ended_at": step.now.isoformat()})
    return Transition(RUNNING, updated, deadline=_deadline(updated, step.now))


DEFINITION_STATES = {
    AWAITING_CASE: State(
        AWAITING_CASE, on={FormSubmitted: _case_shared, ActionEvent: _awaiting_action}
    ),
    RUNNING: State(
        RUNNING,
        on={
            MessageEvent: _contribution,
            TimerFired: _timer,
            ActionEvent: _running_action,
            FormSubmitted: _lesson_given,
        },
    ),
    PAUSED: State(PAUSED, on={ActionEvent: _paused_action}),
    FINISHED: State(FINISHED, final=True),
    STOPPED: State(STOPPED, final=True),
}


# The end: summary in the session, the full record for the case owner ------------------------


async def finish(
    tx: Transaction, flow_id: int, data: Mapping[str, Any], now: datetime
) -> list[Outbound]:
    """Close the session: a summary for the group, everything that was said for the owner."""
    texts = _texts(data)
    session_id = int(data["session_id"])
    row = await tx.intervision.get(session_id)
    if row is not None:
        await tx.intervision.end(row)
    said = await tx.intervision.contributions(session_id)
    lessons = await tx.intervision.lessons(session_id)
    phases: Sequence[Mapping[str, Any]] = data["phases"]
    counts = [
        len(lessons)
        if p["collects"] == Collects.LESSONS.value
        else sum(1 for c in said if c.phase == p["id"])
        for p in phases
    ]
    advice = [c.text for c in said if c.kind == Collects.ADVICE.value]
    reached = phases[: int(data.get("index", 0)) + 1] if data.get("stopped") else phases

    summary: list[Part] = [
        Heading(
            text=texts.render(
                "intervision.summary.stopped"
                if data.get("stopped")
                else "intervision.summary.heading",
                method=data["method"],
            )
        ),
        ItemList(
            items=tuple(
                texts.render("intervision.summary.phase", name=p["name"], count=count)
                for p, count in zip(reached, counts, strict=False)
            )
        ),
    ]
    if advice:
        summary.append(Paragraph(text=texts.render("intervision.summary.advice")))
        summary.append(ItemList(items=tuple(theirs(text) for text in advice)))
    participant_lessons = [
        lesson for lesson in lessons if lesson.author_id != int(data["owner"]["id"])
    ]
    if participant_lessons:
        summary.append(Paragraph(text=texts.render("intervision.summary.lessons")))
        summary.append(ItemList(items=tuple(theirs(lesson.text) for lesson in participant_lessons)))
    summary.append(
        Note(
            text=texts.render("intervision.summary.record_sent", owner=user(data["owner"]["name"]))
        )
    )

    def to_owner(*parts: Part) -> Outbound:
        return Outbound(ToMember(int(data["owner"]["id"])), Message(parts=parts))

    def said_by(author_id: int | None, text: str) -> RichText:
        return join((theirs(_name(data, author_id)), ours(": "), theirs(text)))

    record = [
        to_owner(Heading(text=texts.render("intervision.record.heading", method=data["method"])))
    ]
    for phase in reached:
        lines = [said_by(c.author_id, c.text) for c in said if c.phase == phase["id"]]
        for part in in_chunks(lines, RECORD_CHARS):
            heading = Paragraph(text=ours(f"*{phase['name']}*"))
            record.append(to_owner(heading, ItemList(items=part)))
    if lessons:
        record.append(
            to_owner(
                Paragraph(text=texts.render("intervision.record.lessons")),
                ItemList(items=tuple(said_by(lesson.author_id, lesson.text) for lesson in lessons)),
            )
        )
    return [_to_session(data, Message(parts=tuple(summary))), *record]


RECORD_CHARS = 2500
"""Text per message of the case owner's record: well within what one chat message can show, so
a long phase is split over several messages instead of being cut short."""


DEFINITION = FlowDefinition(
    kind=KIND,
    version=1,
    initial=AWAITING_CASE,
    states=DEFINITION_STATES,
    start=start,
    finish=finish,
)
