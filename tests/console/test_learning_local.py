"""Local mode fires weekly learning prompts by the console's own clock, as it does deadlines."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Console

from bot.console.session import ConsoleSession
from flows.config import FlowConfig
from flows.runtime import Runtime
from flows.texts import texts_for
from storage.store import Store
from tests.flows.helpers import MONDAY_MORNING

HEADING = "Leervraag van de week"


@dataclass
class Clock:
    now: datetime = MONDAY_MORNING

    def __call__(self) -> datetime:
        return self.now


async def test_a_planned_prompt_appears_when_its_time_comes_and_only_once(store: Store) -> None:
    clock = Clock()
    output = io.StringIO()
    session = ConsoleSession(
        Runtime(store, FlowConfig(admins=frozenset({"beheer"}))),
        Console(file=output, width=200, highlight=False, color_system=None),
        texts_for("nl"),
        member="Beheer",
        channel="algemeen",
        interactive=False,
        clock=clock,
    )
    # 09:00 UTC is 10:00 in Amsterdam: the slot is half an hour away.
    await session.handle_line("/hoedan leervraag planning maandag 10:30")
    assert "maandag om 10:30" in output.getvalue()
    await session.handle_line(":wacht 20")
    assert HEADING not in output.getvalue()
    await session.handle_line(":wacht 20")
    assert output.getvalue().count(HEADING) == 1
    await session.handle_line(":wacht 5")
    assert output.getvalue().count(HEADING) == 1

    # The console was closed for a week and eight hours: that slot is too old, it is skipped.
    clock.now += timedelta(weeks=1, hours=8)
    assert await session.check_deadlines() == 0
    assert output.getvalue().count(HEADING) == 1
    # Opened again within the grace of the next slot: it comes, once.
    clock.now += timedelta(weeks=1) - timedelta(hours=3)
    assert await session.check_deadlines() == 1
    assert await session.check_deadlines() == 0
    assert output.getvalue().count(HEADING) == 2


async def test_a_long_wait_posts_a_slot_on_the_way_at_its_own_moment(store: Store) -> None:
    output = io.StringIO()
    session = ConsoleSession(
        Runtime(store, FlowConfig(admins=frozenset({"beheer"}))),
        Console(file=output, width=200, highlight=False, color_system=None),
        texts_for("nl"),
        member="Beheer",
        channel="algemeen",
        interactive=False,
        clock=Clock(),
    )
    await session.handle_line("/hoedan leervraag planning maandag 10:30")
    # Ten hours: the slot lies nine and a half hours back at the end, beyond the grace; but the
    # wait stops at it, as Hoedan would have posted it had it been running.
    await session.handle_line(":wacht 600")
    assert output.getvalue().count(HEADING) == 1
