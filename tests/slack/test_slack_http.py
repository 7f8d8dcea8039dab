"""Slack over HTTP, end to end: signed requests in, calls to the fake Slack Web API out."""

from __future__ import annotations

import json
import time
from typing import Any

from slack_sdk.models.blocks import Block
from sqlmodel import select

from bot.slack.render import MAX_MESSAGE_BLOCKS, MAX_SECTION_CHARS
from storage.enums import OutboxStatus, QuestionStatus
from storage.models import InboundDelivery, Member
from tests.slack.conftest import FORM, JSON, Running, all_strings
from tests.slack.fake_slack import Call
from tests.slack.signing import (
    block_actions_payload,
    command_body,
    event_body,
    global_shortcut_payload,
    message_event,
    message_shortcut_payload,
    post_signed,
    view_submission_payload,
)

HOME_VIEW = {"id": "VHOME1", "type": "home", "blocks": []}
WRONG_SECRET = "0" * 32
"""Not the app's signing secret: whoever signs with it is not Slack."""


def channel_message(
    text: str, *, ts: str, user: str = "U0001", channel: str = "C0001", **extra: Any
) -> dict[str, Any]:
    return {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": "channel",
        "event_ts": ts,
        **extra,
    }


def texts_of(call: Call) -> str:
    """Everything a person could read in a posted message: fallback text and all blocks."""
    return (
        "\n".join(all_strings(call.args.get("text")))
        + "\n"
        + "\n".join(all_strings(call.args.get("blocks")))
    )


def assert_valid_blocks(blocks: Any, *, limit: int = MAX_MESSAGE_BLOCKS) -> list[dict[str, Any]]:
    parsed = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert isinstance(parsed, list)
    assert 0 < len(parsed) <= limit
    for block in Block.parse_all(parsed):
        block.to_dict()  # validates Slack's limits
    for block in parsed:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= MAX_SECTION_CHARS
    return parsed


