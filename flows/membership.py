"""The ``rol`` command: granting roles, with the rules from flows.roles."""

from __future__ import annotations

from flows.context import Context
from flows.errors import NotAllowed, UserError
from flows.events import CommandEvent
from flows.messages import Message, Paragraph
from flows.roles import effective_role, may_grant, parse_role
from flows.texts import user
from storage.models import Member


async def role_command(ctx: Context, args: str) -> None:
    words = args.split()
    if not words:
        ctx.say("role.yours", role=ctx.texts.plain(f"role.names.{ctx.role.value}"))
        return
    if len(words) < 2:
        raise UserError("role.usage")
    role = parse_role(words[-1])
    if role is None:
        raise UserError("role.unknown_role", word=user(words[-1]))
    target = await _target(ctx, " ".join(words[:-1]))
    target_current = effective_role(target, ctx.config.admins)
    if not may_grant(ctx.role, target_current, role):
        raise NotAllowed("role.not_allowed")
    role_name = ctx.texts.plain(f"role.names.{role.value}")
    if target_current is role:
        ctx.say("role.unchanged", member=user(target.display_name), role=role_name)
        return
    await ctx.tx.members.set_role(member=target, role=role, granted_by=ctx.member)
    ctx.say("role.granted", member=user(target.display_name), role=role_name)
    if target.id != ctx.member.id:
        ctx.direct(target, _notice(ctx, role_name))


def _notice(ctx: Context, role_name: str) -> Message:
    return Message(
        parts=(
            Paragraph(
                text=ctx.texts.render(
                    "role.notice", role=role_name, granter=user(ctx.member.display_name)
                )
            ),
        )
    )


async def _target(ctx: Context, reference: str) -> Member:
    event = ctx.event
    mentioned = event.mentions if isinstance(event, CommandEvent) else ()
    platform = ctx.member.platform
    if mentioned:
        member = await ctx.tx.members.by_external_id(
            platform=platform, external_id=mentioned[0].external_id
        )
        if member is None:
            member = await ctx.tx.members.get_or_create(
                network_id=ctx.network_id,
                platform=platform,
                external_id=mentioned[0].external_id,
                display_name=mentioned[0].display_name,
            )
        return member
    found = await ctx.tx.members.find(
        network_id=ctx.network_id, platform=platform, reference=reference
    )
    if not found:
        raise UserError("role.unknown_member", member=user(reference))
    if len(found) > 1:
        raise UserError("role.ambiguous_member", member=user(reference), count=len(found))
    return found[0]
