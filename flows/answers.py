"""The #hoedan exchange, answering side: #zodan answers, "dit helpt", and the #zodus.

An answer arrives by command (``zodan 12 …``), as a reply with #zodan in the question's thread,
or through the "Ik heb een #zodan" dialog. It records who answered from which region; the asker
hears about it by DM, can say it helped (which closes the question) and can add a #zodus: what
they did with it.
"""

from __future__ import annotations

import re

from flows import exchange
from flows.context import Context
from flows.errors import UserError
from flows.events import FormValue, MessageEvent
from flows.messages import Button, Form, LongText, Message, Note, Paragraph, Quote, ShortText
from flows.question_refs import number_from, number_from_subject, show_button
from flows.text import shorten, theirs
from flows.texts import user
from storage.enums import QuestionStatus
from storage.models import Answer, Question

MAX_ANSWER_CHARS = 4000
MAX_LINK_CHARS = 2000
FORM = "answer.form"
HELPFUL = "answer.helpful"
OUTCOME_FORM_OPEN = "outcome.open_form"
OUTCOME_FORM = "outcome.form"

ZODAN = re.compile(r"(?<![\w#/@])#zodan\b", re.IGNORECASE)
_LINK = re.compile(r"^https?://\S+$", re.IGNORECASE)


def contains_zodan(text: str) -> bool:
    return ZODAN.search(text) is not None


def without_zodan(text: str) -> str:
    return " ".join(ZODAN.sub(" ", text).split())


async def answer_command(ctx: Context, args: str) -> None:
    """``zodan <nr> <antwoord>``."""
    first, _, rest = args.strip().partition(" ")
    if not first:
        raise UserError("answer.usage")
    if number_from(first) is None:
        raise UserError("answer.no_number", word=user(shorten(first, 40)))
    question = await exchange.find(ctx, first)
    await answer(ctx, question, rest)


async def thread_reply(ctx: Context, event: MessageEvent) -> None:
    """A message with #zodan: an answer to the question whose thread it is in."""
    question = await _question_of_thread(ctx, event)
    if question is None:
        raise UserError("answer.where")
    await answer(ctx, question, without_zodan(event.text), source_ref=event.message_ref)


async def _question_of_thread(ctx: Context, event: MessageEvent) -> Question | None:
    thread = event.place.thread_ref
    if thread is None:
        return None
    question = await ctx.tx.questions.in_thread(space_id=ctx.space_id, thread_ref=thread)
    if question is not None:
        return question
    about = await ctx.tx.outbox.subject_of_post(
        platform=event.place.platform, channel_ref=event.place.external_id, message_ref=thread
    )
    number = number_from_subject(about)
    if number is None:
        return None
    return await ctx.tx.questions.by_number(network_id=ctx.network_id, number=number)


async def open_form(ctx: Context, _action: str, value: str) -> None:
    question = await _answerable(ctx, await exchange.find(ctx, value))
    ctx.open_form(
        Form(
            form_id=FORM,
            title=ctx.texts.render("answer.form_title"),
            submit_label=ctx.texts.render("answer.form_submit"),
            context=str(question.number),
            inputs=(
                LongText(
                    name="answer",
                    label=ctx.texts.render("answer.form_label", number=question.number),
                    hint=theirs(shorten(question.text, 150)),
                    max_length=MAX_ANSWER_CHARS,
                ),
                ShortText(
                    name="link",
                    label=ctx.texts.render("answer.form_link"),
                    hint=ctx.texts.render("answer.form_link_hint"),
                    max_length=MAX_LINK_CHARS,
                    required=False,
                ),
            ),
        )
    )


async def answer_form(ctx: Context, values: dict[str, FormValue]) -> None:
    question = await exchange.find(ctx, ctx.form_context)
    text, link = values.get("answer"), values.get("link")
    await answer(
        ctx,
        question,
        text if isinstance(text, str) else "",
        link=link.strip() if isinstance(link, str) and link.strip() else None,
    )


async def _answerable(ctx: Context, question: Question) -> Question:
    if question.status == QuestionStatus.CLOSED:
        raise UserError("answer.closed", number=question.number)
    return question


async def answer(
    ctx: Context,
    question: Question,
    text: str,
    *,
    link: str | None = None,
    source_ref: str | None = None,
) -> None:
    """Store a #zodan, tell the answerer it arrived and the asker what it says."""
    body = text.strip()
    if not body:
        raise UserError("answer.empty", number=question.number)
    if len(body) > MAX_ANSWER_CHARS:
        raise UserError("answer.too_long", length=len(body), limit=MAX_ANSWER_CHARS)
    if link is not None and (len(link) > MAX_LINK_CHARS or not _LINK.match(link)):
        raise UserError("answer.bad_link")
    await _answerable(ctx, question)
    assert question.id is not None
    if await ctx.tx.answers.same_recent(
        question_id=question.id, answerer_id=ctx.member_id, text=body
    ):
        ctx.say("answer.duplicate", number=question.number)
        return
    stored = await ctx.tx.answers.add(
        question_id=question.id,
        answerer_id=ctx.member_id,
        region_id=ctx.member.region_id,
        text=body,
        link=link,
        source_ref=source_ref,
        created_at=ctx.now,
    )
    if question.status == QuestionStatus.OPEN:
        question.status = QuestionStatus.ANSWERED
    question.updated_at = ctx.now
    await ctx.tx.matches.index(question.id)
    if question.asker_id == ctx.member_id:
        ctx.say("answer.stored_own", number=question.number)
        return
    ctx.say("answer.stored", number=question.number)
    await _tell_asker(ctx, question, stored)


