"""Privacy over Slack HTTP: ``/hoedan mijngegevens`` brings a DM and a JSON file in it,
``/hoedan vergeet-mij`` asks first and erases after the member's own "Bevestig", and the
scheduler's retention job forgets what was said in an intervision.

Anna (Twente) asked a question that Bram answered; she also took part in an intervision and an
anonymous reflection round, which are seeded in the database as those flows leave them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from storage.models import (
    Answer,
    IntervisionContribution,
    Member,
    OutboxMessage,
    Question,
    Space,
)
from storage.repositories.erasure import FAREWELL_KEY
from storage.types import utcnow
from tests.slack.conftest import Clock, Running, running, slack_settings
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.signing import block_actions_payload
from tests.slack.test_digest_http import assert_within_block_kit
from tests.slack.test_exchange_http import (
    ANNA,
    BRAM,
    CHANNEL,
    IZA_QUESTION,
    MEMBERS,
    PANEL,
    ask_in_channel,
    button,
    command,
    dm_channel,
    dms_to,
    ephemerals_to,
    hoedan,
    member_id,
    posted_ts,
    press,
    texts_of,
)

__all__ = ["hoedan"]  # the fixture: Hoedan with three regions' members, SQLite and PostgreSQL

ANNA_SAYS = "Ik durf in het overleg niet te zeggen dat het budget op is."
BRAM_SAYS = "Vertrouwelijk: de GGD-directeur overweegt te stoppen."
ANONYMOUS = "Eerlijk gezegd: ik ben moe na de fusie."


async def seed_confidential(hoedan: Running, *, ended_ago: timedelta = timedelta()) -> int:
    """An intervision Anna brought a case to, with Bram's words in it, that ended
    ``ended_ago``; and Anna's answer in an anonymous reflection round. Returns the session."""
    anna, bram = await member_id(hoedan, ANNA), await member_id(hoedan, BRAM)
    assert anna is not None
    assert bram is not None
    async with hoedan.store.transaction() as tx:
        space = (await tx.session.exec(select(Space).where(Space.external_id == CHANNEL))).one()
        assert space.id is not None
        row = await tx.intervision.create(
            space_id=space.id,
            method="balint",
            facilitator_id=bram,
            case_owner_id=anna,
            venue="thread",
            participant_ids=[bram],
        )
        assert row.id is not None
        for author, text in ((anna, ANNA_SAYS), (bram, BRAM_SAYS)):
            await tx.intervision.contribute(
                session_id=row.id, phase="casus", author_id=author, kind="message", text=text
            )
        row.ended_at = utcnow() - ended_ago
        tx.session.add(row)
        reflection = await tx.reflection.create(
            space_id=space.id,
            coach_id=bram,
            template="check-in",
            questions=[{"label": "Hoe kom je binnen?", "kind": "text"}],
            anonymous=True,
            closes_at=utcnow(),
        )
        assert reflection.id is not None
        await tx.reflection.participate(round_id=reflection.id, member_id=anna)
        await tx.reflection.add_anonymous(
            round_id=reflection.id,
            answers=[(0, ANONYMOUS, None)],
            replacing=[],
            stamped=reflection.created_at,
        )
        return row.id


async def annas_question(hoedan: Running) -> int:
    question, _ts, _confirmation = await ask_in_channel(hoedan, ANNA, IZA_QUESTION)
    await command(hoedan, BRAM, f"zodan {question.number} {PANEL}")
    return question.number


def pressed_by_someone_else(on: Call, action: str, ts: str) -> dict[str, Any]:
    """Bram's click on Anna's button, as if the message had reached him (a forged payload:
    Slack shows a DM's buttons to its member only)."""
    pressed = button(on, action)
    return block_actions_payload(
        pressed["action_id"],
        value=pressed.get("value", ""),
        button_text=pressed["text"]["text"],
        user_id=BRAM,
        user_name="bram",
        channel_id=CHANNEL,
        channel_name="algemeen",
        message_ts=ts,
        message_text=str(on.args.get("text", "")),
        message_blocks=on.json("blocks"),
    )


async def test_mijngegevens_sends_a_summary_and_the_json_file_into_the_dm(
    hoedan: Running,
) -> None:
    number = await annas_question(hoedan)
    await seed_confidential(hoedan)

    reply = await command(hoedan, ANNA, "mijngegevens")

    assert "privébericht" in texts_of(reply)
    await hoedan.slack.wait_for(lambda: len(hoedan.slack.files(dm_channel(ANNA))) == 1)
    [_zodan, summary] = dms_to(hoedan.slack, ANNA)
    assert_within_block_kit(summary)
    text = texts_of(summary)
    assert "Wat Hoedan over je bewaart" in text
    assert "Je staat bij Hoedan als Anna (Twente)" in text
    assert IZA_QUESTION in text
    assert ANONYMOUS not in text
    assert BRAM_SAYS not in text
    [upload] = hoedan.slack.files(dm_channel(ANNA))
    assert upload["filename"].startswith("mijngegevens-")
    assert upload["title"] == "Mijn gegevens bij Hoedan"
    data = json.loads(upload["content"].decode("utf-8"))
    assert data["schema_version"] == 1
    assert data["profile"]["external_id"] == ANNA
    assert data["profile"]["display_name"] == "Anna"
    [question] = data["questions"]
    assert (question["number"], question["text"]) == (number, IZA_QUESTION)
    assert [(a["by"], a["text"]) for a in question["answers"]] == [("Bram", PANEL)]
    assert [c["text"] for c in data["contributions"]] == [ANNA_SAYS]
    assert [s["roles"] for s in data["sessions"]] == [["case_owner"]]
    assert [r["anonymous"] for r in data["rounds_answered"]] == [True]
    everything = json.dumps(data, ensure_ascii=False)
    assert BRAM_SAYS not in everything
    assert ANONYMOUS not in everything
    assert dms_to(hoedan.slack, BRAM) == []  # nothing reached anyone else


