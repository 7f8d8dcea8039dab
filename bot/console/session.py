"""A chat in the terminal: lines become neutral events, outbox messages become printed cards.

``/hoedan …`` runs a command; plain text is a channel message; ``:als <naam>`` acts as that
member; ``:in <kanaal>`` moves to a channel, or to a group conversation Hoedan has written to
(by its name); ``:kies <n>`` presses button n of the last message; when a form opens, the next
lines answer its fields in order (``:annuleer`` stops it).

The console keeps its own clock: real time plus whatever ``:wacht <minuten>`` added. Every event
it sends and every flow deadline it fires uses that clock, so a demo or a test can let an
intervision phase run out without waiting for it. After every line, deadlines that have passed
fire and what they post is printed; ``run_console`` also checks every few seconds while a
terminal waits for input.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from bot.console.render import render, to_text
from bot.knowledge_export import write_atomically
from bot.outbox import DeliveryResult, Failed, OutboxDispatcher, Sent
from bot.reports import ReportMaker
from flows.events import (
    ActionEvent,
    Actor,
    CommandEvent,
    FormSubmitted,
    FormValue,
    InboundEvent,
    MessageEvent,
    Place,
)
from flows.messages import (
    Button,
    Checkbox,
    Choice,
    Form,
    Input,
    LongText,
    Message,
    MultiMember,
    Scale,
)
from flows.reports import ReportRequest
from flows.retention import apply_retention
from flows.rhythm import POSTERS, fire_due_schedules
from flows.runtime import Runtime
from flows.schedules import DEFAULT_GRACE, next_fire_time
from flows.texts import Texts, user
from storage.enums import DeliveryKind, Platform, SpaceKind
from storage.models import OutboxMessage
from storage.repositories.members import name_key
from storage.types import utcnow

REPORTS = Path("rapporten")
"""Report files for members are saved here, relative to where ``hoedan`` runs."""

log = logging.getLogger(__name__)

COMMAND_PREFIX = "/hoedan"
MAX_LINE_CHARS = 20_000
"""Longer lines are cut before they reach a flow; the flows' own limits then explain."""


MAX_NAME_CHARS = 80
MAX_WAIT_MINUTES = 600
"""``:wacht`` moves the clock at most ten hours at a time."""
MAX_WAIT_STEPS = 10_000
"""Deadlines one ``:wacht`` fires one by one at most (a guard; sessions have far fewer)."""
_WAIT = re.compile(r"(?P<minutes>\d{1,6})\s*(?:m|min|mins|minuut|minuten|minute|minutes)?\.?")


def wait_minutes(text: str) -> int | None:
    """The minutes of ``:wacht <minuten>`` ("5", "5 min", "5 minuten"); None when unusable."""
    found = _WAIT.fullmatch(text.strip().lower())
    if found is None:
        return None
    minutes = int(found["minutes"])
    return minutes if 1 <= minutes <= MAX_WAIT_MINUTES else None


