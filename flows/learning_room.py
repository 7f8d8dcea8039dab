"""Weekly learning prompts (leervragen) in a channel: the slot, the posts and the answers.

A channel's weekly slot is a :class:`~storage.models.Schedule` row (kind ``learning_prompt``:
weekday, HH:MM and the time zone it is meant in). The slot's planned times are computed with
APScheduler's :class:`CronTrigger`, not by hand, so daylight saving time is its problem.

Firing happens in :mod:`flows.schedules` (with the grace period for downtime and the
idempotency key per planned time); this module posts the prompt itself (:func:`post_prompt`).
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from flows import learning_prompts, roles, themes
from flows.config import FlowConfig
from flows.context import Context
from flows.errors import UserError
from flows.events import FormValue, MessageEvent, as_strings
from flows.intervision_methods import Localized
from flows.learning_prompts import Prompt, PromptLibrary
from flows.messages import (
    Button,
    Choice,
    Form,
    Heading,
    LongText,
    Message,
    Note,
    Paragraph,
)
from flows.outbound import Outbound, ToSpace
from flows.schedules import next_fire_time, skipped_kind
from flows.text import RichText, theirs
from flows.texts import Texts, texts_for, user
from storage.enums import DeliveryKind, Role, SpaceKind
from storage.models import LearningPrompt, Post, Schedule, Space
from storage.store import Transaction

log = logging.getLogger(__name__)

KIND = "learning_prompt"
SKIPPED = skipped_kind(KIND)
SUBJECT = "learning_prompt:"
ANSWER_FORM_OPEN = "learning.answer_open"
ANSWER_FORM = "learning.answer"
THEMES_FORM = "learning.themes"
OWN_FORM = "learning.own"
OWN_SOURCE = "eigen"
DEFAULT_WEEKDAY = 1
DEFAULT_TIME = "09:00"
MAX_OWN_TEXT = 500
MAX_ANSWER = 3000
EXAMPLE = "leervraag planning dinsdag 09:00"

DAYS: dict[str, int] = {
    **dict.fromkeys(("maandag", "ma", "monday", "mon"), 0),
    **dict.fromkeys(("dinsdag", "di", "tuesday", "tue"), 1),
    **dict.fromkeys(("woensdag", "wo", "wednesday", "wed"), 2),
    **dict.fromkeys(("donderdag", "do", "thursday", "thu"), 3),
    **dict.fromkeys(("vrijdag", "vr", "friday", "fri"), 4),
    **dict.fromkeys(("zaterdag", "za", "saturday", "sat"), 5),
    **dict.fromkeys(("zondag", "zo", "sunday", "sun"), 6),
}
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})")


# Posting -----------------------------------------------------------------------------------


async def post_prompt(
    tx: Transaction, config: FlowConfig, schedule: Schedule, planned: datetime
) -> int:
    """The weekly slot's prompt for one planned time (``flows.schedules`` calls it)."""
    assert schedule.id is not None
    space = await tx.spaces.get(schedule.space_id)
    assert space is not None
    library, own = await _library(tx, space.network_id)
    chosen = library.next_prompt(
        schedule.themes, await tx.rhythm.posted_keys(space_id=schedule.space_id, kind=KIND)
    )
    post = await tx.rhythm.record_post(
        space_id=schedule.space_id,
        kind=KIND,
        schedule_id=schedule.id,
        prompt_key=chosen.id,
        planned_for=planned,
    )
    if post is None:
        return 0
    message = _post_message(texts_for(config.language), chosen, own, space, _id(post))
    return int(
        await tx.outbox.enqueue(
            idempotency_key=f"schedule:{schedule.id}:{planned.isoformat()}",
            platform=space.platform,
            kind=DeliveryKind.POST,
            payload=message.model_dump(mode="json"),
            channel_ref=space.external_id,
            subject=f"{SUBJECT}{_id(post)}",
        )
    )


# Rotation and the message ------------------------------------------------------------------------


