"""The #hoedan → #zodan exchange over Slack HTTP: signed requests in, the fake Web API out.

Anna (Twente) asks in a channel, Bram (Zuid-Limburg) answers in the thread, through the
"Ik heb een #zodan" dialog or with ``/hoedan zodan``, and Anna hears it by DM; she says it
helped, which closes the question. Sanne (Salland) asks the same thing in other words and is
pointed to Anna's answered question. Every member sets their region with ``/hoedan regio``.

An edited or deleted question message is covered in ``test_slack_http.py``; here only the
answer's side of that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from storage.enums import QuestionStatus
from storage.models import Answer, Invitation, Member, Question, Region
from tests.slack.conftest import Running, all_strings, running, slack_settings
from tests.slack.fake_slack import Call, FakeSlack
from tests.slack.signing import (
    block_actions_payload,
    fresh_event_id,
    fresh_ts,
    message_event,
    view_submission_payload,
)

CHANNEL = "C0001"
CHANNEL_NAME = "algemeen"
ANNA, BRAM, SANNE = "UANNA01", "UBRAM01", "USANNE1"
MEMBERS = {ANNA: ("Anna", "Twente"), BRAM: ("Bram", "Zuid-Limburg"), SANNE: ("Sanne", "Salland")}

# A pair from tests/data/question_pairs.toml: the same intent in other words.
IZA_QUESTION = "Hoe betrekken jullie inwoners bij het opstellen van het IZA-plan?"
IZA_PARAPHRASE = (
    "Op welke manier laten jullie bewoners meedenken over de regionale plannen "
    "voor het Integraal Zorgakkoord?"
)
# Another question of the same field with another intent (also from the data file).
LONELINESS = "Hoe pakken jullie eenzaamheid onder ouderen aan?"
PANEL = "Wij lieten bewoners meepraten in een burgerpanel van 40 mensen."


def dm_channel(user_id: str) -> str:
    """The DM channel the fake Slack's ``conversations.open`` gives for ``user_id``."""
    return "D" + user_id


# ---------------------------------------------------------------------- reading the fake Slack


def texts_of(call: Call) -> str:
    """Everything a person could read in a posted message: fallback text and all blocks."""
    return "\n".join([*all_strings(call.args.get("text")), *all_strings(call.args.get("blocks"))])


def buttons_of(call: Call) -> list[dict[str, Any]]:
    blocks = call.json("blocks") if "blocks" in call.args else []
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def button(call: Call, action: str) -> dict[str, Any]:
    """The button of ``call`` whose action_id is ``action#<position>``."""
    found = [b for b in buttons_of(call) if b["action_id"].rpartition("#")[0] == action]
    assert len(found) == 1, [b["action_id"] for b in buttons_of(call)]
    return found[0]


def ephemerals_to(slack: FakeSlack, user_id: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postEphemeral") if c.args.get("user") == user_id]


def posts_to(slack: FakeSlack, channel: str, *, thread_ts: str | None = None) -> list[Call]:
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel
        and (thread_ts is None or c.args.get("thread_ts") == thread_ts)
    ]


def dms_to(slack: FakeSlack, user_id: str) -> list[Call]:
    return posts_to(slack, dm_channel(user_id))


def posted_ts(slack: FakeSlack, channel: str, call: Call) -> str:
    """The ts the fake Slack gave the message that ``call`` posted in ``channel``."""
    found = [
        m["ts"]
        for m in slack.messages(channel)
        if m["bot_id"] and m["text"] == call.args["text"] and m["blocks"] == call.json("blocks")
    ]
    assert len(found) == 1, f"{len(found)} messages in {channel} for {call.args['text']!r}"
    return str(found[0])


# ---------------------------------------------------------------------- acting like Slack


