"""Finding earlier questions like a new one: the heart of the #hoedan → #zodan exchange.

This first version scores by shared Dutch stems (prefix matches, so compounds are found) over
each question's own stems; answers do not count yet and there is no ranked full-text index.
``index`` is where the ranked index will be kept up to date, so callers already call it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, case, literal
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import QuestionStatus
from storage.models import Answer, Member, Question, Region
from storage.search import stems

CANDIDATES = 10
"""How many of the best-scoring questions are considered before answered ones are preferred."""


@dataclass(frozen=True)
class Match:
    question: Question
    asker_name: str
    region_name: str | None
    answered: bool
    score: float


class MatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def index(self, question_id: int) -> None:
        """Keep the question findable after a change; the stems live on the question itself."""
        question = await self._session.get(Question, question_id)
        if question is not None:
            await self._session.flush()

    async def similar(
        self,
        *,
        network_id: int,
        text: str,
        limit: int = 3,
        exclude_id: int | None = None,
        region_id: int | None = None,
    ) -> list[Match]:
        """Earlier questions sharing stems with ``text``; answered ones from elsewhere first."""
        found = await self._scored(
            network_id=network_id, text=text, limit=CANDIDATES, exclude_id=exclude_id
        )
        found.sort(
            key=lambda m: (
                not (m.answered and (region_id is None or m.question.region_id != region_id)),
                -m.score,
            )
        )
        return found[:limit]

    async def search(self, *, network_id: int, query: str, limit: int) -> list[Match]:
        return await self._scored(network_id=network_id, text=query, limit=limit, exclude_id=None)

    async def _scored(
        self, *, network_id: int, text: str, limit: int, exclude_id: int | None
    ) -> list[Match]:
        terms = stems(text)
        if not terms:
            return []
        score: ColumnElement[int] = literal(0, Integer)
        for term in terms:
            score = score + case(
                (col(Question.search_terms).like(f"% {term}%"), literal(1, Integer)),
                else_=literal(0, Integer),
            )
        statement = (
            select(Question, Member.display_name, Region.name, score.label("score"))
            .join(Member, col(Member.id) == Question.asker_id)
            .outerjoin(Region, col(Region.id) == Question.region_id)
            .where(Question.network_id == network_id, Question.status != QuestionStatus.WITHDRAWN)
            .where(score > 0)
            .order_by(score.desc(), col(Question.number).desc())
            .limit(limit)
        )
        if exclude_id is not None:
            statement = statement.where(col(Question.id) != exclude_id)
        rows = (await self._session.exec(statement)).all()
        ids = [q.id for q, *_ in rows if q.id is not None]
        answered = set(
            (
                await self._session.exec(
                    select(Answer.question_id).where(col(Answer.question_id).in_(ids)).distinct()
                )
            ).all()
        )
        return [
            Match(q, asker, region, q.id in answered, float(points))
            for q, asker, region, points in rows
        ]
