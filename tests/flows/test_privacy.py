"""Privacy through the runtime: ``mijngegevens`` shows a member what is held about them, and
``vergeet-mij`` (after the member's own confirmation) erases or unlinks it.

Anna asks, answers, reflects (named and anonymously), takes part in an intervision and sets a
digest moment; Bram and others do the same around her. What Anna sees must be hers (and the
public #zodan on her question), never Bram's intervision words or who answered anonymously.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from flows import privacy, privacy_export
from flows.config import FlowConfig
from flows.messages import Button, Message
from flows.reports import ReportRequest
from flows.retention import apply_retention
from flows.texts import texts_for
from storage.enums import DeliveryKind, Platform
from storage.models import (
    Answer,
    DigestPreference,
    FlowInstance,
    HouseRuleAcknowledgement,
    InboundDelivery,
    IntervisionContribution,
    IntervisionSession,
    Invitation,
    Lesson,
    Member,
    OutboxMessage,
    Question,
    ReflectionAnswer,
    ReflectionParticipation,
    SpaceMember,
    TeamsReference,
)
from storage.repositories.erasure import FAREWELL_KEY
from storage.store import Store
from tests.flows.helpers import Chat, Reply, Said, member_named, message_text
from tests.flows.test_reflection import answer, conditions, open_round

COACH = "Carla"
ANNA_SAYS = "Ik merk dat ik zelf te snel oplossingen aandraag."
BRAM_SAYS = "Vertrouwelijk: onze wethouder stopt misschien."
ANNA_LESSON = "Eerst vragen, dan pas adviseren."
ANNA_SHARED = "Een casus wint aan helderheid als je hem hardop vertelt."
ANONYMOUS = "Moe na de fusie, eerlijk gezegd."
NAMED = "Helder doel, weinig mandaat."
QUESTION = "Hoe betrekken jullie huisartsen bij de wijkaanpak?"
ZODAN = "Wij nodigen ze uit in het HAGRO-overleg, niet apart."
ANNA_ZODAN = "Met een vaste contactpersoon per gemeente."


@pytest.fixture
async def chat(store: Store) -> Chat:
    chat = Chat(store, FlowConfig(admins=frozenset({"beheer"})))
    for name in (COACH, "Anna", "Bram", "Dirk"):
        await chat.command(name, "help")
    await chat.command("Beheer", f"rol {COACH} coach")
    return chat


def button(reply: Reply, action: str) -> Button:
    [found] = [b for b in reply.buttons if b.action == action]
    return found


def dms(said: Said, name: str) -> list[Reply]:
    return [r for r in said.replies if r.kind is DeliveryKind.DIRECT and r.member_ref == name]


async def session_with(
    store: Store, *, owner: str, peers: tuple[str, ...], ended: datetime | None
) -> int:
    """An intervision (as the intervision flow leaves it): a flow naming everyone, a
    contribution and a lesson by each person; only Anna's as case owner may be shared."""
    async with store.transaction() as tx:
        people = {
            name: await tx.members.by_external_id(platform=Platform.CONSOLE, external_id=name)
            for name in (owner, *peers, COACH.lower())
        }
        ids = {name: member.id for name, member in people.items() if member and member.id}
        row = await tx.intervision.create(
            space_id=1,
            method="incident",
            facilitator_id=ids[COACH.lower()],
            case_owner_id=ids[owner],
            venue="group",
            participant_ids=[ids[name] for name in peers],
        )
        assert row.id is not None
        person = {
            name: {"id": ids[name], "ref": name, "name": people[name].display_name}  # type: ignore[union-attr]
            for name in ids
        }
        flow = await tx.flows.create(
            kind="intervision",
            flow_version=1,
            state="finished" if ended else "running",
            data={
                "session_id": row.id,
                "owner": person[owner],
                "facilitator": person[COACH.lower()],
                "participants": [person[name] for name in peers],
            },
            deadline=None,
            space_id=1,
            finished=ended is not None,
        )
        assert flow.id is not None
        await tx.intervision.attach_flow(row, flow.id)
        await tx.outbox.enqueue(
            idempotency_key=f"flow:{flow.id}:2:0",
            platform=Platform.CONSOLE,
            kind=DeliveryKind.GROUP,
            payload={"parts": []},
            channel_ref=f"intervisie-{row.id}",
            member_ref=",".join(ids),
            subject=f"intervision:{row.id}",
        )
        said = {"anna": ANNA_SAYS, "bram": BRAM_SAYS}
        for name in ids:
            await tx.intervision.contribute(
                session_id=row.id,
                phase="vragen",
                author_id=ids[name],
                kind="message",
                text=said.get(name, f"Iets van {name}."),
            )
        for name in ids:
            shared = name == owner == "anna"
            await tx.intervision.add_lesson(
                session_id=row.id,
                author_id=ids[name],
                text={"anna": ANNA_SHARED if shared else ANNA_LESSON}.get(name, f"Les van {name}."),
                shareable=shared,
            )
        row.ended_at = ended
        tx.session.add(row)
        return row.id


