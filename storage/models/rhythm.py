"""The network's rhythm: learning prompts, schedules, posts and responses, reflection rounds,
and the coordinators' digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime, utcnow


class LearningPrompt(SQLModel, table=True):
    """A coach's own learning prompt; the shipped library lives in prompts/."""

    __tablename__ = "learning_prompt"

    __table_args__ = (UniqueConstraint("network_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True)
    key: str = Field(max_length=80)
    themes: list[str] = Field(default_factory=list, sa_type=JSON)
    text: str = Field(sa_type=Text)
    follow_up: str | None = Field(default=None, sa_type=Text)
    author_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Schedule(SQLModel, table=True):
    """A recurring slot in a space, for example the weekly learning prompt on Tuesday 09:00."""

    id: int | None = Field(default=None, primary_key=True)
    space_id: int = Field(foreign_key="space.id", index=True)
    kind: str = Field(max_length=40)
    weekday: int = Field(ge=0, le=6)
    time_of_day: str = Field(max_length=5, description="HH:MM in the schedule's time zone")
    timezone: str = Field(max_length=64)
    themes: list[str] = Field(default_factory=list, sa_type=JSON)
    active: bool = Field(default=True)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Post(SQLModel, table=True):
    """Something Hoedan posted that people answer: a learning prompt, for instance."""

    __table_args__ = (UniqueConstraint("schedule_id", "planned_for"),)

    id: int | None = Field(default=None, primary_key=True)
    space_id: int = Field(foreign_key="space.id", index=True)
    kind: str = Field(max_length=40)
    schedule_id: int | None = Field(default=None, foreign_key="schedule.id")
    prompt_key: str | None = Field(default=None, max_length=80)
    planned_for: datetime | None = Field(default=None, sa_type=UtcDateTime)
    message_ref: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Response(SQLModel, table=True):
    """A member's answer to a post."""

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ReflectionRound(SQLModel, table=True):
    """A coach asks every member of a space the same questions; a summary follows."""

    __tablename__ = "reflection_round"

    id: int | None = Field(default=None, primary_key=True)
    space_id: int = Field(foreign_key="space.id", index=True)
    coach_id: int = Field(foreign_key="member.id")
    template: str = Field(max_length=80)
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    anonymous: bool = Field(default=False)
    closes_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ReflectionParticipation(SQLModel, table=True):
    """That a member answered a round; kept apart from the answers so anonymity holds."""

    __tablename__ = "reflection_participation"

    round_id: int = Field(foreign_key="reflection_round.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)


class ReflectionAnswer(SQLModel, table=True):
    """One answer to one question of a round; ``member_id`` is empty when the round is anonymous."""

    __tablename__ = "reflection_answer"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="reflection_round.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    question_index: int
    text: str | None = Field(default=None, sa_type=Text)
    score: int | None = Field(default=None, ge=1, le=5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Digest(SQLModel, table=True):
    """A coordinator's overview of a period, kept so it is sent once and can be looked back on."""

    __table_args__ = (
        UniqueConstraint("coordinator_id", "period_end", name="uq_digest_coordinator_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    coordinator_id: int = Field(foreign_key="member.id", index=True)
    period_start: datetime = Field(sa_type=UtcDateTime)
    period_end: datetime = Field(sa_type=UtcDateTime)
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class DigestPreference(SQLModel, table=True):
    """A coordinator's own moment for the weekly digest, or that they want none.

    Without a row the default applies (Friday 16:00 in the coordinator's time zone).
    """

    __tablename__ = "digest_preference"

    member_id: int = Field(foreign_key="member.id", primary_key=True)
    weekday: int = Field(ge=0, le=6)
    time_of_day: str = Field(max_length=5, description="HH:MM in the coordinator's time zone")
    active: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
