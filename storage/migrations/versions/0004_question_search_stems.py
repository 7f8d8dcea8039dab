"""question search index on PostgreSQL: stems by question id, newest first

On PostgreSQL the weighted ``document`` tsvector of migration 0003 and its GIN index give way to
a table ``question_search_stem(in_answers, stem, question_id)`` with one row per distinct stem of
a question (its own text) or of its answers, keyed in that order: the question ids of one stem
lie side by side in the key's B-tree, newest last.

Why: the matcher reads, per part of a query, the ``RECENT`` newest questions whose text has its
words (storage/repositories/matching.py). SQLite's FTS5 keeps each word's questions sorted by
rowid, the question's id, and reads the newest hundred straight from its index. A GIN index
keeps them in the order of the table's rows, so PostgreSQL either read every question with the
word from the table and sorted them, or read the table newest-first until a hundred matched; a
word in one question of fifty costs thousands of rows either way. At 100,000 questions
(``python -m bench.matcher --postgres``) that made ``similar()`` take 54 ms at p95, against 2 ms
on SQLite; separate tsvectors per column, each with its own GIN index, still took 29 ms. From
this table the newest hundred of a word are a hundred entries of the B-tree, whatever the
word, as on SQLite.

A trigger keeps the table equal to ``question_search``'s two texts (space-separated stems,
``storage.search.search_entry``): whatever writes a search entry, the app, this migration or a
bulk load, its stems follow in the same transaction. On an update or delete it finds the old
rows by the old texts' stems, so no second index by question id is needed. Stems longer than
2047 letters are left out: no Dutch word is that long, a B-tree key must fit in a third of a
page, and the tsvector of 0003 left such words out too (its limit for a word).

SQLite (FTS5) keeps its table as it is: nothing changes there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.drop_index("ix_question_search_document", table_name="question_search")
    op.drop_column("question_search", "document")
    # COLLATE "C": a stem's prefix query is a range of the key (``stem >= 'zorg' AND stem <
    # 'zorh'``), which holds only for byte order, and byte order compares fastest too.
    op.create_table(
        "question_search_stem",
        sa.Column("in_answers", sa.Boolean(), nullable=False),
        sa.Column("stem", sa.Text(collation="C"), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("in_answers", "stem", "question_id"),
    )
    op.execute(
        """
        CREATE FUNCTION question_search_stems(question text, answers text)
        RETURNS TABLE (in_answers boolean, stem text)
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT DISTINCT s.in_answers, s.stem
            FROM (
                SELECT false, unnest(string_to_array(question, ' '))
                UNION ALL
                SELECT true, unnest(string_to_array(answers, ' '))
            ) AS s (in_answers, stem)
            WHERE s.stem <> '' AND length(s.stem) <= 2047
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION question_search_stems_follow() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM question_search_stem AS p
                USING question_search_stems(OLD.question, OLD.answers) AS o
                WHERE p.in_answers = o.in_answers AND p.stem = o.stem
                  AND p.question_id = OLD.question_id;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO question_search_stem (in_answers, stem, question_id)
                SELECT n.in_answers, n.stem, NEW.question_id
                FROM question_search_stems(NEW.question, NEW.answers) AS n;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "INSERT INTO question_search_stem (in_answers, stem, question_id) "
        "SELECT n.in_answers, n.stem, s.question_id "
        "FROM question_search AS s, question_search_stems(s.question, s.answers) AS n"
    )
    op.execute(
        "CREATE TRIGGER question_search_stems_follow "
        "AFTER INSERT OR DELETE OR UPDATE OF question_id, question, answers "
        "ON question_search FOR EACH ROW EXECUTE FUNCTION question_search_stems_follow()"
    )
    # The planner's choice of which word of a phrase ("sociaal team") to read first depends on
    # how common each is; without statistics it would guess until autovacuum analyzes.
    op.execute("ANALYZE question_search_stem")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP TRIGGER question_search_stems_follow ON question_search")
    op.execute("DROP FUNCTION question_search_stems_follow()")
    op.execute("DROP FUNCTION question_search_stems(text, text)")
    op.drop_table("question_search_stem")
    op.add_column(
        "question_search",
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
    )
    op.create_index(
        "ix_question_search_document", "question_search", ["document"], postgresql_using="gin"
    )
