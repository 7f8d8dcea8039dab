"""Keeping questions and answers in step with the chat messages they came from.

People fix typos and remove messages. An edited source message changes the stored text (and its
search terms); a deleted one withdraws the question, or removes the answer. A message that
gains #hoedan in an edit becomes a question then. In an intervision, an edit changes what the
session recorded and a deletion removes it from the record.
"""

from __future__ import annotations

from flows import answers, exchange, intervision_room
from flows.context import Context
from flows.events import MessageDeleted, MessageEdited
from storage.enums import QuestionStatus


def concerns_exchange(text: str) -> bool:
    return exchange.contains_hashtag(text) or answers.contains_zodan(text)


async def on_edited(ctx: Context, event: MessageEdited) -> None:
    if await intervision_room.changed_in_session(ctx, event):
        return
    question = await ctx.tx.questions.by_source(space_id=ctx.space_id, source_ref=event.message_ref)
    if question is not None:
        text = exchange.without_hashtag(event.text).strip()
        usable = 0 < len(text) <= exchange.MAX_QUESTION_CHARS
        if question.status != QuestionStatus.WITHDRAWN and usable and text != question.text:
            assert question.id is not None
            await ctx.tx.questions.set_text(question, text, now=ctx.now)
            await ctx.tx.matches.index(question.id)
        return
    answer = await ctx.tx.answers.by_source(space_id=ctx.space_id, source_ref=event.message_ref)
    if answer is not None:
        text = answers.without_zodan(event.text).strip()
        if 0 < len(text) <= answers.MAX_ANSWER_CHARS and text != answer.text:
            answer.text = text
            await ctx.tx.matches.index(answer.question_id)
        return
    if exchange.contains_hashtag(event.text) and not exchange.contains_hashtag(
        event.previous_text or ""
    ):
        await exchange.ask(
            ctx,
            exchange.without_hashtag(event.text),
            source_ref=event.message_ref,
            thread_ref=event.place.thread_ref or event.message_ref,
        )


async def on_deleted(ctx: Context, event: MessageDeleted) -> None:
    if await intervision_room.changed_in_session(ctx, event):
        return
    question = await ctx.tx.questions.by_source(space_id=ctx.space_id, source_ref=event.message_ref)
    if question is not None:
        assert question.id is not None
        question.status = QuestionStatus.WITHDRAWN
        question.updated_at = ctx.now
        await ctx.tx.matches.index(question.id)
        return
    answer = await ctx.tx.answers.by_source(space_id=ctx.space_id, source_ref=event.message_ref)
    if answer is None:
        return
    question_id = answer.question_id
    await ctx.tx.answers.delete(answer)
    asked = await ctx.tx.questions.get(question_id)
    if (
        asked is not None
        and asked.status == QuestionStatus.ANSWERED
        and not await ctx.tx.answers.for_question(question_id)
    ):
        asked.status = QuestionStatus.OPEN
    await ctx.tx.matches.index(question_id)
