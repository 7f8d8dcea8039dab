"""Finding earlier questions like a new one: the heart of the #hoedan → #zodan exchange.

Every question that is not withdrawn has a row in the full-text index ``question_search``
(migration 0003): its own Dutch stems and, in a second column, the stems of all its answers.
On SQLite that is an FTS5 table; on PostgreSQL a plain table, whose stems a trigger copies
into a B-tree keyed by stem and question id (``question_search_stem``, migration 0004). Both
indexes hold each word's questions in the order of their ids, so both read a word's newest
questions directly. A match is found in the same steps on both, with the same result:

1. The text becomes *concepts* (``storage.search.query_concepts``): its stems without stop
   words and question filler, each with the related words of ``prompts/synonyms.toml``
   ("bewoners" also finds "inwoners" and "burgers", for a little less).
2. A first, cheap statement counts how many questions have the asker's own words of each
   concept in their text (up to ``SAMPLE``; above that it estimates from how far back the
   ``SAMPLE`` newest lie). Rarer words weigh more when candidates are ranked in step 3, and
   only rare words are matched as prefixes (see below).
3. One statement reads, per concept, the ``RECENT`` newest questions with the asker's own words
   in their text; for rare concepts also, apart, the ``RECENT`` newest with related words; and
   once for the whole query the ``RECENT`` newest with its rare own words in their answers.
   Rare words are read in full that way; common ones ("ouderen") only as far back as the
   newest hundred, which are as good candidates as thousands of older ones and far cheaper to
   read. It returns the
   questions with the highest summed weight, with their stems and all a ``Match`` shows, and
   how many questions each part reached: a concept's frequency for step 4.
4. Those are scored again, exactly, in Python. A concept weighs its rarity among questions
   (BM25's IDF), times 0.3 for the generic words of this field ("regio", "netwerk"), times
   ``UNKNOWN`` when no question has it. *Coverage of the query*: the share of the query's
   concept weight the question contains, fully in its own text, ``ANSWER_WEIGHT`` in its
   answers, times the synonym group's weight when found through a related word. *Coverage of
   the question*: the share of the question's own stems (question filler left out, generic
   words counted 0.3) that the query's words account for; a short question about exactly this
   is a better match than a long one that mentions it in passing. The relevance is their
   geometric mean, from 0 to 1.

Why not FTS5's ``bm25()`` or PostgreSQL's ``ts_rank``: both score every question containing any
query term, row by row, and FTS5 also reads every term's whole posting list for its IDF. At
100,000 questions a query touches tens of thousands of rows and takes tens of milliseconds
(``python -m bench.matcher`` runs it as a baseline). Their scores also differ between the two
databases and grow with the size of the index, so no threshold would mean the same in a young
network and a large one; a relevance from 0 to 1 computed the same way everywhere does.

Prefix queries ("mantelzorg"* also finding "mantelzorgers", "dementie"* "dementiezorg") are used
for stems of at least ``storage.search.PREFIX_MIN`` letters of concepts whose own words fewer
than ``SAMPLE`` questions have: before it returns a single row, FTS5 merges the posting lists
of every word with the prefix, which for a common stem ("inwoner"* at 100,000 questions) costs
more than the rest of the query together. Common words need it least: their variants are
common too, and synonyms.toml lists the ones that matter ("mantelzorgers").

The statements need SQLite 3.35 or newer (``MATERIALIZED``), which Python 3.11 ships.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Protocol

from sqlalchemy import TextClause
from sqlalchemy import text as sql
from sqlalchemy.engine import Dialect, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import manager_of_class, set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.enums import QuestionStatus
from storage.models import Answer, Question
from storage.search import (
    GENERIC_WEIGHT,
    PREFIX_MIN,
    QUERY_FILLER,
    Concept,
    Term,
    generic_stems,
    is_search_stem,
    query_concepts,
    search_entry,
    stem_word,
)

ANSWER_WEIGHT = 0.4
"""A concept found only in a question's answers counts for this much of one in the question:
answers help find a question, but say less about what was asked."""

MIN_RELEVANCE = 0.25
"""The least relevance for ``similar``. Paraphrases often share one idea and little else, so
the partner of a question in tests/data/question_pairs.toml typically scores 0.3–0.6; a
question sharing only a generic word scores below 0.2."""

MIN_COVERAGE = 0.15
"""The least coverage of the query for ``similar``, whatever the question's own coverage: a
short question must not pass on one minor word of a long text."""

QUESTION_COVERAGE_FLOOR = 0.25
"""The least coverage of the question counted: a long question that also covers much else, or
one found only through its answers, is not ruled out by that alone."""

UNKNOWN = 0.5
"""A concept no question contains counts for this share of the weight it would have as the
rarest of all: it says the text is about something none of them is about, but it may also be
a typo or a word nobody else uses, so it should not outweigh everything else."""

CANDIDATES = 10
"""How many of the most relevant questions ``similar`` considers before it prefers answered
questions from other regions; a weaker match never jumps ahead of more than this many."""

FETCHED = 20
"""Questions the index returns (step 3), to be scored exactly (step 4)."""

SAMPLE = 100
"""Questions per word counted exactly (step 2). Rarity enters a weight as a logarithm, so an
estimate from the newest hundred is as good as a count, and costs the same for any word."""

RECENT = 100
"""The newest questions read per part of the query (step 3). At 100,000 generated questions
(``bench.matcher``), 200 put 93% instead of 90% of the results on the query's topic for
0.5 ms more per query."""

PREFIX_MIN_RELATED = 7
"""The least length of a related word's stem to match as a prefix (see ``_prefixable``)."""

