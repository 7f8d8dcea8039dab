"""Delivering outbox messages to Slack, and deciding what a failure means.

Rate limits and server trouble are temporary: the dispatcher tries again (after Slack's own
``Retry-After`` for a 429). A channel that is gone, archived or closed to the bot is permanent:
the message is recorded as failed for the coordinators and everything else carries on.

Posted exactly once, as far as people can see: every post carries the outbox key in Slack's
message metadata. When an earlier attempt ended ambiguously (a time-out or a 5xx, after which the
message may or may not be in the channel, or a process that died while sending, see
``OutboxRepository.claim_due``), the channel is checked for that key before posting again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import DeliveryResult, Failed, RetryLater, Sent
from bot.reports import ReportMaker
from bot.slack.render import fallback_text, home_view, message_blocks
from flows.messages import Message, Note
from flows.reports import ReportRequest
from flows.text import ours
from flows.texts import Texts
from storage.enums import DeliveryKind
from storage.models import OutboxMessage
from storage.repositories.delivery import MAYBE_SENT

log = logging.getLogger(__name__)

METADATA_EVENT = "hoedan_outbox"
LOOKBACK = timedelta(minutes=2)
"""How far before the first attempt the duplicate check looks (clock skew with Slack)."""
HISTORY_PAGE = 200

TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "timeout",
    }
)
"""Slack errors worth trying again; every other named error is permanent."""

MAX_GROUP_USERS = 8
"""``conversations.open`` takes at most eight people besides the app; more can never work."""

NOT_A_MEMBER = frozenset({"channel_not_found", "not_in_channel"})
"""For a private reply these mean "the bot is not in that conversation": answer by DM instead."""


def is_user_ref(ref: str) -> bool:
    """Slack user ids (``U…``, ``W…`` on Enterprise Grid) stand for "this person's DM"."""
    return ref[:1] in {"U", "W"}


class SlackDeliverer:
    def __init__(self, client: AsyncWebClient, texts: Texts, reports: ReportMaker) -> None:
        self._client = client
        self._texts = texts
        self._reports = reports
        self._opened: dict[str, str] = {}
        """Conversations opened for a set of users (sorted, joined by ","): DMs and groups."""

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        try:
            if DeliveryKind(message.kind) is DeliveryKind.FILE:
                return await self._file(message)
            card = Message.model_validate(message.payload)
            return await self._deliver(message, card)
        except SlackApiError as exc:
            return classify(exc)
        except aiohttp.ClientConnectorError as exc:
            return RetryLater(error=f"{type(exc).__name__}: {exc}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            return RetryLater(error=f"{MAYBE_SENT}{type(exc).__name__} {exc}".rstrip())
        except ValueError as exc:
            log.error("outbox message %s cannot be delivered: %s", message.id, exc)
            return Failed(error=f"unusable: {exc}")

    async def _deliver(self, message: OutboxMessage, card: Message) -> DeliveryResult:
        kind = DeliveryKind(message.kind)
        if kind is DeliveryKind.HOME:
            view = home_view(card, truncated_note=self._texts.plain("slack.truncated"))
            await self._client.views_publish(user_id=_required(message.member_ref), view=view)
            return Sent()
        if kind is DeliveryKind.DIRECT:
            channel = await self._dm_channel(_required(message.member_ref))
            return await self._post(message, card, channel=channel, thread=None)
        if kind is DeliveryKind.GROUP:
            return await self._group(message, card)
        channel = _required(message.channel_ref)
        if kind is DeliveryKind.EPHEMERAL:
            return await self._ephemeral(message, card, channel)
        if is_user_ref(channel):
            channel = await self._dm_channel(channel)
        return await self._post(message, card, channel=channel, thread=message.thread_ref)

    async def _file(self, message: OutboxMessage) -> Sent:
        """A report uploaded into the member's DM (``files:write``).

        Unlike a message, an upload carries no metadata to look for after a time-out, so a
        retry after an ambiguous failure may show the file twice; a report is safe to repeat.
        """
        report = await self._reports.make(ReportRequest.model_validate(message.payload))
        channel = await self._dm_channel(_required(message.member_ref))
        response = await self._client.files_upload_v2(
            channel=channel,
            content=report.data.decode("utf-8"),
            filename=report.filename,
            title=report.title,
        )
        uploaded = response.get("file")
        file_id = uploaded.get("id", "") if isinstance(uploaded, dict) else ""
        return Sent(external_ref=f"{channel}:{file_id}")

    async def _group(self, message: OutboxMessage, card: Message) -> DeliveryResult:
        """Slack gives the same group conversation for the same people, so every message to
        them lands in one conversation; the row learns its channel id from the result."""
        users = _required(message.member_ref).split(",")
        if len(users) > MAX_GROUP_USERS:
            return Failed(
                error=f"a Slack group conversation has at most {MAX_GROUP_USERS} people"
                f" besides Hoedan; this one would have {len(users)}"
            )
        channel = await self._conversation_with(users)
        sent = await self._post(message, card, channel=channel, thread=None)
        return replace(sent, channel_ref=channel)

    async def _ephemeral(self, message: OutboxMessage, card: Message, channel: str) -> Sent:
        member = _required(message.member_ref)
        if is_user_ref(channel):
            dm = await self._dm_channel(member)
            return await self._post(message, card, channel=dm, thread=None)
        try:
            if channel.startswith("D"):
                # In a DM with Hoedan "only for you" is every message; Slack would hide an
                # ephemeral one there after a reload.
                return await self._post(message, card, channel=channel, thread=message.thread_ref)
            response = await self._client.chat_postEphemeral(
                channel=channel,
                user=member,
                thread_ts=message.thread_ref,
                text=fallback_text(card),
                blocks=self._blocks(card),
            )
        except SlackApiError as exc:
            if _error(exc) not in NOT_A_MEMBER:
                raise
            notice = Note(text=ours(self._texts.plain("slack.not_here")))
            redirected = card.model_copy(update={"parts": (notice, *card.parts)})
            dm = await self._dm_channel(member)
            return await self._post(message, redirected, channel=dm, thread=None)
        return Sent(external_ref=f"{channel}:{response.get('message_ts', '')}")

    async def _post(
        self, message: OutboxMessage, card: Message, *, channel: str, thread: str | None
    ) -> Sent:
        if (message.last_error or "").startswith(MAYBE_SENT):
            earlier = await self._already_posted(message, channel=channel, thread=thread)
            if earlier is not None:
                log.info("outbox message %s was already in Slack; not posting again", message.id)
                return Sent(external_ref=f"{channel}:{earlier}")
        response = await self._client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=fallback_text(card),
            blocks=self._blocks(card),
            unfurl_links=False,
            unfurl_media=False,
            link_names=False,
            metadata={
                "event_type": METADATA_EVENT,
                "event_payload": {"key": message.idempotency_key},
            },
        )
        return Sent(external_ref=f"{response.get('channel', channel)}:{response.get('ts', '')}")

    async def _already_posted(
        self, message: OutboxMessage, *, channel: str, thread: str | None
    ) -> str | None:
        """The ts of this outbox message if an earlier attempt did reach the channel.

        A look-up Slack refuses for good (say, the thread is gone) proves nothing either way;
        then the post itself decides.
        """
        oldest = f"{(message.created_at - LOOKBACK).timestamp():.6f}"
        try:
            if thread is not None:
                response = await self._client.conversations_replies(
                    channel=channel,
                    ts=thread,
                    oldest=oldest,
                    limit=HISTORY_PAGE,
                    include_all_metadata=True,
                )
            else:
                response = await self._client.conversations_history(
                    channel=channel, oldest=oldest, limit=HISTORY_PAGE, include_all_metadata=True
                )
        except SlackApiError as exc:
            if isinstance(classify(exc), RetryLater):
                raise
            log.warning("could not check %s for an earlier post: %s", channel, _error(exc))
            return None
        found = response.get("messages")
        for item in found if isinstance(found, list) else []:
            if _outbox_key(item) == message.idempotency_key:
                ts = item.get("ts")
                return str(ts) if ts is not None else ""
        return None

    async def _dm_channel(self, user_id: str) -> str:
        return await self._conversation_with([user_id])

    async def _conversation_with(self, users: list[str]) -> str:
        """The DM (one user) or group conversation (several) of these users with Hoedan.

        Slack's errors here are the post's errors: :func:`classify` decides for both.
        """
        key = ",".join(sorted(users))
        channel = self._opened.get(key)
        if channel is None:
            response = await self._client.conversations_open(users=",".join(users))
            opened = response.get("channel")
            channel = str(opened.get("id")) if isinstance(opened, dict) else key
            self._opened[key] = channel
        return channel

    def _blocks(self, card: Message) -> list[dict[str, Any]]:
        return message_blocks(card, truncated_note=self._texts.plain("slack.truncated"))


def classify(exc: SlackApiError) -> DeliveryResult:
    """What a Slack error means for the outbox: wait and retry, or give up for good."""
    status = exc.response.status_code
    error = _error(exc)
    if status == 429 or error in {"ratelimited", "rate_limited"}:
        return RetryLater(error=f"429 {error}", after=_retry_after(exc))
    if status >= 500 or error in TRANSIENT_ERRORS:
        return RetryLater(error=f"{MAYBE_SENT}{status} {error}")
    return Failed(error=error)


def _error(exc: SlackApiError) -> str:
    data = exc.response.data
    if isinstance(data, dict):
        return str(data.get("error") or f"http_{exc.response.status_code}")
    return f"http_{exc.response.status_code}"


def _retry_after(exc: SlackApiError) -> timedelta:
    headers = exc.response.headers or {}
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        seconds = float(raw) if raw is not None else 1.0
    except (TypeError, ValueError):
        seconds = 1.0
    return timedelta(seconds=min(max(seconds, 0.0), 3600.0))


def _outbox_key(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    metadata = item.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    key = payload.get("key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) else None


def _required(value: str | None) -> str:
    if not value:
        raise ValueError("outbox message lacks its address")
    return value
