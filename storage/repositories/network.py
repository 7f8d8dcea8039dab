"""Networks, regions and spaces."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import Platform, SpaceKind
from storage.models import Member, Network, Region, Space, SpaceMember
from storage.repositories._upsert import add_if_absent, insert_if_absent
from storage.repositories.members import shorten_name
from storage.search import fold
from storage.types import utcnow

REGION_KEY_CHARS = 120


def region_key(name: str) -> str:
    """How region names are matched: "Zuid Limburg", "zuid-limburg" and "Zuid-Limburg" agree."""
    return " ".join(fold(name).replace("-", " ").split())[:REGION_KEY_CHARS]


class NetworkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_slug(self, slug: str) -> Network | None:
        return (await self._session.exec(select(Network).where(Network.slug == slug))).first()

    async def get_or_create(self, *, slug: str, name: str) -> Network:
        network = await self.by_slug(slug)
        if network is None:
            network = await add_if_absent(self._session, Network(slug=slug, name=name), ["slug"])
        return network

    async def next_question_number(self, *, network_id: int) -> int:
        """Reserve the next question number; atomic, so concurrent askers never share one."""
        statement = (
            update(Network)
            .where(col(Network.id) == network_id)
            .values(question_counter=col(Network.question_counter) + 1)
            .returning(col(Network.question_counter))
        )
        number = (await self._session.exec(statement)).scalar_one()
        return int(number)


class RegionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_name(self, *, network_id: int, name: str) -> Region | None:
        statement = select(Region).where(
            Region.network_id == network_id, Region.key == region_key(name)
        )
        return (await self._session.exec(statement)).first()

    async def get(self, region_id: int) -> Region | None:
        return await self._session.get(Region, region_id)

    async def all(self, *, network_id: int) -> list[Region]:
        statement = select(Region).where(Region.network_id == network_id).order_by(Region.name)
        return list((await self._session.exec(statement)).all())

    async def create(self, *, network_id: int, name: str) -> Region:
        region = Region(network_id=network_id, name=name, key=region_key(name))
        self._session.add(region)
        await self._session.flush()
        return region


class SpaceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def note_member(self, *, space_id: int, member_id: int) -> None:
        """Remember that a member was seen in a space (once; later sightings change nothing)."""
        await insert_if_absent(
            self._session,
            SpaceMember,
            {"space_id": space_id, "member_id": member_id, "first_seen_at": utcnow()},
            ["space_id", "member_id"],
        )

    async def members(self, space_id: int, *, limit: int) -> list[Member]:
        """The members seen in a space who have not asked to be forgotten, by name."""
        statement = (
            select(Member)
            .join(SpaceMember, col(SpaceMember.member_id) == Member.id)
            .where(SpaceMember.space_id == space_id, col(Member.erased_at).is_(None))
            .order_by(col(Member.name_key), col(Member.id))
            .limit(limit)
        )
        return list((await self._session.exec(statement)).all())

    async def get(self, space_id: int) -> Space | None:
        return await self._session.get(Space, space_id)

    async def get_or_create(
        self, *, network_id: int, platform: Platform, external_id: str, name: str, kind: SpaceKind
    ) -> Space:
        name = shorten_name(name)
        statement = select(Space).where(
            Space.platform == platform, Space.external_id == external_id
        )
        space = (await self._session.exec(statement)).first()
        if space is None:
            new = Space(
                network_id=network_id,
                platform=platform,
                external_id=external_id,
                name=name,
                kind=kind,
            )
            space = await add_if_absent(self._session, new, ["platform", "external_id"])
        elif name and name != external_id and space.name != name:
            space.name = name
        return space
