"""#hoedan questions: numbering, listing and search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, case, func, literal
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.enums import QuestionStatus
from storage.models import Member, Question, QuestionTheme, Region
from storage.repositories.network import NetworkRepository
from storage.search import search_document, stems

_UNCLOSED = (QuestionStatus.OPEN, QuestionStatus.ANSWERED)


@dataclass(frozen=True)
class QuestionView:
    """A question with the names people want to see next to it."""

    question: Question
    asker_name: str
    region_name: str | None


class QuestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        network_id: int,
        asker_id: int,
        text: str,
        region_id: int | None,
        space_id: int | None,
        source_ref: str | None = None,
        thread_ref: str | None = None,
        created_at: datetime,
    ) -> Question:
        """Store a new question under the network's next number."""
        number = await NetworkRepository(self._session).next_question_number(network_id=network_id)
        question = Question(
            network_id=network_id,
            number=number,
            asker_id=asker_id,
            region_id=region_id,
            space_id=space_id,
            source_ref=source_ref,
            thread_ref=thread_ref,
            text=text,
            search_terms=search_document(text),
            created_at=created_at,
            updated_at=created_at,
        )
        self._session.add(question)
        await self._session.flush()
        return question

    async def same_recent(self, *, asker_id: int, text: str, since: datetime) -> Question | None:
        """The asker's identical question since ``since``, if any: one question is stored once."""
        statement = (
            select(Question)
            .where(
                Question.asker_id == asker_id,
                Question.text == text,
                col(Question.created_at) >= since,
                Question.status != QuestionStatus.WITHDRAWN,
            )
            .order_by(col(Question.created_at).desc())
        )
        return (await self._session.exec(statement)).first()

    async def get(self, question_id: int) -> Question | None:
        return await self._session.get(Question, question_id)

    async def set_themes(self, question_id: int, themes: tuple[str, ...]) -> None:
        """Replace the question's themes."""
        current = await self._session.exec(
            select(QuestionTheme).where(QuestionTheme.question_id == question_id)
        )
        for row in current.all():
            await self._session.delete(row)
        await self._session.flush()
        for theme in themes:
            self._session.add(QuestionTheme(question_id=question_id, theme=theme))
        await self._session.flush()

    async def themes(self, question_id: int) -> tuple[str, ...]:
        statement = select(QuestionTheme.theme).where(QuestionTheme.question_id == question_id)
        return tuple((await self._session.exec(statement)).all())

    async def set_text(self, question: Question, text: str, *, now: datetime) -> None:
        """New wording (an edited source message): the search terms follow."""
        question.text = text
        question.search_terms = search_document(text)
        question.updated_at = now
        await self._session.flush()

    async def in_thread(self, *, space_id: int, thread_ref: str) -> Question | None:
        """The question whose source message (or the bot's reply to it) starts this thread."""
        statement = select(Question).where(
            Question.space_id == space_id,
            (col(Question.thread_ref) == thread_ref) | (col(Question.source_ref) == thread_ref),
        )
        return (await self._session.exec(statement)).first()

    async def by_source(self, *, space_id: int, source_ref: str) -> Question | None:
        statement = select(Question).where(
            Question.space_id == space_id, Question.source_ref == source_ref
        )
        return (await self._session.exec(statement)).first()

    async def view(self, question_id: int) -> QuestionView | None:
        statement = _view_query().where(Question.id == question_id)
        row = (await self._session.exec(statement)).first()
        return None if row is None else QuestionView(row[0], row[1], row[2])

    async def by_number(self, *, network_id: int, number: int) -> Question | None:
        statement = select(Question).where(
            Question.network_id == network_id, Question.number == number
        )
        return (await self._session.exec(statement)).first()

    async def count_open(
        self, *, network_id: int, asker_id: int | None = None, region_id: int | None = None
    ) -> int:
        statement = select(func.count()).where(
            Question.network_id == network_id, col(Question.status).in_(_UNCLOSED)
        )
        if asker_id is not None:
            statement = statement.where(Question.asker_id == asker_id)
        if region_id is not None:
            statement = statement.where(Question.region_id == region_id)
        return int((await self._session.exec(statement)).one())

    async def open_questions(
        self,
        *,
        network_id: int,
        limit: int,
        asker_id: int | None = None,
        region_id: int | None = None,
        not_asker_id: int | None = None,
    ) -> list[QuestionView]:
        """Questions not closed yet (answered ones too: the asker has not said it helped).

        Newest first; only one member's when ``asker_id`` is given, one region's with
        ``region_id``; everyone's but one member's with ``not_asker_id``.
        """
        statement = (
            _view_query()
            .where(Question.network_id == network_id, col(Question.status).in_(_UNCLOSED))
            .order_by(col(Question.number).desc())
            .limit(limit)
        )
        if asker_id is not None:
            statement = statement.where(Question.asker_id == asker_id)
        if region_id is not None:
            statement = statement.where(Question.region_id == region_id)
        if not_asker_id is not None:
            statement = statement.where(Question.asker_id != not_asker_id)
        rows = (await self._session.exec(statement)).all()
        return [QuestionView(q, asker, region) for q, asker, region in rows]

    async def search(self, *, network_id: int, query: str, limit: int) -> list[QuestionView]:
        """Questions sharing stems with ``query``; most shared stems first, then newest.

        Prefix matching on stems also finds compounds that start with a searched word
        ("zorg" finds "zorgverzekeraar").
        """
        terms = stems(query)
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
        rows = (await self._session.exec(statement)).all()
        return [QuestionView(q, asker, region) for q, asker, region, _score in rows]


def _view_query() -> Select[Question, str, str]:
    """Questions joined with the asker's name and (when set) the region's name."""
    return (
        select(Question, Member.display_name, Region.name)
        .join(Member, col(Member.id) == Question.asker_id)
        .outerjoin(Region, col(Region.id) == Question.region_id)
    )
