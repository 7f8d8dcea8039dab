"""The digest over a seeded period: exact counts, and each engagement signal on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import SQLModel

from flows.digest import Digest, SignalKind, build
from storage.enums import DeliveryKind, OutboxStatus, Platform, QuestionStatus, SpaceKind
from storage.models import (
    Answer,
    HouseRuleAcknowledgement,
    HouseRuleSet,
    HouseRuleVersion,
    IntervisionContribution,
    IntervisionParticipant,
    IntervisionSession,
    Lesson,
    Member,
    Network,
    OutboxMessage,
    Post,
    Question,
    ReflectionAnswer,
    ReflectionParticipation,
    ReflectionRound,
    Region,
    Response,
    Space,
    SpaceMember,
)
from storage.repositories.digest import Window
from storage.store import Store

END = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
START = END - timedelta(days=7)
LONG_AGO = END - timedelta(days=120)


def days_ago(days: float) -> datetime:
    return END - timedelta(days=days)


@dataclass
class Seed:
    """Builds a network row by row; ids are handed out as rows are flushed."""

    store: Store
    network_id: int = 0
    regions: dict[str, int] = field(default_factory=dict)
    spaces: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)
    questions: int = 0

    async def add(self, row: SQLModel) -> Any:
        async with self.store.transaction() as tx:
            tx.session.add(row)
            await tx.session.flush()
            return getattr(row, "id", None)

    async def network(self) -> None:
        self.network_id = await self.add(Network(slug="landelijk", name="Landelijk netwerk"))

    async def region(self, name: str) -> None:
        self.regions[name] = await self.add(
            Region(network_id=self.network_id, name=name, key=name.lower())
        )

    async def channel(self, name: str, *, created: datetime = LONG_AGO) -> None:
        self.spaces[name] = await self.add(
            Space(
                network_id=self.network_id,
                platform=Platform.SLACK,
                external_id=f"C-{name}",
                name=name,
                kind=SpaceKind.CHANNEL,
                created_at=created,
            )
        )

    async def member(
        self, name: str, region: str, *channels: str, seen: datetime = LONG_AGO
    ) -> None:
        member_id = await self.add(
            Member(
                network_id=self.network_id,
                platform=Platform.SLACK,
                external_id=f"U-{name}",
                display_name=name,
                name_key=name.lower(),
                region_id=self.regions[region],
            )
        )
        self.members[name] = member_id
        for channel in channels:
            await self.add(
                SpaceMember(space_id=self.spaces[channel], member_id=member_id, first_seen_at=seen)
            )

    async def question(
        self, asker: str, region: str, channel: str, at: datetime, status: QuestionStatus
    ) -> int:
        self.questions += 1
        return int(
            await self.add(
                Question(
                    network_id=self.network_id,
                    number=self.questions,
                    asker_id=self.members[asker],
                    region_id=self.regions[region],
                    space_id=self.spaces[channel],
                    text=f"Hoe doen jullie vraag {self.questions}?",
                    status=status,
                    created_at=at,
                )
            )
        )

    async def answer(self, question_id: int, answerer: str, region: str, at: datetime) -> None:
        await self.add(
            Answer(
                question_id=question_id,
                answerer_id=self.members[answerer],
                region_id=self.regions[region],
                text="Zo doen wij het.",
                created_at=at,
            )
        )

    async def prompt(self, channel: str, at: datetime, *respondents: str) -> None:
        post_id = await self.add(
            Post(space_id=self.spaces[channel], kind="learning_prompt", created_at=at)
        )
        for name in respondents:
            await self.add(
                Response(post_id=post_id, member_id=self.members[name], text="ja", created_at=at)
            )


async def seeded(store: Store) -> Seed:
    """Two regions, three coalitions; the week before END holds the counted activity."""
    seed = Seed(store)
    await seed.network()
    await seed.region("Twente")
    await seed.region("Zuid-Limburg")
    await seed.channel("gezond-twente")
    await seed.channel("zuid-samen")
    await seed.channel("stille-coalitie")
    for name in ("Anna", "Bram", "Carla", "Daan"):
        await seed.member(name, "Twente", "gezond-twente")
    for name in ("Eva", "Fenna"):
        await seed.member(name, "Zuid-Limburg", "zuid-samen", "stille-coalitie")
    old = await seed.question("Anna", "Twente", "gezond-twente", LONG_AGO, QuestionStatus.ANSWERED)
    await seed.answer(old, "Eva", "Zuid-Limburg", LONG_AGO)
    await seed.add(
        Member(
            network_id=seed.network_id,
            platform=Platform.SLACK,
            external_id="U-stil",
            display_name="Stil",
            name_key="stil",
        )
    )
    # In the period: three questions from Twente (one answered by Zuid-Limburg, one open), one
    # from Zuid-Limburg answered within its own region, and one withdrawn.
    q1 = await seed.question(
        "Anna", "Twente", "gezond-twente", days_ago(5), QuestionStatus.ANSWERED
    )
    await seed.answer(q1, "Eva", "Zuid-Limburg", days_ago(4))
    await seed.answer(q1, "Bram", "Twente", days_ago(4))
    await seed.question("Bram", "Twente", "gezond-twente", days_ago(3), QuestionStatus.OPEN)
    await seed.question("Carla", "Twente", "gezond-twente", days_ago(2), QuestionStatus.WITHDRAWN)
    q4 = await seed.question(
        "Eva", "Zuid-Limburg", "zuid-samen", days_ago(6), QuestionStatus.CLOSED
    )
    await seed.answer(q4, "Fenna", "Zuid-Limburg", days_ago(1))
    # Before the period, still open: 20 days (waiting) and 10 days (not yet waiting).
    await seed.question("Carla", "Twente", "gezond-twente", days_ago(20), QuestionStatus.OPEN)
    await seed.question("Daan", "Twente", "gezond-twente", days_ago(10), QuestionStatus.OPEN)
    # Outside the period, after END: not counted.
    await seed.question("Daan", "Twente", "gezond-twente", END, QuestionStatus.OPEN)
    return seed


async def digest_of(store: Store, seed: Seed, *, start: datetime = START) -> Digest:
    async with store.transaction() as tx:
        return await build(
            tx, network_id=seed.network_id, network="Landelijk netwerk", window=Window(start, END)
        )


async def test_questions_answers_and_connections_are_counted_per_region(store: Store) -> None:
    seed = await seeded(store)

    digest = await digest_of(store, seed)

    totals = digest.totals
    assert (totals.questions, totals.answered, totals.answers, totals.connections) == (4, 2, 3, 1)
    assert totals.still_open == 3  # 20 and 10 days old, and the one of this week
    twente, zuid = digest.regions
    assert (twente.name, twente.asked, twente.answered_questions) == ("Twente", 3, 1)
    assert (twente.answers_given, twente.connections) == (1, 0)
    assert (zuid.name, zuid.asked, zuid.answered_questions) == ("Zuid-Limburg", 1, 1)
    assert (zuid.answers_given, zuid.connections) == (2, 1)
    assert [q.number for q in digest.longest_open] == [6, 7, 3]
    assert digest.longest_open[0].waiting_days == 20


async def test_coalitions_show_their_members_questions_and_weekly_activity(store: Store) -> None:
    seed = await seeded(store)
    await seed.prompt("gezond-twente", days_ago(2), "Anna", "Bram")

    digest = await digest_of(store, seed)

    lines = {line.name: line for line in digest.coalitions}
    assert set(lines) == {"gezond-twente", "zuid-samen", "stille-coalitie"}
    twente = lines["gezond-twente"]
    assert (twente.members, twente.questions, twente.answers, twente.prompts) == (4, 3, 2, 1)
    assert twente.prompt_answer_rate == 0.5
    # This week: 3 questions, 2 answers, 2 prompt answers; two weeks back the 10-day question.
    assert twente.activity[-1] == 7
    assert twente.activity[-2] == 1
    assert len(twente.activity) == len(digest.activity) == len(digest.activity_weeks) == 8
    assert digest.activity[-1] == 7 + 2  # zuid-samen: its question and its answer
    assert digest.totals.prompt_answer_rate == 0.5


async def test_a_coalition_silent_for_two_weeks_is_signalled(store: Store) -> None:
    seed = await seeded(store)

    digest = await digest_of(store, seed)

    silent = [s for s in digest.signals if s.kind is SignalKind.SILENT]
    assert [(s.subject, s.days) for s in silent] == [("stille-coalitie", 120)]


async def test_a_young_or_recently_active_coalition_is_not_silent(store: Store) -> None:
    seed = await seeded(store)
    await seed.channel("nieuw", created=days_ago(5))
    await seed.prompt("stille-coalitie", days_ago(13), "Eva")

    digest = await digest_of(store, seed)

    assert [s for s in digest.signals if s.kind is SignalKind.SILENT] == []


async def test_answer_rates_falling_three_weeks_in_a_row_are_signalled(store: Store) -> None:
    seed = await seeded(store)
    await seed.prompt("gezond-twente", days_ago(23), "Anna", "Bram", "Carla", "Daan")
    await seed.prompt("gezond-twente", days_ago(16), "Anna", "Bram", "Carla")
    await seed.prompt("gezond-twente", days_ago(9), "Anna", "Bram")
    await seed.prompt("gezond-twente", days_ago(2), "Anna")
    # zuid-samen falls twice, then rises: no signal.
    await seed.prompt("zuid-samen", days_ago(23), "Eva", "Fenna")
    await seed.prompt("zuid-samen", days_ago(16), "Eva")
    await seed.prompt("zuid-samen", days_ago(9))
    await seed.prompt("zuid-samen", days_ago(2), "Eva")

    digest = await digest_of(store, seed)

    [falling] = [s for s in digest.signals if s.kind is SignalKind.FALLING_ANSWERS]
    assert falling.subject == "gezond-twente"
    assert falling.rates == (1.0, 0.75, 0.5, 0.25)


async def test_a_week_without_a_prompt_breaks_the_trend(store: Store) -> None:
    seed = await seeded(store)
    await seed.prompt("gezond-twente", days_ago(23), "Anna", "Bram", "Carla", "Daan")
    await seed.prompt("gezond-twente", days_ago(9), "Anna", "Bram")
    await seed.prompt("gezond-twente", days_ago(2), "Anna")

    digest = await digest_of(store, seed)

    assert [s for s in digest.signals if s.kind is SignalKind.FALLING_ANSWERS] == []


async def test_questions_open_longer_than_fourteen_days_are_signalled(store: Store) -> None:
    seed = await seeded(store)

    digest = await digest_of(store, seed)

    waiting = [s for s in digest.signals if s.kind is SignalKind.WAITING_QUESTION]
    assert [(s.subject, s.days, s.coalition, s.count) for s in waiting] == [
        ("#6", 20, "gezond-twente", 1)
    ]


async def test_many_waiting_questions_make_one_signal_per_coalition(store: Store) -> None:
    seed = await seeded(store)
    for days in (30, 25, 16):
        await seed.question(
            "Eva", "Zuid-Limburg", "zuid-samen", days_ago(days), QuestionStatus.OPEN
        )

    digest = await digest_of(store, seed)

    waiting = [s for s in digest.signals if s.kind is SignalKind.WAITING_QUESTION]
    assert [(s.subject, s.days, s.coalition, s.count) for s in waiting] == [
        ("#9", 30, "zuid-samen", 3),
        ("#6", 20, "gezond-twente", 1),
    ]


async def test_a_newcomer_who_never_acknowledged_the_house_rules_is_signalled(
    store: Store,
) -> None:
    seed = await seeded(store)
    rule_set = await seed.add(HouseRuleSet(space_id=seed.spaces["gezond-twente"], title="Onze"))
    version = await seed.add(
        HouseRuleVersion(
            rule_set_id=rule_set, version=1, text="1. Wees op tijd", adopted_at=LONG_AGO
        )
    )
    await seed.member("Gijs", "Twente", "gezond-twente", seen=days_ago(10))  # never acknowledged
    await seed.member("Hanna", "Twente", "gezond-twente", seen=days_ago(10))
    await seed.add(HouseRuleAcknowledgement(version_id=version, member_id=seed.members["Hanna"]))
    await seed.member("Ids", "Twente", "gezond-twente", seen=days_ago(1))  # still has time
    await seed.member("Jet", "Zuid-Limburg", "zuid-samen", seen=days_ago(10))  # no rules there
    await seed.member("Kees", "Twente", "gezond-twente", seen=days_ago(9))
    async with store.transaction() as tx:  # Kees asked to be forgotten
        kees = await tx.members.get(seed.members["Kees"])
        assert kees is not None
        kees.erased_at = days_ago(1)
        tx.session.add(kees)

    digest = await digest_of(store, seed)

    newcomers = [s for s in digest.signals if s.kind is SignalKind.NEWCOMER_UNACKNOWLEDGED]
    assert [(s.subject, s.coalition, s.days) for s in newcomers] == [("Gijs", "gezond-twente", 10)]


async def test_sessions_lessons_rounds_rules_and_failures_are_summarised_without_content(
    store: Store,
) -> None:
    seed = await seeded(store)
    space = seed.spaces["zuid-samen"]
    session = await seed.add(
        IntervisionSession(
            space_id=space,
            method="incident",
            facilitator_id=seed.members["Eva"],
            case_owner_id=seed.members["Fenna"],
            created_at=days_ago(3),
        )
    )
    for name in ("Eva", "Fenna"):
        await seed.add(IntervisionParticipant(session_id=session, member_id=seed.members[name]))
    await seed.add(
        IntervisionContribution(
            session_id=session, phase="casus", author_id=seed.members["Fenna"], text="GEHEIM"
        )
    )
    for text, shareable in (("Deelbare les", True), ("Besloten les", False)):
        await seed.add(
            Lesson(
                session_id=session,
                author_id=seed.members["Eva"],
                text=text,
                shareable=shareable,
                created_at=days_ago(3),
            )
        )
    round_id = await seed.add(
        ReflectionRound(
            space_id=space,
            coach_id=seed.members["Eva"],
            template="vijf-condities",
            anonymous=True,
            closed_at=days_ago(1),
        )
    )
    for member, score in (("Eva", 4), ("Fenna", 2)):
        await seed.add(ReflectionParticipation(round_id=round_id, member_id=seed.members[member]))
        await seed.add(ReflectionAnswer(round_id=round_id, question_index=0, score=score))
        await seed.add(ReflectionAnswer(round_id=round_id, question_index=1, text="anoniem"))
    rule_set = await seed.add(HouseRuleSet(space_id=space, title="Onze"))
    version = await seed.add(
        HouseRuleVersion(rule_set_id=rule_set, version=2, text="1. Luister", adopted_at=days_ago(2))
    )
    await seed.add(HouseRuleAcknowledgement(version_id=version, member_id=seed.members["Eva"]))
    for number in range(3):
        await seed.add(
            OutboxMessage(
                idempotency_key=f"failed-{number}",
                platform=Platform.SLACK,
                kind=DeliveryKind.POST,
                channel_ref="C-zuid-samen",
                payload={},
                status=OutboxStatus.FAILED,
                last_error="not_in_channel",
                created_at=days_ago(2),
            )
        )

    digest = await digest_of(store, seed)

    [held] = digest.sessions
    assert (held.method, held.coalition, held.group_size) == ("incident", "zuid-samen", 2)
    assert [lesson.text for lesson in digest.lessons] == ["Deelbare les"]
    [closed] = digest.rounds
    assert (closed.template, closed.anonymous, closed.respondents) == ("vijf-condities", True, 2)
    assert [(scale.question_index, scale.counts) for scale in closed.scales] == [
        (0, (0, 1, 0, 1, 0))
    ]
    assert closed.scales[0].mean == 3.0
    [rules] = digest.rules
    assert (rules.coalition, rules.version, rules.acknowledged, rules.members) == (
        "zuid-samen",
        2,
        1,
        2,
    )
    assert rules.rate == 0.5
    [failed] = digest.failed
    assert (failed.place, failed.error, failed.count) == ("zuid-samen", "not_in_channel", 3)
    assert "GEHEIM" not in repr(digest)
    assert "Besloten les" not in repr(digest)
    assert "anoniem" not in repr(digest)


async def test_an_empty_network_gives_an_empty_digest(store: Store) -> None:
    seed = Seed(store)
    await seed.network()

    digest = await digest_of(store, seed)

    assert digest.totals.questions == 0
    assert digest.coalitions == digest.signals == digest.regions == ()
    assert digest.activity == (0,) * 8
