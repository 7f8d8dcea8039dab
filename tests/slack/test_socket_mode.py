"""Socket Mode: Hoedan dials out to Slack's websocket, so no public URL is needed."""

from __future__ import annotations

from tests.slack.conftest import running, slack_settings
from tests.slack.fake_slack import FakeSlack

APP_TOKEN = "xapp-1-A1-test"  # noqa: S105  (a test token for the fake Slack)


async def test_socket_mode_connects_acknowledges_and_answers(
    sqlite_url: str, slack: FakeSlack
) -> None:
    settings = slack_settings(
        sqlite_url, slack, slack_signing_secret=None, slack_app_token=APP_TOKEN
    )
    async with running(settings, slack) as hoedan:
        await slack.socket_connected.wait()
        [opened] = slack.calls_to("apps.connections.open")
        assert opened.token == APP_TOKEN

        event_envelope = await slack.socket_send(
            {
                "type": "event_callback",
                "team_id": "T0001",
                "api_app_id": "A0001",
                "event_id": "EvS01",
                "event_time": 1700000000,
                "event": {
                    "type": "message",
                    "user": "U0001",
                    "text": "Hoe vieren jullie successen? #hoedan",
                    "ts": "1700000020.000100",
                    "channel": "C0001",
                    "channel_type": "channel",
                },
            }
        )
        command_envelope = await slack.socket_send(
            {
                "command": "/hoedan",
                "text": "help",
                "user_id": "U0002",
                "user_name": "els",
                "channel_id": "C0001",
                "channel_name": "algemeen",
                "team_id": "T0001",
                "trigger_id": "trig-socket-1",
                "response_url": "https://hooks.slack.invalid/commands/1",
            },
            type="slash_commands",
            accepts_response_payload=True,
        )
        unknown_envelope = await slack.socket_send(
            {"type": "event_callback", "event_id": "EvS02", "event": {"type": "pin_added"}}
        )

        for envelope in (event_envelope, command_envelope, unknown_envelope):
            ack = await slack.wait_for_socket_ack(envelope)
            assert ack["envelope_id"] == envelope
        [thread_reply] = await slack.wait_for_calls("chat.postMessage")
        [private] = await slack.wait_for_calls("chat.postEphemeral")
        await hoedan.settle()

        assert thread_reply.args["thread_ts"] == "1700000020.000100"
        assert private.args["user"] == "U0002"
        [question] = await hoedan.questions()
        assert question.text == "Hoe vieren jullie successen?"
        async with hoedan.http.get(f"{hoedan.url}/slack/events") as response:
            assert response.status in (404, 405)
