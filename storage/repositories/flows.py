"""Persisted flow instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import FlowInstance
from storage.types import utcnow


class StaleFlowError(RuntimeError):
    """Someone else moved the flow on since it was read; the caller should re-read and retry."""


class FlowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(
        self,
        *,
        kind: str,
        flow_version: int,
        state: str,
        data: dict[str, Any],
        deadline: datetime | None,
        space_id: int | None,
        finished: bool,
    ) -> FlowInstance:
        now = utcnow()
        instance = FlowInstance(
            kind=kind,
            flow_version=flow_version,
            state=state,
            data=data,
            deadline=deadline,
            space_id=space_id,
            created_at=now,
            updated_at=now,
            finished_at=now if finished else None,
        )
        self._session.add(instance)
        await self._session.flush()
        return instance

    async def get(self, flow_id: int) -> FlowInstance | None:
        return await self._session.get(FlowInstance, flow_id)

    async def save(
        self,
        instance: FlowInstance,
        *,
        state: str,
        data: dict[str, Any],
        deadline: datetime | None,
        finished: bool,
    ) -> None:
        """Write a transition, provided nobody else did since ``instance`` was read."""
        assert instance.id is not None
        now = utcnow()
        statement = (
            update(FlowInstance)
            .where(col(FlowInstance.id) == instance.id)
            .where(col(FlowInstance.revision) == instance.revision)
            .values(
                state=state,
                data=data,
                deadline=deadline,
                revision=instance.revision + 1,
                updated_at=now,
                finished_at=now if finished else None,
            )
            .execution_options(synchronize_session=False)
        )
        result = await self._session.exec(statement)
        if result.rowcount != 1:
            raise StaleFlowError(f"flow {instance.id} changed since it was read")
        await self._session.refresh(instance)

    async def due(self, *, now: datetime, limit: int = 100) -> list[FlowInstance]:
        """Unfinished flows whose deadline has passed, earliest first."""
        statement = (
            select(FlowInstance)
            .where(col(FlowInstance.finished_at).is_(None))
            .where(col(FlowInstance.deadline) <= now)
            .order_by(col(FlowInstance.deadline))
            .limit(limit)
        )
        return list((await self._session.exec(statement)).all())
