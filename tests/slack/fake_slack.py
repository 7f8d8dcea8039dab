"""A fake Slack on 127.0.0.1 for end-to-end tests: Web API, response URLs and Socket Mode.

Hoedan is pointed at it with the real clients (``AsyncWebClient(base_url=fake.api_url)``), so
the tests exercise the very HTTP requests, encodings and error paths that production uses,
instead of a mock that only knows what we told it. The fake records every call and answers
with the fields Slack really returns; where Slack's behaviour is easy to get wrong (DM channel
ids, thread replies missing from history, metadata only on request, locale only on request)
it copies that behaviour so that tests catch code that relies on something Slack never does.

Faults (errors, rate limits, HTTP errors, lost responses, slowness) can be scheduled per
method for a number of calls, to drive Hoedan's retry and recovery paths; an outage fails every
call until the test ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from tests.slack.fake_limits import PostLimits

JsonDict = dict[str, Any]

TEAM_ID = "T0001"
TEAM_DOMAIN = "hoedan-test"
APP_ID = "A0001"
BOT_USER_ID = "UHOEDAN"
BOT_ID = "BHOEDAN"
BOT_NAME = "hoedan"

# Sent on every answer, as Slack does; Bolt copies it into the authorization result.
SCOPES = ",".join(
    [
        "app_mentions:read",
        "channels:history",
        "chat:write",
        "commands",
        "groups:history",
        "im:history",
        "im:write",
        "users:read",
    ]
)

# Slack refuses bigger messages with these errors; the fake does too, so that oversized
# renderings fail in tests rather than in a workspace.
MAX_BLOCKS = 50
MAX_TEXT = 40_000
HISTORY_LIMIT = 100
MAX_GROUP_USERS = 8
"""``conversations.open`` refuses more people than this (besides the calling app)."""
REPLIES_LIMIT = 1000

# A method whose call needs no token at all.
_TOKENLESS = ("api.test", "oauth.")
# An app-level (xapp-) token works only for these methods; Slack refuses it elsewhere.
_APP_TOKEN_METHODS = frozenset({"apps.connections.open", "auth.test"})


@dataclass(frozen=True)
class Call:
    """One request to the fake Web API, as received."""

    method: str
    """The API method, e.g. ``"chat.postMessage"``."""
    args: dict[str, Any]
    """Query parameters, form fields and JSON body merged, in that order of precedence.

    JSON values stay as parsed; form fields stay strings (``blocks`` sent as a form field is
    the JSON text), so a test can see which encoding the client used. Use :meth:`json` to read
    a field either way.
    """
    token: str | None
    """The token from ``Authorization: Bearer …`` or, failing that, a ``token`` argument."""
    time: float
    """``loop.time()`` when the request arrived, to check retry back-off and pacing."""

    def json(self, name: str) -> Any:
        """The argument ``name`` decoded if it was sent as JSON text (form encoding)."""
        value = self.args[name]
        return json.loads(value) if isinstance(value, str) else value


@dataclass
class _Fault:
    """A scheduled misbehaviour for the next ``times`` matching calls."""

    method: str
    kind: Literal["fail", "rate_limit", "server_error", "post_then_error", "post_then_stall"]
    times: int
    channel: str | None = None
    error: str = ""
    status: int = 200
    retry_after: int = 0
    seconds: float = 0.0

    def matches(self, call: Call) -> bool:
        return (
            self.times > 0
            and self.method == call.method
            and (self.channel is None or call.args.get("channel") == self.channel)
        )


@dataclass
class _Delay:
    method: str
    seconds: float
    times: int


class SlackError(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": …}`` like Slack."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class FakeSlack:
    """A Slack workspace with one bot (Hoedan) that the real Slack clients can talk to.

    Use as ``async with FakeSlack() as slack:``; the server listens on a free port on
    127.0.0.1 from entering until leaving the block.

    ``clock`` gives the message timestamps: Slack's ``ts`` values are real epoch seconds, and
    Hoedan filters history with ``oldest`` computed from its own clock, so by default the fake
    uses the wall clock as well (each new ``ts`` is still strictly greater than the last).
    """

    bot_user_id = BOT_USER_ID
    bot_id = BOT_ID
    team_id = TEAM_ID
    app_id = APP_ID

    def __init__(
        self, *, clock: Callable[[], float] = time.time, limits: PostLimits | None = None
    ) -> None:
        self.api_url = ""
        self.limits = limits
        """Slack's rate limits on chat.postMessage, enforced with 429s when given."""
        self.calls: list[Call] = []
        self.socket_connected = asyncio.Event()
        """Set while at least one Socket Mode client is connected."""
        self.socket_acks: dict[str, JsonDict] = {}
        """Acknowledgements received over Socket Mode, by envelope id."""
        self._clock = clock
        self._last_ts = 0
        self._base_url = ""
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._messages: list[JsonDict] = []
        self._ephemerals: list[JsonDict] = []
        self._users: dict[str, JsonDict] = {}
        self._channels: dict[str, JsonDict] = {}
        self._open_dms: set[str] = set()
        self._groups: dict[str, list[str]] = {}
        """Group conversations (multi-person DMs) opened, with their members."""
        self._views: dict[str, JsonDict] = {}
        self._uploads: dict[str, JsonDict] = {}
        """Files by id: announced by files.getUploadURLExternal, then filled by the upload."""
        self._file_numbers = itertools.count(1)
        self._home_views: dict[str, str] = {}
        self._view_numbers = itertools.count(1)
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._outage: tuple[frozenset[str], int] | None = None
        """Methods failing (none named: every one) and the HTTP status, until ``recover``."""
        self.stalled: list[Call] = []
        """Calls done but not answered yet (:meth:`post_then_stall`), in order of arrival."""
        self._sockets: list[web.WebSocketResponse] = []
        self._handlers: dict[str, Callable[[Call], JsonDict]] = {
            "auth.test": self._auth_test,
            "bots.info": self._bots_info,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self.add_user(self.bot_user_id, BOT_NAME, real_name="Hoedan", is_bot=True)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Listen on a free port; sets :attr:`api_url`."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/hooks/{hook}", self._hook)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._base_url = f"http://127.0.0.1:{port}"
        self.api_url = f"{self._base_url}/api/"

    async def close(self) -> None:
        """Wake delayed answers, close Socket Mode connections and stop the server."""
        self._closing.set()
        for socket in list(self._sockets):
            await socket.close(message=b"fake Slack is shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ state for tests

    def calls_to(self, method: str) -> list[Call]:
        """Every call to ``method`` so far, oldest first."""
        return [call for call in self.calls if call.method == method]

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "Europe/Amsterdam",
        locale: str = "nl-NL",
        is_bot: bool = False,
        deleted: bool = False,
    ) -> None:
        """Make ``users.info`` describe this user; unknown ids get an invented user.

        ``display_name`` defaults to ``name``; pass ``""`` for the many people who never set one.
        """
        self._users[user_id] = _user(
            user_id,
            name,
            display_name=name if display_name is None else display_name,
            real_name=real_name or name,
            tz=tz,
            locale=locale,
            is_bot=is_bot,
            deleted=deleted,
        )

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> None:
        """Give a channel a name for ``conversations.info``; others get ``channel-<id>``."""
        self._channels[channel_id] = _channel(channel_id, name, is_private=is_private)

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0001",
        ts: str | None = None,
        thread_ts: str | None = None,
        blocks: list[JsonDict] | None = None,
        metadata: JsonDict | None = None,
        bot_id: str | None = None,
    ) -> str:
        """Seed a message someone else wrote (history, threads); returns its ``ts``."""
        if ts is not None:
            self._last_ts = max(self._last_ts, _micros(ts))
        message = self._store(
            channel=channel,
            text=text,
            blocks=blocks or [],
            attachments=[],
            metadata=metadata,
            thread_ts=self._thread_of(channel, thread_ts),
            user=user,
            bot_id=bot_id,
            ts=ts,
        )
        return str(message["ts"])

    def messages(self, channel: str | None = None) -> list[JsonDict]:
        """Stored messages (posted or seeded), oldest first, thread replies included.

        Each has ``channel``, ``ts``, ``thread_ts`` (``None`` outside a thread), ``text``,
        ``blocks`` (parsed, ``[]`` when none), ``metadata`` (``None`` when none), ``user``,
        ``bot_id``, ``attachments`` and ``reply_broadcast``; copies, so tests cannot change
        what Slack "has".
        """
        return [
            copy.deepcopy(message)
            for message in self._messages
            if channel is None or message["channel"] == channel
        ]

    def ephemerals(self, channel: str | None = None) -> list[JsonDict]:
        """Messages sent with ``chat.postEphemeral``: channel, user, text, blocks, thread_ts, ts."""
        return [
            copy.deepcopy(message)
            for message in self._ephemerals
            if channel is None or message["channel"] == channel
        ]

    def files(self, channel: str | None = None) -> list[JsonDict]:
        """Files shared (upload completed), oldest first: id, filename, title, channel and
        their ``content`` as bytes."""
        shared = [f for f in self._uploads.values() if f.get("channel")]
        return [f for f in shared if channel is None or f["channel"] == channel]

    def response_url(self, name: str | None = None) -> str:
        """A ``response_url`` on this fake; posts to it are recorded as ``"response_url"`` calls.

        Give it to slash-command and interaction payloads so that Bolt's ``respond()`` lands
        here (with the URL in ``args["response_url"]``) instead of at hooks.slack.com.
        """
        return f"{self._base_url}/hooks/{name or uuid.uuid4().hex}"

    # ------------------------------------------------------------------ faults

    def fail(self, method: str, error: str, *, times: int = 1, channel: str | None = None) -> None:
        """Answer the next ``times`` calls (to ``channel`` only, if given) with a Slack error."""
        self._faults.append(_Fault(method, "fail", times, channel=channel, error=error))

    def rate_limit(
        self, method: str, *, retry_after: int = 1, times: int = 1, channel: str | None = None
    ) -> None:
        """Answer HTTP 429 with ``Retry-After``, as Slack does when a rate tier is exceeded."""
        self._faults.append(
            _Fault(method, "rate_limit", times, channel=channel, retry_after=retry_after)
        )

    def server_error(
        self, method: str, *, status: int = 500, times: int = 1, channel: str | None = None
    ) -> None:
        """Answer an HTTP error without doing anything, like a Slack outage."""
        self._faults.append(_Fault(method, "server_error", times, channel=channel, status=status))

    def post_then_error(
        self, method: str, *, status: int = 500, times: int = 1, channel: str | None = None
    ) -> None:
        """Do the call (store the message) but answer an HTTP error.

        Models "Slack posted it but the response was lost": a blind retry would post twice.
        """
        self._faults.append(
            _Fault(method, "post_then_error", times, channel=channel, status=status)
        )

    def post_then_stall(
        self, method: str, *, seconds: float, times: int = 1, channel: str | None = None
    ) -> None:
        """Do the call (store the message), then hold the answer back for ``seconds``.

        Models "Slack posted it, and its answer never came": the client times out, or its
        process dies while waiting. The call is in :attr:`stalled` from the moment it was done
        until it is answered; closing the fake answers at once.
        """
        self._faults.append(
            _Fault(method, "post_then_stall", times, channel=channel, seconds=seconds)
        )

    def outage(self, *methods: str, status: int = 500) -> None:
        """Answer every call to ``methods`` (to any Web API method when none are named) with
        HTTP ``status`` and do nothing, until :meth:`recover`.

        Faults scheduled per call still come first, so a stall or a lost answer can be mixed in.
        """
        self._outage = (frozenset(methods), status)

    def recover(self) -> None:
        """End the outage, and drop every fault and delay not used up yet."""
        self._outage = None
        self._faults.clear()
        self._delays.clear()

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before handling the next ``times`` calls, to provoke time-outs.

        The call is recorded on arrival; its effect (e.g. storing the message) happens after
        the wait even if the client gave up meanwhile, as with a slow Slack.
        """
        self._delays.append(_Delay(method, seconds, times))

    # ------------------------------------------------------------------ waiting

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109  (a plain deadline reads best in tests)
    ) -> None:
        """Poll ``predicate`` every 10 ms; on time-out fail with every call seen so far.

        Failing with the calls (rather than a bare time-out) shows at once whether Hoedan
        called Slack differently or not at all.
        """
        await self._wait(predicate, within=timeout, what="the condition")

    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109  (a plain deadline reads best in tests)
    ) -> list[Call]:
        """Wait until ``method`` was called ``count`` times; returns all calls to it."""
        await self._wait(
            lambda: len(self.calls_to(method)) >= count,
            within=timeout,
            what=f"{count} call(s) to {method}",
        )
        return self.calls_to(method)

    def describe_calls(self) -> str:
        """Every call so far, one a line, for failure messages."""
        if not self.calls:
            return "no calls to the fake Slack"
        return "\n".join(
            f"{number}. {call.method} token={call.token!r} args={_shorten(call.args)}"
            for number, call in enumerate(self.calls, start=1)
        )

    async def _wait(self, predicate: Callable[[], bool], *, within: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            if loop.time() >= deadline:
                raise AssertionError(
                    f"timed out after {within} s waiting for {what}; calls so far:\n"
                    f"{self.describe_calls()}"
                )
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ Socket Mode

    @property
    def socket_connections(self) -> int:
        """How many Socket Mode connections are open (two while a client reconnects)."""
        return len(self._sockets)

    async def socket_send(
        self,
        payload: JsonDict,
        *,
        type: str = "events_api",
        accepts_response_payload: bool = False,
    ) -> str:
        """Send ``payload`` in a Socket Mode envelope; returns the envelope id.

        Like Slack, the envelope goes to one connection (the newest) even when a reconnecting
        client briefly holds two, so each envelope is handled once. Waits up to 10 s for a
        client to connect.
        """
        try:
            await asyncio.wait_for(self.socket_connected.wait(), timeout=10.0)
        except TimeoutError:
            raise AssertionError("no Socket Mode client connected to the fake Slack") from None
        envelope_id = str(uuid.uuid4())
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": type,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the connected clients to reconnect, as Slack does every few hours."""
        for socket in list(self._sockets):
            await socket.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
            )

    async def wait_for_socket_ack(
        self,
        envelope_id: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109  (a plain deadline reads best in tests)
    ) -> JsonDict:
        """The acknowledgement (``{"envelope_id": …, "payload": …?}``) the client sent back."""
        await self._wait(
            lambda: envelope_id in self.socket_acks,
            within=timeout,
            what=f"the Socket Mode ack of envelope {envelope_id}",
        )
        return self.socket_acks[envelope_id]

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            await socket.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {
                        "host": "fake-slack",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
            self.socket_connected.set()
            async for frame in socket:
                if frame.type is not WSMsgType.TEXT:
                    continue
                with contextlib.suppress(ValueError):
                    message = json.loads(frame.data)
                    if isinstance(message, dict) and "envelope_id" in message:
                        self.socket_acks[str(message["envelope_id"])] = message
        finally:
            self._sockets.remove(socket)
            if not self._sockets:
                self.socket_connected.clear()
        return socket

    # ------------------------------------------------------------------ HTTP

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        received = asyncio.get_running_loop().time()
        bearer = _bearer(request)
        try:
            args = await _read_args(request)
        except SlackError as exc:
            self.calls.append(Call(method, dict(request.query), bearer, received))
            return _answer({"ok": False, "error": exc.error})
        token = bearer or (str(args["token"]) if args.get("token") else None)
        call = Call(method, args, token, received)
        self.calls.append(call)
        await self._pause(call)

        refusal = self._auth_error(call)
        if refusal is not None:
            return _answer({"ok": False, "error": refusal})
        fault = self._take_fault(call)
        if fault is not None and fault.kind == "fail":
            return _answer({"ok": False, "error": fault.error})
        if fault is not None and fault.kind == "rate_limit":
            return _answer(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault is not None and fault.kind == "server_error":
            return _answer({"ok": False, "error": "internal_error"}, status=fault.status)
        outage = self._outage_status(call) if fault is None else None
        if outage is not None:
            return _answer({"ok": False, "error": "internal_error"}, status=outage)
        if self.limits is not None and method == "chat.postMessage":
            wait = self.limits.refuse(_text_arg(call, "channel"))
            if wait is not None:
                return _answer(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(wait)},
                )

        body = self._dispatch(call)
        if fault is not None and fault.kind == "post_then_error":
            return _answer({"ok": False, "error": "internal_error"}, status=fault.status)
        if fault is not None and fault.kind == "post_then_stall":
            self.stalled.append(call)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), timeout=fault.seconds)
            finally:
                self.stalled = [other for other in self.stalled if other is not call]
        return _answer(body)

    def _outage_status(self, call: Call) -> int | None:
        """The HTTP status an outage answers this call with; None when it is not affected."""
        if self._outage is None:
            return None
        methods, status = self._outage
        return status if not methods or call.method in methods else None

    async def _hook(self, request: web.Request) -> web.Response:
        received = asyncio.get_running_loop().time()
        try:
            args = await _read_args(request)
        except SlackError:
            args = {}
        url = f"{self._base_url}/hooks/{request.match_info['hook']}"
        call = Call("response_url", {**args, "response_url": url}, None, received)
        self.calls.append(call)
        await self._pause(call)
        return web.Response(text="ok", content_type="text/plain")

    async def _upload(self, request: web.Request) -> web.Response:
        """Step two of files_upload_v2: the bytes, posted to the URL step one handed out."""
        upload = self._uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        upload["content"] = await request.read()
        return web.Response(text=f"OK - {len(upload['content'])}", content_type="text/plain")

    async def _pause(self, call: Call) -> None:
        for delay in self._delays:
            if delay.method == call.method and delay.times > 0:
                delay.times -= 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), timeout=delay.seconds)
                return

    def _auth_error(self, call: Call) -> str | None:
        if call.method.startswith(_TOKENLESS) or call.method == "apps.connections.open":
            return None
        if not call.token:
            return "not_authed"
        if not call.token.startswith(("xoxb-", "xoxp-", "xapp-")):
            return "invalid_auth"
        if call.token.startswith("xapp-") and call.method not in _APP_TOKEN_METHODS:
            return "not_allowed_token_type"
        return None

    def _take_fault(self, call: Call) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(call):
                fault.times -= 1
                return fault
        return None

    def _dispatch(self, call: Call) -> JsonDict:
        handler = self._handlers.get(call.method)
        if handler is None:
            return {"ok": True}
        try:
            return {"ok": True, **handler(call)}
        except SlackError as exc:
            return {"ok": False, "error": exc.error}

    # ------------------------------------------------------------------ methods

    def _auth_test(self, call: Call) -> JsonDict:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Test",
            "user": BOT_NAME,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _bots_info(self, call: Call) -> JsonDict:
        bot = _text_arg(call, "bot") or self.bot_id
        ours = bot == self.bot_id
        return {
            "bot": {
                "id": bot,
                "deleted": False,
                "name": "Hoedan" if ours else f"bot-{bot}",
                "updated": 1_700_000_000,
                "app_id": self.app_id if ours else f"A{bot}",
                "user_id": self.bot_user_id if ours else f"U{bot}",
                "icons": {"image_36": "", "image_48": "", "image_72": ""},
            }
        }

    def _apps_connections_open(self, call: Call) -> JsonDict:
        if not (call.token or "").startswith("xapp-"):
            raise SlackError("invalid_auth")
        return {"url": f"{self._base_url.replace('http://', 'ws://', 1)}/socket"}

    def _chat_post_message(self, call: Call) -> JsonDict:
        channel = _dm_for_user(_required(call, "channel", "channel_not_found"))
        text, blocks, attachments = _content(call)
        message = self._store(
            channel=channel,
            text=text,
            blocks=blocks,
            attachments=attachments,
            metadata=_metadata(call),
            thread_ts=self._thread_of(channel, _text_arg(call, "thread_ts")),
            user=self.bot_user_id,
            bot_id=self.bot_id,
            reply_broadcast=_truthy(call.args.get("reply_broadcast")),
        )
        return {
            "channel": channel,
            "ts": message["ts"],
            "message": self._render(message, include_metadata=True),
        }

    def _chat_post_ephemeral(self, call: Call) -> JsonDict:
        channel = _required(call, "channel", "channel_not_found")
        user = _required(call, "user", "user_not_found")
        text, blocks, _attachments = _content(call)
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel,
                "user": user,
                "text": text,
                "blocks": blocks,
                "thread_ts": _text_arg(call, "thread_ts"),
                "ts": ts,
            }
        )
        return {"message_ts": ts}

    def _chat_update(self, call: Call) -> JsonDict:
        message = self._find(
            _required(call, "channel", "channel_not_found"),
            _required(call, "ts", "message_not_found"),
        )
        if message is None:
            raise SlackError("message_not_found")
        if message["user"] != self.bot_user_id:
            raise SlackError("cant_update_message")
        if "text" in call.args:
            message["text"] = _text_arg(call, "text") or ""
        if "blocks" in call.args:
            message["blocks"] = _blocks(call)
        if "attachments" in call.args:
            message["attachments"] = _attachments(call)
        if "metadata" in call.args:
            message["metadata"] = _metadata(call)
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": message["channel"],
            "ts": message["ts"],
            "text": message["text"],
            "message": self._render(message, include_metadata=True),
        }

    def _chat_delete(self, call: Call) -> JsonDict:
        message = self._find(
            _required(call, "channel", "channel_not_found"),
            _required(call, "ts", "message_not_found"),
        )
        if message is None:
            raise SlackError("message_not_found")
        if message["user"] != self.bot_user_id:
            raise SlackError("cant_delete_message")
        self._messages.remove(message)
        return {"channel": message["channel"], "ts": message["ts"]}

    def _conversations_open(self, call: Call) -> JsonDict:
        existing = _text_arg(call, "channel")
        if existing is not None:
            return {"channel": {"id": existing}}
        users = [user for user in (_text_arg(call, "users") or "").split(",") if user]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) == 1:
            channel_id = "D" + users[0]
        elif len(set(users)) > MAX_GROUP_USERS:
            raise SlackError("too_many_users")
        else:
            channel_id = group_id(users)
            self._groups[channel_id] = sorted(set(users))
        already_open = channel_id in self._open_dms
        self._open_dms.add(channel_id)
        channel: JsonDict = {"id": channel_id}
        if _truthy(call.args.get("return_im")):
            channel.update(self._conversation(channel_id))
        return {"no_op": already_open, "already_open": already_open, "channel": channel}

    def _files_get_upload_url(self, call: Call) -> JsonDict:
        filename = _required(call, "filename", "invalid_arguments")
        file_id = f"F{next(self._file_numbers):08d}"
        self._uploads[file_id] = {"id": file_id, "filename": filename, "content": None}
        return {"upload_url": f"{self._base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, call: Call) -> JsonDict:
        raw = call.args.get("files")
        listed = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(listed, list) or not listed:
            raise SlackError("invalid_arguments")
        channel = _text_arg(call, "channel_id")
        if channel is not None and channel not in self._open_dms and channel not in self._channels:
            raise SlackError("channel_not_found")
        done = []
        for item in listed:
            upload = self._uploads.get(str(item.get("id")))
            if upload is None or upload["content"] is None:
                raise SlackError("file_not_found")
            upload.update(title=item.get("title") or upload["filename"], channel=channel)
            done.append({"id": upload["id"], "title": upload["title"], "name": upload["filename"]})
        return {"files": done}

    def _conversations_info(self, call: Call) -> JsonDict:
        return {"channel": self._conversation(_required(call, "channel", "channel_not_found"))}

    def _conversations_history(self, call: Call) -> JsonDict:
        channel = _required(call, "channel", "channel_not_found")
        in_range = _range(call)
        found = [
            message
            for message in self._messages
            if message["channel"] == channel
            and (_is_top_level(message) or message["reply_broadcast"])
            and in_range(message["ts"])
        ]
        found.reverse()
        return self._page(call, found, default_limit=HISTORY_LIMIT)

    def _conversations_replies(self, call: Call) -> JsonDict:
        channel = _required(call, "channel", "channel_not_found")
        parent = self._find(channel, _required(call, "ts", "thread_not_found"))
        if parent is not None and not _is_top_level(parent):
            parent = self._find(channel, parent["thread_ts"])
        if parent is None:
            raise SlackError("thread_not_found")
        in_range = _range(call)
        replies = [
            message
            for message in self._messages
            if message["channel"] == channel
            and message["thread_ts"] == parent["ts"]
            and not _is_top_level(message)
            and in_range(message["ts"])
        ]
        # Slack puts the parent first whatever oldest/latest say.
        return self._page(call, [parent, *replies], default_limit=REPLIES_LIMIT)

    def _users_info(self, call: Call) -> JsonDict:
        user_id = _required(call, "user", "user_not_found")
        user = copy.deepcopy(self._users.get(user_id)) or _user(
            user_id,
            f"user-{user_id}",
            real_name=f"user-{user_id}",
            tz="Europe/Amsterdam",
            locale="nl-NL",
            is_bot=False,
            deleted=False,
        )
        if not _truthy(call.args.get("include_locale")):
            # Slack leaves the locale out unless it is asked for.
            user.pop("locale")
        return {"user": user}

    def _views_open(self, call: Call) -> JsonDict:
        if not (_text_arg(call, "trigger_id") or _text_arg(call, "interactivity_pointer")):
            raise SlackError("invalid_arguments")
        return {"view": self._new_view(_view(call))}

    def _views_update(self, call: Call) -> JsonDict:
        view_id = _text_arg(call, "view_id")
        external_id = _text_arg(call, "external_id")
        existing = next(
            (
                view
                for view in self._views.values()
                if view["id"] == view_id or (external_id and view["external_id"] == external_id)
            ),
            None,
        )
        if existing is None:
            raise SlackError("not_found")
        _check_hash(call, existing)
        return {"view": self._new_view(_view(call), view_id=existing["id"])}

    def _views_publish(self, call: Call) -> JsonDict:
        user_id = _required(call, "user_id", "invalid_arguments")
        view = _view(call)
        if view.get("type") != "home":
            raise SlackError("invalid_arguments")
        view_id = self._home_views.get(user_id)
        if view_id is not None:
            _check_hash(call, self._views[view_id])
        published = self._new_view(view, view_id=view_id)
        self._home_views[user_id] = published["id"]
        return {"view": published}

    # ------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        self._last_ts = max(int(self._clock() * 1_000_000), self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def _store(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[JsonDict],
        attachments: list[JsonDict],
        metadata: JsonDict | None,
        thread_ts: str | None,
        user: str,
        bot_id: str | None,
        reply_broadcast: bool = False,
        ts: str | None = None,
    ) -> JsonDict:
        message: JsonDict = {
            "channel": channel,
            "ts": ts or self._next_ts(),
            "thread_ts": thread_ts,
            "text": text,
            "blocks": blocks,
            "metadata": metadata,
            "user": user,
            "bot_id": bot_id,
            "attachments": attachments,
            "reply_broadcast": reply_broadcast,
        }
        self._messages.append(message)
        self._messages.sort(key=lambda stored: _micros(stored["ts"]))
        return message

    def _find(self, channel: str, ts: str) -> JsonDict | None:
        return next(
            (m for m in self._messages if m["channel"] == channel and m["ts"] == ts),
            None,
        )

    def _thread_of(self, channel: str, thread_ts: str | None) -> str | None:
        """The thread's parent ts: replying to a reply answers in that reply's thread."""
        if thread_ts is None:
            return None
        target = self._find(channel, thread_ts)
        if target is not None and not _is_top_level(target):
            return str(target["thread_ts"])
        return thread_ts

    def _render(self, message: JsonDict, *, include_metadata: bool) -> JsonDict:
        """A stored message as Slack's API shows it."""
        shown: JsonDict = {
            "type": "message",
            "user": message["user"],
            "text": message["text"],
            "ts": message["ts"],
            "team": self.team_id,
        }
        if message["bot_id"] is not None:
            shown["bot_id"] = message["bot_id"]
            shown["app_id"] = self.app_id
            shown["bot_profile"] = {
                "id": message["bot_id"],
                "app_id": self.app_id,
                "name": "Hoedan",
                "deleted": False,
                "team_id": self.team_id,
            }
        if message["blocks"]:
            shown["blocks"] = copy.deepcopy(message["blocks"])
        if message["attachments"]:
            shown["attachments"] = copy.deepcopy(message["attachments"])
        if message["reply_broadcast"]:
            shown["subtype"] = "thread_broadcast"
        if not _is_top_level(message):
            parent = self._find(message["channel"], message["thread_ts"])
            shown["thread_ts"] = message["thread_ts"]
            if parent is not None:
                shown["parent_user_id"] = parent["user"]
        else:
            replies = [
                m
                for m in self._messages
                if m["channel"] == message["channel"]
                and m["thread_ts"] == message["ts"]
                and not _is_top_level(m)
            ]
            if replies:
                repliers = list(dict.fromkeys(reply["user"] for reply in replies))
                shown.update(
                    thread_ts=message["ts"],
                    reply_count=len(replies),
                    reply_users_count=len(repliers),
                    reply_users=repliers,
                    latest_reply=replies[-1]["ts"],
                )
        if "edited" in message:
            shown["edited"] = dict(message["edited"])
        if include_metadata and message["metadata"] is not None:
            shown["metadata"] = copy.deepcopy(message["metadata"])
        return shown

    def _page(self, call: Call, found: list[JsonDict], *, default_limit: int) -> JsonDict:
        include_metadata = _truthy(call.args.get("include_all_metadata"))
        limit = _int_arg(call, "limit") or default_limit
        start = 0
        cursor = _text_arg(call, "cursor")
        if cursor is not None:
            if not cursor.startswith("offset:"):
                raise SlackError("invalid_cursor")
            start = int(cursor.removeprefix("offset:"))
        page = found[start : start + limit]
        has_more = start + limit < len(found)
        answer: JsonDict = {
            "messages": [self._render(m, include_metadata=include_metadata) for m in page],
            "has_more": has_more,
        }
        if has_more:
            answer["response_metadata"] = {"next_cursor": f"offset:{start + limit}"}
        return answer

    def _conversation(self, channel_id: str) -> JsonDict:
        if channel_id in self._channels:
            return copy.deepcopy(self._channels[channel_id])
        if channel_id.startswith("D"):
            return {
                "id": channel_id,
                "is_im": True,
                "is_channel": False,
                "is_group": False,
                "is_mpim": False,
                "is_private": True,
                "is_archived": False,
                "user": channel_id[1:],
                "created": 1_700_000_000,
            }
        if channel_id in self._groups:
            names = "--".join(user.lower() for user in self._groups[channel_id])
            return {
                **_channel(channel_id, f"mpdm-{names}-1", is_private=True),
                "is_group": False,
                "is_mpim": True,
            }
        return _channel(channel_id, f"channel-{channel_id}", is_private=channel_id.startswith("G"))

    def _new_view(self, view: JsonDict, *, view_id: str | None = None) -> JsonDict:
        view_id = view_id or f"V{next(self._view_numbers):010d}"
        stored: JsonDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            **copy.deepcopy(view),
        }
        stored["id"] = view_id
        stored["hash"] = f"{int(self._clock())}.{uuid.uuid4().hex[:8]}"
        self._views[view_id] = stored
        return copy.deepcopy(stored)


