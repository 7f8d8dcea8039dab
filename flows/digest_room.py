"""The digest in chat: ``digest`` on demand, and every week by direct message to coordinators.

``digest`` sends the asking coordinator the last seven days; ``digest planning <dag> <HH:MM>``
moves their weekly digest (default Friday 16:00 in their own time zone), ``digest uit`` stops
it and ``digest aan`` starts it again. Others are refused in one friendly sentence.

The weekly digest is fired like the other slots (:func:`fire_due_digests`, from the scheduler
and from local mode): a coordinator's latest planned time is claimed by a ``digest`` row that is
unique per coordinator and time, and queued under the outbox key
``digest:<member>:<planned time>``, so two schedulers or a double fire send it once. A planned
time missed by more than the grace period (the process was down) is skipped.

The chat message is compact on purpose: figures, a sparkline of weekly activity, the signals
and the longest-waiting questions. Everything else is in the report (``hoedan digest``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from flows import roles
from flows.config import FlowConfig
from flows.context import Context
from flows.digest import Digest, Signal, build
from flows.errors import UserError
from flows.learning_room import parse_slot
from flows.messages import Field_, Fields, Heading, ItemList, Message, Note, Sparkline
from flows.outbound import Outbound, ToMember, enqueue
from flows.reports import RECEIVE_FILES, ReportRequest
from flows.schedules import DEFAULT_GRACE
from flows.text import RichText, shorten
from flows.texts import Texts, texts_for, user
from storage.enums import Role, SpaceKind
from storage.models import Member
from storage.repositories.digest import WEEK, Window
from storage.repositories.members import name_key
from storage.store import Store, Transaction

log = logging.getLogger(__name__)

DEFAULT_WEEKDAY = 4
DEFAULT_TIME = "16:00"
EXAMPLE = "digest planning vrijdag 16:00"
SIGNALS_SHOWN = 8
OFF_WORDS = frozenset({"uit", "off", "stop"})
ON_WORDS = frozenset({"aan", "on", "start"})
PLAN_WORDS = frozenset({"planning", "plan", "schedule"})


async def digest_command(ctx: Context, args: str) -> None:
    roles.require(ctx.role, Role.COORDINATOR, key="digest.refused")
    words = args.split()
    if not words:
        await _send_now(ctx)
    elif words[0].lower() in PLAN_WORDS:
        weekday, time_of_day = parse_slot(words[1:], example=EXAMPLE)
        await ctx.tx.digest.set_preference(
            member_id=ctx.member_id, weekday=weekday, time_of_day=time_of_day, active=True
        )
        ctx.say("digest.planned", **_slot_values(ctx, weekday, time_of_day))
    elif words[0].lower() in OFF_WORDS:
        weekday, time_of_day = await _slot(ctx.tx, ctx.member_id)
        await ctx.tx.digest.set_preference(
            member_id=ctx.member_id, weekday=weekday, time_of_day=time_of_day, active=False
        )
        ctx.say("digest.stopped", example=EXAMPLE)
    elif words[0].lower() in ON_WORDS:
        weekday, time_of_day = await _slot(ctx.tx, ctx.member_id)
        await ctx.tx.digest.set_preference(
            member_id=ctx.member_id, weekday=weekday, time_of_day=time_of_day, active=True
        )
        ctx.say("digest.planned", **_slot_values(ctx, weekday, time_of_day))
    else:
        raise UserError("digest.unknown", word=user(words[0]), example=EXAMPLE)


async def _send_now(ctx: Context) -> None:
    window = Window(ctx.now - WEEK, ctx.now)
    digest = await build(ctx.tx, network_id=ctx.network_id, network=ctx.network.name, window=window)
    zone = _timezone(ctx.member, ctx.config)
    attached = ctx.member.platform in RECEIVE_FILES
    message = chat_message(ctx.texts, digest, timezone=zone, report_attached=attached)
    report = report_request(ctx.config, window, language=ctx.texts.language, timezone=zone)
    ctx.outbound.append(Outbound(ToMember(ctx.member_id), message, attachment=report))
    if ctx.space.kind != SpaceKind.DIRECT:
        ctx.say("digest.sent_direct")


async def _slot(tx: Transaction, member_id: int) -> tuple[int, str]:
    chosen = await tx.digest.preference(member_id)
    if chosen is None:
        return DEFAULT_WEEKDAY, DEFAULT_TIME
    return chosen.weekday, chosen.time_of_day


def _slot_values(ctx: Context, weekday: int, time_of_day: str) -> dict[str, str]:
    zone = _timezone(ctx.member, ctx.config)
    upcoming = next_time(weekday, time_of_day, zone, after=ctx.now)
    return {
        "day": ctx.texts.plain(f"learning.day.{weekday}"),
        "time": time_of_day,
        "timezone": zone,
        "next": upcoming.astimezone(ZoneInfo(zone)).strftime("%d-%m-%Y %H:%M"),
    }


def _timezone(member: Member, config: FlowConfig) -> str:
    """The member's own time zone when the platform told us a valid one, else the network's."""
    if member.timezone:
        try:
            ZoneInfo(member.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("unknown time zone for member %s; using the network's", member.id)
        else:
            return member.timezone
    return config.timezone


def next_time(weekday: int, time_of_day: str, timezone: str, *, after: datetime) -> datetime:
    hour, minute = (int(part) for part in time_of_day.split(":"))
    trigger = CronTrigger(
        day_of_week=weekday, hour=hour, minute=minute, timezone=ZoneInfo(timezone)
    )
    found = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    assert isinstance(found, datetime)
    return found.astimezone(UTC)


def latest_time(weekday: int, time_of_day: str, timezone: str, *, now: datetime) -> datetime:
    """The latest planned time at or before ``now``: the first one after a week ago."""
    return next_time(weekday, time_of_day, timezone, after=now - WEEK)


# The weekly digest --------------------------------------------------------------------------


async def fire_due_digests(
    store: Store, config: FlowConfig, *, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> int:
    """Send each coordinator's weekly digest when its time has come; returns how many."""
    async with store.transaction() as tx:
        network = await tx.networks.by_slug(config.network_slug)
        if network is None or network.id is None:
            return 0
        coordinators = await tx.digest.coordinators(
            network.id,
            admin_ids=config.admins,
            admin_keys=frozenset(name_key(admin) for admin in config.admins),
        )
        chosen_slots = await tx.digest.preferences([m.id for m in coordinators if m.id])
        sent = await tx.digest.sent_since(now - grace)
        due: list[tuple[int, datetime]] = []
        for member in coordinators:
            assert member.id is not None
            chosen = chosen_slots.get(member.id)
            if chosen is not None and not chosen.active:
                continue
            weekday, time_of_day = (
                (chosen.weekday, chosen.time_of_day)
                if chosen is not None
                else (DEFAULT_WEEKDAY, DEFAULT_TIME)
            )
            planned = latest_time(weekday, time_of_day, _timezone(member, config), now=now)
            # Someone Hoedan first met after the planned time gets the next one, not this one.
            if (
                member.created_at <= planned <= now
                and now - planned <= grace
                and (member.id, planned) not in sent
            ):
                due.append((member.id, planned))
    queued = 0
    for member_id, planned in due:
        try:
            async with store.transaction() as tx:
                queued += await _send_weekly(tx, config, member_id, planned)
        except Exception:
            log.exception("the weekly digest for member %s could not be sent", member_id)
    return queued


