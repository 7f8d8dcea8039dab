"""Finding earlier questions like a new one: the heart of the #hoedan → #zodan exchange."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


class MatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
