"""The #hoedan exchange: asking, listing and finding questions."""

from __future__ import annotations

import re
from datetime import timedelta

from flows.context import Context
from flows.errors import UserError
from flows.events import FormValue
from flows.messages import Form, Heading, ItemList, LongText, Message, Note, Paragraph
from flows.text import RichText, ours, shorten, theirs
from flows.texts import user
from storage.repositories.questions import QuestionView

MAX_QUESTION_CHARS = 4000
"""Long enough for context and a link, short enough to read in a chat and fit a Slack section."""

DUPLICATE_WINDOW = timedelta(days=1)
LIST_LIMIT = 15
SEARCH_LIMIT = 10
PREVIEW_CHARS = 140

HASHTAG = re.compile(r"(?<![\w#/@])#hoedan\b", re.IGNORECASE)

OPEN_FORM = "question.open_form"
"""The action behind "Stel een #hoedan-vraag" (a button, or Slack's global shortcut)."""
FORM = "question.form"
SAVE_MESSAGE = "question.save_message"
"""The action behind "Bewaar als #hoedan" on an existing message."""


def contains_hashtag(text: str) -> bool:
    return HASHTAG.search(text) is not None


def without_hashtag(text: str) -> str:
    return " ".join(HASHTAG.sub(" ", text).split())


async def ask(
    ctx: Context, text: str, *, source_ref: str | None = None, thread_ref: str | None = None
) -> None:
    """Store a question and confirm its number; in a thread when it came from a channel message."""
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
    region = await ctx.tx.regions.get(ctx.member.region_id) if ctx.member.region_id else None
    parts: list[Paragraph | Note] = [
        Paragraph(text=ctx.texts.render("question.stored", number=question.number))
    ]
    if region is None:
        parts.append(Note(text=ctx.texts.render("question.no_region_hint")))
    body = Message(parts=tuple(parts))
    if thread_ref is not None:
        ctx.post(body, thread_ref=thread_ref)
    else:
        ctx.reply(body)


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


def _line(view: QuestionView) -> RichText:
    who = view.asker_name if view.region_name is None else f"{view.asker_name}, {view.region_name}"
    return (
        ours(f"*#{view.question.number}*  ")
        + theirs(shorten(view.question.text, PREVIEW_CHARS))
        + ours("  — ")
        + theirs(who)
    )


async def list_open(ctx: Context) -> None:
    views = await ctx.tx.questions.open_questions(network_id=ctx.network_id, limit=LIST_LIMIT)
    if not views:
        ctx.say("questions.none_open")
        return
    total = await ctx.tx.questions.count_open(network_id=ctx.network_id)
    parts: list[Heading | ItemList | Note] = [
        Heading(text=ctx.texts.render("questions.heading", count=total)),
        ItemList(items=tuple(_line(view) for view in views)),
    ]
    if total > len(views):
        parts.append(Note(text=ctx.texts.render("questions.more", count=total - len(views))))
    ctx.reply(Message(parts=tuple(parts)))


async def search(ctx: Context, words: str) -> None:
    query = words.strip()
    if not query:
        raise UserError("search.empty")
    views = await ctx.tx.questions.search(
        network_id=ctx.network_id, query=query, limit=SEARCH_LIMIT
    )
    if not views:
        ctx.say("search.none", query=user(shorten(query, 100)))
        return
    ctx.reply(
        Message(
            parts=(
                Heading(
                    text=ctx.texts.render(
                        "search.heading", count=len(views), query=user(shorten(query, 100))
                    )
                ),
                ItemList(items=tuple(_line(view) for view in views)),
            )
        )
    )
