"""The Teams app package: a zip Teams accepts, with the bot, its scopes, commands and icons."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.teams.package import MAX_DESCRIPTION, MAX_TITLE, PackageError, build, manifest
from flows.commands import COMMANDS
from tests.conftest import RunHoedan

APP_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
WEBSITE = "https://lerendnetwerk.example.nl/hoedan"


def unpacked() -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(build(app_id=APP_ID, website=WEBSITE))) as package:
        names = package.namelist()
        content = {name: package.read(name) for name in names}
    return json.loads(content["manifest.json"]), content


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_package_holds_the_manifest_and_both_icons_at_its_top_level() -> None:
    found, content = unpacked()

    assert sorted(content) == ["color.png", "manifest.json", "outline.png"]
    assert png_size(content["color.png"]) == (192, 192)
    assert png_size(content["outline.png"]) == (32, 32)
    assert found["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_the_manifest_names_the_bot_where_it_may_live_and_what_to_suggest() -> None:
    found, _ = unpacked()

    assert found["manifestVersion"] == "1.17"
    assert found["id"] == APP_ID
    [bot] = found["bots"]
    assert bot["botId"] == APP_ID
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert bot["supportsFiles"] is True  # else Teams shows no file-consent card for a report
    [commands] = bot["commandLists"]
    titles = [command["title"] for command in commands["commands"]]
    assert titles[0] == "help"
    assert len(titles) == 10  # the most Teams shows in one list
    assert {"vraag", "zodan", "intervisie", "digest"} <= set(titles)
    assert set(titles) <= {name.value for name in COMMANDS}  # only commands that work
    assert all(len(title) <= MAX_TITLE for title in titles)
    assert all(0 < len(c["description"]) <= MAX_DESCRIPTION for c in commands["commands"])
    assert len(found["description"]["short"]) <= 80
    assert found["developer"]["privacyUrl"] == f"{WEBSITE}/privacy"
    assert found["version"].count(".") == 2
    assert found["localizationInfo"]["defaultLanguageTag"] == "nl-nl"


def test_the_manifest_asks_to_read_every_message_where_hoedan_is_added() -> None:
    """Without resource-specific consent Teams sends a bot only the channel messages that
    @mention it, and a #hoedan question in a channel would never arrive."""
    found, _ = unpacked()

    assert found["webApplicationInfo"]["id"] == APP_ID
    granted = found["authorization"]["permissions"]["resourceSpecific"]
    assert {(p["name"], p["type"]) for p in granted} == {
        ("ChannelMessage.Read.Group", "Application"),
        ("ChatMessage.Read.Chat", "Application"),
    }


def test_english_packages_describe_hoedan_in_english() -> None:
    found = manifest(app_id=APP_ID, website=WEBSITE, language="en")

    assert found["description"]["short"].startswith("Ask #hoedan questions")
    assert found["localizationInfo"]["defaultLanguageTag"] == "en-us"


@pytest.mark.parametrize(
    ("app_id", "website", "expected"),
    [
        ("hoedan-bot", WEBSITE, "hoedan-bot is geen app-id van Azure"),
        (APP_ID, "http://lerendnetwerk.example.nl", "dat met https:// begint"),
        (APP_ID, "", "dat met https:// begint"),
    ],
)
def test_a_wrong_app_id_or_website_is_named_in_dutch(
    app_id: str, website: str, expected: str
) -> None:
    with pytest.raises(PackageError, match=expected):
        build(app_id=app_id, website=website)


def test_hoedan_teams_package_writes_the_zip(run_hoedan: RunHoedan, tmp_path: Path) -> None:
    run = run_hoedan([], "teams-package", "--app-id", APP_ID, "--website", WEBSITE)

    assert run.returncode == 0, run.stderr
    assert "Het Teams-pakket staat in hoedan-teams.zip" in run.stdout
    with zipfile.ZipFile(tmp_path / "hoedan-teams.zip") as package:
        assert json.loads(package.read("manifest.json"))["id"] == APP_ID


def test_hoedan_teams_package_takes_the_app_id_from_the_sdk_setting(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    prefix = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"  # as in the .env Hoedan runs with
    env = {f"{prefix}CLIENTID": APP_ID, f"{prefix}CLIENTSECRET": "geheim", f"{prefix}TENANTID": "t"}
    run = run_hoedan([], "teams-package", "--website", WEBSITE, "--out", "app.zip", env=env)

    assert run.returncode == 0, run.stderr
    assert (tmp_path / "app.zip").exists()


def test_hoedan_teams_package_refuses_a_wrong_app_id_and_writes_nothing(
    run_hoedan: RunHoedan, tmp_path: Path
) -> None:
    run = run_hoedan([], "teams-package", "--app-id", "mijn-bot", "--website", WEBSITE)

    assert run.returncode == 2
    assert "mijn-bot is geen app-id van Azure" in run.stderr
    assert not (tmp_path / "hoedan-teams.zip").exists()
