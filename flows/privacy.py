"""A member's own data: ``mijngegevens`` (see what is held) and ``vergeet-mij`` (be forgotten).

``mijngegevens`` answers by direct message with a summary, followed by the whole record as a
JSON file that is made when it is delivered (a :class:`~flows.reports.ReportRequest`), so the
outbox never holds a copy of it.

``vergeet-mij`` asks for confirmation by direct message; only the member who asked can press
"Bevestig" (:func:`flows.roles.may_erase`). Erasure (:func:`erase`, also used by ``hoedan
privacy erase``) happens in the transaction of that press: the member becomes a tombstone
("oud-lid") with an unguessable platform id, so the same person writing again is a new member.
The last message to them, saying what happened, is queued to their old platform id after the
tombstone replaced it there; it is removed once delivered
(:meth:`~storage.repositories.erasure.ErasureRepository.finish_farewells`).

Erasure waits while the member takes part in an intervision that is still running: such a
session keeps writing to them and to its group conversation, addressed by everyone's id.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flows import house_rules, privacy_export, roles
from flows.config import FlowConfig
from flows.context import Context
from flows.errors import NotAllowed, UserError
from flows.messages import Button, Heading, ItemList, Message, Note, Paragraph
from flows.outbound import Outbound, ToMember
from flows.reports import RECEIVE_FILES, ReportRequest
from flows.texts import Texts, texts_for
from storage.enums import DeliveryKind, SpaceKind
from storage.models import Member
from storage.repositories.erasure import FAREWELL_KEY, Erased
from storage.store import Transaction

FORGET = "privacy.forget"
KEEP = "privacy.keep"
TOMBSTONE = "erased:"
"""How an erased member's platform id starts; the rest is random, so it matches nobody."""

DELETED = ("contributions", "lessons", "spaces", "invitations", "digests", "deliveries")
KEPT = (
    "questions",
    "answers",
    "outcomes",
    "prompt_answers",
    "reflections",
    "acknowledgements",
    "objections",
    "lessons",
)
"""What an erasure reports, in this order (``privacy.erased.deleted.<name>`` and
``privacy.erased.kept.<name>``)."""


async def my_data_command(ctx: Context, _args: str) -> None:
    record = await ctx.tx.privacy.record(ctx.member, consent_flow_kind=house_rules.KIND)
    name = privacy_export.filename(ctx.now)
    attached = ctx.member.platform in RECEIVE_FILES
    message = privacy_export.summary(
        ctx.texts, record, timezone=ctx.config.timezone, attached=name if attached else None
    )
    report = ReportRequest(
        report="privacy",
        network_slug=ctx.config.network_slug,
        start=ctx.member.created_at,
        end=ctx.now,
        language=ctx.texts.language,
        timezone=ctx.config.timezone,
        filename=name,
        member_id=ctx.member_id,
    )
    ctx.outbound.append(Outbound(ToMember(ctx.member_id), message, attachment=report))
    if ctx.space.kind != SpaceKind.DIRECT:
        ctx.say("privacy.sent_direct")


async def forget_me_command(ctx: Context, _args: str) -> None:
    await _check_erasable(ctx.tx, ctx.member)
    texts = ctx.texts
    value = str(ctx.member_id)
    ctx.direct(
        ctx.member,
        Message(
            parts=(
                Heading(text=texts.render("privacy.forget.heading")),
                Paragraph(text=texts.render("privacy.forget.deleted")),
                Paragraph(text=texts.render("privacy.forget.kept")),
                Note(text=texts.render("privacy.forget.final")),
            ),
            buttons=(
                Button(
                    label=texts.render("privacy.forget.confirm"),
                    action=FORGET,
                    value=value,
                    style="danger",
                ),
                Button(label=texts.render("privacy.forget.cancel"), action=KEEP, value=value),
            ),
        ),
    )
    if ctx.space.kind != SpaceKind.DIRECT:
        ctx.say("privacy.sent_direct")


async def forget_pressed(ctx: Context, _action: str, value: str) -> None:
    await _check_presser(ctx, value)
    await erase(ctx.tx, ctx.config, ctx.member, now=ctx.now)


async def keep_pressed(ctx: Context, _action: str, value: str) -> None:
    await _check_presser(ctx, value)
    ctx.say("privacy.forget.cancelled")


async def _check_presser(ctx: Context, value: str) -> None:
    """Only the member who asked may answer; a press after the erasure (which then comes from
    a new member, the old one being a tombstone) is told it is done."""
    asked_by = int(value) if value.isdigit() else None
    if asked_by is not None and roles.may_erase(ctx.member_id, asked_by):
        return
    asker = await ctx.tx.members.get(asked_by) if asked_by is not None else None
    if asker is not None and asker.erased_at is not None:
        raise UserError("privacy.forget.already")
    raise NotAllowed("privacy.forget.not_yours")


async def _check_erasable(tx: Transaction, member: Member) -> None:
    if member.erased_at is not None:
        raise UserError("privacy.forget.already")
    assert member.id is not None
    if await tx.erasure.in_running_session(member.id):
        raise UserError("privacy.forget.in_session")


async def erase(
    tx: Transaction, config: FlowConfig, member: Member, *, now: datetime, by_admin: bool = False
) -> Erased:
    """Erase ``member`` in ``tx`` and queue the message that says what happened.

    Raises :class:`UserError` when the member is erased already or in a running intervision.
    """
    await _check_erasable(tx, member)
    texts = member_texts(member, config)
    platform, ref = member.platform, member.external_id
    erased = await tx.erasure.erase(
        member,
        tombstone=TOMBSTONE + secrets.token_urlsafe(24),
        former_name=texts_for(config.language).plain("privacy.former_member"),
        now=now,
    )
    farewell = farewell_message(texts, erased, by_admin=by_admin)
    await tx.outbox.enqueue(
        idempotency_key=FAREWELL_KEY + secrets.token_hex(16),
        platform=platform,
        kind=DeliveryKind.DIRECT,
        payload=farewell.model_dump(mode="json"),
        member_ref=ref,
    )
    return erased


def member_texts(member: Member, config: FlowConfig) -> Texts:
    """The member's own language when the platform told us English, else the network's."""
    if member.locale and member.locale.lower().startswith("en"):
        return texts_for("en")
    return texts_for(config.language)


def farewell_message(texts: Texts, erased: Erased, *, by_admin: bool) -> Message:
    deleted = [
        texts.render(f"privacy.erased.deleted.{key}", count=erased.deleted[key])
        for key in DELETED
        if key in erased.deleted
    ]
    kept = [
        texts.render(f"privacy.erased.kept.{key}", count=erased.kept[key])
        for key in KEPT
        if key in erased.kept
    ]
    parts: list[Heading | Paragraph | ItemList | Note] = [
        Heading(text=texts.render("privacy.erased.heading")),
        Paragraph(
            text=texts.render("privacy.erased.by_admin" if by_admin else "privacy.erased.done")
        ),
    ]
    if deleted:
        parts.append(Paragraph(text=texts.render("privacy.erased.deleted_heading")))
        parts.append(ItemList(items=tuple(deleted)))
    if kept:
        parts.append(Paragraph(text=texts.render("privacy.erased.kept_heading")))
        parts.append(ItemList(items=tuple(kept)))
    parts.append(Note(text=texts.render("privacy.erased.new_start")))
    return Message(parts=tuple(parts))