async def annas_network(chat: Chat) -> int:
    """Anna and the people around her leave traces everywhere; returns her question's number."""
    await chat.command("Anna", "regio Twente")
    await chat.command("Bram", "regio Salland")
    asked = await chat.command("Anna", f"vraag {QUESTION}")
    [number] = [q.number for q in await questions(chat.store) if q.text == QUESTION]
    assert "bewaard" in asked.text
    await chat.command("Bram", f"zodan {number} {ZODAN}")
    await chat.command("Bram", "vraag Hoe houden jullie de wijkteams bij elkaar na een fusie?")
    await chat.command("Anna", f"zodan {number + 1} {ANNA_ZODAN}")
    named = await open_round(chat, privacy="named")
    await answer(chat, named, "Anna", conditions(4, 3, 3, 2, 5, comment=NAMED))
    anonymous = await open_round(chat, "check-in")
    await answer(chat, anonymous, "Anna", {"q0": "2", "q0_comment": ANONYMOUS, "q1": "Rust."})
    await answer(chat, anonymous, "Bram", {"q0": "4", "q1": "Zin in vandaag."})
    await session_with(chat.store, owner="anna", peers=("bram", "dirk"), ended=chat.now)
    await session_with(chat.store, owner="bram", peers=("anna",), ended=chat.now)
    async with chat.store.transaction() as tx:
        anna = await tx.members.by_external_id(platform=Platform.CONSOLE, external_id="anna")
        assert anna is not None
        assert anna.id is not None
        await tx.digest.set_preference(
            member_id=anna.id, weekday=0, time_of_day="08:30", active=True
        )
        tx.session.add(Invitation(question_id=number + 1, member_id=anna.id))
        rules = await tx.house_rules.ensure_rule_set(
            space_id=1, title="Spelregels", created_by_id=None
        )
        version = await tx.house_rules.propose(
            rule_set=rules, text="We luisteren.", proposed_by_id=anna.id, deadline=chat.now
        )
        assert version.id is not None
        await tx.house_rules.adopt(version, now=chat.now)
        await tx.house_rules.acknowledge(version_id=version.id, member_id=anna.id)
        await tx.flows.create(
            kind="house_rules",
            flow_version=1,
            state="adopted",
            data={"proposer": {"id": anna.id, "name": "Anna"}, "agreed": ["bram", "anna"]},
            deadline=None,
            space_id=1,
            finished=True,
        )
    return number


async def questions(store: Store) -> list[Question]:
    async with store.transaction() as tx:
        return list((await tx.session.exec(select(Question).order_by(col(Question.id)))).all())


