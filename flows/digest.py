"""The coordinators' digest: what the network learned in a period, and where to look.

:func:`build` turns the database's counts (:mod:`storage.repositories.digest`) into a
:class:`Digest`: totals, one line per region and per coalition (a channel), the longest-waiting
open questions, intervision sessions (method and group size only) with the lessons their
authors shared, learning-prompt answer rates, reflection-round results, adopted house rules,
failed deliveries, and :class:`Signal`\\ s: where engagement drops, each with a suggested action.

Two simplifications, on purpose: whether a question is open is its status now (a question of a
past period answered since counts as answered), and failed deliveries are those of the whole
installation (the outbox does not know networks; one installation serves one network).

The same :class:`Digest` feeds the chat message (:mod:`flows.digest_room`) and the reports
(``hoedan digest``). It holds no intervision content but shared lessons, and nothing that ties
an anonymous answer to a member: its reflection results are counts per score.

Signals are judged at the period's end, whatever its length:

- a coalition is *silent* when nothing was contributed in it for :data:`SILENT_AFTER` or more
  (and it is older than that);
- learning-prompt answer rates *fall* when each of the last three weeks had a lower rate than
  the week before it (four weeks with a prompt);
- a question is *waiting* when it has been open for more than :data:`WAITING_AFTER`;
- a *newcomer* first seen in a coalition with adopted house rules between
  :data:`NEWCOMER_WINDOW` and :data:`ACKNOWLEDGE_WITHIN` ago has not acknowledged them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from storage.enums import QuestionStatus
from storage.models import Space
from storage.repositories.digest import (
    WEEK,
    AnswerCount,
    FailedDelivery,
    Newcomer,
    PromptPost,
    QuestionCount,
    ScoreCount,
    SessionHeld,
    WaitingGroup,
    Window,
)
from storage.store import Transaction

SILENT_AFTER = timedelta(days=14)
WAITING_AFTER = timedelta(days=14)
NEWCOMER_WINDOW = timedelta(days=28)
ACKNOWLEDGE_WITHIN = timedelta(days=3)
FALLING_WEEKS = 3
"""Consecutive weeks of lower answer rates that make a falling trend."""
ACTIVITY_WEEKS = 8
"""Weeks of activity shown as a sparkline, counted back from the period's end."""
LONGEST_OPEN = 5
SCALE = range(1, 6)
ANSWERED = frozenset({QuestionStatus.ANSWERED, QuestionStatus.CLOSED})
"""Statuses of a question that got its answer (a withdrawn one did not)."""
LEARNING_PROMPT_KIND = "learning_prompt"  # flows.learning_room.KIND (no import: no cycle)


class SignalKind(StrEnum):
    SILENT = "silent"
    FALLING_ANSWERS = "falling_answers"
    WAITING_QUESTION = "waiting_question"
    NEWCOMER_UNACKNOWLEDGED = "newcomer_unacknowledged"


@dataclass(frozen=True)
class Signal:
    """Something a coordinator may want to act on; texts come from ``digest.signal.<kind>``."""

    kind: SignalKind
    coalition: str | None
    """The channel it is about, if any."""
    subject: str
    """What it is about: a channel, ``#12``, or a member's name."""
    days: int
    """Days silent, days waiting, or days since the newcomer was first seen."""
    rates: tuple[float, ...] = ()
    """For falling answer rates: the weekly rates, oldest first."""
    count: int = 1
    """For waiting questions: how many in this coalition wait too long (``subject`` is the
    longest-waiting one), so a busy network gets one line per coalition, not per question."""


@dataclass(frozen=True)
class RegionLine:
    name: str
    asked: int
    answered_questions: int
    """New questions of the period (asked by this region) that are answered or closed now."""
    answers_given: int
    connections: int
    """Answers this region gave to another region's questions."""


@dataclass(frozen=True)
class CoalitionLine:
    name: str
    members: int
    questions: int
    answers: int
    sessions: int
    prompts: int
    prompt_answer_rate: float | None
    """Respondents per prompt and member, over the period's prompts; None without prompts."""
    activity: tuple[int, ...]
    """Contributions per week, oldest first, the last week ending at the period's end."""
    last_activity: datetime | None


@dataclass(frozen=True)
class OpenQuestionLine:
    number: int
    text: str
    region: str | None
    coalition: str | None
    asked_at: datetime
    waiting_days: int


@dataclass(frozen=True)
class SessionLine:
    method: str
    coalition: str
    group_size: int
    held_at: datetime


@dataclass(frozen=True)
class LessonLine:
    text: str
    method: str
    coalition: str


