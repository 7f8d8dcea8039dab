"""Group conversations and threads by subject in local mode: printed, and answered from there."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from rich.console import Console
from sqlmodel import select

from bot.console.session import ConsoleSession
from flows.config import FlowConfig
from flows.events import InboundEvent
from flows.messages import Button, Message, Paragraph
from flows.outbound import Outbound, ToGroup, ToSpace, enqueue
from flows.runtime import Outcome, Runtime
from flows.text import ours
from flows.texts import texts_for
from storage.enums import OutboxStatus, Platform, SpaceKind
from storage.models import Space
from storage.repositories.members import name_key
from storage.store import Store


class RecordingRuntime(Runtime):
    """The real runtime, remembering every event the console hands it."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, FlowConfig())
        self.events: list[InboundEvent] = []

    async def handle(self, event: InboundEvent, *, now: datetime | None = None) -> Outcome:
        self.events.append(event)
        return await super().handle(event, now=now)


@dataclass
class Terminal:
    session: ConsoleSession
    runtime: RecordingRuntime
    output: io.StringIO
    members: dict[str, int] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        return self.runtime.store

    def printed(self) -> str:
        return self.output.getvalue()

    async def lines(self, *lines: str) -> None:
        for line in lines:
            await self.session.handle_line(line)

    async def member(self, name: str) -> int:
        """A console member (id = folded name), created as a flow would find it."""
        async with self.store.transaction() as tx:
            network = await tx.networks.get_or_create(
                slug=self.runtime.config.network_slug, name=self.runtime.config.network_name
            )
            assert network.id is not None
            member = await tx.members.get_or_create(
                network_id=network.id,
                platform=Platform.CONSOLE,
                external_id=name_key(name),
                display_name=name,
            )
        assert member.id is not None
        return member.id

    async def channel(self, name: str) -> int:
        async with self.store.transaction() as tx:
            network = await tx.networks.get_or_create(
                slug=self.runtime.config.network_slug, name=self.runtime.config.network_name
            )
            assert network.id is not None
            space = await tx.spaces.get_or_create(
                network_id=network.id,
                platform=Platform.CONSOLE,
                external_id=name,
                name=f"#{name}",
                kind=SpaceKind.CHANNEL,
            )
        assert space.id is not None
        return space.id

    async def deliver(self, key: str, *outbound: Outbound) -> None:
        """Queue effects as a flow does, then let the console deliver them."""
        async with self.store.transaction() as tx:
            await enqueue(tx, list(outbound), key_prefix=key)
        await self.session.dispatcher.drain()


@pytest.fixture
async def terminal(store: Store) -> Terminal:
    runtime = RecordingRuntime(store)
    output = io.StringIO()
    console = Console(file=output, width=200, highlight=False, color_system=None)
    session = ConsoleSession(
        runtime, console, texts_for("nl"), member="Anna", channel="algemeen", interactive=False
    )
    return Terminal(session=session, runtime=runtime, output=output)


def _card(line: str, *buttons: Button) -> Message:
    return Message(parts=(Paragraph(text=ours(line)),), buttons=buttons)


async def test_a_group_message_is_printed_as_the_group_conversation(terminal: Terminal) -> None:
    anna, bram = await terminal.member("Anna"), await terminal.member("Bram")

    await terminal.deliver(
        "g", Outbound(ToGroup((anna, bram), "intervisie-3"), _card("Welkom bij de intervisie"))
    )

    printed = terminal.printed()
    assert "Hoedan in groepsgesprek intervisie-3" in printed
    assert "Welkom bij de intervisie" in printed
    async with terminal.store.transaction() as tx:
        row = await tx.outbox.by_key("g:0")
    assert row is not None
    assert (row.status, row.channel_ref, row.member_ref) == (
        OutboxStatus.SENT,
        "intervisie-3",
        "anna,bram",
    )


async def test_in_a_group_conversation_lines_and_buttons_come_from_a_group_place(
    terminal: Terminal,
) -> None:
    anna, bram = await terminal.member("Anna"), await terminal.member("Bram")
    button = Button(label=ours("Open vragen"), action="questions.list", value="1")
    await terminal.deliver(
        "g",
        Outbound(ToGroup((anna, bram), "intervisie-3"), _card("Welkom", button), "intervision:3"),
    )

    await terminal.lines(
        ":in Intervisie-3",
        "Wat fijn dat jullie er zijn",
        "/hoedan help",
        ":kies 1",
        ":in algemeen",
        "En nu in het kanaal",
    )

    assert "Je bent nu in het groepsgesprek intervisie-3." in terminal.printed()
    places = [(event.place.external_id, event.place.kind) for event in terminal.runtime.events]
    group = ("intervisie-3", SpaceKind.GROUP)
    assert places == [group, group, group, ("algemeen", SpaceKind.CHANNEL)]
    async with terminal.store.transaction() as tx:
        space = (
            await tx.session.exec(select(Space).where(Space.external_id == "intervisie-3"))
        ).one()
        owner = await tx.outbox.subject_of_place(
            platform=Platform.CONSOLE,
            channel_ref=space.external_id,
            thread_ref=None,
            prefix="intervision:",
        )
    assert space.kind == SpaceKind.GROUP
    assert owner == "intervision:3"


async def test_a_name_hoedan_never_wrote_to_is_a_channel(terminal: Terminal) -> None:
    await terminal.lines(":in intervisie-3", "Hallo")

    assert "Je bent nu in #intervisie-3." in terminal.printed()
    [event] = terminal.runtime.events
    assert event.place.kind == SpaceKind.CHANNEL


async def test_posts_for_a_subjects_thread_are_printed_in_its_thread(terminal: Terminal) -> None:
    space = await terminal.channel("algemeen")

    await terminal.deliver(
        "t",
        Outbound(ToSpace(space), _card("Intervisie 5 begint"), subject="intervision:5"),
        Outbound(ToSpace(space, thread_subject="intervision:5"), _card("Fase 1")),
    )

    printed = terminal.printed()
    assert printed.index("Intervisie 5 begint") < printed.index("Fase 1")
    assert "Hoedan in het draadje in #algemeen" in printed
    async with terminal.store.transaction() as tx:
        phase = await tx.outbox.by_key("t:1")
    assert phase is not None
    assert phase.status == OutboxStatus.SENT