async def _library(tx: Transaction, network_id: int) -> tuple[PromptLibrary, dict[str, str]]:
    """The shipped library plus the network's own prompts (after it), and their texts."""
    shipped = learning_prompts.library()
    rows = await tx.rhythm.prompts(network_id)
    own = {row.key: row.text for row in rows}
    extra = tuple(_as_prompt(row) for row in rows)
    return PromptLibrary(sources=shipped.sources, prompts=shipped.prompts + extra), own


def _as_prompt(row: LearningPrompt) -> Prompt:
    # The text is not a template: it is a member's text, shown as typed (see _post_message).
    return Prompt(
        id=row.key,
        themes=themes.known(list(row.themes)),
        source=OWN_SOURCE,
        text=Localized(nl="", en=""),
        follow_up=None,
    )


def _coalition(space: Space) -> str:
    return space.name.lstrip("#") or space.external_id


def _post_message(
    texts: Texts, prompt: Prompt, own: dict[str, str], space: Space, post_id: int
) -> Message:
    coalition = _coalition(space)
    language = texts.language
    text: RichText
    follow_up: RichText | None = None
    if prompt.id in own:
        text = theirs(own[prompt.id])
    else:
        text = learning_prompts.render_rich(prompt, language, coalition)
        follow_up = learning_prompts.render_follow_up_rich(prompt, language, coalition)
    parts: list[Heading | Paragraph | Note] = [
        Heading(text=texts.render("learning.post.heading")),
        Paragraph(text=text),
    ]
    if follow_up is not None:
        parts.append(Paragraph(text=texts.render("learning.post.follow_up") + follow_up))
    parts.append(Note(text=texts.render("learning.post.how")))
    return Message(
        parts=tuple(parts),
        buttons=(
            Button(
                label=texts.render("learning.post.answer_button"),
                action=ANSWER_FORM_OPEN,
                value=str(post_id),
                style="primary",
            ),
        ),
    )


# Commands --------------------------------------------------------------------------------------


async def learning_command(ctx: Context, args: str) -> None:
    """``leervraag [planning <dag> <HH:MM> | uit | themas | eigen]``."""
    words = args.split()
    sub = words[0].lower() if words else ""
    if sub in {"planning", "plan", "schedule"} and len(words) == 1:
        await _show_planning(ctx)
        return
    roles.require(ctx.role, Role.COACH, key="learning.refused.not_coach")
    if sub == "":
        _need_channel(ctx)
        await _post_now(ctx)
    elif sub in {"planning", "plan", "schedule"}:
        _need_channel(ctx)
        await _plan(ctx, words[1:])
    elif sub in {"uit", "off", "stop"}:
        await _stop(ctx)
    elif sub in {"themas", "thema's", "thema", "themes"}:
        _need_channel(ctx)
        await _open_themes_form(ctx)
    elif sub in {"eigen", "own", "toevoegen"}:
        ctx.open_form(_own_form(ctx))
    else:
        raise UserError("learning.refused.unknown", word=user(words[0]))


def _need_channel(ctx: Context) -> None:
    if ctx.space.kind != SpaceKind.CHANNEL:
        raise UserError("learning.refused.not_channel")


async def _post_now(ctx: Context) -> None:
    library, own = await _library(ctx.tx, ctx.network_id)
    schedule = await ctx.tx.rhythm.schedule_of_space(space_id=ctx.space_id, kind=KIND)
    chosen = library.next_prompt(
        schedule.themes if schedule is not None else [],
        await ctx.tx.rhythm.posted_keys(space_id=ctx.space_id, kind=KIND),
    )
    post = await ctx.tx.rhythm.record_post(
        space_id=ctx.space_id, kind=KIND, schedule_id=None, prompt_key=chosen.id, planned_for=None
    )
    assert post is not None
    message = _post_message(texts_for(ctx.config.language), chosen, own, ctx.space, _id(post))
    ctx.outbound.append(Outbound(ToSpace(ctx.space_id), message, f"{SUBJECT}{_id(post)}"))
    ctx.say("learning.posted")


