"""A house-rules proposal as a state machine: adopted by consent unless someone objects.

    proposed --"Akkoord"--> proposed (counted, not required: consent is not unanimity)
    proposed --reasoned objection--> objected   (the coach hears why and may amend)
    proposed --deadline--> adopted              (the next version; members asked to acknowledge)

The proposal's text, the channel and the deadline are copied into the flow's data when it
starts, so it survives restarts; a deadline missed while Hoedan was down fires once, at
start-up. ``flows.house_rules_room`` checks every press and stores the objection before the
event reaches the machine; ``finish`` (run by the engine in the same transaction) writes the
outcome to the rule set and says it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows.engine import FlowDefinition, State, Step, Transition
from flows.events import ActionEvent, FormSubmitted, TimerFired
from flows.messages import Button, Heading, ItemList, Message, Note, Paragraph, Part, Quote
from flows.outbound import Outbound, ToMember, ToSpace
from flows.text import theirs
from flows.texts import Texts, texts_for, user
from storage.store import Transaction

KIND = "house_rules"
SUBJECT = "house_rules:"
RECALL_KIND = "house_rules_recall"
"""The monthly recall's schedule kind (``flows.schedules`` reads its weekday as "the first such
day of the month")."""
RECALL_WEEKDAY = 0
RECALL_TIME = "09:00"

# Buttons; the value is the version id.
AGREE = "house_rules.agree"
OBJECT_OPEN = "house_rules.object_open"
ACKNOWLEDGE = "house_rules.acknowledge"
AMEND = "house_rules.amend"

OBJECTION_FORM = "house_rules.objection"
EDITOR_FORM = "house_rules.editor"

PROPOSED = "proposed"
ADOPTED = "adopted"
OBJECTED = "objected"


def _texts(data: Mapping[str, Any]) -> Texts:
    return texts_for(str(data["lang"]))


def when(moment: datetime, timezone: str) -> str:
    """A date and time as people in the space read it: ``24-11-2026 09:00``."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d-%m-%Y %H:%M")


def numbered(rules: Sequence[str]) -> ItemList:
    """The rules as a numbered list; their text is the coalition's, shown literally."""
    return ItemList(items=tuple(theirs(rule) for rule in rules), numbered=True)


def acknowledge_button(texts: Texts, version_id: int) -> Button:
    return Button(
        label=texts.render("house_rules.buttons.acknowledge"),
        action=ACKNOWLEDGE,
        value=str(version_id),
        style="primary",
    )


def _to_space(data: Mapping[str, Any], message: Message) -> Outbound:
    return Outbound(
        ToSpace(int(data["space_id"])), message, subject=f"{SUBJECT}{data['version_id']}"
    )


def start(data: Mapping[str, Any], now: datetime) -> Transition:
    """The proposal is posted in the channel, with its deadline."""
    texts = _texts(data)
    deadline = datetime.fromisoformat(str(data["deadline"]))
    parts: list[Part] = [
        Heading(text=texts.render("house_rules.proposal.heading")),
        Paragraph(
            text=texts.render(
                "house_rules.proposal.intro",
                proposer=user(str(data["proposer"]["name"])),
                deadline=when(deadline, str(data["tz"])),
            )
        ),
        numbered(data["rules"]),
    ]
    changed = ", ".join(str(n) for n in data.get("changed", ()))
    if data.get("first"):
        parts.append(Note(text=texts.render("house_rules.proposal.first")))
    elif changed or data.get("dropped"):
        parts.append(
            Note(
                text=texts.render(
                    "house_rules.proposal.changes",
                    changed=changed,
                    count=int(data.get("dropped", 0)),
                )
            )
        )
    parts.append(Note(text=texts.render("house_rules.proposal.consent")))
    value = str(data["version_id"])
    message = Message(
        parts=tuple(parts),
        buttons=(
            Button(
                label=texts.render("house_rules.buttons.agree"),
                action=AGREE,
                value=value,
                style="primary",
            ),
            Button(
                label=texts.render("house_rules.buttons.object"), action=OBJECT_OPEN, value=value
            ),
        ),
    )
    return Transition(
        PROPOSED, {**data, "agreed": [], "outcome": None}, (_to_space(data, message),), deadline
    )


