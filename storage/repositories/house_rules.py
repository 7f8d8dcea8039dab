"""House rules (spelregels): one set per space, its proposed and adopted versions, objections and
acknowledgements.

A version's ``text`` holds the rules one per line, without numbers. Every proposal takes the
next ``version`` of its set; a proposal that met an objection is withdrawn, so the number people
see ("versie 2") counts adopted versions only (``adopted_number``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import HouseRuleStatus
from storage.models import (
    FlowInstance,
    HouseRuleAcknowledgement,
    HouseRuleObjection,
    HouseRuleSet,
    HouseRuleVersion,
    Member,
    OutboxMessage,
)
from storage.repositories._upsert import insert_if_absent
from storage.types import utcnow

_ADOPTED_ONCE = (HouseRuleStatus.ADOPTED, HouseRuleStatus.SUPERSEDED)


class HouseRuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def rule_set(self, space_id: int) -> HouseRuleSet | None:
        statement = (
            select(HouseRuleSet)
            .where(HouseRuleSet.space_id == space_id)
            .order_by(col(HouseRuleSet.id))
        )
        return (await self._session.exec(statement)).first()

    async def ensure_rule_set(
        self, *, space_id: int, title: str, created_by_id: int | None
    ) -> HouseRuleSet:
        found = await self.rule_set(space_id)
        if found is not None:
            return found
        row = HouseRuleSet(space_id=space_id, title=title[:200], created_by_id=created_by_id)
        self._session.add(row)
        await self._session.flush()
        return row

    async def version(self, version_id: int) -> HouseRuleVersion | None:
        return await self._session.get(HouseRuleVersion, version_id)

    async def space_of(self, version: HouseRuleVersion) -> int | None:
        rule_set = await self._session.get(HouseRuleSet, version.rule_set_id)
        return rule_set.space_id if rule_set is not None else None

    async def _in_space(self, space_id: int, status: HouseRuleStatus) -> HouseRuleVersion | None:
        statement = (
            select(HouseRuleVersion)
            .join(HouseRuleSet, col(HouseRuleSet.id) == HouseRuleVersion.rule_set_id)
            .where(HouseRuleSet.space_id == space_id, HouseRuleVersion.status == status)
            .order_by(col(HouseRuleVersion.version).desc())
        )
        return (await self._session.exec(statement)).first()

    async def current(self, space_id: int) -> HouseRuleVersion | None:
        """The adopted version of a space's rules, if it has any."""
        return await self._in_space(space_id, HouseRuleStatus.ADOPTED)

    async def open_proposal(self, space_id: int) -> HouseRuleVersion | None:
        return await self._in_space(space_id, HouseRuleStatus.PROPOSED)

    async def proposal_flow(self, *, space_id: int, kind: str) -> FlowInstance | None:
        """The running proposal flow of a space (there is at most one at a time)."""
        statement = (
            select(FlowInstance)
            .where(
                FlowInstance.kind == kind,
                FlowInstance.space_id == space_id,
                col(FlowInstance.finished_at).is_(None),
            )
            .order_by(col(FlowInstance.id).desc())
        )
        return (await self._session.exec(statement)).first()

    async def adopted_number(self, version: HouseRuleVersion) -> int:
        """Which adopted version this is, counting only versions that were ever adopted."""
        statement = (
            select(func.count())
            .select_from(HouseRuleVersion)
            .where(
                HouseRuleVersion.rule_set_id == version.rule_set_id,
                col(HouseRuleVersion.version) <= version.version,
                col(HouseRuleVersion.status).in_([s.value for s in _ADOPTED_ONCE]),
            )
        )
        return int((await self._session.exec(statement)).one())

    async def propose(
        self, *, rule_set: HouseRuleSet, text: str, proposed_by_id: int, deadline: datetime
    ) -> HouseRuleVersion:
        statement = select(func.max(HouseRuleVersion.version)).where(
            HouseRuleVersion.rule_set_id == rule_set.id
        )
        highest = (await self._session.exec(statement)).one()
        assert rule_set.id is not None
        row = HouseRuleVersion(
            rule_set_id=rule_set.id,
            version=int(highest or 0) + 1,
            text=text,
            status=HouseRuleStatus.PROPOSED,
            proposed_by_id=proposed_by_id,
            consent_deadline=deadline,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def adopt(self, version: HouseRuleVersion, *, now: datetime) -> None:
        """The proposal becomes the rules; the version it replaces is kept as superseded."""
        statement = select(HouseRuleVersion).where(
            HouseRuleVersion.rule_set_id == version.rule_set_id,
            HouseRuleVersion.status == HouseRuleStatus.ADOPTED,
        )
        for earlier in (await self._session.exec(statement)).all():
            earlier.status = HouseRuleStatus.SUPERSEDED
            self._session.add(earlier)
        version.status = HouseRuleStatus.ADOPTED
        version.adopted_at = now
        self._session.add(version)
        await self._session.flush()

    async def withdraw(self, version: HouseRuleVersion) -> None:
        version.status = HouseRuleStatus.WITHDRAWN
        self._session.add(version)
        await self._session.flush()

    async def object(self, *, version_id: int, member_id: int, reason: str) -> None:
        self._session.add(
            HouseRuleObjection(version_id=version_id, member_id=member_id, reason=reason)
        )
        await self._session.flush()

    async def objections(self, version_id: int) -> list[tuple[str, str]]:
        """``(member name, reason)`` of each objection to a version, in the order raised."""
        statement = (
            select(Member.display_name, HouseRuleObjection.reason)
            .join(Member, col(Member.id) == HouseRuleObjection.member_id)
            .where(HouseRuleObjection.version_id == version_id)
            .order_by(col(HouseRuleObjection.id))
        )
        return [(name, reason) for name, reason in (await self._session.exec(statement)).all()]

    async def acknowledge(self, *, version_id: int, member_id: int) -> bool:
        """Record that a member accepts a version; False when they already had."""
        return await insert_if_absent(
            self._session,
            HouseRuleAcknowledgement,
            {"version_id": version_id, "member_id": member_id, "created_at": utcnow()},
            ["version_id", "member_id"],
        )

    async def said_before(self, subject: str) -> bool:
        """Whether a message about ``subject`` was queued already (Slack announces one join
        twice: as ``member_joined_channel`` and as a ``channel_join`` message)."""
        statement = select(OutboxMessage.id).where(OutboxMessage.subject == subject).limit(1)
        return (await self._session.exec(statement)).first() is not None

    async def acknowledged(self, *, version_id: int, member_id: int) -> bool:
        found = await self._session.get(HouseRuleAcknowledgement, (version_id, member_id))
        return found is not None
