"""The console's clock: ``:wacht`` moves it, events carry it, deadlines fire by it.

In-process, with a clock the test holds: times in the output are exact (09:00 UTC is 10:00 in
Amsterdam). The piped and terminal loops of ``run_console`` are driven here too, the terminal
one with a fake ``input()`` so that a phase can end while nobody types.
"""

from __future__ import annotations

import asyncio
import io
import queue
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from rich.console import Console

from bot import scheduler
from bot.app import Hoedan
from bot.console.run import CLEAR_LINE, run_console
from bot.console.session import ConsoleSession, wait_minutes
from bot.settings import Settings
from flows.config import FlowConfig
from flows.events import InboundEvent
from flows.runtime import Outcome, Runtime
from flows.texts import texts_for
from storage.store import Store
from tests.console.test_intervision_local import (
    COACH_AND_START,
    GROUP,
    SHARE_CASE,
    after,
    blocks,
)
from tests.flows.helpers import MONDAY_MORNING

WAIT_USAGE = (
    "Hoeveel minuten laat je verstrijken? Geef een heel getal van 1 tot en met 600, "
    "bijvoorbeeld :wacht 5."
)


@dataclass
class Clock:
    now: datetime = MONDAY_MORNING

    def __call__(self) -> datetime:
        return self.now


class RecordingRuntime(Runtime):
    """The real runtime, remembering the time every event was handled at."""

    def __init__(self, store: Store) -> None:
        super().__init__(store, FlowConfig(admins=frozenset({"beheer"})))
        self.moments: list[tuple[str, datetime | None]] = []

    async def handle(self, event: InboundEvent, *, now: datetime | None = None) -> Outcome:
        self.moments.append((type(event).__name__, now))
        return await super().handle(event, now=now)


@dataclass
class Terminal:
    session: ConsoleSession
    runtime: RecordingRuntime
    clock: Clock
    output: io.StringIO

    def printed(self) -> str:
        return self.output.getvalue()

    async def lines(self, *lines: str) -> None:
        for line in lines:
            await self.session.handle_line(line)


def _console(output: io.StringIO, *, terminal: bool = False) -> Console:
    return Console(
        file=output, width=200, highlight=False, color_system=None, force_terminal=terminal
    )


@pytest.fixture
async def terminal(store: Store) -> Terminal:
    runtime = RecordingRuntime(store)
    clock = Clock()
    output = io.StringIO()
    session = ConsoleSession(
        runtime,
        _console(output),
        texts_for("nl"),
        member="Anna",
        channel="algemeen",
        interactive=False,
        clock=clock,
    )
    return Terminal(session=session, runtime=runtime, clock=clock, output=output)


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("5", 5),
        (" 15 ", 15),
        ("5 min", 5),
        ("5min", 5),
        ("10 minuten", 10),
        ("1 minuut", 1),
        ("600", 600),
        ("0", None),
        ("601", None),
        ("-5", None),
        ("1.5", None),
        ("vijf", None),
        ("", None),
        ("5 uur", None),
        ("99999999", None),
    ],
)
def test_wait_minutes_takes_a_whole_number_of_minutes_from_1_to_600(
    typed: str, minutes: int | None
) -> None:
    assert wait_minutes(typed) == minutes


async def test_wait_refuses_what_is_not_a_number_of_minutes_and_moves_nothing(
    terminal: Terminal,
) -> None:
    await terminal.lines(":wacht", ":wacht 0", ":wacht 601", ":wacht vijf", ":wait -1")

    printed = terminal.printed()
    assert printed.count(WAIT_USAGE) == 5
    assert "⏩" not in printed
    assert terminal.session.now() == MONDAY_MORNING


async def test_wait_moves_the_clock_of_every_later_event(terminal: Terminal) -> None:
    await terminal.lines("/hoedan help", ":wacht 10", "/hoedan help", ":wacht 1 minuut", "Hallo")

    printed = terminal.printed()
    assert "⏩ 10 minuten later: het is nu 10:10.\nEr liep in die tijd niets af.\n" in printed
    assert "⏩ 1 minuut later: het is nu 10:11." in printed
    assert terminal.session.now() == MONDAY_MORNING + timedelta(minutes=11)
    assert terminal.runtime.moments == [
        ("CommandEvent", MONDAY_MORNING),
        ("CommandEvent", MONDAY_MORNING + timedelta(minutes=10)),
        ("MessageEvent", MONDAY_MORNING + timedelta(minutes=11)),
    ]
    # Real time still runs under the offset.
    terminal.clock.now += timedelta(seconds=30)
    assert terminal.session.now() == MONDAY_MORNING + timedelta(minutes=11, seconds=30)


async def test_the_help_names_wait(terminal: Terminal) -> None:
    await terminal.lines(":help")

    assert ":wacht <minuten>  laat de tijd verstrijken" in terminal.printed()


