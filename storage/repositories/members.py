"""Members and their roles."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import Platform, Role
from storage.models import Member, RoleChange
from storage.repositories._upsert import add_if_absent
from storage.search import fold
from storage.types import utcnow

NAME_CHARS = 255
"""The width of name columns; platforms may send longer names, which are cut to fit."""

LAST_SEEN_PRECISION = timedelta(minutes=10)
"""``last_seen_at`` is kept to within this, so a busy member does not cost a write per message."""


def name_key(display_name: str) -> str:
    """How typed names are matched against members: case and accents do not matter."""
    return " ".join(fold(display_name).lstrip("@").split())[:NAME_CHARS]


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, member_id: int) -> Member | None:
        return await self._session.get(Member, member_id)

    async def by_external_id(self, *, platform: Platform, external_id: str) -> Member | None:
        statement = select(Member).where(
            Member.platform == platform, Member.external_id == external_id
        )
        return (await self._session.exec(statement)).first()

    async def get_or_create(
        self, *, network_id: int, platform: Platform, external_id: str, display_name: str
    ) -> Member:
        """The member behind a platform user, created on first contact and kept up to date."""
        display_name = shorten_name(display_name)
        member = await self.by_external_id(platform=platform, external_id=external_id)
        now = utcnow()
        if member is None:
            new = Member(
                network_id=network_id,
                platform=platform,
                external_id=external_id,
                display_name=display_name,
                name_key=name_key(display_name),
                created_at=now,
                last_seen_at=now,
            )
            return await add_if_absent(self._session, new, ["platform", "external_id"])
        if now - member.last_seen_at >= LAST_SEEN_PRECISION:
            member.last_seen_at = now
        if display_name and member.display_name != display_name:
            member.display_name = display_name
            member.name_key = name_key(display_name)
        return member

    async def find(self, *, network_id: int, platform: Platform, reference: str) -> list[Member]:
        """Members matching what someone typed: a platform id or a display name."""
        by_id = await self.by_external_id(platform=platform, external_id=reference)
        if by_id is not None:
            return [by_id]
        statement = select(Member).where(
            Member.network_id == network_id,
            Member.platform == platform,
            Member.name_key == name_key(reference),
        )
        return list((await self._session.exec(statement)).all())

    async def named(self, *, network_id: int, name: str) -> list[Member]:
        """Members on any platform known by this name, erased ones left out, oldest first."""
        statement = (
            select(Member)
            .where(
                Member.network_id == network_id,
                Member.name_key == name_key(name),
                col(Member.erased_at).is_(None),
            )
            .order_by(col(Member.id))
        )
        return list((await self._session.exec(statement)).all())

    async def set_role(self, *, member: Member, role: Role, granted_by: Member | None) -> None:
        member.role = role
        self._session.add(
            RoleChange(
                member_id=_id(member),
                role=role,
                granted_by_id=granted_by.id if granted_by else None,
            )
        )

    async def set_region(self, *, member: Member, region_id: int | None) -> None:
        member.region_id = region_id
        self._session.add(member)


def shorten_name(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _id(member: Member) -> int:
    if member.id is None:
        raise ValueError("member has not been stored yet")
    return member.id
