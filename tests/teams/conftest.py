"""Hoedan's real server with Teams on, a fake Bot Connector, and activities shaped as Teams sends
them (anonymous auth, ``serviceUrl`` pointing at the fake)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from bot.service import Service
from bot.settings import Settings
from storage.enums import OutboxStatus
from storage.types import utcnow
from tests.service_runner import ServiceReadings, running_service
from tests.teams.fake_connector import FakeConnector

BOT_ID = "28:hoedan-bot-id"
BOT_NAME = "Hoedan"
TENANT = "72f988bf-0000-0000-0000-tenant000001"
TEAM = "19:team-zorg@thread.tacv2"
CHANNEL = "19:algemeen@thread.tacv2"

_ids = itertools.count(1_700_000_000_001)


def next_id() -> str:
    """A fresh Teams message id (they are millisecond timestamps)."""
    return str(next(_ids))


@dataclass(frozen=True)
class User:
    id: str
    name: str
    aad: str

    @property
    def personal(self) -> str:
        """Their 1:1 chat with Hoedan, as Teams names it."""
        return f"a:1personal-{self.aad}"


ANNA = User("29:1anna-teams-id", "Anna de Vries", "aad-anna")
BRAM = User("29:1bram-teams-id", "Bram Jansen", "aad-bram")


def mention_of_bot() -> dict[str, Any]:
    return {
        "type": "mention",
        "text": f"<at>{BOT_NAME}</at>",
        "mentioned": {"id": BOT_ID, "name": BOT_NAME},
    }


def activity(
    connector: FakeConnector,
    *,
    sender: User,
    text: str = "",
    conversation: dict[str, Any],
    activity_id: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    channel_data: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "id": activity_id or next_id(),
        "timestamp": utcnow().isoformat(),
        "localTimestamp": utcnow().isoformat(),
        "localTimezone": "Europe/Amsterdam",
        "serviceUrl": connector.service_url,
        "channelId": "msteams",
        "from": {"id": sender.id, "name": sender.name, "aadObjectId": sender.aad},
        "conversation": {"tenantId": TENANT, **conversation},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "textFormat": "plain",
        "locale": "nl-NL",
        "text": text,
        "entities": [
            *(entities or []),
            {"type": "clientInfo", "locale": "nl-NL", "country": "NL", "platform": "Web"},
        ],
        "channelData": channel_data or {"tenant": {"id": TENANT}},
    }
    body.update(extra)
    return body


def personal_message(
    connector: FakeConnector, sender: User, text: str, **extra: Any
) -> dict[str, Any]:
    """A message in the sender's 1:1 chat with Hoedan (no mention needed there)."""
    return activity(
        connector,
        sender=sender,
        text=text,
        conversation={"conversationType": "personal", "id": sender.personal},
        **extra,
    )


def channel_message(
    connector: FakeConnector,
    sender: User,
    text: str,
    *,
    root: str | None = None,
    mention: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A channel post (``root`` None: a new thread) or a reply in the thread of ``root``."""
    message_id = extra.pop("activity_id", None) or next_id()
    thread = root or message_id
    return activity(
        connector,
        sender=sender,
        text=(f"<at>{BOT_NAME}</at> " if mention else "") + text,
        activity_id=message_id,
        entities=[mention_of_bot()] if mention else [],
        conversation={
            "isGroup": True,
            "conversationType": "channel",
            "id": f"{CHANNEL};messageid={thread}",
            "name": "Algemeen",
        },
        channel_data={
            "teamsChannelId": CHANNEL,
            "teamsTeamId": TEAM,
            "channel": {"id": CHANNEL, "name": "Algemeen"},
            "team": {"id": TEAM, "name": "Zorgnetwerk"},
            "tenant": {"id": TENANT},
        },
        **extra,
    )


@dataclass
class Running(ServiceReadings):
    service: Service
    connector: FakeConnector
    http: aiohttp.ClientSession

    @property
    def messages_url(self) -> str:
        return f"{self.url}/api/messages"

    async def send(self, body: dict[str, Any]) -> tuple[int, str]:
        """POST an activity the way Teams does: JSON, no token (anonymous auth)."""
        async with self.http.post(self.messages_url, json=body) as response:
            return response.status, await response.text()

    async def send_raw(self, data: bytes, *, content_type: str = "application/json") -> int:
        headers = {"Content-Type": content_type}
        async with self.http.post(self.messages_url, data=data, headers=headers) as response:
            return response.status

    async def drain_adapter(self) -> None:
        adapter = self.service.teams
        assert adapter is not None
        await adapter.drain()

    async def settle_retries(self, *, seconds: float = 15.0) -> None:
        """Like :meth:`settle`, but also wait out backoffs until nothing is pending at all."""
        await self.settle(seconds=seconds)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while any(
            message.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
            for message in await self.outbox()
        ):
            if loop.time() > deadline:
                raise AssertionError("the outbox did not empty")
            self.service.dispatcher.wake()
            await asyncio.sleep(0.05)


def teams_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "teams_anonymous_allowed": True,
        "host": "127.0.0.1",
        "port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def running(
    settings: Settings,
    connector: FakeConnector,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> running_service[Running]:
    """Hoedan's real server for one test, talking to the fake ``connector``."""
    return running_service(
        settings, lambda service, http: Running(service, connector, http), clock=clock
    )


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as fake:
        yield fake


@pytest.fixture
async def hoedan(database_url: str, connector: FakeConnector) -> AsyncIterator[Running]:
    """Hoedan with Teams over HTTP (SQLite, and PostgreSQL when configured)."""
    async with running(teams_settings(database_url), connector) as started:
        yield started
