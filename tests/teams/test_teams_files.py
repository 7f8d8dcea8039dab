"""A digest's report file in Teams, end to end over HTTP: the consent card in the coordinator's
1:1 chat, their answer POSTed as Teams sends it, the upload to a fake OneDrive session, and the
file's card after it."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.teams.file_cards import CONSENT_CARD, INFO_CARD
from flows.digest_room import next_time
from storage.enums import DeliveryKind, OutboxStatus
from storage.types import utcnow
from tests.teams.conftest import (
    CHANNEL,
    Running,
    next_id,
    personal_message,
    running,
    teams_settings,
)
from tests.teams.fake_connector import UPLOAD_QUERY, FakeConnector, Posted
from tests.teams.test_teams_proactive import ADMIN, Clock, run_schedules, wait_for

UNIQUE_ID = "1150D938-8870-4044-9F2C-5BBDEBA70C8C"
FILENAME = re.compile(r"digest-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.html")
ONEDRIVE = "https://contoso-my.sharepoint.com/personal/beheer/Documents/"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def hoedan(sqlite_url: str, connector: FakeConnector, clock: Clock) -> AsyncIterator[Running]:
    """Hoedan with Teams, where ADMIN (an admin, so a coordinator) asked once for help."""
    settings = teams_settings(sqlite_url, admins=frozenset({ADMIN.id}))
    async with running(settings, connector, clock=clock) as started:
        await started.send(personal_message(connector, ADMIN, "help"))
        await started.settle()
        yield started


def attachments(posted: Posted, content_type: str) -> list[dict[str, Any]]:
    return [a for a in posted.body.get("attachments") or [] if a["contentType"] == content_type]


def cards(connector: FakeConnector, content_type: str) -> list[dict[str, Any]]:
    """Attachments of one kind that reached the coordinator's 1:1 chat, in order."""
    return [a for p in connector.to(ADMIN.personal) for a in attachments(p, content_type)]


async def consent_card(hoedan: Running) -> dict[str, Any]:
    """The coordinator asks for the digest in their 1:1 chat; the consent card that follows."""
    status, _ = await hoedan.send(personal_message(hoedan.connector, ADMIN, "digest"))
    assert status == 202
    await hoedan.settle_retries()
    [card] = cards(hoedan.connector, CONSENT_CARD)
    return card


def answer(
    hoedan: Running,
    card: dict[str, Any],
    action: str = "accept",
    *,
    context: object = None,
    upload_url: str | None = None,
) -> dict[str, Any]:
    """The ``fileConsent/invoke`` Teams sends when the coordinator presses a card's button."""
    content = card["content"]
    value: dict[str, Any] = {
        "type": "fileUpload",
        "action": action,
        "context": content["acceptContext" if action == "accept" else "declineContext"]
        if context is None
        else context,
    }
    if action == "accept":
        value["uploadInfo"] = {
            "contentUrl": ONEDRIVE + card["name"],
            "name": card["name"],
            "uploadUrl": upload_url or hoedan.connector.upload_url(card["name"]),
            "uniqueId": UNIQUE_ID,
            "fileType": "html",
        }
    [posted] = [p for p in hoedan.connector.delivered if card in p.body.get("attachments", [])]
    invoke = personal_message(hoedan.connector, ADMIN, "", activity_id=f"f:{next_id()}")
    del invoke["text"]
    invoke.update(
        type="invoke",
        name="fileConsent/invoke",
        replyToId=posted.id,
        value=value,
    )
    invoke["conversation"]["id"] = posted.conversation_id
    return invoke


async def send_answer(hoedan: Running, invoke: dict[str, Any]) -> None:
    status, text = await hoedan.send(invoke)
    assert status == 200  # a plain 200, as Teams expects for a file-consent answer
    assert text == ""
    await hoedan.settle()


def said(hoedan: Running) -> str:
    """Everything Hoedan wrote in the coordinator's 1:1 chat."""
    return "\n".join(p.text for p in hoedan.connector.to(ADMIN.personal))


