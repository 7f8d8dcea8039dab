"""The network's rhythm: recurring slots (schedules), what was posted on them, and the answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import LearningPrompt, Post, Response, Schedule
from storage.repositories._upsert import insert_if_absent
from storage.types import utcnow


class RhythmRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # Schedules ---------------------------------------------------------------------------------

    async def schedule_of_space(self, *, space_id: int, kind: str) -> Schedule | None:
        """The space's newest schedule of this kind, active or not (it also holds the themes)."""
        statement = (
            select(Schedule)
            .where(Schedule.space_id == space_id, Schedule.kind == kind)
            .order_by(col(Schedule.id).desc())
            .limit(1)
        )
        return (await self._session.exec(statement)).first()

    async def active_schedules(self, *, kind: str) -> list[Schedule]:
        statement = (
            select(Schedule)
            .where(Schedule.kind == kind, col(Schedule.active).is_(True))
            .order_by(col(Schedule.id))
        )
        return list((await self._session.exec(statement)).all())

    async def plan(
        self,
        *,
        space_id: int,
        kind: str,
        weekday: int,
        time_of_day: str,
        timezone: str,
        themes: list[str],
        active: bool,
        created_by_id: int | None,
        now: datetime,
    ) -> Schedule:
        """A new slot for the space, replacing (deactivating) its earlier ones of this kind.

        A new row rather than a changed one: a slot counts from its ``created_at``, so a slot
        that was planned a minute ago never fires for a time before it was planned.
        """
        earlier = await self._session.exec(
            select(Schedule).where(
                Schedule.space_id == space_id,
                Schedule.kind == kind,
                col(Schedule.active).is_(True),
            )
        )
        for row in earlier.all():
            row.active = False
            self._session.add(row)
        schedule = Schedule(
            space_id=space_id,
            kind=kind,
            weekday=weekday,
            time_of_day=time_of_day,
            timezone=timezone,
            themes=themes,
            active=active,
            created_by_id=created_by_id,
            created_at=now,
        )
        self._session.add(schedule)
        await self._session.flush()
        return schedule

    async def stop(self, schedule: Schedule) -> None:
        schedule.active = False
        self._session.add(schedule)

    async def set_themes(self, schedule: Schedule, themes: list[str]) -> None:
        schedule.themes = list(themes)
        self._session.add(schedule)

    # Posts ---------------------------------------------------------------------------------------

    async def last_planned(self, schedule_id: int) -> datetime | None:
        """The newest planned time handled (posted or skipped) for this schedule."""
        statement = select(func.max(Post.planned_for)).where(Post.schedule_id == schedule_id)
        value = (await self._session.exec(statement)).first()
        return value if isinstance(value, datetime) else None

    async def record_post(
        self,
        *,
        space_id: int,
        kind: str,
        schedule_id: int | None,
        prompt_key: str | None,
        planned_for: datetime | None,
    ) -> Post | None:
        """Record a post; None when this slot (schedule + planned time) was handled before.

        A slot is claimed with ON CONFLICT DO NOTHING, so two schedulers over one database
        racing for it never both win.
        """
        if schedule_id is None or planned_for is None:
            post = Post(space_id=space_id, kind=kind, prompt_key=prompt_key, created_at=utcnow())
            self._session.add(post)
            await self._session.flush()
            return post
        inserted = await insert_if_absent(
            self._session,
            Post,
            {
                "space_id": space_id,
                "kind": kind,
                "schedule_id": schedule_id,
                "prompt_key": prompt_key,
                "planned_for": planned_for,
                "created_at": utcnow(),
            },
            ["schedule_id", "planned_for"],
        )
        if not inserted:
            return None
        statement = select(Post).where(
            Post.schedule_id == schedule_id, Post.planned_for == planned_for
        )
        return (await self._session.exec(statement)).one()

    async def posted_keys(self, *, space_id: int, kind: str) -> list[str]:
        """The prompt keys posted in a space, one per post (repeats included)."""
        statement = select(Post.prompt_key).where(
            Post.space_id == space_id, Post.kind == kind, col(Post.prompt_key).is_not(None)
        )
        return [key for key in (await self._session.exec(statement)).all() if key is not None]

    async def posts(self, *, space_id: int) -> list[Post]:
        statement = select(Post).where(Post.space_id == space_id).order_by(col(Post.id))
        return list((await self._session.exec(statement)).all())

    async def post(self, post_id: int) -> Post | None:
        return await self._session.get(Post, post_id)

    # Answers -----------------------------------------------------------------------------------

    async def answer(self, *, post_id: int, member_id: int, text: str, now: datetime) -> bool:
        """Store a member's answer to a post; True when it replaced their earlier answer."""
        statement = select(Response).where(
            Response.post_id == post_id, Response.member_id == member_id
        )
        earlier = (await self._session.exec(statement)).first()
        if earlier is not None:
            earlier.text = text
            earlier.created_at = now
            self._session.add(earlier)
            return True
        self._session.add(Response(post_id=post_id, member_id=member_id, text=text, created_at=now))
        return False

    async def answers(self, post_id: int) -> list[Response]:
        statement = select(Response).where(Response.post_id == post_id).order_by(col(Response.id))
        return list((await self._session.exec(statement)).all())

    # A network's own prompts ---------------------------------------------------------------------

    async def add_prompt(
        self,
        *,
        network_id: int,
        key: str,
        themes: list[str],
        text: str,
        author_id: int | None,
        now: datetime,
    ) -> LearningPrompt:
        row = LearningPrompt(
            network_id=network_id,
            key=key,
            themes=themes,
            text=text,
            author_id=author_id,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def prompts(self, network_id: int) -> list[LearningPrompt]:
        statement = (
            select(LearningPrompt)
            .where(LearningPrompt.network_id == network_id)
            .order_by(col(LearningPrompt.id))
        )
        return list((await self._session.exec(statement)).all())
