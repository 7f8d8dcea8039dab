"""The SDK's side of a turn: authentication, and the Dutch message that replaces its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import pytest

from bot.teams.adapter import TeamsAdapter
from tests.teams.conftest import ANNA, Running, personal_message, running, teams_settings
from tests.teams.fake_connector import FakeConnector


async def test_a_failing_turn_tells_the_user_in_dutch_without_the_exception(
    hoedan: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = hoedan.service.teams
    assert adapter is not None

    def explode(_data: Mapping[str, Any]) -> None:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(adapter, "_spawn", explode)
    body = personal_message(hoedan.connector, ANNA, "help")

    status, _ = await hoedan.send(body)

    assert status == 202
    [told] = hoedan.connector.delivered
    assert told.conversation_id == ANNA.personal
    assert told.reply_to == body["id"]
    assert told.body["text"].startswith("Sorry, daar ging bij mij iets mis.")
    assert "hunter2" not in str(told.body)
    assert "Exception" not in str(told.body)
    assert not any(p.body.get("type") == "trace" for p in hoedan.connector.requests)


async def test_without_anonymous_access_a_request_without_token_is_refused(
    sqlite_url: str, connector: FakeConnector
) -> None:
    settings = teams_settings(
        sqlite_url,
        teams_anonymous_allowed=False,
        teams_client_id="00000000-0000-0000-0000-00000000c1d0",
        teams_client_secret="not-a-real-secret",  # noqa: S106 (a test value)
        teams_tenant_id="00000000-0000-0000-0000-0000000000a1",
    )
    async with running(settings, connector) as hoedan:
        body = personal_message(connector, ANNA, "help")
        no_token = await hoedan.send(body)
        async with hoedan.http.post(
            hoedan.messages_url, json=body, headers={"Authorization": "Bearer not.a.jwt"}
        ) as response:
            bad_token = response.status
        async with hoedan.http.post(
            hoedan.messages_url, json=body, headers={"Authorization": "Basic abc"}
        ) as response:
            wrong_scheme = response.status
        await hoedan.settle()

    assert no_token[0] == 401
    assert bad_token == 401
    assert wrong_scheme == 401
    assert connector.requests == []


async def test_teams_is_off_without_its_settings(sqlite_url: str) -> None:
    async with (
        FakeConnector() as connector,
        running(teams_settings(sqlite_url, teams_anonymous_allowed=False), connector) as hoedan,
    ):
        assert hoedan.service.teams is None
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{hoedan.url}/api/messages", json={}) as response,
        ):
            assert response.status == 404


def test_the_adapter_refuses_settings_without_teams(sqlite_url: str) -> None:
    settings = teams_settings(sqlite_url, teams_anonymous_allowed=False)
    with pytest.raises(ValueError, match="service connection"):
        TeamsAdapter(settings, None, on_queued=lambda: None)  # type: ignore[arg-type]


async def test_an_invoke_hoedan_does_not_offer_is_not_implemented(hoedan: Running) -> None:
    invoke = personal_message(hoedan.connector, ANNA, "")
    invoke.update(type="invoke", name="composeExtension/query", value={"commandId": "x"})
    del invoke["text"]

    status, _ = await hoedan.send(invoke)
    await hoedan.settle()

    assert status == 501
    assert hoedan.connector.requests == []
