"""Insert-if-absent that works the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

M = TypeVar("M", bound=SQLModel)


async def insert_if_absent(
    session: AsyncSession, model: type[SQLModel], values: dict[str, Any], keys: list[str]
) -> bool:
    """Insert a row unless one with the same ``keys`` exists; True when this call inserted it.

    Uses the database's own ON CONFLICT DO NOTHING, so two writers racing on the same key
    never raise and exactly one of them wins.
    """
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=keys)
        .execution_options(preserve_rowcount=True)  # else psycopg reports -1 for an INSERT
    )
    result = await session.exec(statement)
    assert isinstance(result, CursorResult)
    return bool(result.rowcount == 1)


async def add_if_absent(session: AsyncSession, row: M, keys: list[str]) -> M:
    """``row`` stored unless one with the same ``keys`` exists; returns the stored one.

    For "get or create" of rows that concurrent first events may both create (a new member's
    first messages, a fresh database's network): on PostgreSQL a plain INSERT would make all but
    one of them fail on the unique key (and their senders hear "something went wrong"); here
    the loser waits for the winner and then reads its row. The row's own defaults apply, as
    with ``session.add``; fields left None (its id among them) are the database's to fill.
    """
    model = type(row)
    columns = model.__table__.columns  # type: ignore[attr-defined]
    values = {c.name: getattr(row, c.name) for c in columns if getattr(row, c.name) is not None}
    await insert_if_absent(session, model, values, keys)
    statement = select(model).where(*(getattr(model, key) == values[key] for key in keys))
    return (await session.exec(statement)).one()
