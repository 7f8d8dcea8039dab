"""Starting, watching and stopping the processes under test, and reading Hoedan's database.

Every process runs in a session of its own, so a Ctrl-C in the terminal reaches only the
benchmark, which then stops them in order (SIGTERM, then SIGKILL after a grace period) instead
of leaving Hoedan draining a backlog in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

import aiohttp

from tests.slack.signing import SIGNING_SECRET

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOEDAN = Path(sys.executable).parent / "hoedan"
BOT_TOKEN = "xoxb-bench-token"  # noqa: S105  (a fake token for the fake Slack)
STOP_GRACE = 15.0
"""Seconds a process gets to stop after SIGTERM before it is killed."""


def free_port() -> int:
    """A TCP port nothing listens on right now (there is a small race; fine for a benchmark)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the caller's Hoedan/Slack settings, plus ``extra``.

    A developer's own ``SLACK_BOT_TOKEN`` or ``DATABASE_URL`` must never leak into a run that
    floods the server with events.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HOEDAN_", "SLACK_", "DATABASE_URL"))
    }
    env.update(extra)
    return env


class Processes:
    """The child processes of one benchmark run; leaving the ``with`` block stops them all."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()

    def start(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        log: Path,
        stdout_pipe: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` with stderr (and stdout unless piped) going to the file ``log``."""
        log.parent.mkdir(parents=True, exist_ok=True)
        log_file = log.open("wb")
        self._logs.append(log_file)
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and scripts)
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else log_file,
            stderr=log_file,
            start_new_session=True,
        )
        self._running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], *, grace: float = STOP_GRACE) -> int:
        """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; returns the exit code."""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self._running:
            self._running.remove(process)
        return process.returncode

    def stop_all(self) -> None:
        """Stop every process still running, newest first (the fake Slack outlives its user)."""
        for process in reversed(list(self._running)):
            self.stop(process, grace=5.0)
        for log_file in self._logs:
            log_file.close()
        self._logs.clear()


@dataclass
class FakeSlackProcess:
    process: subprocess.Popen[bytes]
    api_url: str


async def start_fake_slack(processes: Processes, workdir: Path, *args: str) -> FakeSlackProcess:
    """Start ``bench._fake_slack`` (with its command-line ``args``) and read the API URL it
    prints."""
    process = processes.start(
        [PYTHON, "-m", "bench._fake_slack", *args],
        cwd=REPO,
        env=clean_env(),
        log=workdir / "fake_slack.log",
        stdout_pipe=True,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), timeout=30)
    api_url = line.decode().strip()
    if not api_url.startswith("http"):
        processes.stop(process)
        raise RuntimeError(f"the fake Slack did not start; see {workdir / 'fake_slack.log'}")
    return FakeSlackProcess(process, api_url)


@dataclass(frozen=True)
class FakeReport:
    """What the fake Slack received, as it printed it when stopped."""

    calls: dict[str, int]
    posts: dict[str, int]
    """Accepted messages per channel."""
    first: float | None
    last: float | None
    """When the first and the last message were accepted (epoch seconds)."""
    refused: int
    """Posts answered with a 429."""


async def stop_fake_slack(processes: Processes, fake: FakeSlackProcess) -> FakeReport:
    """Stop the fake and return its report (empty when it printed none)."""
    await asyncio.to_thread(processes.stop, fake.process)
    assert fake.process.stdout is not None
    rest = fake.process.stdout.read().decode().strip().splitlines()
    with contextlib.suppress(IndexError, ValueError, KeyError, TypeError):
        found = json.loads(rest[-1])
        return FakeReport(
            calls={str(key): int(value) for key, value in found["calls"].items()},
            posts={str(key): int(value) for key, value in found["posts"].items()},
            first=found["first"],
            last=found["last"],
            refused=int(found["refused"]),
        )
    return FakeReport(calls={}, posts={}, first=None, last=None, refused=0)


