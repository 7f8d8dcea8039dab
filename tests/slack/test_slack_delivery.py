"""Delivery through the outbox under Slack's rate limits, outages and permanent errors."""

from __future__ import annotations

import logging

import pytest

from storage.enums import OutboxStatus
from tests.slack.conftest import Running, use_web_api_timeout
from tests.slack.signing import message_event


def bot_posts(hoedan: Running, channel: str) -> list[dict[str, object]]:
    return [m for m in hoedan.slack.messages(channel) if m.get("bot_id")]


async def ask_in_thread(hoedan: Running, channel: str, text: str, event_id: str) -> str:
    ts = hoedan.slack.add_message(channel, text)
    await hoedan.event(message_event(text, channel=channel, ts=ts), event_id=event_id)
    return ts


async def test_server_errors_are_retried_and_the_message_appears_once(hoedan: Running) -> None:
    hoedan.slack.server_error("chat.postMessage", status=503, times=2)

    await ask_in_thread(hoedan, "C0001", "#hoedan Hoe borgen we afspraken?", "EvD1")
    await hoedan.slack.wait_for_calls("chat.postMessage", 3, timeout=20)
    await hoedan.settle(seconds=20)

    assert len(bot_posts(hoedan, "C0001")) == 1
    [row] = [m for m in await hoedan.outbox() if m.kind == "post"]
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 3


async def test_a_timed_out_post_that_did_arrive_is_not_posted_again(hoedan: Running) -> None:
    adapter = hoedan.service.slack
    assert adapter is not None
    await use_web_api_timeout(adapter, 1)
    hoedan.slack.delay("chat.postMessage", 2.0)

    await ask_in_thread(hoedan, "C0001", "#hoedan Hoe werven we vrijwilligers?", "EvD2")
    await hoedan.slack.wait_for_calls("conversations.replies", timeout=20)
    await hoedan.settle(seconds=20)

    assert len(bot_posts(hoedan, "C0001")) == 1
    assert len(hoedan.slack.calls_to("chat.postMessage")) == 1
    [row] = [m for m in await hoedan.outbox() if m.kind == "post"]
    assert row.status == OutboxStatus.SENT


async def test_a_rate_limited_channel_does_not_hold_up_another(hoedan: Running) -> None:
    hoedan.slack.rate_limit("chat.postMessage", retry_after=30, channel="C0SLOW")

    await ask_in_thread(hoedan, "C0SLOW", "#hoedan Hoe dan in het trage kanaal?", "EvD3")
    await hoedan.slack.wait_for_calls("chat.postMessage")
    await ask_in_thread(hoedan, "C0FAST", "#hoedan Hoe dan in het snelle kanaal?", "EvD4")
    await hoedan.slack.wait_for(lambda: len(bot_posts(hoedan, "C0FAST")) == 1)

    slow = [m for m in await hoedan.outbox() if m.channel_ref == "C0SLOW"]
    assert [m.status for m in slow] == [OutboxStatus.PENDING]
    assert slow[0].last_error is not None
    assert slow[0].last_error.startswith("429")
    assert bot_posts(hoedan, "C0SLOW") == []


async def test_a_permanent_error_is_recorded_and_logged_once(
    hoedan: Running, caplog: pytest.LogCaptureFixture
) -> None:
    hoedan.slack.fail("chat.postMessage", "is_archived", channel="C0OLD", times=5)
    caplog.set_level(logging.WARNING)

    await ask_in_thread(hoedan, "C0OLD", "#hoedan Hoe archiveren we?", "EvD5")
    await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()
    await hoedan.command("help")
    await hoedan.slack.wait_for_calls("chat.postEphemeral")
    await hoedan.settle()

    [row] = [m for m in await hoedan.outbox() if m.channel_ref == "C0OLD"]
    assert (row.status, row.last_error, row.attempts) == (OutboxStatus.FAILED, "is_archived", 1)
    assert len(hoedan.slack.calls_to("chat.postMessage")) == 1
    failures = [r for r in caplog.records if "failed permanently" in r.getMessage()]
    assert len(failures) == 1
