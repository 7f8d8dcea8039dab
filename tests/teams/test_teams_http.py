"""End to end over HTTP: activities POSTed to /api/messages as Teams sends them, replies read
from a fake Bot Connector."""

from __future__ import annotations

import asyncio
import json

from storage.enums import OutboxStatus, QuestionStatus
from storage.models import TeamsReference
from tests.teams.conftest import (
    ANNA,
    BOT_ID,
    BRAM,
    CHANNEL,
    TENANT,
    Running,
    activity,
    channel_message,
    personal_message,
)


async def test_help_in_a_personal_chat_gets_one_reply_in_that_chat(hoedan: Running) -> None:
    body = personal_message(hoedan.connector, ANNA, "help")

    status, _ = await hoedan.send(body)
    await hoedan.settle()

    assert status == 202
    [reply] = hoedan.connector.delivered
    assert reply.conversation_id == ANNA.personal
    assert reply.reply_to is None
    assert reply.body["from"] == {"id": BOT_ID}
    assert "Wat kan Hoedan voor je doen?" in reply.text
    assert reply.authorization is None  # anonymous: no token is sent
    [typing] = hoedan.connector.typing
    assert typing.conversation_id == ANNA.personal
    assert typing.body["from"] == {"id": BOT_ID}


async def test_hoedan_in_a_channel_is_stored_and_answered_in_its_thread(hoedan: Running) -> None:
    body = channel_message(hoedan.connector, ANNA, "#hoedan Hoe betrekken jullie inwoners?")

    status, _ = await hoedan.send(body)
    await hoedan.settle()

    assert status == 202
    [question] = await hoedan.questions()
    assert question.text == "Hoe betrekken jullie inwoners?"
    [reply] = hoedan.connector.delivered
    assert reply.conversation_id == f"{CHANNEL};messageid={body['id']}"
    assert reply.reply_to == body["id"]
    assert reply.body["replyToId"] == body["id"]
    assert "bewaard als **#1**" in reply.text


async def test_a_mention_in_a_channel_is_a_command_answered_privately(hoedan: Running) -> None:
    """Help is for the asker only; Teams has no ephemeral messages, so it goes to their 1:1."""
    body = channel_message(hoedan.connector, ANNA, "help", mention=True)

    status, _ = await hoedan.send(body)
    await hoedan.settle()

    assert status == 202
    assert await hoedan.questions() == []
    [opened] = hoedan.connector.opened
    assert opened.body["members"] == [{"id": ANNA.id}]
    [reply] = hoedan.connector.delivered
    assert reply.conversation_id == f"a:personal-{ANNA.id}"
    assert "Wat kan Hoedan voor je doen?" in reply.text


async def test_a_zodan_reaches_the_asker_proactively_and_the_helpful_button_works(
    hoedan: Running,
) -> None:
    connector = hoedan.connector
    await hoedan.send(channel_message(connector, ANNA, "#hoedan Hoe betrekken jullie inwoners?"))
    await hoedan.settle()

    status, _ = await hoedan.send(
        personal_message(connector, BRAM, "zodan 1 Wij beginnen met een koffieochtend.")
    )
    await hoedan.settle()

    assert status == 202
    [opened] = connector.opened
    assert opened.body["members"] == [{"id": ANNA.id}]
    assert opened.body["bot"] == {"id": BOT_ID}
    assert opened.body["tenantId"] == TENANT
    anna_chat = f"a:personal-{ANNA.id}"
    [notice] = connector.to(anna_chat)
    assert "Een #zodan op je vraag **#1**" in notice.text
    assert "Wij beginnen met een koffieochtend." in notice.text
    [bram_reply] = connector.to(BRAM.personal)
    assert "de vrager krijgt bericht" in bram_reply.text
    helpful = next(a for a in notice.actions if a["data"]["verb"] == "answer.helpful")
    assert helpful["type"] == "Action.Submit"

    # Anna presses the button: Teams sends a message whose value is the action's data.
    pressed = activity(
        connector,
        sender=ANNA,
        conversation={"conversationType": "personal", "id": anna_chat},
        replyToId=notice.id,
        value=helpful["data"],
    )
    del pressed["text"]
    status, _ = await hoedan.send(pressed)
    await hoedan.settle()

    assert status == 202
    [question] = await hoedan.questions()
    assert question.status == QuestionStatus.CLOSED
    assert any("is gesloten" in posted.text for posted in connector.to(anna_chat))
    [thanks] = [p for p in connector.to(BRAM.personal) if "hielp" in p.text]
    assert "Anna de Vries" in thanks.text
    assert len(connector.opened) == 1  # Bram's own 1:1 chat was known from his message


async def test_action_execute_is_answered_at_once_and_handled(hoedan: Running) -> None:
    invoke = personal_message(hoedan.connector, ANNA, "")
    invoke.update(
        type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": "help.show", "data": {"value": ""}},
            "trigger": "manual",
        },
    )
    del invoke["text"]

    status, text = await hoedan.send(invoke)
    await hoedan.settle()

    assert status == 200
    answer = json.loads(text)
    assert answer["statusCode"] == 200
    assert answer["type"] == "application/vnd.microsoft.activity.message"
    [reply] = hoedan.connector.to(ANNA.personal)
    assert "Wat kan Hoedan voor je doen?" in reply.text


