"""Buttons and dialogs in Slack: every neutral card and form works as Block Kit."""

from __future__ import annotations

import json

from sqlmodel import select

from storage.models import Member, Region
from tests.slack.conftest import Running
from tests.slack.signing import block_actions_payload, view_submission_payload


async def member_region(hoedan: Running, user_id: str) -> str | None:
    async with hoedan.store.transaction() as tx:
        member = (await tx.session.exec(select(Member).where(Member.external_id == user_id))).one()
        if member.region_id is None:
            return None
        region = await tx.session.get(Region, member.region_id)
        return region.name if region else None


async def test_region_dialog_offers_existing_regions_and_sets_the_choice(hoedan: Running) -> None:
    await hoedan.command("regio Twente", user_id="U0100")
    await hoedan.slack.wait_for_calls("chat.postEphemeral")

    await hoedan.command("regio", user_id="U0101", channel_id="C0002")
    [opened] = await hoedan.slack.wait_for_calls("views.open")
    view = opened.json("view")
    select_block = next(b for b in view["blocks"] if b["block_id"] == "existing")
    [option] = select_block["element"]["options"]
    assert option["text"]["text"] == "Twente"
    assert select_block["element"]["type"] == "static_select"
    assert json.loads(view["private_metadata"])["c"] == "C0002"

    await hoedan.interaction(
        view_submission_payload(
            "region.form",
            user_id="U0101",
            private_metadata=view["private_metadata"],
            values={
                "existing": {
                    "existing": {"type": "static_select", "selected_option": option},
                },
                "new": {"new": {"type": "plain_text_input", "value": None}},
            },
        )
    )
    confirmations = await hoedan.slack.wait_for_calls("chat.postEphemeral", 2)
    await hoedan.settle()

    assert await member_region(hoedan, "U0101") == "Twente"
    assert confirmations[-1].args["channel"] == "C0002"
    assert "Twente" in json.dumps(confirmations[-1].args["blocks"])


async def test_did_you_mean_buttons_work_from_a_private_message(hoedan: Running) -> None:
    await hoedan.command("regio Zuid-Limburg", user_id="U0102")
    await hoedan.slack.wait_for_calls("chat.postEphemeral")

    await hoedan.command("regio Zuid Limburgg", user_id="U0103")
    calls = await hoedan.slack.wait_for_calls("chat.postEphemeral", 2)
    blocks = calls[-1].args["blocks"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0]["text"]["text"] == "Zuid-Limburg"

    await hoedan.interaction(
        block_actions_payload(
            buttons[0]["action_id"],
            value=buttons[0]["value"],
            user_id="U0103",
            channel_id="C0001",
            ephemeral=True,
        )
    )
    await hoedan.slack.wait_for_calls("chat.postEphemeral", 3)
    await hoedan.settle()

    assert await member_region(hoedan, "U0103") == "Zuid-Limburg"


async def test_a_stale_button_gets_a_clear_answer(hoedan: Running) -> None:
    await hoedan.interaction(
        block_actions_payload("something.removed#0", user_id="U0104", channel_id="C0001")
    )
    [answer] = await hoedan.slack.wait_for_calls("chat.postEphemeral")
    await hoedan.settle()

    assert "niet meer bestaat" in json.dumps(answer.args["blocks"])
