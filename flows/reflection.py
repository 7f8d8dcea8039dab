"""A reflection round as a state machine: everyone is asked, reminded once, then a summary.

    open --answer--> open (counted; a second answer replaces the first)
    open --halfway deadline--> open (one reminder to whoever has not answered yet)
    open --closing deadline | coach presses "Sluit de ronde"--> closed

Transitions are pure. What a member answers is stored by ``flows.reflection_room`` before the
event reaches the machine; the machine keeps only *that* someone answered, under an answer key,
with (for an anonymous round) the ids of their answer rows so that a second answer can replace
the first. At the end ``finish`` (same transaction) marks the round closed, shuffles an
anonymous round's answers and posts the summary in the channel.

Anonymity: in an anonymous round the answer key is a hash of a random per-round salt and the
member id, and the answer rows hold no member id. The salt and the keys live only in this
flow's data while the round is open and are dropped when it closes; the answers are then
rewritten in random order with one shared time. After the close nothing in the database links
an answer to a member; before it, only someone reading the raw flow data could. No message,
summary or export ever shows who answered what.

A deadline that passed while Hoedan was down fires once at start-up: the reminder is skipped
when the round should already have closed, and the round closes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows.engine import FlowDefinition, State, Step, Transition
from flows.errors import UserError
from flows.events import ActionEvent, FormSubmitted, TimerFired
from flows.messages import Button, Heading, ItemList, Message, Note, Paragraph, Part
from flows.outbound import Outbound, ToMember, ToSpace
from flows.text import RichText, in_chunks, join, ours, theirs
from flows.texts import Texts, texts_for, user
from storage.models import ReflectionAnswer
from storage.store import Transaction

KIND = "reflection"
SUBJECT = "reflection:"

ANSWER_FORM_OPEN = "reflection.answer_open"
ANSWER_FORM = "reflection.answer"
CLOSE = "reflection.close"

OPEN = "open"
CLOSED = "closed"

SCALE = range(1, 6)
BAR = "█"
NOTHING = "▏"
SUMMARY_CHARS = 2500
"""Text per summary message, well within what one chat message shows."""


def subject(round_id: int) -> str:
    return f"{SUBJECT}{round_id}"


def answer_key(data: Mapping[str, Any], member_id: int) -> str:
    """Under which key the machine counts a member's answer.

    Named rounds: the member id. Anonymous rounds: a hash of the round's secret salt and the
    member id, so the flow data holds no member id next to answer rows."""
    if not data.get("anonymous"):
        return str(member_id)
    return hashlib.sha256(f"{data['salt']}:{member_id}".encode()).hexdigest()


def _texts(data: Mapping[str, Any]) -> Texts:
    return texts_for(str(data["lang"]))


def _moment(data: Mapping[str, Any], name: str) -> datetime:
    return datetime.fromisoformat(str(data[name]))


def clock(data: Mapping[str, Any], moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(str(data["tz"]))).strftime("%d-%m %H:%M")


def _answered(data: Mapping[str, Any]) -> Mapping[str, Sequence[int]]:
    answered: Mapping[str, Sequence[int]] = data.get("answered", {})
    return answered


def _waiting(data: Mapping[str, Any]) -> list[int]:
    answered = _answered(data)
    return [
        int(person["id"])
        for person in data["members"]
        if answer_key(data, int(person["id"])) not in answered
    ]


def _deadline(data: Mapping[str, Any], now: datetime) -> datetime:
    remind_at = _moment(data, "remind_at")
    if not data.get("reminded") and remind_at > now:
        return remind_at
    return _moment(data, "closes_at")


def _answer_button(data: Mapping[str, Any], key: str) -> Button:
    return Button(
        label=_texts(data).render(key),
        action=ANSWER_FORM_OPEN,
        value=str(data["round_id"]),
        style="primary",
    )


def _ask(data: Mapping[str, Any], member_id: int, key: str) -> Outbound:
    texts = _texts(data)
    closes = clock(data, _moment(data, "closes_at"))
    parts: list[Part] = [
        Heading(text=texts.render("reflection.ask.heading", template=data["template"])),
        Paragraph(
            text=texts.render(
                key, coach=user(data["coach"]["name"]), space=user(str(data["space"])), time=closes
            )
        ),
    ]
    if data.get("intro"):
        parts.append(Paragraph(text=ours(str(data["intro"]))))
    parts.append(
        Note(
            text=texts.render(
                "reflection.ask.anonymous" if data.get("anonymous") else "reflection.ask.named"
            )
        )
    )
    message = Message(parts=tuple(parts), buttons=(_answer_button(data, "reflection.ask.button"),))
    return Outbound(ToMember(member_id), message, subject=subject(int(data["round_id"])))


def start(data: Mapping[str, Any], now: datetime) -> Transition:
    texts = _texts(data)
    closes = clock(data, _moment(data, "closes_at"))
    announcement = Message(
        parts=(
            Heading(text=texts.render("reflection.opening.heading", template=data["template"])),
            Paragraph(
                text=texts.render(
                    "reflection.opening.text",
                    coach=user(data["coach"]["name"]),
                    count=len(data["members"]),
                    time=closes,
                )
            ),
            Note(
                text=texts.render(
                    "reflection.opening.anonymous"
                    if data.get("anonymous")
                    else "reflection.opening.named"
                )
            ),
        ),
        buttons=(
            Button(
                label=texts.render("reflection.opening.close_button"),
                action=CLOSE,
                value=str(data["round_id"]),
            ),
        ),
    )
    effects = [
        Outbound(ToSpace(int(data["space_id"])), announcement, subject=subject(data["round_id"])),
        *(_ask(data, int(person["id"]), "reflection.ask.text") for person in data["members"]),
    ]
    fresh = {**data, "answered": {}, "reminded": False}
    return Transition(OPEN, fresh, tuple(effects), deadline=_deadline(fresh, now))


def _answer(step: Step) -> Transition:
    """A member's answer was stored by the room; it passes their key and their answer rows."""
    event = step.event
    assert isinstance(event, FormSubmitted)
    key = event.values.get("key")
    rows = event.values.get("rows")
    if not isinstance(key, str) or not isinstance(rows, list):
        raise UserError("action.unknown")
    answered = {**_answered(step.data), key: [int(row) for row in rows]}
    data = {**step.data, "answered": answered}
    return Transition(OPEN, data, deadline=_deadline(data, step.now))


