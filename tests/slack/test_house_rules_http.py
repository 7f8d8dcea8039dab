"""House rules over Slack HTTP: signed requests in, the fake Web API out, a real database.

Carla (a coach) proposes the starter set "basis" through the editor dialog; the scheduler's
real deadline job adopts it when the consent period is over; Anna presses "Ik onderschrijf
deze spelregels" (twice); Bram joins the channel and gets the rules in a DM. The story with
every text is in ``tests/flows/test_house_rules.py``; here it is the Slack side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

from flows import house_rules
from storage.models import HouseRuleAcknowledgement, Member
from tests.slack.conftest import Clock, Running, running, slack_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import fresh_event_id
from tests.slack.test_exchange_http import texts_of
from tests.slack.test_intervision_http import (
    ANNA,
    BRAM,
    CARLA,
    CHANNEL,
    CHANNEL_NAME,
    PEOPLE,
    dms_to,
    ephemerals_to,
    handle,
    make_coach,
    posts_in,
    press,
    submit,
    text_value,
    views_opened,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def people(slack: FakeSlack) -> FakeSlack:
    for user_id, real_name in PEOPLE.items():
        slack.add_user(user_id, handle(user_id), real_name=real_name, display_name="")
    return slack


@pytest.fixture
async def hoedan(database_url: str, people: FakeSlack, clock: Clock) -> AsyncIterator[Running]:
    async with running(slack_settings(database_url, people), people, clock=clock) as started:
        await make_coach(started, CARLA)
        yield started


async def test_adopted_rules_are_endorsed_with_the_button_and_sent_to_who_joins(
    hoedan: Running, clock: Clock
) -> None:
    status, body = await hoedan.command(
        "spelregels instellen basis",
        user_id=CARLA,
        user_name=handle(CARLA),
        channel_id=CHANNEL,
        channel_name=CHANNEL_NAME,
    )
    assert (status, body) == (200, "")
    await hoedan.settle()
    [view] = views_opened(hoedan.slack)
    assert view["callback_id"] == house_rules.EDITOR_FORM
    rules = "1. We beginnen op tijd.\n2. Besluiten nemen we met consent."
    await submit(hoedan, CARLA, view, {**text_value("rules", rules), **text_value("days", "1")})
    [proposal] = posts_in(hoedan.slack, CHANNEL)[-1:]
    assert "Voorstel: nieuwe spelregels" in texts_of(proposal)

    clock.advance(timedelta(days=1, minutes=1))
    await hoedan.run_deadline_job()
    [adopted] = posts_in(hoedan.slack, CHANNEL)[-1:]
    assert "Nieuwe spelregels vastgesteld (versie 1)" in texts_of(adopted)
    assert "Besluiten nemen we met consent." in texts_of(adopted)

    await press(hoedan, ANNA, adopted, house_rules.ACKNOWLEDGE)
    await press(hoedan, ANNA, adopted, house_rules.ACKNOWLEDGE)
    first, second = ephemerals_to(hoedan.slack, ANNA)
    assert "je onderschrijft deze spelregels" in texts_of(first)
    assert "al onderschreven" in texts_of(second)
    async with hoedan.store.transaction() as tx:
        endorsed = (
            await tx.session.exec(
                select(Member.external_id).join(
                    HouseRuleAcknowledgement,
                    col(HouseRuleAcknowledgement.member_id) == Member.id,
                )
            )
        ).all()
    assert list(endorsed) == [ANNA]

    status, _ = await hoedan.event(
        {
            "type": "member_joined_channel",
            "user": BRAM,
            "channel": CHANNEL,
            "channel_type": "C",
            "team": "T0HOEDAN",
        },
        event_id=fresh_event_id(),
    )
    assert status == 200
    await hoedan.settle()
    [welcome] = dms_to(hoedan.slack, BRAM)
    assert "Zo werken we hier samen" in texts_of(welcome)
    await press(hoedan, BRAM, welcome, house_rules.ACKNOWLEDGE)
    [thanks] = dms_to(hoedan.slack, BRAM)[1:]  # in a DM, a private reply is just a message
    assert "je onderschrijft deze spelregels" in texts_of(thanks)