async def say_in_channel(
    hoedan: Running, user_id: str, text: str, *, thread_ts: str | None = None
) -> str:
    """``user_id`` posts ``text`` in the channel (or a thread); returns the message's ts."""
    ts = hoedan.slack.add_message(CHANNEL, text, user=user_id, thread_ts=thread_ts)
    status, _ = await hoedan.event(
        message_event(text, user=user_id, channel=CHANNEL, ts=ts, thread_ts=thread_ts),
        event_id=fresh_event_id(),
    )
    assert status == 200
    await hoedan.settle()
    return ts


async def command(hoedan: Running, user_id: str, text: str) -> Call:
    """``/hoedan <text>`` by ``user_id`` in the channel; returns Hoedan's private reply."""
    before = len(ephemerals_to(hoedan.slack, user_id))
    status, body = await hoedan.command(
        text,
        user_id=user_id,
        user_name=MEMBERS[user_id][0].lower(),
        channel_id=CHANNEL,
        channel_name=CHANNEL_NAME,
    )
    assert (status, body) == (200, "")
    await hoedan.slack.wait_for(lambda: len(ephemerals_to(hoedan.slack, user_id)) > before)
    await hoedan.settle()
    replies = ephemerals_to(hoedan.slack, user_id)
    assert len(replies) == before + 1, [texts_of(c) for c in replies[before:]]
    return replies[before]


async def ask_in_channel(hoedan: Running, user_id: str, text: str) -> tuple[Question, str, Call]:
    """A #hoedan channel message: the stored question, the message's ts and the thread reply."""
    ts = await say_in_channel(hoedan, user_id, f"{text} #hoedan")
    [question] = [q for q in await hoedan.questions() if q.source_ref == ts]
    [confirmation] = posts_to(hoedan.slack, CHANNEL, thread_ts=ts)
    return question, ts, confirmation


async def press(
    hoedan: Running,
    user_id: str,
    on: Call,
    action: str,
    *,
    channel: str = CHANNEL,
    channel_name: str = CHANNEL_NAME,
) -> None:
    """``user_id`` presses the ``action`` button of the message ``on`` posted in ``channel``."""
    pressed = button(on, action)
    status, _ = await hoedan.interaction(
        block_actions_payload(
            pressed["action_id"],
            value=pressed.get("value", ""),
            button_text=pressed["text"]["text"],
            user_id=user_id,
            user_name=MEMBERS[user_id][0].lower(),
            channel_id=channel,
            channel_name=channel_name,
            message_ts=posted_ts(hoedan.slack, channel, on),
            message_text=str(on.args.get("text", "")),
            message_blocks=on.json("blocks"),
            thread_ts=on.args.get("thread_ts"),
        )
    )
    assert status == 200
    await hoedan.settle()


async def submit_answer_dialog(
    hoedan: Running, user_id: str, view: dict[str, Any], answer: str, link: str | None = None
) -> None:
    status, body = await hoedan.interaction(
        view_submission_payload(
            view["callback_id"],
            user_id=user_id,
            user_name=MEMBERS[user_id][0].lower(),
            blocks=view["blocks"],
            private_metadata=view.get("private_metadata", ""),
            values={
                "answer": {"answer": {"type": "plain_text_input", "value": answer}},
                "link": {"link": {"type": "plain_text_input", "value": link}},
            },
        )
    )
    assert status == 200
    assert "errors" not in body
    await hoedan.settle()


# ---------------------------------------------------------------------- the database


async def answers(hoedan: Running) -> list[Answer]:
    async with hoedan.store.transaction() as tx:
        return list((await tx.session.exec(select(Answer).order_by(col(Answer.id)))).all())


async def region_name(hoedan: Running, region_id: int | None) -> str | None:
    async with hoedan.store.transaction() as tx:
        region = await tx.session.get(Region, region_id) if region_id is not None else None
        return region.name if region is not None else None


async def member_id(hoedan: Running, user_id: str) -> int | None:
    async with hoedan.store.transaction() as tx:
        member = (await tx.session.exec(select(Member).where(Member.external_id == user_id))).one()
        return member.id