def _timer(step: Step) -> Transition:
    data = step.data
    if not data.get("reminded") and step.now < _moment(data, "closes_at"):
        reminded = {**data, "reminded": True}
        reminders = tuple(
            _ask(reminded, member_id, "reflection.reminder.text")
            for member_id in _waiting(reminded)
        )
        return Transition(OPEN, reminded, reminders, deadline=_moment(data, "closes_at"))
    return _close(data, step.now, early=False)


def _action(step: Step) -> Transition:
    event = step.event
    assert isinstance(event, ActionEvent)
    if event.action != CLOSE:
        raise UserError("action.unknown")
    return _close(step.data, step.now, early=True)


def _close(data: Mapping[str, Any], now: datetime, *, early: bool) -> Transition:
    """Close, keeping no salt and no answer keys: after this, nothing links answer to member."""
    kept = {key: value for key, value in data.items() if key not in {"salt", "answered"}}
    closed = {
        **kept,
        "responses": len(_answered(data)),
        "closed_at": now.isoformat(),
        "closed_early": early,
    }
    return Transition(CLOSED, closed)


STATES = {
    OPEN: State(OPEN, on={FormSubmitted: _answer, TimerFired: _timer, ActionEvent: _action}),
    CLOSED: State(CLOSED, final=True),
}


# The summary ---------------------------------------------------------------------------------


def bars(scores: Sequence[int]) -> tuple[RichText, ...]:
    """One line per scale value: ``3 ███ 3`` (a thin mark for none)."""
    return tuple(
        ours(f"{value} {BAR * scores.count(value) or NOTHING} {scores.count(value)}")
        for value in SCALE
    )


