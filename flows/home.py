"""A member's own page (Slack's App Home): who they are here, their open questions, what to do.

Only buttons for things that work are shown, so the page never promises what Hoedan cannot do.
"""

from __future__ import annotations

from flows import browse, exchange, regions
from flows.context import Context
from flows.messages import Button, Field_, Fields, Heading, ItemList, Message, Note, Paragraph
from flows.text import RichText, ours, shorten, theirs
from flows.texts import user
from storage.models import Region

OWN_QUESTIONS = 10
REGION_QUESTIONS = 5
"""The newest open questions of the member's region (the network's, without a region) shown
below their own: what neighbours are stuck on, one `bekijk` away from a #zodan."""
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
    parts.extend(await _others_open(ctx, region))
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


async def _others_open(ctx: Context, region: Region | None) -> list[Paragraph | ItemList | Note]:
    """Open questions of others in the member's region, or in the network without a region."""
    region_id = region.id if region is not None else None
    views = await ctx.tx.questions.open_questions(
        network_id=ctx.network_id,
        limit=REGION_QUESTIONS,
        region_id=region_id,
        not_asker_id=ctx.member_id,
    )
    if not views:
        return []
    heading = (
        ctx.texts.render("home.region_open", region=user(region.name))
        if region is not None
        else ctx.texts.render("home.network_open")
    )
    return [
        Paragraph(text=heading),
        ItemList(items=tuple(browse.question_line(ctx, view) for view in views)),
        Note(text=ctx.texts.render("home.open_hint")),
    ]


def _line(number: int, text: str) -> RichText:
    return ours(f"*#{number}*  ") + theirs(shorten(text, exchange.PREVIEW_CHARS))


async def show_home(ctx: Context) -> None:
    ctx.show_home(await home_page(ctx))