async def test_vergeet_mij_erases_after_annas_own_confirmation(hoedan: Running) -> None:
    number = await annas_question(hoedan)
    await seed_confidential(hoedan)
    anna = await member_id(hoedan, ANNA)

    reply = await command(hoedan, ANNA, "vergeet-mij")

    assert "privébericht" in texts_of(reply)
    [_zodan, confirm] = dms_to(hoedan.slack, ANNA)
    assert "Wil je dat Hoedan je vergeet?" in texts_of(confirm)
    ts = posted_ts(hoedan.slack, dm_channel(ANNA), confirm)

    before = len(ephemerals_to(hoedan.slack, BRAM))
    status, _ = await hoedan.interaction(pressed_by_someone_else(confirm, "privacy.forget", ts))
    assert status == 200
    await hoedan.slack.wait_for(lambda: len(ephemerals_to(hoedan.slack, BRAM)) > before)
    assert "Alleen wie dit vroeg" in texts_of(ephemerals_to(hoedan.slack, BRAM)[-1])
    assert await member_id(hoedan, ANNA) == anna  # nothing happened

    await press(
        hoedan, ANNA, confirm, "privacy.forget", channel=dm_channel(ANNA), channel_name="dm"
    )

    [_zodan, _confirm, farewell] = dms_to(hoedan.slack, ANNA)
    assert "Hoedan heeft je vergeten" in texts_of(farewell)
    assert "1 bijdragen in intervisies" in texts_of(farewell)
    async with hoedan.store.transaction() as tx:
        tombstone = await tx.members.get(anna or 0)
        by_slack_id = await tx.session.exec(select(Member).where(Member.external_id == ANNA))
        question = (await tx.session.exec(select(Question).where(Question.number == number))).one()
        answers = list((await tx.session.exec(select(Answer))).all())
        said = list((await tx.session.exec(select(IntervisionContribution))).all())
    assert tombstone is not None
    assert (tombstone.display_name, tombstone.erased_at is not None) == ("oud-lid", True)
    assert tombstone.external_id.startswith("erased:")
    assert by_slack_id.first() is None
    assert question.asker_id == anna  # her question stays, as oud-lid's
    assert [a.text for a in answers] == [PANEL]
    assert [c.text for c in said] == [BRAM_SAYS]

    await hoedan.run_job("retention")  # the farewell is delivered, so it goes too
    async with hoedan.store.transaction() as tx:
        rows = list((await tx.session.exec(select(OutboxMessage))).all())
    assert [r for r in rows if r.idempotency_key.startswith(FAREWELL_KEY)] == []
    assert [r for r in rows if r.member_ref == ANNA] == []

    await press(
        hoedan, ANNA, confirm, "privacy.forget", channel=dm_channel(ANNA), channel_name="dm"
    )
    assert "al gewist" in texts_of(dms_to(hoedan.slack, ANNA)[-1])
    async with hoedan.store.transaction() as tx:
        erased = select(Member).where(col(Member.erased_at).is_not(None))
        assert len((await tx.session.exec(erased)).all()) == 1


@pytest.fixture
async def clocked(sqlite_url: str, slack: FakeSlack) -> AsyncIterator[tuple[Running, Clock]]:
    clock = Clock()
    for user_id, (name, _region) in MEMBERS.items():
        slack.add_user(user_id, name.lower(), real_name=f"{name} Jansen", display_name=name)
    settings = slack_settings(sqlite_url, slack, retention_intervision_days=30)
    async with running(settings, slack, clock=clock) as started:
        for user_id in (ANNA, BRAM):
            await command(started, user_id, "help")
        yield started, clock


async def test_the_retention_job_forgets_an_intervision_a_month_after_it_ended(
    clocked: tuple[Running, Clock],
) -> None:
    hoedan, clock = clocked
    session = await seed_confidential(hoedan)

    await hoedan.run_job("retention")
    async with hoedan.store.transaction() as tx:
        assert len((await tx.session.exec(select(IntervisionContribution))).all()) == 2

    clock.advance(timedelta(days=30, minutes=1))
    await hoedan.run_job("retention")

    async with hoedan.store.transaction() as tx:
        assert (await tx.session.exec(select(IntervisionContribution))).all() == []
        row = await tx.intervision.get(session)
    assert row is not None  # that it took place is kept
    assert row.method == "balint"