async def exported(store: Store, request: ReportRequest) -> dict[str, Any]:
    """The JSON file as the report maker makes it at delivery (see ``bot.reports``)."""
    async with store.transaction() as tx:
        member = await tx.members.get(request.member_id or 0)
        assert member is not None
        record = await tx.privacy.record(member, consent_flow_kind="house_rules")
    document = privacy_export.document(
        texts_for(request.language), record, network="Lerend netwerk", generated_at=datetime.now()
    )
    decoded: dict[str, Any] = json.loads(privacy_export.as_json(document))
    return decoded


async def file_request(store: Store) -> ReportRequest:
    async with store.transaction() as tx:
        [row] = (
            await tx.session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == DeliveryKind.FILE)
            )
        ).all()
    assert row.member_ref == "anna"
    return ReportRequest.model_validate(row.payload)


async def farewell_to(store: Store, ref: str) -> str:
    """The last message to an erased member (queued to their old platform id)."""
    async with store.transaction() as tx:
        [row] = (
            await tx.session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.idempotency_key).startswith(FAREWELL_KEY)
                )
            )
        ).all()
    assert (row.kind, row.member_ref) == (DeliveryKind.DIRECT, ref)
    return message_text(Message.model_validate(row.payload))


async def count(store: Store, model: type[Any], *conditions: Any) -> int:
    async with store.transaction() as tx:
        statement = select(func.count()).select_from(model).where(*conditions)
        return int((await tx.session.exec(statement)).one())


# mijngegevens ---------------------------------------------------------------------------------


async def test_mijngegevens_sends_a_summary_and_the_file_by_direct_message(chat: Chat) -> None:
    number = await annas_network(chat)

    said = await chat.command("Anna", "mijngegevens")

    [private] = [r for r in said.replies if r.kind is DeliveryKind.EPHEMERAL]
    assert "privébericht" in private.text
    [summary] = dms(said, "anna")
    text = summary.text
    assert text.startswith("Wat Hoedan over je bewaart")
    assert "Je staat bij Hoedan als Anna (Twente), rol deelnemer" in text
    assert "Vragen: 1" in text
    assert "#zodan: 1" in text
    assert "Reflectieantwoorden met naam: 5" in text  # five scores, the comment with the first
    assert "Reflectierondes beantwoord: 2" in text
    assert "Je bijdragen in intervisies: 2" in text
    assert f"#{number}* {QUESTION}" in text
    assert f"bij *#{number + 1}*: {ANNA_ZODAN}" in text
    assert "mijngegevens-2025-03-03.json" in text
    assert ANONYMOUS not in text
    assert BRAM_SAYS not in text
    request = await file_request(chat.store)
    assert request.report == "privacy"
    assert request.filename == "mijngegevens-2025-03-03.json"
    assert request.member_id == (await member_named(chat.store, "Anna")).id
    assert "Anna" not in json.dumps(request.model_dump(mode="json"))  # a request, not a copy


async def test_the_file_holds_everything_of_anna_and_nothing_of_others(chat: Chat) -> None:
    number = await annas_network(chat)
    await chat.command("Anna", "mijngegevens")

    data = await exported(chat.store, await file_request(chat.store))
    everything = json.dumps(data, ensure_ascii=False)

    assert data["schema"] == "hoedan/mijngegevens"
    assert data["schema_version"] == 1
    assert data["profile"]["display_name"] == "Anna"
    assert data["profile"]["external_id"] == "anna"
    assert data["profile"]["region"] == "Twente"
    datetime.fromisoformat(data["profile"]["created_at"])
    [question] = data["questions"]
    assert (question["number"], question["text"]) == (number, QUESTION)
    [received] = question["answers"]
    assert (received["by"], received["region"], received["text"]) == ("Bram", "Salland", ZODAN)
    assert [a["text"] for a in data["answers"]] == [ANNA_ZODAN]
    assert [i["question_number"] for i in data["invitations"]] == [number + 1]
    assert NAMED in [r["text"] for r in data["reflections"]]
    assert [(r["anonymous"]) for r in data["rounds_answered"]] == [False, True]
    assert [s["roles"] for s in data["sessions"]] == [["case_owner"], ["participant"]]
    assert [c["text"] for c in data["contributions"]] == [ANNA_SAYS, ANNA_SAYS]
    assert {lesson["text"] for lesson in data["lessons"]} == {ANNA_LESSON, ANNA_SHARED}
    assert data["digest_choice"]["time_of_day"] == "08:30"
    assert [(r["space"], r["version"]) for r in data["rules_acknowledged"]] == [("#algemeen", 1)]
    assert [r["status"] for r in data["rules_proposed"]] == ["adopted"]
    assert [c["space"] for c in data["consents"]] == ["#algemeen"]
    assert any(d["first_line"].startswith("Wat Hoedan") for d in data["deliveries"])
    assert len(data["notes"]) == 4
    # Never: what others said in the intervision, who they are there, anonymous answers.
    assert BRAM_SAYS not in everything
    assert "Iets van dirk." not in everything
    assert "Les van bram." not in everything
    assert "Dirk" not in everything
    assert ANONYMOUS not in everything
    assert "Zin in vandaag." not in everything


