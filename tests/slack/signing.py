"""Requests as Slack sends them to an HTTP-mode app: signed bodies and realistic payloads.

Hoedan verifies every request with the signing secret, so end-to-end tests must sign exactly
as Slack does (``v0=`` + HMAC-SHA256 of ``v0:<timestamp>:<raw body>``). The payload builders
follow Slack's documented shapes closely enough that Bolt routes them like the real thing;
each has keyword arguments with defaults so that a test states only what it cares about.
The ``*_payload`` dicts are also what Socket Mode envelopes carry (see ``FakeSlack.socket_send``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, TypedDict, Unpack
from urllib.parse import urlencode

import aiohttp

from tests.slack.fake_slack import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

JsonDict = dict[str, Any]

FORM = "application/x-www-form-urlencoded"

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105  (a test secret)
VERIFICATION_TOKEN = "Jhj5dZrVaK7ZwHHjRyZWjbDl"  # noqa: S105  (Slack's deprecated body token)
DEFAULT_USER_ID = "U0001"
DEFAULT_USER_NAME = "jan"
DEFAULT_CHANNEL_ID = "C0001"
DEFAULT_CHANNEL_NAME = "algemeen"

_trigger_numbers = itertools.count(1)
_last_micros = 0


def sign(
    body: str | bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` for ``body``.

    ``timestamp`` defaults to now; pass an old one to test the five-minute replay window.
    """
    stamp = int(time.time()) if timestamp is None else timestamp
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    digest = hmac.new(
        secret.encode("utf-8"), f"v0:{stamp}:{raw}".encode(), hashlib.sha256
    ).hexdigest()
    return {"X-Slack-Request-Timestamp": str(stamp), "X-Slack-Signature": f"v0={digest}"}


# ---------------------------------------------------------------------- identifiers


def fresh_ts() -> str:
    """A Slack-style ts from the wall clock, strictly increasing within the test run."""
    global _last_micros
    _last_micros = max(int(time.time() * 1_000_000), _last_micros + 1)
    return f"{_last_micros // 1_000_000}.{_last_micros % 1_000_000:06d}"


def fresh_event_id() -> str:
    """A unique Events API ``event_id`` (Slack's look: ``Ev`` plus letters and digits)."""
    return "Ev" + uuid.uuid4().hex[:10].upper()


def fresh_trigger_id() -> str:
    """A unique ``trigger_id`` shaped like Slack's (``<n>.<team number>.<hex>``)."""
    return f"{next(_trigger_numbers)}.{int(time.time())}.{uuid.uuid4().hex}"


def default_response_url(kind: str = "commands") -> str:
    """A hooks.slack.com-like URL; pass ``FakeSlack.response_url()`` to catch ``respond()``."""
    return (
        f"https://hooks.slack.com/{kind}/{TEAM_ID}/{uuid.uuid4().int % 10**13}/{uuid.uuid4().hex}"
    )


# ---------------------------------------------------------------------- Events API


