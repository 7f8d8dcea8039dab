"""Everything Hoedan holds about one member, read for ``mijngegevens`` and ``hoedan privacy
export`` (the right of access).

Each query reads the member's own rows, with just enough context to understand them (the channel,
the question's number). Other people appear only where they said something in public to this
member's question (a #zodan, which the asker saw with its author's name). Never read here: who
gave an anonymous reflection answer (those rows hold no member, so they cannot be found), and
what anyone else said in an intervision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select as core_select
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import DeliveryKind, Platform
from storage.models import (
    Answer,
    Digest,
    DigestPreference,
    FlowInstance,
    HouseRuleAcknowledgement,
    HouseRuleObjection,
    HouseRuleSet,
    HouseRuleVersion,
    IntervisionContribution,
    IntervisionParticipant,
    IntervisionSession,
    Invitation,
    LearningPrompt,
    Lesson,
    Member,
    OutboxMessage,
    Outcome,
    Post,
    Question,
    QuestionTheme,
    ReflectionAnswer,
    ReflectionParticipation,
    ReflectionRound,
    Region,
    Response,
    RoleChange,
    Schedule,
    Space,
    SpaceMember,
    TeamsReference,
)

T = TypeVar("T")

PERSONAL_DELIVERIES = (
    DeliveryKind.DIRECT,
    DeliveryKind.EPHEMERAL,
    DeliveryKind.HOME,
    DeliveryKind.FILE,
)
"""Outbox rows meant for one member alone (addressed by ``member_ref``)."""

TEAMS_USER = "user"
"""``teams_reference.kind`` of a person (``ref`` is their Teams user id)."""


@dataclass(frozen=True)
class Profile:
    platform: str
    external_id: str
    display_name: str
    region: str | None
    role: str
    timezone: str | None
    locale: str | None
    invitations_off: bool
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class RoleGranted:
    role: str
    created_at: datetime


@dataclass(frozen=True)
class SpaceSeen:
    space: str
    first_seen_at: datetime


@dataclass(frozen=True)
class AnswerReceived:
    """A #zodan on the member's own question: public in its thread, so with its author."""

    by: str
    region: str | None
    text: str
    link: str | None
    helpful: bool
    created_at: datetime


@dataclass(frozen=True)
class QuestionAsked:
    number: int
    text: str
    status: str
    region: str | None
    themes: list[str]
    created_at: datetime
    closed_at: datetime | None
    answers: list[AnswerReceived] = field(default_factory=list)


@dataclass(frozen=True)
class AnswerGiven:
    question_number: int
    question: str
    text: str
    link: str | None
    helpful: bool
    created_at: datetime


@dataclass(frozen=True)
class OutcomeWritten:
    question_number: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class InvitationReceived:
    question_number: int
    created_at: datetime


@dataclass(frozen=True)
class RulesAcknowledged:
    space: str
    version: int
    created_at: datetime


@dataclass(frozen=True)
class ObjectionRaised:
    space: str
    version: int
    reason: str
    resolved: bool
    created_at: datetime


@dataclass(frozen=True)
class RulesProposed:
    space: str
    version: int
    status: str
    created_at: datetime


@dataclass(frozen=True)
class ConsentGiven:
    """An "Akkoord" on a house-rules proposal (kept in the proposal's flow)."""

    space: str
    started_at: datetime


@dataclass(frozen=True)
class PromptAnswered:
    space: str
    prompt: str | None
    text: str
    created_at: datetime


@dataclass(frozen=True)
class PromptWritten:
    key: str
    text: str
    follow_up: str | None
    created_at: datetime


@dataclass(frozen=True)
class SchedulePlanned:
    space: str
    kind: str
    weekday: int
    time_of_day: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class Round:
    """A reflection round the member started, or answered (in an anonymous one, only that)."""

    space: str
    template: str
    anonymous: bool
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class ReflectionGiven:
    """An answer the member gave in a round with names (never an anonymous one)."""

    space: str
    template: str
    question: str
    text: str | None
    score: int | None
    created_at: datetime


@dataclass(frozen=True)
class SessionJoined:
    session: int
    space: str
    method: str
    venue: str
    roles: list[str]
    created_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class ContributionMade:
    session: int
    phase: str
    kind: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class LessonWritten:
    session: int
    text: str
    shareable: bool
    created_at: datetime


@dataclass(frozen=True)
class DigestChoice:
    weekday: int
    time_of_day: str
    active: bool
    updated_at: datetime


