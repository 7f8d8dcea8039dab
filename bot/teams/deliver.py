"""Delivering outbox messages to Teams through the Bot Connector REST API.

The Agents SDK's connector client does not retry and hides the response's status and headers
behind an exception, so delivery talks to the Bot Connector directly and only classifies; the
outbox dispatcher does the retrying. A 429 waits as long as ``Retry-After`` says, a 5xx or a
time-out is tried again with backoff, and a 4xx (the bot was removed, the conversation is gone,
the message was refused) is a recorded failure that stops nothing else.

Delivery is at least once where the outcome is unknown: after a time-out or a 5xx the message may
already be in the chat, and unlike Slack the Bot Connector offers a bot no history to check, so
it is sent again. A 429 and a refused connection (nothing sent) never cause a duplicate.

Where a message goes:

* a post in a space goes to the space's conversation, in the thread of ``thread_ref`` if set
  (``POST …/v3/conversations/{channel};messageid={root}/activities/{root}``);
* a direct message, a member's overview, and a message meant for one person in a channel
  (Teams has nothing like Slack's ephemeral messages) go to the member's 1:1 chat with Hoedan,
  opened with ``POST …/v3/conversations`` when Hoedan never had one with them;
* a report file goes there too, as a card asking to put it in the member's OneDrive (the upload
  follows their answer, see ``bot.teams.files``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
from sqlmodel import select

from bot.outbox import DeliveryResult, Failed, RetryLater, Sent
from bot.reports import ReportMaker
from bot.teams.file_cards import consent_activity
from bot.teams.inbound import THREAD_MARK
from bot.teams.references import CONVERSATION, USER, Reference, References
from bot.teams.render import FormTexts, form_activity, message_activity
from flows.messages import Form, Message
from flows.reports import ReportRequest
from storage.enums import DeliveryKind, Platform, SpaceKind
from storage.models import OutboxMessage, Space
from storage.store import Store

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15)
MAX_RETRY_AFTER = 3600.0

TokenSource = Callable[[], Awaitable[str | None]]
"""The bearer token for the Bot Connector, or None when running anonymously."""


FORM_PAYLOAD = "teams_form"
"""An outbox payload with this key is a form card, not a neutral message.

