"""Setting one's region: exact names are taken, near-misses are offered, new ones are created."""

from __future__ import annotations

import difflib

from flows.context import Context
from flows.errors import UserError
from flows.events import FormValue
from flows.messages import Button, Choice, Form, Message, Option, Paragraph, ShortText
from flows.text import shorten, theirs
from flows.texts import user
from storage.models import Region
from storage.repositories.network import region_key

MAX_REGION_CHARS = 80
SET = "region.set"
CREATE = "region.create"
FORM = "region.form"
CHOOSE = "region.choose"
"""A button that opens the region dialog."""


async def region_command(ctx: Context, args: str) -> None:
    name = " ".join(args.split())
    if not name:
        await _open_region_form(ctx)
        return
    await choose_region(ctx, name)


async def open_region_form(ctx: Context, _action: str = "", _value: str = "") -> None:
    await _open_region_form(ctx)


async def _open_region_form(ctx: Context) -> None:
    regions = await ctx.tx.regions.all(network_id=ctx.network_id)
    current = next((r for r in regions if r.id == ctx.member.region_id), None)
    inputs: list[Choice | ShortText] = []
    if regions:
        inputs.append(
            Choice(
                name="existing",
                label=ctx.texts.render("region.form_existing"),
                options=tuple(Option(value=str(r.id), label=theirs(r.name)) for r in regions),
                required=False,
            )
        )
    inputs.append(
        ShortText(
            name="new",
            label=ctx.texts.render("region.form_new"),
            max_length=MAX_REGION_CHARS,
            required=not regions,
        )
    )
    if current is not None:
        ctx.say("region.current", region=user(current.name))
    ctx.open_form(
        Form(
            form_id=FORM,
            title=ctx.texts.render("region.form_title"),
            submit_label=ctx.texts.render("region.form_submit"),
            inputs=tuple(inputs),
        )
    )


async def choose_region(ctx: Context, name: str) -> None:
    if len(name) > MAX_REGION_CHARS:
        raise UserError("region.too_long", limit=MAX_REGION_CHARS)
    if not region_key(name):
        raise UserError("region.empty")
    existing = await ctx.tx.regions.by_name(network_id=ctx.network_id, name=name)
    if existing is not None:
        await _set(ctx, existing)
        return
    regions = await ctx.tx.regions.all(network_id=ctx.network_id)
    by_key = {r.key: r for r in regions}
    close = difflib.get_close_matches(region_key(name), list(by_key), n=3, cutoff=0.75)
    if not close:
        await _set(ctx, await ctx.tx.regions.create(network_id=ctx.network_id, name=name))
        return
    buttons = [
        Button(label=theirs(by_key[key].name), action=SET, value=str(by_key[key].id))
        for key in close
    ]
    buttons.append(
        Button(
            label=ctx.texts.render("region.create_button", region=user(shorten(name, 40))),
            action=CREATE,
            value=name,
        )
    )
    ctx.reply(
        Message(
            parts=(Paragraph(text=ctx.texts.render("region.did_you_mean", region=user(name))),),
            buttons=tuple(buttons),
        )
    )


async def _set(ctx: Context, region: Region) -> None:
    await ctx.tx.members.set_region(member=ctx.member, region_id=region.id)
    ctx.say("region.set", region=user(region.name))


async def region_button(ctx: Context, action: str, value: str) -> None:
    if action == CREATE:
        await choose_region_exactly(ctx, value)
        return
    region = await ctx.tx.regions.get(int(value)) if value.isdigit() else None
    if region is None or region.network_id != ctx.network_id:
        raise UserError("region.gone")
    await _set(ctx, region)


async def choose_region_exactly(ctx: Context, name: str) -> None:
    """Create (or reuse) the region with exactly this name, without suggesting others."""
    clean = " ".join(name.split())
    if not clean or not region_key(clean):
        raise UserError("region.empty")
    if len(clean) > MAX_REGION_CHARS:
        raise UserError("region.too_long", limit=MAX_REGION_CHARS)
    region = await ctx.tx.regions.by_name(network_id=ctx.network_id, name=clean)
    if region is None:
        region = await ctx.tx.regions.create(network_id=ctx.network_id, name=clean)
    await _set(ctx, region)


async def region_form(ctx: Context, values: dict[str, FormValue]) -> None:
    new = values.get("new")
    existing = values.get("existing")
    if isinstance(new, str) and new.strip():
        await choose_region(ctx, new)
    elif isinstance(existing, str) and existing:
        await region_button(ctx, SET, existing)
    else:
        raise UserError("region.empty")
