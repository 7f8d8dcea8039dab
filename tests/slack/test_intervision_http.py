"""Intervision over Slack HTTP: signed requests in, the fake Web API out, a real database file.

Carla (a coach, made one by the admin with ``/hoedan rol``) starts an incident session with
``/hoedan intervisie incident``: Anna brings in the case, Bram, Dirk and Eva take part. None of
the four ever spoke to Hoedan, so their names come from Slack's profiles. The session lives in
a Slack group conversation (an mpim, opened with ``conversations.open``) or in a thread under
the opening post in the channel. Time is the test's (:class:`Clock`): the scheduler's real
deadline job fires the one-minute warning and the end of a phase without minutes of waiting.

The story itself, with every text, is in ``tests/flows/test_intervision.py``; here it is the
Slack side: the dialogs, the group conversation, who hears what, and a restart of the real
``hoedan run`` process in the middle of a phase.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, select

from flows import intervision
from flows.intervision_room import START_FORM
from storage.models import FlowInstance, IntervisionContribution, Lesson, Member, OutboxMessage
from storage.store import Store
from tests.slack.conftest import JSON, Clock, Running, running, slack_settings
from tests.slack.fake_slack import Call, FakeSlack, group_id
from tests.slack.signing import (
    block_actions_payload,
    event_body,
    fresh_event_id,
    message_event,
    post_signed,
    view_submission_payload,
)
from tests.slack.test_exchange_http import button, buttons_of, posted_ts, texts_of
from tests.slack.test_hoedan_run import free_port, slack_environment, wait_healthy

CHANNEL, CHANNEL_NAME = "C0INTER", "intervisie"
ADMIN = "UADMIN"  # in HOEDAN_ADMINS (see slack_settings)
CARLA, ANNA, BRAM, DIRK, EVA, FRANK = "UCARLA", "UANNA", "UBRAM", "UDIRK", "UEVA", "UFRANK"
GERT, HANNA, IRIS = "UGERT", "UHANNA", "UIRIS"
PEOPLE = {
    CARLA: "Carla Coach",
    ANNA: "Anna de Vries",
    BRAM: "Bram Bakker",
    DIRK: "Dirk Dekker",
    EVA: "Eva Evers",
    FRANK: "Frank Flier",
    GERT: "Gert Geurts",
    HANNA: "Hanna Hout",
    IRIS: "Iris Ilgen",
}
GROUP = (CARLA, ANNA, BRAM, DIRK, EVA)
"""Everyone in the first session: the coach, the case owner and the participants."""

MINUTES = "5, 10, 5, 3, 15, 5, 5"
"""The incident method's phases with their default minutes, as the dialog offers them."""
CASE = "Onze wethouder wil snel resultaat, de partners willen eerst vertrouwen opbouwen."
CONFIDENTIAL = "Dit is vertrouwelijk: de GGD-directeur overweegt te stoppen."


# ---------------------------------------------------------------------- the network


@pytest.fixture
def clock() -> Clock:
    """One time for the whole service: its scheduler, outbox and the events it takes in."""
    return Clock()


@pytest.fixture
def people(slack: FakeSlack) -> FakeSlack:
    """Slack knows everyone; most never set a display name, so their real name is theirs."""
    for user_id, real_name in PEOPLE.items():
        slack.add_user(user_id, handle(user_id), real_name=real_name, display_name="")
    return slack


def handle(user_id: str) -> str:
    return PEOPLE[user_id].split()[0].lower()


@pytest.fixture
async def hoedan(database_url: str, people: FakeSlack, clock: Clock) -> AsyncIterator[Running]:
    """Hoedan over HTTP (SQLite file, and PostgreSQL when configured); Carla is a coach."""
    async with running(slack_settings(database_url, people), people, clock=clock) as started:
        await make_coach(started, CARLA)
        yield started


async def make_coach(hoedan: Running, user_id: str) -> None:
    before = len(ephemerals_to(hoedan.slack, ADMIN))
    await hoedan.command(
        f"rol <@{user_id}|{handle(user_id)}> coach",
        user_id=ADMIN,
        user_name="beheer",
        channel_id=CHANNEL,
        channel_name=CHANNEL_NAME,
    )
    await hoedan.settle()
    [granted] = ephemerals_to(hoedan.slack, ADMIN)[before:]
    assert "coach" in texts_of(granted)


# ---------------------------------------------------------------------- reading the fake Slack