async def _send_weekly(
    tx: Transaction, config: FlowConfig, member_id: int, planned: datetime
) -> int:
    member = await tx.members.get(member_id)
    network = await tx.networks.by_slug(config.network_slug)
    if member is None or network is None or network.id is None:
        return 0
    window = Window(planned - WEEK, planned)
    # Claimed before it is built: another scheduler over this database builds nothing.
    if not await tx.digest.record_sent(coordinator_id=member_id, window=window):
        return 0
    digest = await build(tx, network_id=network.id, network=network.name, window=window)
    await tx.digest.keep_figures(
        coordinator_id=member_id, period_end=planned, content=_figures(digest)
    )
    texts = texts_for(member.locale if member.locale in {"nl", "en"} else config.language)
    zone = _timezone(member, config)
    attached = member.platform in RECEIVE_FILES
    message = chat_message(texts, digest, timezone=zone, report_attached=attached)
    report = report_request(config, window, language=texts.language, timezone=zone)
    await enqueue(
        tx,
        [Outbound(ToMember(member_id), message, attachment=report)],
        key_prefix=f"digest:{member_id}:{planned.isoformat()}",
    )
    return 1


def report_request(
    config: FlowConfig, window: Window, *, language: str, timezone: str
) -> ReportRequest:
    """The full report of a digest's period, as a file named after its first and last day."""
    zone = ZoneInfo(timezone)
    first = window.start.astimezone(zone).date().isoformat()
    last = (window.end - timedelta(microseconds=1)).astimezone(zone).date().isoformat()
    return ReportRequest(
        network_slug=config.network_slug,
        start=window.start,
        end=window.end,
        language=language,
        timezone=timezone,
        filename=f"digest-{first}-{last}.html",
    )