class _InvalidAnswer(Exception):
    """A form answer that does not fit its field; the catalogue key says why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def _new_id() -> str:
    return uuid.uuid4().hex


def channel_key(name: str) -> str:
    return name_key(name).lstrip("#").replace(" ", "-")


@dataclass
class _OpenForm:
    form: Form
    place: Place
    values: dict[str, FormValue] = field(default_factory=dict)
    member_names: dict[str, str] = field(default_factory=dict)
    """Names as typed in member fields, by member id, so that a member named before they ever
    spoke gets that name (as Slack gives the names of the people picked)."""
    position: int = 0
    lines: list[str] | None = None
    """Lines of a long text being typed after ``<<``, until a line with only ``.``."""

    @property
    def current(self) -> Input | None:
        return self.form.inputs[self.position] if self.position < len(self.form.inputs) else None


class ConsoleSession:
    """One terminal user who can be any member, in any channel."""

    def __init__(
        self,
        runtime: Runtime,
        console: Console,
        texts: Texts,
        *,
        member: str,
        channel: str,
        interactive: bool,
        clock: Callable[[], datetime] = utcnow,
        grace: timedelta = DEFAULT_GRACE,
        reports: Path = REPORTS,
    ) -> None:
        self._runtime = runtime
        self._reports = reports
        """Where report files sent to a member are saved (local mode has no file sharing)."""
        self._report_maker = ReportMaker(runtime.store)
        self._grace = grace
        """How late a weekly post missed while no console ran may still go out."""
        self._console = console
        self._texts = texts
        self.member_name = member
        self.channel = channel_key(channel)
        self._interactive = interactive
        self._buttons: tuple[Button, ...] = ()
        self._buttons_place: Place | None = None
        self._form: _OpenForm | None = None
        self._groups: set[str] = set()
        """Group conversations delivered to, by their exact names: there a line is a group
        message, and its place is named exactly as the outbox addressed the group."""
        self._clock = clock
        self.offset = timedelta()
        """How far ``:wacht`` moved this console's clock ahead of ``clock``."""
        self._turn = asyncio.Lock()
        """One thing at a time: a line, or a look at the deadlines between lines."""
        self.dispatcher = OutboxDispatcher(runtime.store, {Platform.CONSOLE: self}, senders=1)
        """On real time, not the console's: the outbox stamps its messages with real time."""

    def now(self) -> datetime:
        """The console's time: the real clock plus what ``:wacht`` added."""
        return self._clock() + self.offset

    @property
    def prompt(self) -> str:
        if self._form is not None and self._form.current is not None:
            return f"  {self._form.current.label.plain} › "
        return f"{self.member_name} in {self._place().name} › "

    def _actor(self) -> Actor:
        return Actor(
            platform=Platform.CONSOLE,
            external_id=name_key(self.member_name),
            display_name=self.member_name,
        )

    def _place(self, thread_ref: str | None = None) -> Place:
        return self._place_of(self.channel, thread_ref)

    def _place_of(self, channel: str, thread_ref: str | None) -> Place:
        """A channel, or a group conversation when Hoedan delivered one under that name."""
        if channel in self._groups:
            return Place(
                platform=Platform.CONSOLE,
                external_id=channel,
                name=channel,
                kind=SpaceKind.GROUP,
                thread_ref=thread_ref,
            )
        return Place(
            platform=Platform.CONSOLE,
            external_id=channel,
            name=f"#{channel}",
            kind=SpaceKind.CHANNEL,
            thread_ref=thread_ref,
        )

    def _say(self, key: str, **values: object) -> None:
        self._console.print(to_text(self._texts.render(key, **values), style="yellow"))

    def welcome(self) -> None:
        self._say("console.welcome", member=user(self.member_name), channel=self.channel)

    async def handle_line(self, raw: str) -> None:
        """One line of input; then whatever deadline has passed by the console's clock fires."""
        async with self._turn:
            await self._line(raw)
            await self._fire_due()

    async def check_deadlines(
        self, around_output: Callable[[], AbstractContextManager[object]] = nullcontext
    ) -> int:
        """Fire the deadlines that have passed and print what they post; returns how many.

        Between lines (a timer in ``run_console``): ``around_output`` wraps the printing, so a
        terminal can keep the line someone is typing readable.
        """
        async with self._turn:
            return await self._fire_due(around_output=around_output)

    async def _fire_due(
        self,
        at: datetime | None = None,
        around_output: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> int:
        moment = at or self.now()
        try:
            fired = await self._runtime.engine.fire_due(self._runtime.store, now=moment)
            fired += await fire_due_schedules(
                self._runtime.store, self._runtime.config, now=moment, grace=self._grace
            )
            await apply_retention(self._runtime.store, self._runtime.config, now=moment)
        except Exception:
            log.exception("checking flow deadlines failed; trying again after the next line")
            return 0
        if fired:
            with around_output():
                await self.dispatcher.drain()
        return fired

    async def _line(self, raw: str) -> None:
        line = raw.rstrip("\r\n")[:MAX_LINE_CHARS]
        if not self._interactive:
            self._console.print(f"{self.prompt}{line}", style="dim", markup=False, highlight=False)
        if self._form is not None:
            await self._answer_field(line.strip())
            return
        stripped = line.strip()
        if not stripped:
            return
        if stripped.startswith(":"):
            await self._meta(stripped)
        elif stripped.lower() == COMMAND_PREFIX or stripped.lower().startswith(
            COMMAND_PREFIX + " "
        ):
            await self._send(
                CommandEvent(
                    actor=self._actor(),
                    place=self._place(),
                    delivery_id=_new_id(),
                    text=stripped[len(COMMAND_PREFIX) :],
                )
            )
        elif stripped.startswith("/"):
            self._say("console.only_hoedan")
        else:
            message_id = _new_id()
            await self._send(
                MessageEvent(
                    actor=self._actor(),
                    place=self._place(),
                    delivery_id=message_id,
                    text=stripped,
                    message_ref=message_id,
                )
            )

    async def _meta(self, line: str) -> None:
        word, _, rest = line[1:].partition(" ")
        rest = " ".join(rest.split())
        word = word.lower()
        if word in {"als", "as"}:
            if not rest:
                self._say("console.usage_als")
                return
            if len(rest) > MAX_NAME_CHARS:
                self._say("console.name_too_long", limit=MAX_NAME_CHARS)
                return
            self.member_name = rest
            self._say("console.now_member", member=user(rest))
        elif word in {"in"}:
            if not channel_key(rest):
                self._say("console.usage_in")
                return
            if len(rest) > MAX_NAME_CHARS:
                self._say("console.name_too_long", limit=MAX_NAME_CHARS)
                return
            key = channel_key(rest)
            if key not in self._groups and await self._was_group(key):
                self._groups.add(key)
            self.channel = next((name for name in self._groups if channel_key(name) == key), key)
            now_in = "console.now_group" if self.channel in self._groups else "console.now_channel"
            self._say(now_in, channel=user(self.channel))
        elif word in {"kies", "choose"}:
            await self._press(rest)
        elif word in {"wacht", "wait"}:
            await self._wait(rest)
        elif word in {"help", "hulp"}:
            self._say("console.help")
        else:
            self._say("console.unknown_meta", word=user(word))

    async def _was_group(self, key: str) -> bool:
        """Whether Hoedan delivered to a group conversation of this name before (perhaps in an
        earlier run on the same database): then ``:in`` enters it, not a channel."""
        async with self._runtime.store.transaction() as tx:
            # Any subject: every group message Hoedan sends belongs to something (a session).
            found = await tx.outbox.subject_of_place(
                platform=Platform.CONSOLE, channel_ref=key, thread_ref=None, prefix=""
            )
        return found is not None

    async def _wait(self, text: str) -> None:
        """``:wacht <minuten>``: time passes. Every deadline (and weekly slot) on the way fires at
        its own moment, in order, as if Hoedan had been running all along; then the clock stays
        moved."""
        minutes = wait_minutes(text)
        if minutes is None:
            self._say("console.wait_usage", limit=MAX_WAIT_MINUTES)
            return
        start = self.now()
        until = start + timedelta(minutes=minutes)
        zone = ZoneInfo(self._runtime.config.timezone)
        self._say("console.waited", minutes=minutes, time=until.astimezone(zone).strftime("%H:%M"))
        fired = await self._fire_due(at=start)
        moment = start
        for _ in range(MAX_WAIT_STEPS):
            deadline = await self._next_deadline(after=moment, until=until)
            if deadline is None:
                break
            fired += await self._fire_due(at=deadline)
            moment = deadline
        self.offset += timedelta(minutes=minutes)
        fired += await self._fire_due()
        if not fired:
            self._say("console.waited_quietly")

    async def _next_deadline(self, *, after: datetime, until: datetime) -> datetime | None:
        async with self._runtime.store.transaction() as tx:
            due = await tx.flows.due(now=until)
            slots = [
                slot for kind in POSTERS for slot in await tx.rhythm.active_schedules(kind=kind)
            ]
        return min(
            (
                *(f.deadline for f in due if f.deadline is not None and f.deadline > after),
                *(s for s in (next_fire_time(slot, after) for slot in slots) if s <= until),
            ),
            default=None,
        )

    async def _press(self, choice: str) -> None:
        if not self._buttons or self._buttons_place is None:
            self._say("console.no_buttons")
            return
        if not choice.isdigit() or not 1 <= int(choice) <= len(self._buttons):
            self._say("console.bad_choice", count=len(self._buttons))
            return
        button = self._buttons[int(choice) - 1]
        await self._send(
            ActionEvent(
                actor=self._actor(),
                place=self._buttons_place,
                delivery_id=_new_id(),
                action=button.action,
                value=button.value,
            )
        )

    async def _send(self, event: InboundEvent) -> None:
        outcome = await self._runtime.handle(event, now=self.now())
        await self.dispatcher.drain()
        if outcome.form is not None:
            self._open(outcome.form, event.place)

    # Forms -------------------------------------------------------------------------------

    def _open(self, form: Form, place: Place) -> None:
        self._form = _OpenForm(form=form, place=place)
        self._console.print(to_text(form.title, style="bold"))
        self._say("console.form_intro")
        self._ask_current()

    def _ask_current(self) -> None:
        assert self._form is not None
        current = self._form.current
        if current is None:
            return
        if isinstance(current, Choice):
            for index, option in enumerate(current.options, start=1):
                self._console.print(f"    [{index}] ", end="", style="bold magenta")
                self._console.print(to_text(option.label))
        hint = None
        if isinstance(current, Choice) and current.multiple:
            hint = "console.form_several"
        elif isinstance(current, Scale):
            hint = "console.form_scale"
        elif isinstance(current, Checkbox):
            hint = "console.form_yes_no"
        elif isinstance(current, MultiMember):
            hint = "console.form_members"
        elif isinstance(current, LongText):
            hint = "console.form_long"
        if isinstance(current, LongText) and current.initial:
            self._say("console.form_keep")
            for line in current.initial.splitlines():
                self._console.print(f"    {line}", markup=False, highlight=False)
        if hint:
            self._say(hint)
        if not current.required:
            self._say("console.form_optional")
        if self._interactive:
            return
        self._console.print(to_text(current.label, style="bold"))

    async def _answer_field(self, answer: str) -> None:
        assert self._form is not None
        if answer.lower() in {":annuleer", ":cancel"}:
            self._form = None
            self._say("console.form_cancelled")
            return
        current = self._form.current
        assert current is not None
        if isinstance(current, LongText):
            typed = self._long_text(current, answer)
            if typed is None:
                return
            answer = typed
        try:
            value = self._parse_value(current, answer)
        except _InvalidAnswer as invalid:
            self._say(invalid.key, **invalid.values)
            self._ask_current()
            return
        self._form.values[current.name] = value
        if isinstance(current, MultiMember):
            for part in answer.split(","):
                if part.strip():
                    self._form.member_names[name_key(part)] = part.strip()
        self._form.position += 1
        if self._form.current is not None:
            self._ask_current()
            return
        finished, self._form = self._form, None
        await self._send(
            FormSubmitted(
                actor=self._actor(),
                place=finished.place,
                delivery_id=_new_id(),
                form_id=finished.form.form_id,
                values=finished.values,
                context=finished.form.context,
                member_names=finished.member_names,
            )
        )

    def _long_text(self, field_input: LongText, answer: str) -> str | None:
        """One line as it is; ``.`` keeps the suggested text; ``<<`` starts several lines,
        ended by a line with only ``.``. None while lines are still coming."""
        assert self._form is not None
        lines = self._form.lines
        if lines is not None:
            if answer != ".":
                lines.append(answer)
                return None
            self._form.lines = None
            return "\n".join(lines).strip()
        if answer == "<<":
            self._form.lines = []
            return None
        if answer == "." and field_input.initial:
            return field_input.initial
        return answer

    def _parse_value(self, field_input: Input, answer: str) -> FormValue:
        if not answer or answer == "-":
            if field_input.required:
                raise _InvalidAnswer("console.form_required")
            return None
        if isinstance(field_input, Choice):
            if field_input.multiple:
                return [
                    _option_value(field_input, part) for part in answer.split(",") if part.strip()
                ]
            return _option_value(field_input, answer)
        if isinstance(field_input, Scale):
            if answer.isdigit() and 1 <= int(answer) <= 5:
                return int(answer)
            raise _InvalidAnswer("console.form_scale")
        if isinstance(field_input, Checkbox):
            return answer.lower() in {"ja", "j", "yes", "y", "1"}
        if isinstance(field_input, MultiMember):
            return [name_key(part) for part in answer.split(",") if part.strip()]
        if len(answer) > field_input.max_length:
            raise _InvalidAnswer("console.form_too_long", limit=field_input.max_length)
        return answer

    # Delivery: the console is the Deliverer for its own platform --------------------------

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        if message.kind == DeliveryKind.FILE:
            return await self._save_report(message)
        card = Message.model_validate(message.payload)
        if message.kind == DeliveryKind.GROUP and message.channel_ref:
            self._groups.add(message.channel_ref)
        self._console.print(render(card, title=self._title(message), boxed=self._interactive))
        if card.buttons:
            self._buttons = card.buttons
            self._buttons_place = self._place_of(
                message.channel_ref or self.channel, message.thread_ref
            )
        return Sent(external_ref=_new_id())

    async def _save_report(self, message: OutboxMessage) -> DeliveryResult:
        report = await self._report_maker.make(ReportRequest.model_validate(message.payload))
        path = self._reports / Path(report.filename).name
        try:
            self._reports.mkdir(parents=True, exist_ok=True)
            write_atomically(path, report.data)
        except OSError as exc:
            return Failed(error=f"cannot save {path}: {exc.strerror or exc}")
        self._console.print(
            self._texts.plain("console.report_saved", member=message.member_ref, path=str(path)),
            markup=False,
        )
        return Sent(external_ref=str(path))

    def _title(self, message: OutboxMessage) -> str:
        kind = DeliveryKind(message.kind)
        if kind is DeliveryKind.DIRECT:
            return self._texts.plain("console.title.direct", member=message.member_ref)
        if kind is DeliveryKind.GROUP:
            return self._texts.plain("console.title.group", name=message.channel_ref)
        if kind is DeliveryKind.EPHEMERAL:
            return self._texts.plain(
                "console.title.private", member=message.member_ref, channel=message.channel_ref
            )
        if message.thread_ref:
            return self._texts.plain("console.title.thread", channel=message.channel_ref)
        return self._texts.plain("console.title.channel", channel=message.channel_ref)


def _option_value(choice: Choice, answer: str) -> str:
    """An option picked by its number or its label."""
    options = choice.options
    answer = answer.strip()
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1].value
    for option in options:
        if name_key(option.label.plain) == name_key(answer):
            return option.value
    raise _InvalidAnswer("console.bad_choice", count=len(options))