@dataclass
class Target:
    """A server under test: where to send events, and how to find it afterwards."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    db_path: Path | None = None

    @property
    def events_url(self) -> str:
        return f"{self.base_url}/slack/events"

    @property
    def health_url(self) -> str:
        return f"{self.base_url}/healthz"


def start_hoedan(processes: Processes, workdir: Path, api_url: str) -> Target:
    """``hoedan run`` in HTTP mode on a fresh SQLite file, its working folder ``workdir``.

    Running in ``workdir`` keeps a ``.env`` in the repository from changing the settings.
    """
    port = free_port()
    db_path = workdir / "hoedan.db"
    log = workdir / "hoedan.log"
    env = clean_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        PORT=str(port),
        HOEDAN_HOST="127.0.0.1",
        DATABASE_URL=f"sqlite:///{db_path}",
        HOEDAN_LOG_LEVEL="WARNING",
    )
    process = processes.start([str(HOEDAN), "run"], cwd=workdir, env=env, log=log)
    return Target("Hoedan", process, f"http://127.0.0.1:{port}", log, db_path)


def start_bare_bolt(processes: Processes, workdir: Path, api_url: str) -> Target:
    """``bench.bare_bolt`` with the same secret, token and fake Slack as Hoedan."""
    port = free_port()
    log = workdir / "bare_bolt.log"
    env = clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    process = processes.start(
        [PYTHON, "-m", "bench.bare_bolt", "--port", str(port), "--api-url", api_url],
        cwd=REPO,
        env=env,
        log=log,
    )
    return Target("bare Bolt", process, f"http://127.0.0.1:{port}", log)


async def wait_healthy(target: Target, *, within: float = 60.0) -> float:
    """Poll ``/healthz`` until it answers 200; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while loop.time() - start < within:
            if target.process.poll() is not None:
                raise RuntimeError(
                    f"{target.name} exited with {target.process.returncode} while starting; "
                    f"see {target.log}"
                )
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(target.health_url) as response:
                    if response.status == 200:
                        return loop.time() - start
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{target.name} was not healthy within {within:.0f} s; see {target.log}")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and all its threads so far (Linux only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Handled:
    """How many of a phase's events Hoedan has finished, and when the last one was seen done."""

    count: int
    last_wall: float | None
    """``time.time()`` of the last one (see :class:`HoedanWork` for how precise that is)."""


@dataclass(frozen=True)
class Waited:
    """The end of a wait for Hoedan's work."""

    handled: Handled
    seconds: float
    outcome: Literal["complete", "stalled", "cut off"]
    """All handled; no progress for a while (events lost); or the time limit ran out."""


class HoedanDatabase:
    """Read-only look at Hoedan's SQLite file: which deliveries it has stored, and when.

    Hoedan records an event's ``event_id`` in ``inbound_delivery`` in the same transaction as
    the rest of its work on it, so a row there means that work is done. ``received_at`` is set
    inside that transaction (UTC, naive in SQLite), which dates the work to the millisecond.
    Events Hoedan ignores before any database work (ordinary conversation) leave no row.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=10)
        connection.execute("PRAGMA query_only = ON")
        return connection

    @staticmethod
    def _wall(value: str | None) -> float | None:
        if value is None:
            return None
        return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()

    def stored(self, prefix: str) -> Handled:
        """Rows whose delivery id starts with ``Ev<prefix>`` (one benchmark phase)."""
        low, high = _prefix_range(prefix)
        with contextlib.closing(self._connect()) as connection:
            count, last = connection.execute(
                "SELECT COUNT(*), MAX(received_at) FROM inbound_delivery"
                " WHERE delivery_id >= ? AND delivery_id < ?",
                (low, high),
            ).fetchone()
        return Handled(int(count), self._wall(last))

    def stored_times(self, prefix: str) -> dict[str, float]:
        """When each of a phase's stored events was stored (``time.time()``), by event_id."""
        low, high = _prefix_range(prefix)
        with contextlib.closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT delivery_id, received_at FROM inbound_delivery"
                " WHERE delivery_id >= ? AND delivery_id < ?",
                (low, high),
            ).fetchall()
        return {str(event_id): self._wall(stamp) or 0.0 for event_id, stamp in rows}

    def table_counts(self) -> dict[str, object]:
        """Rows in the tables the benchmark touches, and the outbox by status."""
        with contextlib.closing(self._connect()) as connection:
            counts: dict[str, object] = {
                table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in ("inbound_delivery", "member", "space", "question", "outbox_message")
            }
            counts["outbox_by_status"] = dict(
                connection.execute(
                    "SELECT status, COUNT(*) FROM outbox_message GROUP BY status"
                ).fetchall()
            )
        return counts


