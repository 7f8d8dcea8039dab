"""Slack threats from docs/security.md not covered elsewhere: oversized bodies and replays of
requests that carry no event id (commands), end to end over HTTP."""

from __future__ import annotations

import io
import json

from sqlmodel import select

from bot.service import MAX_BODY_BYTES
from storage.models import InboundDelivery
from tests.slack.conftest import FORM, JSON, Running
from tests.slack.signing import command_body, event_body, message_event, post_signed, sign


async def post_big(hoedan: Running, body: str, *, content_type: str, signed: bool) -> int:
    """POST a large body as a stream (as bytes, aiohttp warns that it blocks the loop)."""
    headers = {"Content-Type": content_type, **(sign(body) if signed else {})}
    async with hoedan.http.post(
        hoedan.events_url, data=io.BytesIO(body.encode()), headers=headers
    ) as response:
        return response.status


async def nothing_kept(hoedan: Running) -> None:
    assert await hoedan.questions() == []
    async with hoedan.store.transaction() as tx:
        assert (await tx.session.exec(select(InboundDelivery))).all() == []
    assert [c.method for c in hoedan.slack.calls if c.method != "auth.test"] == []


async def test_an_oversized_signed_body_is_refused_and_leaves_no_trace(hoedan: Running) -> None:
    """Over ``MAX_BODY_BYTES`` nothing is parsed, even with a valid signature (aiohttp stops
    reading at the limit, so the signature cannot even be checked: 401 or 413, never 2xx);
    the server keeps answering."""
    padding = "x" * (MAX_BODY_BYTES + 1)
    big_event = event_body(message_event(f"#hoedan Hoe groot? {padding}"), event_id="EvBIG1")
    big_command = command_body(f"vraag {padding}")

    statuses = [
        await post_big(hoedan, big_event, content_type=JSON, signed=True),
        await post_big(hoedan, big_command, content_type=FORM, signed=True),
    ]
    await hoedan.settle()

    assert all(status in (401, 413) for status in statuses), statuses
    await nothing_kept(hoedan)
    await hoedan.command("help")
    await hoedan.slack.wait_for_calls("chat.postEphemeral")


async def test_an_unsigned_body_bolt_cannot_read_is_refused_without_a_server_error(
    hoedan: Running,
) -> None:
    """Anyone can send these; each must be a 4xx like any other unsigned request."""
    padding = "x" * (MAX_BODY_BYTES + 1)
    big_event = event_body(message_event(f"#hoedan Hoe groot? {padding}"), event_id="EvBIG2")
    statuses = [await post_big(hoedan, big_event, content_type=JSON, signed=False)]
    for headers in (
        {"Content-Type": FORM},
        {"Content-Type": JSON},
        {"Content-Type": FORM, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=0"},
    ):
        async with hoedan.http.post(
            hoedan.events_url, data=b"\xff\xfe\x00 niet utf-8", headers=headers
        ) as response:
            statuses.append(response.status)
    await hoedan.settle()

    await nothing_kept(hoedan)
    assert all(400 <= status < 500 for status in statuses), statuses


async def test_a_replayed_signed_command_is_answered_once(hoedan: Running) -> None:
    """A slash command has no event id: its trigger id makes a replay of the same signed
    request (within Slack's five minutes) a repeat, so it is answered once."""
    body = command_body("help", trigger_id="1.1700000000.replayed")

    statuses = [
        (await post_signed(hoedan.http, hoedan.events_url, body, content_type=FORM))[0]
        for _ in range(3)
    ]
    await hoedan.slack.wait_for_calls("chat.postEphemeral")
    await hoedan.settle()

    assert statuses == [200, 200, 200]
    assert len(hoedan.slack.calls_to("chat.postEphemeral")) == 1
    async with hoedan.store.transaction() as tx:
        deliveries = (await tx.session.exec(select(InboundDelivery))).all()
    assert [d.delivery_id for d in deliveries] == ["command:1.1700000000.replayed"]


async def test_an_event_signed_for_another_body_is_refused(hoedan: Running) -> None:
    """A valid signature belongs to one body: the same headers with a changed body fail."""
    genuine = event_body(message_event("Goedemorgen allemaal"), event_id="EvSIG1")
    changed = json.loads(genuine)
    changed["event"]["text"] = "#hoedan Hoe vervalsen we een handtekening?"
    headers = {"Content-Type": JSON, **sign(genuine)}
    async with hoedan.http.post(
        hoedan.events_url, data=json.dumps(changed).encode(), headers=headers
    ) as response:
        status = response.status
    await hoedan.settle()

    assert status == 401
    assert await hoedan.questions() == []


async def test_posts_ask_slack_neither_to_link_names_nor_to_unfurl_links(hoedan: Running) -> None:
    """Besides escaping: no ``link_names`` (which would turn a typed @name into a ping) and no
    previews of links people typed (a preview fetches the attacker's page and shows it)."""
    text = "#hoedan Hoe werkt https://evil.example/preview met @channel en @jan?"
    await hoedan.event(message_event(text, ts="1700000100.000100"), event_id="EvLINK1")
    [call] = await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert call.args["link_names"] is False
    assert call.args["unfurl_links"] is False
    assert call.args["unfurl_media"] is False
    assert call.args.get("parse") in (None, "none")
