"""Who and where: the network, its regions and coalitions, chat spaces and members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.enums import Platform, Role, SpaceKind
from storage.types import UtcDateTime, utcnow


class Network(SQLModel, table=True):
    """A learning network; questions are numbered per network (#1, #2, …)."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str = Field(max_length=200)
    question_counter: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Region(SQLModel, table=True):
    """A regional network such as Twente or Zuid-Limburg."""

    __table_args__ = (UniqueConstraint("network_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True)
    name: str = Field(max_length=120)
    key: str = Field(max_length=120, description="normalised name used to match user input")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Coalition(SQLModel, table=True):
    """A group working on a theme; in chat it lives in one or more spaces."""

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True)
    region_id: int | None = Field(default=None, foreign_key="region.id")
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Space(SQLModel, table=True):
    """A place where people talk: a channel, a group chat or a direct conversation."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True)
    platform: Platform = Field(sa_type=String(20))
    external_id: str = Field(max_length=255)
    name: str = Field(max_length=255)
    kind: SpaceKind = Field(default=SpaceKind.CHANNEL, sa_type=String(20))
    coalition_id: int | None = Field(default=None, foreign_key="coalition.id")
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SpaceMember(SQLModel, table=True):
    """Someone seen in a space (who wrote, pressed or joined there): who "the channel" is when
    Hoedan asks a channel's members, without asking the platform for its member list."""

    __tablename__ = "space_member"

    space_id: int = Field(foreign_key="space.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Member(SQLModel, table=True):
    """A person as known on one platform."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="network.id", index=True)
    platform: Platform = Field(sa_type=String(20))
    external_id: str = Field(max_length=255)
    display_name: str = Field(max_length=255)
    name_key: str = Field(max_length=255, index=True, description="lower-cased display name")
    region_id: int | None = Field(default=None, foreign_key="region.id")
    role: Role = Field(default=Role.PARTICIPANT, sa_type=String(20))
    timezone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    invitations_off: bool = Field(
        default=False, description="no invitations to help with similar questions"
    )


class RoleChange(SQLModel, table=True):
    """Audit trail of every role granted: who gave whom which role, and when."""

    __tablename__ = "role_change"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    role: Role = Field(sa_type=String(20))
    granted_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
