"""Where Teams conversations live, so Hoedan can write to them without an incoming turn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime, utcnow


class TeamsReference(SQLModel, table=True):
    """A Teams conversation or user as last seen in an activity: enough to post proactively.

    The Bot Connector is addressed per region (``service_url``) and a 1:1 chat can only be
    opened with the tenant and the bot's own id, none of which the neutral ``space`` and
    ``member`` rows carry. ``kind`` is ``"conversation"`` (``ref`` is a space's external id) or
    ``"user"`` (``ref`` is a member's external id; ``conversation_id`` is then their 1:1 chat
    with Hoedan, once known).
    """

    __tablename__ = "teams_reference"

    kind: str = Field(sa_type=String(20), primary_key=True)
    ref: str = Field(max_length=255, primary_key=True)
    service_url: str = Field(max_length=500)
    tenant_id: str | None = Field(default=None, max_length=100)
    bot_id: str = Field(max_length=255)
    conversation_id: str | None = Field(default=None, max_length=255)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