def message_event(
    text: str,
    *,
    user: str = DEFAULT_USER_ID,
    channel: str = DEFAULT_CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    team: str = TEAM_ID,
) -> JsonDict:
    """A ``message`` event as a person's post arrives (``channel_type`` "im" for a DM)."""
    stamp = ts or fresh_ts()
    event: JsonDict = {
        "type": "message",
        "client_msg_id": str(uuid.uuid4()),
        "user": user,
        "text": text,
        "ts": stamp,
        "team": team,
        "channel": channel,
        "event_ts": stamp,
        "channel_type": channel_type,
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def app_mention_event(
    text: str,
    *,
    user: str = DEFAULT_USER_ID,
    channel: str = DEFAULT_CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    team: str = TEAM_ID,
) -> JsonDict:
    """An ``app_mention`` event; ``text`` should contain ``<@UHOEDAN>`` like Slack's does."""
    event = message_event(text, user=user, channel=channel, ts=ts, thread_ts=thread_ts, team=team)
    event["type"] = "app_mention"
    del event["channel_type"]
    return event


def event_payload(
    event: JsonDict,
    *,
    event_id: str,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    event_time: int | None = None,
) -> JsonDict:
    """The ``event_callback`` wrapper Slack puts around every event."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }


def event_body(
    event: JsonDict,
    *,
    event_id: str,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    event_time: int | None = None,
) -> str:
    """The JSON body of an Events API request (see :func:`event_payload`)."""
    return json.dumps(
        event_payload(
            event,
            event_id=event_id,
            team_id=team_id,
            api_app_id=api_app_id,
            event_time=event_time,
        )
    )


# ---------------------------------------------------------------------- slash commands


class CommandFields(TypedDict, total=False):
    """The optional pieces of a slash command, as accepted by :func:`command_payload`."""

    user_id: str
    user_name: str
    channel_id: str
    channel_name: str
    command: str
    trigger_id: str | None
    team_id: str
    response_url: str | None


def command_payload(
    text: str,
    *,
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    channel_id: str = DEFAULT_CHANNEL_ID,
    channel_name: str = DEFAULT_CHANNEL_NAME,
    command: str = "/hoedan",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    response_url: str | None = None,
) -> dict[str, str]:
    """A slash command's fields, all strings as in Slack's form post.

    ``trigger_id`` is fresh when not given (Slack's are single-use); ``response_url``
    defaults to a hooks.slack.com-like URL that nothing in the test can reach.
    """
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url or default_response_url("commands"),
        "trigger_id": trigger_id or fresh_trigger_id(),
    }


def command_body(text: str, **fields: Unpack[CommandFields]) -> str:
    """The form-encoded body of a slash command POST (see :func:`command_payload`)."""
    return urlencode(command_payload(text, **fields))


# ---------------------------------------------------------------------- interactivity


def interaction_body(payload: JsonDict) -> str:
    """The form-encoded body of an interaction POST: a single ``payload`` field of JSON."""
    return urlencode({"payload": json.dumps(payload)})


def _interaction(
    kind: str, *, user_id: str, user_name: str, team_id: str, trigger_id: str | None
) -> JsonDict:
    """The fields every interaction payload has."""
    return {
        "type": kind,
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or fresh_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def block_actions_payload(
    action_id: str,
    *,
    value: str = "",
    block_id: str = "actions",
    button_text: str = "OK",
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    channel_id: str = DEFAULT_CHANNEL_ID,
    channel_name: str = DEFAULT_CHANNEL_NAME,
    message_ts: str | None = None,
    message_text: str = "",
    message_blocks: list[JsonDict] | None = None,
    thread_ts: str | None = None,
    ephemeral: bool = False,
    view: JsonDict | None = None,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    response_url: str | None = None,
) -> JsonDict:
    """A button click (``block_actions``).

    By default the button sits in a bot message in ``channel_id`` (``message_ts``,
    ``message_text``, ``message_blocks``, ``thread_ts`` describe that message; ``ephemeral``
    makes it an ephemeral one, which Slack does not echo back). Pass ``view`` (a view as
    ``views.open``/``views.publish`` returned it) for a button in a modal or the Home tab:
    then the container is the view and there is no channel, message or response URL.
    """
    payload = _interaction(
        "block_actions",
        user_id=user_id,
        user_name=user_name,
        team_id=team_id,
        trigger_id=trigger_id,
    )
    payload["actions"] = [
        {
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "type": "button",
            "text": {"type": "plain_text", "text": button_text, "emoji": True},
            "action_ts": fresh_ts(),
        }
    ]
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "")}
        payload["view"] = view
        return payload
    ts = message_ts or fresh_ts()
    container: JsonDict = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel_id,
        "is_ephemeral": ephemeral,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    payload["container"] = container
    payload["channel"] = {"id": channel_id, "name": channel_name}
    if not ephemeral:
        message: JsonDict = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "ts": ts,
            "text": message_text,
            "team": team_id,
            "blocks": message_blocks or [],
        }
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        payload["message"] = message
    payload["state"] = {"values": {}}
    payload["response_url"] = response_url or default_response_url("actions")
    return payload


def view_submission_payload(
    callback_id: str,
    *,
    values: JsonDict | None = None,
    private_metadata: str = "",
    view_id: str | None = None,
    view_hash: str | None = None,
    blocks: list[JsonDict] | None = None,
    title: str = "Hoedan",
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """A modal's submit (``view_submission``).

    ``values`` is ``view.state.values`` as Slack sends it:
    ``{block_id: {action_id: {"type": "plain_text_input", "value": "…"}}}``.
    """
    modal_id = view_id or f"V{uuid.uuid4().hex[:10].upper()}"
    payload = _interaction(
        "view_submission",
        user_id=user_id,
        user_name=user_name,
        team_id=team_id,
        trigger_id=trigger_id,
    )
    payload["view"] = {
        "id": modal_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": blocks or [],
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": values or {}},
        "hash": view_hash or f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": None,
        "submit": {"type": "plain_text", "text": "Verstuur", "emoji": True},
        "previous_view_id": None,
        "root_view_id": modal_id,
        "app_id": APP_ID,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }
    payload["response_urls"] = []
    return payload


def message_shortcut_payload(
    callback_id: str,
    *,
    message_text: str = "",
    message_user: str = "U0002",
    message_ts: str | None = None,
    thread_ts: str | None = None,
    channel_id: str = DEFAULT_CHANNEL_ID,
    channel_name: str = DEFAULT_CHANNEL_NAME,
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    response_url: str | None = None,
) -> JsonDict:
    """A message shortcut (``message_action``) on a message ``message_user`` wrote."""
    ts = message_ts or fresh_ts()
    payload = _interaction(
        "message_action",
        user_id=user_id,
        user_name=user_name,
        team_id=team_id,
        trigger_id=trigger_id,
    )
    message: JsonDict = {"type": "message", "user": message_user, "ts": ts, "text": message_text}
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    payload.update(
        callback_id=callback_id,
        action_ts=fresh_ts(),
        message_ts=ts,
        message=message,
        channel={"id": channel_id, "name": channel_name},
        response_url=response_url or default_response_url("app"),
    )
    return payload


def global_shortcut_payload(
    callback_id: str,
    *,
    user_id: str = DEFAULT_USER_ID,
    user_name: str = DEFAULT_USER_NAME,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> JsonDict:
    """A global shortcut (``shortcut``) from the shortcuts menu; it has no channel."""
    payload = _interaction(
        "shortcut",
        user_id=user_id,
        user_name=user_name,
        team_id=team_id,
        trigger_id=trigger_id,
    )
    payload.update(callback_id=callback_id, action_ts=fresh_ts())
    return payload


# ---------------------------------------------------------------------- sending


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: str,
    *,
    content_type: str,
    retry_num: int | None = None,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
) -> tuple[int, str]:
    """POST ``body`` signed like Slack; returns the status and the response text.

    ``retry_num`` adds the headers of Slack's redelivery after an unanswered request
    (``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason: http_timeout``).
    """
    headers = {"Content-Type": content_type, **sign(body, secret=secret, timestamp=timestamp)}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    async with session.post(url, data=body.encode("utf-8"), headers=headers) as response:
        return response.status, await response.text()


async def post_event(
    session: aiohttp.ClientSession,
    url: str,
    event: JsonDict,
    *,
    event_id: str | None = None,
    retry_num: int | None = None,
    team_id: str = TEAM_ID,
    event_time: int | None = None,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
) -> tuple[int, str]:
    """POST an event as Slack does; a fresh ``event_id`` unless given (give it for retries)."""
    body = event_body(
        event, event_id=event_id or fresh_event_id(), team_id=team_id, event_time=event_time
    )
    return await post_signed(
        session,
        url,
        body,
        content_type="application/json",
        retry_num=retry_num,
        timestamp=timestamp,
        secret=secret,
    )


async def post_command(
    session: aiohttp.ClientSession,
    url: str,
    text: str,
    *,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
    **fields: Unpack[CommandFields],
) -> tuple[int, str]:
    """POST a slash command as Slack does; ``fields`` as for :func:`command_payload`."""
    body = command_body(text, **fields)
    return await post_signed(
        session, url, body, content_type=FORM, timestamp=timestamp, secret=secret
    )


async def post_interaction(
    session: aiohttp.ClientSession,
    url: str,
    payload: JsonDict,
    *,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
) -> tuple[int, str]:
    """POST an interaction payload (block action, submission, shortcut) as Slack does."""
    body = interaction_body(payload)
    return await post_signed(
        session, url, body, content_type=FORM, timestamp=timestamp, secret=secret
    )
