"""How well and how fast Hoedan finds earlier questions like a new one.

Run ``python -m bench.matcher`` from the repository root (``--quick`` for a smoke run). It
measures ``MatchRepository`` (storage/repositories/matching.py) in three parts:

1. Quality on the dev set (tests/data/question_pairs.toml): every first question and every
   distractor is stored and indexed through the real code path, then each paraphrase is asked
   with ``similar()``: recall@1, recall@3 and MRR (rank of the partner among the up to 10
   returned; 0 when missing). The old LIKE scan (``QuestionRepository.search``) and a bare
   FTS5 ``bm25()`` query over the same stems and synonyms are scored alongside. Then the
   held-out pairs' questions are added and their paraphrases asked the same way: pairs the
   synonyms were never tuned on, an estimate of quality on questions nobody has seen.
2. Latency at scale: ``--questions`` realistic questions (``bench._matcher_data``; about two
   thirds answered, 3% withdrawn) go into a fresh SQLite file by bulk inserts that write
   exactly the rows the app would write (the search index rows come from the same
   ``search_entry`` that ``MatchRepository.index`` uses; a sample is re-indexed through
   ``index()`` afterwards and must come out unchanged). Then ``--queries`` paraphrase
   queries (the dev set's, then generated ones) are timed through ``similar()``. Each runs in
   a transaction of its own that has already begun, as in the app, where ``similar()``
   follows storing the question; only the call is timed. Beside them, in the same run, on the
   same data and timed the same way: the bare ``bm25()`` (PostgreSQL: ``ts_rank()``) query
   and (for a subset, as it scans every question) the old LIKE scan. On SQLite the timing is
   repeated after FTS5's ``optimize``, to show what a periodic maintenance run would gain
   (informational).
3. Relevance at scale: for the generated queries, which are about a known topic, the share
   of ``similar()``'s results that are about the same topic (the generated data holds
   hundreds of questions per topic, so "the" partner does not exist there).

With ``--postgres URL`` parts 2 and 3 run on PostgreSQL too, in a schema of their own that is
dropped afterwards; after the bulk load it runs ``VACUUM ANALYZE`` on the search tables, as
autovacuum soon would.

The goals are printed as met or not met, for information: the exit status is 0 unless
something crashed. Results go to ``bench/results/matcher.json``; the SQLite file of the last
run stays in ``bench/results/work/`` for inspection.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from bench._load import Summary
from bench._matcher_data import DevSet, Generator, dev_set
from bench._report import code_version, console, machine_info
from bench._targets import REPO
from storage.database import DatabaseUrls, create_sync_db_engine, resolve_database_url
from storage.enums import Platform, QuestionStatus
from storage.migrate import upgrade
from storage.models import Answer, Member, Question
from storage.repositories.matching import Match
from storage.search import query_concepts, search_document, search_entry
from storage.store import Store, Transaction

RESULTS = Path(__file__).resolve().parent / "results"
WORK = RESULTS / "work"

GOAL_RECALL_AT_3 = 0.9
GOAL_P95_MS = 10.0
GOAL_QUESTIONS = 100_000
"""The goals: recall@3 ≥ 0.9 on the dev set; similar() p95 < 10 ms at 100,000 questions."""

REGIONS = 25
MEMBERS = 2000
BATCH = 2000
LIKE_QUERIES = 30
"""The LIKE scan reads every question per query; a few dozen queries show its cost."""
RANKED = 10
"""Ranks looked at for MRR: ``similar()`` considers at most its 10 best candidates."""


@dataclass(frozen=True)
class Params:
    questions: int
    queries: int
    quick: bool
    seed: int
    postgres: str | None


@dataclass
class Quality:
    """How often the partner of a paraphrase is found, and how high."""

    pairs: int
    recall_at_1: float
    recall_at_3: float
    mrr: float
    missed_at_3: list[str] = field(default_factory=list)


@dataclass
class Latency:
    name: str
    latency: Summary
    note: str = ""


@dataclass
class Backend:
    """Part 2 on one database."""

    database: str
    questions: int
    answers: int
    indexed: int
    build_s: float
    size_mb: float | None
    index_check: str
    latencies: list[Latency]
    on_topic: float | None
    """Share of ``similar()``'s results for generated queries that are about their topic."""
    without_match: float | None
    """Share of generated queries for which ``similar()`` found nothing."""