async def test_a_coordinators_digest_says_the_report_comes_and_asks_to_upload_it(
    hoedan: Running,
) -> None:
    card = await consent_card(hoedan)

    posts = hoedan.connector.to(ADMIN.personal)
    [digest] = [p for p in posts if "Digest van" in p.text]
    assert "komt als bestand bij dit bericht" in digest.text
    assert "maakt de beheerder" not in digest.text
    [asking] = [p for p in posts if attachments(p, CONSENT_CARD)]
    assert posts.index(digest) < posts.index(asking)  # the file comes after its message
    assert FILENAME.fullmatch(card["name"])
    content = card["content"]
    assert content["description"].startswith("Digest van")
    assert content["description"].endswith("dan zet ik dit bestand in je OneDrive.")
    assert "OneDrive" in content["description"]
    assert content["sizeInBytes"] > 1000
    context = content["acceptContext"]
    assert context["filename"] == card["name"]
    assert context["network_slug"] == "landelijk"
    assert context["language"] == "nl"
    assert len(json.dumps(context)) < 400  # small: Teams carries it there and back
    assert content["declineContext"] == context
    assert [row.status for row in await hoedan.outbox() if row.kind == DeliveryKind.FILE] == [
        OutboxStatus.SENT
    ]


async def test_accepting_uploads_the_real_report_and_shows_the_file(hoedan: Running) -> None:
    card = await consent_card(hoedan)

    await send_answer(hoedan, answer(hoedan, card))

    [upload] = hoedan.connector.uploads
    size = len(upload.data)
    assert upload.status == 201
    assert upload.name == card["name"]
    assert upload.query == UPLOAD_QUERY  # the address exactly as Teams gave it
    assert upload.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    assert upload.headers["Content-Length"] == str(size)
    assert size == card["content"]["sizeInBytes"]
    assert "Authorization" not in upload.headers  # the address carries its own token
    page = upload.data.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")
    assert "<title>Digest van Lerend netwerk" in page
    assert "tot en met" in page  # the period
    [info] = cards(hoedan.connector, INFO_CARD)
    assert info == {
        "contentType": INFO_CARD,
        "contentUrl": ONEDRIVE + card["name"],
        "name": card["name"],
        "content": {"uniqueId": UNIQUE_ID, "fileType": "html"},
    }


async def test_declining_gets_a_friendly_word_and_no_upload(hoedan: Running) -> None:
    card = await consent_card(hoedan)

    await send_answer(hoedan, answer(hoedan, card, "decline"))

    assert hoedan.connector.uploads == []
    assert "Geen probleem" in said(hoedan)
    assert "Typ digest" in said(hoedan)
    assert cards(hoedan.connector, INFO_CARD) == []


async def test_the_same_answer_twice_uploads_once(hoedan: Running) -> None:
    card = await consent_card(hoedan)
    invoke = answer(hoedan, card)

    await send_answer(hoedan, invoke)
    await send_answer(hoedan, invoke)

    assert len(hoedan.connector.uploads) == 1
    assert len(cards(hoedan.connector, INFO_CARD)) == 1


async def test_an_upload_that_fails_once_is_tried_again_without_showing_the_token(
    hoedan: Running, caplog: pytest.LogCaptureFixture
) -> None:
    card = await consent_card(hoedan)
    hoedan.connector.fail_uploads(1)

    with caplog.at_level(logging.DEBUG):
        await send_answer(hoedan, answer(hoedan, card))

    assert [upload.status for upload in hoedan.connector.uploads] == [500, 201]
    [complete] = hoedan.connector.completed_uploads
    assert complete.data == hoedan.connector.uploads[0].data
    assert len(cards(hoedan.connector, INFO_CARD)) == 1
    assert "upload to 127.0.0.1 failed (status 500)" in caplog.text
    assert "tempauth" not in caplog.text
    assert "secret" not in caplog.text


async def test_an_upload_that_keeps_failing_is_told_in_dutch(hoedan: Running) -> None:
    card = await consent_card(hoedan)
    hoedan.connector.fail_uploads(10)

    status, _ = await hoedan.send(answer(hoedan, card))
    # Teams has its answer long before the last attempt (3.5 s of backoff away).
    assert status == 200
    assert len(hoedan.connector.uploads) < 4
    await hoedan.settle()

    assert [upload.status for upload in hoedan.connector.uploads] == [500] * 4
    assert "Het lukte me niet om het rapport in je OneDrive te zetten" in said(hoedan)
    assert cards(hoedan.connector, INFO_CARD) == []


