"""Reflection rounds: the round, who answered (participation) and what was answered (answers).

For an anonymous round the two are kept apart: an answer row holds no member id, and a
participation row holds only that a member answered. ``shuffle`` rewrites a closed anonymous
round's answers in random order with one shared time, so neither their ids nor their times
tell in which order (and so by whom) they came in.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    FlowInstance,
    ReflectionAnswer,
    ReflectionParticipation,
    ReflectionRound,
)

AnswerValue = tuple[int, str | None, int | None]
"""``(question index, text, score)``."""


class ReflectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        *,
        space_id: int,
        coach_id: int,
        template: str,
        questions: list[dict[str, Any]],
        anonymous: bool,
        closes_at: datetime,
    ) -> ReflectionRound:
        row = ReflectionRound(
            space_id=space_id,
            coach_id=coach_id,
            template=template,
            questions=questions,
            anonymous=anonymous,
            closes_at=closes_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, round_id: int) -> ReflectionRound | None:
        return await self.session.get(ReflectionRound, round_id)

    async def close(self, row: ReflectionRound, *, now: datetime) -> None:
        row.closed_at = now
        self.session.add(row)
        await self.session.flush()

    async def flow_of(self, row: ReflectionRound, *, kind: str) -> FlowInstance | None:
        """The flow that runs a round: the reflection flow of its space carrying its id."""
        result = await self.session.exec(
            select(FlowInstance)
            .where(col(FlowInstance.kind) == kind, col(FlowInstance.space_id) == row.space_id)
            .order_by(col(FlowInstance.id).desc())
        )
        for flow in result.all():
            if flow.data.get("round_id") == row.id:
                return flow
        return None

    async def participate(self, *, round_id: int, member_id: int) -> bool:
        """Record that a member answered; False when they had answered before."""
        found = await self.session.get(ReflectionParticipation, (round_id, member_id))
        if found is not None:
            return False
        self.session.add(ReflectionParticipation(round_id=round_id, member_id=member_id))
        await self.session.flush()
        return True

    async def participation_count(self, round_id: int) -> int:
        result = await self.session.exec(
            select(func.count())
            .select_from(ReflectionParticipation)
            .where(col(ReflectionParticipation.round_id) == round_id)
        )
        return int(result.one())

    async def replace_named(
        self, *, round_id: int, member_id: int, answers: Sequence[AnswerValue]
    ) -> None:
        """A named member's answers; a second answer replaces the first."""
        for row in await self.answers(round_id):
            if row.member_id == member_id:
                await self.session.delete(row)
        self._add(round_id, member_id, answers, None)
        await self.session.flush()

    async def add_anonymous(
        self,
        *,
        round_id: int,
        answers: Sequence[AnswerValue],
        replacing: Sequence[int],
        stamped: datetime,
    ) -> list[int]:
        """Anonymous answers, without a member, all stamped with the same time; the rows in
        ``replacing`` (the same person's earlier answer) go. Returns the new rows' ids."""
        for row in await self.answers(round_id):
            if row.member_id is None and row.id in replacing:
                await self.session.delete(row)
        rows = self._add(round_id, None, answers, stamped)
        await self.session.flush()
        return [row.id for row in rows if row.id is not None]

    def _add(
        self,
        round_id: int,
        member_id: int | None,
        answers: Sequence[AnswerValue],
        stamped: datetime | None,
    ) -> list[ReflectionAnswer]:
        rows = [
            ReflectionAnswer(
                round_id=round_id,
                member_id=member_id,
                question_index=index,
                text=text,
                score=score,
            )
            for index, text, score in answers
        ]
        for row in rows:
            if stamped is not None:
                row.created_at = stamped
            self.session.add(row)
        return rows

    async def answers(self, round_id: int) -> list[ReflectionAnswer]:
        result = await self.session.exec(
            select(ReflectionAnswer)
            .where(col(ReflectionAnswer.round_id) == round_id)
            .order_by(col(ReflectionAnswer.question_index), col(ReflectionAnswer.id))
        )
        return list(result.all())

    async def shuffle(self, round_id: int, *, stamped: datetime) -> None:
        """Rewrite an anonymous round's answers in random order, all with one time."""
        kept: list[AnswerValue] = []
        for row in await self.answers(round_id):
            if row.member_id is None:
                kept.append((row.question_index, row.text, row.score))
                await self.session.delete(row)
        await self.session.flush()
        random.SystemRandom().shuffle(kept)
        self._add(round_id, None, kept, stamped)
        await self.session.flush()
