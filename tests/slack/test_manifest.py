"""The app manifest asks for no more than Hoedan uses, and names what the adapter listens to."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import yaml

from bot.slack import inbound

LEAST_PRIVILEGE = {
    "app_mentions:read",
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",  # the digest's full report, as a file in the coordinator's DM
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "mpim:history",
    "mpim:read",
    "mpim:write",
    "users:read",
}


def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(files("bot.slack").joinpath("manifest.yaml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_bot_scopes_are_exactly_the_least_hoedan_needs() -> None:
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == LEAST_PRIVILEGE
    assert "user" not in manifest()["oauth_config"]["scopes"]


def test_slash_command_escapes_mentions_so_hoedan_gets_user_ids() -> None:
    [command] = manifest()["features"]["slash_commands"]
    assert command["command"] == "/hoedan"
    assert command["should_escape"] is True


def test_shortcuts_match_the_callback_ids_the_adapter_listens_for() -> None:
    shortcuts = {s["callback_id"]: s for s in manifest()["features"]["shortcuts"]}
    assert shortcuts[inbound.MESSAGE_SHORTCUT]["type"] == "message"
    assert shortcuts[inbound.MESSAGE_SHORTCUT]["name"] == "Bewaar als #hoedan"
    assert shortcuts[inbound.GLOBAL_SHORTCUT]["type"] == "global"
    assert shortcuts[inbound.GLOBAL_SHORTCUT]["name"] == "Stel een #hoedan-vraag"
    assert all(len(s["name"]) <= 24 for s in shortcuts.values())


def test_events_interactivity_home_and_socket_mode_are_on() -> None:
    settings = manifest()["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "member_joined_channel",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
    }
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert manifest()["features"]["app_home"]["home_tab_enabled"] is True
