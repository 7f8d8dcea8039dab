"""Group conversations and threads by subject on Slack, through the real outbox and the fake."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from flows.messages import Message, Paragraph
from flows.outbound import Outbound, ToGroup, ToSpace, enqueue
from flows.text import ours
from storage.enums import OutboxStatus, Platform, SpaceKind
from storage.models import OutboxMessage, Space
from tests.slack.conftest import Running
from tests.slack.fake_slack import FakeSlack, group_id
from tests.slack.signing import block_actions_payload, message_event

ANNA, BRAM, CARLA = "U0ANNA", "U0BRAM", "U0CARLA"
BOT_TOKEN = "xoxb-test-token"  # noqa: S105  (the fake's)


def _card(line: str) -> Message:
    return Message(parts=(Paragraph(text=ours(line)),))


def bot_posts(hoedan: Running, channel: str) -> list[dict[str, object]]:
    return [m for m in hoedan.slack.messages(channel) if m.get("bot_id")]


async def members(hoedan: Running, *user_ids: str) -> tuple[int, ...]:
    """Member ids for these Slack users, as a flow would have them."""
    config = hoedan.service.hoedan.runtime.config
    async with hoedan.store.transaction() as tx:
        network = await tx.networks.get_or_create(
            slug=config.network_slug, name=config.network_name
        )
        assert network.id is not None
        found = [
            await tx.members.get_or_create(
                network_id=network.id,
                platform=Platform.SLACK,
                external_id=user_id,
                display_name=user_id,
            )
            for user_id in user_ids
        ]
    return tuple(member.id for member in found if member.id is not None)


async def channel(hoedan: Running, external_id: str) -> int:
    config = hoedan.service.hoedan.runtime.config
    async with hoedan.store.transaction() as tx:
        network = await tx.networks.get_or_create(
            slug=config.network_slug, name=config.network_name
        )
        assert network.id is not None
        space = await tx.spaces.get_or_create(
            network_id=network.id,
            platform=Platform.SLACK,
            external_id=external_id,
            name=external_id,
            kind=SpaceKind.CHANNEL,
        )
    assert space.id is not None
    return space.id


async def queue(hoedan: Running, key: str, *outbound: Outbound) -> None:
    """Queue effects as a flow does, and let the dispatcher know."""
    async with hoedan.store.transaction() as tx:
        await enqueue(tx, list(outbound), key_prefix=key)
    hoedan.service.dispatcher.wake()


async def row(hoedan: Running, key: str) -> OutboxMessage:
    async with hoedan.store.transaction() as tx:
        found = await tx.outbox.by_key(key)
    assert found is not None
    return found


async def space_kind(hoedan: Running, external_id: str) -> SpaceKind:
    async with hoedan.store.transaction() as tx:
        statement = select(Space).where(Space.external_id == external_id)
        space = (await tx.session.exec(statement)).one()
    return SpaceKind(space.kind)


# The fake's group conversations


async def test_the_fake_opens_one_group_per_set_of_people_and_refuses_more_than_eight(
    slack: FakeSlack,
) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)

    first = await client.conversations_open(users=f"{ANNA},{BRAM},{CARLA}")
    reordered = await client.conversations_open(users=f"{CARLA},{ANNA},{BRAM}")
    pair = await client.conversations_open(users=f"{ANNA},{BRAM}")
    info = await client.conversations_info(channel=group_id([ANNA, BRAM, CARLA]))
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_open(users=",".join(f"U0{n:04d}" for n in range(9)))

    assert first["channel"]["id"] == reordered["channel"]["id"] == group_id([BRAM, CARLA, ANNA])
    assert reordered["already_open"] is True
    assert pair["channel"]["id"] not in {first["channel"]["id"], f"D{ANNA}"}
    assert info["channel"]["is_mpim"] is True
    assert info["channel"]["name"].startswith("mpdm-")
    assert raised.value.response["error"] == "too_many_users"


# Delivery


async def test_a_group_is_opened_once_per_set_of_people_and_its_messages_land_there(
    hoedan: Running,
) -> None:
    anna, bram, carla = await members(hoedan, ANNA, BRAM, CARLA)

    await queue(
        hoedan,
        "session",
        Outbound(ToGroup((anna, bram, carla), "intervisie-3"), _card("Welkom"), "intervision:3"),
        Outbound(ToGroup((carla, bram, anna), "intervisie-3"), _card("Fase 1"), "intervision:3"),
        Outbound(ToGroup((anna, bram), "intervisie-4"), _card("Welkom"), "intervision:4"),
    )
    await hoedan.settle()

    opened = [call.args.get("users") for call in hoedan.slack.calls_to("conversations.open")]
    assert opened == [f"{ANNA},{BRAM},{CARLA}", f"{ANNA},{BRAM}"]
    trio, pair = group_id([ANNA, BRAM, CARLA]), group_id([ANNA, BRAM])
    assert [post["text"] for post in bot_posts(hoedan, trio)] == ["Welkom", "Fase 1"]
    assert [post["text"] for post in bot_posts(hoedan, pair)] == ["Welkom"]
    for key, conversation in (("session:0", trio), ("session:1", trio), ("session:2", pair)):
        sent = await row(hoedan, key)
        assert sent.status == OutboxStatus.SENT
        assert sent.channel_ref == conversation
        assert sent.external_ref is not None
        assert sent.external_ref.startswith(f"{conversation}:")
    async with hoedan.store.transaction() as tx:
        owner = await tx.outbox.subject_of_place(
            platform=Platform.SLACK, channel_ref=trio, thread_ref=None, prefix="intervision:"
        )
    assert owner == "intervision:3"


async def test_a_post_for_a_subjects_thread_lands_under_the_opening_post_after_it(
    hoedan: Running,
) -> None:
    space = await channel(hoedan, "C0INTER")
    hoedan.slack.rate_limit("chat.postMessage", retry_after=1, channel="C0INTER")

    await queue(
        hoedan,
        "thread",
        Outbound(ToSpace(space), _card("Intervisie 5 begint"), subject="intervision:5"),
        Outbound(ToSpace(space, thread_subject="intervision:5"), _card("Fase 1")),
        Outbound(ToSpace(space, thread_subject="intervision:5"), _card("Fase 2")),
    )
    await hoedan.slack.wait_for(lambda: len(bot_posts(hoedan, "C0INTER")) == 3, timeout=15)
    await hoedan.settle()

    opening, *phases = bot_posts(hoedan, "C0INTER")
    assert opening["text"] == "Intervisie 5 begint"
    assert opening["thread_ts"] is None
    assert [(post["text"], post["thread_ts"]) for post in phases] == [
        ("Fase 1", opening["ts"]),
        ("Fase 2", opening["ts"]),
    ]
    waited = await row(hoedan, "thread:1")
    assert (waited.status, waited.attempts) == (OutboxStatus.SENT, 1)


async def test_a_group_larger_than_slack_allows_fails_for_good_with_the_reason(
    hoedan: Running,
) -> None:
    nine = await members(hoedan, *(f"U0{number:04d}" for number in range(9)))

    await queue(hoedan, "big", Outbound(ToGroup(nine, "intervisie-9"), _card("Welkom")))
    await hoedan.settle()

    failed = await row(hoedan, "big:0")
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, 1)
    assert failed.last_error == (
        "a Slack group conversation has at most 8 people besides Hoedan; this one would have 9"
    )
    assert hoedan.slack.calls_to("conversations.open") == []


async def test_a_group_slack_will_not_open_fails_for_good_and_a_rate_limit_waits(
    hoedan: Running,
) -> None:
    anna, bram, carla = await members(hoedan, ANNA, BRAM, CARLA)
    hoedan.slack.fail("conversations.open", "user_disabled")

    await queue(hoedan, "gone", Outbound(ToGroup((anna, bram), "g-1"), _card("Welkom")))
    await hoedan.settle()
    hoedan.slack.rate_limit("conversations.open", retry_after=1)
    await queue(hoedan, "busy", Outbound(ToGroup((anna, carla), "g-2"), _card("Welkom")))
    await hoedan.slack.wait_for(lambda: len(bot_posts(hoedan, group_id([ANNA, CARLA]))) == 1)

    gone = await row(hoedan, "gone:0")
    assert (gone.status, gone.last_error, gone.channel_ref) == (
        OutboxStatus.FAILED,
        "user_disabled",
        "g-1",
    )
    busy = await row(hoedan, "busy:0")
    assert busy.attempts == 2
    assert busy.channel_ref == group_id([ANNA, CARLA])


# Inbound


async def test_a_message_in_a_group_conversation_comes_from_a_group_place(
    hoedan: Running,
) -> None:
    conversation = group_id([ANNA, BRAM, CARLA])
    text = "#hoedan Hoe houden we een intervisie vertrouwelijk?"
    ts = hoedan.slack.add_message(conversation, text, user=ANNA)

    await hoedan.event(
        message_event(text, user=ANNA, channel=conversation, ts=ts, channel_type="mpim"),
        event_id="EvGroup1",
    )
    await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert await space_kind(hoedan, conversation) == SpaceKind.GROUP
    [question] = await hoedan.questions()
    assert question.text == "Hoe houden we een intervisie vertrouwelijk?"


async def test_a_button_in_a_group_conversation_is_pressed_in_a_group_place(
    hoedan: Running,
) -> None:
    conversation = group_id([ANNA, BRAM])

    await hoedan.interaction(
        block_actions_payload(
            "questions.list#1",
            user_id=ANNA,
            channel_id=conversation,
            channel_name="mpdm-u0anna--u0bram-1",
        )
    )
    await hoedan.slack.wait_for_calls("chat.postEphemeral")
    await hoedan.settle()

    assert await space_kind(hoedan, conversation) == SpaceKind.GROUP
