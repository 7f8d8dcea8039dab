"""Who is behind a Slack user id: name, time zone and locale, from ``users.info``.

Slack events carry only ids. The first time Hoedan meets someone it asks Slack for their profile,
so a new member starts with a real name, their own time zone and (for English speakers) English.
Profiles are cached for a few hours; a lookup that fails falls back to what the payload itself
says, because answering the person matters more than a perfect name.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from flows.events import Actor
from storage.enums import Platform

log = logging.getLogger(__name__)

CACHE_SECONDS = 6 * 3600
CACHE_SIZE = 10_000


@dataclass(frozen=True)
class _Entry:
    actor: Actor
    fetched_at: float


def actor_from_user(user: dict[str, Any], user_id: str) -> Actor:
    """An Actor from a ``users.info`` user object (best name first: display, real, handle)."""
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    candidates = (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    )
    name = next((c.strip() for c in candidates if isinstance(c, str) and c.strip()), user_id)
    locale = user.get("locale")
    timezone = user.get("tz")
    return Actor(
        platform=Platform.SLACK,
        external_id=user_id,
        display_name=name,
        locale=locale if isinstance(locale, str) else None,
        timezone=timezone if isinstance(timezone, str) else None,
    )


class Profiles:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        cache_seconds: float = CACHE_SECONDS,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Actor]] = {}

    async def actor(self, user_id: str, *, fallback_name: str | None = None) -> Actor:
        """The person behind ``user_id``; concurrent lookups of one id share one API call."""
        entry = self._cache.get(user_id)
        if entry is not None and time.monotonic() - entry.fetched_at < self._cache_seconds:
            self._cache.move_to_end(user_id)
            return entry.actor
        pending = self._pending.get(user_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Actor] = asyncio.get_running_loop().create_future()
        self._pending[user_id] = future
        try:
            actor = await self._fetch(user_id, fallback_name)
            future.set_result(actor)
            return actor
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future never warns
            raise
        finally:
            del self._pending[user_id]

    async def names(self, user_ids: Sequence[str]) -> dict[str, str]:
        """Display names of these people (picked in a dialog), looked up side by side.

        Someone who cannot be looked up keeps their id as name: the dialog still goes through.
        """
        found = await asyncio.gather(
            *(self.actor(user_id) for user_id in user_ids), return_exceptions=True
        )
        names: dict[str, str] = {}
        for user_id, actor in zip(user_ids, found, strict=True):
            if isinstance(actor, Actor):
                names[user_id] = actor.display_name
            else:
                log.warning("no name for %s: %s", user_id, _reason(actor))
                names[user_id] = user_id
        return names

    async def _fetch(self, user_id: str, fallback_name: str | None) -> Actor:
        try:
            response = await self._client.users_info(user=user_id, include_locale=True)
        except (SlackApiError, TimeoutError, OSError, aiohttp.ClientError) as exc:
            log.warning("users.info failed for %s: %s", user_id, _reason(exc))
            return Actor(
                platform=Platform.SLACK,
                external_id=user_id,
                display_name=fallback_name or user_id,
            )
        user = response.get("user")
        actor = actor_from_user(user if isinstance(user, dict) else {}, user_id)
        self._cache[user_id] = _Entry(actor, time.monotonic())
        self._cache.move_to_end(user_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return actor


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown"))
    return type(exc).__name__