@pytest.mark.parametrize("card_id", [None, "1:never-sent"])
async def test_an_answer_to_no_card_hoedan_sent_gets_a_dutch_answer_and_no_upload(
    hoedan: Running, card_id: str | None
) -> None:
    card = await consent_card(hoedan)
    invoke = answer(hoedan, card)
    if card_id is None:
        del invoke["replyToId"]
    else:
        invoke["replyToId"] = card_id

    await send_answer(hoedan, invoke)

    assert hoedan.connector.uploads == []
    assert "Dit rapport kan ik niet meer maken" in said(hoedan)
    async with hoedan.http.get(f"{hoedan.url}/healthz") as health:
        assert health.status == 200
    await hoedan.send(personal_message(hoedan.connector, ADMIN, "help"))
    await hoedan.settle()
    assert "Wat kan Hoedan voor je doen?" in said(hoedan)


@pytest.mark.parametrize(
    "upload_url",
    ["http://example.org/upload/x.html?tempauth=1", "ftp://127.0.0.1/upload/x.html", "/upload"],
)
async def test_an_upload_address_that_is_not_https_is_refused(
    hoedan: Running, upload_url: str
) -> None:
    card = await consent_card(hoedan)

    await send_answer(hoedan, answer(hoedan, card, upload_url=upload_url))

    assert hoedan.connector.uploads == []
    assert "Dit rapport kan ik niet meer maken" in said(hoedan)


@pytest.mark.parametrize("context", [{"network_slug": "elders"}, "digest", None])
async def test_the_report_is_the_cards_own_whatever_the_answer_says(
    hoedan: Running, context: object
) -> None:
    """A changed client cannot choose the report: the context it sends back is not read."""
    card = await consent_card(hoedan)
    invoke = answer(hoedan, card)
    invoke["value"]["context"] = context

    await send_answer(hoedan, invoke)

    [upload] = hoedan.connector.completed_uploads
    assert "<title>Digest van Lerend netwerk" in upload.data.decode("utf-8")
    assert len(cards(hoedan.connector, INFO_CARD)) == 1


async def test_the_weekly_digest_of_a_teams_coordinator_asks_to_upload_its_report(
    hoedan: Running, clock: Clock
) -> None:
    friday = next_time(4, "16:00", "Europe/Amsterdam", after=utcnow())
    clock.offset = friday - utcnow() + timedelta(minutes=1)

    run_schedules(hoedan)
    await wait_for(lambda: len(cards(hoedan.connector, CONSENT_CARD)) == 1)
    await hoedan.settle()
    [card] = cards(hoedan.connector, CONSENT_CARD)
    await send_answer(hoedan, answer(hoedan, card))

    assert datetime.fromisoformat(card["content"]["acceptContext"]["end"]) == friday
    [upload] = hoedan.connector.completed_uploads
    assert "<title>Digest van Lerend netwerk" in upload.data.decode("utf-8")
    assert len(cards(hoedan.connector, INFO_CARD)) == 1
    assert hoedan.connector.to(CHANNEL) == []


async def test_mijngegevens_in_teams_brings_the_json_file_after_consent(hoedan: Running) -> None:
    """The privacy export travels like the digest's report: asked first, made on acceptance."""
    await hoedan.send(personal_message(hoedan.connector, ADMIN, "#hoedan Hoe delen we data?"))
    await hoedan.send(personal_message(hoedan.connector, ADMIN, "mijngegevens"))
    await hoedan.settle_retries()
    [card] = cards(hoedan.connector, CONSENT_CARD)
    assert card["name"].startswith("mijngegevens-")
    assert card["name"].endswith(".json")
    assert card["content"]["description"].startswith("Mijn gegevens bij Hoedan")

    await send_answer(hoedan, answer(hoedan, card))

    [upload] = hoedan.connector.completed_uploads
    exported = json.loads(upload.data)
    assert exported["schema_version"] == 1
    assert "Hoe delen we data?" in json.dumps(exported, ensure_ascii=False)
    assert len(cards(hoedan.connector, INFO_CARD)) == 1