WIDE = 50
"""Best-scoring questions looked up in the question table for their network and status; only
if fewer than ``FETCHED`` of them qualify (other networks in the same database) is the lookup
repeated for all."""


@dataclass(frozen=True)
class Match:
    """An earlier question found for a text, with what is shown next to it."""

    question: Question
    asker_name: str
    region_name: str | None
    answered: bool
    """At least one #zodan (Answer row)."""
    score: float
    """Relevance from 0 to 1 (see the module's docs); the same on SQLite and PostgreSQL.
    Higher is more similar."""


@dataclass(frozen=True)
class _Part:
    """One expression step 3 reads its newest questions for, and what a match is worth."""

    concept: int | None
    """The concept whose frequency it measures; None for the part that reads answers."""
    terms: list[Term]
    column: str
    weight: float


@dataclass
class _Query:
    """A text's concepts and their weights, and how a question's stems are matched against
    them (step 4)."""

    concepts: list[Concept]
    prefixed: frozenset[str]
    """The stems that also match longer words that start with them."""
    weights: list[float]

    @property
    def total(self) -> float:
        return sum(self.weights)

    @cached_property
    def alternatives(self) -> list[list[tuple[float, list[frozenset[str]]]]]:
        """Per concept, its alternatives as (weight, terms as sets of stems), best first."""
        return [
            sorted(
                ((a.weight, [frozenset(term) for term in a.terms]) for a in c.alternatives),
                key=lambda pair: -pair[0],
            )
            for c in self.concepts
        ]

    @cached_property
    def stems(self) -> frozenset[str]:
        """Every stem of every term of every concept."""
        return frozenset(
            stem for concept in self.concepts for term in _terms(concept) for stem in term
        )

    @cached_property
    def _prefixes(self) -> re.Pattern[str] | None:
        """The prefixed stems as one pattern, longest first, each at the start of a word."""
        stems = sorted(self.prefixed, key=len, reverse=True)
        return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(stems)})") if stems else None

    @cached_property
    def _within(self) -> dict[str, frozenset[str]]:
        """For each prefixed stem, the prefixed stems it starts with (itself included)."""
        return {s: frozenset(p for p in self.prefixed if s.startswith(p)) for s in self.prefixed}

    def found_in(self, stems: str) -> set[str]:
        """The query's stems that a space-separated text of stems contains, as the index
        matches them: whole words, and the start of words for the prefixed stems."""
        found = set(self.stems.intersection(stems.split()))
        if self._prefixes is not None:
            for start in self._prefixes.finditer(stems):
                found.update(self._within[start.group()])
        return found

    def accounted(self, stems: str) -> float:
        """The share of a question's own stems that the query's words account for (question
        filler left out, generic words counted ``GENERIC_WEIGHT``)."""
        filler = _filler_stems()
        generic = generic_stems()
        total = accounted = 0.0
        for token in stems.split():
            if token in filler:
                continue
            weight = GENERIC_WEIGHT if token in generic else 1.0
            total += weight
            if token in self.stems or (
                self._prefixes is not None and self._prefixes.match(token) is not None
            ):
                accounted += weight
        return accounted / total if total else 0.0


class _Dialect(Protocol):
    """What differs between SQLite (FTS5) and PostgreSQL (a B-tree of stems): the statements,
    and the parameters that say what they look for."""

    upsert: TextClause
    delete: TextClause

    def frequencies(self, terms: Sequence[Term]) -> tuple[TextClause, dict[str, Any]]:
        """Step 2 for terms (each a concept's own words) in questions' text: per term ``i``,
        ``cut`` (the id of the ``SAMPLE``-th newest question with it, if it has that many),
        ``found`` (if not: how many), and ``top`` (the highest question id)."""
        ...

    def candidates(
        self, parts: Sequence[_Part], prefixed: frozenset[str]
    ) -> tuple[TextClause, dict[str, Any]]:
        """Step 3 for the parts (the stems in ``prefixed`` also match longer words that start
        with them): the ``:fetched`` questions of ``:network_id`` with the highest summed
        weight of the parts they match among each part's ``:recent`` newest questions, not
        withdrawn and not ``:exclude_id``; the ``:wide`` best are checked for that (-1: all).
        Columns: the question's, and ``match_asker``, ``match_region``, ``match_stems``,
        ``match_answer_stems``, ``match_answered``, ``match_reach`` (JSON as text, the same in
        every row, so it is decoded once: per part, how many of its newest questions were read
        and the lowest id among them) and ``match_considered`` (how many were checked). Always
        at least one row; ``id`` is NULL when no question qualified."""
        ...


class MatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def index(self, question_id: int) -> None:
        """(Re)build the question's search entry from its current text and all its answers.

        Call it after adding a question, editing its text, adding, editing or removing an
        answer, and withdrawing it: a withdrawn (or deleted) question leaves the index.
        """
        await self._session.flush()
        statement = (
            select(Question.text, Question.status, Answer.text)
            .outerjoin(Answer, col(Answer.question_id) == Question.id)
            .where(Question.id == question_id)
            .order_by(col(Answer.id))
        )
        rows = (await self._session.exec(statement)).all()
        connection = await self._session.connection()
        dialect = _dialect(connection)
        if not rows or rows[0][1] == QuestionStatus.WITHDRAWN:
            await connection.execute(dialect.delete, {"id": question_id})
            return
        entry = search_entry(rows[0][0], [answer for _, _, answer in rows if answer is not None])
        await connection.execute(
            dialect.upsert,
            {"id": question_id, "question": entry.question, "answers": entry.answers},
        )

    async def similar(
        self,
        *,
        network_id: int,
        text: str,
        limit: int = 3,
        exclude_id: int | None = None,
        region_id: int | None = None,
    ) -> list[Match]:
        """Up to ``limit`` earlier questions like ``text`` (never withdrawn ones, never
        ``exclude_id``).

        Of the ``CANDIDATES`` most relevant questions over ``MIN_COVERAGE`` and
        ``MIN_RELEVANCE``, answered ones from other regions than ``region_id`` come first:
        their #zodan is what the asker can use today, and learning from other regions is what
        the exchange is for. Then by relevance.
        """
        found, dialect = await self._relevant(
            network_id=network_id, text=text, strict=True, count=CANDIDATES, exclude_id=exclude_id
        )

        def elsewhere(row: RowMapping) -> bool:
            return bool(row["match_answered"]) and (
                region_id is None or row["region_id"] != region_id
            )

        found.sort(key=lambda pair: (not elsewhere(pair[1]), -pair[0], -pair[1]["id"]))
        return [self._match(dialect, row, score) for score, row in found[: max(limit, 0)]]

    async def search(self, *, network_id: int, query: str, limit: int) -> list[Match]:
        """For the ``zoek`` command: questions containing any of the query's concepts, the most
        relevant first, withdrawn ones left out, no preference for region or answers."""
        found, dialect = await self._relevant(
            network_id=network_id, text=query, strict=False, count=limit, exclude_id=None
        )
        return [self._match(dialect, row, score) for score, row in found]

    async def _relevant(
        self, *, network_id: int, text: str, strict: bool, count: int, exclude_id: int | None
    ) -> tuple[list[tuple[float, RowMapping]], Dialect]:
        """The ``count`` most relevant questions as (relevance, candidate row), best first;
        with ``strict``, only those over ``MIN_COVERAGE`` and ``MIN_RELEVANCE``, else all that
        contain any concept. Also the dialect, to make ``Match``es of the rows."""
        await self._session.flush()
        connection = await self._session.connection()
        dialect = _dialect(connection)
        concepts = [c for c in query_concepts(text) if _checked(_terms(c))]
        if not concepts or count <= 0:
            return [], connection.dialect
        rare, guesses, top = await self._frequencies(connection, dialect, concepts)
        prefixed = frozenset(stem for i in rare for stem in _prefixable(concepts[i]))
        parts = _parts(concepts, guesses, rare)
        parameters: dict[str, Any] = {
            "network_id": network_id,
            "withdrawn": QuestionStatus.WITHDRAWN.value,
            "exclude_id": -1 if exclude_id is None else exclude_id,
            "fetched": max(FETCHED, count),
            "wide": WIDE,
            "recent": RECENT,
        }
        statement, expressions = dialect.candidates(parts, prefixed)
        parameters.update(expressions)
        rows = (await connection.execute(statement, parameters)).all()
        if len(rows) < parameters["fetched"] and rows[0].match_considered >= WIDE:
            # The best WIDE were mostly other networks' questions: check them all.
            parameters["wide"] = -1
            rows = (await connection.execute(statement, parameters)).all()
        if rows[0].id is None:
            return [], connection.dialect
        weights = _weights(concepts, parts, rows[0].match_reach, top)
        query = _Query(concepts, prefixed, weights)
        scored: list[tuple[float, RowMapping]] = []
        for row in rows:
            coverage, relevance = _relevance(query, row.match_stems, row.match_answer_stems)
            if coverage <= 0 or (strict and (coverage < MIN_COVERAGE or relevance < MIN_RELEVANCE)):
                continue
            scored.append((relevance, row._mapping))
        scored.sort(key=lambda pair: (-pair[0], -pair[1]["id"]))
        return scored[:count], connection.dialect

    async def _frequencies(
        self, connection: AsyncConnection, dialect: _Dialect, concepts: list[Concept]
    ) -> tuple[list[int], list[float], int]:
        """Step 2: which concepts are rare (fewer than ``SAMPLE`` questions have the asker's
        own words), each concept's weight as far as those words tell (to rank candidates in
        step 3), and the highest question id."""
        statement, parameters = dialect.frequencies([concept.own for concept in concepts])
        rows = (await connection.execute(statement, parameters)).all()
        top = max((row.top or 0 for row in rows), default=0)
        guesses = [0.0] * len(concepts)
        rare: list[int] = []
        for row in rows:
            if row.cut is not None:
                frequency = SAMPLE * top / max(top - row.cut + 1, 1)
            else:
                frequency = float(row.found or 0)
                rare.append(row.i)
            guesses[row.i] = _weight(concepts[row.i], frequency, top)
        return sorted(rare), guesses, top

    def _match(self, dialect: Dialect, row: RowMapping, score: float) -> Match:
        """A ``Match`` from a candidate row, its question attached to the session as if loaded
        by the ORM (or the session's own copy if it has one): one statement less per call."""
        question = self._session.sync_session.identity_map.get(identity_key(Question, row["id"]))
        if not isinstance(question, Question):
            question = manager_of_class(Question).new_instance()
            for name, processor in _question_columns(dialect):
                value = row[name]
                set_committed_value(question, name, processor(value) if processor else value)
            make_transient_to_detached(question)
            self._session.add(question)
        return Match(
            question=question,
            asker_name=row["match_asker"],
            region_name=row["match_region"],
            answered=bool(row["match_answered"]),
            score=score,
        )