The outbox holds neutral messages, and forms are no message: on Slack they open as a modal at
once and never wait in the outbox. Teams can only show a form as a card in the member's 1:1
chat, sent like any direct message, so the form waits under this key (with where it was opened)
in a ``DeliveryKind.DIRECT`` payload, and no storage enum has to learn about Teams."""


def form_payload(form: Form, origin: dict[str, Any]) -> dict[str, Any]:
    return {FORM_PAYLOAD: form.model_dump(mode="json"), "origin": origin}


ATTACHMENT_PAYLOAD = "teams_attachment"
"""An outbox payload with this key is a Teams attachment sent as it is (a file's info card),
for the same reason as a form: it is no neutral message, and waits in a direct message's row."""


def attachment_payload(attachment: dict[str, Any]) -> dict[str, Any]:
    return {ATTACHMENT_PAYLOAD: attachment}


async def queue_direct(store: Store, *, key: str, member_ref: str, payload: dict[str, Any]) -> None:
    """Queue something for a member's 1:1 chat, once per key (a retried activity adds none)."""
    async with store.transaction() as tx:
        await tx.outbox.enqueue(
            idempotency_key=key,
            platform=Platform.TEAMS,
            kind=DeliveryKind.DIRECT,
            payload=payload,
            member_ref=member_ref,
        )


class ConnectorError(Exception):
    """The Bot Connector answered with an error status."""

    def __init__(self, status: int, retry_after: str | None, body: str) -> None:
        super().__init__(f"{status} {body[:200]}".strip())
        self.status = status
        self.retry_after = retry_after


class TokenUnavailable(Exception):
    """No Bot Connector token could be had right now (Entra ID unreachable or refusing)."""


class TeamsDeliverer:
    def __init__(
        self,
        store: Store,
        references: References,
        token: TokenSource,
        *,
        allowed: Callable[[str], bool],
        truncated_note: str,
        form_texts: FormTexts,
    ) -> None:
        self._allowed = allowed
        """Whether a serviceUrl may be called (the SDK's outbound host validator)."""
        self._store = store
        self._references = references
        self._token = token
        self._truncated_note = truncated_note
        self._form_texts = form_texts
        self._reports = ReportMaker(store)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, message: OutboxMessage) -> DeliveryResult:
        try:
            kind = DeliveryKind(message.kind)
            if kind is DeliveryKind.GROUP:
                return Failed(error=f"Teams has no {kind.value} delivery yet")
            if kind is DeliveryKind.FILE:
                return await self._to_member(message, await self._consent(message.payload))
            activity = self._activity(message.payload)
            if kind is DeliveryKind.POST or (
                kind is DeliveryKind.EPHEMERAL and await self._is_personal(message.channel_ref)
            ):
                return await self._to_conversation(message, activity)
            return await self._to_member(message, activity)
        except ConnectorError as exc:
            return classify(exc)
        except TokenUnavailable as exc:
            return RetryLater(error=f"no Bot Connector token: {exc}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            return RetryLater(error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        except ValueError as exc:
            log.error("outbox message %s cannot be delivered to Teams: %s", message.id, exc)
            return Failed(error=str(exc))

    def _activity(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A form card (see ``form_payload``), a ready attachment (``attachment_payload``) or a
        neutral message as a card."""
        attachment = payload.get(ATTACHMENT_PAYLOAD)
        if isinstance(attachment, dict):
            return {"type": "message", "attachments": [attachment]}
        if FORM_PAYLOAD in payload:
            return form_activity(Form.model_validate(payload[FORM_PAYLOAD]), texts=self._form_texts)
        card = Message.model_validate(payload)
        return message_activity(card, truncated_note=self._truncated_note)

    async def _consent(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A report file becomes the question whether it may go into the member's OneDrive.

        The report is made now, only to say its size on the card: the file itself is made
        again when the member accepts (``bot.teams.files``), so nothing but the request is kept.
        """
        request = ReportRequest.model_validate(payload)
        return consent_activity(request, await self._reports.make(request))

    async def typing(self, *, service_url: str, conversation_id: str, bot_id: str) -> None:
        """Show "Hoedan is typing…" while an answer is being made; best effort only.

        Not queued and never retried: a typing indicator that arrives late is worse than none.
        """
        body = {"type": "typing", "from": {"id": bot_id}, "conversation": {"id": conversation_id}}
        path = f"v3/conversations/{_segment(conversation_id)}/activities"
        try:
            await self._request(service_url, path, body)
        except Exception as exc:
            log.debug("no typing indicator for a Teams chat: %s", type(exc).__name__)

    async def _is_personal(self, channel_ref: str | None) -> bool:
        """A space that is someone's 1:1 chat with Hoedan (where "privately" is "here")."""
        if channel_ref is None:
            return False
        statement = select(Space.kind).where(
            Space.platform == Platform.TEAMS, Space.external_id == channel_ref
        )
        async with self._store.transaction() as tx:
            kind = (await tx.session.exec(statement)).first()
        return kind == SpaceKind.DIRECT

    async def _to_conversation(self, message: OutboxMessage, activity: dict[str, Any]) -> Sent:
        conversation = _required(message.channel_ref)
        reference = await self._references.get(CONVERSATION, conversation)
        if reference is None:
            raise ValueError(f"Hoedan never saw Teams conversation {conversation}")
        thread = message.thread_ref
        target = conversation
        if thread:
            # Teams threads a reply by the conversation id naming the root post, as in the
            # activities it sends; replyToId alone is not enough in every client.
            if THREAD_MARK not in conversation:
                target = f"{conversation}{THREAD_MARK}{thread}"
            activity = {**activity, "replyToId": thread}
        posted = await self._send(reference, target, activity, reply_to=thread)
        return Sent(external_ref=f"{conversation}:{posted}")

    async def _to_member(self, message: OutboxMessage, activity: dict[str, Any]) -> Sent:
        member = _required(message.member_ref)
        user = await self._references.get(USER, member)
        if user is None:
            raise ValueError(f"Hoedan never saw Teams user {member}")
        conversation = user.conversation_id or await self._open_personal(user)
        posted = await self._send(user, conversation, activity, reply_to=None)
        # The 1:1 chat is kept on the row, so that an answer to a card there (a form) can be
        # traced to the card as it was sent, through the same index as a channel post.
        return Sent(external_ref=f"{conversation}:{posted}", channel_ref=conversation)

    async def _open_personal(self, user: Reference) -> str:
        """Open (or find: the Bot Connector returns the existing one) a user's 1:1 chat."""
        body: dict[str, Any] = {
            "bot": {"id": user.bot_id},
            "members": [{"id": user.ref}],
            "isGroup": False,
        }
        if user.tenant_id:
            body["tenantId"] = user.tenant_id
            body["channelData"] = {"tenant": {"id": user.tenant_id}}
        answer = await self._request(user.service_url, "v3/conversations", body)
        conversation = answer.get("id")
        if not isinstance(conversation, str) or not conversation:
            raise ValueError("the Bot Connector opened a conversation without an id")
        await self._references.set_personal(user, conversation)
        return conversation

    async def _send(
        self,
        reference: Reference,
        conversation: str,
        activity: dict[str, Any],
        *,
        reply_to: str | None,
    ) -> str:
        path = f"v3/conversations/{_segment(conversation)}/activities"
        if reply_to:
            path += f"/{_segment(reply_to)}"
        body = {
            **activity,
            "from": {"id": reference.bot_id},
            "conversation": {"id": conversation},
        }
        answer = await self._request(reference.service_url, path, body)
        posted = answer.get("id")
        return posted if isinstance(posted, str) else ""

    async def _request(self, service_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if not self._allowed(service_url):
            raise ValueError(f"{service_url} is not a Bot Connector host Hoedan may call")
        headers = {"Content-Type": "application/json"}
        try:
            token = await self._token()
        except Exception as exc:
            # Only the type: MSAL's messages may quote the request, never the secret, but the
            # outbox error column is shown to coordinators, so nothing more is kept there.
            raise TokenUnavailable(type(exc).__name__) from exc
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = service_url.rstrip("/") + "/" + path
        session = self._client()
        async with session.post(url, json=body, headers=headers) as response:
            text = await response.text()
            if response.status >= 400:
                raise ConnectorError(response.status, response.headers.get("Retry-After"), text)
            try:
                answer = await response.json(content_type=None) if text.strip() else {}
            except ValueError:
                answer = {}
        return answer if isinstance(answer, dict) else {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session


def classify(exc: ConnectorError) -> DeliveryResult:
    """What a Bot Connector error means for the outbox: wait and retry, or give up for good."""
    if exc.status == 429:
        return RetryLater(error=f"429 {exc}", after=_retry_after(exc.retry_after))
    if exc.status >= 500 or exc.status == 408:
        return RetryLater(error=str(exc))
    return Failed(error=str(exc))


def _retry_after(raw: str | None) -> timedelta:
    try:
        seconds = float(raw) if raw is not None else 1.0
    except ValueError:
        seconds = 1.0
    return timedelta(seconds=min(max(seconds, 0.0), MAX_RETRY_AFTER))


def _segment(value: str) -> str:
    """A conversation or activity id as one path segment (ids carry ``:``, ``@`` and ``;``)."""
    return quote(value, safe=":@;=,")


def _required(value: str | None) -> str:
    if not value:
        raise ValueError("outbox message lacks its address")
    return value
