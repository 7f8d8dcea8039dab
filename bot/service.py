"""One process: the web server, Slack (HTTP or Socket Mode), Teams, the outbox and the scheduler.

``hoedan run`` builds a :class:`Service` and runs it until SIGINT or SIGTERM. Tests build the
same service in-process on port 0 and talk to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import version
from typing import TYPE_CHECKING

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.after_ack import Receiving
from bot.app import Hoedan
from bot.leader import leadership_for
from bot.outbox import Deliverer, OutboxDispatcher
from bot.scheduler import JobsUnderWay, create_scheduler
from bot.slack.adapter import SlackAdapter
from bot.teams import MESSAGES_PATH
from storage.enums import Platform
from storage.types import utcnow

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.teams.adapter import TeamsAdapter

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024
"""Slack's own payloads stay far below this; anything bigger is refused before parsing."""


class CannotListen(Exception):
    """The web server could not take its port (in use, or not allowed)."""


class Service:
    def __init__(self, hoedan: Hoedan, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.hoedan = hoedan
        settings = hoedan.settings
        self._clock = clock
        self.receiving = Receiving()
        """Requests under way; acknowledged work waits while they keep the server busy."""
        self.slack: SlackAdapter | None = None
        deliverers: dict[Platform, Deliverer] = {}
        if settings.slack_mode is not None:
            self.slack = SlackAdapter(
                settings,
                hoedan.runtime,
                on_queued=self._wake,
                clock=clock,
                receiving=self.receiving,
            )
            deliverers[Platform.SLACK] = self.slack.deliverer
        self.teams: TeamsAdapter | None = None
        if settings.teams_enabled:
            from bot.teams.adapter import TeamsAdapter  # imported only when used: see bot.teams

            self.teams = TeamsAdapter(
                settings,
                hoedan.runtime,
                on_queued=self._wake,
                clock=clock,
                receiving=self.receiving,
            )
            deliverers[Platform.TEAMS] = self.teams.deliverer
        self.dispatcher = OutboxDispatcher(hoedan.store, deliverers, clock=clock)
        self.scheduler: AsyncIOScheduler | None = None
        self._jobs: JobsUnderWay | None = None
        self.leadership = leadership_for(hoedan.store)
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._stop = asyncio.Event()
        self._dispatching: asyncio.Task[None] | None = None
        self.port: int | None = None

    def _wake(self) -> None:
        self.dispatcher.wake()

    @property
    def url(self) -> str:
        host = self.hoedan.settings.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        return f"http://{shown}:{self.port}"

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_get(HEALTH_PATH, self._health)
        if self.slack is not None and self.hoedan.settings.slack_mode == "http":
            app.router.add_post(SLACK_EVENTS_PATH, self.slack.handle_http)
        if self.teams is not None:
            app.router.add_post(MESSAGES_PATH, self.teams.handle_http)
        return app

    async def _health(self, _request: web.Request) -> web.Response:
        try:
            database = await asyncio.wait_for(self.hoedan.store.ping(), timeout=2)
        except Exception:
            database = False
        body: dict[str, object] = {
            "status": "ok" if database else "degraded",
            "database": "ok" if database else "unreachable",
            "version": version("hoedan"),
            "slack": self.hoedan.settings.slack_mode,
            "teams": self.teams is not None,
            "scheduler": "leader" if self.leadership.leading else "standby",
        }
        if self.slack is not None:
            body["work"] = {"handled": self.slack.handled, "in_flight": self.slack.in_flight}
        if self.teams is not None:
            body["teams_work"] = {"handled": self.teams.handled, "in_flight": self.teams.in_flight}
        return web.json_response(body, status=200 if database else 503)

    async def start(self) -> None:
        settings = self.hoedan.settings
        self._runner = web.AppRunner(self.web_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:
            raise CannotListen(str(exc)) from exc
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else settings.port
        if self.slack is not None:
            await self.slack.open_connections()
        self._dispatching = asyncio.ensure_future(self.dispatcher.run_forever(self._stop))
        await self.leadership.hold()
        self.scheduler = create_scheduler(
            self.hoedan.store,
            self.hoedan.runtime.engine,
            clock=self._clock,
            on_queued=self._wake,
            timezone=settings.timezone,
            config=self.hoedan.runtime.config,
            grace=settings.missed_grace,
            leadership=self.leadership,
        )
        self._jobs = JobsUnderWay(self.scheduler)
        self.scheduler.start()
        if self.slack is not None and settings.slack_mode == "socket":
            self._socket = self.slack.socket_mode_handler()
            await self._socket.connect_async()
        platforms = [f"Slack ({settings.slack_mode})"] if settings.slack_mode else []
        if self.teams is not None:
            platforms.append(f"Teams on {self.url}{MESSAGES_PATH}")
        log.info(
            "Hoedan is running: %s, health on %s%s",
            ", ".join(platforms) or "no chat platform",
            self.url,
            HEALTH_PATH,
        )

    async def stop(self) -> None:
        """Stop taking requests, finish the work already acknowledged, then close.

        Messages still in the outbox stay there and go out at the next start.
        """
        if self._socket is not None:
            await self._socket.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.slack is not None:
            await self.slack.drain()
        if self.teams is not None:
            await self.teams.drain()
        if self._jobs is not None:
            await self._jobs.stop()
        await self.leadership.release()
        self._stop.set()
        if self._dispatching is not None:
            await self._dispatching
        if self.slack is not None:
            await self.slack.close_connections()
        if self.teams is not None:
            await self.teams.close()
        await self.hoedan.close()

    async def run_until_stopped(self, stop: asyncio.Event) -> None:
        """The life of ``hoedan run``: start, set the start-up heap aside, serve until ``stop``."""
        try:
            await self.start()
            _set_start_up_heap_aside()
            await stop.wait()
        finally:
            await self.stop()


def _set_start_up_heap_aside() -> None:
    """Collect once, then exclude what start-up left from every later garbage collection.

    Start-up leaves some 160,000 long-lived objects (SQLAlchemy, Bolt, pydantic, the texts).
    Python's full collections walk all of them, about 65 ms each time, and a burst of events
    makes such collections frequent: freezing them raised the sustained ack rate of
    ``bench.slack_ingest`` by about a quarter. Frozen objects are not walked; the one-off
    collection first keeps start-up's own garbage out of the frozen set.
    Only ``hoedan run`` does this: services started in tests come and go in one process.
    """
    gc.collect()
    gc.freeze()