@dataclass(frozen=True)
class DigestReceived:
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class TeamsAddress:
    service_url: str
    tenant_id: str | None
    conversation_id: str | None
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryToMember:
    kind: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class MemberRecord:
    """All of it, section by section; :mod:`flows.privacy_export` turns it into the file."""

    profile: Profile
    roles: list[RoleGranted]
    spaces: list[SpaceSeen]
    questions: list[QuestionAsked]
    answers: list[AnswerGiven]
    outcomes: list[OutcomeWritten]
    invitations: list[InvitationReceived]
    rules_acknowledged: list[RulesAcknowledged]
    objections: list[ObjectionRaised]
    rules_proposed: list[RulesProposed]
    consents: list[ConsentGiven]
    prompt_answers: list[PromptAnswered]
    prompts_written: list[PromptWritten]
    schedules: list[SchedulePlanned]
    rounds_started: list[Round]
    rounds_answered: list[Round]
    reflections: list[ReflectionGiven]
    sessions: list[SessionJoined]
    contributions: list[ContributionMade]
    lessons: list[LessonWritten]
    digest_choice: DigestChoice | None
    digests: list[DigestReceived]
    teams: TeamsAddress | None
    deliveries: list[DeliveryToMember]


class PrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _all(self, statement: Any) -> Sequence[Any]:
        rows: Sequence[Any] = (await self._session.exec(statement)).all()
        return rows

    async def _as(self, kind: Callable[..., T], statement: Any) -> list[T]:
        """Rows whose columns are, in order, the fields of ``kind``."""
        return [kind(*row) for row in await self._all(statement)]

    async def record(self, member: Member, *, consent_flow_kind: str) -> MemberRecord:
        """Everything about ``member``; ``consent_flow_kind`` names the house-rules proposal
        flow, whose state holds who said "Akkoord" (by platform id)."""
        member_id = _id(member)
        return MemberRecord(
            profile=await self._profile(member),
            roles=await self._as(
                RoleGranted,
                select(RoleChange.role, RoleChange.created_at)
                .where(RoleChange.member_id == member_id)
                .order_by(col(RoleChange.id)),
            ),
            spaces=await self._as(
                SpaceSeen,
                select(Space.name, SpaceMember.first_seen_at)
                .join(SpaceMember, col(SpaceMember.space_id) == Space.id)
                .where(SpaceMember.member_id == member_id)
                .order_by(col(SpaceMember.first_seen_at)),
            ),
            questions=await self._questions(member_id),
            answers=await self._as(
                AnswerGiven,
                core_select(
                    col(Question.number),
                    col(Question.text),
                    col(Answer.text),
                    col(Answer.link),
                    col(Answer.helpful),
                    col(Answer.created_at),
                )
                .join(Question, col(Question.id) == Answer.question_id)
                .where(col(Answer.answerer_id) == member_id)
                .order_by(col(Answer.id)),
            ),
            outcomes=await self._as(
                OutcomeWritten,
                select(Question.number, Outcome.text, Outcome.created_at)
                .join(Question, col(Question.id) == Outcome.question_id)
                .where(Outcome.member_id == member_id)
                .order_by(col(Outcome.id)),
            ),
            invitations=await self._as(
                InvitationReceived,
                select(Question.number, Invitation.created_at)
                .join(Question, col(Question.id) == Invitation.question_id)
                .where(Invitation.member_id == member_id)
                .order_by(col(Invitation.created_at)),
            ),
            **await self._house_rules(member, consent_flow_kind),
            **await self._rhythm(member_id),
            **await self._intervision(member_id),
            digest_choice=await self._digest_choice(member_id),
            digests=await self._as(
                DigestReceived,
                select(Digest.period_start, Digest.period_end)
                .where(Digest.coordinator_id == member_id)
                .order_by(col(Digest.period_end)),
            ),
            teams=await self._teams(member),
            deliveries=[
                DeliveryToMember(
                    kind=row.kind,
                    status=row.status,
                    created_at=row.created_at,
                    sent_at=row.sent_at,
                    payload=row.payload,
                )
                for row in await self._all(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.platform == member.platform,
                        OutboxMessage.member_ref == member.external_id,
                        col(OutboxMessage.kind).in_(PERSONAL_DELIVERIES),
                    )
                    .order_by(col(OutboxMessage.id))
                )
            ],
        )

    async def _profile(self, member: Member) -> Profile:
        region = (
            await self._session.get(Region, member.region_id)
            if member.region_id is not None
            else None
        )
        return Profile(
            platform=member.platform,
            external_id=member.external_id,
            display_name=member.display_name,
            region=region.name if region is not None else None,
            role=member.role,
            timezone=member.timezone,
            locale=member.locale,
            invitations_off=member.invitations_off,
            created_at=member.created_at,
            last_seen_at=member.last_seen_at,
        )

    async def _questions(self, member_id: int) -> list[QuestionAsked]:
        rows = await self._all(
            select(Question, Region.name)
            .join(Region, col(Region.id) == Question.region_id, isouter=True)
            .where(Question.asker_id == member_id)
            .order_by(col(Question.number))
        )
        ids = [question.id for question, _ in rows]
        themes: dict[int, list[str]] = {}
        for question_id, theme in await self._all(
            select(QuestionTheme.question_id, QuestionTheme.theme)
            .where(col(QuestionTheme.question_id).in_(ids))
            .order_by(col(QuestionTheme.theme))
        ):
            themes.setdefault(question_id, []).append(theme)
        received: dict[int, list[AnswerReceived]] = {}
        for answer, by, region in await self._all(
            select(Answer, Member.display_name, Region.name)
            .join(Member, col(Member.id) == Answer.answerer_id)
            .join(Region, col(Region.id) == Answer.region_id, isouter=True)
            .where(col(Answer.question_id).in_(ids))
            .order_by(col(Answer.id))
        ):
            received.setdefault(answer.question_id, []).append(
                AnswerReceived(
                    by=by,
                    region=region,
                    text=answer.text,
                    link=answer.link,
                    helpful=answer.helpful,
                    created_at=answer.created_at,
                )
            )
        return [
            QuestionAsked(
                number=question.number,
                text=question.text,
                status=question.status,
                region=region,
                themes=themes.get(question.id, []),
                created_at=question.created_at,
                closed_at=question.closed_at,
                answers=received.get(question.id, []),
            )
            for question, region in rows
        ]

    async def _house_rules(self, member: Member, consent_flow_kind: str) -> dict[str, Any]:
        member_id = _id(member)
        versions = (
            select(HouseRuleVersion, Space.name)
            .join(HouseRuleSet, col(HouseRuleSet.id) == HouseRuleVersion.rule_set_id)
            .join(Space, col(Space.id) == HouseRuleSet.space_id)
        )
        acknowledged = await self._all(
            versions.add_columns(col(HouseRuleAcknowledgement.created_at))
            .join(
                HouseRuleAcknowledgement,
                col(HouseRuleAcknowledgement.version_id) == HouseRuleVersion.id,
            )
            .where(col(HouseRuleAcknowledgement.member_id) == member_id)
            .order_by(col(HouseRuleAcknowledgement.created_at))
        )
        objections = await self._all(
            versions.add_columns(HouseRuleObjection)
            .join(HouseRuleObjection, col(HouseRuleObjection.version_id) == HouseRuleVersion.id)
            .where(col(HouseRuleObjection.member_id) == member_id)
            .order_by(col(HouseRuleObjection.id))
        )
        proposed = await self._all(
            versions.where(HouseRuleVersion.proposed_by_id == member_id).order_by(
                col(HouseRuleVersion.id)
            )
        )
        consents = await self._all(
            select(FlowInstance.data, FlowInstance.created_at, Space.name)
            .join(Space, col(Space.id) == FlowInstance.space_id)
            .where(FlowInstance.kind == consent_flow_kind)
            .order_by(col(FlowInstance.id))
        )
        return {
            "rules_acknowledged": [
                RulesAcknowledged(space=space, version=version.version, created_at=at)
                for version, space, at in acknowledged
            ],
            "objections": [
                ObjectionRaised(
                    space=space,
                    version=version.version,
                    reason=objection.reason,
                    resolved=objection.resolved,
                    created_at=objection.created_at,
                )
                for version, space, objection in objections
            ],
            "rules_proposed": [
                RulesProposed(
                    space=space,
                    version=version.version,
                    status=version.status,
                    created_at=version.created_at,
                )
                for version, space in proposed
            ],
            "consents": [
                ConsentGiven(space=space, started_at=at)
                for data, at, space in consents
                if member.external_id in data.get("agreed", ())
            ],
        }

    async def _rhythm(self, member_id: int) -> dict[str, Any]:
        prompt_answers = await self._all(
            select(Response, Post.prompt_key, Space.name)
            .join(Post, col(Post.id) == Response.post_id)
            .join(Space, col(Space.id) == Post.space_id)
            .where(Response.member_id == member_id)
            .order_by(col(Response.id))
        )
        prompts = await self._all(
            select(LearningPrompt)
            .where(LearningPrompt.author_id == member_id)
            .order_by(col(LearningPrompt.id))
        )
        schedules = await self._all(
            select(Schedule, Space.name)
            .join(Space, col(Space.id) == Schedule.space_id)
            .where(Schedule.created_by_id == member_id)
            .order_by(col(Schedule.id))
        )
        rounds = select(ReflectionRound, Space.name).join(
            Space, col(Space.id) == ReflectionRound.space_id
        )
        started = await self._all(
            rounds.where(ReflectionRound.coach_id == member_id).order_by(col(ReflectionRound.id))
        )
        answered = await self._all(
            rounds.join(
                ReflectionParticipation,
                col(ReflectionParticipation.round_id) == ReflectionRound.id,
            )
            .where(ReflectionParticipation.member_id == member_id)
            .order_by(col(ReflectionRound.id))
        )
        named = await self._all(
            rounds.add_columns(ReflectionAnswer)
            .join(ReflectionAnswer, col(ReflectionAnswer.round_id) == ReflectionRound.id)
            .where(col(ReflectionAnswer.member_id) == member_id)
            .order_by(col(ReflectionAnswer.round_id), col(ReflectionAnswer.question_index))
        )
        return {
            "prompt_answers": [
                PromptAnswered(space=space, prompt=key, text=row.text, created_at=row.created_at)
                for row, key, space in prompt_answers
            ],
            "prompts_written": [
                PromptWritten(
                    key=row.key, text=row.text, follow_up=row.follow_up, created_at=row.created_at
                )
                for row in prompts
            ],
            "schedules": [
                SchedulePlanned(
                    space=space,
                    kind=row.kind,
                    weekday=row.weekday,
                    time_of_day=row.time_of_day,
                    active=row.active,
                    created_at=row.created_at,
                )
                for row, space in schedules
            ],
            "rounds_started": [_round(row, space) for row, space in started],
            "rounds_answered": [_round(row, space) for row, space in answered],
            "reflections": [
                ReflectionGiven(
                    space=space,
                    template=row.template,
                    question=_question_label(row, answer.question_index),
                    text=answer.text,
                    score=answer.score,
                    created_at=answer.created_at,
                )
                for row, space, answer in named
                if not row.anonymous
            ],
        }

    async def _intervision(self, member_id: int) -> dict[str, Any]:
        taking_part = select(IntervisionParticipant.session_id).where(
            IntervisionParticipant.member_id == member_id
        )
        sessions = await self._all(
            select(IntervisionSession, Space.name)
            .join(Space, col(Space.id) == IntervisionSession.space_id)
            .where(
                or_(
                    IntervisionSession.facilitator_id == member_id,
                    IntervisionSession.case_owner_id == member_id,
                    col(IntervisionSession.id).in_(taking_part),
                )
            )
            .order_by(col(IntervisionSession.id))
        )
        participating = set(await self._all(taking_part))
        contributions = await self._all(
            select(IntervisionContribution)
            .where(IntervisionContribution.author_id == member_id)
            .order_by(col(IntervisionContribution.id))
        )
        lessons = await self._all(
            select(Lesson).where(Lesson.author_id == member_id).order_by(col(Lesson.id))
        )
        return {
            "sessions": [
                SessionJoined(
                    session=_id(row),
                    space=space,
                    method=row.method,
                    venue=row.venue,
                    roles=[
                        role
                        for role, held in (
                            ("facilitator", row.facilitator_id == member_id),
                            ("case_owner", row.case_owner_id == member_id),
                            ("participant", row.id in participating),
                        )
                        if held
                    ],
                    created_at=row.created_at,
                    ended_at=row.ended_at,
                )
                for row, space in sessions
            ],
            "contributions": [
                ContributionMade(
                    session=row.session_id,
                    phase=row.phase,
                    kind=row.kind,
                    text=row.text,
                    created_at=row.created_at,
                )
                for row in contributions
            ],
            "lessons": [
                LessonWritten(
                    session=row.session_id,
                    text=row.text,
                    shareable=row.shareable,
                    created_at=row.created_at,
                )
                for row in lessons
            ],
        }

    async def _digest_choice(self, member_id: int) -> DigestChoice | None:
        row = await self._session.get(DigestPreference, member_id)
        if row is None:
            return None
        return DigestChoice(
            weekday=row.weekday,
            time_of_day=row.time_of_day,
            active=row.active,
            updated_at=row.updated_at,
        )

    async def _teams(self, member: Member) -> TeamsAddress | None:
        row = await self._session.get(TeamsReference, (TEAMS_USER, member.external_id))
        if row is None or member.platform != Platform.TEAMS:
            return None
        return TeamsAddress(
            service_url=row.service_url,
            tenant_id=row.tenant_id,
            conversation_id=row.conversation_id,
            updated_at=row.updated_at,
        )


def _round(row: ReflectionRound, space: str) -> Round:
    return Round(
        space=space,
        template=row.template,
        anonymous=row.anonymous,
        created_at=row.created_at,
        closed_at=row.closed_at,
    )


def _question_label(row: ReflectionRound, index: int) -> str:
    if 0 <= index < len(row.questions):
        return str(row.questions[index].get("label", ""))
    return ""


def _id(row: Member | IntervisionSession) -> int:
    if row.id is None:
        raise ValueError("row has not been stored yet")
    return row.id
