"""Edits and deletions in Teams follow into what Hoedan keeps, end to end over HTTP.

Teams sends ``messageUpdate`` (eventType ``editMessage``) with the message's new text and
``messageDelete`` (eventType ``softDeleteMessage``), both with the message's own id as the
activity id and without the earlier text.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from storage.enums import QuestionStatus
from storage.models import Answer
from tests.teams.conftest import ANNA, BOT_ID, BRAM, Running, channel_message


def _edited(message: dict[str, Any], text: str) -> dict[str, Any]:
    """What Teams sends when the author edits ``message``."""
    return {
        **message,
        "type": "messageUpdate",
        "text": text,
        "channelData": {**message["channelData"], "eventType": "editMessage"},
    }


def _deleted(message: dict[str, Any]) -> dict[str, Any]:
    body = {
        **message,
        "type": "messageDelete",
        "channelData": {**message["channelData"], "eventType": "softDeleteMessage"},
    }
    del body["text"]
    return body


async def test_an_edited_question_is_stored_with_its_new_text_once(hoedan: Running) -> None:
    asked = channel_message(hoedan.connector, ANNA, "#hoedan Hoe betrekken jullie inwoners?")
    await hoedan.send(asked)
    await hoedan.settle()

    edit = _edited(asked, "#hoedan Hoe betrekken jullie jongeren bij de wijkaanpak?")
    for _ in range(2):  # a retried edit changes nothing more
        status, _ = await hoedan.send(edit)
        assert status == 202
    await hoedan.settle()

    [question] = await hoedan.questions()
    assert question.text == "Hoe betrekken jullie jongeren bij de wijkaanpak?"
    assert len(hoedan.connector.delivered) == 1  # only the first reply; an edit is quiet


async def test_an_edit_that_adds_hoedan_asks_the_question(hoedan: Running) -> None:
    """Teams does not send the earlier text, so an edit that adds the tag is a new question."""
    said = channel_message(hoedan.connector, ANNA, "Hoe betrekken jullie inwoners?")
    await hoedan.send(said)
    await hoedan.settle()
    assert await hoedan.questions() == []

    await hoedan.send(_edited(said, "#hoedan Hoe betrekken jullie inwoners?"))
    await hoedan.settle()

    [question] = await hoedan.questions()
    assert question.text == "Hoe betrekken jullie inwoners?"
    [reply] = hoedan.connector.delivered
    assert reply.reply_to == said["id"]


async def test_a_deleted_question_is_withdrawn_and_a_deleted_answer_removed(
    hoedan: Running,
) -> None:
    connector = hoedan.connector
    asked = channel_message(connector, ANNA, "#hoedan Hoe betrekken jullie inwoners?")
    await hoedan.send(asked)
    await hoedan.settle()
    answer = channel_message(connector, BRAM, "#zodan Met een wijkavond.", root=asked["id"])
    await hoedan.send(answer)
    await hoedan.settle()
    [question] = await hoedan.questions()
    assert question.status == QuestionStatus.ANSWERED

    status, _ = await hoedan.send(_deleted(answer))
    await hoedan.settle()
    assert status == 202
    [question] = await hoedan.questions()
    assert question.status == QuestionStatus.OPEN  # its only answer is gone
    async with hoedan.store.transaction() as tx:
        assert (await tx.session.exec(select(Answer))).all() == []

    await hoedan.send(_deleted(asked))
    await hoedan.settle()
    [question] = await hoedan.questions()
    assert question.status == QuestionStatus.WITHDRAWN


async def test_edits_by_bots_and_restored_messages_change_nothing(hoedan: Running) -> None:
    connector = hoedan.connector
    asked = channel_message(connector, ANNA, "#hoedan Hoe betrekken jullie inwoners?")
    await hoedan.send(asked)
    await hoedan.settle()

    by_bot = _edited(asked, "#hoedan Iets anders")
    by_bot["from"] = {"id": BOT_ID, "name": "Hoedan", "role": "bot"}
    restored = {
        **_edited(asked, "#hoedan Hoe nu?"),
        "channelData": {"eventType": "undeleteMessage"},
    }
    for body in (by_bot, restored):
        status, _ = await hoedan.send(body)
        assert status == 202
    await hoedan.settle()

    [question] = await hoedan.questions()
    assert question.text == "Hoe betrekken jullie inwoners?"


async def test_an_edit_without_a_sender_is_refused(hoedan: Running) -> None:
    asked = channel_message(hoedan.connector, ANNA, "#hoedan Hoe betrekken jullie inwoners?")
    body = _edited(asked, "#hoedan Iets anders")
    del body["from"]

    status, _ = await hoedan.send(body)

    assert status == 400
    assert await hoedan.questions() == []
