"""The local-mode loop: reads lines from a terminal or a pipe until the input ends.

Flow deadlines (the end of an intervision phase) fire by the console's own clock: after every
line, at start-up (a deadline that passed while no console ran fires once, then), and in a
terminal also every ``DEADLINE_SECONDS`` while the console waits for input, as the server's
scheduler does. ``:wacht <minuten>`` moves that clock forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TextIO

from rich.console import Console

from bot import scheduler
from bot.app import Hoedan
from bot.console.session import ConsoleSession
from flows.texts import texts_for
from storage.types import utcnow

CLEAR_LINE = "\r\x1b[2K"


async def run_console(
    hoedan: Hoedan,
    *,
    member: str,
    channel: str,
    stdin: TextIO = sys.stdin,
    console: Console | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Piped input runs line by line and returns at its end; a terminal gets prompts."""
    interactive = stdin.isatty()
    out = console or Console(highlight=False, soft_wrap=not interactive)
    texts = texts_for(hoedan.settings.language)
    session = ConsoleSession(
        hoedan.runtime,
        out,
        texts,
        member=member,
        channel=channel,
        interactive=interactive,
        clock=clock,
        grace=hoedan.settings.missed_grace,
    )
    if not interactive:
        await session.check_deadlines()
        while line := stdin.readline():
            await session.handle_line(line)
        return

    import readline  # noqa: F401  (line editing and history for input())

    session.welcome()
    await session.check_deadlines()
    typing = InputLine(out)
    ticking = asyncio.ensure_future(keep_time(session, typing))
    try:
        while True:
            try:
                with typing.reading(session.prompt):
                    line = await asyncio.to_thread(input, session.prompt)
            except (EOFError, KeyboardInterrupt):
                out.print()
                out.print(texts.plain("cli.bye"))
                return
            await session.handle_line(line)
    finally:
        ticking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticking


async def keep_time(session: ConsoleSession, typing: InputLine) -> None:
    """Between lines: fire what is due every few seconds, printed above the line being typed."""
    while True:
        await asyncio.sleep(scheduler.DEADLINE_SECONDS)
        await session.check_deadlines(around_output=typing.interrupted)


class InputLine:
    """The line someone is typing at the prompt, kept readable when Hoedan prints meanwhile.

    ``input()`` runs in a thread; output that arrives then (a phase that ended) first clears the
    prompt line, is printed, and then the prompt and what was typed so far are written again.
    """

    def __init__(self, console: Console) -> None:
        self._console = console
        self._prompt: str | None = None

    @contextlib.contextmanager
    def reading(self, prompt: str) -> Iterator[None]:
        self._prompt = prompt
        try:
            yield
        finally:
            self._prompt = None

    @contextlib.contextmanager
    def interrupted(self) -> Iterator[None]:
        prompt = self._prompt
        if prompt is None or not self._console.is_terminal:
            yield
            return
        file = self._console.file
        file.write(CLEAR_LINE)
        file.flush()
        try:
            yield
        finally:
            file.write(prompt + _typed_so_far())
            file.flush()


def _typed_so_far() -> str:
    try:
        import readline
    except ImportError:  # no readline (Windows): the prompt comes back empty
        return ""
    return readline.get_line_buffer()
