"""The real ``hoedan run`` process in Slack mode: starts, serves, answers, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import aiohttp

from tests.conftest import HOEDAN
from tests.slack.conftest import FORM
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import SIGNING_SECRET, command_body, post_signed

RUN_TOKEN = "xoxb-run-test"  # noqa: S105  (a token only the fake Slack knows)
LONE_TOKEN = "xoxb-only"  # noqa: S105


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthy(
    http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process
) -> None:
    for _ in range(300):
        if process.returncode is not None:
            raise AssertionError(f"hoedan run exited with {process.returncode}")
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("hoedan run never became healthy")


def environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """The test's environment without any Hoedan or Slack settings, plus ``variables``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HOEDAN_", "DATABASE_URL", "SLACK_"))
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'hoedan.db'}"
    env.update(variables)
    return env


def slack_environment(tmp_path: Path, slack: FakeSlack, port: int) -> dict[str, str]:
    return environment(
        tmp_path,
        SLACK_BOT_TOKEN=RUN_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        PORT=str(port),
        HOEDAN_HOST="127.0.0.1",
    )


async def start_hoedan(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(HOEDAN),
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_hoedan_run_serves_slack_over_http_and_stops_cleanly(
    tmp_path: Path, slack: FakeSlack
) -> None:
    port = free_port()
    env = {**slack_environment(tmp_path, slack, port), "HOEDAN_LOG_LEVEL": "DEBUG"}
    process = await start_hoedan(tmp_path, env)
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, f"http://127.0.0.1:{port}/healthz", process)
            status, _ = await post_signed(
                http,
                f"http://127.0.0.1:{port}/slack/events",
                command_body("help"),
                content_type=FORM,
            )
            assert status == 200
            [reply] = await slack.wait_for_calls("chat.postEphemeral", timeout=20)
            assert "Wat kan Hoedan voor je doen?" in str(reply.args.get("blocks"))
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, stderr.decode()
    assert RUN_TOKEN.encode() not in stderr
    assert SIGNING_SECRET.encode() not in stderr


async def test_hoedan_run_names_missing_slack_settings(tmp_path: Path) -> None:
    env = environment(tmp_path, SLACK_BOT_TOKEN=LONE_TOKEN)
    process = await start_hoedan(tmp_path, env)
    _stdout, stderr = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 2
    text = stderr.decode()
    assert "SLACK_SIGNING_SECRET" in text
    assert "SLACK_APP_TOKEN" in text
    assert LONE_TOKEN not in text


async def test_a_taken_port_is_named_in_dutch(tmp_path: Path, slack: FakeSlack) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        env = slack_environment(tmp_path, slack, port)
        process = await start_hoedan(tmp_path, env)
        _stdout, stderr = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 1
    assert f"Hoedan kan niet luisteren op poort {port}" in stderr.decode()
