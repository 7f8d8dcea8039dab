"""Putting a report into the upload session Teams opened in a member's OneDrive.

When a member accepts a file-consent card, Teams creates an upload session in their OneDrive and
sends its address (``uploadUrl``) in the invoke. The address carries its own short-lived token in
its query string: Hoedan sends no Authorization header there, and never logs more of it than its
host. A report is small (tens of kilobytes), so it goes in one PUT of all its bytes, well within
the 60 MiB a single fragment of an upload session may hold.

The address is not a Bot Connector host (it is SharePoint's), so the SDK's host validator does
not apply. What makes it trustworthy is the authenticated invoke it came in; what Hoedan checks
itself is the scheme: https only, except plain http to this machine in anonymous local
development, where a fake stands in for OneDrive.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=60)
ATTEMPTS = 4
BACKOFF = 0.5
"""Seconds before the second attempt; each later wait doubles (0.5, 1, 2)."""
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class UploadFailed(Exception):
    """The file could not be put into the upload session (refused, or still failing)."""


def upload_allowed(url: str, *, anonymous: bool) -> bool:
    """Whether Hoedan may PUT a file to ``url``: https, or http to loopback when anonymous."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    if parts.scheme == "https":
        return True
    return anonymous and parts.scheme == "http" and host in LOOPBACK


def host_of(url: str) -> str:
    """What may be logged of an upload address: its host, never the token-bearing query."""
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


class Uploader:
    def __init__(self, *, anonymous: bool, backoff: float = BACKOFF) -> None:
        self._anonymous = anonymous
        self._backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    def allowed(self, url: str) -> bool:
        return upload_allowed(url, anonymous=self._anonymous)

    async def put(self, url: str, data: bytes) -> None:
        """Upload ``data`` as the whole file, trying again after a 5xx, 408, 429 or time-out.

        Redirects are not followed: the file goes to the address Teams named or nowhere.
        """
        if not self.allowed(url):
            raise UploadFailed(f"not an upload address Hoedan may use: {host_of(url)}")
        if not data:
            raise UploadFailed("an upload session takes at least one byte")
        size = len(data)
        headers = {"Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}"}
        target = URL(url, encoded=True)
        why = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                async with self._client().put(
                    target, data=data, headers=headers, allow_redirects=False
                ) as response:
                    if response.status < 300:
                        return
                    why = f"status {response.status}"
                    if not _retryable(response.status):
                        break
            except (TimeoutError, aiohttp.ClientError) as exc:
                # Only the type: aiohttp's messages quote the address, token and all.
                why = type(exc).__name__
            log.info("upload to %s failed (%s), attempt %d", host_of(url), why, attempt + 1)
        raise UploadFailed(why)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
