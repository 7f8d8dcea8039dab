"""digest preferences: when a coordinator gets the weekly digest, or that they do not

Every coordinator gets the digest on Friday at 16:00 in their own time zone unless they chose
another moment or switched it off; only such a choice is stored. Each weekly digest sent is a
``digest`` row, unique per coordinator and planned time, so two schedulers send it once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_preference",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("time_of_day", sa.String(length=5), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )
    with op.batch_alter_table("digest") as batch:
        batch.create_unique_constraint(
            "uq_digest_coordinator_period", ["coordinator_id", "period_end"]
        )


def downgrade() -> None:
    with op.batch_alter_table("digest") as batch:
        batch.drop_constraint("uq_digest_coordinator_period", type_="unique")
    op.drop_table("digest_preference")
