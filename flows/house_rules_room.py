"""Around the house-rules proposal: showing the rules, the editor, and every check.

``spelregels`` shows a channel's adopted rules with an acknowledgement button; ``spelregels
instellen [starterset]`` (coaches) opens the editor; a changed set starts a consent proposal
(``flows.house_rules``). Here happens what a pure transition cannot do: reading and writing the
rule set, and refusing in plain Dutch what makes no sense (an empty set, an unchanged one, an
objection without a reason, a second proposal while one is open).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flows import house_rules_library as library
from flows import roles
from flows.config import FlowConfig
from flows.context import Context
from flows.errors import UserError
from flows.events import FormValue
from flows.house_rules import (
    EDITOR_FORM,
    KIND,
    OBJECTION_FORM,
    PROPOSED,
    RECALL_KIND,
    SUBJECT,
    acknowledge_button,
    numbered,
    when,
)
from flows.learning_room import parse_slot
from flows.messages import Form, Heading, LongText, Message, Note, Paragraph, Part, ShortText
from flows.schedules import next_fire_time
from flows.texts import texts_for, user
from storage.enums import DeliveryKind, HouseRuleStatus, Role, SpaceKind
from storage.models import FlowInstance, HouseRuleVersion, Schedule, Space
from storage.store import Transaction

MAX_RULES = 20
MAX_RULE_CHARS = 300
MAX_TEXT_CHARS = 3000
"""What one long-text input can hold on every platform (Slack's limit)."""
DEFAULT_DAYS = 3
MIN_DAYS, MAX_DAYS = 1, 14
WELCOME = "house_rules:welcome:"
"""Subject of the direct message with the rules for a member who joined."""
SET_WORDS = frozenset({"instellen", "stel", "aanpassen", "wijzigen", "set", "edit"})
RECALL_WORDS = frozenset({"herinnering", "herinneren", "reminder"})
OFF_WORDS = frozenset({"uit", "stop", "off"})
_NUMBERING = re.compile(r"^\s*(?:\d{1,3}\s*[.):]|[-*•])\s*")


def rules_of(version: HouseRuleVersion) -> list[str]:
    return [line for line in version.text.splitlines() if line.strip()]


def parse_rules(text: str) -> list[str]:
    """One rule per line; numbers or bullets people typed in front are dropped (Hoedan numbers
    the rules itself), and so are empty lines."""
    rules = []
    for line in text.splitlines():
        rule = _NUMBERING.sub("", line, count=1).strip()
        if rule:
            rules.append(rule)
    return rules


def _numbered_text(rules: list[str]) -> str:
    return "\n".join(f"{n}. {rule}" for n, rule in enumerate(rules, start=1))


# Showing -------------------------------------------------------------------------------------


async def house_rules_command(ctx: Context, args: str) -> None:
    """``spelregels`` shows them; ``spelregels instellen [starterset]`` opens the editor."""
    word, _, rest = args.strip().partition(" ")
    if not word:
        await _show(ctx)
    elif word.lower() in SET_WORDS:
        await _open_editor(ctx, rest.strip())
    elif word.lower() in RECALL_WORDS:
        await _plan_recall(ctx, rest.split())
    else:
        raise UserError("house_rules.refused.usage")


async def _rules_message(ctx: Context, version: HouseRuleVersion, space: Space) -> list[Part]:
    number = await ctx.tx.house_rules.adopted_number(version)
    adopted_at = version.adopted_at or version.created_at
    return [
        Heading(
            text=ctx.texts.render(
                "house_rules.shown.heading",
                channel=user(space.name),
                number=number,
                date=when(adopted_at, space.timezone or ctx.config.timezone)[:10],
            )
        ),
        numbered(rules_of(version)),
    ]


async def _show(ctx: Context) -> None:
    current = await ctx.tx.house_rules.current(ctx.space_id)
    if current is None:
        ctx.say("house_rules.none")
        if roles.has_role(ctx.role, Role.COACH):
            ctx.say("house_rules.none_coach", sets=_starter_names(ctx))
        return
    assert current.id is not None
    parts = await _rules_message(ctx, current, ctx.space)
    if await ctx.tx.house_rules.acknowledged(version_id=current.id, member_id=ctx.member_id):
        parts.append(Note(text=ctx.texts.render("house_rules.shown.acknowledged")))
    proposal = await ctx.tx.house_rules.open_proposal(ctx.space_id)
    if proposal is not None and proposal.consent_deadline is not None:
        parts.append(
            Note(
                text=ctx.texts.render(
                    "house_rules.shown.proposal_open",
                    deadline=when(proposal.consent_deadline, ctx.config.timezone),
                )
            )
        )
    ctx.reply(Message(parts=tuple(parts), buttons=(acknowledge_button(ctx.texts, current.id),)))


def _starter_names(ctx: Context) -> str:
    language = ctx.texts.language
    return ", ".join(
        f"`{starter.id}` ({starter.name.get(language)})" for starter in library.starter_sets()
    )


async def member_joined(ctx: Context) -> None:
    """Someone joined the channel: they get its rules in a direct message."""
    if ctx.space.kind != SpaceKind.CHANNEL:
        return
    current = await ctx.tx.house_rules.current(ctx.space_id)
    if current is None or current.id is None:
        return
    if await ctx.tx.house_rules.acknowledged(version_id=current.id, member_id=ctx.member_id):
        return
    about = f"{WELCOME}{current.id}:{ctx.member_id}"
    if await ctx.tx.house_rules.said_before(about):
        return
    parts: list[Part] = [
        Paragraph(text=ctx.texts.render("house_rules.joined.welcome", channel=user(ctx.space.name)))
    ]
    parts.extend(await _rules_message(ctx, current, ctx.space))
    parts.append(Paragraph(text=ctx.texts.render("house_rules.joined.ask")))
    ctx.direct(
        ctx.member,
        Message(parts=tuple(parts), buttons=(acknowledge_button(ctx.texts, current.id),)),
        subject=about,
    )


async def acknowledge(ctx: Context, _action: str, value: str) -> None:
    """ "Ik onderschrijf deze spelregels": stored per member and version."""
    version = await _version(ctx, value)
    if version.status != HouseRuleStatus.ADOPTED or version.id is None:
        raise UserError("house_rules.refused.not_current")
    if await ctx.tx.house_rules.acknowledge(version_id=version.id, member_id=ctx.member_id):
        ctx.say("house_rules.acknowledged.thanks")
    else:
        ctx.say("house_rules.acknowledged.already")


async def _version(ctx: Context, value: str) -> HouseRuleVersion:
    version = await ctx.tx.house_rules.version(int(value)) if value.isdigit() else None
    if version is None:
        raise UserError("house_rules.refused.not_current")
    return version


# Editing and proposing -----------------------------------------------------------------------


async def _open_editor(ctx: Context, starter_name: str) -> None:
    roles.require(ctx.role, Role.COACH, key="house_rules.refused.not_coach")
    if ctx.space.kind != SpaceKind.CHANNEL:
        raise UserError("house_rules.refused.not_channel")
    await _refuse_when_open(ctx, ctx.space_id)
    if starter_name:
        starter = library.starter_set(starter_name)
        if starter is None:
            raise UserError(
                "house_rules.refused.unknown_starter",
                name=user(starter_name),
                sets=_starter_names(ctx),
            )
        initial = starter.text(ctx.texts.language)
    else:
        current = await ctx.tx.house_rules.current(ctx.space_id)
        initial = _numbered_text(rules_of(current)) if current is not None else ""
    ctx.open_form(_editor(ctx, ctx.space_id, initial))


def _editor(ctx: Context, space_id: int, initial: str) -> Form:
    texts = ctx.texts
    return Form(
        form_id=EDITOR_FORM,
        title=texts.render("house_rules.editor.title"),
        submit_label=texts.render("house_rules.editor.submit"),
        inputs=(
            LongText(
                name="rules",
                label=texts.render("house_rules.editor.rules"),
                hint=texts.render("house_rules.editor.rules_hint", limit=MAX_RULES),
                initial=initial[:MAX_TEXT_CHARS],
                max_length=MAX_TEXT_CHARS,
            ),
            ShortText(
                name="days",
                label=texts.render("house_rules.editor.days"),
                hint=texts.render("house_rules.editor.days_hint"),
                initial=str(DEFAULT_DAYS),
                max_length=2,
                required=False,
            ),
        ),
        context=str(space_id),
    )


async def _refuse_when_open(ctx: Context, space_id: int) -> None:
    proposal = await ctx.tx.house_rules.open_proposal(space_id)
    if proposal is not None and proposal.consent_deadline is not None:
        raise UserError(
            "house_rules.refused.busy",
            deadline=when(proposal.consent_deadline, ctx.config.timezone),
        )


def _days(value: FormValue) -> int:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return DEFAULT_DAYS
    if not text.isdigit() or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise UserError("house_rules.refused.days")
    return int(text)


def _checked_rules(value: FormValue) -> list[str]:
    rules = parse_rules(value if isinstance(value, str) else "")
    if not rules:
        raise UserError("house_rules.refused.empty")
    if len(rules) > MAX_RULES:
        raise UserError("house_rules.refused.too_many", count=len(rules), limit=MAX_RULES)
    for number, rule in enumerate(rules, start=1):
        if len(rule) > MAX_RULE_CHARS:
            raise UserError(
                "house_rules.refused.too_long",
                number=number,
                length=len(rule),
                limit=MAX_RULE_CHARS,
            )
    return rules


async def editor_form(ctx: Context, values: dict[str, FormValue]) -> None:
    """The coach sent the editor: a changed set becomes a proposal."""
    roles.require(ctx.role, Role.COACH, key="house_rules.refused.not_coach")
    space = await _space(ctx)
    assert space.id is not None
    rules = _checked_rules(values.get("rules"))
    days = _days(values.get("days"))
    current = await ctx.tx.house_rules.current(space.id)
    current_rules = rules_of(current) if current is not None else []
    if rules == current_rules:
        raise UserError("house_rules.refused.unchanged")
    await _refuse_when_open(ctx, space.id)
    rule_set = await ctx.tx.house_rules.ensure_rule_set(
        space_id=space.id, title=space.name, created_by_id=ctx.member_id
    )
    deadline = ctx.now + timedelta(days=days)
    version = await ctx.tx.house_rules.propose(
        rule_set=rule_set, text="\n".join(rules), proposed_by_id=ctx.member_id, deadline=deadline
    )
    data = {
        "version_id": version.id,
        "space_id": space.id,
        "lang": ctx.texts.language,
        "tz": space.timezone or ctx.config.timezone,
        "rules": rules,
        "first": current is None,
        "changed": [n for n, rule in enumerate(rules, start=1) if rule not in current_rules],
        "dropped": sum(1 for rule in current_rules if rule not in rules),
        "deadline": deadline.isoformat(),
        "proposer": {"id": ctx.member_id, "name": ctx.member.display_name},
    }
    await ctx.flows.start(ctx.tx, kind=KIND, data=data, now=ctx.now, space_id=space.id)
    ctx.say(
        "house_rules.editor.proposed",
        channel=user(space.name),
        deadline=when(deadline, str(data["tz"])),
    )


async def _space(ctx: Context) -> Space:
    """The channel an editor was opened for (the amend button opens it from a DM)."""
    context = ctx.form_context
    if context.isdigit() and int(context) != ctx.space_id:
        space = await ctx.tx.spaces.get(int(context))
        if space is None:
            raise UserError("house_rules.refused.not_channel")
        return space
    if ctx.space.kind != SpaceKind.CHANNEL:
        raise UserError("house_rules.refused.not_channel")
    return ctx.space


async def amend(ctx: Context, _action: str, value: str) -> None:
    """After an objection: the editor again, with the text that was proposed."""
    roles.require(ctx.role, Role.COACH, key="house_rules.refused.not_coach")
    version = await _version(ctx, value)
    space_id = await ctx.tx.house_rules.space_of(version)
    if space_id is None:
        raise UserError("house_rules.refused.not_current")
    await _refuse_when_open(ctx, space_id)
    ctx.open_form(_editor(ctx, space_id, _numbered_text(rules_of(version))))


# Consent -------------------------------------------------------------------------------------


async def _proposal(ctx: Context, value: str) -> tuple[HouseRuleVersion, FlowInstance]:
    """The open proposal a button or form is about; a clear answer when it has ended."""
    version = await ctx.tx.house_rules.version(int(value)) if value.isdigit() else None
    space_id = await ctx.tx.house_rules.space_of(version) if version is not None else None
    flow = (
        await ctx.tx.house_rules.proposal_flow(space_id=space_id, kind=KIND)
        if space_id is not None
        else None
    )
    if (
        version is None
        or flow is None
        or version.status != HouseRuleStatus.PROPOSED
        or flow.state != PROPOSED
        or flow.data.get("version_id") != version.id
    ):
        raise UserError("house_rules.refused.ended")
    return version, flow


async def agree(ctx: Context, _action: str, value: str) -> None:
    """ "Akkoord": counted, never required."""
    _version_row, flow = await _proposal(ctx, value)
    assert flow.id is not None
    agreed = list(flow.data.get("agreed", ()))
    if ctx.member.external_id in agreed:
        ctx.say("house_rules.agree.already", count=len(agreed))
        return
    await ctx.flows.feed(ctx.tx, flow_id=flow.id, event=ctx.event, now=ctx.now)
    ctx.say("house_rules.agree.counted", count=len(agreed) + 1)


async def open_objection(ctx: Context, _action: str, value: str) -> None:
    version, _flow = await _proposal(ctx, value)
    texts = ctx.texts
    ctx.open_form(
        Form(
            form_id=OBJECTION_FORM,
            title=texts.render("house_rules.objection.title"),
            submit_label=texts.render("house_rules.objection.submit"),
            inputs=(
                LongText(
                    name="reason",
                    label=texts.render("house_rules.objection.field"),
                    hint=texts.render("house_rules.objection.hint"),
                ),
            ),
            context=str(version.id),
        )
    )


async def objection_form(ctx: Context, values: dict[str, FormValue]) -> None:
    """A reasoned objection ends the proposal; the coach hears it."""
    version, flow = await _proposal(ctx, ctx.form_context)
    assert version.id is not None
    assert flow.id is not None
    reason = values.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise UserError("house_rules.refused.no_reason")
    await ctx.tx.house_rules.object(
        version_id=version.id, member_id=ctx.member_id, reason=reason.strip()
    )
    await ctx.flows.feed(ctx.tx, flow_id=flow.id, event=ctx.event, now=ctx.now)
    ctx.say("house_rules.objection.thanks")


# The monthly recall ----------------------------------------------------------------------------


async def _plan_recall(ctx: Context, words: list[str]) -> None:
    """``spelregels herinnering <dag> <HH:MM>`` (the first such day of each month) or ``uit``."""
    roles.require(ctx.role, Role.COACH, key="house_rules.refused.not_coach")
    current = await ctx.tx.rhythm.schedule_of_space(space_id=ctx.space_id, kind=RECALL_KIND)
    if not words:
        if current is None or not current.active:
            ctx.say("house_rules.recall.none")
        else:
            ctx.say("house_rules.recall.shown", when=_recall_when(ctx, current))
        return
    if words[0].lower() in OFF_WORDS:
        if current is not None and current.active:
            await ctx.tx.rhythm.stop(current)
        ctx.say("house_rules.recall.off")
        return
    try:
        weekday, time_of_day = parse_slot(words)
    except UserError:
        raise UserError("house_rules.recall.bad") from None
    planned = await ctx.tx.rhythm.plan(
        space_id=ctx.space_id,
        kind=RECALL_KIND,
        weekday=weekday,
        time_of_day=time_of_day,
        timezone=ctx.space.timezone or ctx.config.timezone,
        themes=[],
        active=True,
        created_by_id=ctx.member_id,
        now=ctx.now,
    )
    ctx.say("house_rules.recall.planned", when=_recall_when(ctx, planned))


def _recall_when(ctx: Context, schedule: Schedule) -> str:
    upcoming = next_fire_time(schedule, ctx.now)
    return when(upcoming, schedule.timezone)


async def post_recall(
    tx: Transaction, config: FlowConfig, schedule: Schedule, planned: datetime
) -> int:
    """The channel's current rules, with the acknowledgement button (``flows.schedules``)."""
    assert schedule.id is not None
    current = await tx.house_rules.current(schedule.space_id)
    space = await tx.spaces.get(schedule.space_id)
    post = await tx.rhythm.record_post(
        space_id=schedule.space_id,
        kind=RECALL_KIND,
        schedule_id=schedule.id,
        prompt_key=None,
        planned_for=planned,
    )
    if current is None or current.id is None or space is None or post is None:
        return 0
    texts = texts_for(config.language)
    number = await tx.house_rules.adopted_number(current)
    message = Message(
        parts=(
            Heading(text=texts.render("house_rules.recall.heading", number=number)),
            numbered(rules_of(current)),
            Note(text=texts.render("house_rules.recall.note")),
        ),
        buttons=(acknowledge_button(texts, current.id),),
    )
    return int(
        await tx.outbox.enqueue(
            idempotency_key=f"schedule:{schedule.id}:{planned.isoformat()}",
            platform=space.platform,
            kind=DeliveryKind.POST,
            payload=message.model_dump(mode="json"),
            channel_ref=space.external_id,
            subject=f"{SUBJECT}recall:{post.id}",
        )
    )