async def test_url_verification_echoes_the_challenge(hoedan: Running) -> None:
    body = json.dumps(
        {
            "token": "x",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )

    status, text = await post_signed(hoedan.http, hoedan.events_url, body, content_type=JSON)

    assert status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in text


async def test_health_reports_database_and_version(hoedan: Running) -> None:
    async with hoedan.http.get(f"{hoedan.url}/healthz") as response:
        body = await response.json()
        assert response.status == 200
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["slack"] == "http"
    assert body["version"]


async def test_help_command_is_acknowledged_and_answered_privately(hoedan: Running) -> None:
    status, text = await hoedan.command("help", user_id="U0001", channel_id="C0001")

    assert status == 200
    assert text == ""
    [call] = await hoedan.slack.wait_for_calls("chat.postEphemeral")
    assert call.args["channel"] == "C0001"
    assert call.args["user"] == "U0001"
    assert "Wat kan Hoedan voor je doen?" in texts_of(call)
    assert_valid_blocks(call.args["blocks"])


async def test_ack_comes_before_the_work(hoedan: Running) -> None:
    """Slack's ack does not wait for users.info or the database: the reply comes after it."""
    hoedan.slack.delay("users.info", 1.0)

    status, _ = await hoedan.command("help", user_id="U0042")

    assert status == 200
    assert hoedan.slack.calls_to("chat.postEphemeral") == []
    await hoedan.slack.wait_for_calls("chat.postEphemeral")


async def test_first_contact_takes_name_timezone_and_locale_from_users_info(
    hoedan: Running,
) -> None:
    hoedan.slack.add_user(
        "U0077", "sam", real_name="Sam Jansen", display_name="", tz="Europe/London", locale="en-GB"
    )

    await hoedan.command("help", user_id="U0077", user_name="sam")
    [call] = await hoedan.slack.wait_for_calls("chat.postEphemeral")
    await hoedan.settle()

    assert "What can Hoedan do for you?" in texts_of(call)
    async with hoedan.store.transaction() as tx:
        member = (await tx.session.exec(select(Member).where(Member.external_id == "U0077"))).one()
    assert member.display_name == "Sam Jansen"
    assert member.timezone == "Europe/London"
    assert member.locale == "en-GB"
    assert [c.args["user"] for c in hoedan.slack.calls_to("users.info")] == ["U0077"]


async def test_question_by_command_is_stored_and_confirmed(hoedan: Running) -> None:
    await hoedan.command("vraag Hoe betrekken jullie inwoners bij het regioplan?")
    [call] = await hoedan.slack.wait_for_calls("chat.postEphemeral")
    await hoedan.settle()

    [question] = await hoedan.questions()
    assert question.text == "Hoe betrekken jullie inwoners bij het regioplan?"
    assert f"#{question.number}" in texts_of(call)


async def test_hashtag_message_becomes_a_question_answered_in_its_thread(hoedan: Running) -> None:
    await hoedan.event(
        channel_message("Hoe organiseren jullie een wijkavond? #hoedan", ts="1700000001.000100"),
        event_id="Ev001",
    )
    [call] = await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert call.args["channel"] == "C0001"
    assert call.args["thread_ts"] == "1700000001.000100"
    [question] = await hoedan.questions()
    assert question.text == "Hoe organiseren jullie een wijkavond?"
    assert question.source_ref == "1700000001.000100"
    assert f"#{question.number}" in texts_of(call)


async def test_a_redelivered_event_changes_nothing(hoedan: Running) -> None:
    event = channel_message(
        "#hoedan Hoe financieren jullie de kwartiermaker?", ts="1700000002.000100"
    )

    statuses = [
        (await hoedan.event(event, event_id="Ev002", retry_num=retry))[0] for retry in (None, 1, 2)
    ]
    await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert statuses == [200, 200, 200]
    assert len(hoedan.slack.calls_to("chat.postMessage")) == 1
    assert len(await hoedan.questions()) == 1


async def test_the_bot_ignores_its_own_messages(hoedan: Running) -> None:
    own = channel_message(
        "#hoedan bewaard als #1", ts="1700000003.000100", user=hoedan.slack.bot_user_id
    )
    bot = channel_message(
        "#hoedan van een bot", ts="1700000003.000200", bot_id="B999", subtype="bot_message"
    )

    assert (await hoedan.event(own, event_id="Ev003"))[0] == 200
    assert (await hoedan.event(bot, event_id="Ev004"))[0] == 200
    await hoedan.settle()

    assert await hoedan.questions() == []
    assert hoedan.slack.calls_to("chat.postMessage") == []


async def test_forged_and_stale_signatures_are_refused_without_a_trace(hoedan: Running) -> None:
    event = channel_message("#hoedan Hoe vervalsen we dit?", ts="1700000004.000100")
    body = event_body(event, event_id="Ev005")

    forged = await post_signed(
        hoedan.http, hoedan.events_url, body, content_type=JSON, secret=WRONG_SECRET
    )
    stale = await post_signed(
        hoedan.http,
        hoedan.events_url,
        body,
        content_type=JSON,
        timestamp=int(time.time()) - 10 * 60,
    )
    async with hoedan.http.post(
        hoedan.events_url, data=body, headers={"Content-Type": JSON}
    ) as unsigned:
        unsigned_status = unsigned.status
    command = await post_signed(
        hoedan.http,
        hoedan.events_url,
        command_body("vraag Hoe dan?"),
        content_type=FORM,
        secret=WRONG_SECRET,
    )
    await hoedan.settle()

    assert [forged[0], stale[0], unsigned_status, command[0]] == [401, 401, 401, 401]
    assert await hoedan.questions() == []
    async with hoedan.store.transaction() as tx:
        assert (await tx.session.exec(select(InboundDelivery))).all() == []
    assert [c.method for c in hoedan.slack.calls if c.method != "auth.test"] == []


async def test_mentions_in_user_text_never_ping_anyone(hoedan: Running) -> None:
    text = (
        "#hoedan Hoe bereiken we <!channel> en <!here> en <@U0999> en <!subteam^S1|@team> "
        "&lt;b&gt;?"
    )
    await hoedan.event(channel_message(text, ts="1700000005.000100"), event_id="Ev006")
    await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.command("vragen")
    await hoedan.command("zoek bereiken")
    await hoedan.slack.wait_for_calls("chat.postEphemeral", 2)
    await hoedan.settle()

    [question] = await hoedan.questions()
    assert "<!" not in question.text
    assert "<@" not in question.text
    assert question.text.startswith("Hoe bereiken we @channel en @here en @U0999 en @team <b>?")
    listed = [texts_of(call) for call in hoedan.slack.calls_to("chat.postEphemeral")]
    assert all("bereiken" in text for text in listed)
    for sent in [*listed, *(texts_of(c) for c in hoedan.slack.calls_to("chat.postMessage"))]:
        assert "<!" not in sent
        assert "<@" not in sent
        assert "@channel" not in sent  # the word joiner keeps it from being parsed
        assert "@here" not in sent


async def test_rate_limited_post_is_retried_and_posted_once(hoedan: Running) -> None:
    hoedan.slack.rate_limit("chat.postMessage", retry_after=1)

    await hoedan.event(
        channel_message("#hoedan Hoe meten jullie effect?", ts="1700000006.000100"),
        event_id="Ev007",
    )
    await hoedan.slack.wait_for_calls("chat.postMessage", 2, timeout=15)
    await hoedan.settle()

    assert len(hoedan.slack.messages("C0001")) == 1
    [row] = [m for m in await hoedan.outbox() if m.kind == "post"]
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 2


async def test_a_post_that_reached_slack_before_an_error_is_not_repeated(hoedan: Running) -> None:
    hoedan.slack.post_then_error("chat.postMessage", status=500)
    ts = hoedan.slack.add_message("C0001", "#hoedan Hoe houden we vaart?")

    await hoedan.event(channel_message("#hoedan Hoe houden we vaart?", ts=ts), event_id="Ev008")
    await hoedan.slack.wait_for_calls("conversations.replies", timeout=15)
    await hoedan.settle()

    assert len([m for m in hoedan.slack.messages("C0001") if m.get("bot_id")]) == 1
    assert len(hoedan.slack.calls_to("chat.postMessage")) == 1
    [row] = [m for m in await hoedan.outbox() if m.kind == "post"]
    assert row.status == OutboxStatus.SENT


async def test_channel_not_found_is_recorded_and_the_app_stays_healthy(hoedan: Running) -> None:
    hoedan.slack.fail("chat.postMessage", "channel_not_found", channel="C0GONE")

    await hoedan.event(
        channel_message("#hoedan Hoe dan?", ts="1700000008.000100", channel="C0GONE"),
        event_id="Ev009",
    )
    await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()
    [row] = [m for m in await hoedan.outbox() if m.kind == "post"]
    async with hoedan.http.get(f"{hoedan.url}/healthz") as health:
        health_status = health.status
    await hoedan.command("help")
    await hoedan.slack.wait_for_calls("chat.postEphemeral")

    assert row.status == OutboxStatus.FAILED
    assert row.last_error == "channel_not_found"
    assert row.attempts == 1
    assert health_status == 200
    assert len(hoedan.slack.calls_to("chat.postMessage")) == 1


async def test_a_private_reply_where_the_bot_is_absent_arrives_by_dm(hoedan: Running) -> None:
    hoedan.slack.fail("chat.postEphemeral", "not_in_channel")

    await hoedan.command("help", user_id="U0005", channel_id="G0PRIVATE")
    [call] = await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert call.args["channel"] == "DU0005"
    assert "Wat kan Hoedan voor je doen?" in texts_of(call)


async def test_sixty_questions_are_listed_within_slacks_limits(hoedan: Running) -> None:
    for number in range(60):
        await hoedan.command(
            f"vraag Hoe pakken jullie onderwerp {number} aan? Toelichting: {'x' * 200}",
            user_id=f"U{number:04d}",
        )
    await hoedan.slack.wait_for_calls("chat.postEphemeral", 60, timeout=30)
    await hoedan.command("vragen")
    calls = await hoedan.slack.wait_for_calls("chat.postEphemeral", 61, timeout=30)
    await hoedan.settle()

    listing = calls[-1]
    assert len(await hoedan.questions()) == 60
    blocks = assert_valid_blocks(listing.args["blocks"])
    assert "Open vragen (60)" in texts_of(listing)
    assert "nog 45 meer" in texts_of(listing)
    assert len(blocks) <= MAX_MESSAGE_BLOCKS


async def test_malformed_signed_requests_never_get_a_server_error(hoedan: Running) -> None:
    bodies: list[tuple[str, str]] = [
        ("not json at all", JSON),
        ("[1, 2, 3]", JSON),
        ("{}", JSON),
        (json.dumps({"type": "event_callback"}), JSON),
        (json.dumps({"type": "event_callback", "event_id": "EvX1", "event": "nope"}), JSON),
        (
            json.dumps(
                {
                    "type": "event_callback",
                    "event_id": "EvX2",
                    "event": {
                        "type": "message",
                        "user": 5,
                        "text": None,
                        "channel": ["C1"],
                        "ts": 1,
                    },
                }
            ),
            JSON,
        ),
        (
            json.dumps(
                {
                    "type": "event_callback",
                    "event_id": "EvX3",
                    "event": {
                        "type": "message",
                        "subtype": "message_changed",
                        "channel": "C0001",
                        "message": {"text": "#hoedan"},
                        "ts": "1.1",
                    },
                }
            ),
            JSON,
        ),
        (
            json.dumps(
                {
                    "type": "event_callback",
                    "event_id": "EvX4",
                    "event": {
                        "type": "message",
                        "subtype": "message_deleted",
                        "channel": "C0001",
                        "deleted_ts": "1.1",
                        "ts": "1.2",
                    },
                }
            ),
            JSON,
        ),
        (
            json.dumps(
                {
                    "type": "event_callback",
                    "event_id": "EvX5",
                    "event": {"type": "reaction_added", "user": "U1"},
                }
            ),
            JSON,
        ),
        ("payload=not-json", FORM),
        ("payload=%7B%7D", FORM),
        (
            "payload="
            + json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": "x"}),
            FORM,
        ),
        (
            "payload="
            + json.dumps(
                {
                    "type": "view_submission",
                    "user": {"id": "U1"},
                    "view": {"callback_id": "question.form", "state": {"values": "?"}},
                }
            ),
            FORM,
        ),
        (
            "payload="
            + json.dumps({"type": "shortcut", "callback_id": "hoedan_ask", "user": {"id": "U1"}}),
            FORM,
        ),
        (
            "payload="
            + json.dumps(
                {
                    "type": "message_action",
                    "callback_id": "hoedan_save_message",
                    "user": {"id": "U1"},
                    "channel": {"id": "C1"},
                    "message": {},
                }
            ),
            FORM,
        ),
        (
            "payload="
            + json.dumps({"type": "block_suggestion", "action_id": "x", "user": {"id": "U1"}}),
            FORM,
        ),
        ("payload=" + json.dumps({"type": "something_new"}), FORM),
        ("command=/hoedan&text=help", FORM),
        ("command=/hoedan&user_id=U1&channel_id=C1&trigger_id=t1&text=" + "x" * 50_000, FORM),
        ("\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), FORM),
    ]
    statuses = []
    for body, content_type in bodies:
        status, _ = await post_signed(
            hoedan.http, hoedan.events_url, body, content_type=content_type
        )
        statuses.append(status)
    await hoedan.settle()
    await hoedan.command("help")
    await hoedan.slack.wait_for_calls("chat.postEphemeral")

    assert all(status < 500 for status in statuses), statuses
    assert await hoedan.questions() == []


async def test_an_edited_source_message_changes_the_question_and_deleting_withdraws_it(
    hoedan: Running,
) -> None:
    await hoedan.event(
        message_event("#hoedan Hoe vinden we vrijwilligers?", ts="1.1"), event_id="Ev010"
    )
    await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()
    changed = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C0001",
        "channel_type": "channel",
        "hidden": True,
        "message": {
            "type": "message",
            "user": "U0001",
            "text": "#hoedan Hoe houden we vrijwilligers vast?",
            "ts": "1.1",
        },
        "previous_message": {
            "type": "message",
            "user": "U0001",
            "text": "#hoedan Hoe vinden we vrijwilligers?",
            "ts": "1.1",
        },
        "ts": "1.2",
    }
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": "C0001",
        "channel_type": "channel",
        "hidden": True,
        "deleted_ts": "1.1",
        "previous_message": {
            "type": "message",
            "user": "U0001",
            "text": "#hoedan Hoe houden we vrijwilligers vast?",
            "ts": "1.1",
        },
        "ts": "1.3",
    }

    status, _ = await hoedan.event(changed, event_id="Ev011")
    await hoedan.settle()
    [question] = await hoedan.questions()
    assert status == 200
    assert question.text == "Hoe houden we vrijwilligers vast?"

    status, _ = await hoedan.event(deleted, event_id="Ev012")
    await hoedan.settle()
    [question] = await hoedan.questions()
    assert status == 200
    assert question.status == QuestionStatus.WITHDRAWN


