"""Conversation references: what Hoedan must remember to write in Teams without a turn.

Every activity says where its conversation lives (``serviceUrl``), which tenant it belongs to and
which id the bot has there. Those are stored per conversation and per user on install and first
contact, and refreshed when they change, so that a weekly prompt, a digest or the notice that a
question was answered reach people long after (and across restarts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from bot.teams.inbound import added_members, bot_id_of, team_of, tenant_of, user_id_of, where
from storage.enums import SpaceKind
from storage.models import TeamsReference
from storage.store import Store
from storage.types import utcnow

CONVERSATION = "conversation"
USER = "user"
TEAM_CHANNEL = "team-channel"
"""A channel (``ref``) and the team it belongs to (``conversation_id``): when someone joins a
team, Teams says so once for the team, and Hoedan welcomes them in each channel it knows."""

CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class Reference:
    kind: str
    ref: str
    service_url: str
    bot_id: str
    tenant_id: str | None = None
    conversation_id: str | None = None


def references_in(activity: Mapping[str, Any]) -> list[Reference]:
    """What this activity teaches about its conversation and its sender.

    A 1:1 chat is also the user's way in for proactive messages, so its id is kept on the user.
    """
    service_url = activity.get("serviceUrl")
    bot_id = bot_id_of(activity)
    spot = where(activity)
    if not isinstance(service_url, str) or not service_url or bot_id is None or spot is None:
        return []
    tenant = tenant_of(activity)
    found = [
        Reference(
            kind=CONVERSATION,
            ref=spot.space_id,
            service_url=service_url,
            bot_id=bot_id,
            tenant_id=tenant,
        )
    ]
    team = team_of(activity)
    if team is not None and spot.kind is SpaceKind.CHANNEL:
        found.append(
            Reference(
                kind=TEAM_CHANNEL,
                ref=spot.space_id,
                service_url=service_url,
                bot_id=bot_id,
                tenant_id=tenant,
                conversation_id=team,
            )
        )
    user_id = user_id_of(activity)
    personal = spot.space_id if spot.kind is SpaceKind.DIRECT else None
    users = [(user_id, personal)] if user_id is not None else []
    users.extend((added.external_id, None) for added in added_members(activity))
    found.extend(
        Reference(
            kind=USER,
            ref=user,
            service_url=service_url,
            bot_id=bot_id,
            tenant_id=tenant,
            conversation_id=conversation,
        )
        for user, conversation in users
        if user != bot_id
    )
    return found


class References:
    """Stored references, written only when they changed since this process last wrote them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._written: dict[tuple[str, str], Reference] = {}

    async def remember(self, references: list[Reference]) -> None:
        fresh = [ref for ref in references if not self._known(ref)]
        if not fresh:
            return
        async with self._store.transaction() as tx:
            for reference in fresh:
                await _upsert(tx.session, reference)
        if len(self._written) > CACHE_LIMIT:
            self._written.clear()
        for reference in fresh:
            self._written[(reference.kind, reference.ref)] = reference

    def _known(self, reference: Reference) -> bool:
        known = self._written.get((reference.kind, reference.ref))
        if known is None:
            return False
        # A user seen in a channel says nothing new about their 1:1 chat.
        if reference.conversation_id is None:
            reference = replace(reference, conversation_id=known.conversation_id)
        return known == reference

    async def get(self, kind: str, ref: str) -> Reference | None:
        async with self._store.transaction() as tx:
            row = await tx.session.get(TeamsReference, (kind, ref))
        if row is None:
            return None
        return Reference(
            kind=row.kind,
            ref=row.ref,
            service_url=row.service_url,
            bot_id=row.bot_id,
            tenant_id=row.tenant_id,
            conversation_id=row.conversation_id,
        )

    async def channels_of(self, team_id: str) -> list[str]:
        """The channels of a team Hoedan has seen activity in, oldest sighting first."""
        statement = (
            select(TeamsReference.ref)
            .where(
                TeamsReference.kind == TEAM_CHANNEL,
                TeamsReference.conversation_id == team_id,
            )
            .order_by(col(TeamsReference.updated_at))
        )
        async with self._store.transaction() as tx:
            return list((await tx.session.exec(statement)).all())

    async def set_personal(self, user: Reference, conversation_id: str) -> None:
        """Keep the 1:1 chat the Bot Connector opened for a user."""
        await self.remember(
            [
                Reference(
                    kind=USER,
                    ref=user.ref,
                    service_url=user.service_url,
                    bot_id=user.bot_id,
                    tenant_id=user.tenant_id,
                    conversation_id=conversation_id,
                )
            ]
        )


async def _upsert(session: Any, reference: Reference) -> None:
    """Insert or refresh one row; a known 1:1 chat is never forgotten by a channel sighting."""
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "kind": reference.kind,
        "ref": reference.ref,
        "service_url": reference.service_url,
        "bot_id": reference.bot_id,
        "tenant_id": reference.tenant_id,
        "conversation_id": reference.conversation_id,
        "updated_at": utcnow(),
    }
    statement = insert(TeamsReference.__table__)  # type: ignore[attr-defined]
    changes: dict[str, Any] = {
        "service_url": statement.excluded.service_url,
        "bot_id": statement.excluded.bot_id,
        "tenant_id": func.coalesce(statement.excluded.tenant_id, statement.table.c.tenant_id),
        "updated_at": statement.excluded.updated_at,
    }
    if reference.conversation_id is not None:
        changes["conversation_id"] = statement.excluded.conversation_id
    await session.exec(
        statement.values(**values).on_conflict_do_update(
            index_elements=["kind", "ref"], set_=changes
        )
    )
