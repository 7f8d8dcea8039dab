"""The knowledge base: every question with its themes, answers and #zodus, for export.

Read-only. The entries name regions, never people: a knowledge base is shared beyond the chat,
and who asked or answered stays in the chat where it was said.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import QuestionStatus
from storage.models import Answer, Outcome, Question, QuestionTheme, Region


@dataclass(frozen=True)
class KnowledgeAnswer:
    """A #zodan as the knowledge base shows it: from which region, not from whom."""

    region_name: str | None
    text: str
    link: str | None
    helpful: bool
    created_at: datetime


@dataclass(frozen=True)
class KnowledgeOutcome:
    """A #zodus: what the asker did with the answers."""

    text: str
    created_at: datetime


@dataclass(frozen=True)
class KnowledgeEntry:
    """One question with everything the network learned from it.

    ``themes`` are theme ids in alphabetical order (the catalogue's order is a presentation
    matter, decided where the entries are shown); answers and outcomes are oldest first, the
    order in which the conversation happened.
    """

    number: int
    text: str
    status: QuestionStatus
    created_at: datetime
    closed_at: datetime | None
    region_name: str | None
    themes: tuple[str, ...]
    answers: tuple[KnowledgeAnswer, ...]
    outcomes: tuple[KnowledgeOutcome, ...]


class KnowledgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def entries(self, *, network_id: int) -> list[KnowledgeEntry]:
        """The network's questions, newest (highest number) first; withdrawn ones left out.

        Four queries whatever the size of the network: the questions, then all their themes,
        answers and outcomes in bulk, each filtered by the same join instead of a long list of
        ids (which would run into parameter limits on big networks).
        """
        shown = _shown_questions(network_id)
        questions = (
            await self._session.exec(
                select(Question, Region.name)
                .outerjoin(Region, col(Region.id) == Question.region_id)
                .where(shown)
                .order_by(col(Question.number).desc())
            )
        ).all()

        themes: defaultdict[int, list[str]] = defaultdict(list)
        for question_id, theme in (
            await self._session.exec(
                select(QuestionTheme.question_id, QuestionTheme.theme)
                .join(Question, col(Question.id) == QuestionTheme.question_id)
                .where(shown)
                .order_by(col(QuestionTheme.theme))
            )
        ).all():
            themes[question_id].append(theme)

        answers: defaultdict[int, list[KnowledgeAnswer]] = defaultdict(list)
        for answer, region_name in (
            await self._session.exec(
                select(Answer, Region.name)
                .join(Question, col(Question.id) == Answer.question_id)
                .outerjoin(Region, col(Region.id) == Answer.region_id)
                .where(shown)
                .order_by(col(Answer.created_at), col(Answer.id))
            )
        ).all():
            answers[answer.question_id].append(
                KnowledgeAnswer(
                    region_name=region_name,
                    text=answer.text,
                    link=answer.link,
                    helpful=answer.helpful,
                    created_at=answer.created_at,
                )
            )

        outcomes: defaultdict[int, list[KnowledgeOutcome]] = defaultdict(list)
        for question_id, text, created_at in (
            await self._session.exec(
                select(Outcome.question_id, Outcome.text, Outcome.created_at)
                .join(Question, col(Question.id) == Outcome.question_id)
                .where(shown)
                .order_by(col(Outcome.created_at), col(Outcome.id))
            )
        ).all():
            outcomes[question_id].append(KnowledgeOutcome(text, created_at))

        entries: list[KnowledgeEntry] = []
        for question, region_name in questions:
            assert question.id is not None
            entries.append(
                KnowledgeEntry(
                    number=question.number,
                    text=question.text,
                    status=QuestionStatus(question.status),
                    created_at=question.created_at,
                    closed_at=question.closed_at,
                    region_name=region_name,
                    themes=tuple(themes[question.id]),
                    answers=tuple(answers[question.id]),
                    outcomes=tuple(outcomes[question.id]),
                )
            )
        return entries


def _shown_questions(network_id: int) -> ColumnElement[bool]:
    """The questions a knowledge base shows: the network's, except the withdrawn ones."""
    condition: ColumnElement[bool] = (col(Question.network_id) == network_id) & (
        col(Question.status) != QuestionStatus.WITHDRAWN
    )
    return condition
