"""The fake Slack answers the real slack_sdk and slack_bolt clients the way Slack does.

Hoedan's end-to-end tests are only as good as this fake, so it is checked here against the
very clients Hoedan uses: the Web API client, Socket Mode, Bolt, and Slack's signature check.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.say.async_say import AsyncSay
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import (
    SIGNING_SECRET,
    app_mention_event,
    block_actions_payload,
    command_body,
    event_body,
    event_payload,
    global_shortcut_payload,
    interaction_body,
    message_shortcut_payload,
    post_command,
    post_event,
    post_interaction,
    post_signed,
    sign,
    view_submission_payload,
)

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hoe dan?*"}}]
BOT_TOKEN = "xoxb-test"  # noqa: S105  (tokens and secrets here are made up)
APP_TOKEN = "xapp-1-test"  # noqa: S105
WRONG_SECRET = "niet het geheim"  # noqa: S105
METADATA = {"event_type": "hoedan_outbox", "event_payload": {"key": "q-1"}}


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)


def ts_order(ts: str) -> tuple[int, int]:
    seconds, fraction = ts.split(".")
    return int(seconds), int(fraction)


# ---------------------------------------------------------------------- messages


async def test_post_message_records_text_and_blocks_and_answers_increasing_ts(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    first = await client.chat_postMessage(channel="C1", text="Hoe dan?", blocks=BLOCKS)
    second = await client.chat_postMessage(channel="C1", text="Zo dan.", thread_ts=first["ts"])

    assert first["ok"] is True
    assert first["channel"] == "C1"
    assert first["message"]["blocks"] == BLOCKS
    assert first["message"]["bot_id"] == slack.bot_id
    assert ts_order(second["ts"]) > ts_order(first["ts"])
    call = slack.calls_to("chat.postMessage")[0]
    assert call.token == BOT_TOKEN
    assert call.args["text"] == "Hoe dan?"
    assert call.args["blocks"] == BLOCKS  # sent as a JSON body
    assert call.json("blocks") == BLOCKS
    stored = slack.messages("C1")
    assert [(m["text"], m["thread_ts"], m["user"]) for m in stored] == [
        ("Hoe dan?", None, slack.bot_user_id),
        ("Zo dan.", first["ts"], slack.bot_user_id),
    ]
    assert stored[0]["blocks"] == BLOCKS
    assert stored[0]["ts"] == first["ts"]


async def test_form_encoded_blocks_stay_text_in_the_call_but_are_stored_parsed(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C1", "text": "Hoi", "blocks": json.dumps(BLOCKS)},
    )

    call = slack.calls_to("chat.postMessage")[0]
    assert isinstance(call.args["blocks"], str)
    assert call.json("blocks") == BLOCKS
    assert slack.messages()[0]["blocks"] == BLOCKS


async def test_a_message_without_text_or_blocks_is_refused_like_slack(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("chat.postMessage", json={"channel": "C1"})

    assert raised.value.response["error"] == "no_text"
    assert slack.messages() == []


async def test_a_message_to_a_user_id_lands_in_the_dm_channel(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="U123", text="Privé")
    opened = await client.conversations_open(users="U123")
    again = await client.conversations_open(users="U123")

    assert posted["channel"] == "DU123"
    assert [m["text"] for m in slack.messages("DU123")] == ["Privé"]
    assert slack.messages("U123") == []
    assert opened["channel"]["id"] == "DU123"
    assert opened["already_open"] is False
    assert again["already_open"] is True


async def test_ephemeral_update_and_delete(slack: FakeSlack, client: AsyncWebClient) -> None:
    ephemeral = await client.chat_postEphemeral(channel="C1", user="U1", text="Alleen voor jou")
    posted = await client.chat_postMessage(channel="C1", text="Eerst")
    updated = await client.chat_update(channel="C1", ts=posted["ts"], text="Daarna")

    assert ephemeral["message_ts"]
    assert [(e["channel"], e["user"], e["text"]) for e in slack.ephemerals()] == [
        ("C1", "U1", "Alleen voor jou")
    ]
    assert [m["text"] for m in slack.messages()] == ["Daarna"]  # ephemerals are kept apart
    assert updated["message"]["text"] == "Daarna"
    assert slack.messages("C1")[0]["text"] == "Daarna"

    await client.chat_delete(channel="C1", ts=posted["ts"])
    assert slack.messages("C1") == []
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C1", ts=posted["ts"], text="Te laat")
    assert raised.value.response["error"] == "message_not_found"


# ---------------------------------------------------------------------- history


async def test_history_shows_metadata_only_with_include_all_metadata(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel="C1", text="Met sleutel", metadata=METADATA)

    plain = await client.conversations_history(channel="C1")
    with_metadata = await client.conversations_history(channel="C1", include_all_metadata=True)

    assert "metadata" not in plain["messages"][0]
    assert with_metadata["messages"][0]["metadata"] == METADATA
    assert with_metadata["has_more"] is False
    assert slack.calls_to("conversations.history")[1].args["include_all_metadata"] == "1"
    assert slack.messages("C1")[0]["metadata"] == METADATA


async def test_history_is_newest_first_and_leaves_thread_replies_out(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    first = await client.chat_postMessage(channel="C1", text="een")
    await client.chat_postMessage(channel="C1", text="antwoord", thread_ts=first["ts"])
    second = await client.chat_postMessage(channel="C1", text="twee")
    await client.chat_postMessage(channel="C2", text="elders")

    history = await client.conversations_history(channel="C1")
    newer = await client.conversations_history(channel="C1", oldest=first["ts"])

    assert [m["text"] for m in history["messages"]] == ["twee", "een"]
    assert history["messages"][1]["reply_count"] == 1
    assert [m["ts"] for m in newer["messages"]] == [second["ts"]]


async def test_history_pages_with_limit_and_cursor(client: AsyncWebClient) -> None:
    for text in ("een", "twee", "drie"):
        await client.chat_postMessage(channel="C1", text=text)

    page = await client.conversations_history(channel="C1", limit=2)
    rest = await client.conversations_history(
        channel="C1", limit=2, cursor=page["response_metadata"]["next_cursor"]
    )

    assert [m["text"] for m in page["messages"]] == ["drie", "twee"]
    assert page["has_more"] is True
    assert [m["text"] for m in rest["messages"]] == ["een"]
    assert rest["has_more"] is False


async def test_replies_give_the_parent_first_then_the_replies_in_order(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    parent_ts = slack.add_message("C1", "Hoe dan?", user="U7")
    one = await client.chat_postMessage(channel="C1", text="een", thread_ts=parent_ts)
    await client.chat_postMessage(channel="C1", text="twee", thread_ts=one["ts"])

    thread = await client.conversations_replies(channel="C1", ts=parent_ts)
    later = await client.conversations_replies(channel="C1", ts=parent_ts, oldest=one["ts"])

    assert [m["text"] for m in thread["messages"]] == ["Hoe dan?", "een", "twee"]
    assert thread["messages"][0]["user"] == "U7"
    assert "bot_id" not in thread["messages"][0]
    assert thread["messages"][2]["thread_ts"] == parent_ts  # a reply to a reply joins the thread
    assert [m["text"] for m in later["messages"]] == ["Hoe dan?", "twee"]
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_replies(channel="C1", ts="1.000001")
    assert raised.value.response["error"] == "thread_not_found"


# ---------------------------------------------------------------------- users, views, auth


async def test_users_info_for_added_and_unknown_users(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.add_user("U1", "anna", real_name="Anna de Vries", tz="America/New_York", locale="en-US")

    anna = (await client.users_info(user="U1", include_locale=True))["user"]
    without_locale = (await client.users_info(user="U1"))["user"]
    stranger = (await client.users_info(user="U999"))["user"]

    assert anna["id"] == "U1"
    assert anna["name"] == "anna"
    assert anna["real_name"] == "Anna de Vries"
    assert anna["profile"]["real_name"] == "Anna de Vries"
    assert anna["profile"]["display_name"] == "anna"
    assert anna["tz"] == "America/New_York"
    assert anna["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert anna["locale"] == "en-US"
    assert anna["is_bot"] is False
    assert "locale" not in without_locale  # Slack sends it only when asked
    assert stranger["name"] == "user-U999"
    assert stranger["tz"] == "Europe/Amsterdam"
    assert slack.calls_to("users.info")[0].args == {"user": "U1", "include_locale": "1"}


async def test_fail_answers_the_error_only_for_the_given_number_of_calls(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.fail("users.info", "user_not_found")
    slack.fail("chat.postMessage", "not_in_channel", times=2, channel="C2")

    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U1")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "user_not_found"
    assert (await client.users_info(user="U1"))["ok"] is True

    await client.chat_postMessage(channel="C1", text="elders gaat het goed")
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C2", text="hier niet")
        assert raised.value.response["error"] == "not_in_channel"
    await client.chat_postMessage(channel="C2", text="nu wel")

    assert [m["text"] for m in slack.messages()] == ["elders gaat het goed", "nu wel"]
    assert len(slack.calls_to("chat.postMessage")) == 4


async def test_rate_limit_answers_429_with_retry_after(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.rate_limit("chat.postMessage", retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="te snel")
    await client.chat_postMessage(channel="C1", text="op tijd")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    assert [m["text"] for m in slack.messages()] == ["op tijd"]


async def test_server_error_does_nothing_and_only_for_the_given_number_of_calls(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.server_error("chat.postMessage", status=503, times=2)

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C1", text="storing")
        assert raised.value.response.status_code == 503
    await client.chat_postMessage(channel="C1", text="hersteld")

    assert [m["text"] for m in slack.messages()] == ["hersteld"]


async def test_post_then_error_stores_the_message_but_answers_the_error(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.post_then_error("chat.postMessage")

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="kwijtgeraakt antwoord", metadata=METADATA)
    history = await client.conversations_history(channel="C1", include_all_metadata=True)
    await client.chat_postMessage(channel="C1", text="gewoon")

    assert raised.value.response.status_code == 500
    assert history["messages"][0]["metadata"] == METADATA
    assert [m["text"] for m in slack.messages()] == ["kwijtgeraakt antwoord", "gewoon"]


async def test_delay_lets_a_client_time_out_and_slack_still_does_it_later(
    slack: FakeSlack,
) -> None:
    impatient = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=1)
    slack.delay("chat.postMessage", 1.5)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await impatient.chat_postMessage(channel="C1", text="traag")

    assert time.monotonic() - started < 1.4
    assert slack.messages() == []
    await slack.wait_for(lambda: len(slack.messages()) == 1, timeout=5)
    await impatient.chat_postMessage(channel="C1", text="snel")
    assert len(slack.messages()) == 2


async def test_views_are_answered_with_an_id_and_a_hash(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    modal = {"type": "modal", "callback_id": "ask", "title": {"type": "plain_text", "text": "Hoe"}}
    opened = (await client.views_open(trigger_id="1.2.abc", view=modal))["view"]
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal))[
        "view"
    ]
    home = (await client.views_publish(user_id="U1", view={"type": "home", "blocks": []}))["view"]

    assert opened["id"].startswith("V")
    assert opened["callback_id"] == "ask"
    assert opened["state"] == {"values": {}}
    assert updated["id"] == opened["id"]
    assert home["type"] == "home"
    assert slack.calls_to("views.open")[0].json("view") == modal
    with pytest.raises(SlackApiError) as raised:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)
    assert raised.value.response["error"] == "hash_conflict"


async def test_auth_test_answers_like_slack_and_tokens_are_checked(slack: FakeSlack) -> None:
    bot = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
    anonymous = AsyncWebClient(base_url=slack.api_url)
    app_level = AsyncWebClient(token=APP_TOKEN, base_url=slack.api_url)

    auth = await bot.auth_test()
    with pytest.raises(SlackApiError) as no_token:
        await anonymous.chat_postMessage(channel="C1", text="wie?")
    with pytest.raises(SlackApiError) as wrong_token:
        await app_level.chat_postMessage(channel="C1", text="wie?")
    with pytest.raises(SlackApiError) as not_an_app_token:
        await bot.apps_connections_open(app_token=BOT_TOKEN)

    assert auth["user_id"] == slack.bot_user_id
    assert auth["bot_id"] == slack.bot_id
    assert auth["team_id"] == slack.team_id
    assert auth.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "chat:write" in auth.headers["x-oauth-scopes"]
    assert no_token.value.response["error"] == "not_authed"
    assert wrong_token.value.response["error"] == "not_allowed_token_type"
    assert not_an_app_token.value.response["error"] == "invalid_auth"
    assert slack.messages() == []


async def test_any_other_method_is_ok_and_recorded(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    answer = await client.reactions_add(channel="C1", timestamp="1.000001", name="eyes")

    assert answer.data == {"ok": True}
    assert slack.calls_to("reactions.add")[0].args["name"] == "eyes"


async def test_waiting_fails_with_every_call_so_far(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel="C1", text="iets")

    with pytest.raises(AssertionError, match=r"1\. chat\.postMessage .*iets"):
        await slack.wait_for(lambda: False, timeout=0.05)


async def test_wait_for_calls_returns_once_enough_calls_arrived(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C1", text="een")
        await client.chat_postMessage(channel="C1", text="twee")

    task = asyncio.create_task(later())
    calls = await slack.wait_for_calls("chat.postMessage", 2)
    await task

    assert [call.args["text"] for call in calls] == ["een", "twee"]


async def test_a_response_url_on_the_fake_records_what_is_posted(slack: FakeSlack) -> None:
    url = slack.response_url("cmd-1")

    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"text": "Later meer", "response_type": "ephemeral"}) as response,
    ):
        assert response.status == 200

    call = slack.calls_to("response_url")[0]
    assert call.args == {
        "text": "Later meer",
        "response_type": "ephemeral",
        "response_url": url,
    }


# ---------------------------------------------------------------------- signing


def test_the_signature_is_what_slack_sdk_accepts() -> None:
    body = event_body(app_mention_event("<@UHOEDAN> hoe dan?"), event_id="Ev1")
    verifier = SignatureVerifier(SIGNING_SECRET)

    assert verifier.is_valid_request(body, sign(body))
    assert verifier.is_valid_request(body.encode(), sign(body.encode()))
    assert not verifier.is_valid_request(body.replace("hoe", "zo"), sign(body))
    assert not verifier.is_valid_request(body, sign(body, secret=WRONG_SECRET))
    assert not verifier.is_valid_request(body, sign(body, timestamp=int(time.time()) - 600))


def test_bodies_look_like_slacks() -> None:
    event = json.loads(event_body({"type": "app_mention", "text": "hoi"}, event_id="Ev9"))
    command = dict(
        item.split("=", 1) for item in command_body("vraag", trigger_id="t-1").split("&")
    )
    first_trigger = dict(item.split("=", 1) for item in command_body("a").split("&"))
    second_trigger = dict(item.split("=", 1) for item in command_body("a").split("&"))
    interaction = interaction_body({"type": "shortcut"})

    assert event["type"] == "event_callback"
    assert event["event_id"] == "Ev9"
    assert event["authorizations"][0]["user_id"] == "UHOEDAN"
    assert event["authorizations"][0]["is_bot"] is True
    assert command["command"] == "%2Fhoedan"
    assert command["trigger_id"] == "t-1"
    assert command["channel_name"] == "algemeen"
    assert first_trigger["trigger_id"] != second_trigger["trigger_id"]
    assert interaction.startswith("payload=%7B")


async def test_post_signed_sends_signature_and_retry_headers() -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((await request.text(), dict(request.headers)))
        return web.Response(text="ack")

    app = web.Application()
    app.router.add_post("/slack/events", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        async with aiohttp.ClientSession() as session:
            first = await post_event(session, url, app_mention_event("hoi"), event_id="Ev1")
            retried = await post_event(
                session, url, app_mention_event("hoi"), event_id="Ev1", retry_num=1
            )
    finally:
        await runner.cleanup()

    assert first == (200, "ack")
    assert retried == (200, "ack")
    verifier = SignatureVerifier(SIGNING_SECRET)
    for body, headers in seen:
        assert verifier.is_valid_request(body, headers)
        assert headers["Content-Type"] == "application/json"
    assert "X-Slack-Retry-Num" not in seen[0][1]
    assert seen[1][1]["X-Slack-Retry-Num"] == "1"
    assert seen[1][1]["X-Slack-Retry-Reason"] == "http_timeout"


# ---------------------------------------------------------------------- Bolt over HTTP


async def test_bolt_over_http_authorizes_against_the_fake_and_replies(slack: FakeSlack) -> None:
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url),
        signing_secret=SIGNING_SECRET,
    )
    clicked: list[str] = []
    submitted: list[str] = []
    shortcuts: list[str] = []

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: AsyncSay) -> None:
        await say(text="Hoe dan?", thread_ts=event["ts"])

    @app.command("/hoedan")
    async def command(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack("Even kijken")
        await respond("Klaar")

    @app.action("vote")
    async def vote(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        clicked.append(body["actions"][0]["value"])

    @app.view("ask")
    async def submit(ack: AsyncAck, view: dict[str, Any]) -> None:
        await ack()
        submitted.append(view["state"]["values"]["q"]["q"]["value"])

    @app.shortcut("quote")
    @app.shortcut("new")
    async def shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        shortcuts.append(body["type"])

    runner = web.AppRunner(app.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        async with aiohttp.ClientSession() as http:
            mention_status = await post_event(http, url, app_mention_event("<@UHOEDAN> hoi"))
            command_answer = await post_command(
                http, url, "vraag", response_url=slack.response_url("cmd")
            )
            interactions = [
                await post_interaction(http, url, block_actions_payload("vote", value="ja")),
                await post_interaction(
                    http,
                    url,
                    view_submission_payload(
                        "ask",
                        values={"q": {"q": {"type": "plain_text_input", "value": "Hoe?"}}},
                    ),
                ),
                await post_interaction(http, url, message_shortcut_payload("quote")),
                await post_interaction(http, url, global_shortcut_payload("new")),
            ]
            forged = await post_signed(
                http,
                url,
                command_body("vals"),
                content_type="application/x-www-form-urlencoded",
                secret=WRONG_SECRET,
            )
            await slack.wait_for_calls("chat.postMessage")
            await slack.wait_for_calls("response_url")
    finally:
        await runner.cleanup()

    assert mention_status[0] == 200
    assert command_answer == (200, "Even kijken")
    assert [status for status, _ in interactions] == [200, 200, 200, 200]
    assert forged[0] == 401
    assert clicked == ["ja"]
    assert submitted == ["Hoe?"]
    assert sorted(shortcuts) == ["message_action", "shortcut"]
    assert len(slack.calls_to("auth.test")) == 1
    assert slack.messages()[0]["text"] == "Hoe dan?"
    assert slack.calls_to("response_url")[0].args["text"] == "Klaar"


# ---------------------------------------------------------------------- Socket Mode


async def test_socket_mode_client_connects_receives_an_envelope_and_acks(
    slack: FakeSlack,
) -> None:
    received: list[SocketModeRequest] = []

    async def listener(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "gezien"})
        )

    client = SocketModeClient(
        app_token=APP_TOKEN, web_client=AsyncWebClient(base_url=slack.api_url)
    )
    client.socket_mode_request_listeners.append(listener)
    try:
        await client.connect()
        await asyncio.wait_for(slack.socket_connected.wait(), timeout=5)
        payload = event_payload(app_mention_event("<@UHOEDAN> hoi"), event_id="Ev1")
        envelope_id = await slack.socket_send(payload)
        ack = await slack.wait_for_socket_ack(envelope_id)
    finally:
        await client.close()

    assert ack == {"envelope_id": envelope_id, "payload": {"text": "gezien"}}
    assert received[0].type == "events_api"
    assert received[0].payload == payload
    assert received[0].retry_attempt == 0
    assert slack.calls_to("apps.connections.open")[0].token == APP_TOKEN
    await slack.wait_for(lambda: not slack.socket_connected.is_set())


async def test_socket_mode_client_reconnects_when_slack_asks(slack: FakeSlack) -> None:
    async def listener(client: AsyncBaseSocketModeClient, request: SocketModeRequest) -> None:
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client = SocketModeClient(
        app_token=APP_TOKEN, web_client=AsyncWebClient(base_url=slack.api_url)
    )
    client.socket_mode_request_listeners.append(listener)
    try:
        await client.connect()
        await asyncio.wait_for(slack.socket_connected.wait(), timeout=5)
        await slack.socket_disconnect()
        await slack.wait_for_calls("apps.connections.open", 2)
        await slack.wait_for(
            lambda: slack.socket_connections == 1 and client.current_session is not None
        )
        envelope_id = await slack.socket_send({"command": "/hoedan"}, type="slash_commands")
        ack = await slack.wait_for_socket_ack(envelope_id)
    finally:
        await client.close()

    assert ack == {"envelope_id": envelope_id}


async def test_bolt_in_socket_mode_acks_and_replies(slack: FakeSlack) -> None:
    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url))

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: AsyncSay) -> None:
        await say(text="Hoe dan?", thread_ts=event["ts"])

    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    try:
        await handler.connect_async()
        await asyncio.wait_for(slack.socket_connected.wait(), timeout=5)
        mention_event = app_mention_event("<@UHOEDAN> hoi", channel="C9")
        envelope_id = await slack.socket_send(event_payload(mention_event, event_id="Ev2"))
        ack = await slack.wait_for_socket_ack(envelope_id)
        await slack.wait_for_calls("chat.postMessage")
    finally:
        await handler.close_async()

    assert ack == {"envelope_id": envelope_id}
    assert slack.messages("C9")[0]["thread_ts"] == mention_event["ts"]