# ---------------------------------------------------------------------- the network


@pytest.fixture
async def hoedan(database_url: str, slack: FakeSlack) -> AsyncIterator[Running]:
    """Hoedan over HTTP (SQLite, and PostgreSQL when configured) with three regions' members.

    Each member sets their region with ``/hoedan regio <naam>``, as a person would.
    """
    for user_id, (name, _region) in MEMBERS.items():
        slack.add_user(user_id, name.lower(), real_name=f"{name} Jansen", display_name=name)
    async with running(slack_settings(database_url, slack), slack) as started:
        for user_id, (_name, region) in MEMBERS.items():
            reply = await command(started, user_id, f"regio {region}")
            assert f"Genoteerd: je hoort bij regio {region}." in texts_of(reply)
        yield started


# ---------------------------------------------------------------------- the stories


async def test_a_twente_question_is_confirmed_in_its_thread_and_a_zodan_reply_reaches_the_asker(
    hoedan: Running,
) -> None:
    question, ts, confirmation = await ask_in_channel(hoedan, ANNA, IZA_QUESTION)

    assert question.text == IZA_QUESTION
    assert question.status == QuestionStatus.OPEN
    assert await region_name(hoedan, question.region_id) == "Twente"
    assert confirmation.args["thread_ts"] == ts
    assert f"Je vraag is bewaard als *#{question.number}*" in texts_of(confirmation)
    assert button(confirmation, "answer.open_form")["value"] == str(question.number)

    reply_ts = await say_in_channel(hoedan, BRAM, f"#zodan {PANEL}", thread_ts=ts)

    assert [c.args.get("users") for c in hoedan.slack.calls_to("conversations.open")] == [ANNA]
    [dm] = dms_to(hoedan.slack, ANNA)
    shown = texts_of(dm)
    assert f"Een #zodan op je vraag *#{question.number}*, van Bram uit Zuid-Limburg:" in shown
    assert f"> {PANEL}" in shown  # quoted, as Bram wrote it
    assert "Dit helpt" in [b["text"]["text"] for b in buttons_of(dm)]
    [thanks] = ephemerals_to(hoedan.slack, BRAM)[-1:]
    assert thanks.args["channel"] == CHANNEL
    assert thanks.args["thread_ts"] == ts
    assert f"Je #zodan bij vraag *#{question.number}* is bewaard" in texts_of(thanks)
    [answer] = await answers(hoedan)
    assert answer.text == PANEL
    assert answer.source_ref == reply_ts
    assert answer.answerer_id == await member_id(hoedan, BRAM)
    assert await region_name(hoedan, answer.region_id) == "Zuid-Limburg"
    [stored] = await hoedan.questions()
    assert stored.status == QuestionStatus.ANSWERED
    assert posts_to(hoedan.slack, CHANNEL, thread_ts=ts) == [confirmation]  # nothing public


async def test_the_zodan_button_opens_the_dialog_and_its_answer_reaches_the_asker(
    hoedan: Running,
) -> None:
    question, ts, confirmation = await ask_in_channel(hoedan, ANNA, LONELINESS)

    await press(hoedan, BRAM, confirmation, "answer.open_form")

    [opened] = hoedan.slack.calls_to("views.open")
    view = opened.json("view")
    assert view["callback_id"] == "answer.form"
    assert [b["block_id"] for b in view["blocks"]] == ["answer", "link"]
    shown = "\n".join(all_strings(view))
    assert f"Hoe pakten jullie dit aan? (vraag #{question.number})" in shown
    assert LONELINESS in shown  # the question, as a hint under the answer field

    await submit_answer_dialog(
        hoedan,
        BRAM,
        view,
        "Een belteam van vrijwilligers belt ouderen elke week.",
        link="https://example.org/belteam",
    )

    [dm] = dms_to(hoedan.slack, ANNA)
    text = texts_of(dm)
    assert f"Een #zodan op je vraag *#{question.number}*, van Bram uit Zuid-Limburg:" in text
    assert "Een belteam van vrijwilligers belt ouderen elke week." in text
    assert "Meer lezen: https://example.org/belteam" in text
    [thanks] = ephemerals_to(hoedan.slack, BRAM)[-1:]
    assert (thanks.args["channel"], thanks.args["thread_ts"]) == (CHANNEL, ts)
    assert f"Je #zodan bij vraag *#{question.number}* is bewaard" in texts_of(thanks)
    [answer] = await answers(hoedan)
    assert answer.link == "https://example.org/belteam"
    assert await region_name(hoedan, answer.region_id) == "Zuid-Limburg"


