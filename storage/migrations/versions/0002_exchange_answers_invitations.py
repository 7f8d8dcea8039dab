"""exchange: answers keep their source message, invitations, outbox subjects

Members can switch off invitations to help; each invitation is stored so it is sent once per
question and member; outbox messages name what they are about, so replies in their threads can be
placed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:05:10.502339
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitation",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question.id"],
        ),
        sa.PrimaryKeyConstraint("question_id", "member_id"),
    )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source_ref", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("invitations_off", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("member", schema=None) as batch_op:
        # The default only fills existing rows; new rows get theirs from the model.
        batch_op.alter_column("invitations_off", server_default=None)

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.create_index(
            "ix_outbox_message_posted", ["platform", "channel_ref", "external_ref"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_message_posted")
        batch_op.drop_column("subject")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("invitations_off")

    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_column("source_ref")

    op.drop_table("invitation")
