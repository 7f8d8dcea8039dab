"""Hoedan's real server on a free port, a fake Slack Web API, and requests signed like Slack's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.service import Service
from bot.settings import Settings
from bot.slack.adapter import SlackAdapter
from storage.types import utcnow
from tests.service_runner import ServiceReadings, running_service
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import (
    SIGNING_SECRET,
    command_body,
    event_body,
    interaction_body,
    post_signed,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


"""The scheduler's job that hands flows their deadlines (``bot.scheduler``)."""


class Clock:
    """The time a test controls: the wall clock plus an offset the test moves forward.

    Give it to :class:`running`: the service's scheduler, outbox and Slack adapter (the time of
    every event) all read it.
    """

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, by: timedelta) -> None:
        self.offset += by


@dataclass
class Running(ServiceReadings):
    """A started Hoedan with a client session; helpers send what Slack would send."""

    service: Service
    slack: FakeSlack
    http: aiohttp.ClientSession

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    async def event(
        self, event: dict[str, Any], *, event_id: str, retry_num: int | None = None
    ) -> tuple[int, str]:
        return await post_signed(
            self.http,
            self.events_url,
            event_body(event, event_id=event_id),
            content_type=JSON,
            retry_num=retry_num,
        )

    async def command(self, text: str, **fields: Any) -> tuple[int, str]:
        return await post_signed(
            self.http, self.events_url, command_body(text, **fields), content_type=FORM
        )

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await post_signed(
            self.http, self.events_url, interaction_body(payload), content_type=FORM
        )

    async def drain_adapter(self) -> None:
        adapter = self.service.slack
        assert adapter is not None
        await adapter.drain()


async def use_web_api_timeout(adapter: SlackAdapter, seconds: int) -> None:
    """Give Hoedan's Slack client another time-out, to provoke (or end) time-outs. Its shared
    connection pool takes the time-out when it is opened, so it is opened again."""
    await adapter.close_connections()
    adapter.client.timeout = seconds
    await adapter.open_connections()


def slack_settings(database_url: str, slack: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "host": "127.0.0.1",
        "port": 0,
        "admins": frozenset({"UADMIN"}),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def hoedan(sqlite_url: str, slack: FakeSlack) -> AsyncIterator[Running]:
    """Hoedan over HTTP on SQLite, talking to the fake Slack."""
    async with running(slack_settings(sqlite_url, slack), slack) as started:
        yield started


def running(
    settings: Settings,
    slack: FakeSlack,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> running_service[Running]:
    """Hoedan's real server for one test, talking to the fake ``slack``."""
    return running_service(
        settings, lambda service, http: Running(service, slack, http), clock=clock
    )


def all_strings(value: Any) -> list[str]:
    """Every string anywhere in a JSON-like value (to look for mentions in rendered blocks)."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return [value, *all_strings(decoded)] if not isinstance(decoded, str) else [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in all_strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in all_strings(item)]
    return []
