"""The service without a chat platform: health, scheduler and outbox still run."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import create_app
from bot.service import Service
from bot.settings import Settings


@pytest.fixture
async def service(sqlite_url: str) -> AsyncIterator[Service]:
    settings = Settings(_env_file=None, database_url=sqlite_url, host="127.0.0.1", port=0)
    started = Service(create_app(settings, default_log_level="WARNING"))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def test_health_without_slack(service: Service) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{service.url}/healthz") as response:
        body = await response.json()
        status = response.status
    async with aiohttp.ClientSession() as http, http.post(f"{service.url}/slack/events") as events:
        events_status = events.status

    assert status == 200
    assert body["database"] == "ok"
    assert body["slack"] is None
    assert events_status == 404


async def test_an_unreachable_database_makes_health_503(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> bool:
        raise OSError("database is away")

    monkeypatch.setattr(service.hoedan.store, "ping", broken)
    async with aiohttp.ClientSession() as http, http.get(f"{service.url}/healthz") as response:
        body = await response.json()
        status = response.status

    assert status == 503
    assert body == {**body, "status": "degraded", "database": "unreachable"}


async def test_the_scheduler_watches_flow_deadlines(service: Service) -> None:
    assert service.scheduler is not None
    assert service.scheduler.running
    job = service.scheduler.get_job("flow-deadlines")
    assert job is not None
    assert job.next_run_time is not None
