"""The knowledge exchange: #hoedan questions, #zodan answers and #zodus outcomes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.enums import QuestionStatus
from storage.types import UtcDateTime, utcnow


class Question(SQLModel, table=True):
    """A practical "how do we …?" question; ``number`` is the short #12 people refer to."""

    __table_args__ = (UniqueConstraint("network_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True)
    number: int
    asker_id: int = Field(foreign_key="member.id", index=True)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    space_id: int | None = Field(default=None, foreign_key="space.id")
    source_ref: str | None = Field(
        default=None, max_length=255, description="platform id of the message it came from"
    )
    thread_ref: str | None = Field(
        default=None, max_length=255, description="platform thread where the bot replied"
    )
    text: str = Field(sa_type=Text)
    search_terms: str = Field(default="", sa_type=Text, description="Dutch stems, for search")
    status: QuestionStatus = Field(default=QuestionStatus.OPEN, sa_type=String(20), index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class QuestionTheme(SQLModel, table=True):
    """A theme a question belongs to (from the list in prompts/)."""

    __tablename__ = "question_theme"

    question_id: int = Field(foreign_key="question.id", primary_key=True)
    theme: str = Field(max_length=80, primary_key=True)


class Answer(SQLModel, table=True):
    """A #zodan: how someone, often from another region, already did it."""

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    answerer_id: int = Field(foreign_key="member.id", index=True)
    region_id: int | None = Field(default=None, foreign_key="region.id")
    text: str = Field(sa_type=Text)
    link: str | None = Field(default=None, max_length=2000)
    helpful: bool = Field(default=False)
    source_ref: str | None = Field(
        default=None, max_length=255, description="platform id of the message it came from"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Outcome(SQLModel, table=True):
    """A #zodus: what the asker did with the answers, the learning that came of it."""

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Invitation(SQLModel, table=True):
    """A member asked to help with a question because they answered a similar one; once only."""

    question_id: int = Field(foreign_key="question.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
