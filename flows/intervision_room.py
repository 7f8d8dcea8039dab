"""Around the intervision state machine: starting a session, and letting people into it.

This is where the database work happens that a pure transition cannot do: who the people are,
storing what they say (before the machine counts it), the case and the lessons; and where every
check happens before an event reaches the machine: only coaches start, only the facilitator (or
a coordinator) steers, only the session's people speak in it, and only in its own place.
"""

from __future__ import annotations

from typing import Any

from flows import intervision_methods as methods
from flows import roles
from flows.context import Context
from flows.errors import UserError
from flows.events import (
    FormSubmitted,
    FormValue,
    MessageDeleted,
    MessageEdited,
    MessageEvent,
    Place,
    as_strings,
)
from flows.intervision import (
    CASE_FORM,
    KIND,
    LESSON_FORM,
    RUNNING,
    SUBJECT,
    TAKEAWAY_FORM,
    session_of,
    subject,
)
from flows.intervision_methods import Collects, Method
from flows.messages import (
    Button,
    Checkbox,
    Choice,
    Form,
    LongText,
    Message,
    MultiMember,
    Option,
    Paragraph,
    ShortText,
)
from flows.outbound import MAX_GROUP_MEMBERS, OPEN_GROUPS
from flows.text import ours
from flows.texts import user
from storage.enums import Role, SpaceKind
from storage.models import FlowInstance, IntervisionSession, Member

START_FORM = "intervision.start"
START_FORM_OPEN = "intervision.start_open"
GROUP = "group"
THREAD = "thread"
MIN_PARTICIPANTS = 2
MAX_PARTICIPANTS = 7
MAX_MINUTES = 120


# Starting ------------------------------------------------------------------------------------


async def intervision_command(ctx: Context, args: str) -> None:
    """``intervisie [methode]``: a coach opens the start dialog (or first picks a method)."""
    roles.require(ctx.role, Role.COACH, key="intervision.refused.not_coach")
    _require_a_venue(ctx)
    wanted = args.strip()
    if not wanted:
        ctx.reply(_method_choice(ctx))
        return
    ctx.open_form(_start_form(ctx, _method(ctx, wanted)))


async def start_button(ctx: Context, _action: str, value: str) -> None:
    roles.require(ctx.role, Role.COACH, key="intervision.refused.not_coach")
    _require_a_venue(ctx)
    ctx.open_form(_start_form(ctx, _method(ctx, value)))


def _method(ctx: Context, name: str) -> Method:
    found = methods.method(name)
    if found is None:
        names = ", ".join(m.id for m in methods.all_methods())
        raise UserError("intervision.refused.unknown_method", methods=names)
    return found


def _method_choice(ctx: Context) -> Message:
    language = ctx.texts.language
    return Message(
        parts=(Paragraph(text=ctx.texts.render("intervision.start.choose")),),
        buttons=tuple(
            Button(
                label=ctx.texts.render(
                    "intervision.start.choose_button",
                    method=m.name.get(language),
                    minutes=m.total_minutes,
                ),
                action=START_FORM_OPEN,
                value=m.id,
            )
            for m in methods.all_methods()
        ),
    )


def _start_form(ctx: Context, method: Method) -> Form:
    texts = ctx.texts
    language = texts.language
    defaults = ", ".join(str(phase.minutes) for phase in method.phases)
    inputs: list[Any] = [
        MultiMember(
            name="owner",
            label=texts.render("intervision.start.owner"),
            hint=texts.render("intervision.start.owner_hint"),
        ),
        MultiMember(
            name="participants",
            label=texts.render("intervision.start.participants"),
            hint=texts.render("intervision.start.participants_hint"),
        ),
    ]
    if method.is_custom:
        inputs.append(
            Choice(
                name="blocks",
                label=texts.render("intervision.start.blocks"),
                multiple=True,
                options=tuple(
                    Option(value=block.id, label=ours(block.name.get(language)))
                    for block in methods.building_blocks()
                    if not (block.opens or block.closes)
                ),
            )
        )
    else:
        inputs.append(
            ShortText(
                name="minutes",
                label=texts.render("intervision.start.minutes"),
                hint=texts.render("intervision.start.minutes_hint", defaults=defaults),
                initial=defaults,
                required=False,
            )
        )
    venues = []
    if _can_open_group(ctx):
        venues.append(Option(value=GROUP, label=texts.render("intervision.start.venue_group")))
    if _can_hold_thread(ctx):
        venues.append(Option(value=THREAD, label=texts.render("intervision.start.venue_thread")))
    inputs.append(
        Choice(
            name="venue",
            label=texts.render("intervision.start.venue"),
            options=tuple(venues),
            initial=(venues[0].value,),
        )
    )
    return Form(
        form_id=START_FORM,
        title=texts.render("intervision.start.form_title"),
        submit_label=texts.render("intervision.start.form_submit"),
        inputs=tuple(inputs),
        context=method.id,
    )


