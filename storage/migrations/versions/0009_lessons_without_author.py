"""lessons without an author: a shared lesson outlives who wrote it

A lesson its author marked "mag gedeeld worden" is kept after the intervision's retention period
and after its author asked to be forgotten, but then without the link to the author: the lesson's
``author_id`` becomes empty. Existing lessons keep their author.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.alter_column("author_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM lesson WHERE author_id IS NULL")
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.alter_column("author_id", existing_type=sa.Integer(), nullable=False)
