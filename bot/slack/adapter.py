"""Hoedan's Slack app: Bolt receives, acknowledges at once, and the work happens after.

Every listener acknowledges first and hands the payload to :class:`bot.after_ack.AfterAck`, so
Slack always has its answer within its three seconds however busy the database is; the work
starts when acknowledging leaves room for it. The work finds out who
acted (``users.info`` on first contact) and, for a dialog, who was picked in it, turns the
payload into a neutral event, lets the runtime handle it, opens a dialog if the flow asked for
one, and wakes the outbox.

Requests Bolt has no listener for are acknowledged as well: Bolt would answer 404 and Slack would
keep retrying them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.after_ack import AfterAck, Receiving
from bot.reports import ReportMaker
from bot.settings import Settings
from bot.slack import inbound
from bot.slack.deliver import SlackDeliverer
from bot.slack.profiles import Profiles
from bot.slack.render import form_view
from flows.events import Actor, FormSubmitted, InboundEvent, Place
from flows.messages import Form
from flows.runtime import Runtime
from flows.texts import texts_for
from storage.enums import Platform
from storage.types import utcnow

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

log = logging.getLogger(__name__)

WEB_API_TIMEOUT = 10
"""Seconds before a Web API call counts as timed out (the outbox then tries again)."""

ANY = re.compile(".*")

Builder = Callable[[Actor], InboundEvent | None]
Listener = Callable[..., Awaitable[None]]


class SlackAdapter:
    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        *,
        on_queued: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
        receiving: Receiving | None = None,
    ):
        if settings.slack_bot_token is None:
            raise ValueError("the Slack adapter needs SLACK_BOT_TOKEN")
        self._settings = settings
        self._runtime = runtime
        self._on_queued = on_queued
        self._clock = clock
        """The service's time, so events, deadlines and deliveries share one clock."""
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout=WEB_API_TIMEOUT,
        )
        secret = settings.slack_signing_secret
        self._verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret.get_secret_value() if secret else "",
            request_verification_enabled=secret is not None,
            process_before_response=True,
            logger=logging.getLogger("bot.slack.bolt"),
        )
        self.texts = texts_for(settings.language)
        self.profiles = Profiles(self.client)
        self.deliverer = SlackDeliverer(self.client, self.texts, ReportMaker(runtime.store))
        self._receiving = receiving or Receiving()
        self._work_after_ack = AfterAck(self._receiving)
        self.handled = 0
        """Acknowledged requests whose work is done (or found unnecessary), for /healthz."""
        self._register()

    # Receiving ---------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.Response:
        """``POST /slack/events``: Bolt verifies the signature; we make sure Slack gets a 2xx."""
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:
            return await self._unreadable(request)
        try:
            with self._receiving.request():  # counted from here: waiting for a body is no work
                bolt_response = await self.app.async_dispatch(bolt_request)
        except Exception:
            log.exception("Bolt could not dispatch a Slack request")
            return web.Response(status=400, text="bad request")
        if bolt_response.status == 404:
            bolt_response = BoltResponse(status=200, body="")
        elif bolt_response.status >= 500:
            log.warning("Slack request answered %s by Bolt; sending 400", bolt_response.status)
            bolt_response = BoltResponse(status=400, body="bad request")
        return await to_aiohttp_response(bolt_response)

    async def _unreadable(self, request: web.Request) -> web.Response:
        """A body Bolt cannot even parse: 401 unless it was really signed by Slack, then 400.

        The signature check needs a numeric timestamp (the SDK's verifier raises on anything
        else) and the body, which a request over the size limit never yields: both are refused
        as unsigned before they get that far.
        """
        log.warning("unreadable Slack request rejected")
        if self._verifier is None:
            return web.Response(status=400, text="bad request")
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (timestamp.isascii() and timestamp.isdigit()) or not signature:
            return web.Response(status=401, text="invalid signature")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="too large")
        if not self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            return web.Response(status=401, text="invalid signature")
        return web.Response(status=400, text="bad request")

    def socket_mode_handler(self) -> AsyncSocketModeHandler:
        from bot.slack.socket_mode import AckingSocketModeHandler  # only when Socket Mode is on

        if self._settings.slack_app_token is None:
            raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
        return AckingSocketModeHandler(
            self.app, self._settings.slack_app_token.get_secret_value(), web_client=self.client
        )

    def _register(self) -> None:
        """Listeners in the order Bolt tries them: channel messages, by far the most, first.

        Bolt checks the listeners one by one until one matches, at a cost for each; the catch-all
        listeners come after the specific ones of their kind.
        """
        app = self.app
        app.event("message")(self._on_event(inbound.message))
        app.event("app_mention")(self._on_event(inbound.app_mention))
        app.event("app_home_opened")(self._on_event(inbound.home_opened))
        app.event("member_joined_channel")(self._on_event(inbound.member_joined))
        app.event(ANY)(_acknowledge)
        app.command(ANY)(self._on_payload(inbound.command))
        app.shortcut(inbound.MESSAGE_SHORTCUT)(self._on_payload(inbound.message_shortcut))
        app.shortcut(inbound.GLOBAL_SHORTCUT)(self._on_payload(inbound.global_shortcut))
        app.shortcut(ANY)(_acknowledge)
        app.action(ANY)(self._on_payload(inbound.block_action))
        app.view_submission(ANY)(self._on_payload(inbound.view_submission))
        app.view_closed(ANY)(_acknowledge)
        app.options(ANY)(_no_options)

    def _on_payload(self, translate: inbound.PayloadTranslator) -> Listener:
        """A listener for commands and interactions: ack, then translate the whole payload."""

        async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
            await ack()
            self._spawn(body, lambda actor: translate(body, actor))

        return listener

    def _on_event(self, translate: inbound.EventTranslator) -> Listener:
        """A listener for Events API events: ack, then translate the inner event."""

        async def listener(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
            await ack()
            event, event_id, bot = _event_parts(body, context)
            self._spawn(
                body,
                lambda actor: translate(event, actor, event_id=event_id, bot_user_id=bot),
            )

        return listener

    # Working -----------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Acknowledged requests whose work is waiting or under way."""
        return self._work_after_ack.in_flight

    def _spawn(self, body: Mapping[str, Any], build: Builder) -> None:
        """After the ack: translate right here (cheap), and only queue real work.

        Most channel messages matter to nobody; they cost no job, no look-up, no database.
        """
        try:
            user_id = inbound.user_id_of(body)
            first_look = (
                None
                if user_id is None
                else build(Actor(platform=Platform.SLACK, external_id=user_id, display_name=""))
            )
        except Exception:
            log.exception("a Slack payload could not be read")
            first_look = None
        if user_id is None or first_look is None or not self._runtime.wants(first_look):
            self.handled += 1
            return
        self._work_after_ack.add(lambda: self._work(body, user_id, first_look))

    async def _work(self, body: Mapping[str, Any], user_id: str, first_look: InboundEvent) -> None:
        try:
            actor = await self.profiles.actor(user_id, fallback_name=inbound.fallback_name(body))
            event = replace(first_look, actor=actor)
            if isinstance(event, FormSubmitted):
                picked = inbound.picked_users(body)
                if picked:
                    event = replace(event, member_names=await self.profiles.names(picked))
            outcome = await self._runtime.handle(event, now=self._clock())
            self._on_queued()
            trigger = body.get("trigger_id")
            if outcome.form is not None and isinstance(trigger, str):
                await self._open_form(trigger, outcome.form, event.place)
        except Exception:
            log.exception("a Slack request could not be handled")
        finally:
            self.handled += 1

    async def _open_form(self, trigger_id: str, form: Form, place: Place) -> None:
        view = form_view(
            form,
            private_metadata=inbound.encode_origin(place, form.context),
            close_label=self.texts.plain("slack.close"),
        )
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("could not open a dialog: %s", exc.response.get("error"))

    async def drain(self) -> None:
        """Do the work of requests already acknowledged (at shutdown)."""
        await self._work_after_ack.drain()

    async def open_connections(self) -> None:
        """Share one HTTP connection pool among all Web API calls from now on.

        Without it, slack_sdk opens a new connection (and TLS handshake) for every call, which
        would make a fan-out to a thousand channels wait on handshakes rather than on Slack's
        rate limits. Called from a running event loop, where aiohttp wants its sessions made.
        The pool takes the client's time-out now; slack_sdk passes none per call.
        """
        if self.client.session is None:
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.timeout)
            )

    async def close_connections(self) -> None:
        session, self.client.session = self.client.session, None
        if session is not None:
            await session.close()


def _event_parts(
    body: Mapping[str, Any], context: AsyncBoltContext
) -> tuple[Mapping[str, Any], str, str | None]:
    event = body.get("event")
    event_id = body.get("event_id")
    return (
        event if isinstance(event, Mapping) else {},
        event_id if isinstance(event_id, str) and event_id else f"event:{time.time_ns()}",
        context.bot_user_id,
    )


async def _acknowledge(ack: AsyncAck) -> None:
    """Requests Hoedan does not use still get their 200, or Slack would retry them."""
    await ack()


async def _no_options(ack: AsyncAck) -> None:
    await ack(options=[])