def _terms(concept: Concept) -> list[Term]:
    return [term for alternative in concept.alternatives for term in alternative.terms]


def _prefixable(concept: Concept) -> frozenset[str]:
    """The stems of a concept that may match as prefixes if its own words are rare: the
    asker's own stems of at least ``PREFIX_MIN`` letters, and related words of one stem of at
    least ``PREFIX_MIN_RELATED`` ("dementie"* for "geheugenproblemen"). A rare word's related
    words may well be common ("ouder"* for "senioren"), and the shorter a common stem, the more
    words start with it and the more its prefix costs to look up; parts of related phrases are
    often common words ("plan" in "IZA-plan"), so they never are prefixes."""
    related = {term[0] for term in _terms(concept)[1:] if len(term) == 1}
    return frozenset(
        {stem for stem in concept.own if len(stem) >= PREFIX_MIN}
        | {stem for stem in related if len(stem) >= PREFIX_MIN_RELATED}
    )


def _parts(concepts: list[Concept], weights: list[float], rare: list[int]) -> list[_Part]:
    """What step 3 reads: per concept the asker's own words in the question's text and, apart
    and for rare concepts only, its related words; and the rare concepts' own words in
    answers. Read together, a common related word ("gemeente" for "Wmo-loket") or a word that
    answers often mention would fill the ``RECENT`` newest questions and crowd out those that
    ask about the asker's words. A common word already brings more candidates than are read,
    and a common word in an answer says too little to make its question a candidate; leaving
    them out halves the work at 100,000 questions (``bench.matcher``) at no cost to quality."""
    parts: list[_Part] = []
    for i, concept in enumerate(concepts):
        parts.append(_Part(i, [concept.own], "question", weights[i]))
        related = [term for alternative in concept.alternatives[1:] for term in alternative.terms]
        if related and i in rare:
            factor = max(alternative.weight for alternative in concept.alternatives[1:])
            parts.append(_Part(i, related, "question", weights[i] * factor))
    if rare:
        own = [concepts[i].own for i in rare]
        parts.append(_Part(None, own, "answers", max(weights[i] for i in rare) * ANSWER_WEIGHT))
    return parts


def _weight(concept: Concept, frequency: float, top: int) -> float:
    """A concept's weight: its rarity (BM25's IDF), less for generic and unknown words."""
    count = max(float(top), frequency)
    idf = math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))
    return idf * concept.salience * (1.0 if frequency > 0 else UNKNOWN)


def _weights(concepts: list[Concept], parts: list[_Part], reach: str, top: int) -> list[float]:
    """Step 4's weights, from how many questions have each concept in their text: its own and
    related words together, as far as step 3 read them (all, if fewer than ``RECENT``; else
    estimated from how far back the ``RECENT`` newest lie)."""
    frequency = [0.0] * len(concepts)
    for part, count, oldest in json.loads(reach):
        concept = parts[part].concept
        if concept is None:
            continue
        found = float(count) if count < RECENT else RECENT * top / max(top - oldest + 1, 1)
        frequency[concept] = min(float(top), frequency[concept] + found)
    return [_weight(concept, frequency[i], top) for i, concept in enumerate(concepts)]


@lru_cache(maxsize=2)
def _question_columns(dialect: Dialect) -> tuple[tuple[str, Any], ...]:
    """The question table's columns with their result processors, to build a ``Question``
    from a candidate row exactly as the ORM would (timestamps as aware datetimes)."""
    table = Question.metadata.tables["question"]
    return tuple(
        (column.name, column.type.dialect_impl(dialect).result_processor(dialect, None))
        for column in table.columns
    )