async def test_message_shortcut_saves_a_message_as_a_question(hoedan: Running) -> None:
    payload = message_shortcut_payload(
        "hoedan_save_message",
        message_text="Hoe krijgen we de huisartsen aan tafel?",
        message_ts="1700000010.000100",
        user_id="U0003",
        channel_id="C0001",
    )

    status, _ = await hoedan.interaction(payload)
    [call] = await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert status == 200
    [question] = await hoedan.questions()
    assert question.text == "Hoe krijgen we de huisartsen aan tafel?"
    assert call.args["thread_ts"] == "1700000010.000100"


async def test_global_shortcut_opens_the_question_dialog_and_submitting_stores_it(
    hoedan: Running,
) -> None:
    await hoedan.interaction(global_shortcut_payload("hoedan_ask", user_id="U0004"))
    [opened] = await hoedan.slack.wait_for_calls("views.open")
    view = opened.json("view")
    assert view["callback_id"] == "question.form"

    await hoedan.interaction(
        view_submission_payload(
            callback_id="question.form",
            user_id="U0004",
            private_metadata=view.get("private_metadata", ""),
            values={
                "question": {
                    "question": {"type": "plain_text_input", "value": "Hoe delen we data veilig?"}
                }
            },
        )
    )
    [confirmation] = await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    [question] = await hoedan.questions()
    assert question.text == "Hoe delen we data veilig?"
    assert confirmation.args["channel"] == "DU0004"
    assert f"#{question.number}" in texts_of(confirmation)


