"""A reflection round over Slack HTTP: the coach's dialog, the answer dialog in a DM, the summary.

The story with every text is in ``tests/flows/test_reflection.py``; here it is the Slack side:
the answer button in the DM opens a modal with the scale as radio buttons, its submission is
stored (a crafted value outside 1–5 is refused), and closing posts the summary in the channel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from flows import reflection
from flows.reflection_room import START_FORM
from tests.slack.conftest import Running, running, slack_settings
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_exchange_http import texts_of
from tests.slack.test_intervision_http import (
    CARLA,
    CHANNEL,
    CHANNEL_NAME,
    PEOPLE,
    dms_to,
    handle,
    make_coach,
    people_value,
    posts_in,
    press,
    submit,
    text_value,
    views_opened,
)

ANNA, BRAM = "UANNA", "UBRAM"


def choice_value(name: str, value: str) -> dict[str, Any]:
    return {name: {name: {"type": "static_select", "selected_option": {"value": value}}}}


def radio_value(name: str, value: str) -> dict[str, Any]:
    return {name: {name: {"type": "radio_buttons", "selected_option": {"value": value}}}}


@pytest.fixture
async def hoedan(database_url: str, slack: FakeSlack) -> AsyncIterator[Running]:
    for user_id, real_name in PEOPLE.items():
        slack.add_user(user_id, handle(user_id), real_name=real_name, display_name="")
    async with running(slack_settings(database_url, slack), slack) as started:
        await make_coach(started, CARLA)
        yield started


async def test_the_answer_dialog_over_slack(hoedan: Running) -> None:
    slack = hoedan.slack
    status, body = await hoedan.command(
        "reflectie check-in",
        user_id=CARLA,
        user_name=handle(CARLA),
        channel_id=CHANNEL,
        channel_name=CHANNEL_NAME,
    )
    assert (status, body) == (200, "")
    await hoedan.settle()
    [start] = views_opened(slack)
    assert start["callback_id"] == START_FORM
    await submit(
        hoedan,
        CARLA,
        start,
        {
            **choice_value("template", "check-in"),
            **choice_value("privacy", "named"),
            **text_value("deadline", "2d"),
            **people_value("who", ANNA, BRAM),
        },
    )
    [announcement] = posts_in(slack, CHANNEL)
    assert "Reflectieronde: Check-in" in texts_of(announcement)
    [ask] = dms_to(slack, ANNA)
    assert "Geef je antwoord" in texts_of(ask)

    await press(hoedan, ANNA, ask, reflection.ANSWER_FORM_OPEN)
    [_, dialog] = views_opened(slack)
    assert dialog["callback_id"] == reflection.ANSWER_FORM
    [scale] = [b for b in dialog["blocks"] if b.get("block_id") == "q0"]
    assert scale["element"]["type"] == "radio_buttons"
    assert [o["value"] for o in scale["element"]["options"]] == ["1", "2", "3", "4", "5"]

    crafted = {**radio_value("q0", "9"), **text_value("q1", "Nog even zoeken.")}
    await submit(hoedan, ANNA, dialog, crafted)
    assert "1 tot en met 5" in "\n".join(texts_of(c) for c in dms_to(slack, ANNA))

    answered = {**radio_value("q0", "4"), **text_value("q1", "Zin in vandaag.")}
    await submit(hoedan, ANNA, dialog, answered)
    assert "opgeslagen" in "\n".join(texts_of(c) for c in dms_to(slack, ANNA))

    await press(hoedan, CARLA, announcement, reflection.CLOSE)
    summary = "\n".join(texts_of(c) for c in posts_in(slack, CHANNEL)[1:])
    assert "1 van de 2 mensen antwoordden" in summary
    assert "Zin in vandaag." in summary
    assert "Anna de Vries" in summary
