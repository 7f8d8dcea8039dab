"""Insert-if-absent that works the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


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