# ---------------------------------------------------------------------- quality


Search = Callable[[Transaction, str, int], Awaitable[list[int]]]
"""One way to look for questions like a text (asked from a region): their ids, best first."""


async def timed_search(
    store: Store, search: Search, query: str, region: int
) -> tuple[list[int], float]:
    """The search in a transaction of its own that has begun (as in the app); its seconds."""
    async with store.transaction() as tx:
        await tx.session.connection()
        started = time.perf_counter()
        found = await search(tx, query, region)
        return found, time.perf_counter() - started


async def _quality(
    store: Store, pairs: list[tuple[str, str]], partners: list[int], search: Search
) -> Quality:
    """Recall@1, recall@3 and MRR of ``search`` over the paraphrases."""
    ranks: list[int | None] = []
    missed: list[str] = []
    for (_, paraphrase), partner in zip(pairs, partners, strict=True):
        found, _ = await timed_search(store, search, paraphrase, -1)
        found = found[:RANKED]
        rank = found.index(partner) + 1 if partner in found else None
        ranks.append(rank)
        if rank is None or rank > 3:
            missed.append(paraphrase)
    count = len(pairs)
    return Quality(
        pairs=count,
        recall_at_1=sum(1 for r in ranks if r == 1) / count,
        recall_at_3=sum(1 for r in ranks if r is not None and r <= 3) / count,
        mrr=sum(1 / r for r in ranks if r is not None) / count,
        missed_at_3=missed,
    )


def _ids(matches: list[Match]) -> list[int]:
    return [match.question.id for match in matches if match.question.id is not None]


async def dev_quality(data: DevSet, workdir: Path) -> dict[str, Quality]:
    """Part 1: the dev set stored through the real code path, asked three ways; then the
    held-out pairs."""
    urls = _fresh_sqlite(workdir / "matcher-dev.db")
    upgrade(urls)
    store = Store(urls)
    try:
        network_id, _, _ = await _people(store, slug="dev", members=1)
        stored = await _store_questions(
            store, network_id, [question for question, _ in data.pairs] + data.distractors
        )
        partners = stored[: len(data.pairs)]
        copy_for_bm25(urls)
        searches = {
            "matcher (similar)": _similar(network_id),
            "bare FTS5 bm25()": _bm25(store, bm25_table(store)),
            "old LIKE scan": _like(network_id),
        }
        results = {
            name: await _quality(store, data.pairs, partners, search)
            for name, search in searches.items()
        }
        if data.holdout:
            held = await _store_questions(store, network_id, [q for q, _ in data.holdout])
            copy_for_bm25(urls)
            for name, search in searches.items():
                results[f"{name}, held-out pairs"] = await _quality(
                    store, data.holdout, held, search
                )
        return results
    finally:
        await store.close()


async def _store_questions(store: Store, network_id: int, texts: list[str]) -> list[int]:
    """Questions stored and indexed the way the exchange flow does it; their ids."""
    ids: list[int] = []
    async with store.transaction() as tx:
        asker = await tx.members.get_or_create(
            network_id=network_id,
            platform=Platform.CONSOLE,
            external_id="dev-asker",
            display_name="Dev",
        )
        now = datetime.now(UTC)
        for text_ in texts:
            question = await tx.questions.add(
                network_id=network_id,
                asker_id=_id(asker.id),
                text=text_,
                region_id=None,
                space_id=None,
                created_at=now,
            )
            await tx.matches.index(_id(question.id))
            ids.append(_id(question.id))
    return ids


def _similar(network_id: int) -> Search:
    async def search(tx: Transaction, query: str, region: int) -> list[int]:
        return _ids(
            await tx.matches.similar(
                network_id=network_id, text=query, limit=RANKED, region_id=region
            )
        )

    return search