async def test_dit_helpt_closes_the_question_and_later_answers_are_refused_in_dutch(
    hoedan: Running,
) -> None:
    question, ts, confirmation = await ask_in_channel(hoedan, ANNA, LONELINESS)
    await command(hoedan, BRAM, f"zodan {question.number} {PANEL}")
    [dm] = dms_to(hoedan.slack, ANNA)

    await press(
        hoedan, ANNA, dm, "answer.helpful", channel=dm_channel(ANNA), channel_name="directmessage"
    )

    [_, done] = dms_to(hoedan.slack, ANNA)
    assert f"Fijn dat het helpt! Vraag *#{question.number}* is gesloten." in texts_of(done)
    [thanked] = dms_to(hoedan.slack, BRAM)
    assert f"Je #zodan bij vraag *#{question.number}* hielp Anna." in texts_of(thanked)
    [closed] = await hoedan.questions()
    assert closed.status == QuestionStatus.CLOSED
    assert closed.closed_at is not None
    [answer] = await answers(hoedan)
    assert answer.helpful

    refusal = f"Vraag #{question.number} is al gesloten: de vrager is geholpen."
    by_command = await command(hoedan, SANNE, f"zodan {question.number} Wij hebben ook een idee.")
    assert refusal in texts_of(by_command)
    await say_in_channel(hoedan, SANNE, "#zodan Bij ons werkt een buurtkamer.", thread_ts=ts)
    by_thread = ephemerals_to(hoedan.slack, SANNE)[-1]
    assert by_thread.args["thread_ts"] == ts
    assert refusal in texts_of(by_thread)
    await press(hoedan, SANNE, confirmation, "answer.open_form")
    by_button = ephemerals_to(hoedan.slack, SANNE)[-1]
    assert refusal in texts_of(by_button)
    assert hoedan.slack.calls_to("views.open") == []
    assert len(await answers(hoedan)) == 1
    assert len(dms_to(hoedan.slack, ANNA)) == 2  # the answer and "Fijn dat het helpt", no more


async def test_pressing_dit_helpt_twice_thanks_the_answerer_once(hoedan: Running) -> None:
    """A double click (or a second look at the DM) must not send the answerer a second DM."""
    question, _, _ = await ask_in_channel(hoedan, ANNA, LONELINESS)
    await command(hoedan, BRAM, f"zodan {question.number} {PANEL}")
    [dm] = dms_to(hoedan.slack, ANNA)

    for _ in range(2):
        await press(
            hoedan,
            ANNA,
            dm,
            "answer.helpful",
            channel=dm_channel(ANNA),
            channel_name="directmessage",
        )

    thanked = [texts_of(c) for c in dms_to(hoedan.slack, BRAM)]
    assert len(thanked) == 1, thanked
    assert f"Je #zodan bij vraag *#{question.number}* hielp Anna." in thanked[0]
    [closed] = await hoedan.questions()
    assert closed.status == QuestionStatus.CLOSED


