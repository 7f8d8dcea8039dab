"""A coalition's house rules (spelregels): versioned, adopted by consent, acknowledged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.enums import HouseRuleStatus
from storage.types import UtcDateTime, utcnow


class HouseRuleSet(SQLModel, table=True):
    """The house rules of one space, across all their versions."""

    __tablename__ = "house_rule_set"

    id: int | None = Field(default=None, primary_key=True)
    space_id: int = Field(foreign_key="space.id", index=True)
    title: str = Field(max_length=200)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class HouseRuleVersion(SQLModel, table=True):
    """One proposed or adopted text of a rule set."""

    __tablename__ = "house_rule_version"

    __table_args__ = (UniqueConstraint("rule_set_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    rule_set_id: int = Field(foreign_key="house_rule_set.id", index=True)
    version: int
    text: str = Field(sa_type=Text)
    status: HouseRuleStatus = Field(default=HouseRuleStatus.PROPOSED, sa_type=String(20))
    proposed_by_id: int | None = Field(default=None, foreign_key="member.id")
    consent_deadline: datetime | None = Field(default=None, sa_type=UtcDateTime)
    adopted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class HouseRuleObjection(SQLModel, table=True):
    """A reasoned objection to a proposed version; consent holds until one is raised."""

    __tablename__ = "house_rule_objection"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="house_rule_version.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    reason: str = Field(sa_type=Text)
    resolved: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class HouseRuleAcknowledgement(SQLModel, table=True):
    """A member has read and accepts an adopted version."""

    __tablename__ = "house_rule_acknowledgement"

    version_id: int = Field(foreign_key="house_rule_version.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
