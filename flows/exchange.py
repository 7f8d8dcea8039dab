"""The #hoedan exchange, asking side: capturing a question, its themes, and what it resembles.

A new question is stored with the asker's region and suggested themes, indexed for matching,
and answered with its number, up to three similar earlier questions (answered ones from other
regions first), and where possible an invitation to members who answered similar questions.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flows import invitations, themes
from flows.context import Context
from flows.errors import UserError
from flows.events import FormValue, as_strings
from flows.messages import (
    Button,
    Choice,
    Form,
    ItemList,
    LongText,
    Message,
    Note,
    Paragraph,
)
from flows.question_refs import answer_button, number_from, show_button, subject
from flows.text import RichText, join, ours, shorten, theirs
from flows.texts import user
from storage.enums import QuestionStatus
from storage.models import Question
from storage.repositories.matching import Match

MAX_QUESTION_CHARS = 4000
"""Long enough for context and a link, short enough to read in a chat and fit a Slack section."""

DUPLICATE_WINDOW = timedelta(days=1)
PREVIEW_CHARS = 140
SIMILAR_SHOWN = 3

HASHTAG = re.compile(r"(?<![\w#/@])#hoedan\b", re.IGNORECASE)

OPEN_FORM = "question.open_form"
"""The action behind "Stel een #hoedan-vraag" (a button, or Slack's global shortcut)."""
FORM = "question.form"
SAVE_MESSAGE = "question.save_message"
"""The action behind "Bewaar als #hoedan" on an existing message."""
THEMES_FORM_OPEN = "question.themes"
THEMES_FORM = "question.themes_form"


def contains_hashtag(text: str) -> bool:
    return HASHTAG.search(text) is not None


def without_hashtag(text: str) -> str:
    return " ".join(HASHTAG.sub(" ", text).split())


async def ask(
    ctx: Context, text: str, *, source_ref: str | None = None, thread_ref: str | None = None
) -> None:
    """Store a question and confirm it; in a thread when it came from a channel message."""
    question_text = text.strip()
    if not question_text:
        raise UserError("question.empty")
    if len(question_text) > MAX_QUESTION_CHARS:
        raise UserError("question.too_long", length=len(question_text), limit=MAX_QUESTION_CHARS)
    earlier = await ctx.tx.questions.same_recent(
        asker_id=ctx.member_id, text=question_text, since=ctx.now - DUPLICATE_WINDOW
    )
    if earlier is not None:
        ctx.say("question.duplicate", number=earlier.number)
        return
    question = await ctx.tx.questions.add(
        network_id=ctx.network_id,
        asker_id=ctx.member_id,
        text=question_text,
        region_id=ctx.member.region_id,
        space_id=ctx.space_id,
        source_ref=source_ref,
        thread_ref=thread_ref,
        created_at=ctx.now,
    )
    assert question.id is not None
    suggested = themes.suggest(question_text)
    await ctx.tx.questions.set_themes(question.id, suggested)
    await ctx.tx.matches.index(question.id)
    similar = await ctx.tx.matches.similar(
        network_id=ctx.network_id,
        text=question_text,
        limit=SIMILAR_SHOWN,
        exclude_id=question.id,
        region_id=ctx.member.region_id,
    )
    helpers = await invitations.invite_helpers(ctx, question, similar)
    confirmation = await _confirmation(ctx, question, suggested, similar, helpers)
    if thread_ref is not None:
        ctx.post(confirmation, thread_ref=thread_ref, subject=subject(question))
    else:
        ctx.reply(confirmation)


async def _confirmation(
    ctx: Context,
    question: Question,
    theme_ids: tuple[str, ...],
    similar: list[Match],
    helper_regions: list[str],
) -> Message:
    parts: list[Paragraph | Note | ItemList] = [
        Paragraph(text=ctx.texts.render("question.stored", number=question.number)),
        Note(text=theme_line(ctx, theme_ids)),
    ]
    if ctx.member.region_id is None:
        parts.append(Note(text=ctx.texts.render("question.no_region_hint")))
    if similar:
        parts.append(Paragraph(text=ctx.texts.render("question.similar", count=len(similar))))
        parts.append(ItemList(items=tuple(match_line(ctx, match) for match in similar)))
    if helper_regions:
        parts.append(
            Note(
                text=ctx.texts.render(
                    "question.invited",
                    regions=user(", ".join(helper_regions)),
                    count=len(helper_regions),
                )
            )
        )
    buttons = (
        [answer_button(ctx, question)] if ctx.event.place.thread_ref or question.thread_ref else []
    )
    buttons += [show_button(ctx, match.question.number) for match in similar]
    buttons.append(
        Button(
            label=ctx.texts.render("question.themes_button"),
            action=THEMES_FORM_OPEN,
            value=str(question.number),
        )
    )
    return Message(parts=tuple(parts), buttons=tuple(buttons))


def theme_line(ctx: Context, theme_ids: tuple[str, ...]) -> RichText:
    if not theme_ids:
        return ctx.texts.render("question.no_themes")
    names = ", ".join(themes.label(theme, ctx.texts.language) for theme in theme_ids)
    return ctx.texts.render("question.themes", themes=names)


def match_line(ctx: Context, match: Match) -> RichText:
    where = match.region_name or ctx.texts.plain("question.unknown_region")
    state = ctx.texts.plain("question.answered" if match.answered else "question.unanswered")
    return join(
        (
            ours(f"*#{match.question.number}*  "),
            theirs(shorten(match.question.text, PREVIEW_CHARS)),
            ours("  — "),
            theirs(where),
            ours(f", {state}"),
        )
    )


async def open_question_form(ctx: Context, _action: str = "", _value: str = "") -> None:
    ctx.open_form(
        Form(
            form_id=FORM,
            title=ctx.texts.render("question.form_title"),
            submit_label=ctx.texts.render("question.form_submit"),
            inputs=(
                LongText(
                    name="question",
                    label=ctx.texts.render("question.form_label"),
                    hint=ctx.texts.render("question.form_hint"),
                    max_length=MAX_QUESTION_CHARS,
                ),
            ),
        )
    )


async def question_form(ctx: Context, values: dict[str, FormValue]) -> None:
    text = values.get("question")
    await ask(ctx, text if isinstance(text, str) else "")


async def save_message(ctx: Context, message_ref: str | None, text: str) -> None:
    """Keep an existing channel message as a question, confirmed in that message's thread."""
    if message_ref is None:
        raise UserError("question.nothing_to_save")
    await ask(
        ctx,
        without_hashtag(text),
        source_ref=message_ref,
        thread_ref=ctx.event.place.thread_ref or message_ref,
    )


async def find(ctx: Context, value: str) -> Question:
    """The question a member refers to by number; withdrawn ones do not exist for them."""
    number = number_from(value)
    if number is None:
        raise UserError("question.which")
    question = await ctx.tx.questions.by_number(network_id=ctx.network_id, number=number)
    if question is None or question.status == QuestionStatus.WITHDRAWN:
        raise UserError("question.unknown", number=number)
    return question


async def own_question(ctx: Context, value: str) -> Question:
    """Like :func:`find`, for what only the asker may do."""
    question = await find(ctx, value)
    if question.asker_id != ctx.member_id:
        raise UserError("question.not_yours", number=question.number)
    return question


async def open_themes_form(ctx: Context, _action: str, value: str) -> None:
    question = await own_question(ctx, value)
    assert question.id is not None
    current = await ctx.tx.questions.themes(question.id)
    ctx.open_form(
        Form(
            form_id=THEMES_FORM,
            title=ctx.texts.render("question.themes_form_title"),
            submit_label=ctx.texts.render("question.themes_form_submit"),
            context=str(question.number),
            inputs=(
                Choice(
                    name="themes",
                    label=ctx.texts.render("question.themes_form_label", number=question.number),
                    options=themes.options(ctx.texts.language),
                    multiple=True,
                    initial=current,
                    required=False,
                ),
            ),
        )
    )


async def themes_form(ctx: Context, values: dict[str, FormValue]) -> None:
    question = await own_question(ctx, ctx.form_context)
    assert question.id is not None
    picked = themes.known(as_strings(values.get("themes")))
    await ctx.tx.questions.set_themes(question.id, picked)
    ctx.reply(
        Message(
            parts=(
                Paragraph(text=ctx.texts.render("question.themes_changed", number=question.number)),
                Note(text=theme_line(ctx, picked)),
            )
        )
    )
