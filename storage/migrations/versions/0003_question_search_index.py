"""question search index: a full-text index of questions and their answers

One row per question that is not withdrawn, keyed by the question's id, with two texts: the
question's Dutch stems and the distinct stems of all its answers (``storage.search.search_entry``;
neither database has a Dutch stemmer of its own, so both index the same pre-stemmed words).

- SQLite: an FTS5 virtual table ``question_search(question, answers)``, rowid = question id,
  tokenizer ``unicode61 remove_diacritics 2``. ``detail=column``: queries never need word
  positions, only which column a word is in, and the index stays smaller. ``columnsize=0``: the
  matcher weighs words itself instead of calling ``bm25()`` (see storage/repositories/matching.py),
  so the per-row lengths bm25 needs are not kept.
- PostgreSQL: a table ``question_search(question_id, question, answers, document)`` whose
  ``document`` is generated as ``setweight(to_tsvector('simple', question), 'A') ||
  setweight(to_tsvector('simple', answers), 'B')``, with a GIN index on it.

No model describes these tables (an FTS5 table cannot be one), so Alembic's comparison of
models and schema leaves them out (``storage.search.include_in_schema_comparison``).

Existing questions are indexed here, questions and answers alike, with the stems computed in
Python from their current texts, exactly as ``MatchRepository.index`` would; no re-index is
needed afterwards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:12:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from storage.search import search_entry

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
"""Questions indexed per round trip, so a large network's backfill needs little memory."""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE question_search USING fts5("
            "question, answers, tokenize = 'unicode61 remove_diacritics 2', "
            "detail = column, columnsize = 0)"
        )
        insert = sa.text(
            "INSERT INTO question_search (rowid, question, answers) "
            "VALUES (:id, :question, :answers)"
        )
    else:
        op.create_table(
            "question_search",
            sa.Column("question_id", sa.Integer(), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("answers", sa.Text(), nullable=False),
            sa.Column(
                "document",
                postgresql.TSVECTOR(),
                sa.Computed(
                    "setweight(to_tsvector('simple'::regconfig, question), 'A') || "
                    "setweight(to_tsvector('simple'::regconfig, answers), 'B')",
                    persisted=True,
                ),
                nullable=False,
            ),
            sa.ForeignKeyConstraint(["question_id"], ["question.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("question_id"),
        )
        op.create_index(
            "ix_question_search_document",
            "question_search",
            ["document"],
            postgresql_using="gin",
        )
        insert = sa.text(
            "INSERT INTO question_search (question_id, question, answers) "
            "VALUES (:id, :question, :answers)"
        )
    _backfill(bind, insert)


def _backfill(bind: sa.Connection, insert: sa.TextClause) -> None:
    """Index every question that is not withdrawn, a batch of questions at a time."""
    after = 0
    while True:
        questions = bind.execute(
            sa.text(
                "SELECT id, text FROM question WHERE status != 'withdrawn' AND id > :after "
                "ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": BATCH},
        ).all()
        if not questions:
            return
        ids = [row.id for row in questions]
        answers: dict[int, list[str]] = {}
        for row in bind.execute(
            sa.text(
                "SELECT question_id, text FROM answer "
                "WHERE question_id >= :low AND question_id <= :high ORDER BY id"
            ),
            {"low": ids[0], "high": ids[-1]},
        ):
            answers.setdefault(row.question_id, []).append(row.text)
        rows = []
        for row in questions:
            entry = search_entry(row.text, answers.get(row.id, []))
            rows.append({"id": row.id, "question": entry.question, "answers": entry.answers})
        bind.execute(insert, rows)
        after = ids[-1]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE question_search")
    else:
        op.drop_index("ix_question_search_document", table_name="question_search")
        op.drop_table("question_search")