def _relevance(query: _Query, question: str, answers: str) -> tuple[float, float]:
    """Step 4 of the module's docs: the coverage of the query, and the relevance (the
    geometric mean of both coverages), each from 0 to 1."""
    in_question = query.found_in(question)
    in_answers = query.found_in(answers)
    covered = 0.0
    for alternatives, weight in zip(query.alternatives, query.weights, strict=True):
        best = 0.0
        for worth, terms in alternatives:
            if worth <= best:
                break
            if any(term <= in_question for term in terms):
                best = worth
            elif best < worth * ANSWER_WEIGHT and any(term <= in_answers for term in terms):
                best = worth * ANSWER_WEIGHT
        covered += weight * best
    of_query = covered / query.total
    if of_query <= 0:
        return 0.0, 0.0
    of_question = max(query.accounted(question), QUESTION_COVERAGE_FLOOR)
    return of_query, math.sqrt(of_query * of_question)


@lru_cache(maxsize=1)
def _filler_stems() -> frozenset[str]:
    return frozenset(stem_word(word) for word in QUERY_FILLER)


def _checked(terms: Sequence[Term]) -> list[Term]:
    """Terms whose stems are all plain stems; the expressions below rely on it.

    Stems come from ``storage.search`` and are ``[a-z0-9]+`` by construction; checking again
    here means no text from a user can ever become full-text query syntax, whatever changes
    upstream.
    """
    return [term for term in terms if term and all(is_search_stem(stem) for stem in term)]


_CANDIDATES = """
    WITH hits AS MATERIALIZED ({hits}),
    reach AS (
        SELECT hits.part AS part, count(*) AS n, min(hits.id) AS oldest
        FROM hits GROUP BY hits.part
    ),
    scored AS (
        SELECT hits.id AS id, sum({weight}) AS score
        FROM hits GROUP BY hits.id
    ),
    best AS (
        SELECT scored.id AS id, scored.score AS score FROM scored
        ORDER BY scored.score DESC, scored.id DESC LIMIT {wide}
    ),
    ranked AS (
        SELECT best.id AS id, best.score AS score
        FROM best JOIN question AS q ON q.id = best.id
        WHERE q.network_id = :network_id AND q.status != :withdrawn AND q.id != :exclude_id
        ORDER BY best.score DESC, best.id DESC
        LIMIT :fetched
    ),
    checked AS (
        SELECT (SELECT count(*) FROM best) AS considered,
               (SELECT {reach} FROM reach) AS reach
    )
    SELECT q.*, m.display_name AS match_asker, r.name AS match_region,
           s.question AS match_stems, s.answers AS match_answer_stems,
           EXISTS (SELECT 1 FROM answer AS a WHERE a.question_id = ranked.id) AS match_answered,
           checked.reach AS match_reach, checked.considered AS match_considered
    FROM checked
    LEFT JOIN ranked ON 1 = 1
    LEFT JOIN question AS q ON q.id = ranked.id
    LEFT JOIN member AS m ON m.id = q.asker_id
    LEFT JOIN region AS r ON r.id = q.region_id
    LEFT JOIN question_search AS s ON {search_id} = ranked.id
    ORDER BY ranked.score DESC, ranked.id DESC
"""
"""Step 3 of the module's docs, for either database. Only whole numbers and fixed SQL are
formatted into it (the dialect's ``hits`` and ``weight``); every value, and every full-text
expression or stem, is a bound parameter."""


_FREQUENCIES = """
    WITH counted AS MATERIALIZED ({counts})
    SELECT counted.i AS i, counted.cut AS cut, counted.found AS found,
           (SELECT max(id) FROM question) AS top{settings}
    FROM counted
"""
"""Step 2 of the module's docs, for either database; as for ``_CANDIDATES``, only whole
numbers and fixed SQL are formatted into it."""


@lru_cache(maxsize=256)
def _frequencies(counts: tuple[str, ...], settings: str) -> TextClause:
    """Step 2's statement from one ``counted`` statement per term, and columns that change
    settings for the rest of the transaction (``settings``: "" or ", <column>" …)."""
    return sql(_FREQUENCIES.format(counts=" UNION ALL ".join(counts), settings=settings))


@lru_cache(maxsize=256)
def _candidates(hits: str, weight: str, reach: str, search_id: str, wide: str) -> TextClause:
    """Step 3's statement from its dialect's pieces: ``hits`` (``part``, ``id``), a part's
    ``weight`` and so on."""
    return sql(
        _CANDIDATES.format(hits=hits, weight=weight, reach=reach, search_id=search_id, wide=wide)
    )