def _like(network_id: int) -> Search:
    async def search(tx: Transaction, query: str, _region: int) -> list[int]:
        views = await tx.questions.search(network_id=network_id, query=query, limit=RANKED)
        return [view.question.id for view in views if view.question.id is not None]

    return search


_BM25_COPIES = {
    "sqlite": (
        "CREATE VIRTUAL TABLE bench_bm25 USING fts5(question, answers, "
        "tokenize = 'unicode61 remove_diacritics 2')",
        "INSERT INTO bench_bm25 (rowid, question, answers) "
        "SELECT rowid, question, answers FROM question_search",
    ),
    "postgresql": (
        "CREATE TABLE bench_bm25 AS SELECT question_id, "
        "setweight(to_tsvector('simple', question), 'A') || "
        "setweight(to_tsvector('simple', answers), 'B') AS document FROM question_search",
        "CREATE INDEX bench_bm25_document ON bench_bm25 USING gin (document)",
    ),
}
"""The statements that make ``bench_bm25`` per database (see ``bm25_table``)."""


def copy_for_bm25(urls: DatabaseUrls) -> None:
    """The copy of the index that the bare ``bm25()`` / ``ts_rank()`` baseline reads."""
    engine = create_sync_db_engine(urls)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS bench_bm25"))
            for statement in _BM25_COPIES["sqlite" if urls.is_sqlite else "postgresql"]:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def bm25_table(store: Store) -> str:
    """Where the bare baseline reads: a copy of the index made for it (``copy_for_bm25``).

    On SQLite, an FTS5 table with FTS5's defaults: Hoedan's own table keeps no column sizes
    (``columnsize=0``), which ``bm25()`` needs; on that table it would tokenize every row's
    text again and look slower than it is. On PostgreSQL, the weighted tsvector with a GIN
    index that Hoedan used before migration 0004: ``ts_rank()`` needs a tsvector, and Hoedan's
    own index no longer has one.
    """
    return "bench_bm25"


def _bm25_expression(query: str) -> str:
    """The query's stems and synonyms OR'ed (prefix where the matcher uses it): the design the
    matcher replaced, with the same words."""
    words: list[str] = []
    for concept in query_concepts(query):
        for alternative in concept.alternatives:
            for term in alternative.terms:
                quoted = [f'"{stem}"*' if len(stem) >= 4 else f'"{stem}"' for stem in term]
                words.append(quoted[0] if len(quoted) == 1 else f"({' AND '.join(quoted)})")
    return " OR ".join(words)


def _tsquery(query: str) -> str:
    words: list[str] = []
    for concept in query_concepts(query):
        for alternative in concept.alternatives:
            for term in alternative.terms:
                parts = [f"{stem}:*" if len(stem) >= 4 else stem for stem in term]
                words.append(parts[0] if len(parts) == 1 else f"({' & '.join(parts)})")
    return " | ".join(words)


def _bm25(store: Store, table: str) -> Search:
    if store.urls.is_sqlite:
        statement = text(
            f"SELECT rowid FROM {table} WHERE {table} MATCH :expr "  # noqa: S608  (fixed name)
            f"ORDER BY bm25({table}, 1.0, 0.4) LIMIT :ranked"
        )
        make = _bm25_expression
    else:
        statement = text(
            f"SELECT question_id FROM {table} "  # noqa: S608  (fixed name)
            "WHERE document @@ to_tsquery('simple', :expr) "
            "ORDER BY ts_rank(document, to_tsquery('simple', :expr)) DESC LIMIT :ranked"
        )
        make = _tsquery

    async def search(tx: Transaction, query: str, _region: int) -> list[int]:
        expression = make(query)
        if not expression:
            return []
        connection = await tx.session.connection()
        rows = await connection.execute(statement, {"expr": expression, "ranked": RANKED})
        return [int(row[0]) for row in rows]

    return search


# ---------------------------------------------------------------------- building the data