async def test_mydata_is_the_english_alias(chat: Chat) -> None:
    said = await chat.command("Dirk", "mydata")

    [summary] = dms(said, "dirk")
    assert "Vragen: 0" in summary.text


# vergeet-mij ----------------------------------------------------------------------------------


async def ask_to_forget(chat: Chat, who: str = "Anna") -> Reply:
    said = await chat.command(who, "vergeet-mij")
    [question] = dms(said, who.lower())
    assert question.text.startswith("Wil je dat Hoedan je vergeet?")
    assert [b.label.plain for b in question.buttons] == ["Bevestig", "Annuleer"]
    return question


async def test_only_the_member_who_asked_can_confirm_or_cancel(chat: Chat) -> None:
    await annas_network(chat)
    question = await ask_to_forget(chat)

    for action in (privacy.FORGET, privacy.KEEP):
        refused = await chat.press("Bram", button(question, action))
        assert "Alleen wie dit vroeg" in refused.only.text

    anna = await member_named(chat.store, "Anna")
    assert anna.erased_at is None
    assert await count(chat.store, IntervisionContribution) == 7


async def test_cancel_keeps_everything(chat: Chat) -> None:
    await annas_network(chat)
    question = await ask_to_forget(chat)

    kept = await chat.press("Anna", button(question, privacy.KEEP))

    assert "Niets gewist" in kept.only.text
    assert (await member_named(chat.store, "Anna")).erased_at is None


