"""Routing: which handler answers which command, button and form.

Only commands with a handler here are offered in ``help``; the others are recognised (so they are
never stored as questions by accident) and answered honestly as not available yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from flows import exchange, home, membership, regions
from flows.context import Context
from flows.errors import UserError
from flows.events import (
    ActionEvent,
    CommandEvent,
    FormSubmitted,
    FormValue,
    HomeOpened,
    InboundEvent,
    MemberJoined,
    MessageEvent,
)
from flows.grammar import AskedQuestion, CommandName, Empty, Known, Unknown, parse
from flows.messages import Heading, ItemList, Message, Note
from flows.texts import user

CommandHandler = Callable[[Context, str], Awaitable[None]]


async def _help(ctx: Context, _args: str) -> None:
    ctx.reply(help_message(ctx))


async def _list(ctx: Context, _args: str) -> None:
    await exchange.list_open(ctx)


COMMANDS: dict[CommandName, CommandHandler] = {
    CommandName.HELP: _help,
    CommandName.ASK: exchange.ask,
    CommandName.SEARCH: exchange.search,
    CommandName.LIST: _list,
    CommandName.REGION: regions.region_command,
    CommandName.ROLE: membership.role_command,
}


def help_message(ctx: Context) -> Message:
    lines = tuple(
        ctx.texts.render(f"help.commands.{name.value.replace('-', '_')}") for name in COMMANDS
    )
    return Message(
        parts=(
            Heading(text=ctx.texts.render("help.heading")),
            ItemList(items=lines),
            Note(text=ctx.texts.render("help.footer")),
        )
    )


async def on_command(ctx: Context, event: CommandEvent) -> None:
    parsed = parse(event.text)
    if isinstance(parsed, Empty):
        ctx.reply(help_message(ctx))
    elif isinstance(parsed, AskedQuestion):
        await exchange.ask(ctx, parsed.text)
    elif isinstance(parsed, Unknown):
        if parsed.suggestion is not None:
            raise UserError(
                "command.unknown_suggest",
                word=user(parsed.word),
                suggestion=parsed.suggestion.value,
            )
        raise UserError("command.unknown", word=user(parsed.word))
    elif isinstance(parsed, Known):
        handler = COMMANDS.get(parsed.name)
        if handler is None:
            raise UserError("command.not_yet", command=parsed.name.value)
        await handler(ctx, parsed.args)


def wants(event: InboundEvent) -> bool:
    """Whether an event can matter to any flow; the rest is ignored before any database work.

    Most channel messages are ordinary conversation. Only messages that carry #hoedan do
    something today; a flow that needs more messages (a thread it follows, a session it records)
    widens this check.
    """
    if isinstance(event, MessageEvent):
        return exchange.contains_hashtag(event.text)
    return True


async def on_message(ctx: Context, event: MessageEvent) -> None:
    """A channel message: ``#hoedan`` in it makes it a question, answered in its thread."""
    if exchange.contains_hashtag(event.text):
        await exchange.ask(
            ctx,
            exchange.without_hashtag(event.text),
            source_ref=event.message_ref,
            thread_ref=event.place.thread_ref or event.message_ref,
        )


ActionHandler = Callable[[Context, str, str], Awaitable[None]]


async def _help_button(ctx: Context, _action: str, _value: str) -> None:
    ctx.reply(help_message(ctx))


async def _list_button(ctx: Context, _action: str, _value: str) -> None:
    await exchange.list_open(ctx)


ACTIONS: dict[str, ActionHandler] = {
    regions.SET: regions.region_button,
    regions.CREATE: regions.region_button,
    regions.CHOOSE: regions.open_region_form,
    exchange.OPEN_FORM: exchange.open_question_form,
    home.SHOW_HELP: _help_button,
    home.LIST_QUESTIONS: _list_button,
}


async def on_action(ctx: Context, event: ActionEvent) -> None:
    if event.action == exchange.SAVE_MESSAGE:
        await exchange.save_message(ctx, event.message_ref, event.text)
        return
    handler = ACTIONS.get(event.action)
    if handler is None:
        raise UserError("action.unknown")
    await handler(ctx, event.action, event.value)


FormHandler = Callable[[Context, dict[str, FormValue]], Awaitable[None]]

FORMS: dict[str, FormHandler] = {
    regions.FORM: regions.region_form,
    exchange.FORM: exchange.question_form,
}


async def on_form(ctx: Context, event: FormSubmitted) -> None:
    handler = FORMS.get(event.form_id)
    if handler is None:
        raise UserError("action.unknown")
    await handler(ctx, event.values)


async def on_home(ctx: Context, _event: HomeOpened) -> None:
    await home.show_home(ctx)


async def on_member_joined(ctx: Context, _event: MemberJoined) -> None:
    """Nothing to say yet; the member row is created on entry, which is what matters now."""
