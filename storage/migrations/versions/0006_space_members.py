"""space members: who has been seen in which space

A channel's members, as far as Hoedan has seen them (writing, pressing a button, joining), so
that "ask the channel" means the channel and not the whole network.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "space_member",
        sa.Column("space_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["space_id"], ["space.id"]),
        sa.PrimaryKeyConstraint("space_id", "member_id"),
    )


def downgrade() -> None:
    op.drop_table("space_member")
