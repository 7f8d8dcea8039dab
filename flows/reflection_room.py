"""Around the reflection-round machine: opening a round, answering it, closing it.

The database work and every check happen here, before an event reaches the machine: only
coaches open a round, and only in a channel; only the members asked may answer, with scales
from 1 to 5; only the coach who opened it (or a coordinator) closes it early.

Who is asked: the members the coach picks in the dialog, or, when the coach picks nobody,
every member Hoedan knows on the channel's platform in this network (everyone who has used
Hoedan there: a command, a #hoedan message, a button), except the coach. Hoedan keeps no list
of who is in which channel, and does not ask the platform for one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from flows import reflection_templates as catalogue
from flows import roles
from flows.context import Context
from flows.errors import UserError
from flows.events import ActionEvent, FormSubmitted, FormValue, as_strings
from flows.messages import Choice, Form, Input, LongText, MultiMember, Option, Scale, ShortText
from flows.reflection import ANSWER_FORM, KIND, answer_key
from flows.reflection_templates import QuestionKind, Template
from flows.text import ours, theirs
from storage.enums import Role, SpaceKind
from storage.models import FlowInstance, Member, ReflectionRound
from storage.repositories.reflection import AnswerValue

START_FORM = "reflection.start"
NAMED = "named"
ANONYMOUS = "anonymous"
MIN_HOURS = 1
MAX_DAYS = 14
DEFAULT_DEADLINE = "2d"
MAX_MEMBERS = 200
"""More people than this is a survey; a coach can pick people instead."""
MAX_TEXT = 3000
MAX_QUESTION = 500

_DEADLINE = re.compile(
    r"(?P<amount>\d{1,3})\s*(?P<unit>u|uur|uren|h|hour|hours|d|dag|dagen|day|days)",
    re.IGNORECASE,
)


# Opening -------------------------------------------------------------------------------------


async def reflection_command(ctx: Context, args: str) -> None:
    """``reflectie [sjabloon]``: a coach opens the dialog for a new round in this channel."""
    roles.require(ctx.role, Role.COACH, key="reflection.refused.not_coach")
    if ctx.space.kind != SpaceKind.CHANNEL:
        raise UserError("reflection.refused.not_channel")
    chosen: Template | None = None
    if args.strip():
        chosen = _template(args)
    ctx.open_form(_start_form(ctx, chosen))


def _template(name: str) -> Template:
    found = catalogue.template(name)
    if found is None:
        names = ", ".join(t.id for t in catalogue.all_templates())
        raise UserError("reflection.refused.unknown_template", templates=names)
    return found


def _start_form(ctx: Context, chosen: Template | None) -> Form:
    texts = ctx.texts
    language = texts.language
    inputs: list[Input] = [
        Choice(
            name="template",
            label=texts.render("reflection.start.template"),
            options=tuple(
                Option(value=t.id, label=ours(t.name.get(language)))
                for t in catalogue.all_templates()
            ),
            initial=(chosen.id,) if chosen else (),
        ),
        Choice(
            name="privacy",
            label=texts.render("reflection.start.privacy"),
            options=(
                Option(value=ANONYMOUS, label=texts.render("reflection.start.anonymous")),
                Option(value=NAMED, label=texts.render("reflection.start.named")),
            ),
            initial=(ANONYMOUS,),
        ),
        ShortText(
            name="deadline",
            label=texts.render("reflection.start.deadline"),
            hint=texts.render("reflection.start.deadline_hint", days=MAX_DAYS),
            initial=DEFAULT_DEADLINE,
            max_length=20,
        ),
    ]
    if chosen is None or chosen.free:
        inputs.append(
            LongText(
                name="question",
                label=texts.render("reflection.start.question"),
                hint=texts.render("reflection.start.question_hint"),
                required=chosen is not None and chosen.free,
                max_length=MAX_QUESTION,
            )
        )
    inputs.append(
        MultiMember(
            name="who",
            label=texts.render("reflection.start.who"),
            hint=texts.render("reflection.start.who_hint"),
            required=False,
        )
    )
    return Form(
        form_id=START_FORM,
        title=texts.render("reflection.start.form_title"),
        submit_label=texts.render("reflection.start.form_submit"),
        inputs=tuple(inputs),
    )


def parse_deadline(text: str) -> timedelta:
    """``48u``, ``3 dagen``, ``2d``; between an hour and two weeks."""
    found = _DEADLINE.fullmatch(text.strip())
    if found is None:
        raise UserError("reflection.refused.deadline", days=MAX_DAYS)
    amount = int(found["amount"])
    unit = found["unit"].lower()
    span = timedelta(days=amount) if unit.startswith("d") else timedelta(hours=amount)
    if not timedelta(hours=MIN_HOURS) <= span <= timedelta(days=MAX_DAYS):
        raise UserError("reflection.refused.deadline", days=MAX_DAYS)
    return span


async def start_form(ctx: Context, values: dict[str, FormValue]) -> None:
    roles.require(ctx.role, Role.COACH, key="reflection.refused.not_coach")
    if ctx.space.kind != SpaceKind.CHANNEL:
        raise UserError("reflection.refused.not_channel")
    template = _template(_string(values.get("template")) or "?")
    anonymous = _string(values.get("privacy")) != NAMED
    span = parse_deadline(_string(values.get("deadline")) or DEFAULT_DEADLINE)
    own_question = (_string(values.get("question")) or "").strip()
    if template.free and not own_question:
        raise UserError("reflection.refused.no_question")
    if len(own_question) > MAX_QUESTION:
        raise UserError("reflection.refused.too_long", limit=MAX_QUESTION)
    members = await _who(ctx, values.get("who"))
    if not members:
        raise UserError("reflection.refused.nobody")
    if len(members) > MAX_MEMBERS:
        raise UserError("reflection.refused.too_many", limit=MAX_MEMBERS)

    language = ctx.texts.language
    questions: list[dict[str, Any]] = []
    for index, question in enumerate(template.questions):
        typed = template.free and index == 0
        questions.append(
            {
                "kind": question.kind.value,
                "label": own_question if typed else question.label.get(language),
                "typed": typed,
                "low": question.low.get(language) if question.low else None,
                "high": question.high.get(language) if question.high else None,
                "comment": question.comment,
                "required": question.required,
            }
        )
    closes_at = ctx.now + span
    row = await ctx.tx.reflection.create(
        space_id=ctx.space_id,
        coach_id=ctx.member_id,
        template=template.id,
        questions=questions,
        anonymous=anonymous,
        closes_at=closes_at,
    )
    round_id = _id(row.id)
    data: dict[str, Any] = {
        "round_id": round_id,
        "lang": language,
        "tz": ctx.config.timezone,
        "space_id": ctx.space_id,
        "space": ctx.space.name,
        "template": template.name.get(language),
        "intro": "" if template.free else template.intro.get(language),
        "anonymous": anonymous,
        "questions": questions,
        "coach": {"id": ctx.member_id, "name": ctx.member.display_name},
        "members": [{"id": _id(m.id), "name": m.display_name} for m in members],
        "opened_at": ctx.now.isoformat(),
        "remind_at": (ctx.now + span / 2).isoformat(),
        "closes_at": closes_at.isoformat(),
    }
    if anonymous:
        data["salt"] = secrets.token_hex(16)
    await ctx.flows.start(ctx.tx, kind=KIND, data=data, now=ctx.now, space_id=ctx.space_id)
    ctx.say(
        "reflection.start.started",
        count=len(members),
        template=template.name.get(language),
    )


async def _who(ctx: Context, value: FormValue) -> list[Member]:
    """The members picked in the dialog, or else the channel's members but the coach: everyone
    Hoedan has seen in this channel (who wrote to Hoedan, pressed a button or joined here)."""
    refs = as_strings(value)
    if not refs:
        known = await ctx.tx.spaces.members(ctx.space_id, limit=MAX_MEMBERS + 2)
        return [m for m in known if m.id != ctx.member_id]
    event = ctx.event
    names = event.member_names if isinstance(event, FormSubmitted) else {}
    found: dict[int, Member] = {}
    for ref in refs:
        member = await ctx.tx.members.by_external_id(platform=ctx.member.platform, external_id=ref)
        if member is None:
            member = await ctx.tx.members.get_or_create(
                network_id=ctx.network_id,
                platform=ctx.member.platform,
                external_id=ref,
                display_name=names.get(ref, ref),
            )
        found[_id(member.id)] = member
    return list(found.values())


# Answering -----------------------------------------------------------------------------------


async def _open_round(ctx: Context, value: str) -> tuple[ReflectionRound, FlowInstance]:
    row = await ctx.tx.reflection.get(int(value)) if value.isdigit() else None
    flow = await ctx.tx.reflection.flow_of(row, kind=KIND) if row is not None else None
    if row is None or flow is None:
        raise UserError("action.unknown")
    if flow.finished_at is not None or row.closed_at is not None:
        raise UserError("reflection.refused.closed")
    return row, flow


def _asked(ctx: Context, flow: FlowInstance) -> None:
    if all(int(person["id"]) != ctx.member_id for person in flow.data["members"]):
        raise UserError("reflection.refused.not_asked")


async def open_answer_form(ctx: Context, _action: str, value: str) -> None:
    row, flow = await _open_round(ctx, value)
    _asked(ctx, flow)
    ctx.open_form(_answer_form(ctx, row, flow))


def _answer_form(ctx: Context, row: ReflectionRound, flow: FlowInstance) -> Form:
    texts = ctx.texts
    inputs: list[Input] = []
    for index, question in enumerate(row.questions):
        label = theirs(question["label"]) if question.get("typed") else ours(question["label"])
        if question["kind"] == QuestionKind.SCALE.value:
            inputs.append(
                Scale(
                    name=f"q{index}",
                    label=label,
                    required=bool(question.get("required", True)),
                    low_label=ours(question["low"]) if question.get("low") else None,
                    high_label=ours(question["high"]) if question.get("high") else None,
                )
            )
            if question.get("comment"):
                inputs.append(
                    LongText(
                        name=f"q{index}_comment",
                        label=texts.render("reflection.answer.comment"),
                        required=False,
                        max_length=MAX_TEXT,
                    )
                )
        else:
            inputs.append(
                LongText(
                    name=f"q{index}",
                    label=label,
                    required=bool(question.get("required", True)),
                    max_length=MAX_TEXT,
                )
            )
    return Form(
        form_id=ANSWER_FORM,
        title=texts.render("reflection.answer.form_title"),
        submit_label=texts.render("reflection.answer.form_submit"),
        inputs=tuple(inputs),
        context=str(row.id),
    )


def _score(value: FormValue, label: str) -> int | None:
    if value is None or value == "":
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    if number is None or number not in range(1, 6):
        raise UserError("reflection.refused.scale", question=label)
    return number


def _text(value: FormValue) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > MAX_TEXT:
        raise UserError("reflection.refused.too_long", limit=MAX_TEXT)
    return text or None


def answers_of(row: ReflectionRound, values: dict[str, FormValue]) -> list[AnswerValue]:
    """The answers in a submitted answer form, checked: scales 1–5, required ones given."""
    found: list[AnswerValue] = []
    for index, question in enumerate(row.questions):
        label = str(question["label"])
        if question["kind"] == QuestionKind.SCALE.value:
            score = _score(values.get(f"q{index}"), label)
            comment = _text(values.get(f"q{index}_comment"))
            if score is None and question.get("required", True):
                raise UserError("reflection.refused.missing", question=label)
            if score is not None or comment is not None:
                found.append((index, comment, score))
        else:
            text = _text(values.get(f"q{index}"))
            if text is None and question.get("required", True):
                raise UserError("reflection.refused.missing", question=label)
            if text is not None:
                found.append((index, text, None))
    if not found:
        raise UserError("reflection.refused.empty")
    return found


async def answer_form(ctx: Context, values: dict[str, FormValue]) -> None:
    row, flow = await _open_round(ctx, ctx.form_context)
    _asked(ctx, flow)
    answers = answers_of(row, values)
    round_id = _id(row.id)
    first = await ctx.tx.reflection.participate(round_id=round_id, member_id=ctx.member_id)
    key = answer_key(flow.data, ctx.member_id)
    if row.anonymous:
        earlier = flow.data.get("answered", {}).get(key, [])
        rows = await ctx.tx.reflection.add_anonymous(
            round_id=round_id, answers=answers, replacing=earlier, stamped=row.created_at
        )
    else:
        await ctx.tx.reflection.replace_named(
            round_id=round_id, member_id=ctx.member_id, answers=answers
        )
        rows = []
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    counted = replace(event, values={"key": key, "rows": [str(r) for r in rows]})
    await ctx.flows.feed(ctx.tx, flow_id=_id(flow.id), event=counted, now=ctx.now)
    privacy = "anonymous" if row.anonymous else "named"
    ctx.say(f"reflection.answer.{'saved' if first else 'replaced'}_{privacy}")


# Closing -------------------------------------------------------------------------------------


async def close_button(ctx: Context, _action: str, value: str) -> None:
    row, flow = await _open_round(ctx, value)
    if row.coach_id != ctx.member_id and not roles.has_role(ctx.role, Role.COORDINATOR):
        raise UserError("reflection.refused.not_your_round")
    event = ctx.event
    assert isinstance(event, ActionEvent)
    await ctx.flows.feed(ctx.tx, flow_id=_id(flow.id), event=event, now=ctx.now)


def _string(value: FormValue) -> str | None:
    if isinstance(value, list):
        return value[0] if value else None
    return value if isinstance(value, str) else None


def _id(value: int | None) -> int:
    assert value is not None
    return value
