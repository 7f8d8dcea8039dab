"""House rules in Teams, end to end over HTTP: adopted by consent in a channel, then sent to
whoever is added to the team.

Carla (an admin) proposes the starter set with ``@Hoedan spelregels instellen basis``; the
editor form comes to her 1:1 chat; the scheduler's real deadline job adopts the proposal when
the consent period is over. When Dirk is added to the team, Teams sends one
``conversationUpdate`` for the team (in its General channel); Hoedan sends him the rules of each
channel it knows in that team, once, with the button to endorse them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from flows import house_rules
from storage.models import HouseRuleAcknowledgement
from tests.teams.conftest import (
    ANNA,
    CHANNEL,
    TEAM,
    TENANT,
    Running,
    User,
    activity,
    channel_message,
    personal_message,
    running,
    teams_settings,
)
from tests.teams.fake_connector import FakeConnector
from tests.teams.test_teams_proactive import Clock

CARLA = User("29:1carla-teams-id", "Carla Coach", "aad-carla")
DIRK = User("29:1dirk-teams-id", "Dirk Dekker", "aad-dirk")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def hoedan(
    database_url: str, connector: FakeConnector, clock: Clock
) -> AsyncIterator[Running]:
    settings = teams_settings(database_url, admins=frozenset({CARLA.id}))
    async with running(settings, connector, clock=clock) as started:
        yield started


def _added_to_team(connector: FakeConnector, *people: User, sender: User = CARLA) -> dict[str, Any]:
    """What Teams sends when ``sender`` adds people to the team: one update, in General."""
    body = activity(
        connector,
        sender=sender,
        text="",
        conversation={"isGroup": True, "conversationType": "channel", "id": TEAM},
        channel_data={
            "eventType": "teamMemberAdded",
            "team": {"id": TEAM, "name": "Zorgnetwerk"},
            "tenant": {"id": TENANT},
        },
        membersAdded=[{"id": person.id, "aadObjectId": person.aad} for person in people],
    )
    body["type"] = "conversationUpdate"
    del body["text"]
    return body


def _opened(person: User) -> str:
    """The 1:1 chat the fake connector opens when Hoedan writes to someone first."""
    return f"a:personal-{person.id}"


async def _adopt_rules(hoedan: Running, clock: Clock) -> None:
    connector = hoedan.connector
    command = channel_message(connector, CARLA, "spelregels instellen basis", mention=True)
    await hoedan.send(command)
    await hoedan.settle()
    [form] = connector.to(_opened(CARLA))
    [submit] = form.actions
    assert submit["data"]["form"] == house_rules.EDITOR_FORM
    rules = "1. We beginnen op tijd.\n2. Besluiten nemen we met consent."
    sent = activity(
        connector,
        sender=CARLA,
        text="",
        conversation={"conversationType": "personal", "id": _opened(CARLA)},
        replyToId=form.id,
    )
    del sent["text"]
    sent["value"] = {**submit["data"], "input.rules": rules, "input.days": "1"}
    await hoedan.send(sent)
    await hoedan.settle()
    assert "Voorstel: nieuwe spelregels" in connector.to(CHANNEL)[-1].text

    clock.offset += timedelta(days=1, minutes=1)
    await hoedan.run_deadline_job()
    adopted = connector.to(CHANNEL)[-1]
    assert "Nieuwe spelregels vastgesteld (versie 1)" in adopted.text


async def test_who_is_added_to_the_team_gets_the_channels_rules_once(
    hoedan: Running, clock: Clock
) -> None:
    connector = hoedan.connector
    await _adopt_rules(hoedan, clock)
    before = len(connector.delivered)

    added = _added_to_team(connector, DIRK)
    for _ in range(2):  # Teams may send the same update again
        status, _ = await hoedan.send(added)
        assert status == 202
    await hoedan.settle()

    [welcome] = connector.to(_opened(DIRK))
    assert "Besluiten nemen we met consent." in welcome.text
    assert len(connector.delivered) == before + 1  # nothing in the channel
    [endorse] = welcome.actions
    assert endorse["data"]["verb"] == house_rules.ACKNOWLEDGE

    pressed = personal_message(connector, DIRK, "", replyToId=welcome.id)
    del pressed["text"]
    pressed["value"] = endorse["data"]
    await hoedan.send(pressed)
    await hoedan.settle()
    assert "je onderschrijft deze spelregels" in connector.to(DIRK.personal)[-1].text
    async with hoedan.store.transaction() as tx:
        assert len((await tx.session.exec(select(HouseRuleAcknowledgement))).all()) == 1


async def test_adding_hoedan_itself_or_someone_to_a_team_without_rules_sends_nothing(
    hoedan: Running,
) -> None:
    connector = hoedan.connector
    await hoedan.send(channel_message(connector, ANNA, "Goedemorgen"))  # a channel Hoedan knows
    await hoedan.settle()

    installed = _added_to_team(connector)
    installed["membersAdded"] = [{"id": installed["recipient"]["id"]}]
    for body in (installed, _added_to_team(connector, DIRK)):
        status, _ = await hoedan.send(body)
        assert status == 202
    await hoedan.settle()

    assert connector.delivered == []