class _Sqlite:
    """FTS5: ``question : ("inwoner" OR "mantelzorg"* OR ("sociaal" AND "team"))``, one
    expression per term or part, each a bound parameter; the rowid is the question's id."""

    _counts = (
        "SELECT {i} AS i, c.cut AS cut, CASE WHEN c.cut IS NULL THEN "
        "(SELECT count(*) FROM question_search AS s WHERE s.question_search MATCH :f{i}) "
        "END AS found FROM (SELECT (SELECT s.rowid FROM question_search AS s "
        "WHERE s.question_search MATCH :f{i} ORDER BY s.rowid DESC LIMIT 1 OFFSET :offset) "
        "AS cut) AS c"
    )
    upsert = sql(
        "INSERT OR REPLACE INTO question_search (rowid, question, answers) "
        "VALUES (:id, :question, :answers)"
    )
    delete = sql("DELETE FROM question_search WHERE rowid = :id")
    _hits = (
        "SELECT {i} AS part, h.rowid AS id FROM (SELECT rowid FROM question_search "
        "WHERE question_search MATCH :e{i} ORDER BY rowid DESC LIMIT :recent) AS h"
    )

    def frequencies(self, terms: Sequence[Term]) -> tuple[TextClause, dict[str, Any]]:
        parameters: dict[str, Any] = {"offset": SAMPLE - 1}
        for i, term in enumerate(terms):
            parameters[f"f{i}"] = self._expression([term], frozenset(), "question")
        return _frequencies(_numbered(self._counts, len(terms)), ""), parameters

    def candidates(
        self, parts: Sequence[_Part], prefixed: frozenset[str]
    ) -> tuple[TextClause, dict[str, Any]]:
        parameters: dict[str, Any] = {}
        for i, part in enumerate(parts):
            parameters[f"e{i}"] = self._expression(part.terms, prefixed, part.column)
            parameters[f"w{i}"] = part.weight
        statement = _candidates(
            " UNION ALL ".join(_numbered(self._hits, len(parts))),
            _numbered_weights(len(parts)),
            "json_group_array(json_array(part, n, oldest))",
            "s.rowid",
            ":wide",
        )
        return statement, parameters

    def _expression(self, terms: Sequence[Term], prefixed: frozenset[str], column: str) -> str:
        """An FTS5 expression matching any of the terms in one column ("question" or
        "answers"); the stems in ``prefixed`` also match longer words that start with them."""
        alternatives = []
        for term in _checked(terms):
            words = [f'"{stem}"*' if stem in prefixed else f'"{stem}"' for stem in term]
            alternatives.append(words[0] if len(words) == 1 else f"({' AND '.join(words)})")
        return f"{column} : ({' OR '.join(alternatives)})" if alternatives else ""


@lru_cache(maxsize=64)
def _numbered_weights(count: int) -> str:
    """A part's weight on SQLite: ``:w<part>``."""
    return f"CASE hits.part {' '.join(f'WHEN {i} THEN :w{i}' for i in range(count))} END"


@lru_cache(maxsize=64)
def _numbered(statement: str, count: int) -> tuple[str, ...]:
    """``count`` copies of a statement, the ``i``-th with ``{i}`` filled in."""
    return tuple(statement.format(i=i) for i in range(count))


