"""A member's own page (Slack's App Home): who they are here, their open questions, what to do.

Only buttons for things that work are shown, so the page never promises what Hoedan cannot do.
"""

from __future__ import annotations

from flows import exchange, regions
from flows.context import Context
from flows.messages import Button, Field_, Fields, Heading, ItemList, Message, Note, Paragraph
from flows.text import RichText, ours, shorten, theirs
from flows.texts import user

OWN_QUESTIONS = 10
SHOW_HELP = "help.show"
LIST_QUESTIONS = "questions.list"


async def home_page(ctx: Context) -> Message:
    region = await ctx.tx.regions.get(ctx.member.region_id) if ctx.member.region_id else None
    mine = await ctx.tx.questions.open_questions(
        network_id=ctx.network_id, asker_id=ctx.member_id, limit=OWN_QUESTIONS
    )
    parts: list[Heading | Paragraph | Fields | ItemList | Note] = [
        Heading(text=ctx.texts.render("home.heading", name=user(ctx.member.display_name))),
        Fields(
            items=(
                Field_(
                    label=ctx.texts.render("home.role"),
                    value=ctx.texts.render(f"role.names.{ctx.role.value}"),
                ),
                Field_(
                    label=ctx.texts.render("home.region"),
                    value=theirs(region.name) if region else ctx.texts.render("home.no_region"),
                ),
            )
        ),
    ]
    if mine:
        total = await ctx.tx.questions.count_open(network_id=ctx.network_id, asker_id=ctx.member_id)
        parts.append(Paragraph(text=ctx.texts.render("home.mine", count=total)))
        parts.append(
            ItemList(items=tuple(_line(view.question.number, view.question.text) for view in mine))
        )
        if total > len(mine):
            parts.append(Note(text=ctx.texts.render("home.mine_more", count=total - len(mine))))
    else:
        parts.append(Paragraph(text=ctx.texts.render("home.none")))
    parts.append(Note(text=ctx.texts.render("home.footer")))
    return Message(
        parts=tuple(parts),
        buttons=(
            Button(label=ctx.texts.render("home.ask"), action=exchange.OPEN_FORM, style="primary"),
            Button(label=ctx.texts.render("home.questions"), action=LIST_QUESTIONS),
            Button(label=ctx.texts.render("home.choose_region"), action=regions.CHOOSE),
            Button(label=ctx.texts.render("home.help"), action=SHOW_HELP),
        ),
    )


def _line(number: int, text: str) -> RichText:
    return ours(f"*#{number}*  ") + theirs(shorten(text, exchange.PREVIEW_CHARS))


async def show_home(ctx: Context) -> None:
    ctx.show_home(await home_page(ctx))