async def test_the_same_activity_three_times_gives_one_reply_and_one_question(
    hoedan: Running,
) -> None:
    body = channel_message(hoedan.connector, ANNA, "#hoedan Wie heeft een goed zorgpad?")

    statuses = [(await hoedan.send(body))[0] for _ in range(3)]
    await hoedan.settle()

    assert statuses == [202, 202, 202]
    assert len(await hoedan.questions()) == 1
    assert len(hoedan.connector.delivered) == 1


async def test_malformed_activities_are_refused_and_the_server_stays_up(hoedan: Running) -> None:
    good = personal_message(hoedan.connector, ANNA, "help")
    no_conversation = {k: v for k, v in good.items() if k != "conversation"}
    no_sender = {k: v for k, v in good.items() if k != "from"}
    no_id = {k: v for k, v in good.items() if k != "id"}

    assert await hoedan.send_raw(b"{not json") == 400
    assert await hoedan.send_raw(b"\xff\xfe") == 400
    assert await hoedan.send_raw(b"[1, 2, 3]") == 400
    assert await hoedan.send_raw(b"{}") == 400
    assert (await hoedan.send(no_conversation))[0] == 400
    assert (await hoedan.send(no_sender))[0] == 400
    assert (await hoedan.send(no_id))[0] == 400
    assert (await hoedan.send({**good, "type": 12}))[0] == 400
    assert (await hoedan.send({**good, "conversation": {"id": ["x"]}}))[0] == 400
    assert (await hoedan.send({**good, "entities": "nope"}))[0] == 400
    async with hoedan.http.get(f"{hoedan.url}/healthz") as health:
        assert health.status == 200
        assert (await health.json())["teams"] is True

    status, _ = await hoedan.send(good)
    await hoedan.settle()
    assert status == 202
    assert len(hoedan.connector.delivered) == 1


async def test_a_429_from_the_connector_is_retried_into_exactly_one_reply(
    hoedan: Running,
) -> None:
    hoedan.connector.fail_next(429, retry_after="0")

    await hoedan.send(personal_message(hoedan.connector, ANNA, "help"))
    await hoedan.settle()

    attempts = [
        p
        for p in hoedan.connector.requests
        if p.conversation_id == ANNA.personal and not p.is_typing
    ]
    assert [p.status for p in attempts] == [429, 201]
    assert len(hoedan.connector.delivered) == 1
    [sent] = await hoedan.outbox()
    assert sent.status == OutboxStatus.SENT
    assert sent.attempts == 2


async def test_a_server_error_is_retried_and_a_403_fails_for_good(hoedan: Running) -> None:
    hoedan.connector.fail_next(503)
    await hoedan.send(personal_message(hoedan.connector, ANNA, "help"))
    await hoedan.settle_retries()
    assert len(hoedan.connector.delivered) == 1

    hoedan.connector.fail_next(403)
    await hoedan.send(personal_message(hoedan.connector, BRAM, "help"))
    await hoedan.settle()

    assert hoedan.connector.to(BRAM.personal) == []
    failed = [m for m in await hoedan.outbox() if m.status == OutboxStatus.FAILED]
    assert len(failed) == 1
    assert failed[0].attempts == 1
    assert (failed[0].last_error or "").startswith("403")


async def test_installing_in_a_channel_is_remembered_without_a_reply(hoedan: Running) -> None:
    update = channel_message(hoedan.connector, ANNA, "")
    update.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    del update["text"]

    status, _ = await hoedan.send(update)
    await hoedan.settle()

    assert status == 202
    assert hoedan.connector.requests == []
    async with hoedan.store.transaction() as tx:
        stored = await tx.session.get(TeamsReference, ("conversation", CHANNEL))
    assert stored is not None
    assert stored.service_url == hoedan.connector.service_url
    assert stored.tenant_id == TENANT
    assert stored.bot_id == BOT_ID


async def test_a_zodan_in_the_questions_thread_answers_it(hoedan: Running) -> None:
    connector = hoedan.connector
    asked = channel_message(connector, ANNA, "#hoedan Hoe betrekken jullie inwoners?")
    await hoedan.send(asked)
    await hoedan.settle()

    reply = channel_message(connector, BRAM, "#zodan Met een wijkavond.", root=asked["id"])
    status, _ = await hoedan.send(reply)
    await hoedan.settle()

    assert status == 202
    [question] = await hoedan.questions()
    assert question.status == QuestionStatus.ANSWERED
    [notice] = connector.to(f"a:personal-{ANNA.id}")
    assert "Met een wijkavond." in notice.text


async def test_a_question_waits_while_other_requests_are_worked_on(hoedan: Running) -> None:
    body = channel_message(hoedan.connector, ANNA, "#hoedan Hoe vinden jullie mantelzorgers?")

    with hoedan.service.receiving.request():  # another request, being worked on
        status, _ = await hoedan.send(body)
        await asyncio.sleep(0.5)  # time enough for the work to be done, were it not held back
        assert status == 202
        assert await hoedan.questions() == []

    await hoedan.settle()
    [question] = await hoedan.questions()
    assert question.text == "Hoe vinden jullie mantelzorgers?"


async def test_teams_requests_count_towards_the_load(hoedan: Running) -> None:
    receiving = hoedan.service.receiving
    assert receiving.load() == 0.0

    await hoedan.send(personal_message(hoedan.connector, ANNA, "help"))

    assert receiving.load() > 0.0
    await hoedan.settle()