async def test_a_paraphrase_from_salland_points_to_the_answered_twente_question(
    hoedan: Running,
) -> None:
    iza, _, _ = await ask_in_channel(hoedan, ANNA, IZA_QUESTION)
    other, _, _ = await ask_in_channel(hoedan, ANNA, LONELINESS)
    await command(hoedan, BRAM, f"zodan {iza.number} {PANEL}")

    paraphrase, _, reply = await ask_in_channel(hoedan, SANNE, IZA_PARAPHRASE)

    assert await region_name(hoedan, paraphrase.region_id) == "Salland"
    text = texts_of(reply)
    assert "op de jouwe:" in text
    [line] = [line for line in text.splitlines() if f"*#{iza.number}*" in line]
    assert IZA_QUESTION in line
    assert line.endswith("— Twente, beantwoord")
    assert f"*#{other.number}*" not in text.split(line)[0]  # the answered match comes first
    assert button(reply, "question.show")["value"] == str(iza.number)
    # Bram answered the look-alike, so he is invited to think along, and Sanne hears that.
    assert "Zuid-Limburg heeft hier ervaring mee" in text
    [invitation] = dms_to(hoedan.slack, BRAM)
    assert f"Uit Salland komt vraag *#{paraphrase.number}*" in texts_of(invitation)
    async with hoedan.store.transaction() as tx:
        assert len((await tx.session.exec(select(Invitation))).all()) == 1


async def test_the_same_question_twice_within_a_day_is_stored_once(hoedan: Running) -> None:
    question, _, _ = await ask_in_channel(hoedan, ANNA, IZA_QUESTION)

    again_ts = await say_in_channel(hoedan, ANNA, f"#hoedan {IZA_QUESTION}")
    by_command = await command(hoedan, ANNA, f"vraag {IZA_QUESTION}")

    assert [q.number for q in await hoedan.questions()] == [question.number]
    duplicate = f"Deze vraag heb je vandaag al gesteld: *#{question.number}*."
    by_message, _ = ephemerals_to(hoedan.slack, ANNA)[-2:]
    assert by_message.args["channel"] == CHANNEL
    assert duplicate in texts_of(by_message)
    assert duplicate in texts_of(by_command)
    assert "niet nog eens bewaard" in texts_of(by_command)
    assert posts_to(hoedan.slack, CHANNEL, thread_ts=again_ts) == []
    assert len(posts_to(hoedan.slack, CHANNEL)) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zodan", "Zo geef je een #zodan: `zodan &lt;nr&gt; &lt;antwoord&gt;`"),
        ("zodan Wij werkten met een panel.", "Wij is geen vraagnummer."),
        ("zodan 999 Wij werkten met een panel.", "Vraag #999 ken ik niet."),
        ("zodan {nr}", "Je #zodan bij vraag #{nr} is nog leeg."),
        ("zodan {nr}    ", "Je #zodan bij vraag #{nr} is nog leeg."),
        ("zodan {nr} " + "x" * 5000, "Je tekst is 5.000 tekens; het maximum is 4.000."),
    ],
    ids=["no-number", "not-a-number", "unknown-number", "empty", "blank", "5000-chars"],
)
async def test_bad_zodan_commands_get_a_clear_dutch_reply_and_store_nothing(
    hoedan: Running, text: str, expected: str
) -> None:
    question, _, _ = await ask_in_channel(hoedan, ANNA, LONELINESS)
    nr = str(question.number)

    reply = await command(hoedan, BRAM, text.replace("{nr}", nr))

    assert expected.replace("{nr}", nr) in texts_of(reply)
    assert reply.args["channel"] == CHANNEL
    assert await answers(hoedan) == []
    assert dms_to(hoedan.slack, ANNA) == []
    [unchanged] = await hoedan.questions()
    assert unchanged.status == QuestionStatus.OPEN
    # The server is still up and the next good answer goes through.
    stored = await command(hoedan, BRAM, f"zodan {nr} {PANEL}")
    assert f"Je #zodan bij vraag *#{nr}* is bewaard" in texts_of(stored)
    assert len(await answers(hoedan)) == 1
    assert len(dms_to(hoedan.slack, ANNA)) == 1


