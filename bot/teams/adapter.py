"""Hoedan in Microsoft Teams: the Agents SDK receives, Hoedan acknowledges at once and works after.

``POST /api/messages`` is checked by the SDK's token validator (or let through anonymously when
``…ANONYMOUS_ALLOWED=true``, for local development), checked for the fields Hoedan cannot do
without (the SDK would answer a malformed body with a 500), parsed into an SDK ``Activity`` and
run as a turn through the SDK's ``CloudAdapter``. The turn itself only hands the activity to
:class:`bot.after_ack.AfterAck` and returns, so Teams has its 202 (or, for a card's
Action.Execute, its invoke response) within its time-out however busy the database is; the work
starts when acknowledging leaves room for it. The work remembers where the
conversation lives (for proactive messages), turns the activity into a neutral event, lets the
runtime handle it (which also drops a repeated activity id) and wakes the outbox. A member's
answer to a report's file-consent card is the exception: it is no event for the runtime, and
``bot.teams.files`` uploads the report (or says why not) in that work instead.

Replies never go through the turn: they wait in the outbox and the :class:`TeamsDeliverer`
posts them, retrying where the SDK's connector client would not.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web
from jwt import PyJWTError
from microsoft_agents.activity import Activity, ActivityTypes, InvokeResponse
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import OutboundHostValidator, TurnContext
from microsoft_agents.hosting.core.authorization import (
    AuthenticationConstants,
    ClaimsIdentity,
    JwtTokenValidator,
)
from pydantic import ValidationError

from bot.after_ack import AfterAck, Receiving
from bot.logs import register_secrets
from bot.settings import Settings
from bot.teams import inbound
from bot.teams.deliver import FORM_PAYLOAD, TeamsDeliverer, form_payload, queue_direct
from bot.teams.file_cards import FILE_CONSENT, is_consent
from bot.teams.files import FileConsents
from bot.teams.references import References, references_in
from bot.teams.render import FormTexts, submit_data
from bot.teams.upload import Uploader
from flows.events import ActionEvent, CommandEvent, FormSubmitted, InboundEvent
from flows.messages import Form, Message, Paragraph
from flows.runtime import Runtime
from flows.text import ours
from flows.texts import texts_for
from storage.enums import Platform, SpaceKind
from storage.types import utcnow

log = logging.getLogger(__name__)

CARD_RESPONSE_TYPE = "application/vnd.microsoft.activity.message"
NEEDS_SENDER = frozenset({"message", "invoke", "messageUpdate", "messageDelete"})
"""Activity types that are someone doing something: without an id and a sender they are
malformed, since neither deduplication nor an answer would be possible."""


class TeamsAdapter:
    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        *,
        on_queued: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
        receiving: Receiving | None = None,
    ) -> None:
        if not settings.teams_enabled:
            raise ValueError("the Teams adapter needs the SDK's service connection settings")
        if settings.teams_client_secret is not None:
            register_secrets(settings.teams_client_secret.get_secret_value())
        self._settings = settings
        self._runtime = runtime
        self._on_queued = on_queued
        self._clock = clock
        self.texts = texts_for(settings.language)
        self.connections = MsalConnectionManager(**settings.teams_sdk_config())
        self._auth = self.connections.get_default_connection_configuration()
        self.hosts = OutboundHostValidator(enabled=settings.teams_client_id is not None)
        """With an app registration, activities (and so every stored serviceUrl) must name one of
        Microsoft's own hosts: its token is never sent anywhere else, also when anonymous
        requests are allowed beside it. Local development without a registration talks to a
        Playground or fake connector on localhost and has no token to lose, so there it is off."""
        self.cloud = CloudAdapter(connection_manager=self.connections, host_validator=self.hosts)
        self.cloud.on_turn_error = self._on_turn_error
        self.references = References(runtime.store)
        self.deliverer = TeamsDeliverer(
            runtime.store,
            self.references,
            self._token,
            allowed=self.hosts.is_allowed,
            truncated_note=self.texts.plain("teams.truncated"),
            form_texts=FormTexts(
                required=self.texts.plain("teams.form_required"),
                members_placeholder=self.texts.plain("teams.form_members"),
                truncated=self.texts.plain("teams.truncated"),
            ),
        )
        self.uploader = Uploader(anonymous=settings.teams_anonymous_allowed)
        self.files = FileConsents(
            runtime.store,
            self.uploader,
            network_slug=runtime.config.network_slug,
            language=settings.language,
        )
        self._receiving = receiving or Receiving()
        self._work_after_ack = AfterAck(self._receiving)
        self.handled = 0
        """Accepted activities whose work is done (or found unnecessary), for /healthz."""

    # Receiving ---------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        """``POST /api/messages``: authenticate, refuse what is malformed, run the SDK's turn."""
        identity = await self._authorize(request)
        if identity is None:
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return _bad_request("the body is not JSON")
        problem = _malformed(body)
        if problem is not None:
            log.warning("malformed Teams activity refused: %s", problem)
            return _bad_request(problem)
        try:
            with self._receiving.request():  # counted from here: waiting for a body is no work
                answer = await self.cloud.process_request(_Parsed(request, body, identity), self)
        except (ValidationError, ValueError, TypeError) as exc:
            log.warning("Teams activity refused by the SDK: %s", type(exc).__name__)
            return _bad_request("the activity could not be read")
        except PermissionError:
            return web.json_response({"error": "unauthorized"}, status=401)
        if answer.body is not None:
            return web.json_response(answer.body, status=answer.status_code)
        return web.Response(status=answer.status_code)

    async def _authorize(self, request: web.Request) -> ClaimsIdentity | None:
        """The SDK's own token check; anonymous only when configured and no token is sent."""
        validator = JwtTokenValidator(self._auth)
        header = request.headers.get("Authorization")
        if not header:
            return validator.get_anonymous_claims() if self._auth.ANONYMOUS_ALLOWED else None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return await validator.validate_token(token.strip())
        except (PyJWTError, ValueError, KeyError, TypeError):
            # The SDK's validator reads the token's header before PyJWT checks it: a token
            # without a key id raises KeyError there. Every unreadable token is a 401.
            log.warning("a Teams request with an invalid token was refused")
            return None

    async def on_turn(self, context: TurnContext) -> None:
        """The SDK's turn: answer a card's Action.Execute or a file-consent answer at once,
        leave the work to a task.

        Other invokes (message extensions, task modules, sign-in) get the SDK's 501: Hoedan
        offers none of them, and saying so beats pretending it handled them.
        """
        activity = context.activity
        data = activity.model_dump(mode="json", by_alias=True, exclude_none=True)
        if activity.type == ActivityTypes.invoke and activity.name == inbound.ADAPTIVE_CARD_ACTION:
            await context.send_activity(self._card_action_response())
        elif activity.type == ActivityTypes.invoke and activity.name == FILE_CONSENT:
            # Teams wants a plain 200; the upload, or the word on a decline, follows in the chat.
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200))
            )
        self._spawn(data)

    def _card_action_response(self) -> Activity:
        """Teams shows ``value`` briefly under the card; the real answer follows in the chat."""
        body: dict[str, Any] = {
            "statusCode": 200,
            "type": CARD_RESPONSE_TYPE,
            "value": self.texts.plain("teams.card_received"),
        }
        return Activity(
            type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
        )

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """Replaces the SDK's default, which posts the raw exception text to the user."""
        log.error("a Teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await context.send_activity(self.texts.plain("teams.turn_error"))
        except Exception:
            log.warning("could not tell the Teams user that their turn failed")

    # Working -----------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return self._work_after_ack.in_flight

    def _spawn(self, data: Mapping[str, Any]) -> None:
        actor = inbound.actor_of(data)
        try:
            event = inbound.translate(data, actor) if actor is not None else None
        except Exception:
            log.exception("a Teams activity could not be read")
            event = None
        self._work_after_ack.add(lambda: self._work(data, event))

    async def _work(self, data: Mapping[str, Any], event: InboundEvent | None) -> None:
        try:
            await self.references.remember(references_in(data))
            if inbound.added_members(data):
                await self._welcome(data)
                return
            if is_consent(data):
                await self.files.answer(data)
                self._on_queued()
                return
            if isinstance(event, FormSubmitted):
                sent = await self._as_sent(data, event)
                if sent is None:
                    await self._tell(event, "teams.form_unknown", suffix="unknown")
                    self._on_queued()
                    return
                event, form = sent
                if inbound.missing_required(form):
                    await self._tell(event, "teams.form_incomplete", suffix="incomplete")
                    self._on_queued()
                    return
                event = await self._known_members(form, event)
            if event is not None and self._runtime.wants(event):
                self._show_typing(data, event)
                outcome = await self._runtime.handle(event, now=self._clock())
                if outcome.form is not None:
                    await self._send_form(event, outcome.form)
                self._on_queued()
        except Exception:
            log.exception("a Teams activity could not be handled")
        finally:
            self.handled += 1

    async def _welcome(self, data: Mapping[str, Any]) -> None:
        """People added to a team hear the house rules of each channel of it that has them."""
        team = inbound.team_of(data)
        channels = await self.references.channels_of(team) if team is not None else []
        for joined in inbound.members_joined(data, channels):
            await self._runtime.handle(joined, now=self._clock())
        self._on_queued()

    async def _send_form(self, event: InboundEvent, form: Form) -> None:
        """A button asked for a dialog: it goes to the member's 1:1 chat as a form card.

        Teams has no modal a bot can open in reply to a card button, and a form posted in a
        channel would be filled in by whoever came first; the 1:1 chat is the member's own.
        The card is queued once per activity, like any reply, so a retried activity sends it
        once, and it names the place the button was pressed so the answer lands there.
        """
        origin = inbound.encode_origin(event.place, form.context)
        await queue_direct(
            self._runtime.store,
            key=f"in:{Platform.TEAMS.value}:{event.delivery_id}:form",
            member_ref=event.actor.external_id,
            payload=form_payload(form, origin),
        )

    async def _as_sent(
        self, data: Mapping[str, Any], event: FormSubmitted
    ) -> tuple[FormSubmitted, Mapping[str, Any]] | None:
        """The submission read against the card as Hoedan sent it, with its submit data.

        Which form it is, how to read its inputs and where it was opened come from the card's
        outbox row (found by the chat and the card's id), not from the client: a changed
        client could otherwise submit a form for a place or a person it was never sent for.
        Only the typed inputs are the client's. ``None`` when no such card was sent to this
        member (an old card from before an upgrade, or a made-up one).
        """
        spot = inbound.where(data)
        card = inbound.answered_card(data)
        typed = inbound.form_data(data)
        if spot is None or card is None or typed is None:
            return None
        async with self._runtime.store.transaction() as tx:
            row = await tx.outbox.posted(
                platform=Platform.TEAMS, channel_ref=spot.conversation_id, message_ref=card
            )
        if row is None or row.member_ref != event.actor.external_id:
            return None
        stored = row.payload.get(FORM_PAYLOAD)
        if not isinstance(stored, dict):
            return None
        form = Form.model_validate(stored)
        origin = row.payload.get("origin")
        trusted = {**inbound.typed_inputs(typed), **submit_data(form)}
        submitted = inbound.form_submitted(
            data,
            event.actor,
            event.delivery_id,
            trusted,
            origin if isinstance(origin, dict) else None,
        )
        return (submitted, trusted) if submitted is not None else None

    async def _tell(self, event: InboundEvent, key: str, *, suffix: str) -> None:
        """A short notice in the member's 1:1 chat, once per activity (the card stays there to
        send again)."""
        notice = Message(parts=(Paragraph(text=ours(self.texts.plain(key))),))
        await queue_direct(
            self._runtime.store,
            key=f"in:{Platform.TEAMS.value}:{event.delivery_id}:{suffix}",
            member_ref=event.actor.external_id,
            payload=notice.model_dump(mode="json"),
        )

    async def _known_members(self, form: Mapping[str, Any], event: FormSubmitted) -> FormSubmitted:
        """Names typed in member inputs that match exactly one Teams member Hoedan knows become
        that member's Teams id, as Slack's people picker would have given.

        A name nobody matches stays its name key (see ``inbound.form_values``), so the flow
        creates a member by that name; such a member can be named in Hoedan but not messaged
        until Hoedan sees them in Teams.
        """
        fields = inbound.member_inputs(form)
        if not fields or not event.member_names:
            return event
        resolved: dict[str, tuple[str, str]] = {}
        async with self._runtime.store.transaction() as tx:
            network = await tx.networks.by_slug(self._runtime.config.network_slug)
            if network is None or network.id is None:
                return event
            for key, typed in event.member_names.items():
                found = await tx.members.find(
                    network_id=network.id, platform=Platform.TEAMS, reference=typed
                )
                real = [member for member in found if member.external_id != key]
                if len(real) == 1:
                    resolved[key] = (real[0].external_id, real[0].display_name)
        if not resolved:
            return event
        values = dict(event.values)
        for name in fields:
            picked = values.get(name)
            if isinstance(picked, list):
                ids = [resolved.get(ref, (ref, ""))[0] for ref in picked]
                values[name] = list(dict.fromkeys(ids))
        names: dict[str, str] = {}
        for key, typed in event.member_names.items():
            ref, name = resolved.get(key, (key, typed))
            names[ref] = name
        return replace(event, values=values, member_names=names)

    def _show_typing(self, data: Mapping[str, Any], event: InboundEvent) -> None:
        """In a 1:1 chat, someone who typed a command or pressed a button waits for the answer.

        Elsewhere the answer often goes privately, so a typing indicator in the channel would
        promise a reply that never comes there.
        """
        if (
            not isinstance(event, CommandEvent | ActionEvent)
            or event.place.kind != SpaceKind.DIRECT
        ):
            return
        service_url = data.get("serviceUrl")
        conversation = inbound.where(data)
        bot_id = inbound.bot_id_of(data)
        if not isinstance(service_url, str) or conversation is None or bot_id is None:
            return
        self._work_after_ack.run_now(
            self.deliverer.typing(
                service_url=service_url,
                conversation_id=conversation.conversation_id,
                bot_id=bot_id,
            )
        )

    async def drain(self) -> None:
        """Do the work of activities already accepted (at shutdown)."""
        await self._work_after_ack.drain()

    async def close(self) -> None:
        await self.deliverer.close()
        await self.uploader.close()

    # Sending -----------------------------------------------------------------------------

    async def _token(self) -> str | None:
        """A Bot Connector token from the app registration; none when running anonymously."""
        if self._settings.teams_client_id is None:
            return None
        provider = self.connections.get_default_connection()
        scope = AuthenticationConstants.AGENTS_SDK_SCOPE
        return await provider.get_access_token(scope, [f"{scope}/.default"])


class _Parsed:
    """The SDK's view of a request (its ``HttpRequestProtocol``), with the body Hoedan already
    read and checked and the identity Hoedan already validated.

    Hoedan does the token check itself rather than with the SDK's aiohttp middleware, which
    keeps the identity under a plain string key on the request (aiohttp warns about those).
    """

    def __init__(self, request: web.Request, body: dict[str, Any], identity: ClaimsIdentity):
        self._request = request
        self._body = body
        self._identity = identity

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def headers(self) -> Mapping[str, str]:
        return self._request.headers

    async def json(self) -> dict[str, Any]:
        return self._body

    def get_claims_identity(self) -> ClaimsIdentity:
        return self._identity

    def get_path_param(self, name: str) -> str:
        return self._request.match_info[name]


def _bad_request(why: str) -> web.Response:
    return web.json_response({"error": why}, status=400)


def _malformed(body: object) -> str | None:
    """Why an activity cannot be used, before the SDK sees it (it would answer 500)."""
    if not isinstance(body, dict):
        return "an activity is a JSON object"
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        return "the activity has no type"
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not _text(conversation.get("id")):
        return "the activity has no conversation id"
    service_url = body.get("serviceUrl")
    if service_url is not None and not _text(service_url):
        return "the activity's serviceUrl is not a web address"
    if kind in NEEDS_SENDER:
        sender = body.get("from")
        if not _text(body.get("id")):
            return "the activity has no id"
        if not isinstance(sender, dict) or not _text(sender.get("id")):
            return "the activity has no sender"
    return None


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