# ---------------------------------------------------------------------- module helpers


def _answer(
    body: JsonDict, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        body, status=status, headers={"x-oauth-scopes": SCOPES, **(headers or {})}
    )


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    return None


async def _read_args(request: web.Request) -> JsonDict:
    """Query, form fields and JSON body merged, as Slack accepts arguments in any of them."""
    args: JsonDict = dict(request.query)
    if not request.body_exists:
        return args
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            args[name] = value.file.read() if isinstance(value, web.FileField) else value
    return args


def _text_arg(call: Call, name: str) -> str | None:
    value = call.args.get(name)
    if value is None or value == "":
        return None
    return str(value)


def _required(call: Call, name: str, error: str) -> str:
    value = _text_arg(call, name)
    if value is None:
        raise SlackError(error)
    return value


def _int_arg(call: Call, name: str) -> int | None:
    value = call.args.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SlackError(f"invalid_{name}") from None


def _truthy(value: Any) -> bool:
    """Slack's reading of a boolean argument: JSON true, or "1"/"true" in a form or query."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _json_field(call: Call, name: str, error: str) -> Any:
    value = call.args.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error) from None
    return value


def _blocks(call: Call) -> list[JsonDict]:
    blocks = _json_field(call, "blocks", "invalid_blocks_format")
    if blocks is None:
        return []
    if not isinstance(blocks, list) or not all(
        isinstance(block, dict) and isinstance(block.get("type"), str) for block in blocks
    ):
        raise SlackError("invalid_blocks")
    if len(blocks) > MAX_BLOCKS:
        raise SlackError("invalid_blocks")
    return blocks


def _attachments(call: Call) -> list[JsonDict]:
    attachments = _json_field(call, "attachments", "invalid_attachments")
    if attachments is None:
        return []
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise SlackError("invalid_attachments")
    return attachments


def _content(call: Call) -> tuple[str, list[JsonDict], list[JsonDict]]:
    """Text, blocks and attachments of a new message, refused the way Slack refuses them."""
    text = _text_arg(call, "text") or ""
    blocks = _blocks(call)
    attachments = _attachments(call)
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return text, blocks, attachments


def _metadata(call: Call) -> JsonDict | None:
    metadata = _json_field(call, "metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}


def _view(call: Call) -> JsonDict:
    view = _json_field(call, "view", "invalid_arguments")
    if not isinstance(view, dict) or not isinstance(view.get("type"), str):
        raise SlackError("invalid_arguments")
    return view


def _check_hash(call: Call, existing: JsonDict) -> None:
    expected = _text_arg(call, "hash")
    if expected is not None and expected != existing["hash"]:
        raise SlackError("hash_conflict")


def group_id(users: list[str]) -> str:
    """The id of the group conversation of these users: the same for the same set, as Slack's."""
    digest = hashlib.sha1(",".join(sorted(set(users))).encode(), usedforsecurity=False)
    return "G" + digest.hexdigest()[:10].upper()


