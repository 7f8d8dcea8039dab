"""Inviting members who answered a similar question in another region to help with a new one.

"Twente heeft hier ervaring mee": the network's knowledge sits with people, so a new question
is brought to those who answered a similar one before. Each member is invited at most once per
question, never for their own region's questions, and anyone can switch invitations off.
"""

from __future__ import annotations

from flows.context import Context
from flows.errors import UserError
from flows.messages import Button, Message, Note, Paragraph, Quote
from flows.question_refs import answer_button, show_button
from flows.text import shorten, theirs
from flows.texts import user
from storage.models import Member, Question
from storage.repositories.matching import Match

MAX_INVITED = 3
"""A few people, not a broadcast: invitations must stay welcome."""
OFF = "invitations.off"
ON_WORDS = {"aan", "on"}
OFF_WORDS = {"uit", "off"}


def _may_invite(candidate: Member, asker: Member) -> bool:
    if candidate.id == asker.id or candidate.invitations_off or candidate.erased_at is not None:
        return False
    return candidate.region_id is None or candidate.region_id != asker.region_id


async def invite_helpers(ctx: Context, question: Question, similar: list[Match]) -> list[str]:
    """DM up to three earlier answerers from other regions; returns their regions' names."""
    assert question.id is not None
    answered = [match.question.id for match in similar if match.answered and match.question.id]
    candidates = [
        member
        for member in await ctx.tx.answers.answerers(answered)
        if _may_invite(member, ctx.member)
    ]
    asker_region = await ctx.tx.regions.get(ctx.member.region_id) if ctx.member.region_id else None
    regions: list[str] = []
    for member in candidates[:MAX_INVITED]:
        assert member.id is not None
        if not await ctx.tx.answers.invite_once(
            question_id=question.id, member_id=member.id, now=ctx.now
        ):
            continue
        where = asker_region.name if asker_region else ctx.texts.plain("question.unknown_region")
        texts = ctx.texts
        ctx.direct(
            member,
            Message(
                parts=(
                    Paragraph(
                        text=texts.render(
                            "invitation.text", number=question.number, region=user(where)
                        )
                    ),
                    Quote(text=theirs(shorten(question.text, 600))),
                    Note(text=texts.render("invitation.why")),
                ),
                buttons=(
                    answer_button(ctx, question),
                    show_button(ctx, question.number),
                    Button(label=texts.render("invitation.off_button"), action=OFF),
                ),
            ),
        )
        region = await ctx.tx.regions.get(member.region_id) if member.region_id else None
        name = region.name if region else member.display_name
        if name not in regions:
            regions.append(name)
    return regions


async def invitations_command(ctx: Context, args: str) -> None:
    word = args.strip().lower()
    if word in OFF_WORDS:
        await switch_off(ctx)
    elif word in ON_WORDS:
        ctx.member.invitations_off = False
        ctx.say("invitation.on")
    else:
        raise UserError(
            "invitation.usage",
            state=ctx.texts.plain(
                "invitation.state_off" if ctx.member.invitations_off else "invitation.state_on"
            ),
        )


async def switch_off(ctx: Context, _action: str = "", _value: str = "") -> None:
    ctx.member.invitations_off = True
    ctx.say("invitation.off")
