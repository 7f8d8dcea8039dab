"""Over HTTP: the work behind an ack waits while requests are being worked on, not longer.

Slack's three-second deadline is for the ack; the work behind an event has none. Slack requests
count as work once their body is in, and a #hoedan question acknowledged while others are being
worked on is stored and answered when they are done. A sender that trickles its body holds
nothing up.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from tests.slack.conftest import JSON, Running
from tests.slack.signing import event_body, sign
from tests.slack.test_slack_http import channel_message


class SlowRequest:
    """A signed Slack request sent over a raw socket, its body held back halfway."""

    def __init__(self, hoedan: Running, body: str) -> None:
        self._hoedan = hoedan
        self._body = body.encode("utf-8")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def start(self) -> None:
        address = urlsplit(self._hoedan.events_url)
        assert address.hostname is not None
        assert address.port is not None
        self._reader, self._writer = await asyncio.open_connection(address.hostname, address.port)
        headers = {
            "Host": address.netloc,
            "Content-Type": JSON,
            "Content-Length": str(len(self._body)),
            **sign(self._body),
        }
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._writer.write(f"POST {address.path} HTTP/1.1\r\n{head}\r\n".encode())
        self._writer.write(self._body[: len(self._body) // 2])
        await self._writer.drain()
        await asyncio.sleep(0.1)  # long enough for Hoedan to have started on the request

    async def finish(self) -> bytes:
        assert self._reader is not None
        assert self._writer is not None
        self._writer.write(self._body[len(self._body) // 2 :])
        await self._writer.drain()
        status_line = await asyncio.wait_for(self._reader.readline(), 5)
        self._writer.close()
        await self._writer.wait_closed()
        return status_line


QUESTION = "Hoe houden jullie vrijwilligers vast?"


async def test_a_question_acked_while_others_are_worked_on_is_handled_after_them(
    hoedan: Running,
) -> None:
    with hoedan.service.receiving.request():  # another request, being worked on
        status, _ = await hoedan.event(
            channel_message(f"#hoedan {QUESTION}", ts="1700000101.000100"), event_id="Ev2"
        )
        await asyncio.sleep(0.5)  # time enough for the work to be done, were it not held back

        assert status == 200
        assert hoedan.slack.calls_to("chat.postMessage") == []
        assert await hoedan.questions() == []
        async with hoedan.http.get(f"{hoedan.url}/healthz") as response:
            assert (await response.json())["work"]["in_flight"] == 1

    [call] = await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert call.args["thread_ts"] == "1700000101.000100"
    [question] = await hoedan.questions()
    assert question.text == QUESTION


async def test_slack_requests_count_towards_the_load(hoedan: Running) -> None:
    receiving = hoedan.service.receiving
    assert receiving.load() == 0.0

    await hoedan.event(channel_message("Goedemorgen", ts="1700000150.000100"), event_id="Ev5")

    assert receiving.load() > 0.0


async def test_a_sender_that_trickles_its_body_holds_up_no_work(hoedan: Running) -> None:
    slow = SlowRequest(
        hoedan,
        event_body(channel_message("Goedemorgen allemaal", ts="1700000100.000100"), event_id="Ev1"),
    )
    await slow.start()

    status, _ = await hoedan.event(
        channel_message(f"#hoedan {QUESTION}", ts="1700000101.000100"), event_id="Ev2"
    )
    [call] = await hoedan.slack.wait_for_calls("chat.postMessage")

    assert status == 200
    assert call.args["thread_ts"] == "1700000101.000100"
    assert (await slow.finish()).startswith(b"HTTP/1.1 200")
    await hoedan.settle()
    assert [question.text for question in await hoedan.questions()] == [QUESTION]