def posts_in(slack: FakeSlack, channel: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def dms_to(slack: FakeSlack, user_id: str) -> list[Call]:
    return posts_in(slack, f"D{user_id}")


def ephemerals_to(slack: FakeSlack, user_id: str) -> list[Call]:
    return [c for c in slack.calls_to("chat.postEphemeral") if c.args.get("user") == user_id]


def posts_saying(slack: FakeSlack, channel: str, text: str) -> list[Call]:
    return [c for c in posts_in(slack, channel) if text in texts_of(c)]


def the_post(slack: FakeSlack, channel: str, text: str) -> Call:
    found = posts_saying(slack, channel, text)
    assert len(found) == 1, (text, [texts_of(c)[:80] for c in posts_in(slack, channel)])
    return found[0]


def group_of(*user_ids: str) -> str:
    """The group conversation (mpim) the fake Slack opens for these people."""
    return group_id(list(user_ids))


def mpdm_name(*user_ids: str) -> str:
    """What Slack calls a group conversation in button payloads (it has no channel_type)."""
    return "mpdm-" + "--".join(sorted(u.lower() for u in user_ids)) + "-1"


def group_opens(slack: FakeSlack) -> list[set[str]]:
    """The people of every ``conversations.open`` for more than one person."""
    return [
        set(str(c.args["users"]).split(","))
        for c in slack.calls_to("conversations.open")
        if "," in str(c.args.get("users", ""))
    ]


def views_opened(slack: FakeSlack) -> list[dict[str, Any]]:
    return [c.json("view") for c in slack.calls_to("views.open")]


# ---------------------------------------------------------------------- acting like Slack


async def say(
    hoedan: Running,
    user_id: str,
    text: str,
    *,
    channel: str,
    thread_ts: str | None = None,
    event_id: str | None = None,
    settle: bool = True,
) -> str:
    """``user_id`` writes ``text`` in a group conversation (or a channel thread)."""
    ts = hoedan.slack.add_message(channel, text, user=user_id, thread_ts=thread_ts)
    kind = "mpim" if channel.startswith("G") else "channel"
    status, _ = await hoedan.event(
        message_event(
            text, user=user_id, channel=channel, ts=ts, thread_ts=thread_ts, channel_type=kind
        ),
        event_id=event_id or fresh_event_id(),
    )
    assert status == 200
    if settle:
        await hoedan.settle()
    return ts


async def press(
    hoedan: Running, user_id: str, on: Call, action: str, *, channel_name: str | None = None
) -> None:
    """``user_id`` presses the ``action`` button of the message that ``on`` posted."""
    channel = str(on.args["channel"])
    pressed = button(on, action)
    status, _ = await hoedan.interaction(
        block_actions_payload(
            pressed["action_id"],
            value=pressed.get("value", ""),
            button_text=pressed["text"]["text"],
            user_id=user_id,
            user_name=handle(user_id),
            channel_id=channel,
            channel_name=channel_name or ("directmessage" if channel[0] == "D" else CHANNEL_NAME),
            message_ts=posted_ts(hoedan.slack, channel, on),
            message_text=str(on.args.get("text", "")),
            message_blocks=on.json("blocks"),
            thread_ts=on.args.get("thread_ts"),
        )
    )
    assert status == 200
    await hoedan.settle()


async def submit(
    hoedan: Running, user_id: str, view: dict[str, Any], values: dict[str, Any]
) -> str:
    status, body = await hoedan.interaction(
        view_submission_payload(
            view["callback_id"],
            user_id=user_id,
            user_name=handle(user_id),
            blocks=view["blocks"],
            private_metadata=view.get("private_metadata", ""),
            values=values,
        )
    )
    assert status == 200
    await hoedan.settle()
    return body


def text_value(name: str, value: str) -> dict[str, Any]:
    return {name: {name: {"type": "plain_text_input", "value": value}}}


def people_value(name: str, *user_ids: str) -> dict[str, Any]:
    return {name: {name: {"type": "multi_users_select", "selected_users": list(user_ids)}}}


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    [found] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return found


async def open_start_dialog(
    hoedan: Running, coach: str = CARLA, *, channel: str = CHANNEL, channel_name: str = CHANNEL_NAME
) -> dict[str, Any]:
    before = len(views_opened(hoedan.slack))
    status, body = await hoedan.command(
        "intervisie incident",
        user_id=coach,
        user_name=handle(coach),
        channel_id=channel,
        channel_name=channel_name,
    )
    assert (status, body) == (200, "")
    await hoedan.settle()
    [view] = views_opened(hoedan.slack)[before:]
    return view


async def start(
    hoedan: Running,
    *,
    owner: str = ANNA,
    participants: Iterable[str] = (BRAM, DIRK, EVA),
    venue: str = "group",
    minutes: str = MINUTES,
    coach: str = CARLA,
) -> None:
    view = await open_start_dialog(hoedan, coach)
    [chosen] = [
        option for option in block(view, "venue")["element"]["options"] if option["value"] == venue
    ]
    await submit(
        hoedan,
        coach,
        view,
        {
            **people_value("owner", owner),
            **people_value("participants", *participants),
            **text_value("minutes", minutes),
            "venue": {"venue": {"type": "static_select", "selected_option": chosen}},
        },
    )


async def share_case(hoedan: Running, owner: str = ANNA, case: str = CASE) -> None:
    """The case owner presses the button in their DM and sends the case dialog."""
    [ask] = [c for c in dms_to(hoedan.slack, owner) if "Schrijf je casus" in texts_of(c)]
    before = len(views_opened(hoedan.slack))
    await press(hoedan, owner, ask, intervision.CASE_FORM_OPEN)
    [view] = views_opened(hoedan.slack)[before:]
    assert view["callback_id"] == intervision.CASE_FORM
    await submit(hoedan, owner, view, text_value("case", case))


ANNA_TELLS_MORE = "Het gaat om de regiotafel van maart."


async def case_told(hoedan: Running) -> None:
    """Carla, made coach, starts an incident session; Anna shares her case and says more in the
    group conversation. Where the restart tests take over."""
    await make_coach(hoedan, CARLA)
    await start(hoedan)
    await share_case(hoedan)
    await say(hoedan, ANNA, ANNA_TELLS_MORE, channel=group_of(*GROUP))


# ---------------------------------------------------------------------- the database


async def contributions(store: Store) -> list[tuple[int, str, str, str]]:
    """(session, phase, author's Slack id, text) of everything recorded, in order."""
    async with store.transaction() as tx:
        rows = (
            await tx.session.exec(
                select(IntervisionContribution, Member)
                .where(IntervisionContribution.author_id == Member.id)
                .order_by(col(IntervisionContribution.id))
            )
        ).all()
    return [(c.session_id, c.phase, m.external_id, c.text) for c, m in rows]


async def members_by_slack_id(store: Store) -> dict[str, str]:
    async with store.transaction() as tx:
        return {
            m.external_id: m.display_name for m in (await tx.session.exec(select(Member))).all()
        }


# ---------------------------------------------------------------------- a real restart

SHIFTED_HOEDAN_RUN = """
import sys
from datetime import timedelta

import storage.types

wall_clock = storage.types.utcnow
shift = timedelta(seconds=float(sys.argv[1]))
storage.types.utcnow = lambda: wall_clock() + shift

from bot.cli import app

app(["run"], prog_name="hoedan")
"""
"""``hoedan run``, living ``sys.argv[1]`` seconds ahead: every module takes ``utcnow`` from
``storage.types`` by name, so moving it before they are imported moves the whole process."""


async def start_shifted_hoedan(
    tmp_path: Path, env: dict[str, str], shift: timedelta
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SHIFTED_HOEDAN_RUN,
        str(shift.total_seconds()),
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_until_handled(
    http: aiohttp.ClientSession, url: str, count: int, *, seconds: float = 20.0
) -> None:
    """Until the process has done the work of ``count`` acknowledged requests."""
    async with asyncio.timeout(seconds):
        while True:
            async with http.get(url) as response:
                work = (await response.json())["work"]
            if work["handled"] >= count and work["in_flight"] == 0:
                return
            await asyncio.sleep(0.05)


# ---------------------------------------------------------------------- the stories


async def test_a_coach_starts_a_session_in_a_group_conversation_with_real_names(
    hoedan: Running,
) -> None:
    view = await open_start_dialog(hoedan)

    assert view["callback_id"] == START_FORM
    assert json.loads(view["private_metadata"])["x"] == "incident"
    assert [b["block_id"] for b in view["blocks"]] == ["owner", "participants", "minutes", "venue"]
    assert block(view, "owner")["element"]["type"] == "multi_users_select"
    assert block(view, "participants")["element"]["type"] == "multi_users_select"
    minutes = block(view, "minutes")["element"]
    assert (minutes["type"], minutes["initial_value"]) == ("plain_text_input", MINUTES)
    venue = block(view, "venue")["element"]
    assert venue["type"] in ("static_select", "radio_buttons")
    assert [o["value"] for o in venue["options"]] == ["group", "thread"]
    assert venue["initial_option"]["value"] == "group"

    await start(hoedan)

    assert group_opens(hoedan.slack) == [set(GROUP)]
    conversation = group_of(*GROUP)
    [opening] = posts_in(hoedan.slack, conversation)
    shown = texts_of(opening)
    assert "Intervisie: Incidentmethode" in shown
    assert (
        "Inbrenger: *Anna de Vries*. Begeleider: Carla Coach. "
        "Deelnemers: Bram Bakker, Dirk Dekker, Eva Evers." in shown
    )
    assert CASE not in shown
    names = await members_by_slack_id(hoedan.store)
    assert {u: names[u] for u in GROUP} == {u: PEOPLE[u] for u in GROUP}
    [started] = ephemerals_to(hoedan.slack, CARLA)[-1:]
    assert started.args["channel"] == CHANNEL
    assert "privé groepsgesprek" in texts_of(started)

    # Anna is asked privately first; the group sees the case only when she sends it.
    [ask] = dms_to(hoedan.slack, ANNA)
    assert "Je bent inbrenger in een intervisie (Incidentmethode)" in texts_of(ask)
    await share_case(hoedan)

    _, case, first = posts_in(hoedan.slack, conversation)
    assert "De casus van Anna de Vries:" in texts_of(case)
    assert f"> {CASE}" in texts_of(case)
    assert "Fase 1 van 7: Het incident" in texts_of(first)
    assert {b["value"] for b in buttons_of(first)} == {"1:0"}
    [thanks] = dms_to(hoedan.slack, ANNA)[1:]
    assert "je casus staat in de sessie" in texts_of(thanks)
    assert await contributions(hoedan.store) == [(1, "case", ANNA, CASE)]


async def test_a_full_session_phase_by_phase_with_time_steering_and_lessons(
    hoedan: Running, clock: Clock
) -> None:
    await start(hoedan)
    await share_case(hoedan)
    conversation = group_of(*GROUP)
    name = mpdm_name(*GROUP)

    # Phase 1: what the group says is recorded; an outsider is told so, privately.
    await say(hoedan, ANNA, "Het gaat vooral om de regiotafel van maart.", channel=conversation)
    await say(hoedan, FRANK, "Mag ik meelezen?", channel=conversation)
    [refusal] = ephemerals_to(hoedan.slack, FRANK)
    assert refusal.args["channel"] == conversation
    assert "alleen voor de deelnemers" in texts_of(refusal)

    # The scheduler's real job: one minute before the end a warning, at the end phase 2.
    clock.advance(timedelta(minutes=4))
    await hoedan.run_deadline_job()
    [warning] = posts_in(hoedan.slack, conversation)[3:]
    assert "Nog één minuut voor *Het incident*" in texts_of(warning)
    clock.advance(timedelta(minutes=1))
    await hoedan.run_deadline_job()
    second = the_post(hoedan.slack, conversation, "Fase 2 van 7: Informatieronde")

    # Only the facilitator steers; a participant's press is refused privately.
    await press(hoedan, BRAM, second, intervision.NEXT, channel_name=name)
    [not_yours] = ephemerals_to(hoedan.slack, BRAM)
    assert not_yours.args["channel"] == conversation
    assert "Alleen de begeleider (Carla Coach)" in texts_of(not_yours)
    await say(hoedan, BRAM, "Wie zitten er aan de regiotafel?", channel=conversation)
    # A reply in a thread inside the group conversation is said in the session too.
    under = posted_ts(hoedan.slack, conversation, second)
    await say(hoedan, DIRK, "En wie zit er voor?", channel=conversation, thread_ts=under)
    announcement = second
    for number in (3, 4, 5):
        await press(hoedan, CARLA, announcement, intervision.NEXT, channel_name=name)
        announcement = the_post(hoedan.slack, conversation, f"Fase {number} van 7")
    # A second click on an older announcement does not skip a phase.
    await press(hoedan, CARLA, second, intervision.NEXT, channel_name=name)
    assert "hoort bij een eerdere fase" in texts_of(ephemerals_to(hoedan.slack, CARLA)[-1])
    assert not posts_saying(hoedan.slack, conversation, "Fase 6 van 7")
    advice = the_post(hoedan.slack, conversation, "Fase 5 van 7: Hoe zou jij het aanpakken?")
    assert "om de beurt: Bram Bakker, Dirk Dekker, Eva Evers" in texts_of(advice)

    # Turn by turn; a mention of the whole channel stays a harmless word.
    await say(hoedan, BRAM, "Begin met één gezamenlijk succes.", channel=conversation)
    the_post(hoedan.slack, conversation, "Nu *Dirk Dekker*")
    await say(hoedan, DIRK, "Zet <!channel> op de hoogte van het bezoek.", channel=conversation)
    await say(hoedan, EVA, CONFIDENTIAL, channel=conversation)
    the_post(hoedan.slack, conversation, "Iedereen is aan de beurt geweest")

    await press(hoedan, CARLA, advice, intervision.NEXT, channel_name=name)
    reaction = the_post(hoedan.slack, conversation, "Fase 6 van 7")
    await press(hoedan, CARLA, reaction, intervision.NEXT, channel_name=name)
    the_post(hoedan.slack, conversation, "Fase 7 van 7")

    # Lessons: asked privately, each in a dialog; only a ticked one may be shared.
    for who, text, shareable in (
        (BRAM, "Vertrouwen is ook resultaat.", True),
        (DIRK, "Vaker vragen stellen.", False),
        (EVA, "Kleine stappen.", False),
    ):
        [ask] = [c for c in dms_to(hoedan.slack, who) if "Wat neem jij mee?" in texts_of(c)]
        before = len(views_opened(hoedan.slack))
        await press(hoedan, who, ask, intervision.LESSON_FORM_OPEN)
        [form] = views_opened(hoedan.slack)[before:]
        assert form["callback_id"] == intervision.LESSON_FORM
        [option] = block(form, "shareable")["element"]["options"]
        assert "Mag gedeeld worden, zonder mijn naam" in option["text"]["text"]
        ticked = [option] if shareable else []
        await submit(
            hoedan,
            who,
            form,
            {
                **text_value("lesson", text),
                "shareable": {"shareable": {"type": "checkboxes", "selected_options": ticked}},
            },
        )
        assert "je leeropbrengst is bewaard" in texts_of(dms_to(hoedan.slack, who)[-1])
    [ask] = [c for c in dms_to(hoedan.slack, ANNA) if "als inbrenger mee" in texts_of(c)]
    before = len(views_opened(hoedan.slack))
    await press(hoedan, ANNA, ask, intervision.LESSON_FORM_OPEN)
    [form] = views_opened(hoedan.slack)[before:]
    assert form["callback_id"] == intervision.TAKEAWAY_FORM
    assert [b["block_id"] for b in form["blocks"]] == ["lesson"]
    await submit(hoedan, ANNA, form, text_value("lesson", "Ik plan een bezoek."))

    summary = the_post(hoedan.slack, conversation, "Intervisie afgerond: Incidentmethode")
    shown = texts_of(summary)
    assert "Hoe zou jij het aanpakken?: 3 bijdragen" in shown
    assert "Zet @\u2060channel op de hoogte van het bezoek." in shown
    assert "Vertrouwen is ook resultaat." in shown
    record = "\n".join(texts_of(c) for c in dms_to(hoedan.slack, ANNA))
    assert "Het verslag van je intervisie (Incidentmethode)" in record
    assert "Bram Bakker: Wie zitten er aan de regiotafel?" in record
    assert f"Eva Evers: {CONFIDENTIAL}" in record
    assert "Anna de Vries: Ik plan een bezoek." in record
    for who in (BRAM, DIRK, EVA, CARLA):
        assert "Het verslag" not in "\n".join(texts_of(c) for c in dms_to(hoedan.slack, who))

    said = await contributions(hoedan.store)
    assert [(phase, who) for _, phase, who, _ in said] == [
        ("case", ANNA),
        ("case", ANNA),
        ("clarify", BRAM),
        ("clarify", DIRK),
        ("advice", BRAM),
        ("advice", DIRK),
        ("advice", EVA),
    ]
    assert FRANK not in {who for *_, who, _ in said}
    async with hoedan.store.transaction() as tx:
        [flow] = (await tx.session.exec(select(FlowInstance))).all()
        assert flow.state == intervision.FINISHED
        shared = await tx.intervision.shared_lessons(
            network_id=1, since=clock() - timedelta(days=1)
        )
        assert [lesson.text for lesson in shared] == ["Vertrouwen is ook resultaat."]
    await assert_confidential(
        hoedan, inside=lambda call: call.args["channel"] == conversation, owner=ANNA
    )


async def assert_confidential(
    hoedan: Running, *, inside: Callable[[Call], bool], owner: str
) -> None:
    """Nothing said in the session (contributions, lessons) anywhere but in the session's
    place and the case owner's DM; and no mention that would reach a whole channel."""
    async with hoedan.store.transaction() as tx:
        secrets = [c.text for c in (await tx.session.exec(select(IntervisionContribution))).all()]
        secrets += [lesson.text for lesson in (await tx.session.exec(select(Lesson))).all()]
    assert secrets
    for call in hoedan.slack.calls_to("chat.postMessage") + hoedan.slack.calls_to(
        "chat.postEphemeral"
    ):
        shown = texts_of(call)
        assert "<!" not in shown  # <!channel>, <!here>, <!everyone>: nobody is called
        private_to_owner = call.method == "chat.postMessage" and call.args["channel"] == f"D{owner}"
        if inside(call) or private_to_owner:
            continue
        for secret in secrets:
            assert secret not in shown, (call.method, call.args["channel"], secret)
    for call in hoedan.slack.calls:
        if call.method not in ("chat.postMessage", "chat.postEphemeral"):
            for secret in secrets:
                assert secret not in json.dumps(call.args, ensure_ascii=False), call.method


async def test_a_restart_mid_phase_loses_nothing_and_announces_the_next_phase_once(
    tmp_path: Path, database_url: str, people: FakeSlack, clock: Clock
) -> None:
    slack = people
    conversation = group_of(*GROUP)
    settings = slack_settings(database_url, slack)
    async with running(settings, slack, clock=clock) as first:
        await case_told(first)
        clock.advance(timedelta(minutes=4))
        await first.run_deadline_job()
        the_post(slack, conversation, "Nog één minuut")
        # Bram's message is acknowledged, and then Hoedan is told to stop at once.
        late_id = fresh_event_id()
        late_ts = await say(
            first,
            BRAM,
            "Wat zei de wethouder toen?",
            channel=conversation,
            event_id=late_id,
            settle=False,
        )
    before = len(slack.calls)

    # The real ``hoedan run`` on the same database, two minutes after the phase should have
    # ended: the deadline that passed while Hoedan was down fires once, at its first tick.
    port = free_port()
    env = {**slack_environment(tmp_path, slack, port), "DATABASE_URL": database_url}
    process = await start_shifted_hoedan(tmp_path, env, clock.offset + timedelta(minutes=2))
    try:
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{port}"
            await wait_healthy(http, f"{base}/healthz", process)
            await slack.wait_for(
                lambda: bool(posts_saying(slack, conversation, "Fase 2 van 7")), timeout=20
            )
            # Slack delivers Bram's message again (it saw no answer in time); Dirk asks.
            again = message_event(
                "Wat zei de wethouder toen?",
                user=BRAM,
                channel=conversation,
                ts=late_ts,
                channel_type="mpim",
            )
            retried = await post_signed(
                http,
                f"{base}/slack/events",
                event_body(again, event_id=late_id),
                content_type=JSON,
                retry_num=1,
            )
            dirk_ts = slack.add_message(conversation, "Hoe vaak vergadert die tafel?", user=DIRK)
            asked = await post_signed(
                http,
                f"{base}/slack/events",
                event_body(
                    message_event(
                        "Hoe vaak vergadert die tafel?",
                        user=DIRK,
                        channel=conversation,
                        ts=dirk_ts,
                        channel_type="mpim",
                    ),
                    event_id=fresh_event_id(),
                ),
                content_type=JSON,
            )
            assert (retried[0], asked[0]) == (200, 200)
            await wait_until_handled(http, f"{base}/healthz", 2)
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()

    after = slack.calls[before:]
    posted = [c for c in after if c.method == "chat.postMessage"]
    assert [c.args["channel"] for c in posted] == [conversation]
    assert "Fase 2 van 7: Informatieronde" in texts_of(posted[0])
    assert {c.method for c in after} <= {
        "auth.test",
        "users.info",
        "conversations.open",
        "chat.postMessage",
    }
    assert len(posts_saying(slack, conversation, "Nog één minuut")) == 1

    # A third life, in this process again: everything is there once, and the session goes on.
    clock.advance(timedelta(minutes=2))
    async with running(settings, slack, clock=clock) as third:
        assert await contributions(third.store) == [
            (1, "case", ANNA, CASE),
            (1, "case", ANNA, ANNA_TELLS_MORE),
            (1, "case", BRAM, "Wat zei de wethouder toen?"),
            (1, "clarify", DIRK, "Hoe vaak vergadert die tafel?"),
        ]
        async with third.store.transaction() as tx:
            [flow] = (await tx.session.exec(select(FlowInstance))).all()
            announced = [
                row
                for row in (await tx.session.exec(select(OutboxMessage))).all()
                if "Fase 2 van 7" in json.dumps(row.payload, ensure_ascii=False)
            ]
        assert (flow.state, flow.data["index"]) == (intervision.RUNNING, 1)
        assert flow.deadline is not None
        assert flow.deadline > clock()
        assert len(announced) == 1
        second = the_post(slack, conversation, "Fase 2 van 7")
        await press(third, CARLA, second, intervision.NEXT, channel_name=mpdm_name(*GROUP))
        the_post(slack, conversation, "Fase 3 van 7")


async def test_two_sessions_at_once_keep_their_messages_apart(hoedan: Running) -> None:
    await start(hoedan)
    await share_case(hoedan)
    await start(hoedan, owner=GERT, participants=(HANNA, IRIS))
    await share_case(hoedan, owner=GERT, case="Mijn casus gaat over de huisartsen.")
    first, second = group_of(*GROUP), group_of(CARLA, GERT, HANNA, IRIS)

    assert group_opens(hoedan.slack) == [set(GROUP), {CARLA, GERT, HANNA, IRIS}]
    assert first != second
    the_post(hoedan.slack, second, "Inbrenger: *Gert Geurts*")
    await say(hoedan, BRAM, "In sessie één.", channel=first)
    await say(hoedan, HANNA, "In sessie twee.", channel=second)
    await say(hoedan, CARLA, "Carla in sessie twee.", channel=second)
    await say(hoedan, CARLA, "Carla in sessie één.", channel=first)
    await say(hoedan, GERT, "Gert hoort niet in sessie één.", channel=first)

    said = [(session, who, text) for session, _, who, text in await contributions(hoedan.store)]
    assert said == [
        (1, ANNA, CASE),
        (2, GERT, "Mijn casus gaat over de huisartsen."),
        (1, BRAM, "In sessie één."),
        (2, HANNA, "In sessie twee."),
        (2, CARLA, "Carla in sessie twee."),
        (1, CARLA, "Carla in sessie één."),
    ]
    [refusal] = ephemerals_to(hoedan.slack, GERT)
    assert refusal.args["channel"] == first
    for text in ("In sessie twee.", "Carla in sessie twee.", "huisartsen"):
        assert not posts_saying(hoedan.slack, first, text)
    for text in ("In sessie één.", "Carla in sessie één.", CASE):
        assert not posts_saying(hoedan.slack, second, text)

    # Each session's buttons steer that session only.
    await press(
        hoedan,
        CARLA,
        the_post(hoedan.slack, second, "Fase 1 van 7"),
        intervision.NEXT,
        channel_name=mpdm_name(CARLA, GERT, HANNA, IRIS),
    )
    the_post(hoedan.slack, second, "Fase 2 van 7")
    assert not posts_saying(hoedan.slack, first, "Fase 2 van 7")


async def test_a_session_in_a_thread_under_the_opening_post(hoedan: Running) -> None:
    await start(hoedan, venue="thread")
    [opening] = posts_in(hoedan.slack, CHANNEL)
    assert opening.args.get("thread_ts") is None
    assert "Intervisie: Incidentmethode" in texts_of(opening)
    thread = posted_ts(hoedan.slack, CHANNEL, opening)
    [started] = ephemerals_to(hoedan.slack, CARLA)[-1:]
    assert "in een draadje hier" in texts_of(started)
    assert group_opens(hoedan.slack) == []

    await share_case(hoedan)
    _, case, first = posts_in(hoedan.slack, CHANNEL)
    assert (case.args["thread_ts"], first.args["thread_ts"]) == (thread, thread)
    assert f"> {CASE}" in texts_of(case)
    assert "Fase 1 van 7: Het incident" in texts_of(first)

    await say(hoedan, ANNA, "Een toelichting in het draadje.", channel=CHANNEL, thread_ts=thread)
    await say(hoedan, FRANK, "Ik lees mee.", channel=CHANNEL, thread_ts=thread)
    await say(hoedan, BRAM, "Gewoon in het kanaal, niet in de sessie.", channel=CHANNEL)
    [refusal] = ephemerals_to(hoedan.slack, FRANK)
    assert (refusal.args["channel"], refusal.args["thread_ts"]) == (CHANNEL, thread)
    assert "alleen voor de deelnemers" in texts_of(refusal)

    await press(hoedan, CARLA, first, intervision.NEXT)
    second = the_post(hoedan.slack, CHANNEL, "Fase 2 van 7")
    assert second.args["thread_ts"] == thread
    await say(hoedan, BRAM, "Wie was erbij?", channel=CHANNEL, thread_ts=thread)
    await press(hoedan, CARLA, second, intervision.STOP)
    summary = the_post(hoedan.slack, CHANNEL, "Intervisie gestopt: Incidentmethode")
    assert summary.args["thread_ts"] == thread

    assert [(phase, who, text) for _, phase, who, text in await contributions(hoedan.store)] == [
        ("case", ANNA, CASE),
        ("case", ANNA, "Een toelichting in het draadje."),
        ("clarify", BRAM, "Wie was erbij?"),
    ]
    # Everything of the session is in the thread: the channel itself saw only the opening.
    assert [c for c in posts_in(hoedan.slack, CHANNEL) if c.args.get("thread_ts") is None] == [
        opening
    ]
    await assert_confidential(
        hoedan,
        inside=lambda call: (call.args["channel"], call.args.get("thread_ts")) == (CHANNEL, thread),
        owner=ANNA,
    )


async def test_picked_people_slack_cannot_name_keep_their_id_and_the_session_starts(
    hoedan: Running,
) -> None:
    view = await open_start_dialog(hoedan)
    hoedan.slack.fail("users.info", "user_not_found", times=10)

    await submit(
        hoedan,
        CARLA,
        view,
        {
            **people_value("owner", ANNA),
            **people_value("participants", BRAM, DIRK),
            "venue": {
                "venue": {
                    "type": "static_select",
                    "selected_option": block(view, "venue")["element"]["initial_option"],
                }
            },
        },
    )

    opening = the_post(hoedan.slack, group_of(CARLA, ANNA, BRAM, DIRK), "Intervisie:")
    assert "Inbrenger: *UANNA*. Begeleider: Carla Coach. Deelnemers: UBRAM, UDIRK." in texts_of(
        opening
    )
    names = await members_by_slack_id(hoedan.store)
    assert (names[ANNA], names[BRAM]) == (ANNA, BRAM)


@pytest.mark.parametrize(
    ("place", "place_name"),
    [
        pytest.param(f"D{CARLA}", "directmessage", id="dm"),
        pytest.param(group_of(CARLA, FRANK), mpdm_name(CARLA, FRANK), id="group"),
    ],
)
async def test_a_thread_session_is_only_started_in_a_channel(
    hoedan: Running, place: str, place_name: str
) -> None:
    """From a DM the thread would be the coach's alone; in a group conversation its members
    (Frank) would read a case that is not theirs. The dialog does not offer it, and a dialog
    that still did (opened before an update) is refused."""
    view = await open_start_dialog(hoedan, channel=place, channel_name=place_name)
    offered = block(view, "venue")["element"]["options"]
    assert [option["value"] for option in offered] == ["group"]

    thread = {**offered[0], "value": "thread"}
    await submit(
        hoedan,
        CARLA,
        view,
        {
            **people_value("owner", ANNA),
            **people_value("participants", BRAM, DIRK),
            "venue": {"venue": {"type": "static_select", "selected_option": thread}},
        },
    )

    refusals = ephemerals_to(hoedan.slack, CARLA) + dms_to(hoedan.slack, CARLA)
    assert any("Een draadje kan alleen in een kanaal" in texts_of(c) for c in refusals)
    assert not posts_saying(hoedan.slack, place, "Intervisie: Incidentmethode")
    assert dms_to(hoedan.slack, ANNA) == []
    async with hoedan.store.transaction() as tx:
        assert (await tx.session.exec(select(FlowInstance))).all() == []