@dataclass(frozen=True)
class ScaleLine:
    question_index: int
    counts: tuple[int, ...]
    """How many gave 1, 2, 3, 4 and 5."""

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> float | None:
        if not self.total:
            return None
        return sum(score * count for score, count in zip(SCALE, self.counts, strict=True)) / (
            self.total
        )


@dataclass(frozen=True)
class RoundLine:
    coalition: str
    template: str
    anonymous: bool
    respondents: int
    closed_at: datetime
    scales: tuple[ScaleLine, ...]


@dataclass(frozen=True)
class RulesLine:
    coalition: str
    version: int
    adopted_at: datetime
    acknowledged: int
    members: int

    @property
    def rate(self) -> float | None:
        return min(1.0, self.acknowledged / self.members) if self.members else None


@dataclass(frozen=True)
class FailedLine:
    place: str
    """A channel's name when Hoedan knows it, else the platform's address."""
    error: str
    count: int
    last_at: datetime


@dataclass(frozen=True)
class Totals:
    questions: int
    answered: int
    still_open: int
    """All questions open at the period's end, whenever asked."""
    answers: int
    connections: int
    sessions: int
    lessons: int
    prompts: int
    prompt_answer_rate: float | None
    rounds: int
    rules_adopted: int
    failed_deliveries: int


@dataclass(frozen=True)
class Digest:
    network: str
    start: datetime
    end: datetime
    totals: Totals
    activity: tuple[int, ...]
    """The whole network's contributions per week, oldest first (a sparkline)."""
    activity_weeks: tuple[datetime, ...]
    """Where each week of ``activity`` starts."""
    regions: tuple[RegionLine, ...]
    coalitions: tuple[CoalitionLine, ...]
    longest_open: tuple[OpenQuestionLine, ...]
    sessions: tuple[SessionLine, ...]
    lessons: tuple[LessonLine, ...]
    rounds: tuple[RoundLine, ...]
    rules: tuple[RulesLine, ...]
    failed: tuple[FailedLine, ...]
    signals: tuple[Signal, ...]