def _deadline(data: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(data["deadline"]))


def _agreed(step: Step) -> Transition:
    event = step.event
    assert isinstance(event, ActionEvent)
    agreed = list(dict.fromkeys([*step.data.get("agreed", ()), event.actor.external_id]))
    return Transition(PROPOSED, {**step.data, "agreed": agreed}, deadline=_deadline(step.data))


def _objected(step: Step) -> Transition:
    """One reasoned objection is enough: the proposal goes back to the coach."""
    event = step.event
    assert isinstance(event, FormSubmitted)
    return Transition(
        OBJECTED,
        {**step.data, "outcome": OBJECTED, "objector": event.actor.display_name},
    )


def _deadline_passed(step: Step) -> Transition:
    return Transition(ADOPTED, {**step.data, "outcome": ADOPTED})


STATES = {
    PROPOSED: State(
        PROPOSED,
        on={ActionEvent: _agreed, FormSubmitted: _objected, TimerFired: _deadline_passed},
    ),
    ADOPTED: State(ADOPTED, final=True),
    OBJECTED: State(OBJECTED, final=True),
}


async def finish(
    tx: Transaction, _flow_id: int, data: Mapping[str, Any], now: datetime
) -> list[Outbound]:
    """Write the outcome to the rule set and tell the channel (and, after an objection, the
    coach who proposed)."""
    texts = _texts(data)
    version = await tx.house_rules.version(int(data["version_id"]))
    if version is None:
        return []
    version_id = int(data["version_id"])
    if data.get("outcome") == ADOPTED:
        await tx.house_rules.adopt(version, now=now)
        await _recall_monthly(tx, data, now)
        number = await tx.house_rules.adopted_number(version)
        adopted = Message(
            parts=(
                Heading(text=texts.render("house_rules.adopted.heading", number=number)),
                Paragraph(
                    text=texts.render(
                        "house_rules.adopted.intro", count=len(data.get("agreed", ()))
                    )
                ),
                numbered(data["rules"]),
                Paragraph(text=texts.render("house_rules.adopted.ask")),
            ),
            buttons=(acknowledge_button(texts, version_id),),
        )
        return [_to_space(data, adopted)]

    await tx.house_rules.withdraw(version)
    objections = await tx.house_rules.objections(version_id)
    told = Message(
        parts=(
            Paragraph(
                text=texts.render(
                    "house_rules.objected.channel",
                    objector=user(str(data.get("objector", ""))),
                    proposer=user(str(data["proposer"]["name"])),
                )
            ),
        )
    )
    coach_parts: list[Part] = [
        Heading(text=texts.render("house_rules.objected.heading")),
        Paragraph(text=texts.render("house_rules.objected.coach")),
    ]
    for name, reason in objections:
        coach_parts.append(Paragraph(text=texts.render("house_rules.objected.by", name=user(name))))
        coach_parts.append(Quote(text=theirs(reason)))
    coach = Message(
        parts=tuple(coach_parts),
        buttons=(
            Button(
                label=texts.render("house_rules.buttons.amend"),
                action=AMEND,
                value=str(version_id),
                style="primary",
            ),
        ),
    )
    return [_to_space(data, told), Outbound(ToMember(int(data["proposer"]["id"])), coach)]


async def _recall_monthly(tx: Transaction, data: Mapping[str, Any], now: datetime) -> None:
    """The first adopted rules of a channel are recalled monthly from then on, by default on
    the first Monday at 09:00; ``spelregels herinnering`` changes or stops that."""
    space_id = int(data["space_id"])
    if await tx.rhythm.schedule_of_space(space_id=space_id, kind=RECALL_KIND) is not None:
        return
    await tx.rhythm.plan(
        space_id=space_id,
        kind=RECALL_KIND,
        weekday=RECALL_WEEKDAY,
        time_of_day=RECALL_TIME,
        timezone=str(data["tz"]),
        themes=[],
        active=True,
        created_by_id=int(data["proposer"]["id"]),
        now=now,
    )


DEFINITION = FlowDefinition(
    kind=KIND, version=1, initial=PROPOSED, states=STATES, start=start, finish=finish
)