async def test_app_home_shows_my_open_questions_and_what_i_can_do(hoedan: Running) -> None:
    await hoedan.command(
        "vraag Hoe houden we inwoners betrokken na de startbijeenkomst?", user_id="U0006"
    )
    await hoedan.slack.wait_for_calls("chat.postEphemeral")

    await hoedan.event(
        {
            "type": "app_home_opened",
            "user": "U0006",
            "channel": "DU0006",
            "tab": "home",
            "event_ts": "1.0",
        },
        event_id="Ev011",
    )
    [published] = await hoedan.slack.wait_for_calls("views.publish")
    await hoedan.settle()

    view = published.json("view")
    assert published.args["user_id"] == "U0006"
    assert view["type"] == "home"
    shown = "\n".join(all_strings(view))
    assert "inwoners betrokken" in shown
    assert "deelnemer" in shown
    actions = [
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert any(a.startswith("question.open_form") for a in actions)
    assert_valid_blocks(view["blocks"], limit=100)


async def test_app_home_lists_the_open_questions_of_my_region(hoedan: Running) -> None:
    """Neighbours' questions, not mine and not other regions': what I might have a #zodan for."""
    for user_id, region in (("U0020", "Twente"), ("U0021", "Twente"), ("U0022", "Salland")):
        await hoedan.command(f"regio {region}", user_id=user_id)
    await hoedan.command("vraag Hoe financieren we de wijkteams na 2026?", user_id="U0020")
    await hoedan.command("vraag Hoe werven we vrijwilligers voor het buurthuis?", user_id="U0021")
    await hoedan.command("vraag Wie meet eenzaamheid onder ouderen?", user_id="U0022")
    await hoedan.slack.wait_for_calls("chat.postEphemeral", count=6)

    await hoedan.event(
        {"type": "app_home_opened", "user": "U0021", "channel": "DU0021", "tab": "home"},
        event_id="Ev020",
    )
    [published] = await hoedan.slack.wait_for_calls("views.publish")
    await hoedan.settle()

    shown = "\n".join(all_strings(published.json("view")))
    region_part = shown[shown.index("Open vragen in Twente") :]
    assert "wijkteams" in region_part
    assert "vrijwilligers" not in region_part
    assert "eenzaamheid" not in shown
    assert "Heb je een #zodan?" in region_part


async def test_a_home_button_opens_the_dialog_and_another_lists_questions(hoedan: Running) -> None:
    await hoedan.interaction(
        block_actions_payload("question.open_form#0", user_id="U0007", view=HOME_VIEW)
    )
    [opened] = await hoedan.slack.wait_for_calls("views.open")
    await hoedan.interaction(
        block_actions_payload("questions.list#1", user_id="U0007", view=HOME_VIEW)
    )
    [listing] = await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert opened.json("view")["callback_id"] == "question.form"
    assert listing.args["channel"] == "DU0007"
    assert "geen open vragen" in texts_of(listing)


async def test_a_dm_to_hoedan_uses_the_command_grammar(hoedan: Running) -> None:
    dm = {
        "type": "message",
        "user": "U0008",
        "text": "help",
        "ts": "1700000012.000100",
        "channel": "D0008",
        "channel_type": "im",
    }

    await hoedan.event(dm, event_id="Ev012")
    calls = await hoedan.slack.wait_for_calls("chat.postMessage")
    await hoedan.settle()

    assert calls[0].args["channel"] == "D0008"
    assert "Wat kan Hoedan voor je doen?" in texts_of(calls[0])


async def test_a_mention_of_hoedan_is_a_command(hoedan: Running) -> None:
    mention = {
        "type": "app_mention",
        "user": "U0009",
        "text": f"<@{hoedan.slack.bot_user_id}> help",
        "ts": "1700000013.000100",
        "channel": "C0001",
    }

    await hoedan.event(mention, event_id="Ev013")
    [call] = await hoedan.slack.wait_for_calls("chat.postEphemeral")
    await hoedan.settle()

    assert "Wat kan Hoedan voor je doen?" in texts_of(call)


async def test_ordinary_conversation_costs_no_lookup_and_no_database_work(
    hoedan: Running,
) -> None:
    for number in range(5):
        status, _ = await hoedan.event(
            channel_message(f"Goedemorgen allemaal, overleg om {number} uur", ts=f"17.{number}"),
            event_id=f"EvChat{number}",
        )
        assert status == 200
    await hoedan.settle()
    async with hoedan.http.get(f"{hoedan.url}/healthz") as response:
        work = (await response.json())["work"]

    assert work == {"handled": 5, "in_flight": 0}
    assert hoedan.slack.calls_to("users.info") == []
    async with hoedan.store.transaction() as tx:
        assert (await tx.session.exec(select(InboundDelivery))).all() == []
        assert (await tx.session.exec(select(Member))).all() == []
