"""Intervision sessions, their participants, contributions and lessons.

Contributions stay with their session: nothing here reads them across sessions. Only lessons
whose author ticked "mag gedeeld worden" are ever read outside a session, and then without the
author (``shared_lessons``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    IntervisionContribution,
    IntervisionParticipant,
    IntervisionSession,
    Lesson,
    Space,
)
from storage.types import utcnow


@dataclass(frozen=True)
class SharedLesson:
    """A lesson its author allowed to leave the session: text and date, never a name."""

    text: str
    method: str
    created_at: datetime


class IntervisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        *,
        space_id: int,
        method: str,
        facilitator_id: int,
        case_owner_id: int,
        venue: str,
        participant_ids: Sequence[int],
    ) -> IntervisionSession:
        row = IntervisionSession(
            space_id=space_id,
            method=method,
            facilitator_id=facilitator_id,
            case_owner_id=case_owner_id,
            venue=venue,
        )
        self._session.add(row)
        await self._session.flush()
        assert row.id is not None
        for member_id in dict.fromkeys(participant_ids):
            self._session.add(IntervisionParticipant(session_id=row.id, member_id=member_id))
        await self._session.flush()
        return row

    async def get(self, session_id: int) -> IntervisionSession | None:
        return await self._session.get(IntervisionSession, session_id)

    async def attach_flow(self, row: IntervisionSession, flow_id: int) -> None:
        row.flow_id = flow_id
        self._session.add(row)

    async def end(self, row: IntervisionSession) -> None:
        row.ended_at = utcnow()
        self._session.add(row)

    async def participant_ids(self, session_id: int) -> list[int]:
        statement = select(IntervisionParticipant.member_id).where(
            IntervisionParticipant.session_id == session_id
        )
        return list((await self._session.exec(statement)).all())

    async def running_member_sets(self, *, network_id: int, venue: str) -> list[frozenset[int]]:
        """Everyone in each running session of a venue (facilitator, case owner, participants)."""
        statement = (
            select(IntervisionSession)
            .join(Space, col(Space.id) == IntervisionSession.space_id)
            .where(
                Space.network_id == network_id,
                IntervisionSession.venue == venue,
                col(IntervisionSession.ended_at).is_(None),
            )
        )
        sets = []
        for row in (await self._session.exec(statement)).all():
            assert row.id is not None
            members = {row.facilitator_id, row.case_owner_id, *await self.participant_ids(row.id)}
            sets.append(frozenset(members))
        return sets

    async def contribute(
        self,
        *,
        session_id: int,
        phase: str,
        author_id: int,
        kind: str,
        text: str,
        source_ref: str | None = None,
    ) -> None:
        self._session.add(
            IntervisionContribution(
                session_id=session_id,
                phase=phase,
                author_id=author_id,
                kind=kind,
                text=text,
                source_ref=source_ref,
            )
        )

    async def said_in(self, *, session_id: int, source_ref: str) -> IntervisionContribution | None:
        """The contribution recorded from one chat message of the session, if any."""
        statement = select(IntervisionContribution).where(
            IntervisionContribution.session_id == session_id,
            IntervisionContribution.source_ref == source_ref,
        )
        return (await self._session.exec(statement)).first()

    async def forget(self, contribution: IntervisionContribution) -> None:
        await self._session.delete(contribution)

    async def contributions(self, session_id: int) -> list[IntervisionContribution]:
        """Everything said in the session, in the order it was said."""
        statement = (
            select(IntervisionContribution)
            .where(IntervisionContribution.session_id == session_id)
            .order_by(col(IntervisionContribution.id))
        )
        return list((await self._session.exec(statement)).all())

    async def counts_by_phase(self, session_id: int) -> Counter[str]:
        return Counter(c.phase for c in await self.contributions(session_id))

    async def add_lesson(
        self, *, session_id: int, author_id: int, text: str, shareable: bool
    ) -> Lesson:
        """A participant's lesson; a second one from the same author replaces the first."""
        statement = select(Lesson).where(
            Lesson.session_id == session_id, Lesson.author_id == author_id
        )
        lesson = (await self._session.exec(statement)).first()
        if lesson is None:
            lesson = Lesson(session_id=session_id, author_id=author_id, text=text)
        lesson.text = text
        lesson.shareable = shareable
        self._session.add(lesson)
        await self._session.flush()
        return lesson

    async def lessons(self, session_id: int) -> list[Lesson]:
        statement = select(Lesson).where(Lesson.session_id == session_id).order_by(col(Lesson.id))
        return list((await self._session.exec(statement)).all())

    async def shared_lessons(self, *, network_id: int, since: datetime) -> list[SharedLesson]:
        """Lessons allowed out of their session, newest first, without who wrote them."""
        statement = (
            select(Lesson.text, IntervisionSession.method, Lesson.created_at)
            .join(IntervisionSession, col(IntervisionSession.id) == Lesson.session_id)
            .join(Space, col(Space.id) == IntervisionSession.space_id)
            .where(
                Space.network_id == network_id,
                col(Lesson.shareable).is_(True),
                col(Lesson.created_at) >= since,
            )
            .order_by(col(Lesson.created_at).desc())
        )
        return [
            SharedLesson(text=text, method=method, created_at=created_at)
            for text, method, created_at in (await self._session.exec(statement)).all()
        ]