async def start_form(ctx: Context, values: dict[str, FormValue]) -> None:
    roles.require(ctx.role, Role.COACH, key="intervision.refused.not_coach")
    method = _method(ctx, ctx.form_context)
    if method.is_custom:
        method = _composed(as_strings(values.get("blocks")))
    else:
        method = _with_minutes(method, values.get("minutes"))
    owners = await _members(ctx, values.get("owner"))
    if len(owners) != 1:
        raise UserError("intervision.refused.one_owner")
    owner = owners[0]
    participants = [m for m in await _members(ctx, values.get("participants")) if m.id != owner.id]
    if len(participants) < MIN_PARTICIPANTS:
        raise UserError("intervision.refused.too_few")
    if len(participants) > MAX_PARTICIPANTS:
        raise UserError("intervision.refused.too_many")
    venue = THREAD if values.get("venue") == THREAD or not _can_open_group(ctx) else GROUP
    if venue == THREAD and not _can_hold_thread(ctx):
        raise UserError(_no_thread_key(ctx))
    everyone = list({m.id: m for m in (ctx.member, owner, *participants)}.values())
    if venue == GROUP:
        if len(everyone) > MAX_GROUP_MEMBERS:
            raise UserError("intervision.refused.group_too_big", limit=MAX_GROUP_MEMBERS)
        ids = frozenset(m.id for m in everyone)
        if ids in await ctx.tx.intervision.running_member_sets(
            network_id=ctx.network_id, venue=GROUP
        ):
            raise UserError("intervision.refused.busy")

    row = await ctx.tx.intervision.create(
        space_id=ctx.space_id,
        method=method.id,
        facilitator_id=ctx.member_id,
        case_owner_id=_id(owner),
        venue=venue,
        participant_ids=[_id(m) for m in participants],
    )
    session_id = _id_of(row)
    language = ctx.texts.language
    data = {
        "session_id": session_id,
        "subject": subject(session_id),
        "lang": language,
        "tz": ctx.config.timezone,
        "method": method.name.get(language),
        "venue": (
            {
                "kind": GROUP,
                "member_ids": [_id(m) for m in everyone],
                "name": f"intervisie-{session_id}",
            }
            if venue == GROUP
            else {"kind": THREAD, "space_id": ctx.space_id}
        ),
        "facilitator": _person(ctx.member),
        "owner": _person(owner),
        "participants": [_person(m) for m in participants],
        "phases": [
            {
                "id": phase.id,
                "name": phase.name.get(language),
                "purpose": phase.purpose.get(language),
                "group": phase.for_group.get(language),
                "owner": phase.for_case_owner.get(language),
                "minutes": phase.minutes,
                "actor": phase.actor.value,
                "collects": phase.collects.value,
            }
            for phase in method.phases
        ],
    }
    flow = await ctx.flows.start(ctx.tx, kind=KIND, data=data, now=ctx.now, space_id=ctx.space_id)
    await ctx.tx.intervision.attach_flow(row, _id_of(flow))
    ctx.say(
        "intervision.start.started_group" if venue == GROUP else "intervision.start.started_thread",
        owner=user(owner.display_name),
    )


def _composed(block_ids: list[str]) -> Method:
    """A coach's own method: the chosen phases between the case and the lessons."""
    if not block_ids:
        raise UserError("intervision.refused.no_blocks")
    try:
        return methods.compose(block_ids)
    except methods.CompositionError:
        raise UserError("intervision.refused.no_blocks") from None


def _can_open_group(ctx: Context) -> bool:
    return ctx.member.platform in OPEN_GROUPS


def _require_a_venue(ctx: Context) -> None:
    """Before the coach fills in a whole dialog: refuse where no session could take place."""
    if not (_can_open_group(ctx) or _can_hold_thread(ctx)):
        raise UserError(_no_thread_key(ctx))


def _no_thread_key(ctx: Context) -> str:
    if _can_open_group(ctx):
        return "intervision.refused.thread_needs_channel"
    return "intervision.refused.channel_only"


def _can_hold_thread(ctx: Context) -> bool:
    """Only a channel can hold a session's thread: in a direct message it would land with the
    coach alone, in a group conversation in front of people who are not in the session."""
    return ctx.space.kind == SpaceKind.CHANNEL


def _with_minutes(method: Method, typed: FormValue) -> Method:
    text = typed.strip() if isinstance(typed, str) else ""
    if not text:
        return method
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    example = ", ".join(str(phase.minutes) for phase in method.phases)
    if len(parts) != len(method.phases) or not all(part.isdigit() for part in parts):
        raise UserError("intervision.refused.minutes", count=len(method.phases), example=example)
    minutes = [int(part) for part in parts]
    if not all(1 <= value <= MAX_MINUTES for value in minutes):
        raise UserError("intervision.refused.minutes", count=len(method.phases), example=example)
    return method.with_minutes(
        {phase.id: value for phase, value in zip(method.phases, minutes, strict=True)}
    )