async def test_confirming_erases_or_unlinks_every_trace(chat: Chat) -> None:
    number = await annas_network(chat)
    anna = await member_named(chat.store, "Anna")
    anonymous_before = await count(
        chat.store, ReflectionAnswer, col(ReflectionAnswer.member_id).is_(None)
    )
    question = await ask_to_forget(chat)

    await chat.press("Anna", button(question, privacy.FORGET))

    farewell = await farewell_to(chat.store, "anna")
    assert farewell.startswith("Hoedan heeft je vergeten")
    assert "2 bijdragen in intervisies" in farewell
    assert "1 vragen" in farewell
    assert "1 gedeelde leeropbrengsten, zonder naam" in farewell
    async with chat.store.transaction() as tx:
        tombstone = await tx.members.get(anna.id or 0)
        assert tombstone is not None
        flows = list((await tx.session.exec(select(FlowInstance))).all())
        outbox = list((await tx.session.exec(select(OutboxMessage))).all())
        lessons = list((await tx.session.exec(select(Lesson))).all())
    assert tombstone.display_name == "oud-lid"
    assert tombstone.external_id.startswith("erased:")
    assert len(tombstone.external_id) > 30
    assert (tombstone.region_id, tombstone.locale, tombstone.timezone) == (None, None, None)
    assert tombstone.erased_at is not None
    # Public contributions stay, under the tombstone.
    assert await count(chat.store, Question, Question.asker_id == anna.id) == 1
    assert await count(chat.store, Answer, Answer.answerer_id == anna.id) == 1
    assert await count(chat.store, ReflectionAnswer, ReflectionAnswer.member_id == anna.id) == 5
    assert await count(chat.store, ReflectionParticipation) == 3
    acknowledged = HouseRuleAcknowledgement.member_id == anna.id
    assert await count(chat.store, HouseRuleAcknowledgement, acknowledged) == 1
    anonymous_after = await count(
        chat.store, ReflectionAnswer, col(ReflectionAnswer.member_id).is_(None)
    )
    assert anonymous_after == anonymous_before
    shown = await chat.command("Bram", f"bekijk {number + 1}")  # Anna answered it
    assert "oud-lid" in shown.text
    assert "Anna" not in shown.text
    # Private things are gone.
    assert await count(chat.store, IntervisionContribution) == 5
    assert (
        await count(
            chat.store, IntervisionContribution, col(IntervisionContribution.author_id) == anna.id
        )
        == 0
    )
    annas = [(lesson.text, lesson.author_id) for lesson in lessons if "Les van" not in lesson.text]
    assert annas == [(ANNA_SHARED, None)]
    assert await count(chat.store, SpaceMember, SpaceMember.member_id == anna.id) == 0
    assert await count(chat.store, DigestPreference) == 0
    assert await count(chat.store, Invitation) == 0
    # Nothing copied elsewhere still names her: flow states, messages to others, group lists.
    for flow in flows:
        assert "Anna" not in json.dumps(flow.data)
        assert '"anna"' not in json.dumps(flow.data)
    [consent] = [flow.data for flow in flows if flow.kind == "house_rules"]
    assert consent["agreed"] == ["bram", tombstone.external_id]  # still counts, as oud-lid
    assert consent["proposer"] == {"id": anna.id, "name": "oud-lid"}
    to_anna = [row for row in outbox if row.member_ref == "anna"]
    assert [row.idempotency_key.startswith(FAREWELL_KEY) for row in to_anna] == [True]
    for row in outbox:
        assert '"Anna"' not in json.dumps(row.payload), row.idempotency_key
        if row not in to_anna:
            assert "anna" not in (row.member_ref or "").split(",")


async def test_a_second_press_changes_nothing_and_anna_can_start_again(chat: Chat) -> None:
    await annas_network(chat)
    question = await ask_to_forget(chat)
    await chat.press("Anna", button(question, privacy.FORGET))

    again = await chat.press("Anna", button(question, privacy.FORGET))

    assert "al gewist" in again.only.text
    assert await count(chat.store, Member, col(Member.erased_at).is_not(None)) == 1
    assert (
        await count(
            chat.store, OutboxMessage, col(OutboxMessage.idempotency_key).startswith(FAREWELL_KEY)
        )
        == 1
    )
    fresh = await member_named(chat.store, "Anna")
    assert fresh.erased_at is None
    mine = await chat.command("Anna", "mijngegevens")
    assert "Vragen: 0" in dms(mine, "anna")[0].text


async def test_erasure_waits_for_a_running_intervision(chat: Chat) -> None:
    await session_with(chat.store, owner="anna", peers=("bram",), ended=None)

    refused = await chat.command("Anna", "vergeet-mij")

    [reply] = [r for r in refused.replies if r.kind is DeliveryKind.EPHEMERAL]
    assert "intervisie die nog loopt" in reply.text
    assert (await member_named(chat.store, "Anna")).erased_at is None