@dataclass
class Built:
    network_id: int
    regions: list[int]
    questions: int
    answers: int
    indexed: int
    topics: list[int]
    """The topic of each generated question; index = id - 1."""
    seconds: float


async def _people(
    store: Store, *, slug: str, members: int = MEMBERS
) -> tuple[int, list[int], list[int]]:
    """A network with its regions and members, through the repositories."""
    async with store.transaction() as tx:
        network = await tx.networks.get_or_create(slug=slug, name="Benchmark")
        network_id = _id(network.id)
        regions = [
            _id((await tx.regions.create(network_id=network_id, name=f"Regio {n}")).id)
            for n in range(REGIONS)
        ]
        people = [
            Member(
                network_id=network_id,
                platform=Platform.CONSOLE,
                external_id=f"{slug}-{n}",
                display_name=f"Lid {n}",
                name_key=f"lid {n}",
                region_id=regions[n % REGIONS],
            )
            for n in range(members)
        ]
        tx.session.add_all(people)
        await tx.session.flush()
        return network_id, regions, [_id(member.id) for member in people]


def build(
    urls: DatabaseUrls,
    params: Params,
    network_id: int,
    regions: list[int],
    members: list[int],
) -> Built:
    """Part 2's data: bulk inserts of questions, answers and their search index rows."""
    generator = Generator(params.seed, regions=len(regions), members=len(members))
    started = time.monotonic()
    engine = create_sync_db_engine(urls)
    questions = answers = indexed = 0
    topics: list[int] = []
    search_insert = text(
        "INSERT INTO question_search (rowid, question, answers) VALUES (:id, :question, :answers)"
        if urls.is_sqlite
        else "INSERT INTO question_search (question_id, question, answers) "
        "VALUES (:id, :question, :answers)"
    )
    try:
        with (
            _progress() as progress,
            engine.begin() as connection,
        ):
            task = progress.add_task("generating questions", total=params.questions)
            rows: list[dict[str, Any]] = []
            answer_rows: list[dict[str, Any]] = []
            search_rows: list[dict[str, Any]] = []
            for number, generated in enumerate(generator.questions(params.questions), start=1):
                question_text = generated.text
                withdrawn = generated.withdrawn
                topics.append(generated.topic)
                entry = search_entry(question_text, list(generated.answers))
                status = (
                    QuestionStatus.WITHDRAWN
                    if withdrawn
                    else QuestionStatus.ANSWERED
                    if generated.answers
                    else QuestionStatus.OPEN
                )
                rows.append(
                    {
                        "id": number,
                        "network_id": network_id,
                        "number": number,
                        "asker_id": members[generated.asker],
                        "region_id": regions[generated.region],
                        "space_id": None,
                        "source_ref": None,
                        "thread_ref": None,
                        "text": question_text,
                        "search_terms": f" {entry.question} ",
                        "status": status,
                        "created_at": generated.created_at,
                        "updated_at": generated.created_at,
                        "closed_at": None,
                    }
                )
                for answer in generated.answers:
                    answer_rows.append(
                        {
                            "question_id": number,
                            "answerer_id": members[(generated.asker + 7) % len(members)],
                            "region_id": regions[(generated.region + 3) % len(regions)],
                            "text": answer,
                            "link": None,
                            "helpful": False,
                            "source_ref": None,
                            "created_at": generated.created_at,
                        }
                    )
                if not withdrawn:
                    search_rows.append(
                        {"id": number, "question": entry.question, "answers": entry.answers}
                    )
                if len(rows) >= BATCH or number == params.questions:
                    connection.execute(insert(Question), rows)
                    if answer_rows:
                        connection.execute(insert(Answer), answer_rows)
                    if search_rows:
                        connection.execute(search_insert, search_rows)
                    questions += len(rows)
                    answers += len(answer_rows)
                    indexed += len(search_rows)
                    progress.advance(task, len(rows))
                    rows, answer_rows, search_rows = [], [], []
            connection.execute(
                text("UPDATE network SET question_counter = :n WHERE id = :id"),
                {"n": params.questions, "id": network_id},
            )
    finally:
        engine.dispose()
    copy_for_bm25(urls)
    if not urls.is_sqlite:
        _vacuum_analyze(urls)
    return Built(
        network_id=network_id,
        regions=regions,
        questions=questions,
        answers=answers,
        indexed=indexed,
        topics=topics,
        seconds=time.monotonic() - started,
    )