def parse_slot(words: list[str], *, example: str = EXAMPLE) -> tuple[int, str]:
    """``<dag> <HH:MM>`` as (weekday, "HH:MM"); a :class:`UserError` showing ``example`` if
    not."""
    if len(words) != 2:
        raise UserError("learning.refused.slot", example=example)
    day, moment = words
    weekday = DAYS.get(day.lower())
    if weekday is None:
        raise UserError("learning.refused.day", day=user(day), example=example)
    match = _TIME.fullmatch(moment)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise UserError("learning.refused.time", time=user(moment), example=example)
    return weekday, f"{int(match[1]):02d}:{match[2]}"


async def _plan(ctx: Context, words: list[str]) -> None:
    weekday, time_of_day = parse_slot(words)
    earlier = await ctx.tx.rhythm.schedule_of_space(space_id=ctx.space_id, kind=KIND)
    schedule = await ctx.tx.rhythm.plan(
        space_id=ctx.space_id,
        kind=KIND,
        weekday=weekday,
        time_of_day=time_of_day,
        timezone=ctx.config.timezone,
        themes=list(earlier.themes) if earlier is not None else [],
        active=True,
        created_by_id=ctx.member_id,
        now=ctx.now,
    )
    ctx.reply(_planning_message(ctx, schedule, key="learning.planned"))


def _planning_message(ctx: Context, schedule: Schedule, *, key: str) -> Message:
    upcoming = next_fire_time(schedule, ctx.now).astimezone(ZoneInfo(schedule.timezone))
    return Message(
        parts=(
            Paragraph(
                text=ctx.texts.render(
                    key,
                    day=ctx.texts.plain(f"learning.day.{schedule.weekday}"),
                    time=schedule.time_of_day,
                    timezone=schedule.timezone,
                    next=upcoming.strftime("%d-%m-%Y %H:%M"),
                )
            ),
        )
    )


async def _show_planning(ctx: Context) -> None:
    schedule = await ctx.tx.rhythm.schedule_of_space(space_id=ctx.space_id, kind=KIND)
    if schedule is None or not schedule.active:
        ctx.say("learning.not_planned", example=EXAMPLE)
        return
    ctx.reply(_planning_message(ctx, schedule, key="learning.planning"))


async def _stop(ctx: Context) -> None:
    schedule = await ctx.tx.rhythm.schedule_of_space(space_id=ctx.space_id, kind=KIND)
    if schedule is None or not schedule.active:
        ctx.say("learning.not_planned", example=EXAMPLE)
        return
    await ctx.tx.rhythm.stop(schedule)
    ctx.say("learning.stopped")


# Themes and own prompts ----------------------------------------------------------------------


def _chosen(value: FormValue) -> list[str]:
    return list(themes.known(as_strings(value)))


async def _open_themes_form(ctx: Context) -> None:
    schedule = await ctx.tx.rhythm.schedule_of_space(space_id=ctx.space_id, kind=KIND)
    ctx.open_form(
        Form(
            form_id=THEMES_FORM,
            title=ctx.texts.render("learning.themes.title"),
            submit_label=ctx.texts.render("learning.themes.submit"),
            inputs=(
                Choice(
                    name="themes",
                    label=ctx.texts.render("learning.themes.label"),
                    hint=ctx.texts.render("learning.themes.hint"),
                    options=themes.options(ctx.texts.language),
                    multiple=True,
                    required=False,
                    initial=tuple(schedule.themes) if schedule is not None else (),
                ),
            ),
        )
    )


async def themes_form(ctx: Context, values: dict[str, FormValue]) -> None:
    roles.require(ctx.role, Role.COACH, key="learning.refused.not_coach")
    _need_channel(ctx)
    chosen = _chosen(values.get("themes"))
    schedule = await ctx.tx.rhythm.schedule_of_space(space_id=ctx.space_id, kind=KIND)
    if schedule is None:
        schedule = await ctx.tx.rhythm.plan(
            space_id=ctx.space_id,
            kind=KIND,
            weekday=DEFAULT_WEEKDAY,
            time_of_day=DEFAULT_TIME,
            timezone=ctx.config.timezone,
            themes=chosen,
            active=False,
            created_by_id=ctx.member_id,
            now=ctx.now,
        )
    else:
        await ctx.tx.rhythm.set_themes(schedule, chosen)
    if not chosen:
        ctx.say("learning.themes.all")
        return
    names = ", ".join(themes.label(theme, ctx.texts.language) for theme in chosen)
    ctx.say("learning.themes.saved", themes=names)