async def _members(ctx: Context, value: FormValue) -> list[Member]:
    """The members a member picker returned, created on first mention with the name the
    platform gave (``FormSubmitted.member_names``)."""
    event = ctx.event
    names = event.member_names if isinstance(event, FormSubmitted) else {}
    found: list[Member] = []
    for ref in as_strings(value):
        member = await ctx.tx.members.by_external_id(platform=ctx.member.platform, external_id=ref)
        if member is None:
            member = await ctx.tx.members.get_or_create(
                network_id=ctx.network_id,
                platform=ctx.member.platform,
                external_id=ref,
                display_name=names.get(ref, ref),
            )
        found.append(member)
    return found


def _person(member: Member) -> dict[str, Any]:
    return {"id": _id(member), "ref": member.external_id, "name": member.display_name}


def _id(member: Member) -> int:
    assert member.id is not None
    return member.id


def _id_of(row: IntervisionSession | FlowInstance) -> int:
    assert row.id is not None
    return row.id


# Inside a session ----------------------------------------------------------------------------


async def _session(ctx: Context, value: str) -> tuple[IntervisionSession, FlowInstance]:
    """The running session a button or form is about; a clear answer when it has ended."""
    session_id = session_of(value)
    row = await ctx.tx.intervision.get(session_id) if session_id is not None else None
    flow = await ctx.tx.flows.get(row.flow_id) if row is not None and row.flow_id else None
    if row is None or flow is None or row.ended_at is not None or flow.finished_at is not None:
        raise UserError("intervision.refused.ended")
    return row, flow


async def steer(ctx: Context, action: str, value: str) -> None:
    """Next, back, +5, pause, resume, stop: the facilitator's buttons."""
    row, flow = await _session(ctx, value)
    if not roles.may_steer(ctx.role, is_facilitator=row.facilitator_id == ctx.member_id):
        raise UserError(
            "intervision.refused.not_steering",
            facilitator=user(flow.data["facilitator"]["name"]),
        )
    await ctx.flows.feed(ctx.tx, flow_id=_id_of(flow), event=ctx.event, now=ctx.now)


async def open_case_form(ctx: Context, _action: str, value: str) -> None:
    row, flow = await _session(ctx, value)
    if row.case_owner_id != ctx.member_id:
        raise UserError("intervision.refused.not_owner", owner=user(flow.data["owner"]["name"]))
    texts = ctx.texts
    ctx.open_form(
        Form(
            form_id=CASE_FORM,
            title=texts.render("intervision.case.form_title"),
            submit_label=texts.render("intervision.case.form_submit"),
            inputs=(
                LongText(
                    name="case",
                    label=texts.render("intervision.case.field"),
                    hint=texts.render("intervision.case.hint"),
                ),
            ),
            context=str(row.id),
        )
    )


async def case_form(ctx: Context, values: dict[str, FormValue]) -> None:
    row, flow = await _session(ctx, ctx.form_context)
    if row.case_owner_id != ctx.member_id:
        raise UserError("intervision.refused.not_owner", owner=user(flow.data["owner"]["name"]))
    if flow.state != "awaiting_case":
        raise UserError("intervision.refused.not_now")
    case = values.get("case")
    if not isinstance(case, str) or not case.strip():
        raise UserError("intervision.refused.case_empty")
    await ctx.tx.intervision.contribute(
        session_id=_id_of(row),
        phase=str(flow.data["phases"][0]["id"]),
        author_id=ctx.member_id,
        kind=Collects.CASE.value,
        text=case.strip(),
    )
    await ctx.flows.feed(ctx.tx, flow_id=_id_of(flow), event=ctx.event, now=ctx.now)
    ctx.say("intervision.case.thanks")


def _in_lessons_phase(flow: FlowInstance) -> bool:
    if flow.state != RUNNING:
        return False
    phase = flow.data["phases"][int(flow.data["index"])]
    return bool(phase["collects"] == Collects.LESSONS.value)


async def open_lesson_form(ctx: Context, _action: str, value: str) -> None:
    row, flow = await _session(ctx, value)
    if not _in_lessons_phase(flow):
        raise UserError("intervision.refused.lesson_not_now")
    texts = ctx.texts
    if row.case_owner_id == ctx.member_id:
        form = Form(
            form_id=TAKEAWAY_FORM,
            title=texts.render("intervision.takeaway.form_title"),
            submit_label=texts.render("intervision.lesson.form_submit"),
            inputs=(LongText(name="lesson", label=texts.render("intervision.takeaway.field")),),
            context=str(row.id),
        )
    else:
        await _require_participant(ctx, row)
        form = Form(
            form_id=LESSON_FORM,
            title=texts.render("intervision.lesson.form_title"),
            submit_label=texts.render("intervision.lesson.form_submit"),
            inputs=(
                LongText(name="lesson", label=texts.render("intervision.lesson.field")),
                Checkbox(name="shareable", label=texts.render("intervision.lesson.shareable")),
            ),
            context=str(row.id),
        )
    ctx.open_form(form)