class _Postgres:
    """A B-tree of stems (migration 0004): ``question_search_stem(in_answers, stem,
    question_id)``, a row per distinct stem of a question's text or of its answers, which a
    trigger keeps equal to ``question_search``'s texts; question_id is the question's id.

    A word's newest questions are the last entries of its stem in the key, so steps 2 and 3
    read them as FTS5 does on SQLite: walking the index backwards from there, ``RECENT`` (or
    ``SAMPLE``) entries per word, however common the word. A GIN index on a tsvector (0003)
    can only return all questions with a word, in no useful order: 54 ms at p95 for 100,000
    questions. A part's single words are passed as arrays and read with one plan for all: its
    whole words as they are, its prefixes ("mantelzorg"*) as the distinct stems that start
    with them (``_starting``), not as the range of entries between them, which holds every
    question of every such word ("kijk"*, rare in questions, is in 16,000 answers). Phrases
    ("sociaal team") are read one by one (``_all_of``). Every stem and weight is a bound
    parameter, so the statements' text only differs with the phrases in a query: psycopg
    prepares the common ones and PostgreSQL parses them once per connection."""

    upsert = sql(
        "INSERT INTO question_search (question_id, question, answers) "
        "VALUES (:id, :question, :answers) "
        "ON CONFLICT (question_id) DO UPDATE "
        "SET question = excluded.question, answers = excluded.answers"
    )
    delete = sql("DELETE FROM question_search WHERE question_id = :id")
    _settings = ", set_config('jit', 'off', true) AS jit"
    """Step 2 switches JIT compilation off for the rest of the transaction, so for step 3,
    without a round trip of its own: compiling takes ~90 ms, far more than the statements, and
    PostgreSQL compiles whatever it estimates to cost over ``jit_above_cost``, which step 3's
    estimates can be for a query with many prefixes (a loose index scan is guessed at many
    words). Step 2 reads no prefixes and stays far below."""

    _counts = (
        "SELECT x.i AS i, CASE WHEN c.n >= :sample THEN c.oldest END AS cut, "
        "CASE WHEN c.n < :sample THEN c.n END AS found "
        "FROM unnest(CAST(:f_i AS integer[]), CAST(:f AS text[])) AS x (i, stem) "
        "CROSS JOIN LATERAL (SELECT count(*) AS n, min(h.question_id) AS oldest "
        "FROM (SELECT t.question_id FROM question_search_stem AS t "
        "WHERE t.in_answers = false AND t.stem = x.stem "
        "ORDER BY t.question_id DESC LIMIT :sample) AS h) AS c"
    )
    """Step 2 for the terms of one word (``:f_i``, ``:f``): per word its ``SAMPLE`` newest
    questions, counted, and the oldest of them."""
    _count = (
        "SELECT {i} AS i, CASE WHEN c.n >= :sample THEN c.oldest END AS cut, "
        "CASE WHEN c.n < :sample THEN c.n END AS found "
        "FROM (SELECT count(*) AS n, min(h.question_id) AS oldest FROM ({newest}) AS h) AS c"
    )
    """Step 2 for a phrase, as ``_counts``."""
    _hits = (
        "SELECT r.part AS part, r.question_id AS id FROM (SELECT f.part, f.question_id, "
        "row_number() OVER (PARTITION BY f.part ORDER BY f.question_id DESC) AS n "
        "FROM (SELECT DISTINCT found.part, found.question_id FROM ({found}) AS found) AS f) "
        "AS r WHERE r.n <= :recent"
    )
    """Step 3's hits: per part, the ``RECENT`` newest of the questions found for its terms."""
    _words = (
        "SELECT x.part, x.in_answers, x.stem FROM unnest(CAST(:{key}_part AS integer[]), "
        "CAST(:{key}_answers AS boolean[]), CAST(:{key} AS text[])) "
        "AS x (part, in_answers, stem)"
    )
    """Whole words (``:key``), each with its part and column."""
    _starting = (
        "SELECT words.part, words.in_answers, words.stem FROM (WITH RECURSIVE "
        "words (part, in_answers, stem, bound) AS (SELECT r.part, r.in_answers, "
        "(SELECT w.stem FROM question_search_stem AS w WHERE w.in_answers = r.in_answers "
        "AND w.stem >= r.start AND w.stem < r.bound ORDER BY w.stem LIMIT 1), r.bound "
        "FROM unnest(CAST(:{key}_part AS integer[]), CAST(:{key}_answers AS boolean[]), "
        "CAST(:{key} AS text[]), CAST(:{key}_end AS text[])) AS r (part, in_answers, start, bound) "
        "UNION ALL SELECT words.part, words.in_answers, (SELECT w.stem "
        "FROM question_search_stem AS w WHERE w.in_answers = words.in_answers "
        "AND w.stem > words.stem AND w.stem < words.bound ORDER BY w.stem LIMIT 1), words.bound "
        "FROM words WHERE words.stem IS NOT NULL) "
        "SELECT words.part, words.in_answers, words.stem FROM words "
        "WHERE words.stem IS NOT NULL) AS words"
    )
    """As ``_words`` for the stems that start with the prefixes ``:key`` (each up to the first
    string after it, ``:key_end``), each found by one step down the index from the one before
    (a loose index scan)."""
    _per_word = (
        "SELECT words.part AS part, n.question_id AS question_id FROM ({words}) AS words "
        "CROSS JOIN LATERAL ({term}) AS n"
    )
    """For each of the ``words``, the newest questions with it (``term``): one index walk per
    word, however many words."""
    _term = (
        "SELECT t{walked}.question_id FROM question_search_stem AS t{walked} {joins} "
        "WHERE {conditions} ORDER BY t{walked}.question_id DESC LIMIT {limit}"
    )
    """The newest questions with a walked word, and with the other words of a phrase."""
    _word = "t{walked}.in_answers = words.in_answers AND t{walked}.stem = words.stem"
    """The walked word is each of ``_per_word``'s words in turn."""
    _walk = "t{walked}.in_answers = {answers} AND t{walked}.stem = :{key}"
    """The walked word is a whole word of a phrase."""
    _join = (
        "JOIN question_search_stem AS t{k} ON t{k}.in_answers = {answers} "
        "AND t{k}.stem = :{key} AND t{k}.question_id = t{walked}.question_id"
    )
    """Another whole word of a phrase, by key for each question walked."""
    _starts = (
        "(SELECT {checks} FROM question_search AS s WHERE s.question_id = t{walked}.question_id)"
    )
    _start = "strpos(' ' || s.{column}, :{key}) > 0"
    """A phrase's prefixes other than the walked word, checked in the question's stems (a word
    starts with the prefix where the text has a space and the prefix). A subquery in the
    condition is looked up by key per question; a range of stems joined or in ``EXISTS`` could
    be planned as reading the whole range per question, 370 ms for "mensen met dementie" before
    the table had statistics."""
    _phrase = "SELECT {part} AS part, p.question_id AS question_id FROM ({newest}) AS p"
    """A phrase's newest questions, for its part."""

    def frequencies(self, terms: Sequence[Term]) -> tuple[TextClause, dict[str, Any]]:
        parameters: dict[str, Any] = {"sample": SAMPLE, "f_i": [], "f": []}
        counts = [self._counts]
        for i, term in enumerate(terms):
            if not _checked([term]):
                continue
            if len(term) == 1:
                parameters["f_i"].append(i)
                parameters["f"].append(term[0])
            else:
                newest = self._all_of(f"f{i}", i, term, frozenset(), False, ":sample", parameters)
                counts.append(self._count.format(i=i, newest=newest))
        return _frequencies(tuple(counts), self._settings), parameters

    def candidates(
        self, parts: Sequence[_Part], prefixed: frozenset[str]
    ) -> tuple[TextClause, dict[str, Any]]:
        parameters: dict[str, Any] = {"weights": [part.weight for part in parts]}
        words: dict[str, list[tuple[int, bool, str]]] = {"x": [], "p": []}
        found: list[str] = []
        for i, part in enumerate(parts):
            answers = part.column == "answers"
            for j, term in enumerate(_checked(part.terms)):
                if len(term) > 1:
                    newest = self._all_of(
                        f"e{i}_{j}", i, term, prefixed, answers, ":recent", parameters
                    )
                    found.append(self._phrase.format(part=i, newest=newest))
                else:
                    words["p" if term[0] in prefixed else "x"].append((i, answers, term[0]))
        for key, listed in words.items():
            parameters[f"{key}_part"] = [part for part, _, _ in listed]
            parameters[f"{key}_answers"] = [answers for _, answers, _ in listed]
            parameters[key] = [stem for _, _, stem in listed]
        parameters["p_end"] = [_after_prefix(stem) for stem in parameters["p"]]
        word = self._term.format(
            walked=0, joins="", conditions=self._word.format(walked=0), limit=":recent"
        )
        single = f"{self._words.format(key='x')} UNION ALL {self._starting.format(key='p')}"
        found.insert(0, self._per_word.format(words=single, term=word))
        statement = _candidates(
            self._hits.format(found=" UNION ALL ".join(f"({select})" for select in found)),
            "(CAST(:weights AS double precision[]))[hits.part + 1]",
            "json_agg(json_build_array(part, n, oldest))::text",
            "s.question_id",
            "CASE WHEN :wide < 0 THEN NULL ELSE :wide END",
        )
        return statement, parameters

    def _all_of(
        self,
        name: str,
        part: int,
        term: Term,
        prefixed: frozenset[str],
        answers: bool,
        limit: str,
        parameters: dict[str, Any],
    ) -> str:
        """A statement for the ids (``question_id``) of the ``limit`` newest questions with
        every word of a phrase in their text (or, with ``answers``, their answers); its stems
        go into ``parameters`` under names that start with ``name``.

        The first prefix is walked, word by word as the single words are, else a whole word;
        the planner may instead walk another whole word, which is looked up by key for each
        question walked (or merged, or hashed), so every plan reads at most all questions of
        the words involved. The other prefixes are checked per question (``_starts``). A
        prefix is walked rather than a whole word because prefixes belong to rare concepts and
        a whole word of a phrase ("mensen" in "mensen met dementie") may be common: checking a
        prefix for each of its questions took 9 ms, walking the prefix's 1,800 questions and
        looking up "mens" 1.3 ms."""
        flag = "true" if answers else "false"
        order = sorted(range(len(term)), key=lambda k: term[k] not in prefixed)
        walked = order[0]
        key = f"{name}_{walked}"
        if term[walked] in prefixed:
            parameters.update(
                {
                    f"{key}_part": [part],
                    f"{key}_answers": [answers],
                    key: [term[walked]],
                    f"{key}_end": [_after_prefix(term[walked])],
                }
            )
            conditions = [self._word.format(walked=walked)]
        else:
            parameters[key] = term[walked]
            conditions = [self._walk.format(walked=walked, answers=flag, key=key)]
        joins: list[str] = []
        checks: list[str] = []
        for k in order[1:]:
            key = f"{name}_{k}"
            if term[k] in prefixed:
                parameters[key] = f" {term[k]}"
                column = "answers" if answers else "question"
                checks.append(self._start.format(column=column, key=key))
            else:
                parameters[key] = term[k]
                joins.append(self._join.format(k=k, answers=flag, key=key, walked=walked))
        if checks:
            conditions.append(self._starts.format(checks=" AND ".join(checks), walked=walked))
        statement = self._term.format(
            walked=walked, joins=" ".join(joins), conditions=" AND ".join(conditions), limit=limit
        )
        if term[walked] not in prefixed:
            return statement
        words = self._starting.format(key=f"{name}_{walked}")
        return self._per_word.format(words=words, term=statement)


def _after_prefix(stem: str) -> str:
    """The first string after every string that starts with ``stem``, in byte order (the
    stem column's collation is "C"): a prefix query is the range [stem, this)."""
    return stem[:-1] + chr(ord(stem[-1]) + 1)


_SQLITE = _Sqlite()
_POSTGRES = _Postgres()


def _dialect(connection: AsyncConnection) -> _Dialect:
    return _SQLITE if connection.dialect.name == "sqlite" else _POSTGRES
