"""A fake Bot Connector on 127.0.0.1: records every request Hoedan makes, as Teams would see it.

It answers like the real REST API (``{"id": …}`` for a posted activity or an opened
conversation) and can be told to fail the next requests, say with a 429 and ``Retry-After``.
It also stands in for the OneDrive upload session a file-consent card opens (``PUT /upload/…``,
with a token in the query string as the real address has), which can be told to fail too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Posted:
    """One request that reached the fake."""

    conversation_id: str | None
    """None for ``POST /v3/conversations`` (opening a conversation)."""
    reply_to: str | None
    body: dict[str, Any]
    authorization: str | None
    status: int
    id: str | None = None
    """The id the fake answered with (a posted activity's, or an opened conversation's)."""

    @property
    def is_typing(self) -> bool:
        return self.body.get("type") == "typing"

    @property
    def texts(self) -> list[str]:
        """Every TextBlock text and fact in the activity's cards, top to bottom."""
        found: list[str] = []
        for attachment in self.body.get("attachments") or []:
            _collect(attachment.get("content"), found)
        return found

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def actions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for attachment in self.body.get("attachments") or []:
            _collect_actions(attachment.get("content"), found)
        return found


def _collect(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        if value.get("type") == "TextBlock" and isinstance(value.get("text"), str):
            found.append(value["text"])
        if value.get("type") == "FactSet":
            found.extend(f"{f.get('title')}: {f.get('value')}" for f in value.get("facts", []))
        for key, item in value.items():
            if key != "facts":
                _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def _collect_actions(value: Any, found: list[dict[str, Any]]) -> None:
    if isinstance(value, dict):
        if str(value.get("type", "")).startswith("Action."):
            found.append(value)
        for item in value.values():
            _collect_actions(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_actions(item, found)


@dataclass(frozen=True)
class Upload:
    """One PUT that reached the fake upload session."""

    name: str
    data: bytes
    headers: dict[str, str]
    query: str
    status: int


UPLOAD_QUERY = "tempauth=eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.secret%2Btoken"
"""What the fake's upload addresses carry, like the token in a real one: never to be logged."""


@dataclass
class _Failure:
    status: int
    retry_after: str | None


@dataclass
class FakeConnector:
    requests: list[Posted] = field(default_factory=list)
    """Every request, failed ones included, in order."""
    _failures: list[_Failure] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    """Every PUT to an upload session, failed ones included, in order."""
    _upload_failures: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9001))
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def service_url(self) -> str:
        """What activities carry as ``serviceUrl`` (with the trailing slash Teams sends)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def delivered(self) -> list[Posted]:
        """Messages that were accepted (2xx): no typing indicators, no conversations opened."""
        return [
            p
            for p in self.requests
            if p.conversation_id is not None and p.status < 300 and not p.is_typing
        ]

    @property
    def typing(self) -> list[Posted]:
        return [p for p in self.requests if p.is_typing]

    @property
    def opened(self) -> list[Posted]:
        return [p for p in self.requests if p.conversation_id is None and p.status < 300]

    def to(self, conversation_id: str) -> list[Posted]:
        """Accepted activities in a conversation, its channel threads included."""
        return [
            p
            for p in self.delivered
            if p.conversation_id is not None
            and p.conversation_id.partition(";messageid=")[0] == conversation_id
        ]

    def upload_url(self, name: str) -> str:
        """An upload session's address, as Teams gives it in an accepted file-consent invoke."""
        return f"http://127.0.0.1:{self.port}/upload/{name}?{UPLOAD_QUERY}"

    @property
    def completed_uploads(self) -> list[Upload]:
        return [upload for upload in self.uploads if upload.status < 300]

    def fail_uploads(self, times: int = 1) -> None:
        """Answer the next ``times`` uploads with a 500."""
        self._upload_failures += times

    def fail_next(self, status: int, *, retry_after: str | None = None, times: int = 1) -> None:
        self._failures.extend(_Failure(status, retry_after) for _ in range(times))

    async def __aenter__(self) -> FakeConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._open)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._post)
        app.router.add_put("/upload/{name}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _failure(self, body: dict[str, Any]) -> web.Response | None:
        """The next planned failure, for a message or an opened conversation (typing
        indicators never fail here, so a test's 429 always hits what it is about)."""
        if not self._failures or body.get("type") == "typing":
            return None
        failure = self._failures.pop(0)
        headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
        return web.json_response(
            {"error": {"code": "Throttled" if failure.status == 429 else "Failed"}},
            status=failure.status,
            headers=headers,
        )

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        failed = self._failure(body)
        posted = None if failed is not None else str(next(self._ids))
        self.requests.append(
            Posted(
                conversation_id=request.match_info["conversation"],
                reply_to=request.match_info.get("reply_to"),
                body=body,
                authorization=request.headers.get("Authorization"),
                status=failed.status if failed is not None else 201,
                id=posted,
            )
        )
        if failed is not None:
            return failed
        return web.json_response({"id": posted}, status=201)

    async def _open(self, request: web.Request) -> web.Response:
        body = await request.json()
        failed = self._failure(body)
        members = body.get("members") or [{}]
        opened = f"a:personal-{members[0].get('id')}"
        self.requests.append(
            Posted(
                conversation_id=None,
                reply_to=None,
                body=body,
                authorization=request.headers.get("Authorization"),
                status=failed.status if failed is not None else 201,
                id=None if failed is not None else opened,
            )
        )
        if failed is not None:
            return failed
        return web.json_response({"id": opened}, status=201)

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        status = 500 if self._upload_failures else 201
        self._upload_failures = max(self._upload_failures - 1, 0)
        name = request.match_info["name"]
        self.uploads.append(
            Upload(
                name=name,
                data=data,
                headers=dict(request.headers),
                query=request.query_string,
                status=status,
            )
        )
        if status >= 300:
            return web.json_response({"error": {"code": "generalException"}}, status=status)
        return web.json_response({"id": "01FILE", "name": name, "size": len(data)}, status=201)