async def lesson_form(ctx: Context, values: dict[str, FormValue]) -> None:
    """A participant's lesson, or (``TAKEAWAY_FORM``) what the case owner takes away."""
    row, flow = await _session(ctx, ctx.form_context)
    if not _in_lessons_phase(flow):
        raise UserError("intervision.refused.lesson_not_now")
    owner = row.case_owner_id == ctx.member_id
    if not owner:
        await _require_participant(ctx, row)
    text = values.get("lesson")
    if not isinstance(text, str) or not text.strip():
        raise UserError("intervision.refused.case_empty")
    shareable = bool(values.get("shareable")) and not owner
    await ctx.tx.intervision.add_lesson(
        session_id=_id_of(row), author_id=ctx.member_id, text=text.strip(), shareable=shareable
    )
    ctx.say("intervision.lesson.thanks_shared" if shareable else "intervision.lesson.thanks")
    await ctx.flows.feed(ctx.tx, flow_id=_id_of(flow), event=ctx.event, now=ctx.now)


async def _require_participant(ctx: Context, row: IntervisionSession) -> None:
    if ctx.member_id not in await ctx.tx.intervision.participant_ids(_id_of(row)):
        raise UserError("intervision.refused.not_in_session")


def may_be_in_session(place: Place) -> bool:
    """Cheap, before any database work: only threads and group conversations hold sessions."""
    return place.thread_ref is not None or place.kind is SpaceKind.GROUP


async def _session_at(ctx: Context, place: Place) -> tuple[IntervisionSession, FlowInstance] | None:
    """The session whose place this is and that has not ended, if any."""
    if not may_be_in_session(place):
        return None
    about = await ctx.tx.outbox.subject_of_place(
        platform=place.platform,
        channel_ref=place.external_id,
        thread_ref=place.thread_ref,
        prefix=SUBJECT,
    )
    if about is None and place.thread_ref is not None and place.kind is SpaceKind.GROUP:
        # A thread under someone's message in the session's group is still the session.
        about = await ctx.tx.outbox.subject_of_place(
            platform=place.platform, channel_ref=place.external_id, thread_ref=None, prefix=SUBJECT
        )
    if about is None:
        return None
    row = await ctx.tx.intervision.get(int(about.removeprefix(SUBJECT)))
    flow = await ctx.tx.flows.get(row.flow_id) if row is not None and row.flow_id else None
    if row is None or flow is None or flow.finished_at is not None:
        # After the session the conversation is an ordinary one again.
        return None
    return row, flow


async def session_of_place(ctx: Context, event: MessageEvent) -> bool:
    """If this message was said in a session's place, handle it there and return True.

    Only threads and group conversations can be a session's place, so ordinary channel talk
    costs no look-up. A message in a session never becomes a #hoedan question: what is said
    in an intervision stays there.
    """
    found = await _session_at(ctx, event.place)
    if found is None:
        return False
    row, flow = found
    data = flow.data
    people = {
        p["ref"]: int(p["id"]) for p in (data["owner"], data["facilitator"], *data["participants"])
    }
    if event.actor.external_id not in people:
        ctx.say("intervision.refused.not_in_session")
        return True
    # Said before the first phase or during a pause, it still belongs to the session: it is
    # kept with the phase it came in, only the phase machine does not count it as a turn.
    phase = data["phases"][int(data.get("index", 0))]
    await ctx.tx.intervision.contribute(
        session_id=_id_of(row),
        phase=str(phase["id"]),
        author_id=ctx.member_id,
        kind=str(phase["collects"]),
        text=event.text,
        source_ref=event.message_ref,
    )
    if flow.state == RUNNING:
        await ctx.flows.feed(ctx.tx, flow_id=_id_of(flow), event=event, now=ctx.now)
    return True


async def changed_in_session(ctx: Context, event: MessageEdited | MessageDeleted) -> bool:
    """An edited message changes what the session recorded; a deleted one leaves the record."""
    found = await _session_at(ctx, event.place)
    if found is None:
        return False
    row, _flow = found
    said = await ctx.tx.intervision.said_in(session_id=_id_of(row), source_ref=event.message_ref)
    if said is not None and said.author_id == ctx.member_id:
        if isinstance(event, MessageDeleted):
            await ctx.tx.intervision.forget(said)
        elif event.text.strip():
            said.text = event.text
    return True