async def _tell_asker(ctx: Context, question: Question, answer: Answer) -> None:
    asker = await ctx.tx.members.get(question.asker_id)
    if asker is None or asker.erased_at is not None:
        return
    region = await ctx.tx.regions.get(answer.region_id) if answer.region_id else None
    where = region.name if region else ctx.texts.plain("question.unknown_region")
    parts: list[Paragraph | Quote | Note] = [
        Paragraph(
            text=ctx.texts.render(
                "answer.to_asker",
                number=question.number,
                name=user(ctx.member.display_name),
                region=user(where),
            )
        ),
        Quote(text=theirs(answer.text)),
    ]
    if answer.link:
        parts.append(Note(text=ctx.texts.render("answer.link", link=user(answer.link))))
    parts.append(Note(text=ctx.texts.render("answer.to_asker_next")))
    ctx.direct(
        asker,
        Message(
            parts=tuple(parts),
            buttons=(
                Button(
                    label=ctx.texts.render("answer.helpful_button"),
                    action=HELPFUL,
                    value=str(answer.id),
                    style="primary",
                ),
                Button(
                    label=ctx.texts.render("outcome.button"),
                    action=OUTCOME_FORM_OPEN,
                    value=str(question.number),
                ),
                show_button(ctx, question.number),
            ),
        ),
    )


async def helpful(ctx: Context, _action: str, value: str) -> None:
    """The asker says an answer helped: it is marked, and the question is closed."""
    answer_id = number_from(value)
    stored = await ctx.tx.answers.get(answer_id) if answer_id is not None else None
    question = await ctx.tx.questions.get(stored.question_id) if stored is not None else None
    if stored is None or question is None or question.status == QuestionStatus.WITHDRAWN:
        raise UserError("action.unknown")
    if question.asker_id != ctx.member_id:
        raise UserError("question.not_yours", number=question.number)
    already_thanked = stored.helpful
    stored.helpful = True
    if question.status != QuestionStatus.CLOSED:
        question.status = QuestionStatus.CLOSED
        question.closed_at = ctx.now
        question.updated_at = ctx.now
    ctx.reply(
        Message(
            parts=(
                Paragraph(text=ctx.texts.render("answer.helpful_done", number=question.number)),
            ),
            buttons=(
                Button(
                    label=ctx.texts.render("outcome.button"),
                    action=OUTCOME_FORM_OPEN,
                    value=str(question.number),
                    style="primary",
                ),
            ),
        )
    )
    answerer = None if already_thanked else await ctx.tx.members.get(stored.answerer_id)
    if answerer is not None and answerer.id != ctx.member_id and answerer.erased_at is None:
        ctx.direct(
            answerer,
            Message(
                parts=(
                    Paragraph(
                        text=ctx.texts.render(
                            "answer.helped",
                            number=question.number,
                            name=user(ctx.member.display_name),
                        )
                    ),
                )
            ),
        )


async def outcome_command(ctx: Context, args: str) -> None:
    """``zodus <nr> <wat je ermee deed>``."""
    first, _, rest = args.strip().partition(" ")
    if not first or number_from(first) is None:
        raise UserError("outcome.usage")
    await add_outcome(ctx, await exchange.own_question(ctx, first), rest)


async def open_outcome_form(ctx: Context, _action: str, value: str) -> None:
    question = await exchange.own_question(ctx, value)
    ctx.open_form(
        Form(
            form_id=OUTCOME_FORM,
            title=ctx.texts.render("outcome.form_title"),
            submit_label=ctx.texts.render("outcome.form_submit"),
            context=str(question.number),
            inputs=(
                LongText(
                    name="zodus",
                    label=ctx.texts.render("outcome.form_label", number=question.number),
                    hint=ctx.texts.render("outcome.form_hint"),
                    max_length=MAX_ANSWER_CHARS,
                ),
            ),
        )
    )


async def outcome_form(ctx: Context, values: dict[str, FormValue]) -> None:
    text = values.get("zodus")
    question = await exchange.own_question(ctx, ctx.form_context)
    await add_outcome(ctx, question, text if isinstance(text, str) else "")


async def add_outcome(ctx: Context, question: Question, text: str) -> None:
    body = text.strip()
    if not body:
        raise UserError("outcome.empty", number=question.number)
    if len(body) > MAX_ANSWER_CHARS:
        raise UserError("answer.too_long", length=len(body), limit=MAX_ANSWER_CHARS)
    assert question.id is not None
    await ctx.tx.answers.add_outcome(
        question_id=question.id, member_id=ctx.member_id, text=body, created_at=ctx.now
    )
    ctx.say("outcome.stored", number=question.number)