def _vacuum_analyze(urls: DatabaseUrls) -> None:
    """What autovacuum does to freshly filled PostgreSQL tables before long: statistics for
    the planner, the visibility map that lets the matcher read ``question_search_stem`` from
    its index alone, and the baseline's GIN index's pending list merged into the index."""
    engine = create_engine(urls.sync_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for table in ("question_search", "question_search_stem", "bench_bm25"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
            connection.execute(text("ANALYZE question"))
    finally:
        engine.dispose()


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(
        TextColumn("  {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


_INDEX_ROWS = {
    "sqlite": "SELECT question, answers FROM question_search WHERE rowid = :id",
    "postgresql": "SELECT s.question, s.answers, ARRAY(SELECT t.in_answers::text || ' ' || t.stem "
    "FROM question_search_stem AS t WHERE t.question_id = s.question_id ORDER BY 1) AS stems "
    "FROM question_search AS s WHERE s.question_id = :id",
}
"""A question's search entry; on PostgreSQL with the stems its trigger wrote (migration 0004)."""


async def check_index(store: Store, built: Built, *, sample: int, seed: int) -> str:
    """Re-index a sample through ``MatchRepository.index`` and compare: the bulk rows must be
    exactly what the app writes."""
    picker = random.Random(seed)  # noqa: S311  (a sample, not a secret)
    ids = picker.sample(range(1, built.questions + 1), min(sample, built.questions))
    read = text(_INDEX_ROWS["sqlite" if store.urls.is_sqlite else "postgresql"])
    changed = 0
    async with store.transaction() as tx:
        connection = await tx.session.connection()
        for question_id in ids:
            before = (await connection.execute(read, {"id": question_id})).all()
            await tx.matches.index(question_id)
            after = (await connection.execute(read, {"id": question_id})).all()
            question = await tx.session.get(Question, question_id)
            assert question is not None
            same_terms = question.search_terms == search_document(question.text)
            changed += before != after or not same_terms
        await tx.session.rollback()
    return "identical" if not changed else f"{changed} of {len(ids)} differ"


# ---------------------------------------------------------------------- timing


async def time_queries(store: Store, queries: list[tuple[str, int]], search: Search) -> Summary:
    """Each query once, after a warm-up on the first ten; only the search itself is timed."""
    for query, region in queries[:10]:
        await timed_search(store, search, query, region)
    gc.collect()
    gc.freeze()
    try:
        seconds = [(await timed_search(store, search, q, r))[1] for q, r in queries]
    finally:
        gc.unfreeze()
    return Summary.of(seconds)


async def latency_run(
    store: Store, built: Built, queries: list[tuple[str, int]], dev_count: int
) -> list[Latency]:
    """``similar()`` and the baselines, on the same data and queries."""
    network_id = built.network_id
    # The baselines first: the LIKE scan reads every question and leaves SQLite's page cache
    # colder for similar(), not warmer.
    bare = await time_queries(store, queries, _bm25(store, bm25_table(store)))
    console.print(f"  bare bm25: p50 {_ms(bare.p50)} ms, p95 {_ms(bare.p95)} ms")
    subset = queries[:LIKE_QUERIES]
    scan = await time_queries(store, subset, _like(network_id))
    console.print(f"  LIKE scan: p50 {_ms(scan.p50)} ms ({len(subset)} queries)")
    ours = await time_queries(store, queries, _similar_default(network_id))
    console.print(f"  similar(): p50 {_ms(ours.p50)} ms, p95 {_ms(ours.p95)} ms")
    rows = [
        Latency("matcher similar()", ours, "all queries"),
        Latency(
            "bare FTS5 bm25()" if store.urls.is_sqlite else "bare ts_rank()",
            bare,
            "same stems and synonyms, OR'ed",
        ),
        Latency("old LIKE scan", scan, f"first {len(subset)} queries"),
        Latency(
            "  similar(), dev-set paraphrases",
            await time_queries(store, queries[:dev_count], _similar_default(network_id)),
            "hand-written, synonym-rich",
        ),
        Latency(
            "  similar(), generated paraphrases",
            await time_queries(store, queries[dev_count:], _similar_default(network_id)),
            "from the generator's topics",
        ),
    ]
    if store.urls.is_sqlite:
        await _optimize(store)
        optimized = await time_queries(store, queries, _similar_default(network_id))
        console.print(f"  after optimize: p50 {_ms(optimized.p50)} ms, p95 {_ms(optimized.p95)} ms")
        rows.append(
            Latency(
                "  similar(), after FTS5 optimize",
                optimized,
                "what a periodic optimize would gain",
            )
        )
    return rows


def _similar_default(network_id: int) -> Search:
    """``similar()`` as the exchange calls it: three results, with the asker's region."""

    async def search(tx: Transaction, query: str, region: int) -> list[int]:
        return _ids(await tx.matches.similar(network_id=network_id, text=query, region_id=region))

    return search


async def _optimize(store: Store) -> None:
    """FTS5's ``optimize``: merges the index into one segment (not done by the app)."""
    async with store.transaction() as tx:
        connection = await tx.session.connection()
        await connection.execute(
            text("INSERT INTO question_search (question_search) VALUES ('optimize')")
        )


def _queries(
    data: DevSet, params: Params, regions: list[int]
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The queries to time, (text, asker's region): the dev set's paraphrases, then generated
    ones; and the generated ones again as (text, topic)."""
    picker = random.Random(params.seed + 1)  # noqa: S311  (test data)
    generator = Generator(params.seed + 2, regions=len(regions), members=MEMBERS)
    texts = [paraphrase for _, paraphrase in data.pairs][: params.queries // 2]
    generated = [generator.paraphrase() for _ in range(params.queries - len(texts))]
    texts += [query for query, _ in generated]
    return [(query, picker.choice(regions)) for query in texts], generated


async def run_backend(
    urls: DatabaseUrls, params: Params, data: DevSet, label: str, size: Callable[[], float | None]
) -> Backend:
    console.print(f"[bold]{label}[/]: {params.questions:,} questions")
    upgrade(urls)
    store = Store(urls)
    try:
        network_id, regions, members = await _people(store, slug="bench")
        built = await asyncio.to_thread(build, urls, params, network_id, regions, members)
        console.print(
            f"  built in {built.seconds:.1f} s: {built.questions:,} questions, "
            f"{built.answers:,} answers, {built.indexed:,} indexed"
        )
        check = await check_index(store, built, sample=200, seed=params.seed)
        console.print(f"  index rows re-made by index(): {check}")
        queries, generated = _queries(data, params, regions)
        dev_count = len(queries) - len(generated)
        on_topic, without_match = await _on_topic(store, built, generated)
        latencies = await latency_run(store, built, queries, dev_count)
    finally:
        await store.close()
    return Backend(
        database=label,
        questions=built.questions,
        answers=built.answers,
        indexed=built.indexed,
        build_s=built.seconds,
        size_mb=size(),
        index_check=check,
        latencies=latencies,
        on_topic=on_topic,
        without_match=without_match,
    )


async def _on_topic(
    store: Store, built: Built, generated: list[tuple[str, int]]
) -> tuple[float | None, float | None]:
    """Part 3: how many of ``similar()``'s results share the query's topic."""
    search = _similar_default(built.network_id)
    shown = same = empty = 0
    for query, topic in generated:
        found, _ = await timed_search(store, search, query, -1)
        empty += not found
        shown += len(found)
        same += sum(1 for question_id in found if built.topics[question_id - 1] == topic)
    if not generated:
        return None, None
    return (same / shown if shown else None), empty / len(generated)


def _fresh_sqlite(path: Path) -> DatabaseUrls:
    """The URLs of a SQLite file, after removing any earlier run's file."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return resolve_database_url(f"sqlite:///{path}")


def _sqlite_urls(workdir: Path) -> tuple[DatabaseUrls, Callable[[], float | None]]:
    path = workdir / "matcher.db"
    urls = _fresh_sqlite(path)

    def size() -> float:
        return (
            sum(
                Path(f"{path}{suffix}").stat().st_size
                for suffix in ("", "-wal")
                if Path(f"{path}{suffix}").exists()
            )
            / 1e6
        )

    return urls, size


@contextmanager
def _postgres_schema(url: str) -> Iterator[DatabaseUrls]:
    """A schema of its own in the given PostgreSQL, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_url(url).set(drivername="postgresql+psycopg")
    engine: Engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = admin.update_query_dict({"options": f"-csearch_path={schema}"})
        yield resolve_database_url(scoped.render_as_string(hide_password=False))
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


# ---------------------------------------------------------------------- report


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def goals(quality: Quality, backends: list[Backend], params: Params) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "goal": f"recall@3 ≥ {GOAL_RECALL_AT_3} on the dev set",
            "measured": f"{quality.recall_at_3:.3f} ({quality.pairs} pairs)",
            "met": quality.recall_at_3 >= GOAL_RECALL_AT_3,
            "note": "",
        }
    ]
    for backend in backends:
        p95 = backend.latencies[0].latency.p95
        met: bool | None = p95 is not None and p95 < GOAL_P95_MS
        note = ""
        if backend.questions != GOAL_QUESTIONS:
            met, note = None, f"not judged: measured at {backend.questions:,} questions"
        out.append(
            {
                "goal": f"similar() p95 < {GOAL_P95_MS:g} ms at 100,000 questions "
                f"({backend.database})",
                "measured": f"p95 {_ms(p95)} ms at {backend.questions:,}",
                "met": met,
                "note": note,
            }
        )
    return out


def print_report(
    quality: dict[str, Quality], backends: list[Backend], params: Params, seconds: float
) -> None:
    table = Table(title="Quality on the dev set", title_justify="left")
    for heading in ("method", "pairs", "recall@1", "recall@3", "MRR"):
        table.add_column(heading, justify="left" if heading == "method" else "right")
    for name, result in quality.items():
        table.add_row(
            name,
            str(result.pairs),
            f"{result.recall_at_1:.3f}",
            f"{result.recall_at_3:.3f}",
            f"{result.mrr:.3f}",
        )
    console.print(table)

    for backend in backends:
        latency = Table(
            title=f"Latency, {backend.database}, {backend.questions:,} questions",
            title_justify="left",
        )
        for heading in ("query", "count", "p50 ms", "p95 ms", "p99 ms", "max ms", "note"):
            latency.add_column(heading, justify="left" if heading in ("query", "note") else "right")
        ours = backend.latencies[0].latency
        for row in backend.latencies:
            summary = row.latency
            latency.add_row(
                row.name,
                str(summary.count),
                _ms(summary.p50),
                _ms(summary.p95),
                _ms(summary.p99),
                _ms(summary.max),
                escape(row.note),
            )
        for row in backend.latencies[1:]:
            latency.add_row(
                f"{row.name} / matcher",
                "",
                _times(row.latency.p50, ours.p50),
                _times(row.latency.p95, ours.p95),
                _times(row.latency.p99, ours.p99),
                _times(row.latency.max, ours.max),
                "",
                style="bold",
            )
        console.print(latency)
        size = "—" if backend.size_mb is None else f"{backend.size_mb:,.0f} MB"
        console.print(
            f"{backend.answers:,} answers, {backend.indexed:,} questions indexed "
            f"(withdrawn ones are not); built in {backend.build_s:.1f} s; database {size}; "
            f"index rows re-made by index(): {backend.index_check}"
        )
        console.print(
            f"Relevance at scale (generated queries): {_share(backend.on_topic)} of the top-3 "
            f"results are about the query's topic; {_share(backend.without_match)} of the "
            "queries found nothing"
        )

    goal_table = Table(title="Goals (informational)", title_justify="left")
    for heading in ("goal", "measured", "status"):
        goal_table.add_column(heading)
    for goal in goals(quality["matcher (similar)"], backends, params):
        status = {True: "[green]met[/]", False: "[red]not met[/]", None: "[yellow]n/a[/]"}[
            goal["met"]
        ]
        goal_table.add_row(
            escape(goal["goal"]),
            escape(goal["measured"]),
            status + (f" ({escape(goal['note'])})" if goal["note"] else ""),
        )
    console.print(goal_table)
    missed = quality["matcher (similar)"].missed_at_3
    if missed:
        console.print(f"Not in the top 3 ({len(missed)}):")
        for paraphrase in missed:
            console.print(f"  - {escape(paraphrase)}")
    code = code_version()
    console.print(
        f"Hoedan at {code['commit']}{' with uncommitted changes' if code['dirty'] else ''};"
        f" machine: {machine_info()['summary']}; run took {seconds:.0f} s"
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _times(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:,.1f}×"


def to_json(
    quality: dict[str, Quality], backends: list[Backend], params: Params, seconds: float
) -> dict[str, Any]:
    return {
        "benchmark": "matcher",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": asdict(params) | {"postgres": bool(params.postgres)},
        "goals": goals(quality["matcher (similar)"], backends, params),
        "quality": {name: asdict(result) for name, result in quality.items()},
        "backends": [
            asdict(backend)
            | {
                "ratios_p50": {
                    row.name: _ratio(row.latency.p50, backend.latencies[0].latency.p50)
                    for row in backend.latencies[1:]
                }
            }
            for backend in backends
        ],
        "seconds": seconds,
        "machine": machine_info(),
        "code": code_version(),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _id(value: int | None) -> int:
    assert value is not None
    return value


# ---------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> Params:
    parser = argparse.ArgumentParser(
        prog="python -m bench.matcher",
        description="Matcher benchmark: dev-set quality and similar() latency (see module docs).",
    )
    parser.add_argument(
        "--questions", type=int, help="questions generated for the latency part (default 100000)"
    )
    parser.add_argument("--queries", type=int, help="queries timed (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated data")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 5,000 questions, 100 queries"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also run the latency part on this PostgreSQL"
    )
    args = parser.parse_args(argv)
    questions = args.questions if args.questions is not None else (5000 if args.quick else 100_000)
    queries = args.queries if args.queries is not None else (100 if args.quick else 300)
    if questions < 1 or queries < 20:
        parser.error("--questions must be positive and --queries at least 20")
    return Params(
        questions=questions,
        queries=queries,
        quick=args.quick,
        seed=args.seed,
        postgres=args.postgres,
    )


async def run(params: Params) -> tuple[dict[str, Quality], list[Backend]]:
    WORK.mkdir(parents=True, exist_ok=True)
    data = dev_set()
    console.print(f"[bold]dev set[/]: {len(data.pairs)} pairs, {len(data.distractors)} distractors")
    quality = await dev_quality(data, WORK)
    urls, size = _sqlite_urls(WORK)
    backends = [await run_backend(urls, params, data, "SQLite", size)]
    if params.postgres:
        with _postgres_schema(params.postgres) as pg:
            backends.append(await run_backend(pg, params, data, "PostgreSQL", lambda: None))
    return quality, backends


def main(argv: list[str] | None = None) -> int:
    params = parse_args(argv)
    started = time.monotonic()
    try:
        quality, backends = asyncio.run(run(params))
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130
    seconds = time.monotonic() - started
    print_report(quality, backends, params, seconds)
    output = RESULTS / "matcher.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(to_json(quality, backends, params, seconds), indent=2) + "\n")
    shown = output.relative_to(REPO) if output.is_relative_to(REPO) else output
    console.print(f"wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