def _own_form(ctx: Context) -> Form:
    return Form(
        form_id=OWN_FORM,
        title=ctx.texts.render("learning.own.title"),
        submit_label=ctx.texts.render("learning.own.submit"),
        inputs=(
            LongText(
                name="text",
                label=ctx.texts.render("learning.own.text"),
                hint=ctx.texts.render("learning.own.text_hint"),
                max_length=MAX_OWN_TEXT,
            ),
            Choice(
                name="themes",
                label=ctx.texts.render("learning.own.themes"),
                options=themes.options(ctx.texts.language),
                multiple=True,
            ),
        ),
    )


async def own_form(ctx: Context, values: dict[str, FormValue]) -> None:
    roles.require(ctx.role, Role.COACH, key="learning.refused.not_coach")
    raw = values.get("text")
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise UserError("learning.own.empty")
    if len(text) > MAX_OWN_TEXT:
        raise UserError("learning.own.too_long", limit=MAX_OWN_TEXT)
    chosen = _chosen(values.get("themes"))
    if not 1 <= len(chosen) <= learning_prompts.MAX_THEMES:
        raise UserError("learning.own.themes_needed", limit=learning_prompts.MAX_THEMES)
    await ctx.tx.rhythm.add_prompt(
        network_id=ctx.network_id,
        key=f"{OWN_SOURCE}_{ctx.member_id}_{time.time_ns()}",
        themes=chosen,
        text=text,
        author_id=ctx.member_id,
        now=ctx.now,
    )
    ctx.say("learning.own.saved")


# Answers ---------------------------------------------------------------------------------------


async def _post(ctx: Context, value: str) -> Post:
    post = await ctx.tx.rhythm.post(int(value)) if value.isdigit() else None
    if post is None or post.kind != KIND:
        raise UserError("learning.refused.no_post")
    return post


async def open_answer_form(ctx: Context, _action: str, value: str) -> None:
    post = await _post(ctx, value)
    ctx.open_form(
        Form(
            form_id=ANSWER_FORM,
            title=ctx.texts.render("learning.answer.title"),
            submit_label=ctx.texts.render("learning.answer.submit"),
            inputs=(
                LongText(
                    name="answer",
                    label=ctx.texts.render("learning.answer.label"),
                    max_length=MAX_ANSWER,
                ),
            ),
            context=str(_id(post)),
        )
    )


async def answer_form(ctx: Context, values: dict[str, FormValue]) -> None:
    post = await _post(ctx, ctx.form_context)
    raw = values.get("answer")
    await _store_answer(ctx, post, raw if isinstance(raw, str) else "")


async def _store_answer(ctx: Context, post: Post, raw: str) -> None:
    text = raw.strip()
    if not text:
        raise UserError("learning.answer.empty")
    if len(text) > MAX_ANSWER:
        raise UserError("learning.answer.too_long", limit=MAX_ANSWER)
    replaced = await ctx.tx.rhythm.answer(
        post_id=_id(post), member_id=ctx.member_id, text=text, now=ctx.now
    )
    ctx.say("learning.answer.replaced" if replaced else "learning.answer.saved")


async def thread_answer(ctx: Context, event: MessageEvent) -> bool:
    """A reply in the thread of a learning prompt's post is an answer to it; True if it was."""
    place = event.place
    if place.thread_ref is None:
        return False
    about = await ctx.tx.outbox.subject_of_place(
        platform=place.platform,
        channel_ref=place.external_id,
        thread_ref=place.thread_ref,
        prefix=SUBJECT,
    )
    if about is None:
        return False
    number = about[len(SUBJECT) :]
    post = await ctx.tx.rhythm.post(int(number)) if number.isdigit() else None
    if post is None or not event.text.strip():
        return post is not None
    await _store_answer(ctx, post, event.text)
    return True


def _id(row: Post) -> int:
    assert row.id is not None
    return row.id
