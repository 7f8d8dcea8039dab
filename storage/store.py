"""The store: one entry point to the database, handing out transactions with repositories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.database import DatabaseUrls, create_async_db_engine
from storage.repositories.answers import AnswerRepository
from storage.repositories.delivery import InboundRepository, OutboxRepository
from storage.repositories.digest import DigestRepository
from storage.repositories.erasure import ErasureRepository
from storage.repositories.flows import FlowRepository
from storage.repositories.house_rules import HouseRuleRepository
from storage.repositories.intervision import IntervisionRepository
from storage.repositories.knowledge import KnowledgeRepository
from storage.repositories.matching import MatchRepository
from storage.repositories.members import MemberRepository
from storage.repositories.network import NetworkRepository, RegionRepository, SpaceRepository
from storage.repositories.privacy import PrivacyRepository
from storage.repositories.questions import QuestionRepository
from storage.repositories.reflection import ReflectionRepository
from storage.repositories.rhythm import RhythmRepository


@dataclass(frozen=True)
class Transaction:
    """Repositories sharing one database transaction: all of it is stored, or none of it."""

    session: AsyncSession
    networks: NetworkRepository
    regions: RegionRepository
    spaces: SpaceRepository
    members: MemberRepository
    questions: QuestionRepository
    answers: AnswerRepository
    matches: MatchRepository
    knowledge: KnowledgeRepository
    inbound: InboundRepository
    outbox: OutboxRepository
    flows: FlowRepository
    intervision: IntervisionRepository
    reflection: ReflectionRepository
    rhythm: RhythmRepository
    house_rules: HouseRuleRepository
    digest: DigestRepository
    privacy: PrivacyRepository
    erasure: ErasureRepository


_inside = ContextVar("inside_transaction", default=False)


class NestedTransactionError(RuntimeError):
    """A transaction was opened inside another one in the same task (it would deadlock)."""


class Store:
    """Owns the async engine. Create one per process and ``close()`` it at exit."""

    def __init__(self, urls: DatabaseUrls) -> None:
        self.urls = urls
        self.engine: AsyncEngine = create_async_db_engine(urls)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._sqlite_turns = asyncio.Lock() if urls.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Commit when the block ends normally, roll back when it raises.

        Keep transactions short and never await a network call inside one: on SQLite every
        transaction holds the write lock (BEGIN IMMEDIATE) until it ends. Within one process,
        SQLite transactions also take turns on an asyncio lock, first come first served, so a
        burst of events waits in line instead of in SQLite's busy loop (where a long queue would
        end in "database is locked").
        """
        if _inside.get():
            raise NestedTransactionError("a transaction is already open in this task")
        token = _inside.set(True)
        try:
            async with self._sqlite_turns or nullcontext(), self._begin() as tx:
                yield tx
        finally:
            _inside.reset(token)

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[Transaction]:
        async with self._sessions() as session, session.begin():
            yield Transaction(
                session=session,
                networks=NetworkRepository(session),
                regions=RegionRepository(session),
                spaces=SpaceRepository(session),
                members=MemberRepository(session),
                questions=QuestionRepository(session),
                answers=AnswerRepository(session),
                matches=MatchRepository(session),
                knowledge=KnowledgeRepository(session),
                inbound=InboundRepository(session),
                outbox=OutboxRepository(session),
                flows=FlowRepository(session),
                intervision=IntervisionRepository(session),
                reflection=ReflectionRepository(session),
                rhythm=RhythmRepository(session),
                house_rules=HouseRuleRepository(session),
                digest=DigestRepository(session),
                privacy=PrivacyRepository(session),
                erasure=ErasureRepository(session),
            )

    async def ping(self) -> bool:
        """True when the database answers; for health checks."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def close(self) -> None:
        await self.engine.dispose()