async def test_a_blank_answer_in_the_dialog_is_refused_in_dutch(hoedan: Running) -> None:
    question, ts, confirmation = await ask_in_channel(hoedan, ANNA, LONELINESS)
    await press(hoedan, BRAM, confirmation, "answer.open_form")
    [opened] = hoedan.slack.calls_to("views.open")

    # Slack's "required" lets a field of only spaces through.
    await submit_answer_dialog(hoedan, BRAM, opened.json("view"), "   \n  ")

    refusal = ephemerals_to(hoedan.slack, BRAM)[-1]
    assert (refusal.args["channel"], refusal.args["thread_ts"]) == (CHANNEL, ts)
    assert f"Je #zodan bij vraag #{question.number} is nog leeg." in texts_of(refusal)
    assert await answers(hoedan) == []
    assert dms_to(hoedan.slack, ANNA) == []


async def test_mentions_in_an_answer_reach_the_asker_escaped(hoedan: Running) -> None:
    question, ts, _ = await ask_in_channel(hoedan, ANNA, LONELINESS)

    # As Slack sends them: mentions as control sequences, a typed "<" escaped.
    await command(
        hoedan, BRAM, f"zodan {question.number} Vraag het <!channel> of <@U123> &lt;b&gt;!"
    )
    await say_in_channel(
        hoedan, SANNE, "#zodan Bel <!here> en <@U0456|piet> via <!subteam^S1|@zorg>", thread_ts=ts
    )

    first, second = [a.text for a in await answers(hoedan)]
    assert first == "Vraag het @channel of @U123 <b>!"
    assert second == "Bel @here en @piet via @zorg"
    sent = [texts_of(dm) for dm in dms_to(hoedan.slack, ANNA)]
    assert len(sent) == 2
    assert "Vraag het @\u2060channel of @U123 &lt;b&gt;!" in sent[0]
    assert "Bel @\u2060here en @piet via @zorg" in sent[1]
    for text in sent:
        assert "<!channel>" not in text
        assert "<!here>" not in text
        assert "<@U123>" not in text
        assert "<!" not in text
        assert "<@" not in text
        assert "<b>" not in text


async def test_an_edited_zodan_reply_changes_the_answer_and_deleting_it_reopens_the_question(
    hoedan: Running,
) -> None:
    """Edits of questions are in test_slack_http.py; this is the answer's side over HTTP."""
    question, ts, _ = await ask_in_channel(hoedan, ANNA, LONELINESS)
    reply_ts = await say_in_channel(hoedan, BRAM, "#zodan Met een belteam.", thread_ts=ts)
    before = {"type": "message", "user": BRAM, "ts": reply_ts, "thread_ts": ts}
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": CHANNEL,
        "channel_type": "channel",
        "hidden": True,
        "message": {**before, "text": "#zodan Met een belteam van 12 vrijwilligers."},
        "previous_message": {**before, "text": "#zodan Met een belteam."},
        "ts": fresh_ts(),
    }
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": CHANNEL,
        "channel_type": "channel",
        "hidden": True,
        "deleted_ts": reply_ts,
        "previous_message": {**before, "text": "#zodan Met een belteam van 12 vrijwilligers."},
        "ts": fresh_ts(),
    }

    assert (await hoedan.event(edited, event_id=fresh_event_id()))[0] == 200
    await hoedan.settle()
    [answer] = await answers(hoedan)
    assert answer.text == "Met een belteam van 12 vrijwilligers."
    assert [q.status for q in await hoedan.questions()] == [QuestionStatus.ANSWERED]

    assert (await hoedan.event(deleted, event_id=fresh_event_id()))[0] == 200
    await hoedan.settle()
    assert await answers(hoedan) == []
    [reopened] = await hoedan.questions()
    assert (reopened.number, reopened.status) == (question.number, QuestionStatus.OPEN)
    assert len(dms_to(hoedan.slack, ANNA)) == 1  # the edit and the removal send no new DM
