"""teams conversations: where to write in Teams without an incoming turn

Teams conversations are reached through a regional Bot Connector (the activity's serviceUrl), and
a 1:1 chat is opened with the tenant and the bot's id; one row per conversation and per user
keeps what the last activity said about them, so proactive messages work after a restart.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_reference",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", sa.String(length=100), nullable=True),
        sa.Column("bot_id", sa.String(length=255), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=True),
        sa.Column("updated_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "ref"),
    )


def downgrade() -> None:
    op.drop_table("teams_reference")
