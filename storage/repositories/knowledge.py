"""The knowledge base: every question with its themes, answers and #zodus, for export."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


class KnowledgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
