"""The real ``hoedan run`` process with Teams settings: serves /api/messages beside Slack."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from bot.settings import TEAMS_PREFIX
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_hoedan_run import (
    environment,
    free_port,
    slack_environment,
    start_hoedan,
    wait_healthy,
)
from tests.teams.conftest import ANNA, personal_message
from tests.teams.fake_connector import FakeConnector

CLIENT_SECRET = "teams-run-secret-value"  # noqa: S105  (never valid anywhere)


async def wait_for_reply(connector: FakeConnector, seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not connector.delivered:
        if loop.time() > deadline:
            raise AssertionError("no reply reached the fake Bot Connector")
        await asyncio.sleep(0.05)


async def serve_and_answer(tmp_path: Path, env: dict[str, str], port: int) -> None:
    async with FakeConnector() as connector:
        process = await start_hoedan(tmp_path, env)
        try:
            async with aiohttp.ClientSession() as http:
                await wait_healthy(http, f"http://127.0.0.1:{port}/healthz", process)
                body = personal_message(connector, ANNA, "help")
                async with http.post(
                    f"http://127.0.0.1:{port}/api/messages", json=body
                ) as response:
                    assert response.status == 202
                await wait_for_reply(connector)
            process.send_signal(signal.SIGTERM)
            _stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, stderr.decode()
    [reply] = connector.delivered
    assert reply.conversation_id == ANNA.personal
    assert "Wat kan Hoedan voor je doen?" in reply.text


async def test_hoedan_run_serves_teams_next_to_slack(tmp_path: Path) -> None:
    port = free_port()
    async with FakeSlack() as slack:
        env = {
            **slack_environment(tmp_path, slack, port),
            TEAMS_PREFIX + "ANONYMOUS_ALLOWED": "true",
        }
        await serve_and_answer(tmp_path, env, port)


async def test_hoedan_run_serves_teams_alone(tmp_path: Path) -> None:
    port = free_port()
    env = environment(
        tmp_path,
        PORT=str(port),
        HOEDAN_HOST="127.0.0.1",
        **{TEAMS_PREFIX + "ANONYMOUS_ALLOWED": "true"},
    )
    await serve_and_answer(tmp_path, env, port)


async def test_hoedan_run_names_an_incomplete_teams_registration(tmp_path: Path) -> None:
    env = environment(
        tmp_path,
        **{
            TEAMS_PREFIX + "CLIENTID": "00000000-0000-0000-0000-00000000c1d0",
            TEAMS_PREFIX + "CLIENTSECRET": CLIENT_SECRET,
        },
    )
    process = await start_hoedan(tmp_path, env)
    _stdout, stderr = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 2
    text = stderr.decode()
    assert "TENANTID" in text
    assert CLIENT_SECRET not in text
