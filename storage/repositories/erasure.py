"""Forgetting: a member erased on request (``vergeet-mij``), and intervisions past retention.

Erasure keeps the member row as a tombstone, so that what they gave the network in public
(questions, #zodan, #zodus, learning-prompt answers) stays readable under "oud-lid" and counts
stay right, while nothing on it or around it still says who they were: the name, platform id,
time zone, language and region are replaced or emptied, what was theirs alone is deleted, and
their name and platform id are replaced wherever Hoedan copied them (flow states, the outbox).

Retention deletes what was said in an intervision some time after it ended. Kept: that the
session took place (method, place, group size) and the lessons their authors allowed to be
shared, without the author.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, func, update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import DeliveryKind, OutboxStatus, Role
from storage.models import (
    Answer,
    Digest,
    DigestPreference,
    FlowInstance,
    HouseRuleAcknowledgement,
    HouseRuleObjection,
    IntervisionContribution,
    IntervisionParticipant,
    IntervisionSession,
    Invitation,
    Lesson,
    Member,
    OutboxMessage,
    Outcome,
    Question,
    ReflectionAnswer,
    Response,
    SpaceMember,
    TeamsReference,
)
from storage.repositories.members import name_key
from storage.repositories.privacy import PERSONAL_DELIVERIES, TEAMS_USER

FAREWELL_KEY = "privacy:farewell:"
"""The outbox key prefix of the last message to an erased member, queued to their old platform
id after the member row no longer has it. Once it is delivered (or failed for good), the row and
the Teams address it needed are removed (:meth:`ErasureRepository.finish_farewells`)."""


@dataclass(frozen=True)
class Erased:
    """What erasing a member did: rows deleted and rows kept under the tombstone, by kind."""

    deleted: dict[str, int]
    kept: dict[str, int]


@dataclass(frozen=True)
class Swap:
    """What replaces the erased member's name and platform id wherever they were copied."""

    member_id: int
    name: str
    external_id: str
    former_name: str
    tombstone: str

    def scrub(self, value: Any) -> Any:
        """``value`` (JSON) with the name and id replaced. A ``{"id": …, "name": …}`` person
        is renamed only when it is this member, so a namesake keeps their name there."""
        if isinstance(value, dict):
            person = "id" in value and "name" in value
            return {
                key: (
                    (self.former_name if value["id"] == self.member_id else item)
                    if person and key == "name"
                    else self.scrub(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if value == self.external_id:
            return self.tombstone
        if value == self.name:
            return self.former_name
        return value


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def in_running_session(self, member_id: int) -> bool:
        """Whether the member takes part in an intervision that has not ended.

        Such a session still writes to them (and to its group conversation, which is addressed
        by everyone's platform id), so erasure waits until it is over.
        """
        statement = select(IntervisionSession.id).where(
            col(IntervisionSession.ended_at).is_(None),
            or_(
                IntervisionSession.facilitator_id == member_id,
                IntervisionSession.case_owner_id == member_id,
                col(IntervisionSession.id).in_(
                    select(IntervisionParticipant.session_id).where(
                        IntervisionParticipant.member_id == member_id
                    )
                ),
            ),
        )
        return (await self._session.exec(statement)).first() is not None

    async def erase(
        self, member: Member, *, tombstone: str, former_name: str, now: datetime
    ) -> Erased:
        """Erase ``member`` in this transaction; the caller checked they are not erased yet."""
        member_id = _id(member)
        swap = Swap(
            member_id=member_id,
            name=member.display_name,
            external_id=member.external_id,
            former_name=former_name,
            tombstone=tombstone,
        )
        kept = await self._kept(member_id)
        deleted = {
            "deliveries": await self._forget_deliveries(member),
            "contributions": await self._delete(
                IntervisionContribution, IntervisionContribution.author_id == member_id
            ),
            "lessons": await self._delete(
                Lesson, Lesson.author_id == member_id, col(Lesson.shareable).is_(False)
            ),
            "spaces": await self._delete(SpaceMember, SpaceMember.member_id == member_id),
            "invitations": await self._delete(Invitation, Invitation.member_id == member_id),
            "digests": await self._delete(Digest, Digest.coordinator_id == member_id)
            + await self._delete(DigestPreference, DigestPreference.member_id == member_id),
        }
        kept["lessons"] = await self._orphan_lessons(Lesson.author_id == member_id)
        await self._scrub_flows(swap)
        await self._scrub_outbox(member, swap)
        member.external_id = tombstone
        member.display_name = former_name
        member.name_key = name_key(former_name)
        member.region_id = None
        member.role = Role.PARTICIPANT
        member.timezone = None
        member.locale = None
        member.invitations_off = True
        member.last_seen_at = now
        member.erased_at = now
        self._session.add(member)
        await self._session.flush()
        return Erased(
            deleted={key: count for key, count in deleted.items() if count},
            kept={key: count for key, count in kept.items() if count},
        )

    async def _kept(self, member_id: int) -> dict[str, int]:
        """What stays under the tombstone: what the member gave the network in public."""
        counted = {
            "questions": (Question, Question.asker_id),
            "answers": (Answer, Answer.answerer_id),
            "outcomes": (Outcome, Outcome.member_id),
            "prompt_answers": (Response, Response.member_id),
            "reflections": (ReflectionAnswer, ReflectionAnswer.member_id),
            "acknowledgements": (HouseRuleAcknowledgement, HouseRuleAcknowledgement.member_id),
            "objections": (HouseRuleObjection, HouseRuleObjection.member_id),
        }
        kept: dict[str, int] = {}
        for key, (model, column) in counted.items():
            statement = select(func.count()).select_from(model).where(column == member_id)
            kept[key] = int((await self._session.exec(statement)).one())
        return kept

    async def _delete(self, model: type[Any], *conditions: Any) -> int:
        result = await self._session.exec(
            delete(model).where(*conditions).execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)

    async def _orphan_lessons(self, *conditions: Any) -> int:
        """Shared lessons lose their author; the lesson itself stays."""
        result = await self._session.exec(
            update(Lesson)
            .where(*conditions, col(Lesson.shareable).is_(True))
            .values(author_id=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)

    async def _forget_deliveries(self, member: Member) -> int:
        """Messages for the member alone go: pending ones are cancelled, sent ones were copies
        of what they received. A group message stays (others received it), with their platform
        id replaced in its address (:meth:`_scrub_outbox`)."""
        return await self._delete(
            OutboxMessage,
            OutboxMessage.platform == member.platform,
            OutboxMessage.member_ref == member.external_id,
            col(OutboxMessage.kind).in_(PERSONAL_DELIVERIES),
        )

    async def _scrub_flows(self, swap: Swap) -> None:
        """Flow states copy names and platform ids (who takes part, who said "Akkoord")."""
        for flow in (await self._session.exec(select(FlowInstance))).all():
            scrubbed = swap.scrub(flow.data)
            if scrubbed != flow.data:
                flow.data = scrubbed
                self._session.add(flow)

    async def _scrub_outbox(self, member: Member, swap: Swap) -> None:
        """Messages to others that name the member, and group addresses that list them.

        Names reach a message as separate user spans, so a span that is exactly the name is
        replaced; the database narrows the search to payloads that contain the name at all.
        """
        payload = cast(OutboxMessage.payload, Text)
        patterns = {_like(swap.name), _like(json.dumps(swap.name)[1:-1])}
        statement = select(OutboxMessage).where(
            or_(*(payload.like(pattern, escape="\\") for pattern in patterns))
        )
        for row in (await self._session.exec(statement)).all():
            scrubbed = swap.scrub(row.payload)
            if scrubbed != row.payload:
                row.payload = scrubbed
                self._session.add(row)
        groups = select(OutboxMessage).where(
            OutboxMessage.platform == member.platform,
            OutboxMessage.kind == DeliveryKind.GROUP,
            col(OutboxMessage.member_ref).like(_like(swap.external_id), escape="\\"),
        )
        for row in (await self._session.exec(groups)).all():
            refs = (row.member_ref or "").split(",")
            row.member_ref = ",".join(
                swap.tombstone if ref == swap.external_id else ref for ref in refs
            )
            self._session.add(row)

    # Farewells --------------------------------------------------------------------------------

    async def finish_farewells(self) -> int:
        """Remove farewells that were delivered or failed for good, with the Teams address they
        needed (unless the person came back as a new member); returns how many."""
        statement = select(OutboxMessage).where(
            col(OutboxMessage.idempotency_key).startswith(FAREWELL_KEY, autoescape=True),
            col(OutboxMessage.status).in_([OutboxStatus.SENT, OutboxStatus.FAILED]),
        )
        finished = list((await self._session.exec(statement)).all())
        for row in finished:
            returned = await self._session.exec(
                select(Member.id).where(
                    Member.platform == row.platform, Member.external_id == row.member_ref
                )
            )
            if returned.first() is None:
                await self._delete(
                    TeamsReference,
                    TeamsReference.kind == TEAMS_USER,
                    TeamsReference.ref == row.member_ref,
                )
            await self._session.delete(row)
        await self._session.flush()
        return len(finished)

    # Retention ------------------------------------------------------------------------------

    async def sessions_past(self, cutoff: datetime) -> list[IntervisionSession]:
        """Sessions that ended at or before ``cutoff`` and still hold something to forget."""
        spoken = select(IntervisionContribution.session_id)
        signed = select(Lesson.session_id).where(col(Lesson.author_id).is_not(None))
        statement = (
            select(IntervisionSession)
            .where(
                col(IntervisionSession.ended_at).is_not(None),
                col(IntervisionSession.ended_at) <= cutoff,
                or_(
                    col(IntervisionSession.flow_id).is_not(None),
                    col(IntervisionSession.id).in_(spoken),
                    col(IntervisionSession.id).in_(signed),
                ),
            )
            .order_by(col(IntervisionSession.id))
        )
        return list((await self._session.exec(statement)).all())

    async def forget_session(self, row: IntervisionSession, *, subject: str) -> dict[str, int]:
        """Delete what was said in a session, the lessons not meant to be shared, and the
        session's running state with every message Hoedan sent about it (``subject``)."""
        session_id = _id(row)
        forgotten = {
            "contributions": await self._delete(
                IntervisionContribution, IntervisionContribution.session_id == session_id
            ),
            "lessons": await self._delete(
                Lesson, Lesson.session_id == session_id, col(Lesson.shareable).is_(False)
            ),
            "lessons_kept": await self._orphan_lessons(Lesson.session_id == session_id),
            "messages": 0,
        }
        flow_id = row.flow_id
        if flow_id is not None:
            forgotten["messages"] = await self._delete(
                OutboxMessage,
                or_(
                    col(OutboxMessage.idempotency_key).startswith(
                        f"flow:{flow_id}:", autoescape=True
                    ),
                    OutboxMessage.subject == subject,
                ),
            )
            row.flow_id = None
            self._session.add(row)
            await self._session.flush()
            await self._delete(FlowInstance, FlowInstance.id == flow_id)
        return forgotten


def _like(text: str) -> str:
    """A LIKE pattern for "contains ``text``", its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _id(row: Member | IntervisionSession) -> int:
    if row.id is None:
        raise ValueError("row has not been stored yet")
    return row.id