async def build(tx: Transaction, *, network_id: int, network: str, window: Window) -> Digest:
    """Everything the digest says about ``window``, from grouped counts."""
    repo = tx.digest
    spaces = {space.id: space for space in await repo.channels(network_id) if space.id}
    regions = await _region_names(tx, network_id)
    members = await repo.member_counts(network_id)
    weeks = max(ACTIVITY_WEEKS, _weeks_in(window), FALLING_WEEKS + 1)

    questions = await repo.questions(network_id, window)
    answers = await repo.answers(network_id, window)
    posts = await repo.prompt_posts(
        network_id,
        Window(min(window.start, window.end - weeks * WEEK), window.end),
        kind=LEARNING_PROMPT_KIND,
    )
    period_posts = [post for post in posts if post.created_at >= window.start]
    sessions = await repo.sessions(network_id, window)
    lessons = await repo.shared_lessons(network_id, window)
    rounds = await repo.rounds_closed(network_id, window)
    scores = await repo.score_counts([line.round_id for line in rounds])
    rules = await repo.rules_adopted(network_id, window)
    failed = await repo.failed_deliveries(window)
    weekly = await repo.weekly_activity(network_id, end=window.end, weeks=weeks)
    last = await repo.last_activity(network_id, end=window.end)
    waiting_before = window.end - WAITING_AFTER
    oldest = await repo.longest_open(network_id, before=window.end, limit=LONGEST_OPEN)
    waiting = await repo.waiting(network_id, before=waiting_before)
    newcomers = await repo.newcomers_without_acknowledgement(
        network_id, joined=Window(window.end - NEWCOMER_WINDOW, window.end - ACKNOWLEDGE_WITHIN)
    )

    def coalition(space_id: int | None) -> str | None:
        space = spaces.get(space_id) if space_id is not None else None
        return space.name if space is not None else None

    activity_by_space: dict[int, list[int]] = defaultdict(lambda: [0] * weeks)
    for row in weekly:
        activity_by_space[row.space_id][weeks - 1 - row.weeks_before_end] += row.count
    shown = min(weeks, max(ACTIVITY_WEEKS, _weeks_in(window)))
    network_activity = [
        sum(counts[i] for counts in activity_by_space.values()) for i in range(weeks)
    ]

    per_channel = _PerChannel.of(questions, answers, sessions, period_posts)
    scores_by_round: dict[int, list[ScoreCount]] = defaultdict(list)
    for score in scores:
        scores_by_round[score.round_id].append(score)
    answered = sum(row.count for row in questions if row.status in ANSWERED)
    connections = sum(
        row.count for row in answers if _crosses(row.answering_region_id, row.asking_region_id)
    )
    signals = [
        *_silent(spaces.values(), last, window.end),
        *_falling(spaces, posts, members, window.end),
        *_waiting(waiting, coalition, window.end),
        *_newcomers(newcomers, coalition, window.end),
    ]
    return Digest(
        network=network,
        start=window.start,
        end=window.end,
        totals=Totals(
            questions=sum(row.count for row in questions),
            answered=answered,
            still_open=await repo.open_count(network_id, before=window.end),
            answers=sum(row.count for row in answers),
            connections=connections,
            sessions=len(sessions),
            lessons=len(lessons),
            prompts=len(period_posts),
            prompt_answer_rate=_answer_rate(period_posts, members),
            rounds=len(rounds),
            rules_adopted=len(rules),
            failed_deliveries=sum(row.count for row in failed),
        ),
        activity=tuple(network_activity[-shown:]),
        activity_weeks=tuple(window.end - (shown - i) * WEEK for i in range(shown)),
        regions=_regions(questions, answers, regions),
        coalitions=tuple(
            sorted(
                (
                    _coalition_line(
                        space,
                        per_channel,
                        members,
                        activity_by_space.get(space_id, [0] * weeks)[-shown:],
                        last,
                    )
                    for space_id, space in spaces.items()
                ),
                key=lambda line: line.name.lower(),
            )
        ),
        longest_open=tuple(
            OpenQuestionLine(
                number=row.number,
                text=row.text,
                region=regions.get(row.region_id) if row.region_id is not None else None,
                coalition=coalition(row.space_id),
                asked_at=row.created_at,
                waiting_days=(window.end - row.created_at).days,
            )
            for row in oldest
        ),
        sessions=tuple(
            SessionLine(row.method, coalition(row.space_id) or "", row.group_size, row.created_at)
            for row in sessions
        ),
        lessons=tuple(
            LessonLine(row.text, row.method, coalition(row.space_id) or "") for row in lessons
        ),
        rounds=tuple(
            RoundLine(
                coalition=coalition(row.space_id) or "",
                template=row.template,
                anonymous=row.anonymous,
                respondents=row.respondents,
                closed_at=row.closed_at,
                scales=_scales(scores_by_round.get(row.round_id, [])),
            )
            for row in rounds
        ),
        rules=tuple(
            RulesLine(
                coalition=coalition(row.space_id) or "",
                version=row.version,
                adopted_at=row.adopted_at,
                acknowledged=row.acknowledged,
                members=members.get(row.space_id, 0),
            )
            for row in rules
        ),
        failed=tuple(_failed_line(row, spaces.values()) for row in failed),
        signals=tuple(signals),
    )


