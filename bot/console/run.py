"""The local-mode loop: reads lines from a terminal or a pipe until the input ends."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from rich.console import Console

from bot.app import Hoedan
from bot.console.session import ConsoleSession
from flows.texts import texts_for


async def run_console(
    hoedan: Hoedan,
    *,
    member: str,
    channel: str,
    stdin: TextIO = sys.stdin,
    console: Console | None = None,
) -> None:
    """Piped input runs line by line and returns at its end; a terminal gets prompts."""
    interactive = stdin.isatty()
    out = console or Console(highlight=False, soft_wrap=not interactive)
    texts = texts_for(hoedan.settings.language)
    session = ConsoleSession(
        hoedan.runtime, out, texts, member=member, channel=channel, interactive=interactive
    )
    if interactive:
        import readline  # noqa: F401  (line editing and history for input())

        session.welcome()
    while True:
        if interactive:
            try:
                line = await asyncio.to_thread(input, session.prompt)
            except (EOFError, KeyboardInterrupt):
                out.print()
                out.print(texts.plain("cli.bye"))
                return
        else:
            line = stdin.readline()
            if not line:
                return
        await session.handle_line(line)