async def test_the_farewell_and_its_teams_address_go_once_delivered(chat: Chat) -> None:
    await annas_network(chat)
    async with chat.store.transaction() as tx:
        tx.session.add(TeamsReference(kind="user", ref="anna", service_url="https://t", bot_id="b"))
    question = await ask_to_forget(chat)
    await chat.press("Anna", button(question, privacy.FORGET))
    farewell = col(OutboxMessage.idempotency_key).startswith(FAREWELL_KEY)

    assert (
        await apply_retention(chat.store, FlowConfig(intervision_retention_days=0), now=chat.now)
        == 0
    )
    assert await count(chat.store, TeamsReference) == 1  # still needed to deliver it

    async with chat.store.transaction() as tx:
        [row] = (await tx.session.exec(select(OutboxMessage).where(farewell))).all()
        await tx.outbox.mark_sent(row, external_ref="d:1")
    assert (
        await apply_retention(chat.store, FlowConfig(intervision_retention_days=0), now=chat.now)
        == 1
    )
    assert await count(chat.store, OutboxMessage, farewell) == 0
    assert await count(chat.store, TeamsReference) == 0
    assert await count(chat.store, OutboxMessage, OutboxMessage.member_ref == "anna") == 0


# Retention ------------------------------------------------------------------------------------


async def test_retention_forgets_what_was_said_and_keeps_shared_lessons(chat: Chat) -> None:
    old = await session_with(
        chat.store, owner="anna", peers=("bram",), ended=chat.now - timedelta(days=91)
    )
    recent = await session_with(
        chat.store, owner="bram", peers=("anna",), ended=chat.now - timedelta(days=89)
    )
    config = FlowConfig(intervision_retention_days=90)

    assert await apply_retention(chat.store, config, now=chat.now) == 1

    async with chat.store.transaction() as tx:
        sessions = {
            row.id: row for row in (await tx.session.exec(select(IntervisionSession))).all()
        }
        lessons = list((await tx.session.exec(select(Lesson))).all())
    said = IntervisionContribution.session_id
    assert await count(chat.store, IntervisionContribution, said == old) == 0
    assert await count(chat.store, IntervisionContribution, said == recent) == 3
    assert [(x.text, x.author_id) for x in lessons if x.session_id == old] == [(ANNA_SHARED, None)]
    assert len([x for x in lessons if x.session_id == recent]) == 3
    assert sessions[old].flow_id is None
    assert sessions[old].method == "incident"  # that it took place is kept
    assert sessions[recent].flow_id is not None
    assert await count(chat.store, FlowInstance) == 1
    assert (
        await count(chat.store, OutboxMessage, OutboxMessage.subject == f"intervision:{old}") == 0
    )
    assert (
        await count(chat.store, OutboxMessage, OutboxMessage.subject == f"intervision:{recent}")
        == 1
    )
    assert await apply_retention(chat.store, config, now=chat.now) == 0


async def test_retention_zero_keeps_everything(chat: Chat) -> None:
    await session_with(
        chat.store, owner="anna", peers=("bram",), ended=chat.now - timedelta(days=900)
    )

    config = FlowConfig(intervision_retention_days=0)

    assert await apply_retention(chat.store, config, now=chat.now) == 0
    assert await count(chat.store, IntervisionContribution) == 3


async def test_retention_forgets_delivery_ids_older_than_a_week(chat: Chat) -> None:
    """A delivery's id is kept to recognise a retry; after a week it only takes room, also
    when intervisions are kept for ever."""
    async with chat.store.transaction() as tx:
        for delivery_id, age in (("Ev-old", timedelta(days=8)), ("Ev-new", timedelta(days=6))):
            tx.session.add(
                InboundDelivery(
                    platform=Platform.SLACK, delivery_id=delivery_id, received_at=chat.now - age
                )
            )

    await apply_retention(chat.store, FlowConfig(intervision_retention_days=0), now=chat.now)

    ours = col(InboundDelivery.delivery_id).in_(["Ev-old", "Ev-new"])
    assert await count(chat.store, InboundDelivery, ours) == 1
    async with chat.store.transaction() as tx:
        assert not await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="Ev-new")
        assert await tx.inbound.first_time(platform=Platform.SLACK, delivery_id="Ev-old")