async def test_a_long_wait_fires_every_deadline_on_the_way_at_its_own_time(
    terminal: Terminal,
) -> None:
    await terminal.lines(*COACH_AND_START, *SHARE_CASE, ":wacht 30")

    printed = terminal.printed()
    assert "⏩ 30 minuten later: het is nu 10:30." in printed
    passed = [block.text for block in after(printed, ":wacht 30")]
    assert [text.splitlines()[0] for text in passed] == [
        "⏳ Nog één minuut voor Het incident (tot 10:05). Rond maar vast af.",
        "Fase 2 van 7: Informatieronde",
        "⏳ Nog één minuut voor Informatieronde (tot 10:15). Rond maar vast af.",
        "Fase 3 van 7: Kernvraag",
        "⏳ Nog één minuut voor Kernvraag (tot 10:20). Rond maar vast af.",
        "Fase 4 van 7: Eerst zelf nadenken",
        "⏳ Nog één minuut voor Eerst zelf nadenken (tot 10:23). Rond maar vast af.",
        "Fase 5 van 7: Hoe zou jij het aanpakken?",
    ]
    assert "Tot: 10:15 (10 min)" in passed[1]
    assert "Tot: 10:38 (15 min)" in passed[7]

    await terminal.lines(":wacht 7")
    [warning] = after(terminal.printed(), ":wacht 7")
    assert warning.title == GROUP
    assert warning.text.startswith("⏳ Nog één minuut voor Hoe zou jij het aanpakken? (tot 10:38)")
    await terminal.lines(":wacht 1")
    [sixth] = after(terminal.printed(), ":wacht 1")
    assert sixth.lines[0] == "Fase 6 van 7: Reactie van de inbrenger"
    assert "Tot: 10:43 (5 min)" in sixth.text


def _hoedan(runtime: Runtime) -> Hoedan:
    return Hoedan(
        settings=Settings(_env_file=None, language="nl"), store=runtime.store, runtime=runtime
    )


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_piped_input_first_fires_a_deadline_that_passed_while_no_console_ran(
    terminal: Terminal,
) -> None:
    await terminal.lines(*COACH_AND_START, *SHARE_CASE)
    output = io.StringIO()

    await run_console(
        _hoedan(terminal.runtime),
        member="Bram",
        channel="algemeen",
        stdin=io.StringIO(":in intervisie-1\n"),
        console=_console(output),
        clock=Clock(MONDAY_MORNING + timedelta(hours=3)),
    )

    printed = output.getvalue()
    [moved] = blocks(printed[: printed.index("Bram in #algemeen › :in intervisie-1")])
    assert moved.title == GROUP
    assert moved.lines[0] == "Fase 2 van 7: Informatieronde"
    assert "Tot: 13:10 (10 min)" in moved.text
    assert "Nog één minuut" not in printed
    assert "Je bent nu in het groepsgesprek intervisie-1." in printed


async def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait until something has happened (polling; never a guess at how long it takes)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 10
    while not condition():
        if loop.time() > give_up:
            raise AssertionError(f"still waiting for {what}")
        await asyncio.sleep(0.01)


async def test_in_a_terminal_a_phase_ends_while_nobody_types(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler, "DEADLINE_SECONDS", 0.01)
    typed: queue.Queue[str | None] = queue.Queue()

    def keyboard(_prompt: str) -> str:
        line = typed.get(timeout=30)
        if line is None:
            raise EOFError
        return line

    monkeypatch.setattr("builtins.input", keyboard)
    output = io.StringIO()
    clock = Clock()
    running = asyncio.ensure_future(
        run_console(
            _hoedan(terminal.runtime),
            member="Carla",
            channel="algemeen",
            stdin=_Tty(),
            console=_console(output, terminal=True),
            clock=clock,
        )
    )
    for line in [*COACH_AND_START, *SHARE_CASE[:3], ":in intervisie-1"]:
        typed.put(line)
    await _until(lambda: "groepsgesprek intervisie-1.\n" in output.getvalue(), "the last line")
    prompt = "Anna in intervisie-1 › "
    assert "Fase 1 van 7" in output.getvalue()
    assert "Nog één minuut" not in output.getvalue()

    clock.now += timedelta(minutes=4)
    await _until(lambda: "Nog één minuut" in output.getvalue(), "the warning")
    clock.now += timedelta(minutes=1)
    await _until(
        lambda: "Fase 2 van 7" in output.getvalue() and output.getvalue().endswith(prompt),
        "the next phase, and the prompt back under it",
    )
    printed = output.getvalue()
    ticked = printed[printed.index("groepsgesprek intervisie-1.\n") :]
    assert ticked.count(CLEAR_LINE) == 2
    assert re.search(r"\x1b\[2K.*Nog één minuut.*Anna in intervisie-1 › ", ticked, re.DOTALL)
    assert "Tot: 10:15 (10 min)" in ticked
    assert typed.empty()

    typed.put(None)
    await asyncio.wait_for(running, timeout=10)
    assert output.getvalue().endswith("Tot ziens!\n")