def _weeks_in(window: Window) -> int:
    return max(1, -(-(window.end - window.start) // WEEK))


def _crosses(answering: int | None, asking: int | None) -> bool:
    return answering is not None and asking is not None and answering != asking


async def _region_names(tx: Transaction, network_id: int) -> dict[int, str]:
    return {
        region.id: region.name
        for region in await tx.regions.all(network_id=network_id)
        if region.id is not None
    }


def _regions(
    questions: Sequence[QuestionCount], answers: Sequence[AnswerCount], names: dict[int, str]
) -> tuple[RegionLine, ...]:
    asked: dict[int, int] = defaultdict(int)
    answered: dict[int, int] = defaultdict(int)
    given: dict[int, int] = defaultdict(int)
    connections: dict[int, int] = defaultdict(int)
    for q in questions:
        if q.region_id is None:
            continue
        asked[q.region_id] += q.count
        if q.status in ANSWERED:
            answered[q.region_id] += q.count
    for a in answers:
        if a.answering_region_id is None:
            continue
        given[a.answering_region_id] += a.count
        if _crosses(a.answering_region_id, a.asking_region_id):
            connections[a.answering_region_id] += a.count
    active = set(asked) | set(given)
    return tuple(
        sorted(
            (
                RegionLine(
                    names.get(rid, "?"), asked[rid], answered[rid], given[rid], connections[rid]
                )
                for rid in active
            ),
            key=lambda line: line.name.lower(),
        )
    )


@dataclass(frozen=True)
class _PerChannel:
    """The period's rows counted per channel once, so each coalition's line is a look-up."""

    questions: dict[int | None, int]
    answers: dict[int | None, int]
    sessions: dict[int, int]
    posts: dict[int, list[PromptPost]]

    @classmethod
    def of(
        cls,
        questions: Sequence[QuestionCount],
        answers: Sequence[AnswerCount],
        sessions: Sequence[SessionHeld],
        posts: Sequence[PromptPost],
    ) -> _PerChannel:
        per = cls(defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(list))
        for question in questions:
            per.questions[question.space_id] += question.count
        for answer in answers:
            per.answers[answer.space_id] += answer.count
        for session in sessions:
            per.sessions[session.space_id] += 1
        for post in posts:
            per.posts[post.space_id].append(post)
        return per


def _coalition_line(
    space: Space,
    per: _PerChannel,
    members: dict[int, int],
    activity: Sequence[int],
    last: dict[int, datetime],
) -> CoalitionLine:
    assert space.id is not None
    own_posts = per.posts.get(space.id, [])
    return CoalitionLine(
        name=space.name,
        members=members.get(space.id, 0),
        questions=per.questions.get(space.id, 0),
        answers=per.answers.get(space.id, 0),
        sessions=per.sessions.get(space.id, 0),
        prompts=len(own_posts),
        prompt_answer_rate=_answer_rate(own_posts, members),
        activity=tuple(activity),
        last_activity=last.get(space.id),
    )


def _answer_rate(posts: Iterable[PromptPost], members: dict[int, int]) -> float | None:
    """Respondents over members, summed over the prompts (a channel of ten with two prompts
    and five answers in all has a rate of 0.25)."""
    asked = 0
    answered = 0
    for post in posts:
        asked += members.get(post.space_id, 0)
        answered += post.respondents
    return min(1.0, answered / asked) if asked else None


def _silent(spaces: Iterable[Space], last: dict[int, datetime], end: datetime) -> list[Signal]:
    found = []
    for space in spaces:
        assert space.id is not None
        since = last.get(space.id, space.created_at)
        if space.created_at <= end - SILENT_AFTER and since <= end - SILENT_AFTER:
            found.append(Signal(SignalKind.SILENT, space.name, space.name, days=(end - since).days))
    return sorted(found, key=lambda signal: -signal.days)


def _falling(
    spaces: dict[int, Space], posts: Sequence[PromptPost], members: dict[int, int], end: datetime
) -> list[Signal]:
    """Weekly answer rates per channel over the last four weeks: three falls in a row."""
    weeks = FALLING_WEEKS + 1
    by_week: dict[int, list[list[PromptPost]]] = defaultdict(lambda: [[] for _ in range(weeks)])
    for post in posts:
        age = int((end - post.created_at) // WEEK)
        if 0 <= age < weeks:
            by_week[post.space_id][weeks - 1 - age].append(post)
    found = []
    for space_id, buckets in by_week.items():
        rates = [_answer_rate(bucket, members) for bucket in buckets]
        if any(rate is None for rate in rates) or space_id not in spaces:
            continue
        known = [rate for rate in rates if rate is not None]
        if all(later < earlier for earlier, later in pairwise(known)):
            name = spaces[space_id].name
            found.append(
                Signal(SignalKind.FALLING_ANSWERS, name, name, days=weeks * 7, rates=tuple(known))
            )
    return sorted(found, key=lambda signal: signal.subject.lower())


def _waiting(
    groups: Sequence[WaitingGroup], coalition: Callable[[int | None], str | None], end: datetime
) -> list[Signal]:
    found = [
        Signal(
            SignalKind.WAITING_QUESTION,
            coalition(group.space_id),
            f"#{group.oldest_number}",
            days=(end - group.oldest_at).days,
            count=group.count,
        )
        for group in groups
    ]
    return sorted(found, key=lambda signal: (-signal.days, signal.subject))


def _newcomers(
    newcomers: Sequence[Newcomer], coalition: Callable[[int | None], str | None], end: datetime
) -> list[Signal]:
    return [
        Signal(
            SignalKind.NEWCOMER_UNACKNOWLEDGED,
            coalition(row.space_id),
            row.display_name,
            days=(end - row.first_seen_at).days,
        )
        for row in newcomers
    ]


def _scales(scores: Sequence[ScoreCount]) -> tuple[ScaleLine, ...]:
    """One round's score counts as a distribution per scale question."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * len(SCALE))
    for row in scores:
        if row.score in SCALE:
            counts[row.question_index][row.score - 1] += row.count
    return tuple(ScaleLine(index, tuple(counts[index])) for index in sorted(counts))


def _failed_line(row: FailedDelivery, spaces: Iterable[Space]) -> FailedLine:
    names = {space.external_id: space.name for space in spaces}
    address = row.channel_ref or row.member_ref or "?"
    return FailedLine(names.get(address, address), row.error, row.count, row.last_at)
