"""Routing: which handler answers which command, button and form.

Only commands with a handler here are offered in ``help``; the others are recognised (so they are
never stored as questions by accident) and answered honestly as not available yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from flows import (
    answers,
    browse,
    digest_room,
    exchange,
    home,
    house_rules,
    house_rules_room,
    intervision,
    intervision_room,
    invitations,
    learning_room,
    membership,
    privacy,
    reflection,
    reflection_room,
    regions,
    sources,
)
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
    MessageDeleted,
    MessageEdited,
    MessageEvent,
)
from flows.grammar import AskedQuestion, CommandName, Empty, Known, Unknown, parse
from flows.messages import Heading, ItemList, Message, Note
from flows.question_refs import ANSWER_FORM_OPEN, SHOW
from flows.texts import user

CommandHandler = Callable[[Context, str], Awaitable[None]]


async def _help(ctx: Context, _args: str) -> None:
    ctx.reply(help_message(ctx))


COMMANDS: dict[CommandName, CommandHandler] = {
    CommandName.HELP: _help,
    CommandName.ASK: exchange.ask,
    CommandName.ANSWER: answers.answer_command,
    CommandName.OUTCOME: answers.outcome_command,
    CommandName.LIST: browse.list_open,
    CommandName.SHOW: browse.show,
    CommandName.SEARCH: browse.search,
    CommandName.INVITATIONS: invitations.invitations_command,
    CommandName.REGION: regions.region_command,
    CommandName.ROLE: membership.role_command,
    CommandName.INTERVISION: intervision_room.intervision_command,
    CommandName.REFLECTION: reflection_room.reflection_command,
    CommandName.LEARNING_PROMPT: learning_room.learning_command,
    CommandName.HOUSE_RULES: house_rules_room.house_rules_command,
    CommandName.DIGEST: digest_room.digest_command,
    CommandName.MY_DATA: privacy.my_data_command,
    CommandName.FORGET_ME: privacy.forget_me_command,
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

    Most channel messages are ordinary conversation. Messages that carry #hoedan or #zodan do
    something, and edits or deletions of messages that carried them; a flow that needs more
    messages (a thread it follows, a session it records) widens this check.
    """
    if isinstance(event, MessageEvent):
        return sources.concerns_exchange(event.text) or intervision_room.may_be_in_session(
            event.place
        )
    if isinstance(event, MessageEdited):
        return (
            sources.concerns_exchange(event.text)
            or _may_have_concerned_exchange(event.previous_text)
            or intervision_room.may_be_in_session(event.place)
        )
    if isinstance(event, MessageDeleted):
        return _may_have_concerned_exchange(event.previous_text) or (
            intervision_room.may_be_in_session(event.place)
        )
    return True


def _may_have_concerned_exchange(previous_text: str | None) -> bool:
    """Unknown earlier text (Teams does not send it) may have been a question or an answer."""
    return previous_text is None or sources.concerns_exchange(previous_text)


async def on_message(ctx: Context, event: MessageEvent) -> None:
    """A channel message: said in an intervision, it stays there; otherwise #zodan in a
    question's thread answers it, and #hoedan asks a question."""
    if await intervision_room.session_of_place(ctx, event):
        return
    if await learning_room.thread_answer(ctx, event):
        return
    if answers.contains_zodan(event.text) and (
        event.place.thread_ref is not None or not exchange.contains_hashtag(event.text)
    ):
        await answers.thread_reply(ctx, event)
    elif exchange.contains_hashtag(event.text):
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
    await browse.list_open(ctx)


ACTIONS: dict[str, ActionHandler] = {
    regions.SET: regions.region_button,
    regions.CREATE: regions.region_button,
    regions.CHOOSE: regions.open_region_form,
    exchange.OPEN_FORM: exchange.open_question_form,
    exchange.THEMES_FORM_OPEN: exchange.open_themes_form,
    SHOW: browse.show_button_pressed,
    ANSWER_FORM_OPEN: answers.open_form,
    answers.HELPFUL: answers.helpful,
    answers.OUTCOME_FORM_OPEN: answers.open_outcome_form,
    invitations.OFF: invitations.switch_off,
    home.SHOW_HELP: _help_button,
    home.LIST_QUESTIONS: _list_button,
    intervision_room.START_FORM_OPEN: intervision_room.start_button,
    intervision.CASE_FORM_OPEN: intervision_room.open_case_form,
    intervision.LESSON_FORM_OPEN: intervision_room.open_lesson_form,
    **dict.fromkeys(intervision.STEERING, intervision_room.steer),
    reflection.ANSWER_FORM_OPEN: reflection_room.open_answer_form,
    reflection.CLOSE: reflection_room.close_button,
    learning_room.ANSWER_FORM_OPEN: learning_room.open_answer_form,
    house_rules.ACKNOWLEDGE: house_rules_room.acknowledge,
    house_rules.AGREE: house_rules_room.agree,
    house_rules.OBJECT_OPEN: house_rules_room.open_objection,
    house_rules.AMEND: house_rules_room.amend,
    privacy.FORGET: privacy.forget_pressed,
    privacy.KEEP: privacy.keep_pressed,
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
    exchange.THEMES_FORM: exchange.themes_form,
    answers.FORM: answers.answer_form,
    answers.OUTCOME_FORM: answers.outcome_form,
    intervision_room.START_FORM: intervision_room.start_form,
    intervision.CASE_FORM: intervision_room.case_form,
    intervision.LESSON_FORM: intervision_room.lesson_form,
    intervision.TAKEAWAY_FORM: intervision_room.lesson_form,
    reflection_room.START_FORM: reflection_room.start_form,
    reflection.ANSWER_FORM: reflection_room.answer_form,
    learning_room.ANSWER_FORM: learning_room.answer_form,
    learning_room.THEMES_FORM: learning_room.themes_form,
    learning_room.OWN_FORM: learning_room.own_form,
    house_rules.EDITOR_FORM: house_rules_room.editor_form,
    house_rules.OBJECTION_FORM: house_rules_room.objection_form,
}


async def on_form(ctx: Context, event: FormSubmitted) -> None:
    handler = FORMS.get(event.form_id)
    if handler is None:
        raise UserError("action.unknown")
    await handler(ctx, event.values)


async def on_home(ctx: Context, _event: HomeOpened) -> None:
    await home.show_home(ctx)


async def on_member_joined(ctx: Context, _event: MemberJoined) -> None:
    """The member row is created on entry; a channel with house rules sends them its rules."""
    await house_rules_room.member_joined(ctx)