async def finish(
    tx: Transaction, flow_id: int, data: Mapping[str, Any], now: datetime
) -> list[Outbound]:
    texts = _texts(data)
    round_id = int(data["round_id"])
    anonymous = bool(data.get("anonymous"))
    row = await tx.reflection.get(round_id)
    if row is not None:
        await tx.reflection.close(row, now=now)
        if anonymous:
            await tx.reflection.shuffle(round_id, stamped=row.created_at)
    answers = await tx.reflection.answers(round_id)
    names = {int(person["id"]): str(person["name"]) for person in data["members"]}
    responses = await tx.reflection.participation_count(round_id)
    target = ToSpace(int(data["space_id"]))

    heading = Message(
        parts=(
            Heading(text=texts.render("reflection.summary.heading", template=data["template"])),
            Paragraph(
                text=texts.render(
                    "reflection.summary.count", count=responses, total=len(data["members"])
                )
            ),
            Note(
                text=texts.render(
                    "reflection.summary.anonymous" if anonymous else "reflection.summary.named"
                )
            ),
        )
    )
    messages = [Outbound(target, heading, subject=subject(round_id))]
    if responses == 0:
        return messages
    blocks: list[list[Part]] = []
    questions: Sequence[Mapping[str, Any]] = data["questions"]
    for index, question in enumerate(questions):
        mine = [a for a in answers if a.question_index == index]
        parts: list[Part] = [Paragraph(text=_title(index, question))]
        if question["kind"] == "scale":
            scores = [a.score for a in mine if a.score is not None]
            parts.append(ItemList(items=bars(scores)))
            if scores:
                average = f"{sum(scores) / len(scores):.1f}"
                if str(data["lang"]) != "en":
                    average = average.replace(".", ",")
                parts.append(Note(text=texts.render("reflection.summary.average", average=average)))
        lines = _comments(mine, names, anonymous=anonymous)
        if not lines:
            blocks.append(parts)
            continue
        for number, chunk in enumerate(in_chunks(lines, SUMMARY_CHARS)):
            if number:
                parts = [Paragraph(text=_title(index, question) + ours(" (…)"))]
            parts.append(ItemList(items=chunk))
            blocks.append(parts)
    messages.extend(Outbound(target, Message(parts=tuple(p))) for p in _packed(blocks))
    return messages


MAX_PARTS = 30
"""Parts per summary message: well below what a platform shows in one card (Slack: 50)."""


def _size(parts: Sequence[Part]) -> int:
    return sum(
        sum(len(item.plain) for item in part.items)
        if isinstance(part, ItemList)
        else len(getattr(part, "text", ours("")).plain)
        for part in parts
    )


def _packed(blocks: Sequence[list[Part]]) -> list[list[Part]]:
    """Questions together in as few messages as fit, each within the size of one message."""
    packed: list[list[Part]] = []
    current: list[Part] = []
    for block in blocks:
        too_big = _size(current) + _size(block) > SUMMARY_CHARS
        if current and (too_big or len(current) + len(block) > MAX_PARTS):
            packed.append(current)
            current = []
        current = [*current, *block]
    if current:
        packed.append(current)
    return packed


def _title(index: int, question: Mapping[str, Any]) -> RichText:
    """``*2. <question>*``; a question the coach typed is their text, escaped as such."""
    label = str(question["label"])
    text = theirs(label) if question.get("typed") else ours(label)
    return join((ours(f"*{index + 1}. "), text, ours("*")))


def _comments(
    answers: Sequence[ReflectionAnswer], names: Mapping[int, str], *, anonymous: bool
) -> list[RichText]:
    said = [a for a in answers if a.text and a.text.strip()]
    if anonymous:
        # In an order that says nothing about who answered when.
        return [theirs(text) for text in sorted(str(a.text).strip() for a in said)]
    return [
        join(
            (
                theirs(names.get(a.member_id or 0, "?")),
                ours(": "),
                theirs(str(a.text).strip()),
            )
        )
        for a in said
    ]


DEFINITION = FlowDefinition(
    kind=KIND, version=1, initial=OPEN, states=STATES, start=start, finish=finish
)
