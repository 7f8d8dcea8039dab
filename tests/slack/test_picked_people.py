"""People picked in a dialog: which ids a submission carries, and the names Slack gives them."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.inbound import picked_users
from bot.slack.profiles import Profiles
from tests.slack.fake_slack import FakeSlack
from tests.slack.signing import view_submission_payload


def submission(values: Any) -> dict[str, Any]:
    payload = view_submission_payload("intervision.start")
    payload["view"]["state"]["values"] = values
    return payload


def test_only_people_pickers_count_each_person_once_in_order() -> None:
    body = submission(
        {
            "owner": {"owner": {"type": "multi_users_select", "selected_users": ["UANNA"]}},
            "participants": {
                "participants": {
                    "type": "multi_users_select",
                    "selected_users": ["UBRAM", "UANNA", "", 7, None, "UDIRK"],
                }
            },
            "minutes": {"minutes": {"type": "plain_text_input", "value": "UEVA"}},
            "venue": {"venue": {"type": "static_select", "selected_option": {"value": "UEVA"}}},
        }
    )

    assert picked_users(body) == ["UANNA", "UBRAM", "UDIRK"]


def test_odd_payloads_pick_nobody() -> None:
    odd: tuple[Any, ...] = (
        None,
        [],
        {"owner": None},
        {"owner": {"owner": "UANNA"}},
        {"owner": {"owner": {"type": "multi_users_select", "selected_users": "UANNA"}}},
        {"owner": {"owner": {"type": "multi_users_select"}}},
    )
    for values in odd:
        assert picked_users(submission(values)) == [], values
    assert picked_users({}) == []
    assert picked_users({"view": "nothing"}) == []


async def test_names_come_from_profiles_and_a_failed_look_up_keeps_the_id(
    slack: FakeSlack,
) -> None:
    slack.add_user("UANNA", "anna", real_name="Anna de Vries", display_name="")
    slack.add_user("UBRAM", "bram", real_name="Bram Bakker", display_name="Bram")
    profiles = Profiles(AsyncWebClient(token="xoxb-test-token", base_url=slack.api_url))  # noqa: S106
    await profiles.actor("UANNA")
    slack.fail("users.info", "user_not_found", times=2)

    names = await profiles.names(["UANNA", "UCARLA", "UBRAM"])

    assert names == {"UANNA": "Anna de Vries", "UCARLA": "UCARLA", "UBRAM": "UBRAM"}
    # Anna came from the cache; a failed look-up is not cached, so Slack is asked again later.
    assert [c.args["user"] for c in slack.calls_to("users.info")].count("UANNA") == 1
    assert await profiles.names(["UBRAM"]) == {"UBRAM": "Bram"}