def _figures(digest: Digest) -> dict[str, int | float | None]:
    """What is kept of a sent digest: its totals (to look back on), never texts."""
    totals = digest.totals
    return {
        "questions": totals.questions,
        "answered": totals.answered,
        "answers": totals.answers,
        "connections": totals.connections,
        "sessions": totals.sessions,
        "prompts": totals.prompts,
        "prompt_answer_rate": totals.prompt_answer_rate,
        "signals": len(digest.signals),
    }


# The chat message ---------------------------------------------------------------------------


def chat_message(
    texts: Texts, digest: Digest, *, timezone: str, report_attached: bool = True
) -> Message:
    zone = ZoneInfo(timezone)
    totals = digest.totals
    period = texts.plain(
        "digest.period",
        start=digest.start.astimezone(zone).strftime("%d-%m-%Y"),
        end=(digest.end.astimezone(zone) - timedelta(seconds=1)).strftime("%d-%m-%Y"),
    )
    rate = (
        f"{round(totals.prompt_answer_rate * 100)}%"
        if totals.prompt_answer_rate is not None
        else texts.plain("digest.none")
    )
    figures = (
        (
            "digest.figure.questions",
            texts.plain(
                "digest.figure.questions_value",
                count=totals.questions,
                answered=totals.answered,
                still_open=totals.still_open,
            ),
        ),
        (
            "digest.figure.answers",
            texts.plain(
                "digest.figure.answers_value", count=totals.answers, connections=totals.connections
            ),
        ),
        (
            "digest.figure.sessions",
            texts.plain(
                "digest.figure.sessions_value", count=totals.sessions, lessons=totals.lessons
            ),
        ),
        (
            "digest.figure.prompts",
            texts.plain("digest.figure.prompts_value", count=totals.prompts, rate=rate),
        ),
        ("digest.figure.rounds", str(totals.rounds)),
        ("digest.figure.rules", str(totals.rules_adopted)),
        ("digest.figure.failed", str(totals.failed_deliveries)),
    )
    parts: list[Heading | Fields | Sparkline | ItemList | Note] = [
        Heading(text=texts.render("digest.heading", network=user(digest.network))),
        Note(text=texts.render("digest.period_note", period=period)),
        Fields(
            items=tuple(
                Field_(label=texts.render(label), value=texts.render("digest.value", value=value))
                for label, value in figures
            )
        ),
        Sparkline(
            values=tuple(float(count) for count in digest.activity),
            label=texts.render("digest.activity", weeks=len(digest.activity)),
        ),
    ]
    if digest.signals:
        parts.append(Heading(text=texts.render("digest.signals")))
        parts.append(
            ItemList(items=tuple(_signal(texts, s) for s in digest.signals[:SIGNALS_SHOWN]))
        )
        if len(digest.signals) > SIGNALS_SHOWN:
            parts.append(
                Note(text=texts.render("digest.more", count=len(digest.signals) - SIGNALS_SHOWN))
            )
    else:
        parts.append(Note(text=texts.render("digest.no_signals")))
    if digest.longest_open:
        parts.append(Heading(text=texts.render("digest.longest_open")))
        parts.append(
            ItemList(
                items=tuple(
                    texts.render(
                        "digest.open_line",
                        number=line.number,
                        text=user(shorten(" ".join(line.text.split()), 120)),
                        days=line.waiting_days,
                        region=user(line.region or texts.plain("digest.no_region")),
                    )
                    for line in digest.longest_open
                )
            )
        )
    hint = "digest.report_hint" if report_attached else "digest.report_elsewhere"
    parts.append(Note(text=texts.render(hint)))
    return Message(parts=tuple(parts))


def _signal(texts: Texts, signal: Signal) -> RichText:
    return texts.render(
        f"digest.signal.{signal.kind.value}",
        subject=user(signal.subject),
        coalition=user(signal.coalition or texts.plain("digest.no_coalition")),
        days=signal.days,
        count=signal.count,
        rates=" → ".join(f"{round(rate * 100)}%" for rate in signal.rates),
    )
