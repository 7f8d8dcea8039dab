"""House rules through the runtime: shown, proposed by a coach, adopted by consent or sent back
after an objection, acknowledged, and sent to whoever joins.

Time is the test's: ``chat.now`` moves, and deadlines fire through the engine's ``fire_due``
exactly as the scheduler calls it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from flows import house_rules
from flows.config import FlowConfig
from flows.events import MemberJoined
from flows.messages import Button, LongText
from flows.rhythm import fire_due_schedules
from storage.enums import DeliveryKind, HouseRuleStatus
from storage.models import HouseRuleAcknowledgement, HouseRuleObjection, HouseRuleVersion
from storage.store import Store
from tests.flows.helpers import Chat, Reply, Said, member_named

COACH = "Carla"
CONFIG = FlowConfig(admins=frozenset({"beheer"}))
RULES = (
    "1. We beginnen op tijd.\n2. We zeggen het als we iets niet snappen.\n3. Besluiten met consent."
)


@pytest.fixture
async def chat(store: Store) -> Chat:
    chat = Chat(store, CONFIG)
    for name in (COACH, "Anna", "Bram"):
        await chat.command(name, "help")
    granted = await chat.command("Beheer", f"rol {COACH} coach")
    assert "coach" in granted.text
    return chat


def button(reply: Reply, action: str) -> Button:
    [found] = [b for b in reply.buttons if b.action == action]
    return found


def posted(said: Said) -> Reply:
    [post] = [r for r in said.replies if r.kind is DeliveryKind.POST]
    return post


async def propose(chat: Chat, rules: str = RULES, days: str = "") -> Said:
    opened = await chat.command(COACH, "spelregels instellen")
    assert opened.outcome.form is not None
    assert opened.outcome.form.form_id == house_rules.EDITOR_FORM
    return await chat.submit(
        COACH,
        house_rules.EDITOR_FORM,
        {"rules": rules, "days": days},
        context=opened.outcome.form.context,
    )


async def fire(chat: Chat, after: timedelta) -> Said:
    chat.now += after
    await chat.runtime.engine.fire_due(chat.store, now=chat.now)
    return Said(outcome=None, replies=await chat._new_replies())  # type: ignore[arg-type]


async def versions(store: Store) -> list[HouseRuleVersion]:
    async with store.transaction() as tx:
        statement = select(HouseRuleVersion).order_by(col(HouseRuleVersion.version))
        return list((await tx.session.exec(statement)).all())


async def adopt(chat: Chat, rules: str = RULES) -> Reply:
    await propose(chat, rules)
    return posted(await fire(chat, timedelta(days=3, minutes=1)))


async def test_without_rules_a_member_hears_what_they_are_and_a_coach_how_to_start(
    chat: Chat,
) -> None:
    member = await chat.command("Anna", "spelregels")
    assert member.only.text.startswith("Dit kanaal heeft nog geen spelregels.")
    coach = await chat.command(COACH, "spelregels")
    assert "`spelregels instellen basis`" in coach.text
    assert "bestuurlijk_overleg" in coach.text


async def test_a_proposal_without_objection_is_adopted_at_the_deadline(chat: Chat) -> None:
    said = await propose(chat)
    assert "Zonder onderbouwd bezwaar gaat het door op 06-03-2025 10:00" in said.text
    proposal = posted(said)
    assert proposal.text.startswith("Voorstel: nieuwe spelregels")
    assert "We beginnen op tijd." in proposal.text
    assert "1. We beginnen op tijd." not in proposal.text  # the list numbers, not the text

    agreed = await chat.press("Anna", button(proposal, house_rules.AGREE))
    assert agreed.only.text == "Genoteerd: je gaat akkoord. Akkoord tot nu toe: 1."
    again = await chat.press("Anna", button(proposal, house_rules.AGREE))
    assert again.only.text.startswith("Je had al akkoord gegeven")

    assert (await fire(chat, timedelta(days=2))).replies == []
    adopted = posted(await fire(chat, timedelta(days=1, minutes=1)))
    assert adopted.text.startswith("Nieuwe spelregels vastgesteld (versie 1)")
    assert "Akkoord gegeven: 1." in adopted.text
    assert button(adopted, house_rules.ACKNOWLEDGE).label.plain == (
        "Ik onderschrijf deze spelregels"
    )
    [version] = await versions(chat.store)
    assert version.status == HouseRuleStatus.ADOPTED
    assert version.text.splitlines() == [
        "We beginnen op tijd.",
        "We zeggen het als we iets niet snappen.",
        "Besluiten met consent.",
    ]

    shown = await chat.command("Bram", "spelregels")
    assert shown.only.text.startswith(
        "Spelregels van #algemeen (versie 1, vastgesteld op 06-03-2025)"
    )
    assert button(shown.only, house_rules.ACKNOWLEDGE)


async def test_consent_needs_nobody_to_agree(chat: Chat) -> None:
    await propose(chat, days="1")
    adopted = posted(await fire(chat, timedelta(days=1)))
    assert adopted.text.startswith("Nieuwe spelregels vastgesteld (versie 1)")
    assert "Akkoord gegeven" not in adopted.text


async def test_acknowledging_is_stored_once_per_member_and_version(chat: Chat) -> None:
    adopted = await adopt(chat)
    ack = button(adopted, house_rules.ACKNOWLEDGE)
    first = await chat.press("Anna", ack)
    assert first.only.text.startswith("Dank je, je onderschrijft deze spelregels.")
    second = await chat.press("Anna", ack)
    assert second.only.text.startswith("Je had deze versie van de spelregels al onderschreven")
    async with chat.store.transaction() as tx:
        rows = (await tx.session.exec(select(HouseRuleAcknowledgement))).all()
    anna = await member_named(chat.store, "Anna")
    assert [(row.member_id) for row in rows] == [anna.id]
    shown = await chat.command("Anna", "spelregels")
    assert "Je hebt deze versie onderschreven." in shown.only.text

    # A new version needs a new acknowledgement; the old button says it no longer applies.
    proposal = posted(await propose(chat, RULES + "\n4. We sluiten af met wat we afspraken."))
    assert "Nieuw of gewijzigd: regel 4." in proposal.text
    await fire(chat, timedelta(days=3))
    assert [v.status for v in await versions(chat.store)] == [
        HouseRuleStatus.SUPERSEDED,
        HouseRuleStatus.ADOPTED,
    ]
    stale = await chat.press("Anna", ack)
    assert stale.only.text.startswith("Deze versie van de spelregels geldt niet meer.")
    shown = await chat.command("Anna", "spelregels")
    assert "(versie 2," in shown.only.text
    assert "onderschreven" not in shown.only.text


async def test_an_objection_sends_the_proposal_back_and_an_amended_one_is_adopted(
    chat: Chat,
) -> None:
    proposal = posted(await propose(chat))
    opened = await chat.press("Bram", button(proposal, house_rules.OBJECT_OPEN))
    assert opened.outcome.form is not None
    assert opened.outcome.form.form_id == house_rules.OBJECTION_FORM

    objected = await chat.submit(
        "Bram",
        house_rules.OBJECTION_FORM,
        {"reason": "Regel 3 zegt niet wie er besluit."},
        context=opened.outcome.form.context,
    )
    assert "Je bezwaar is doorgegeven aan de coach." in objected.text
    channel = posted(objected)
    assert channel.text.startswith("Bram heeft een onderbouwd bezwaar")
    [to_coach] = [r for r in objected.replies if r.kind is DeliveryKind.DIRECT]
    assert to_coach.member_ref == "carla"
    assert "Bezwaar van Bram:" in to_coach.text
    assert "Regel 3 zegt niet wie er besluit." in to_coach.text

    # The proposal is over: no adoption at its deadline, no more presses.
    assert (await fire(chat, timedelta(days=4))).replies == []
    late = await chat.press("Anna", button(proposal, house_rules.AGREE))
    assert late.only.text.startswith("Over dit voorstel wordt niet meer beslist")
    assert (await chat.command("Anna", "spelregels")).only.text.startswith(
        "Dit kanaal heeft nog geen spelregels."
    )

    # The coach amends from the DM: the editor opens with the proposed text.
    amend = await chat.press(COACH, button(to_coach, house_rules.AMEND))
    form = amend.outcome.form
    assert form is not None
    [rules_input] = [i for i in form.inputs if isinstance(i, LongText)]
    assert rules_input.initial.splitlines()[2] == "3. Besluiten met consent."
    said = await chat.submit(
        COACH,
        house_rules.EDITOR_FORM,
        {
            "rules": rules_input.initial.replace(
                "Besluiten met consent.", "De groep besluit met consent."
            ),
            "days": "2",
        },
        context=form.context,
    )
    assert "Dit worden de eerste spelregels van dit kanaal." in posted(said).text
    adopted = posted(await fire(chat, timedelta(days=2)))
    assert adopted.text.startswith("Nieuwe spelregels vastgesteld (versie 1)")
    assert [v.status for v in await versions(chat.store)] == [
        HouseRuleStatus.WITHDRAWN,
        HouseRuleStatus.ADOPTED,
    ]
    async with chat.store.transaction() as tx:
        [objection] = (await tx.session.exec(select(HouseRuleObjection))).all()
    assert objection.reason == "Regel 3 zegt niet wie er besluit."


async def test_a_joining_member_gets_the_rules_in_a_direct_message(chat: Chat) -> None:
    nothing = await chat.send(
        MemberJoined(actor=chat.actor("Dirk"), place=chat.place(), delivery_id="join-0")
    )
    assert nothing.replies == []

    await adopt(chat)
    joined = await chat.send(
        MemberJoined(actor=chat.actor("Eva"), place=chat.place(), delivery_id="join-1")
    )
    welcome = joined.only
    assert welcome.kind is DeliveryKind.DIRECT
    assert welcome.member_ref == "eva"
    assert welcome.text.startswith("Welkom in #algemeen! Zo werken we hier samen:")
    assert "We zeggen het als we iets niet snappen." in welcome.text
    # Slack announces one join twice (an event and a join message): one welcome.
    twice = await chat.send(
        MemberJoined(actor=chat.actor("Eva"), place=chat.place(), delivery_id="join-2")
    )
    assert twice.replies == []
    thanks = await chat.press("Eva", button(welcome, house_rules.ACKNOWLEDGE))
    assert thanks.only.text.startswith("Dank je")
    # Who endorsed the rules already is not asked again.
    again = await chat.send(
        MemberJoined(actor=chat.actor("Anna"), place=chat.place(), delivery_id="join-3")
    )
    assert len(again.replies) == 1
    await chat.press("Anna", button(again.only, house_rules.ACKNOWLEDGE))
    rejoined = await chat.send(
        MemberJoined(actor=chat.actor("Anna"), place=chat.place(), delivery_id="join-4")
    )
    assert rejoined.replies == []


async def test_a_deadline_missed_during_downtime_adopts_once(chat: Chat) -> None:
    await propose(chat)
    chat.now += timedelta(days=10)
    engine = chat.runtime.engine
    assert await engine.fire_due(chat.store, now=chat.now) == 1
    assert await engine.fire_due(chat.store, now=chat.now) == 0
    replies = await chat._new_replies()
    assert [r.text.splitlines()[0] for r in replies] == ["Nieuwe spelregels vastgesteld (versie 1)"]


async def test_a_starter_set_prefills_the_editor(chat: Chat) -> None:
    opened = await chat.command(COACH, "spelregels instellen stuurgroep")
    assert opened.outcome.form is not None
    [rules_input, _days] = opened.outcome.form.inputs
    assert isinstance(rules_input, LongText)
    assert rules_input.initial.startswith("1. ")
    unknown = await chat.command(COACH, "spelregels instellen onbekend")
    assert unknown.only.text.startswith("Een starterset onbekend ken ik niet. Kies uit: `basis`")


@pytest.mark.parametrize(
    ("rules", "days", "reply"),
    [
        ("", "", "Er staan geen spelregels in je voorstel."),
        ("\n  \n1.  \n", "", "Er staan geen spelregels in je voorstel."),
        ("\n".join(f"Regel {n}" for n in range(21)), "", "Dat zijn 21 spelregels;"),
        ("Kort\n" + "x" * 301, "", "Regel 2 is 301 tekens;"),
        (RULES, "15", "Het aantal dagen voor bezwaar is een getal van 1 tot 14."),
        (RULES, "drie", "Het aantal dagen voor bezwaar is een getal van 1 tot 14."),
    ],
)
async def test_a_bad_rule_set_is_refused_in_plain_dutch(
    chat: Chat, rules: str, days: str, reply: str
) -> None:
    said = await propose(chat, rules, days)
    assert said.only.text.startswith(reply)
    assert await versions(chat.store) == []


async def test_an_unchanged_set_is_not_proposed(chat: Chat) -> None:
    await adopt(chat)
    said = await propose(
        chat,
        "We beginnen op tijd.\nWe zeggen het als we iets niet snappen.\n- Besluiten met consent.",
    )
    assert said.only.text.startswith("Dit zijn precies de spelregels die nu al gelden.")
    assert len(await versions(chat.store)) == 1


async def test_one_proposal_at_a_time(chat: Chat) -> None:
    await propose(chat)
    busy = await chat.command(COACH, "spelregels instellen")
    assert busy.only.text.startswith("Er loopt al een voorstel voor spelregels in dit kanaal")


async def test_an_objection_needs_a_reason(chat: Chat) -> None:
    proposal = posted(await propose(chat))
    opened = await chat.press("Bram", button(proposal, house_rules.OBJECT_OPEN))
    assert opened.outcome.form is not None
    said = await chat.submit(
        "Bram", house_rules.OBJECTION_FORM, {"reason": "   "}, context=opened.outcome.form.context
    )
    assert said.only.text.startswith("Een bezwaar heeft een reden nodig")
    adopted = posted(await fire(chat, timedelta(days=3)))
    assert adopted.text.startswith("Nieuwe spelregels vastgesteld")


async def test_only_a_coach_proposes(chat: Chat) -> None:
    said = await chat.command("Anna", "spelregels instellen")
    assert said.only.text.startswith("Spelregels voorstellen doet een coach.")
    assert said.outcome.form is None
    sneaky = await chat.submit("Anna", house_rules.EDITOR_FORM, {"rules": RULES})
    assert sneaky.only.text.startswith("Spelregels voorstellen doet een coach.")
    assert await versions(chat.store) == []


async def test_an_unknown_subcommand_explains_the_command(chat: Chat) -> None:
    said = await chat.command("Anna", "spelregels weg")
    assert said.only.text.startswith("Gebruik `spelregels` om ze te zien")


async def test_adopted_rules_come_back_on_the_first_monday_of_each_month(chat: Chat) -> None:
    await adopt(chat)
    first_monday = datetime(2025, 4, 7, 7, 0, tzinfo=UTC)  # 09:00 in Amsterdam (summer time)
    assert (
        await fire_due_schedules(chat.store, CONFIG, now=first_monday - timedelta(minutes=1)) == 0
    )
    assert await fire_due_schedules(chat.store, CONFIG, now=first_monday) == 1
    assert await fire_due_schedules(chat.store, CONFIG, now=first_monday + timedelta(hours=1)) == 0
    [recall] = [r for r in await chat._new_replies() if r.kind is DeliveryKind.POST]
    assert recall.text.startswith("Even terughalen: onze spelregels (versie 1)")
    assert "We beginnen op tijd." in recall.text
    assert button(recall, house_rules.ACKNOWLEDGE)

    # Downtime past the grace: that month is skipped, the next one comes.
    may = datetime(2025, 5, 5, 7, 0, tzinfo=UTC)
    assert await fire_due_schedules(chat.store, CONFIG, now=may + timedelta(hours=7)) == 0
    june = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)
    assert await fire_due_schedules(chat.store, CONFIG, now=june) == 1


async def test_a_coach_moves_or_stops_the_monthly_recall(chat: Chat) -> None:
    await adopt(chat)
    shown = await chat.command(COACH, "spelregels herinnering")
    assert "07-04-2025 09:00" in shown.only.text
    refused = await chat.command("Anna", "spelregels herinnering uit")
    assert "doet een coach" in refused.only.text
    bad = await chat.command(COACH, "spelregels herinnering zondag 25:00")
    assert "Dat begrijp ik niet als herinnering" in bad.only.text
    moved = await chat.command(COACH, "spelregels herinnering dinsdag 10:00")
    assert "01-04-2025 10:00" in moved.only.text
    first_tuesday = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)
    assert await fire_due_schedules(chat.store, CONFIG, now=first_tuesday) == 1
    off = await chat.command(COACH, "spelregels herinnering uit")
    assert "staat uit" in off.text
    later = datetime(2025, 5, 6, 8, 0, tzinfo=UTC)
    assert await fire_due_schedules(chat.store, CONFIG, now=later) == 0
