"""#zodan answers, #zodus outcomes and invitations to help."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, Invitation, Member, Outcome, Question, Region
from storage.repositories._upsert import insert_if_absent


@dataclass(frozen=True)
class AnswerView:
    """An answer with the names people want to see next to it."""

    answer: Answer
    answerer_name: str
    region_name: str | None


class AnswerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        question_id: int,
        answerer_id: int,
        region_id: int | None,
        text: str,
        link: str | None,
        source_ref: str | None,
        created_at: datetime,
    ) -> Answer:
        answer = Answer(
            question_id=question_id,
            answerer_id=answerer_id,
            region_id=region_id,
            text=text,
            link=link,
            source_ref=source_ref,
            created_at=created_at,
        )
        self._session.add(answer)
        await self._session.flush()
        return answer

    async def get(self, answer_id: int) -> Answer | None:
        return await self._session.get(Answer, answer_id)

    async def delete(self, answer: Answer) -> None:
        await self._session.delete(answer)
        await self._session.flush()

    async def by_source(self, *, space_id: int, source_ref: str) -> Answer | None:
        """The answer that came from a message in a space (for edits and deletions)."""
        statement = (
            select(Answer)
            .join(Question, col(Question.id) == Answer.question_id)
            .where(Question.space_id == space_id, Answer.source_ref == source_ref)
        )
        return (await self._session.exec(statement)).first()

    async def same_recent(self, *, question_id: int, answerer_id: int, text: str) -> Answer | None:
        """The same answer to the same question by the same person: stored once."""
        statement = select(Answer).where(
            Answer.question_id == question_id,
            Answer.answerer_id == answerer_id,
            Answer.text == text,
        )
        return (await self._session.exec(statement)).first()

    async def for_question(self, question_id: int) -> list[AnswerView]:
        statement = (
            select(Answer, Member.display_name, Region.name)
            .join(Member, col(Member.id) == Answer.answerer_id)
            .outerjoin(Region, col(Region.id) == Answer.region_id)
            .where(Answer.question_id == question_id)
            .order_by(col(Answer.created_at), col(Answer.id))
        )
        rows = (await self._session.exec(statement)).all()
        return [AnswerView(answer, name, region) for answer, name, region in rows]

    async def answerers(self, question_ids: list[int]) -> list[Member]:
        """Everyone who answered one of these questions, each once."""
        if not question_ids:
            return []
        statement = (
            select(Member)
            .join(Answer, col(Answer.answerer_id) == Member.id)
            .where(col(Answer.question_id).in_(question_ids))
            .distinct()
        )
        return list((await self._session.exec(statement)).all())

    async def add_outcome(
        self, *, question_id: int, member_id: int, text: str, created_at: datetime
    ) -> Outcome:
        outcome = Outcome(
            question_id=question_id, member_id=member_id, text=text, created_at=created_at
        )
        self._session.add(outcome)
        await self._session.flush()
        return outcome

    async def outcomes(self, question_id: int) -> list[Outcome]:
        statement = (
            select(Outcome).where(Outcome.question_id == question_id).order_by(col(Outcome.id))
        )
        return list((await self._session.exec(statement)).all())

    async def invite_once(self, *, question_id: int, member_id: int, now: datetime) -> bool:
        """Record an invitation; False when this member was invited for this question before."""
        return await insert_if_absent(
            self._session,
            Invitation,
            {"question_id": question_id, "member_id": member_id, "created_at": now},
            ["question_id", "member_id"],
        )