class HoedanWork:
    """How far Hoedan is with the work it acknowledged, phase by phase.

    Hoedan's ``/healthz`` reports ``work: {handled, in_flight}``: acknowledged requests whose
    work is done (or found unnecessary, as for ordinary conversation) and those still queued.
    Where it does, that counter is the measure, since it covers every event; the moment the
    last event was done is then known to within one poll (``POLL`` plus the health request's
    own time). A Hoedan without those counters is measured by its ``inbound_delivery`` rows
    instead, which is exact but only right when every event leaves a row.
    """

    POLL = 0.05

    def __init__(self, target: Target, database: HoedanDatabase) -> None:
        self._target = target
        self.database = database
        self.source: Literal["healthz", "database"] = "database"
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HoedanWork:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        if await self._counters() is not None:
            self.source = "healthz"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _counters(self) -> tuple[int, int] | None:
        """``(handled, in_flight)`` from ``/healthz`` (a 503 "degraded" answer counts too)."""
        assert self._session is not None
        try:
            async with self._session.get(self._target.health_url) as response:
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
        work = body.get("work") if isinstance(body, dict) else None
        if not isinstance(work, dict):
            return None
        handled, in_flight = work.get("handled"), work.get("in_flight")
        if not isinstance(handled, int) or not isinstance(in_flight, int):
            return None
        return handled, in_flight

    async def baseline(self) -> int:
        """The handled counter now; a phase's events are those handled beyond it."""
        if self.source == "database":
            return 0
        counters = await self._counters()
        if counters is None:
            raise RuntimeError(f"{self._target.name} stopped answering /healthz")
        return counters[0]

    async def _progress(self, prefix: str, baseline: int) -> tuple[Handled | None, bool]:
        """The phase's events done so far, and whether nothing is in flight any more.

        From ``/healthz`` the time of the last one is unknown (None); from the database it is
        the row's own timestamp.
        """
        if self.source == "database":
            return await asyncio.to_thread(self.database.stored, prefix), False
        counters = await self._counters()
        if counters is None:
            return None, False
        handled, in_flight = counters
        return Handled(handled - baseline, None), in_flight == 0

    async def wait(
        self,
        prefix: str,
        expected: int,
        *,
        baseline: int,
        idle: float = 10.0,
        within: float = 600.0,
    ) -> Waited:
        """Poll until ``expected`` events are done, nothing is left in flight, the count stops
        growing for ``idle`` seconds, or ``within`` seconds have passed.

        Stopping on "no growth" rather than on the expected count alone keeps a run that loses
        events from hanging forever; ``within`` bounds a backlog that would take too long.
        Hoedan spawns an event's work before it answers the request, so once every request is
        answered, "nothing in flight" means every acknowledged event has been dealt with.
        """
        loop = asyncio.get_running_loop()
        start = loop.time()
        done, grew_at = Handled(0, None), start
        while True:
            current, drained = await self._progress(prefix, baseline)
            now = loop.time()
            if current is not None and current.count > done.count:
                done, grew_at = Handled(current.count, current.last_wall or time.time()), now
            if done.count >= expected:
                return Waited(done, now - start, "complete")
            if drained or now - grew_at > idle:
                return Waited(done, now - start, "stalled")
            if now - start > within:
                return Waited(done, now - start, "cut off")
            await asyncio.sleep(self.POLL)


def _prefix_range(prefix: str) -> tuple[str, str]:
    """Bounds that select ids starting with ``Ev<prefix>`` and can use the primary key index."""
    low = f"Ev{prefix}"
    return low, low[:-1] + chr(ord(low[-1]) + 1)
