"""The numbers behind the coordinators' digest, counted by the database.

A year of a busy network is hundreds of thousands of rows; the digest must still build in a
second or two. So everything here is a grouped count or a short, limited list: no method loads
the rows it counts. Times are half-open periods ``[start, end)`` in UTC.

Nothing here returns intervision contributions, reflection answers' texts or who wrote an
anonymous answer: only counts, score distributions and shareable lessons (without authors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, cast, func, literal, or_, union_all
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import OutboxStatus, QuestionStatus, Role, SpaceKind
from storage.models import (
    Answer,
    Digest,
    DigestPreference,
    HouseRuleAcknowledgement,
    HouseRuleSet,
    HouseRuleVersion,
    IntervisionParticipant,
    IntervisionSession,
    Lesson,
    Member,
    OutboxMessage,
    Post,
    Question,
    ReflectionAnswer,
    ReflectionParticipation,
    ReflectionRound,
    Response,
    Space,
    SpaceMember,
)
from storage.repositories._upsert import insert_if_absent
from storage.types import UtcDateTime, utcnow

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    """A half-open period ``[start, end)`` in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class QuestionCount:
    space_id: int | None
    region_id: int | None
    status: str
    count: int


@dataclass(frozen=True)
class AnswerCount:
    space_id: int | None
    answering_region_id: int | None
    asking_region_id: int | None
    count: int


@dataclass(frozen=True)
class OpenQuestion:
    number: int
    text: str
    region_id: int | None
    space_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class WaitingGroup:
    """Open questions of one channel that wait longer than a limit."""

    space_id: int | None
    count: int
    oldest_number: int
    """Numbers follow the order of asking, so the lowest is the longest-waiting question."""
    oldest_at: datetime


@dataclass(frozen=True)
class SessionHeld:
    method: str
    space_id: int
    group_size: int
    created_at: datetime


@dataclass(frozen=True)
class SharedLesson:
    text: str
    method: str
    space_id: int
    created_at: datetime


@dataclass(frozen=True)
class PromptPost:
    space_id: int
    created_at: datetime
    respondents: int


@dataclass(frozen=True)
class RoundClosed:
    round_id: int
    space_id: int
    template: str
    anonymous: bool
    closed_at: datetime
    respondents: int


@dataclass(frozen=True)
class ScoreCount:
    round_id: int
    question_index: int
    score: int
    count: int


@dataclass(frozen=True)
class RulesAdopted:
    space_id: int
    version: int
    adopted_at: datetime
    acknowledged: int


@dataclass(frozen=True)
class FailedDelivery:
    channel_ref: str | None
    member_ref: str | None
    error: str
    count: int
    last_at: datetime


@dataclass(frozen=True)
class WeeklyActivity:
    space_id: int
    weeks_before_end: int
    """0 for the last seven days before the end, 1 for the seven days before those, …"""
    count: int


@dataclass(frozen=True)
class Newcomer:
    space_id: int
    member_id: int
    first_seen_at: datetime
    display_name: str


def _within(column: Any, window: Window) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


class DigestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _rows(self, statement: Select[Any]) -> Sequence[Any]:
        # Through the connection: these are Core selects of columns, not of models.
        connection = await self._session.connection()
        return (await connection.execute(statement)).all()

    async def channels(self, network_id: int) -> list[Space]:
        """The network's coalitions: its channels, whether or not anything happened in them."""
        statement = select(Space).where(
            col(Space.network_id) == network_id, col(Space.kind) == SpaceKind.CHANNEL
        )
        return list((await self._session.exec(statement)).all())

    async def coordinators(
        self, network_id: int, *, admin_ids: frozenset[str], admin_keys: frozenset[str]
    ) -> list[Member]:
        """Who gets the digest: coordinators and admins by role, and the configured admins
        (by platform id, or by name in local mode), unless they asked to be forgotten."""
        statement = select(Member).where(
            col(Member.network_id) == network_id,
            col(Member.erased_at).is_(None),
            or_(
                col(Member.role).in_([Role.COORDINATOR, Role.ADMIN]),
                col(Member.external_id).in_(admin_ids),
                col(Member.name_key).in_(admin_keys),
            ),
        )
        return list((await self._session.exec(statement.order_by(col(Member.id)))).all())

    async def preference(self, member_id: int) -> DigestPreference | None:
        return await self._session.get(DigestPreference, member_id)

    async def set_preference(
        self, *, member_id: int, weekday: int, time_of_day: str, active: bool
    ) -> DigestPreference:
        row = await self.preference(member_id)
        if row is None:
            row = DigestPreference(member_id=member_id, weekday=weekday, time_of_day=time_of_day)
        row.weekday, row.time_of_day, row.active = weekday, time_of_day, active
        row.updated_at = utcnow()
        self._session.add(row)
        await self._session.flush()
        return row

    async def preferences(self, member_ids: Sequence[int]) -> dict[int, DigestPreference]:
        if not member_ids:
            return {}
        statement = select(DigestPreference).where(col(DigestPreference.member_id).in_(member_ids))
        return {row.member_id: row for row in (await self._session.exec(statement)).all()}

    async def sent_since(self, since: datetime) -> set[tuple[int, datetime]]:
        """(coordinator, period end) of the weekly digests sent for periods ending after
        ``since``: what a scheduler tick must not build again."""
        statement = core_select(col(Digest.coordinator_id), col(Digest.period_end)).where(
            col(Digest.period_end) >= since
        )
        return {(int(member), _utc(end)) for member, end in await self._rows(statement)}

    async def keep_figures(
        self, *, coordinator_id: int, period_end: datetime, content: dict[str, Any]
    ) -> None:
        statement = select(Digest).where(
            col(Digest.coordinator_id) == coordinator_id, col(Digest.period_end) == period_end
        )
        row = (await self._session.exec(statement)).one()
        row.content = content
        self._session.add(row)

    async def record_sent(self, *, coordinator_id: int, window: Window) -> bool:
        """Claim the weekly digest of a coordinator for a period; False when it was sent."""
        return await insert_if_absent(
            self._session,
            Digest,
            {
                "coordinator_id": coordinator_id,
                "period_start": window.start,
                "period_end": window.end,
                "content": {},
                "created_at": utcnow(),
            },
            ["coordinator_id", "period_end"],
        )

    async def member_counts(self, network_id: int) -> dict[int, int]:
        """How many members Hoedan has seen in each of the network's spaces (not counting
        those who asked to be forgotten: they cannot answer any more)."""
        statement = (
            core_select(col(SpaceMember.space_id), func.count())
            .join(Space, col(Space.id) == col(SpaceMember.space_id))
            .join(Member, col(Member.id) == col(SpaceMember.member_id))
            .where(col(Space.network_id) == network_id, col(Member.erased_at).is_(None))
            .group_by(col(SpaceMember.space_id))
        )
        return {int(space): int(count) for space, count in await self._rows(statement)}

    async def questions(self, network_id: int, window: Window) -> list[QuestionCount]:
        """New questions by channel, asking region and current status."""
        statement = (
            core_select(
                col(Question.space_id), col(Question.region_id), col(Question.status), func.count()
            )
            .where(col(Question.network_id) == network_id, _within(Question.created_at, window))
            .group_by(col(Question.space_id), col(Question.region_id), col(Question.status))
        )
        return [QuestionCount(*row) for row in await self._rows(statement)]

    async def answers(self, network_id: int, window: Window) -> list[AnswerCount]:
        """Answers given in the window, by the question's channel and both regions."""
        statement = (
            core_select(
                col(Question.space_id), col(Answer.region_id), col(Question.region_id), func.count()
            )
            .join(Question, col(Question.id) == col(Answer.question_id))
            .where(col(Question.network_id) == network_id, _within(Answer.created_at, window))
            .group_by(col(Question.space_id), col(Answer.region_id), col(Question.region_id))
        )
        return [AnswerCount(*row) for row in await self._rows(statement)]

    async def longest_open(
        self, network_id: int, *, before: datetime, limit: int
    ) -> list[OpenQuestion]:
        """Questions still open, asked before ``before``, the longest-waiting first."""
        statement = (
            core_select(
                col(Question.number),
                col(Question.text),
                col(Question.region_id),
                col(Question.space_id),
                col(Question.created_at),
            )
            .where(
                col(Question.network_id) == network_id,
                col(Question.status) == QuestionStatus.OPEN,
                col(Question.created_at) < before,
            )
            .order_by(col(Question.created_at), col(Question.number))
            .limit(limit)
        )
        return [OpenQuestion(*row) for row in await self._rows(statement)]

    async def waiting(self, network_id: int, *, before: datetime) -> list[WaitingGroup]:
        """Open questions asked before ``before``, counted per channel."""
        statement = (
            core_select(
                col(Question.space_id),
                func.count(),
                func.min(col(Question.number)),
                func.min(col(Question.created_at)),
            )
            .where(
                col(Question.network_id) == network_id,
                col(Question.status) == QuestionStatus.OPEN,
                col(Question.created_at) < before,
            )
            .group_by(col(Question.space_id))
        )
        return [
            WaitingGroup(space, int(count), int(number), _utc(oldest))
            for space, count, number, oldest in await self._rows(statement)
        ]

    async def open_count(self, network_id: int, *, before: datetime) -> int:
        statement = core_select(func.count()).where(
            col(Question.network_id) == network_id,
            col(Question.status) == QuestionStatus.OPEN,
            col(Question.created_at) < before,
        )
        [(count,)] = await self._rows(statement)
        return int(count)

    async def sessions(self, network_id: int, window: Window) -> list[SessionHeld]:
        """Intervision sessions started in the window: method, place and group size only."""
        size = (
            core_select(func.count())
            .where(col(IntervisionParticipant.session_id) == col(IntervisionSession.id))
            .scalar_subquery()
        )
        statement = (
            core_select(
                col(IntervisionSession.method),
                col(IntervisionSession.space_id),
                size,
                col(IntervisionSession.created_at),
            )
            .join(Space, col(Space.id) == col(IntervisionSession.space_id))
            .where(
                col(Space.network_id) == network_id,
                _within(IntervisionSession.created_at, window),
            )
            .order_by(col(IntervisionSession.created_at))
        )
        return [SessionHeld(*row) for row in await self._rows(statement)]

    async def shared_lessons(self, network_id: int, window: Window) -> list[SharedLesson]:
        """Lessons their authors marked as shareable; never who wrote them."""
        statement = (
            core_select(
                col(Lesson.text),
                col(IntervisionSession.method),
                col(IntervisionSession.space_id),
                col(Lesson.created_at),
            )
            .join(IntervisionSession, col(IntervisionSession.id) == col(Lesson.session_id))
            .join(Space, col(Space.id) == col(IntervisionSession.space_id))
            .where(
                col(Space.network_id) == network_id,
                col(Lesson.shareable).is_(True),
                _within(Lesson.created_at, window),
            )
            .order_by(col(Lesson.created_at))
        )
        return [SharedLesson(*row) for row in await self._rows(statement)]

    async def prompt_posts(self, network_id: int, window: Window, *, kind: str) -> list[PromptPost]:
        """Learning prompts posted in the window, each with how many members answered it."""
        respondents = (
            core_select(func.count(func.distinct(col(Response.member_id))))
            .where(col(Response.post_id) == col(Post.id))
            .scalar_subquery()
        )
        statement = (
            core_select(col(Post.space_id), col(Post.created_at), respondents)
            .join(Space, col(Space.id) == col(Post.space_id))
            .where(
                col(Space.network_id) == network_id,
                col(Post.kind) == kind,
                _within(Post.created_at, window),
            )
        )
        return [PromptPost(*row) for row in await self._rows(statement)]

    async def rounds_closed(self, network_id: int, window: Window) -> list[RoundClosed]:
        respondents = (
            core_select(func.count())
            .where(col(ReflectionParticipation.round_id) == col(ReflectionRound.id))
            .scalar_subquery()
        )
        statement = (
            core_select(
                col(ReflectionRound.id),
                col(ReflectionRound.space_id),
                col(ReflectionRound.template),
                col(ReflectionRound.anonymous),
                col(ReflectionRound.closed_at),
                respondents,
            )
            .join(Space, col(Space.id) == col(ReflectionRound.space_id))
            .where(col(Space.network_id) == network_id, _within(ReflectionRound.closed_at, window))
            .order_by(col(ReflectionRound.closed_at))
        )
        return [RoundClosed(*row) for row in await self._rows(statement)]

    async def score_counts(self, round_ids: Sequence[int]) -> list[ScoreCount]:
        """How often each score was given, per round and question; never by whom."""
        if not round_ids:
            return []
        statement = (
            core_select(
                col(ReflectionAnswer.round_id),
                col(ReflectionAnswer.question_index),
                col(ReflectionAnswer.score),
                func.count(),
            )
            .where(
                col(ReflectionAnswer.round_id).in_(round_ids),
                col(ReflectionAnswer.score).is_not(None),
            )
            .group_by(
                col(ReflectionAnswer.round_id),
                col(ReflectionAnswer.question_index),
                col(ReflectionAnswer.score),
            )
        )
        return [ScoreCount(*row) for row in await self._rows(statement)]

    async def rules_adopted(self, network_id: int, window: Window) -> list[RulesAdopted]:
        acknowledged = (
            core_select(func.count())
            .where(col(HouseRuleAcknowledgement.version_id) == col(HouseRuleVersion.id))
            .scalar_subquery()
        )
        statement = (
            core_select(
                col(HouseRuleSet.space_id),
                col(HouseRuleVersion.version),
                col(HouseRuleVersion.adopted_at),
                acknowledged,
            )
            .join(HouseRuleSet, col(HouseRuleSet.id) == col(HouseRuleVersion.rule_set_id))
            .join(Space, col(Space.id) == col(HouseRuleSet.space_id))
            .where(
                col(Space.network_id) == network_id,
                _within(HouseRuleVersion.adopted_at, window),
            )
            .order_by(col(HouseRuleVersion.adopted_at))
        )
        return [RulesAdopted(*row) for row in await self._rows(statement)]

    async def failed_deliveries(self, window: Window) -> list[FailedDelivery]:
        """Messages that could not be delivered for good, grouped by address and reason."""
        statement = (
            core_select(
                col(OutboxMessage.channel_ref),
                col(OutboxMessage.member_ref),
                col(OutboxMessage.last_error),
                func.count(),
                func.max(col(OutboxMessage.created_at)),
            )
            .where(
                col(OutboxMessage.status) == OutboxStatus.FAILED,
                _within(OutboxMessage.created_at, window),
            )
            .group_by(
                col(OutboxMessage.channel_ref),
                col(OutboxMessage.member_ref),
                col(OutboxMessage.last_error),
            )
        )
        return [
            FailedDelivery(channel, member, error or "", count, _utc(last))
            for channel, member, error, count, last in await self._rows(statement)
        ]

    def _activity(self, network_id: int, since: datetime | None, end: datetime) -> Any:
        """Every recorded contribution as (space, time): questions, answers, prompt answers,
        intervision sessions, reflection answers and house-rule acknowledgements."""

        def bounded(column: Any) -> ColumnElement[bool]:
            return column < end if since is None else and_(column >= since, column < end)

        network = col(Space.network_id) == network_id
        parts: list[Select[Any]] = [
            core_select(
                col(Question.space_id).label("space_id"), col(Question.created_at).label("at")
            ).where(col(Question.network_id) == network_id, bounded(Question.created_at)),
            core_select(col(Question.space_id), col(Answer.created_at))
            .join(Question, col(Question.id) == col(Answer.question_id))
            .where(col(Question.network_id) == network_id, bounded(Answer.created_at)),
            core_select(col(Post.space_id), col(Response.created_at))
            .join(Post, col(Post.id) == col(Response.post_id))
            .join(Space, col(Space.id) == col(Post.space_id))
            .where(network, bounded(Response.created_at)),
            core_select(col(IntervisionSession.space_id), col(IntervisionSession.created_at))
            .join(Space, col(Space.id) == col(IntervisionSession.space_id))
            .where(network, bounded(IntervisionSession.created_at)),
            core_select(col(ReflectionRound.space_id), col(ReflectionAnswer.created_at))
            .join(ReflectionRound, col(ReflectionRound.id) == col(ReflectionAnswer.round_id))
            .join(Space, col(Space.id) == col(ReflectionRound.space_id))
            # One row per answer given: the first question's row (there is one per question).
            .where(
                network,
                col(ReflectionAnswer.question_index) == 0,
                bounded(ReflectionAnswer.created_at),
            ),
            core_select(col(HouseRuleSet.space_id), col(HouseRuleAcknowledgement.created_at))
            .join(
                HouseRuleVersion,
                col(HouseRuleVersion.id) == col(HouseRuleAcknowledgement.version_id),
            )
            .join(HouseRuleSet, col(HouseRuleSet.id) == col(HouseRuleVersion.rule_set_id))
            .join(Space, col(Space.id) == col(HouseRuleSet.space_id))
            .where(network, bounded(HouseRuleAcknowledgement.created_at)),
        ]
        return union_all(*parts).subquery("activity")

    async def weekly_activity(
        self, network_id: int, *, end: datetime, weeks: int
    ) -> list[WeeklyActivity]:
        """Contributions per channel per week, for the ``weeks`` weeks before ``end``."""
        activity = self._activity(network_id, end - weeks * WEEK, end)
        age = self._weeks_before(activity.c.at, end)
        statement = (
            core_select(activity.c.space_id, age, func.count())
            .where(activity.c.space_id.is_not(None))
            .group_by(activity.c.space_id, age)
        )
        return [
            WeeklyActivity(int(space), min(int(week), weeks - 1), int(count))
            for space, week, count in await self._rows(statement)
        ]

    def _weeks_before(self, at: Any, end: datetime) -> ColumnElement[Any]:
        """Whole weeks between a moment and ``end``, computed by the database."""
        bind = self._session.bind
        if bind is not None and bind.dialect.name == "sqlite":
            days = func.julianday(literal(end, UtcDateTime)) - func.julianday(at)
            return cast(days / 7, Integer)
        seconds = func.extract("epoch", literal(end, UtcDateTime) - at)
        return func.floor(seconds / WEEK.total_seconds())

    async def last_activity(self, network_id: int, *, end: datetime) -> dict[int, datetime]:
        """Each channel's latest contribution before ``end``."""
        activity = self._activity(network_id, None, end)
        statement = (
            core_select(activity.c.space_id, func.max(activity.c.at))
            .where(activity.c.space_id.is_not(None))
            .group_by(activity.c.space_id)
        )
        return {int(space): _utc(at) for space, at in await self._rows(statement)}

    async def newcomers_without_acknowledgement(
        self, network_id: int, *, joined: Window
    ) -> list[Newcomer]:
        """Members first seen in a channel with adopted house rules during ``joined`` who have
        acknowledged none of its versions."""
        acknowledged = (
            core_select(literal(1))
            .select_from(HouseRuleAcknowledgement)
            .join(
                HouseRuleVersion,
                col(HouseRuleVersion.id) == col(HouseRuleAcknowledgement.version_id),
            )
            .join(HouseRuleSet, col(HouseRuleSet.id) == col(HouseRuleVersion.rule_set_id))
            .where(
                col(HouseRuleSet.space_id) == col(SpaceMember.space_id),
                col(HouseRuleAcknowledgement.member_id) == col(SpaceMember.member_id),
            )
            .exists()
        )
        adopted = (
            core_select(literal(1))
            .select_from(HouseRuleVersion)
            .join(HouseRuleSet, col(HouseRuleSet.id) == col(HouseRuleVersion.rule_set_id))
            .where(
                col(HouseRuleSet.space_id) == col(SpaceMember.space_id),
                col(HouseRuleVersion.adopted_at).is_not(None),
                col(HouseRuleVersion.adopted_at) < joined.end,
            )
            .exists()
        )
        statement = (
            core_select(
                col(SpaceMember.space_id),
                col(SpaceMember.member_id),
                col(SpaceMember.first_seen_at),
                col(Member.display_name),
            )
            .join(Space, col(Space.id) == col(SpaceMember.space_id))
            .join(Member, col(Member.id) == col(SpaceMember.member_id))
            .where(
                col(Member.erased_at).is_(None),
                col(Space.network_id) == network_id,
                col(Space.kind) == SpaceKind.CHANNEL,
                _within(SpaceMember.first_seen_at, joined),
                adopted,
                ~acknowledged,
            )
            .order_by(col(SpaceMember.first_seen_at))
        )
        return [Newcomer(*row) for row in await self._rows(statement)]


def _utc(value: Any) -> datetime:
    """An aggregate's time: aware, in UTC (SQLite may hand back naive values or text)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
