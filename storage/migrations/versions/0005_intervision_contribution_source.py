"""intervision contributions remember the chat message they came from

So that a message edited in a session changes what was recorded, and a deleted one disappears
from the record: people remove what they regret having said, and a confidential record should
not keep it against their wish. Existing contributions have no source (NULL).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("intervision_contribution", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("intervision_contribution", schema=None) as batch_op:
        batch_op.drop_column("source_ref")