def _dm_for_user(channel: str) -> str:
    """Posting to a user id posts in the app's DM with that user, as in Slack."""
    return "D" + channel if channel.startswith(("U", "W")) else channel


def _is_top_level(message: JsonDict) -> bool:
    return message["thread_ts"] is None or message["thread_ts"] == message["ts"]


def _micros(ts: str) -> int:
    """A Slack ts ("1700000000.000100") as whole microseconds, to compare without floats."""
    seconds, _, fraction = str(ts).partition(".")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


def _range(call: Call) -> Callable[[str], bool]:
    """Slack's oldest/latest/inclusive filter: bounds excluded unless ``inclusive``."""
    try:
        oldest = _micros(_text_arg(call, "oldest") or "0")
        latest_arg = _text_arg(call, "latest")
        latest = _micros(latest_arg) if latest_arg is not None else None
    except ValueError:
        raise SlackError("invalid_ts_oldest") from None
    inclusive = _truthy(call.args.get("inclusive"))

    def in_range(ts: str) -> bool:
        at = _micros(ts)
        after = at >= oldest if inclusive else at > oldest
        before = latest is None or (at <= latest if inclusive else at < latest)
        return after and before

    return in_range


def _user(
    user_id: str,
    name: str,
    *,
    display_name: str | None = None,
    real_name: str,
    tz: str,
    locale: str,
    is_bot: bool,
    deleted: bool,
) -> JsonDict:
    now = datetime.now(ZoneInfo(tz))
    offset = now.utcoffset()
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": deleted,
        "real_name": real_name,
        "tz": tz,
        "tz_label": now.tzname() or tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        "locale": locale,
        "is_admin": False,
        "is_owner": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": int(datetime.now(UTC).timestamp()),
        "profile": {
            "display_name": name if display_name is None else display_name,
            "display_name_normalized": name if display_name is None else display_name,
            "real_name": real_name,
            "real_name_normalized": real_name,
            "team": TEAM_ID,
        },
    }


def _channel(channel_id: str, name: str, *, is_private: bool) -> JsonDict:
    return {
        "id": channel_id,
        "name": name,
        "is_channel": not is_private,
        "is_group": is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": is_private,
        "is_archived": False,
        "is_general": False,
        "is_member": True,
        "created": 1_700_000_000,
    }


def _shorten(args: JsonDict, limit: int = 300) -> str:
    text = json.dumps(args, default=repr, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
