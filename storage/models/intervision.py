"""Intervision sessions: a small group helps one case owner, phase by phase, in confidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime, utcnow


class IntervisionSession(SQLModel, table=True):
    """One session; its running state lives in the linked flow instance."""

    __tablename__ = "intervision_session"

    id: int | None = Field(default=None, primary_key=True)
    space_id: int = Field(foreign_key="space.id", index=True)
    flow_id: int | None = Field(default=None, foreign_key="flow_instance.id")
    method: str = Field(max_length=80)
    facilitator_id: int = Field(foreign_key="member.id")
    case_owner_id: int = Field(foreign_key="member.id")
    venue: str = Field(default="private", max_length=20, description="private chat or thread")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class IntervisionParticipant(SQLModel, table=True):
    __tablename__ = "intervision_participant"
    session_id: int = Field(foreign_key="intervision_session.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)


class IntervisionContribution(SQLModel, table=True):
    """What someone said in a phase; never leaves the session."""

    __tablename__ = "intervision_contribution"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="intervision_session.id", index=True)
    phase: str = Field(max_length=80)
    author_id: int = Field(foreign_key="member.id")
    kind: str = Field(default="message", max_length=40)
    text: str = Field(sa_type=Text)
    source_ref: str | None = Field(default=None, max_length=100)
    """The chat message it was said in, so an edit or deletion there is followed."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Lesson(SQLModel, table=True):
    """A participant's lesson (leeropbrengst); shared outside only when ``shareable``."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="intervision_session.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="member.id")
    """Empty for a shared lesson that outlived its session's retention period or its author's
    erasure: the lesson stays, nobody's name is attached to it any more."""
    text: str = Field(sa_type=Text)
    shareable: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
