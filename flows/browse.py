"""Browsing the exchange: open questions (my region, or all), search, and one question in full."""

from __future__ import annotations

from flows import exchange
from flows.context import Context
from flows.errors import UserError
from flows.messages import Button, Heading, ItemList, Message, Note, Paragraph, Quote
from flows.question_refs import answer_button
from flows.text import RichText, join, ours, shorten, theirs
from flows.texts import user
from storage.enums import QuestionStatus
from storage.repositories.questions import QuestionView

LIST_LIMIT = 15
SEARCH_LIMIT = 10
ALL_WORDS = {"alle", "all", "alles"}


def question_line(ctx: Context, view: QuestionView) -> RichText:
    """One question in a list: number, text, who and where, and whether it has a #zodan."""
    who = view.asker_name if view.region_name is None else f"{view.asker_name}, {view.region_name}"
    state = (
        ours(f" ({ctx.texts.plain('question.answered')})")
        if view.question.status == QuestionStatus.ANSWERED
        else ours("")
    )
    return join(
        (
            ours(f"*#{view.question.number}*  "),
            theirs(shorten(view.question.text, exchange.PREVIEW_CHARS)),
            ours("  — "),
            theirs(who),
            state,
        )
    )


async def list_open(ctx: Context, args: str = "") -> None:
    """``vragen``: my region's open questions; ``vragen alle``: the whole network's."""
    everything = args.strip().lower() in ALL_WORDS
    region = (
        None
        if everything or ctx.member.region_id is None
        else await ctx.tx.regions.get(ctx.member.region_id)
    )
    region_id = region.id if region is not None else None
    views = await ctx.tx.questions.open_questions(
        network_id=ctx.network_id, limit=LIST_LIMIT, region_id=region_id
    )
    if not views:
        if region is not None:
            ctx.say("questions.none_open_region", region=user(region.name))
        else:
            ctx.say("questions.none_open")
        return
    total = await ctx.tx.questions.count_open(network_id=ctx.network_id, region_id=region_id)
    heading = (
        ctx.texts.render("questions.heading_region", count=total, region=user(region.name))
        if region is not None
        else ctx.texts.render("questions.heading", count=total)
    )
    parts: list[Heading | ItemList | Note] = [
        Heading(text=heading),
        ItemList(items=tuple(question_line(ctx, view) for view in views)),
    ]
    if total > len(views):
        parts.append(Note(text=ctx.texts.render("questions.more", count=total - len(views))))
    if region is not None:
        parts.append(Note(text=ctx.texts.render("questions.all_hint")))
    elif ctx.member.region_id is None and not everything:
        parts.append(Note(text=ctx.texts.render("question.no_region_hint")))
    ctx.reply(Message(parts=tuple(parts)))


async def search(ctx: Context, words: str) -> None:
    query = words.strip()
    if not query:
        raise UserError("search.empty")
    found = await ctx.tx.matches.search(network_id=ctx.network_id, query=query, limit=SEARCH_LIMIT)
    if not found:
        ctx.say("search.none", query=user(shorten(query, 100)))
        return
    ctx.reply(
        Message(
            parts=(
                Heading(
                    text=ctx.texts.render(
                        "search.heading", count=len(found), query=user(shorten(query, 100))
                    )
                ),
                ItemList(items=tuple(exchange.match_line(ctx, match) for match in found)),
            )
        )
    )


async def show(ctx: Context, value: str) -> None:
    """One question in full: text, region, themes, every #zodan and #zodus."""
    question = await exchange.find(ctx, value)
    assert question.id is not None
    view = await ctx.tx.questions.view(question.id)
    assert view is not None
    answers = await ctx.tx.answers.for_question(question.id)
    outcomes = await ctx.tx.answers.outcomes(question.id)
    theme_ids = await ctx.tx.questions.themes(question.id)
    where = view.region_name or ctx.texts.plain("question.unknown_region")
    parts: list[Heading | Paragraph | Quote | Note | ItemList] = [
        Heading(
            text=ctx.texts.render(
                "question.show_heading",
                number=question.number,
                region=user(where),
                date=f"{question.created_at:%d-%m-%Y}",
                status=ctx.texts.plain(f"question.status.{question.status}"),
            )
        ),
        Paragraph(text=theirs(question.text)),
        Note(text=exchange.theme_line(ctx, theme_ids)),
    ]
    if answers:
        parts.append(Paragraph(text=ctx.texts.render("question.show_answers", count=len(answers))))
        for item in answers:
            region = item.region_name or ctx.texts.plain("question.unknown_region")
            mark = " ✓" if item.answer.helpful else ""
            parts.append(Note(text=join((theirs(f"{item.answerer_name} ({region})"), ours(mark)))))
            parts.append(Quote(text=theirs(item.answer.text)))
            if item.answer.link:
                parts.append(
                    Note(text=ctx.texts.render("answer.link", link=user(item.answer.link)))
                )
    else:
        parts.append(Note(text=ctx.texts.render("question.show_no_answers")))
    for outcome in outcomes:
        parts.append(Paragraph(text=ctx.texts.render("question.show_outcome")))
        parts.append(Quote(text=theirs(outcome.text)))
    buttons: tuple[Button, ...] = ()
    if question.status != QuestionStatus.CLOSED:
        buttons = (answer_button(ctx, question),)
    ctx.reply(Message(parts=tuple(parts), buttons=buttons))


async def show_button_pressed(ctx: Context, _action: str, value: str) -> None:
    await show(ctx, value)
