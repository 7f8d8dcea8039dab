"""The Teams app package: what an admin uploads so Hoedan appears in Teams.

A Teams app is a zip with ``manifest.json`` and two icons. The manifest names the bot (its
Azure app id), where it may live (a team, a group chat, a personal chat) and the commands Teams
suggests when someone types ``@Hoedan``. Teams shows at most ten commands per list, so the list
holds the ten most used; ``help`` shows them all. The bot supports files: a digest's report
comes as a file-consent card in the 1:1 chat, which Teams only offers for a bot that says so.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib.metadata import version
from importlib.resources import files
from typing import Any

from flows.grammar import CommandName
from flows.texts import Texts, texts_for

MANIFEST_VERSION = "1.17"
SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/"
    f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
SCOPES = ["personal", "team", "groupChat"]
ACCENT = "#0C6B66"
SUGGESTED: tuple[CommandName, ...] = (
    CommandName.HELP,
    CommandName.ASK,
    CommandName.LIST,
    CommandName.SEARCH,
    CommandName.ANSWER,
    CommandName.SHOW,
    CommandName.REGION,
    CommandName.INTERVISION,
    CommandName.LEARNING_PROMPT,
    CommandName.DIGEST,
)
"""The ten commands Teams suggests, most used first."""
READ_ALL_MESSAGES = [
    {"name": "ChannelMessage.Read.Group", "type": "Application"},
    {"name": "ChatMessage.Read.Chat", "type": "Application"},
]
"""Resource-specific consent to receive every message in the teams and group chats Hoedan is
added to, not only those that @mention it: a #hoedan question is an ordinary channel message,
and so is what participants say in an intervision thread. The team's owner consents when
adding the app; nothing outside those conversations becomes readable."""
RSC_RESOURCE = "https://RscBasedStoreApp"
"""The placeholder resource Microsoft's samples use: the bot's app id is what RSC checks."""
MAX_TITLE = 32
MAX_DESCRIPTION = 128
MAX_SHORT_DESCRIPTION = 80
APP_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
"""An Azure app (client) id: a GUID."""


class PackageError(ValueError):
    """The package cannot be made as asked; the message says why, in the user's language."""


def manifest(*, app_id: str, website: str, language: str = "nl") -> dict[str, Any]:
    """The manifest for the bot with this Azure app id; ``website`` (https) is where people
    read about this installation, with ``/privacy`` and ``/voorwaarden`` below it."""
    texts = texts_for(language)
    if not APP_ID.fullmatch(app_id):
        raise PackageError(texts.plain("teams_app.bad_app_id", app_id=app_id))
    if not re.fullmatch(r"https://[^\s/$.?#][^\s]*", website):
        raise PackageError(texts.plain("teams_app.bad_website", website=website))
    base = website.rstrip("/")
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": _semver(version("hoedan")),
        "id": app_id,
        "developer": {
            "name": texts.plain("teams_app.developer"),
            "websiteUrl": base,
            "privacyUrl": f"{base}/privacy",
            "termsOfUseUrl": f"{base}/voorwaarden",
        },
        "name": {"short": "Hoedan", "full": texts.plain("teams_app.full_name")},
        "description": {
            "short": texts.plain("teams_app.short_description")[:MAX_SHORT_DESCRIPTION],
            "full": texts.plain("teams_app.full_description"),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app_id,
                "scopes": SCOPES,
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": SCOPES, "commands": _commands(texts)}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "webApplicationInfo": {"id": app_id, "resource": RSC_RESOURCE},
        "authorization": {"permissions": {"resourceSpecific": READ_ALL_MESSAGES}},
        "validDomains": [],
        "localizationInfo": {"defaultLanguageTag": "nl-nl" if language == "nl" else "en-us"},
    }


def build(*, app_id: str, website: str, language: str = "nl") -> bytes:
    """The zip Teams takes: the manifest and the two icons at its top level."""
    content = json.dumps(manifest(app_id=app_id, website=website, language=language), indent=2)
    icons = files("bot.teams").joinpath("icons")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", content)
        for name in ("color.png", "outline.png"):
            package.writestr(name, icons.joinpath(name).read_bytes())
    return buffer.getvalue()


def _commands(texts: Texts) -> list[dict[str, str]]:
    return [
        {
            "title": name.value[:MAX_TITLE],
            "description": _shorten(texts.plain(f"teams_app.commands.{name.value}")),
        }
        for name in SUGGESTED
    ]


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1].rstrip() + "…"


def _semver(installed: str) -> str:
    """Teams wants ``major.minor.patch``; a development version keeps only those numbers."""
    numbers = re.findall(r"\d+", installed)[:3]
    return ".".join([*numbers, "0", "0", "0"][:3])
