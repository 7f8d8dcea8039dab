"""What the fault tests share: the real ``hoedan run`` process, started with a moved clock and
killed without warning, and questions about what the fake Slack holds once it is all over."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

import aiohttp
from sqlmodel import col, select

from bot.slack.deliver import METADATA_EVENT
from storage.enums import DeliveryKind, OutboxStatus
from storage.models import OutboxMessage
from storage.store import Store
from tests.slack.conftest import Clock
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_hoedan_run import free_port, slack_environment, wait_healthy

FAULT_HOEDAN_RUN = """
import sys
from datetime import timedelta

import storage.types

wall_clock = storage.types.utcnow
shift = timedelta(seconds=float(sys.argv[1]))
storage.types.utcnow = lambda: wall_clock() + shift

import bot.scheduler

bot.scheduler.SCHEDULE_SECONDS = bot.scheduler.DEADLINE_SECONDS = float(sys.argv[2])

from bot.cli import app

app(["run"], prog_name="hoedan")
"""
"""``hoedan run`` living ``sys.argv[1]`` seconds ahead, checking the weekly slots and the flows'
deadlines every ``sys.argv[2]`` seconds instead of every 30 and 5.

Every module takes ``utcnow`` from ``storage.types`` by name, so moving it before they are
imported moves the whole process (as ``SHIFTED_HOEDAN_RUN`` in the intervision tests does); the
quicker ticks only save the test the wait for the scheduler's first look.
"""

ERROR_TEXTS = (
    "Sorry, daar ging bij mij iets mis",  # error.unexpected (prompts/nl/texts.toml)
    "database is locked",
    "Traceback",
)
"""What must never reach a person, nor (the last two) a log."""


POSTED_KINDS = frozenset({DeliveryKind.POST, DeliveryKind.DIRECT, DeliveryKind.GROUP})
"""Outbox kinds that become a ``chat.postMessage`` carrying the row's key."""


def fake_slack_on(clock: Clock) -> FakeSlack:
    """A fake Slack whose message timestamps follow the test's clock, as the real Slack's
    agree with Hoedan's: the check for an earlier post looks back from the outbox row's time."""
    return FakeSlack(clock=lambda: clock().timestamp())


@dataclass
class HoedanProcess:
    """A ``hoedan run`` subprocess on a free port, its log going to a file."""

    process: asyncio.subprocess.Process
    url: str
    log_path: Path
    log_file: IO[bytes]

    @property
    def log(self) -> str:
        """Everything the process wrote (it writes to the file itself; nothing is buffered
        here)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no draining, no lock released by Hoedan itself."""
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 30)
        assert self.process.returncode == -signal.SIGKILL

    async def stop(self) -> None:
        """SIGTERM, as a deploy does; it must end cleanly."""
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 30)
        assert self.process.returncode == 0, self.log

    async def ensure_gone(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.log_file.close()


async def start_hoedan_process(
    tmp_path: Path,
    slack: FakeSlack,
    database_url: str,
    *,
    shift: timedelta,
    name: str,
    tick_seconds: float = 1.0,
    **variables: str,
) -> HoedanProcess:
    """``hoedan run`` (see :data:`FAULT_HOEDAN_RUN`), healthy when this returns."""
    port = free_port()
    env = {**slack_environment(tmp_path, slack, port), "DATABASE_URL": database_url, **variables}
    log_path = tmp_path / f"{name}.log"
    log_file = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FAULT_HOEDAN_RUN,
        str(shift.total_seconds()),
        str(tick_seconds),
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log_file,
        stderr=log_file,
    )
    started = HoedanProcess(process, f"http://127.0.0.1:{port}", log_path, log_file)
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, f"{started.url}/healthz", process)
    except BaseException:
        await started.ensure_gone()
        raise
    return started


async def wait_until(
    what: str, predicate: Callable[[], Awaitable[bool]], *, seconds: float = 30.0
) -> None:
    """Poll an async ``predicate`` every 50 ms; generous, since CI machines are busy."""
    deadline = time.monotonic() + seconds
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)


async def outbox_rows(store: Store) -> list[OutboxMessage]:
    async with store.transaction() as tx:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
        return list((await tx.session.exec(statement)).all())


def outbox_keys_in_slack(slack: FakeSlack) -> Counter[str]:
    """How often each outbox message is in Slack, by the key every post carries."""
    found: Counter[str] = Counter()
    for message in slack.messages():
        metadata = message["metadata"]
        if isinstance(metadata, dict) and metadata.get("event_type") == METADATA_EVENT:
            found[str(metadata["event_payload"]["key"])] += 1
    return found


def assert_each_sent_once(rows: list[OutboxMessage], slack: FakeSlack) -> None:
    """Every row is sent, and every posted one is in Slack exactly once (ephemerals carry no
    key; a test counts those itself)."""
    assert [row.idempotency_key for row in rows if row.status != OutboxStatus.SENT] == []
    in_slack = outbox_keys_in_slack(slack)
    doubled = {key: count for key, count in in_slack.items() if count != 1}
    assert doubled == {}
    posted = {row.idempotency_key for row in rows if row.kind in POSTED_KINDS}
    assert posted <= set(in_slack), sorted(posted - set(in_slack))
